"""The console-script entry point, kept free of imports so `--version` starts fast."""

from __future__ import annotations

import _thread
import os
import sys
import types
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pathlib import Path

from modelaudit import __version__


def entry() -> int:
    """The console script and `python -m modelaudit`: `main` in a process of its own."""
    sys.unraisablehook = _redeliver_ctrl_c
    code = main()  # nothing before it may import: a Ctrl-C there would go uncaught
    from modelaudit.exitcodes import ExitCode

    if code == ExitCode.INTERRUPTED:
        _leave(code)
    return code


def main(argv: list[str] | None = None) -> int:
    # Ctrl-C while the CLI is still being imported (the first ~150 ms) lands before the
    # error boundary in `run` exists: without this, a traceback and a death by signal.
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        return _interrupted()
    except Exception as exc:
        if not caused_by_ctrl_c(exc):
            raise
        return _interrupted()


def caused_by_ctrl_c(exc: BaseException) -> bool:
    """Whether a KeyboardInterrupt is behind `exc`: Python 3.11 turns one raised while a
    class is being created (during an import) into a RuntimeError."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _interrupted() -> int:
    from modelaudit.exitcodes import ExitCode

    sys.stderr.write("error: interrupted\n")
    return ExitCode.INTERRUPTED


def _main(args: list[str]) -> int:
    if args == ["--version"]:  # no typer, rich or pydantic import
        sys.stdout.write(f"modelaudit {__version__}\n")
        return 0
    # pydantic scans every installed package's entry points for plugins at import time;
    # a CLI needs none, and skipping the scan saves a noticeable part of start-up.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    _defer_package_metadata()
    checked = _config_to_check(args)
    if checked is not None:  # no typer: its option parsing costs as much as the check
        from modelaudit.cli.boundary import guarded
        from modelaudit.cli.configcheck import check_registry

        return guarded(lambda: check_registry(checked or None))
    from modelaudit.cli.app import run

    return run(args)


class _DeferredMetadata(types.ModuleType):
    """Stands in for `importlib.metadata` until it is used. pydantic's plugin loader imports
    `entry_points` from it when the first model is built, and calls it only when plugins
    are enabled; the module itself (with email, zipfile and csv) costs ~20 ms of every
    command's start-up. The first real use imports it and puts it in this one's place."""

    @staticmethod
    def entry_points(**params: Any) -> Any:
        return _package_metadata().entry_points(**params)

    def __getattr__(self, name: str) -> Any:
        return getattr(_package_metadata(), name)


def _defer_package_metadata() -> None:
    if "importlib.metadata" in sys.modules:
        return
    import importlib

    deferred = _DeferredMetadata("importlib.metadata", "deferred until first used")
    # A package's path: `from importlib.metadata import entry_points` then takes the name
    # as it is instead of asking for `__path__`, which would import the real module.
    deferred.__path__ = [os.path.join(path, "metadata") for path in importlib.__path__]
    sys.modules["importlib.metadata"] = importlib.metadata = deferred


def _package_metadata() -> types.ModuleType:
    if isinstance(sys.modules.get("importlib.metadata"), _DeferredMetadata):
        del sys.modules["importlib.metadata"]
    from importlib import import_module

    return import_module("importlib.metadata")


def _config_to_check(args: list[str]) -> Path | Literal[""] | None:
    """For `config check` with at most a `-c`/`--config PATH` naming something that is not
    a directory: that path ("" without one). None for every other command line, which
    typer parses (with its help, its errors and its checks)."""
    if args[:2] != ["config", "check"]:
        return None
    rest = args[2:]
    if not rest:
        return ""
    if len(rest) == 1 and rest[0].startswith("--config="):
        rest = ["--config", rest[0].removeprefix("--config=")]
    if len(rest) != 2 or rest[0] not in ("-c", "--config") or rest[1].startswith("-"):
        return None
    from pathlib import Path

    path = Path(rest[1])
    return None if not rest[1] or path.is_dir() else path


def _redeliver_ctrl_c(unraisable: sys.UnraisableHookArgs) -> None:
    """Python cannot raise out of a finalizer or a weakref callback (imports run some), so a
    Ctrl-C landing in one would be printed and lost, and the command would run on. Deliver
    it again from another thread: raised from here, it would be lost the same way."""
    if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
        _thread.start_new_thread(_thread.interrupt_main, ())
        return
    sys.__unraisablehook__(unraisable)


def _leave(code: int) -> None:
    """Exit with `code` now, skipping the interpreter's shutdown.

    A Ctrl-C that lands inside an `eval` (typer evaluates our annotations while it builds
    the command) makes CPython end the process by SIGINT once it shuts down, even though
    the interrupt was handled: the status would be -2, not the documented 130. Everything
    that needed closing was closed as the interrupt unwound."""
    import contextlib

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
