"""Write the new registry: never over an existing file without `force`, never through or
over a symbolic link or a device, and never half a file (a temporary file beside the
target, checked, then renamed into place).

Kept small on purpose: when the project's one atomic file writer lands, `write_new` is
the one function to point at it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

from modelaudit.errors import UsageError


def check_target(path: Path, *, force: bool) -> None:
    """Refuse a target `write_new` would not replace (before any network work is done)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise UsageError(f"{path}: the directory {path.parent} does not exist") from None
        return
    if stat.S_ISLNK(info.st_mode):
        raise UsageError(
            f"{path} is a symbolic link: not replaced (write to the file it points at, or "
            "remove the link)"
        )
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{path} exists and is not a regular file: not replaced")
    if not force:
        raise UsageError(f"{path} exists: pass --force to replace it, or -o to write elsewhere")


def write_new(path: Path, text: str, *, force: bool, check: Callable[[Path], None]) -> None:
    """Write `text` to `path` atomically; `check` reads the written temporary file first
    (and raises to stop the rename)."""
    check_target(path, force=force)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(temporary, flags, 0o644)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        check(temporary)
        check_target(path, force=force)  # nothing became a link or a device meanwhile
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
