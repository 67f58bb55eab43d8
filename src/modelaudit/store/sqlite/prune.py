"""`db prune`: roll raw attempts older than a window up into hourly aggregates.

An hour of one model's attempts of one kind and error class becomes one `rollup` row: how
many, the first and last start, and histograms of latency and TTFT in the fixed buckets of
`buckets` (not averages), so availability, error classes and p50/p95/p99 still read back
for those hours. What is given up: the individual attempts (details, HTTP statuses,
timings). Runs, verdicts, incidents, catalog snapshots, change events (served model,
fingerprint, rate-limit ceilings) and the daily sums (`daily`) are kept.

Each hour is its own short transaction: a prune running beside `probe` or `watch` never
holds the write lock for long, and an interrupted prune leaves whole hours done.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from modelaudit.store.base import PruneResult
from modelaudit.store.sqlite.db import from_ms, ms, reclaim, transaction
from modelaudit.store.sqlite.periods import ROLLUP, Aggregate, Key, merge_into

if TYPE_CHECKING:
    import sqlite3
    from datetime import datetime, timedelta

HOUR_MS = ROLLUP.width_ms


def prune(conn: sqlite3.Connection, older_than: timedelta, now: datetime) -> PruneResult:
    cutoff = _hour_of(ms(now - older_than))
    attempts = hours = 0
    while True:
        oldest = conn.execute("SELECT min(started_ms) FROM attempt").fetchone()[0]
        if oldest is None or oldest >= cutoff:
            break
        done, written = _roll_up_hour(conn, _hour_of(oldest))
        attempts, hours = attempts + done, hours + written
    if attempts:
        reclaim(conn)
    return PruneResult(from_ms(cutoff), attempts, hours)


def _roll_up_hour(conn: sqlite3.Connection, hour: int) -> tuple[int, int]:
    with transaction(conn):
        rows = conn.execute(
            "SELECT target_id, kind, error_class,"
            " run_id IN (SELECT id FROM run WHERE status = 'inconclusive'),"
            " started_ms, latency_ms, ttft_ms FROM attempt"
            " WHERE started_ms >= ? AND started_ms < ?",
            (hour, hour + HOUR_MS),
        ).fetchall()
        groups: dict[Key, Aggregate] = defaultdict(Aggregate)
        for target_id, kind, error_class, inconclusive, started, latency, ttft in rows:
            groups[(target_id, hour, kind, error_class, int(inconclusive))].add(
                started, latency, ttft
            )
        for key, group in groups.items():
            # An earlier prune may have written the hour already (an attempt stored late).
            merge_into(conn, ROLLUP, key, group)
        conn.execute(
            "DELETE FROM attempt WHERE started_ms >= ? AND started_ms < ?", (hour, hour + HOUR_MS)
        )
    return len(rows), len(groups)


def _hour_of(value_ms: int) -> int:
    return ROLLUP.start_of(value_ms)
