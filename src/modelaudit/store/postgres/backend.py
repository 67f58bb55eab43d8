"""The PostgreSQL backend as `modelaudit.store.backends` registers it: an address is a
libpq URL, `postgresql://user@host:5432/dbname?sslmode=require`.

The password comes from where libpq looks (`PGPASSWORD`, `PGPASSFILE`, `~/.pgpass`), from a
`password:` reference in `defaults.store`, or from the URL itself; wherever it comes from it
is registered with `modelaudit.redact` and never printed: `describe` drops it from the URL.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from modelaudit.redact import register_secret

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from modelaudit.store.base import Backend, Origin
    from modelaudit.store.postgres.store import PostgresStore

_SECRET_PARAMS = frozenset({"password", "passfile", "sslpassword"})


def describe(address: str) -> str:
    """The URL without its password (in the user part or the query)."""
    parts = urlsplit(address)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}@{host}"
    query = [(k, v) for k, v in parse_qsl(parts.query) if k.lower() not in _SECRET_PARAMS]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), ""))


def secrets_of(address: str) -> None:
    """Register the URL's password (if it holds one) with the redaction function."""
    parts = urlsplit(address)
    if parts.password:
        register_secret(parts.password)
        from urllib.parse import unquote

        register_secret(unquote(parts.password))
    for key, value in parse_qsl(parts.query):
        if key.lower() in _SECRET_PARAMS - {"passfile"}:
            register_secret(value)


def lock_key(address: str, origin: Origin | None) -> int:
    """The advisory lock of one agent's scheduled runs: a signed 64-bit number derived
    from the agent and region (the database is the scope already)."""
    scope = "" if origin is None else f"{origin.agent}\0{origin.region}"
    digest = hashlib.blake2b(f"modelaudit-exclusive\0{scope}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresBackend:
    """Implements `modelaudit.store.base.Backend`."""

    def open(self, address: str, *, create: bool) -> PostgresStore:
        secrets_of(address)
        from modelaudit.store.postgres.store import PostgresStore

        return PostgresStore.open(address, create=create)

    def exclusive(self, address: str, origin: Origin | None = None) -> AbstractContextManager[None]:
        """`pg_try_advisory_lock` held by a session of its own for the block: PostgreSQL
        drops it when that session ends, however the process ends."""
        secrets_of(address)
        from modelaudit.store.postgres.db import advisory_lock

        scope = "" if origin is None else f" (agent {origin.agent}, region {origin.region})"
        return advisory_lock(address, lock_key(address, origin), scope)

    def describe(self, address: str) -> str:
        return describe(address)


BACKEND: Backend = PostgresBackend()
"""Typed as the protocol, so that mypy proves the backend, and the store it opens, conform."""
