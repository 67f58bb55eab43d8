"""Change events, recorded as attempts are written: the served model changing, a
`system_fingerprint` never seen before for the model, the rate-limit ceilings changing.

Recording them at write time (one row per change, in `change_event`) makes the report's
drift and rate-limit reads a range of a small table instead of a pass over every attempt,
and lets them outlive `db prune`. The model's last values are kept on its `target` row and
read inside the writing transaction, so concurrent writers see each other's changes in
commit order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelaudit.redact import redact

if TYPE_CHECKING:
    import sqlite3

KINDS = ("served_model", "fingerprint", "ratelimit")


@dataclass(frozen=True)
class Observation:
    """What one attempt reported (string ids; the served model also by name)."""

    at_ms: int
    served_model: int | None = None
    served_name: str | None = None
    """As the server said it (redacted only when compared: most attempts change nothing)."""
    fingerprint: int | None = None
    ratelimit: int | None = None

    @property
    def empty(self) -> bool:
        return self.served_model is None and self.fingerprint is None and self.ratelimit is None


def record_all(
    conn: sqlite3.Connection, observed: dict[int, tuple[str, list[Observation]]]
) -> None:
    """Per model (target id: its name and what it reported, in order), compare each
    observation with what the model reported last; store the changes and the new last
    values. One read of the models' last values for the whole batch. Call inside the
    write transaction."""
    seen = {t: (model, [o for o in found if not o.empty]) for t, (model, found) in observed.items()}
    seen = {t: found for t, found in seen.items() if found[1]}
    if not seen:
        return
    last = {
        row[0]: row[1:]
        for row in conn.execute(
            "SELECT id, served_model_id, fingerprint_id, ratelimit_id FROM target"
            " WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(seen)),),
        )
    }
    events: list[tuple[int, int, str, int | None, int]] = []
    updates = []
    for target_id, (model, found) in seen.items():
        before = last[target_id]
        after = _compare(conn, target_id, model, before, found, events)
        if after != tuple(before):
            updates.append((*after, target_id))
    conn.executemany(
        "INSERT INTO change_event (target_id, at_ms, kind, before_id, after_id)"
        " VALUES (?, ?, ?, ?, ?)",
        events,
    )
    conn.executemany(
        "UPDATE target SET served_model_id = ?, fingerprint_id = ?, ratelimit_id = ? WHERE id = ?",
        updates,
    )


def _compare(
    conn: sqlite3.Connection,
    target_id: int,
    model: str,
    before: tuple[int | None, int | None, int | None],
    seen: list[Observation],
    events: list[tuple[int, int, str, int | None, int]],
) -> tuple[int | None, int | None, int | None]:
    """Append the changes `seen` makes to `before` (the last values) to `events`; return
    the last values after them."""
    served, fingerprint, ratelimit = before
    from modelaudit.probe.classify import same_model  # the probe's rule; not needed to read

    for o in seen:
        if o.served_model is not None and o.served_model != served:
            asked_for = same_model(model, redact(o.served_name) if o.served_name else None)
            if served is not None or not asked_for:
                events.append((target_id, o.at_ms, "served_model", served, o.served_model))
            served = o.served_model
        if o.fingerprint is not None and o.fingerprint != fingerprint:
            if _first_time(conn, target_id, o.fingerprint, o.at_ms) and fingerprint is not None:
                events.append((target_id, o.at_ms, "fingerprint", fingerprint, o.fingerprint))
            fingerprint = o.fingerprint
        if o.ratelimit is not None and o.ratelimit != ratelimit:
            events.append((target_id, o.at_ms, "ratelimit", ratelimit, o.ratelimit))
            ratelimit = o.ratelimit
    return served, fingerprint, ratelimit


def _first_time(conn: sqlite3.Connection, target_id: int, fingerprint: int, at_ms: int) -> bool:
    """Remember the fingerprint; True if the model never reported it before."""
    cursor = conn.execute(
        "INSERT OR IGNORE INTO target_fingerprint (target_id, fingerprint_id, first_ms)"
        " VALUES (?, ?, ?)",
        (target_id, fingerprint, at_ms),
    )
    return cursor.rowcount == 1
