"""The typer app and `main()`, the single error boundary.

Each command lives in its own module and is registered here with one line. Commands
import what they need when they run, so `--version` and `config check` stay quick.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from modelaudit import __version__
from modelaudit.exitcodes import ExitCode

# httpx imports its own command line (rich's progress and syntax modules, pygments, click)
# whenever it is imported, for nothing here: a third of its import time, ~45 ms of every
# command that probes. Marked absent, httpx puts a stub in its place (`httpx.main`).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

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
    from modelaudit.cli.boundary import guarded

    command = typer.main.get_command(app)
    try:
        return guarded(
            lambda: command.main(args=args, prog_name="modelaudit", standalone_mode=False),
            passthrough=(typer.Exit, typer.TyperException, typer.Abort),
        )
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
    except typer.Abort:
        console.error("interrupted")
        return ExitCode.INTERRUPTED


_VALIDATOR_PREFIX = "Value error, "
"""What pydantic puts before a validator's message; typer parses options with pydantic, so
`--kind strem` would read "Value error, 'strem' is not one of ..."."""


def _without_validator_prefix(exc: typer.TyperException) -> None:
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message.startswith(_VALIDATOR_PREFIX):
        exc.message = message.removeprefix(_VALIDATOR_PREFIX)
