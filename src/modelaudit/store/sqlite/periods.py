"""Attempts summed over a period: what `db prune` keeps of an hour (`rollup`) and what the
writers keep of every UTC day (`daily`). One row per model, period, kind, error class and
whether the run was inconclusive: how many attempts, the first and last start, and
histograms of latency and TTFT in the fixed buckets of `buckets`, so availability, error
classes and bucketed percentiles read back from it, and any set of rows can be merged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from modelaudit.store import buckets

if TYPE_CHECKING:
    import sqlite3

Key = tuple[int, int, str, str, int]
"""(target, period start, kind, error class, inconclusive)."""
# SQL here names its table and period column from the two `Table` constants below (never
# from a value: values are bound), hence the `noqa: S608`.


@dataclass(frozen=True)
class Table:
    name: Literal["rollup", "daily"]
    period: Literal["hour_ms", "day_ms"]
    """The column holding the period's start (milliseconds)."""
    width_ms: int

    def start_of(self, value_ms: int) -> int:
        return value_ms - value_ms % self.width_ms


ROLLUP = Table("rollup", "hour_ms", 3_600_000)
DAILY = Table("daily", "day_ms", 86_400_000)


@dataclass
class Aggregate:
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


def add_all(conn: sqlite3.Connection, table: Table, groups: dict[Key, Aggregate]) -> None:
    """Add each group to the row of its key, creating the rows there are none of: one
    upsert for them all, the histograms added by `modelaudit_hist_add` (`db.connect`
    registers it) where a row is already there."""
    conn.executemany(
        f"INSERT INTO {table.name} (target_id, {table.period}, kind, error_class,"  # noqa: S608
        " inconclusive, attempts, first_ms, last_ms, latency_hist, ttft_hist)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        f" ON CONFLICT (target_id, {table.period}, kind, error_class, inconclusive)"
        " DO UPDATE SET attempts = attempts + excluded.attempts,"
        " first_ms = min(first_ms, excluded.first_ms), last_ms = max(last_ms, excluded.last_ms),"
        " latency_hist = modelaudit_hist_add(latency_hist, excluded.latency_hist),"
        " ttft_hist = modelaudit_hist_add(ttft_hist, excluded.ttft_hist)",
        [
            (
                *key,
                group.attempts,
                group.first,
                group.last,
                buckets.encode(group.latency),
                buckets.encode(group.ttft),
            )
            for key, group in groups.items()
        ],
    )


def merge_into(conn: sqlite3.Connection, table: Table, key: Key, group: Aggregate) -> None:
    """Add `group` to the row of `key`, creating it if there is none."""
    existing = _row(conn, table, key)
    if existing is not None:
        attempts, first, last, latency, ttft = existing
        group.attempts += attempts
        group.first = min(first, group.first or first)
        group.last = max(last, group.last or last)
        group.latency.update(buckets.decode(latency))
        group.ttft.update(buckets.decode(ttft))
    _write(conn, table, key, group)


def take_out(conn: sqlite3.Connection, table: Table, key: Key, group: Aggregate) -> None:
    """Remove `group`'s attempts from the row of `key` (they move to another row). The
    row's first and last start stay as they were: readers take them over all of a model's
    rows, where the attempts moved still are."""
    existing = _row(conn, table, key)
    if existing is None:
        return
    attempts, first, last, latency, ttft = existing
    if attempts <= group.attempts:
        conn.execute(f"DELETE FROM {table.name} WHERE {_match(table)}", key)  # noqa: S608
        return
    left = Aggregate(attempts - group.attempts, first, last)
    left.latency = buckets.decode(latency) - group.latency
    left.ttft = buckets.decode(ttft) - group.ttft
    _write(conn, table, key, left)


def _match(table: Table) -> str:
    return (
        f"target_id = ? AND {table.period} = ? AND kind = ? AND error_class = ?"
        " AND inconclusive = ?"
    )


def _row(conn: sqlite3.Connection, table: Table, key: Key) -> tuple[int, int, int, str, str] | None:
    row: tuple[int, int, int, str, str] | None = conn.execute(
        f"SELECT attempts, first_ms, last_ms, latency_hist, ttft_hist FROM {table.name}"  # noqa: S608
        f" WHERE {_match(table)}",
        key,
    ).fetchone()
    return row


def _write(conn: sqlite3.Connection, table: Table, key: Key, group: Aggregate) -> None:
    conn.execute(
        f"INSERT OR REPLACE INTO {table.name} (target_id, {table.period}, kind, error_class,"  # noqa: S608
        " inconclusive, attempts, first_ms, last_ms, latency_hist, ttft_hist)"
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
