"""The SQLite backend as `modelaudit.store.backends` registers it: an address is a file path,
or `sqlite://` followed by one (`sqlite:///var/lib/modelaudit/history.sqlite3`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from modelaudit.store.base import Backend, Origin
    from modelaudit.store.sqlite.store import SqliteStore

SCHEME = "sqlite://"


def path_of(address: str) -> Path:
    """The file an address names: what follows `sqlite://`, or the address itself; `~`
    expanded."""
    if address[: len(SCHEME)].lower() == SCHEME:
        address = address[len(SCHEME) :]
    return Path(address).expanduser()


class SqliteBackend:
    """Implements `modelaudit.store.base.Backend`."""

    def open(self, address: str, *, create: bool) -> SqliteStore:
        from modelaudit.store.sqlite.store import SqliteStore

        return SqliteStore.open(path_of(address), create=create)

    def exclusive(self, address: str, origin: Origin | None = None) -> AbstractContextManager[None]:
        """An `flock` on `<database>.lock` beside the database file: one per database
        (an SQLite store lives on one machine), whatever the agent's region."""
        from modelaudit.store.sqlite.db import refuse_directory
        from modelaudit.store.sqlite.lock import exclusive, lock_path

        path = path_of(address)
        refuse_directory(path)
        return exclusive(lock_path(path))

    def describe(self, address: str) -> str:
        return str(path_of(address))


BACKEND: Backend = SqliteBackend()
"""Typed as the protocol, so that mypy proves the backend, and the store it opens, conform."""
