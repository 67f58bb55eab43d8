"""The error boundary every command runs inside: each outcome becomes an exit code, a
traceback never reaches the user. `app.run` wraps typer's own exceptions around it; the
`config check` fast path (`cli.main`) runs inside it without typer."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING

from modelaudit.exitcodes import ExitCode

if TYPE_CHECKING:
    from collections.abc import Callable


def guarded(
    command: Callable[[], object], passthrough: tuple[type[BaseException], ...] = ()
) -> int:
    """Run `command`; its result (an int) or the exit code of what it raised. What is in
    `passthrough` (typer's own exceptions, for `app.run`) is raised to the caller."""
    from modelaudit.cli import console
    from modelaudit.errors import ConfigError, ModelauditError

    try:
        result = command()
    except passthrough:
        raise
    except KeyboardInterrupt:
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
