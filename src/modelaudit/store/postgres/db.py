"""Connecting to PostgreSQL: the connection pool, the one way to write (a short transaction,
tried again when PostgreSQL resolves a deadlock or a serialization failure by aborting it),
the advisory lock of scheduled runs, and psycopg's errors as `StoreError`s.

Any number of agents write at once: every write is one short READ COMMITTED transaction
that never waits on network I/O of the probe; rows several writers update (a model's state
and daily sums in one region) are upserted atomically, in key order, so concurrent writers
queue on row locks instead of losing updates.
"""

from __future__ import annotations

import contextlib
import functools
import time
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar

from modelaudit.errors import LockedError, StoreError, StoreUnavailable, UsageError
from modelaudit.redact import redact
from modelaudit.store.postgres.backend import describe

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import psycopg
    from psycopg_pool import ConnectionPool

T = TypeVar("T")
P = ParamSpec("P")
CONNECT_TIMEOUT_S = 10
POOL_SIZE = 2
WRITE_TRIES = 5
EXTRA = "pip install 'llm-modelaudit[postgres]'"
_SESSION = {
    "application_name": "modelaudit",
    "connect_timeout": CONNECT_TIMEOUT_S,
    "keepalives": 1,
    "keepalives_idle": 30,
}


def driver() -> Any:
    """psycopg, or a UsageError saying how to install it."""
    try:
        import psycopg
    except ImportError:
        raise UsageError(f"a postgresql:// history store needs psycopg: {EXTRA}") from None
    return psycopg


def connect(address: str, *, autocommit: bool = True) -> psycopg.Connection[Any]:
    """One session of its own (migrations, the lock), not from the pool."""
    module = driver()
    try:
        conn: psycopg.Connection[Any] = module.connect(address, autocommit=autocommit, **_SESSION)
    except module.Error as exc:  # the server is not there: an I/O problem (exit 2), not damage
        raise StoreUnavailable(
            f"cannot connect to the history database {describe(address)}: {_words(exc)}",
            reason=_words(exc),
        ) from None
    return conn


def pool(address: str) -> ConnectionPool[Any]:
    """The pool the store borrows its connections from: a connection broken while the
    agent slept (the server restarted) is replaced, not handed out."""
    driver()
    from psycopg_pool import ConnectionPool

    opened: ConnectionPool[Any] = ConnectionPool(
        address,
        min_size=1,
        max_size=POOL_SIZE,
        kwargs=dict(_SESSION),
        open=False,
        check=ConnectionPool.check_connection,
        timeout=CONNECT_TIMEOUT_S * 3,
        name="modelaudit",
    )
    opened.open(wait=False)
    return opened


def _words(exc: BaseException) -> str:
    """The driver's message on one line, redacted."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return redact(text)


def _retryable(exc: BaseException) -> bool:
    sqlstate = getattr(exc, "sqlstate", None)
    return sqlstate in ("40P01", "40001")  # deadlock detected, serialization failure


def write(connections: ConnectionPool[Any], action: Callable[[psycopg.Connection[Any]], T]) -> T:
    """Run `action` in one transaction (committed when it returns, rolled back when it
    raises, Ctrl-C included); tried again when PostgreSQL aborted it to break a deadlock."""
    for attempt in range(1, WRITE_TRIES + 1):
        try:
            with connections.connection() as conn, conn.transaction():
                return action(conn)
        except Exception as exc:
            if not _retryable(exc) or attempt == WRITE_TRIES:
                raise
        time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def reported(address: str) -> Iterator[None]:
    """psycopg failing (the server gone, a full disk, a dropped connection) becomes a
    StoreError that names the database without its password, never a traceback."""
    module = driver()
    from psycopg_pool import PoolTimeout

    try:
        yield
    except PoolTimeout as exc:
        raise StoreUnavailable(
            f"the history database {describe(address)} cannot be reached ({_words(exc)})",
            reason=_words(exc),
        ) from None
    except module.Error as exc:
        raise StoreError(
            f"the history database {describe(address)} failed: {_words(exc)} "
            f"(`modelaudit db check --db {describe(address)}` checks it)",
            reason=_words(exc),
        ) from None


class _OnServer(Protocol):
    @property
    def address(self) -> str: ...


S = TypeVar("S", bound=_OnServer)


def translated(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """A method of the store's interface: psycopg's errors leave it as StoreErrors."""

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with reported(self.address):
            return method(self, *args, **kwargs)

    return wrapper


@contextlib.contextmanager
def advisory_lock(address: str, key: int, scope: str) -> Iterator[None]:
    """Hold `pg_try_advisory_lock(key)` on a session of its own for the block, or raise
    LockedError at once (exit 5). Closing the session releases it; so does PostgreSQL when
    the process dies (its connection drops)."""
    conn = connect(address)
    try:
        with reported(address):
            taken = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            holder = "" if taken and taken[0] else _holder(conn, key)
        if not (taken and taken[0]):
            raise LockedError(
                f"another exclusive modelaudit run{scope}{holder} holds the lock in "
                f"{describe(address)}; not starting"
            )
        yield
    finally:
        conn.close()


def _holder(conn: psycopg.Connection[Any], key: int) -> str:
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    row = conn.execute(
        "SELECT a.pid, coalesce(host(a.client_addr), 'local') FROM pg_locks l"
        " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory'"
        " AND l.granted AND l.classid = %s AND l.objid = %s AND l.objsubid = 1",
        (unsigned >> 32, unsigned & 0xFFFF_FFFF),
    ).fetchone()
    return "" if row is None else f" (server backend pid {row[0]}, from {row[1]})"
