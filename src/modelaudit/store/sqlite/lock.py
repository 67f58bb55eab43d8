"""The lock of scheduled runs on an SQLite store: `watch` and `probe --exclusive` hold it, so
a slow run is never overlapped by the next one (cron firing again, a second watcher).

It is an `flock` on `<database>.lock`, beside the database: the kernel releases it when the
process ends, however it ends (kill -9 included), so a lock is never left stale. Plain
`probe` runs do not take it; any number of them may write to the database at once. The lock
file is opened without following a symbolic link and must be a regular file
(`fileio.open_lock`): a link planted at its path cannot make the holder truncate the link's
target.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from typing import TYPE_CHECKING

from modelaudit.errors import LockedError
from modelaudit.fileio import open_lock

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold the lock for the block, or raise LockedError at once (exit 5)."""
    fd = open_lock(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            raise LockedError(
                f"another exclusive modelaudit run{holder} holds {path}; not starting"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (pid {text})" if text.isdigit() else ""
