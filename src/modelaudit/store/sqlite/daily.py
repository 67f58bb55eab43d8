"""Each model's attempts summed per UTC day (`daily`), kept up to date as attempts are
written, so a month's counts and a month of daily timeline buckets read a few thousand rows
instead of a million attempts.

A row is kept per model, day, kind, error class and whether the run was inconclusive, as
`db prune` keeps per hour (`periods`). Attempts are written while their run is still
running; a run that ends inconclusive (this machine was offline) moves its attempts to the
inconclusive rows. `db prune` leaves the table alone: a day reads the same before and
after its attempts are rolled up.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from modelaudit.store.sqlite.periods import DAILY, Aggregate, Key, merge_into, take_out

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable

Sample = tuple[int, str, str, int, float | None, float | None]
"""(target id, kind, error class, started_ms, latency_ms, ttft_ms) of one attempt."""


def add(conn: sqlite3.Connection, run_id: int, attempts: Iterable[Sample]) -> None:
    """Count attempts of one run as they are stored. Call inside the write transaction."""
    status = conn.execute("SELECT status FROM run WHERE id = ?", (run_id,)).fetchone()
    inconclusive = int(status is not None and status[0] == "inconclusive")
    for key, group in _grouped(attempts, inconclusive).items():
        merge_into(conn, DAILY, key, group)


def reclassify(conn: sqlite3.Connection, run_id: int, *, inconclusive: bool) -> None:
    """The run's status became (or stopped being) inconclusive: move its attempts."""
    rows = conn.execute(
        "SELECT a.target_id, a.kind, a.error_class, a.started_ms, a.latency_ms, a.ttft_ms"
        " FROM run r CROSS JOIN attempt a ON +a.run_id = r.id"  # the run's span, then its id
        " AND a.started_ms BETWEEN r.started_ms AND coalesce(r.last_attempt_ms, r.finished_ms)"
        " WHERE r.id = ?",
        (run_id,),
    ).fetchall()
    source, target = (0, 1) if inconclusive else (1, 0)
    for key, group in _grouped(rows, source).items():
        take_out(conn, DAILY, key, group)
    for key, group in _grouped(rows, target).items():
        merge_into(conn, DAILY, key, group)


def _grouped(attempts: Iterable[Sample], inconclusive: int) -> dict[Key, Aggregate]:
    groups: dict[Key, Aggregate] = defaultdict(Aggregate)
    for target_id, kind, error_class, started, latency, ttft in attempts:
        key = (target_id, DAILY.start_of(started), kind, error_class, inconclusive)
        groups[key].add(started, latency, ttft)
    return groups
