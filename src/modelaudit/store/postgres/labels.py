"""The small words and the repeated texts of the PostgreSQL store: `label` (kinds, error
classes, verdicts, phases, regions: a `smallint` on each row), `string` (details,
reasons, served model ids, fingerprints, rate-limit ceilings: stored once, keyed by a
digest) and `attempt_extra` (an attempt's four texts as one id). All three are written
in short transactions of their own before the rows that use them
(an entry nobody ends up using is harmless), so a writer can cache them without tracking
what a rolled-back transaction made."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import psycopg
    from psycopg_pool import ConnectionPool

Extra = tuple[int | None, int | None, int | None, int | None]
"""An attempt's served model, fingerprint, rate-limit ceilings and detail as `string` ids."""


def digest(value: str) -> bytes:
    return hashlib.blake2b(value.encode(), digest_size=16).digest()


class Labels:
    """label id <-> word, cached for the life of the store (there are a few dozen)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.words: dict[int, str] = {}

    def load(self, conn: psycopg.Connection[Any]) -> None:
        for label_id, word in conn.execute("SELECT id, value FROM label"):
            self.ids[word] = label_id
            self.words[label_id] = word

    def ensure(self, pool: ConnectionPool[Any], words: Iterable[str]) -> None:
        missing = sorted({w for w in words if w not in self.ids})
        if not missing:
            return
        with pool.connection() as conn, conn.transaction():
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO label (value) VALUES (%s) ON CONFLICT (value) DO NOTHING",
                    [(w,) for w in missing],
                )
            self.load(conn)

    def word(self, label_id: int, conn: psycopg.Connection[Any]) -> str:
        if label_id not in self.words:
            self.load(conn)
        return self.words[label_id]


def ensure_strings(pool: ConnectionPool[Any], values: Iterable[str]) -> dict[str, int]:
    """The ids of `values` (already redacted), inserting those not stored yet."""
    wanted = {digest(v): v for v in values}
    if not wanted:
        return {}
    keys = sorted(wanted)
    with pool.connection() as conn, conn.transaction():
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO string (digest, value) VALUES (%s, %s)"
                " ON CONFLICT (digest) DO NOTHING",
                [(k, wanted[k]) for k in keys],
            )
        rows = conn.execute(
            "SELECT digest, id FROM string WHERE digest = ANY(%s)", (keys,)
        ).fetchall()
    return {wanted[bytes(d)]: int(i) for d, i in rows}


def ensure_extras(pool: ConnectionPool[Any], extras: Sequence[Extra]) -> dict[Extra, int]:
    """The `attempt_extra` ids of `extras` (served model, fingerprint, ceilings and detail
    as `string` ids; each with at least one of them), inserting those not stored yet, in
    one round trip (`modelaudit_attempt_extras`)."""
    if not extras:
        return {}
    columns = [[e[i] for e in extras] for i in range(4)]
    with pool.connection() as conn, conn.transaction():
        row = conn.execute(
            "SELECT modelaudit_attempt_extras(%s::integer[], %s::integer[], %s::integer[],"
            " %s::integer[])",
            columns,
        ).fetchone()
    assert row is not None
    return dict(zip(extras, row[0], strict=True))


def ensure_targets(
    pool: ConnectionPool[Any], keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    with pool.connection() as conn, conn.transaction():
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO target (provider, model) VALUES (%s, %s)"
                " ON CONFLICT (provider, model) DO NOTHING",
                wanted,
            )
        rows = conn.execute(
            "SELECT provider, model, id FROM target WHERE (provider, model) IN"
            " (SELECT * FROM unnest(%s::text[], %s::text[]))",
            ([p for p, _ in wanted], [m for _, m in wanted]),
        ).fetchall()
    return {(p, m): int(i) for p, m, i in rows}
