"""`db prune`: roll raw attempts older than a window up into hourly aggregates.

An hour of one model's attempts of one kind and error class becomes one `rollup` row: how
many, the first and last start, and histograms of latency and TTFT in the fixed buckets of
`buckets` (not averages), so availability, error classes and p50/p95/p99 still read back
for those hours. What is given up: the individual attempts (details, HTTP statuses,
timings). Runs, verdicts, catalog snapshots and change events (served model, fingerprint,
rate-limit ceilings) are kept.

Each hour is its own short transaction: a prune running beside `probe` or `watch` never
holds the write lock for long, and an interrupted prune leaves whole hours done.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modelaudit.store import buckets
from modelaudit.store.db import from_ms, ms, transaction

if TYPE_CHECKING:
    import sqlite3
    from datetime import datetime, timedelta

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class PruneResult:
    cutoff: datetime
    """Attempts that started before this (an hour boundary) were rolled up."""
    attempts: int
    hours: int
    """Rollup rows written (one per model, hour, kind, error class)."""


@dataclass
class _Group:
    attempts: int = 0
    first: int | None = None
    last: int | None = None
    latency: Counter[int] = field(default_factory=Counter)
    ttft: Counter[int] = field(default_factory=Counter)

    def add(self, started: int, latency: float | None, ttft: float | None) -> None:
        self.attempts += 1
        self.first = started if self.first is None else min(self.first, started)
        self.last = started if self.last is None else max(self.last, started)
        if latency is not None:
            self.latency[buckets.bucket_of(latency)] += 1
        if ttft is not None:
            self.ttft[buckets.bucket_of(ttft)] += 1


_GroupKey = tuple[int, int, str, str, int]
"""(target, hour, kind, error class, inconclusive)."""


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
        conn.execute("PRAGMA incremental_vacuum")  # hand the freed pages back
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
        groups: dict[_GroupKey, _Group] = defaultdict(_Group)
        for target_id, kind, error_class, inconclusive, started, latency, ttft in rows:
            groups[(target_id, hour, kind, error_class, int(inconclusive))].add(
                started, latency, ttft
            )
        for key, group in groups.items():
            _merge_into_rollup(conn, key, group)
        conn.execute(
            "DELETE FROM attempt WHERE started_ms >= ? AND started_ms < ?", (hour, hour + HOUR_MS)
        )
    return len(rows), len(groups)


def _merge_into_rollup(conn: sqlite3.Connection, key: _GroupKey, group: _Group) -> None:
    """Add to the hour's row if an earlier prune already wrote one (an attempt stored late,
    with an old start)."""
    existing = conn.execute(
        "SELECT attempts, first_ms, last_ms, latency_hist, ttft_hist FROM rollup"
        " WHERE target_id = ? AND hour_ms = ? AND kind = ? AND error_class = ?"
        " AND inconclusive = ?",
        key,
    ).fetchone()
    if existing is not None:
        attempts, first, last, latency, ttft = existing
        group.attempts += attempts
        group.first = min(first, group.first or first)
        group.last = max(last, group.last or last)
        group.latency.update(buckets.decode(latency))
        group.ttft.update(buckets.decode(ttft))
    conn.execute(
        "INSERT OR REPLACE INTO rollup (target_id, hour_ms, kind, error_class, inconclusive,"
        " attempts, first_ms, last_ms, latency_hist, ttft_hist)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            *key,
            group.attempts,
            group.first,
            group.last,
            buckets.encode(group.latency),
            buckets.encode(group.ttft),
        ),
    )


def _hour_of(value_ms: int) -> int:
    return value_ms - value_ms % HOUR_MS
