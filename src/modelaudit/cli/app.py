"""The typer app and `main()`, the single error boundary.

Each command lives in its own module and is registered here with one line. Commands
import what they need when they run, so `--version` and `config check` stay quick.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Annotated

import typer

from modelaudit import __version__
from modelaudit.exitcodes import ExitCode

app = typer.Typer(
    name="modelaudit",
    help="Audit the reliability of the LLMs you depend on.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"modelaudit {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    """Audit the reliability of the LLMs you depend on."""


def _register() -> None:
    from modelaudit.cli import (
        alerts,
        check,
        config,
        db,
        discover,
        drill,
        history,
        init,
        lock,
        probe,
        providers,
        report,
        watch,
    )

    app.add_typer(config.app, name="config")
    app.command("providers")(providers.providers)
    app.command("probe")(probe.probe)
    app.command("lock")(lock.lock)
    app.command("check")(check.check)
    app.command("watch")(watch.watch)
    app.command("history")(history.history)
    app.add_typer(db.app, name="db")
    app.command("report")(report.report)
    app.command("drill")(drill.drill)
    app.command("discover")(discover.discover)
    app.command("init")(init.init)
    app.add_typer(alerts.app, name="alerts")


def _flags_take_no_value() -> None:
    """A flag takes no value, so its help shows none. typer's plain help already leaves
    the type out for flags, but its rich help prints `<bool>` beside every one (`--help`
    too): the rich panel asks `display_type_rich`, which answers for flags alike."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: typer.Context) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    setattr(TyperOption, "display_type_rich", display_type_rich)  # noqa: B010 - a method


_flags_take_no_value()
_register()


def main(argv: list[str] | None = None) -> int:
    from modelaudit.cli.main import main as entry

    return entry(argv)


def run(args: list[str]) -> int:
    """Parse `args`, run the command, and turn every outcome into an exit code."""
    from modelaudit.cli import console
    from modelaudit.errors import ConfigError, ModelauditError

    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="modelaudit", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.TyperException as exc:  # click's usage errors: bad option, missing argument
        _without_validator_prefix(exc)
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            console.error(exc.format_message())
        return ExitCode.USAGE
    except (typer.Abort, KeyboardInterrupt):
        console.error("interrupted")
        return ExitCode.INTERRUPTED
    except SystemExit as exc:
        # typer turns a broken pipe into `sys.exit(1)`, which would read as "policy failed".
        if isinstance(exc.__context__, BrokenPipeError):
            return _output_closed()
        raise
    except ConfigError as exc:
        for problem in exc.problems:
            console.plain(problem)
        plural = "s" if len(exc.problems) != 1 else ""
        console.error(f"the registry has {len(exc.problems)} problem{plural}")
        return exc.exit_code
    except ModelauditError as exc:
        console.error(exc.message)
        return exc.exit_code
    except OSError as exc:
        return _io_error(exc)
    except Exception as exc:  # noqa: BLE001 - the boundary: anything else is a bug
        return _internal_error(exc)
    return int(result) if isinstance(result, int) else ExitCode.OK


def _io_error(exc: OSError) -> int:
    """The system refused a read or a write that reached here (stdout on a full disk, a
    stream that vanished): a problem of the environment, exit 2, never "a bug". Files
    modelaudit opens by path say so themselves (`fileio`); this is the rest. A reader
    that went away (a broken pipe) is no error at all (see `_output_closed`)."""
    from modelaudit.cli import console

    if isinstance(exc, BrokenPipeError):
        return _output_closed()
    where = exc.filename if exc.filename is not None else "the output"
    _output_closed()  # what is still buffered for stdout cannot be written either
    with contextlib.suppress(OSError):
        console.error(f"input/output error on {where}: {exc.strerror or type(exc).__name__}")
    return ExitCode.USAGE


_VALIDATOR_PREFIX = "Value error, "
"""What pydantic puts before a validator's message; typer parses options with pydantic, so
`--kind strem` would read "Value error, 'strem' is not one of ..."."""


def _without_validator_prefix(exc: typer.TyperException) -> None:
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message.startswith(_VALIDATOR_PREFIX):
        exc.message = message.removeprefix(_VALIDATOR_PREFIX)


def _output_closed() -> int:
    """Whoever read stdout went away (`modelaudit ... | head`): stop quietly, like any Unix
    tool. Stdout now points at /dev/null, so that the interpreter's last flush of what is
    still buffered cannot fail and print a traceback on the way out."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a file (a test's capture)
        pass
    return ExitCode.BROKEN_PIPE


def _internal_error(exc: BaseException) -> int:
    from modelaudit.cli import console
    from modelaudit.cli.main import caused_by_ctrl_c
    from modelaudit.outgoing import safe_text

    if caused_by_ctrl_c(exc):
        console.error("interrupted")
        return ExitCode.INTERRUPTED
    if os.environ.get("MODELAUDIT_DEBUG"):
        import traceback

        lines = "".join(traceback.format_exception(exc)).splitlines()
        console.err().print("\n".join(map(safe_text, lines)), soft_wrap=True)
    console.error(
        f"internal error: {type(exc).__name__}: {exc} "
        "(this is a bug in modelaudit; rerun with MODELAUDIT_DEBUG=1 for the traceback)"
    )
    return ExitCode.INTERNAL
