"""The all-regions daily rows (region 0 of `daily`), built once a day is closed instead of
upserted by every agent's batch.

Agents in different regions probe the same models in the same order; when each batch added
to the same all-regions rows, the agents queued on those rows' locks (seconds at the 99th
percentile with ten agents). Now a batch adds to its own region's rows only, and the sums
over every region of a day are

* for a closed day (listed in `daily_closed`): its region-0 rows, built once from the
  regions' rows by `close_days`, which an agent runs after each run it finishes (the day
  must have ended `CLOSE_AFTER_MS` ago, so batches still in flight rarely meet it);
* for a day still open: the regions' rows, added up when read (`all_regions_rows`).

A batch that writes into a closed day anyway (a late batch, `db copy` of an older run, a
run reclassified) adds to the region-0 rows as well. The day's advisory lock makes that
exact: every batch holds it shared from the moment it reads whether its days are closed
until it commits, and closing a day takes it exclusively (without waiting: a day a batch
is writing into is closed later), so a batch either commits before the day's rows are
summed or sees the day closed.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from modelaudit.store.postgres import db, sums
from modelaudit.store.postgres.sums import ALL_REGIONS, DAY_MS

if TYPE_CHECKING:
    from collections.abc import Iterable

    import psycopg
    from psycopg_pool import ConnectionPool

DAY_LOCK = 0x6D61_7564
"""The first key of a day's advisory lock ("maud", 1835103588 in `modelaudit_lock_days` of
migration 4); the second is the day's number."""
CLOSE_AFTER_MS = 3_600_000
"""How long after a day's end (UTC) it is closed."""
STORED = (
    "day_ms, target_id, ok, failed, excluded, first_ms, last_ms, last_ok_ms, classes, latency,"
    " ttft, latency_p50_bucket, latency_p95_bucket, ttft_p50_bucket"
)
"""What the readers take of a stored all-regions daily row (an open day's, added up when
read, comes without the kept percentiles' buckets: its histograms are merged instead)."""


def day_numbers(moments_ms: Iterable[int]) -> list[int]:
    """The numbers of the UTC days of `moments_ms` (days since the epoch), in order."""
    return sorted({moment // DAY_MS for moment in moments_ms})


def lock_days(conn: psycopg.Connection[Any], numbers: list[int]) -> set[int]:
    """Hold the lock of each day (`day_numbers`) shared until the transaction ends; the
    days among them (their start, ms) that are closed: their region-0 rows are kept, so
    a batch adds to them too."""
    if not numbers:
        return set()
    row = conn.execute("SELECT modelaudit_lock_days(%s)", (numbers,)).fetchone()
    return set(row[0]) if row and row[0] else set()


def closed_days(conn: psycopg.Connection[Any], since: int, until: int) -> list[int]:
    """The closed days starting in [since, until)."""
    return [
        int(row[0])
        for row in conn.execute(
            "SELECT day_ms FROM daily_closed WHERE day_ms >= %s AND day_ms < %s ORDER BY 1",
            (since, until),
        )
    ]


def all_regions_rows(
    conn: psycopg.Connection[Any], since: int, until: int
) -> list[tuple[Any, ...]]:
    """The all-regions rows (`STORED`'s columns) of the days starting in [since, until):
    a closed day's as stored, an open day's added up from the regions' rows."""
    closed = closed_days(conn, since, until)
    first = -(-since // DAY_MS) * DAY_MS
    still_open = sorted(set(range(first, until, DAY_MS)) - set(closed))
    rows = (
        conn.cursor(binary=True)
        .execute(
            f"SELECT {STORED} FROM daily WHERE day_ms = ANY(%s) AND region_id = %s",  # noqa: S608
            (closed, ALL_REGIONS),
        )
        .fetchall()
    )
    for (day, _, target_id, _), s in _summed(conn, still_open).items():
        counts = (s.ok, s.failed, s.excluded, s.first, s.last, s.last_ok)
        arrays = (sums.stored(s.classes), sums.stored(s.latency), sums.stored(s.ttft))
        rows.append((day, target_id, *counts, *arrays))
    return rows


def _summed(conn: psycopg.Connection[Any], days: list[int]) -> dict[sums.Key, sums.Sum]:
    """The regions' rows of `days` added up per day, model and inconclusive flag (keyed
    as the all-regions rows): the counts in SQL, the class counts and histograms gathered
    there and decoded and merged here (a tenth of the time an SQL merge takes)."""
    found: dict[sums.Key, sums.Sum] = defaultdict(sums.Sum)
    if not days:
        return found
    for row in conn.cursor(binary=True).execute(
        "SELECT day_ms, target_id, inconclusive, sum(attempts)::integer, sum(ok)::integer,"
        " sum(failed)::integer, sum(excluded)::integer, min(first_ms), max(last_ms),"
        " max(last_ok_ms), array_agg(classes), array_agg(latency), array_agg(ttft)"
        " FROM daily WHERE day_ms = ANY(%s) AND region_id <> %s"
        " GROUP BY day_ms, target_id, inconclusive",
        (days, ALL_REGIONS),
    ):
        key = (row[0], ALL_REGIONS, row[1], row[2])
        classes, latency, ttft = (
            [n for h in row[i] for n in sums.decoded(h) or ()] for i in (10, 11, 12)
        )
        found[key].add_row(row[3:7], row[7:10], (classes, latency, ttft))
    return found


def close_days(connections: ConnectionPool[Any]) -> list[int]:
    """Build the all-regions rows of every day that ended `CLOSE_AFTER_MS` ago and is not
    closed yet, a day per transaction; the days closed. A day another agent is closing,
    or a batch is still writing into, is left for the next call."""
    with connections.connection() as conn:
        open_days = [
            int(row[0])
            for row in conn.execute(
                "WITH RECURSIVE days (day_ms) AS ("  # each day of `daily` once, by its key
                " SELECT min(day_ms) FROM daily UNION ALL"
                " SELECT (SELECT min(day_ms) FROM daily WHERE day_ms > days.day_ms) FROM days"
                " WHERE days.day_ms IS NOT NULL)"
                " SELECT day_ms FROM days WHERE day_ms + %s + %s"
                " <= (extract(epoch FROM clock_timestamp()) * 1000)::bigint"
                " AND NOT EXISTS (SELECT 1 FROM daily_closed c WHERE c.day_ms = days.day_ms)",
                (DAY_MS, CLOSE_AFTER_MS),
            )
        ]
    return [day for day in open_days if db.write(connections, functools.partial(_close, day=day))]


def _close(conn: psycopg.Connection[Any], *, day: int) -> bool:
    taken = conn.execute(
        "SELECT pg_try_advisory_xact_lock(%s, %s)", (DAY_LOCK, day // DAY_MS)
    ).fetchone()
    if not (taken and taken[0]):
        return False
    done = conn.execute("SELECT 1 FROM daily_closed WHERE day_ms = %s", (day,)).fetchone()
    if done:
        return False
    conn.execute("DELETE FROM daily WHERE day_ms = %s AND region_id = %s", (day, ALL_REGIONS))
    sums.add(conn, "daily", _summed(conn, [day]))
    conn.execute(
        "INSERT INTO daily_closed VALUES (%s, (extract(epoch FROM clock_timestamp()) * 1000))",
        (day,),
    )
    return True
