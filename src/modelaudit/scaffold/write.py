"""Write the new registry: never over an existing file without `force`, never through or
over a symbolic link or a device, and never half a file (a temporary file beside the
target, checked, then renamed into place).

The writing itself is the project's one atomic writer (`modelaudit.fileio`); this module
adds what a new registry needs on top: never over an existing file without `force`, and
never over a link or a device at all.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

from modelaudit.errors import UsageError
from modelaudit.fileio import writing


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
    """Write `text` to `path` atomically (`fileio.writing`); `check` reads the written
    temporary file first (and raises to stop the rename)."""
    check_target(path, force=force)

    def checked(temporary: Path) -> None:
        check(temporary)
        check_target(path, force=force)  # nothing became a link or a device meanwhile

    with writing(path, mode=0o644, verify=checked) as handle:
        handle.write(text)
