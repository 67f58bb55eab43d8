"""Every file modelaudit reads or writes by path (SQLite opens its own), read and written
so that a hostile path can neither hang the process, exhaust its memory, nor destroy what
is at the path. modelaudit often runs as root (cron jobs, containers): a path argument is
never trusted to be an ordinary file.

Reading (`read_text`, `read_bytes`): regular files only, never more than the caller's cap.
A FIFO would block the read forever, a device (`/dev/zero`, `/dev/urandom`) never ends;
both are refused before they are opened. Symbolic links are followed (a key mounted as a
Kubernetes secret is one), a loop of them is an error like any other.

Writing (`write_text`, `writing`): a regular file (or a new one) is replaced atomically,
through a temporary file beside it and a rename, so a reader never sees half a file and a
crash leaves the old one. Anything else is never replaced: a character device or a FIFO
(`/dev/null`, `/dev/stdout`, a pipe to another process) is written in place, a symbolic
link is written through (in place, as a shell's `>` would, and never replaced by a file;
a link to nothing is refused), and a directory, a block device or a socket is refused.

Lock files (`open_lock`) are opened without following a symbolic link, and must be
regular files: a link planted at the lock's path cannot make modelaudit truncate its
target.

Each problem is a `FileError` (a usage error, exit 2) that names the path and says what
is wrong in words.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
from typing import IO, TYPE_CHECKING

from modelaudit.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

_READ_CHUNK = 64 * 1024


class FileError(UsageError):
    """A file that cannot be read or written as asked."""

    def __init__(
        self, path: Path | str, reason: str, *, missing: bool = False, too_big: bool = False
    ) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.missing = missing
        """The path does not exist (some callers carry on without the file)."""
        self.too_big = too_big
        """The file holds more than the caller's cap."""


# --- reading ---------------------------------------------------------------------------


def read_bytes(path: Path, limit: int) -> bytes:
    """The file's bytes: a regular file (after symbolic links) of at most `limit` bytes."""
    try:
        before = os.stat(path)
        _readable_kind(path, before.st_mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise _problem(path, exc, "read") from None
    try:
        opened = os.fstat(fd)
        _readable_kind(path, opened.st_mode)  # it may have been swapped since the stat
        if opened.st_size > limit:
            raise _too_big(path, limit)
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, min(_READ_CHUNK, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while being read
                raise _too_big(path, limit)
        return b"".join(chunks)
    except OSError as exc:
        raise _problem(path, exc, "read") from None
    finally:
        os.close(fd)


def read_text(path: Path, limit: int) -> str:
    """`read_bytes`, decoded as UTF-8 (a `FileError` when it is not)."""
    try:
        return read_bytes(path, limit).decode("utf-8")
    except UnicodeDecodeError:
        raise FileError(path, "is not UTF-8 text") from None


def _readable_kind(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise FileError(path, f"is {_kind(mode)}, not a regular file")


def _too_big(path: Path, limit: int) -> FileError:
    return FileError(
        path, f"is larger than {_size(limit)}, the most this file may hold", too_big=True
    )


# --- writing ---------------------------------------------------------------------------


def write_text(path: Path, text: str, *, mode: int = 0o666, make_parents: bool = False) -> None:
    """Write `text` (UTF-8) to `path` as the module's docstring says."""
    with writing(path, mode=mode, make_parents=make_parents) as handle:
        handle.write(text)


@contextlib.contextmanager
def writing(
    path: Path,
    *,
    mode: int = 0o666,
    make_parents: bool = False,
    verify: Callable[[Path], None] | None = None,
) -> Iterator[IO[str]]:
    """A text handle whose content replaces `path` when the block ends without an error
    (or is written in place, for what is not a regular file). `mode` is that of a new file
    (the umask applies); a replaced file keeps its own. `make_parents` creates missing
    directories. `verify` reads the written temporary file before it replaces `path` (what
    it raises stops the replacement; only a regular file is written that way)."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise _problem(path, exc, "write") from None
    if found is None or stat.S_ISREG(found.st_mode):
        with _atomically(path, mode, found, make_parents=make_parents, verify=verify) as handle:
            yield handle
        return
    if stat.S_ISDIR(found.st_mode):
        raise FileError(path, "is a directory; name a file in it")
    if stat.S_ISBLK(found.st_mode) or stat.S_ISSOCK(found.st_mode):
        raise FileError(path, f"is {_kind(found.st_mode)}: refusing to write to it")
    with _in_place(path, truncate=stat.S_ISLNK(found.st_mode)) as handle:
        yield handle


def append_text(path: Path, text: str) -> None:
    """Append `text` to a file (created if missing), never blocking on a FIFO that nobody
    reads, never writing to a directory or a block device."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        raise _problem(path, exc, "write") from None
    _write_all(path, fd, text)


@contextlib.contextmanager
def _atomically(
    path: Path,
    mode: int,
    replaced: os.stat_result | None,
    *,
    make_parents: bool,
    verify: Callable[[Path], None] | None,
) -> Iterator[IO[str]]:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        if make_parents:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, flags, mode)
    except OSError as exc:
        raise _problem(path, exc, "write") from None
    try:
        if replaced is not None:
            os.fchmod(fd, stat.S_IMODE(replaced.st_mode))
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if verify is not None:
            verify(temporary)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise _problem(path, exc, "write") from None
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    _sync_directory(path)


@contextlib.contextmanager
def _in_place(path: Path, *, truncate: bool) -> Iterator[IO[str]]:
    """Open what is at `path` (following a link, never creating what a link points to)
    without blocking: a FIFO nobody reads is an error, not a hang."""
    flags = os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
        found = os.fstat(fd)
    except FileNotFoundError:
        raise FileError(path, "is a symbolic link to nothing: refusing to follow it") from None
    except OSError as exc:
        raise _problem(path, exc, "write") from None
    try:
        if stat.S_ISDIR(found.st_mode) or stat.S_ISBLK(found.st_mode):
            raise FileError(path, f"leads to {_kind(found.st_mode)}: refusing to write to it")
        if truncate and stat.S_ISREG(found.st_mode):
            os.ftruncate(fd, 0)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
            handle.flush()
    except OSError as exc:
        raise _problem(path, exc, "write") from None


def _write_all(path: Path, fd: int, text: str) -> None:
    try:
        found = os.fstat(fd)
        if not (stat.S_ISREG(found.st_mode) or stat.S_ISCHR(found.st_mode)):
            raise FileError(path, f"is {_kind(found.st_mode)}: refusing to write to it")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            fd = -1
            handle.write(text)
    except OSError as exc:
        raise _problem(path, exc, "write") from None
    finally:
        if fd != -1:
            os.close(fd)


def _sync_directory(path: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- lock files ------------------------------------------------------------------------


def open_lock(path: Path) -> int:
    """A descriptor of the lock file at `path` (created 0600, with its directory 0700),
    opened for reading and writing, never through a symbolic link, and only if it is a
    regular file."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = _lstat_or_none(path)
        if found is not None and not stat.S_ISREG(found.st_mode):
            raise FileError(path, f"is {_kind(found.st_mode)}, not a lock file: remove it")
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise _problem(path, exc, "open the lock file") from None
    found = os.fstat(fd)
    if not stat.S_ISREG(found.st_mode):
        os.close(fd)
        raise FileError(path, f"is {_kind(found.st_mode)}, not a lock file: remove it")
    return fd


def _lstat_or_none(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


# --- words -----------------------------------------------------------------------------


_KINDS = (
    (stat.S_ISREG, "a regular file"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((words for test, words in _KINDS if test(mode)), "not a regular file")


def _size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / 1_048_576:g} MiB"
    return f"{limit / 1024:g} KiB" if limit >= 1024 else f"{limit} bytes"


_WORDS = {
    errno.ENOENT: "does not exist",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "is a symbolic link that cannot be followed (a loop, or a lock file's link)",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ENOTDIR: "a part of the path is not a directory",
    errno.EISDIR: "is a directory",
    errno.ENXIO: "has nobody at the other end (a FIFO no process reads, or a socket)",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EFBIG: "the file grew too large",
}


def _problem(path: Path, exc: OSError, doing: str) -> FileError:
    words = _WORDS.get(exc.errno or 0) or exc.strerror or type(exc).__name__
    if exc.errno == errno.ENOENT:
        if doing != "read":
            return FileError(path, f"cannot {doing}: its directory does not exist")
        return FileError(path, words, missing=True)
    return FileError(path, f"cannot {doing}: {words}")
