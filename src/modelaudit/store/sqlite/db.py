"""Opening the SQLite history database: its permissions and pragmas, the one way to write
to it (a short `BEGIN IMMEDIATE` transaction), and SQLite's errors as `StoreError`s.

Any number of processes may write to one database at once: WAL lets readers run beside a
writer, every write takes the write lock up front (`BEGIN IMMEDIATE`, so two writers never
deadlock upgrading a read lock) and holds it only for the rows of one probe result, and the
busy timeout makes a writer wait its turn instead of failing with "database is locked".
No transaction is ever held across network I/O.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Concatenate, ParamSpec, Protocol, TypeVar

from modelaudit.errors import StoreError, StoreUnavailable, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

APPLICATION_ID = 0x6D617564  # "maud": tells `file(1)` and us that the file is ours
BUSY_TIMEOUT_S = 60.0
"""How long a writer waits for another's transaction. Transactions last milliseconds; the
margin covers a slow disk and a `db prune` batch."""

CACHE_KIB = 32_768
T = TypeVar("T")
P = ParamSpec("P")


def connect(path: Path, *, create: bool) -> sqlite3.Connection:
    """A connection with the pragmas every user of the database relies on.

    The file is created 0600 in a 0700 directory (SQLite gives the WAL and shared-memory
    files the database file's mode). Without `create`, a missing file is a usage error.
    """
    refuse_directory(path)
    if path.exists() and not path.is_file():
        raise UsageError(f"{path}: not a history database (a device, a FIFO or a socket)")
    if not path.exists():
        if not create:
            raise UsageError(
                f"no history database at {path}: run `modelaudit probe` to start one, "
                "or pass --db PATH"
            )
        _create_private(path)
    try:
        # A probe's batches are written by the recorder's writer thread, one user at a time
        # (the recorder hands the connection over and waits for it back).
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise _failure(f"cannot open the history database {path}: {exc}", exc) from None
    try:
        retry_busy(lambda: check_ours(conn))  # before any pragma writes to a stranger's file
        retry_busy(lambda: _configure(conn))
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _failure(f"{path} is not a usable history database: {exc}", exc) from None
    except StoreError as exc:
        conn.close()
        raise StoreError(f"{path}: {exc.message}") from None
    return conn


def refuse_directory(path: Path) -> None:
    if path.is_dir():
        raise UsageError(
            f"the history database {path} is a directory: name a file, e.g. "
            f"{path / 'history.sqlite3'}"
        )


def check_ours(conn: sqlite3.Connection) -> None:
    """Refuse an SQLite file that some other program made (StoreError)."""
    # One statement, so one snapshot: read apart, another process's first migration could
    # commit in between (id still 0, tables already there: a false "not ours").
    app_id, has_tables = conn.execute(
        "SELECT (SELECT application_id FROM pragma_application_id()),"
        " (SELECT count(*) FROM sqlite_master)"
    ).fetchone()
    if app_id == APPLICATION_ID:
        return
    if app_id != 0 or has_tables:
        raise StoreError("the file is an SQLite database, but not a modelaudit history database")


def _create_private(path: Path) -> None:
    """Create the file, never through a symbolic link (a link to nothing at the path would
    otherwise create its target). A path that cannot be created is a usage problem (exit 2):
    the database is not damaged, it is not there."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        if path.is_symlink():
            raise UsageError(
                f"the history database {path} is a symbolic link to nothing: "
                "remove it, or point --db at the database itself"
            ) from None
        return  # another process created it just now
    except OSError as exc:
        raise UsageError(f"cannot create the history database {path}: {exc.strerror}") from None
    os.close(fd)


def _configure(conn: sqlite3.Connection) -> None:
    # auto_vacuum only takes on a database with no tables yet, and only when set before
    # WAL mode: it lets `db prune` hand freed pages back to the file system.
    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
    if mode is None or str(mode[0]).lower() != "wal":
        raise sqlite3.DatabaseError(f"the database cannot use WAL mode (it is in {mode})")
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a crash loses no committed row
    conn.execute("PRAGMA foreign_keys = ON")
    # Index pages of a month of attempts stay in memory while a report reads them.
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    from modelaudit.store.sqlite import functions

    conn.create_function("modelaudit_hist_add", 2, functions.hist_add, deterministic=True)
    conn.create_function("modelaudit_hist_rank", 2, functions.hist_rank, deterministic=True)
    conn.create_function("modelaudit_classes_add", 2, functions.classes_add, deterministic=True)


def retry_busy(action: Callable[[], T], deadline_s: float = BUSY_TIMEOUT_S) -> T:
    """Run `action`, retrying while SQLite says busy/locked without waiting by itself.

    The busy timeout covers ordinary locking; switching a new file to WAL mode and WAL
    recovery can still answer SQLITE_BUSY at once when several processes open it together.
    """
    end = time.monotonic() + deadline_s
    pause = 0.005
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= end:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One short write: the write lock is taken at BEGIN; an exception (Ctrl-C included)
    rolls back, so the database never holds half of a write."""
    retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"))
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def reclaim(conn: sqlite3.Connection) -> None:
    """Hand the database's free pages back to the file system (a database made with
    incremental auto-vacuum; a no-op on any other). `PRAGMA incremental_vacuum` frees a
    page per step, and Python steps a statement that returns no row once: it is run until
    the free list is empty, one short transaction per thousand pages."""
    while conn.execute("PRAGMA freelist_count").fetchone()[0]:
        if conn.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:  # not incremental
            return
        with transaction(conn):
            for _ in range(1000):
                conn.execute("PRAGMA incremental_vacuum")


@contextlib.contextmanager
def reported(path: Path) -> Iterator[None]:
    """SQLite failing (a damaged file, a full disk) becomes a StoreError that names the
    file, never a traceback."""
    try:
        yield
    except sqlite3.Error as exc:
        if _outside_the_file(exc):
            raise StoreUnavailable(
                f"the history database {path} cannot be used: {exc}", reason=str(exc)
            ) from exc
        raise StoreError(
            f"the history database {path} failed: {exc} (`modelaudit db check --db {path}` "
            "checks it)",
            reason=str(exc),
        ) from exc


_ENVIRONMENT = frozenset(
    {
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_PERM,
    }
)


def _outside_the_file(exc: sqlite3.Error) -> bool:
    """SQLite failed for a reason outside the database (a full disk, a read-only file
    system, permissions): an I/O problem, not damage."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _ENVIRONMENT


def _failure(message: str, exc: sqlite3.Error) -> StoreError:
    return StoreUnavailable(message) if _outside_the_file(exc) else StoreError(message)


class _OnFile(Protocol):
    @property
    def path(self) -> Path: ...


S = TypeVar("S", bound=_OnFile)


def translated(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """A method of the store's interface: SQLite's errors leave it as StoreErrors
    (`reported`), as `modelaudit.store.base` promises."""

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with reported(self.path):
            return method(self, *args, **kwargs)

    return wrapper


def ms(moment: datetime) -> int:
    """A timezone-aware datetime as integer milliseconds since the epoch: how times are
    stored."""
    assert moment.tzinfo is not None, "times are timezone-aware UTC"
    return round(moment.timestamp() * 1000)


def from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)
