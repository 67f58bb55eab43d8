"""Each model's attempts summed per UTC day (`daily`), kept up to date as attempts are
written, so a month's counts and a month of daily timeline buckets read a few thousand rows
instead of a million attempts; and each model's day in one row (`daily_model`: its
availability counted, attempts per class, the successes' histograms and the percentiles a
timeline draws), which is what a report reads.

A row is kept per model, day, kind, error class and whether the run was inconclusive, as
`db prune` keeps per hour (`periods`). Attempts are written while their run is still
running; a run that ends inconclusive (this machine was offline) moves its attempts to the
inconclusive rows. `db prune` leaves the table alone: a day reads the same before and
after its attempts are rolled up.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modelaudit.history import AVAILABILITY_KINDS, SUCCESS_CLASSES, Percentiles, counts_as
from modelaudit.store import buckets
from modelaudit.store.sqlite.periods import DAILY, Aggregate, Key, add_all, merge_into, take_out
from modelaudit.vocabulary import ErrorClass, ProbeKind

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable

Sample = tuple[int, str, str, int, float | None, float | None]
"""(target id, kind, error class, started_ms, latency_ms, ttft_ms) of one attempt."""


def add(conn: sqlite3.Connection, run_id: int, attempts: Iterable[Sample]) -> None:
    """Count attempts of one run as they are stored. Call inside the write transaction."""
    status = conn.execute("SELECT status FROM run WHERE id = ?", (run_id,)).fetchone()
    inconclusive = int(status is not None and status[0] == "inconclusive")
    samples = list(attempts)
    add_all(conn, DAILY, _grouped(samples, inconclusive))
    days: dict[tuple[int, int], ModelDay] = defaultdict(ModelDay)
    for sample in samples:
        days[(DAILY.start_of(sample[3]), sample[0])].add(sample, inconclusive=bool(inconclusive))
    conn.executemany(_ADD_MODEL_DAY, [(*key, *day.row()) for key, day in sorted(days.items())])


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
    # Each model's day: only where its attempts count moves (excluded, or counted again).
    moved: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for sample in rows:
        was, now = ModelDay(), ModelDay()
        was.add(sample, inconclusive=not inconclusive)
        now.add(sample, inconclusive=inconclusive)
        delta = moved[(DAILY.start_of(sample[3]), sample[0])]
        delta[0] += now.ok - was.ok
        delta[1] += now.failed - was.failed
        delta[2] += now.excluded - was.excluded
    conn.executemany(
        "UPDATE daily_model SET ok = ok + ?, failed = failed + ?, excluded = excluded + ?"
        " WHERE day_ms = ? AND target_id = ?",
        [(*delta, *key) for key, delta in sorted(moved.items()) if any(delta)],
    )


def _grouped(attempts: Iterable[Sample], inconclusive: int) -> dict[Key, Aggregate]:
    """The attempts' daily rows: counts per kind and error class, first and last start.
    From schema 11 on they carry no histograms: each model's day (`daily_model`) holds its
    successes' histograms, which is what every read takes (rows written before keep
    theirs)."""
    groups: dict[Key, Aggregate] = defaultdict(Aggregate)
    for target_id, kind, error_class, started, _, _ in attempts:
        key = (target_id, DAILY.start_of(started), kind, error_class, inconclusive)
        groups[key].add(started, None, None)
    return groups


@dataclass
class ModelDay:
    """One model's attempts of one day, counted as `history.counts_as` says."""

    ok: int = 0
    failed: int = 0
    excluded: int = 0
    first: int | None = None
    last: int | None = None
    last_ok: int | None = None
    # Plain dictionaries: a batch makes one of these per model (a Counter costs a few
    # times more to make, and most days of a batch hold one attempt).
    classes: dict[str, int] = field(default_factory=dict)
    latency: dict[int, int] = field(default_factory=dict)
    ttft: dict[int, int] = field(default_factory=dict)

    def add(self, sample: Sample, *, inconclusive: bool) -> None:
        _, kind, cls, started, latency, ttft = sample
        self.classes[cls] = self.classes.get(cls, 0) + 1
        self.first = started if self.first is None else min(self.first, started)
        self.last = started if self.last is None else max(self.last, started)
        if kind not in _AVAILABILITY:
            return
        counted = "excluded" if inconclusive else _COUNTS_AS[cls]
        setattr(self, counted, getattr(self, counted) + 1)
        if cls not in _SUCCESS:
            return
        self.last_ok = started if self.last_ok is None else max(self.last_ok, started)
        if kind == ProbeKind.COMPLETION.value and latency is not None:
            _count(self.latency, buckets.bucket_of(latency))
        if kind == ProbeKind.STREAM.value and ttft is not None:
            _count(self.ttft, buckets.bucket_of(ttft))

    def row(self) -> tuple[object, ...]:
        """The `daily_model` columns after the key, as `_ADD_MODEL_DAY` binds them."""
        latency, ttft = _percentiles(self.latency), _percentiles(self.ttft)
        return (
            self.ok,
            self.failed,
            self.excluded,
            self.first,
            self.last,
            self.last_ok,
            json.dumps(dict(sorted(self.classes.items())), separators=(",", ":")),
            buckets.encode(self.latency),
            buckets.encode(self.ttft),
            latency.p50,
            latency.p95,
            ttft.p50,
        )


def _count(histogram: dict[int, int], bucket: int) -> None:
    histogram[bucket] = histogram.get(bucket, 0) + 1


_NO_SAMPLE = Percentiles(0)


def _percentiles(histogram: dict[int, int]) -> Percentiles:
    return buckets.from_histogram(histogram) if histogram else _NO_SAMPLE


_AVAILABILITY = frozenset(k.value for k in AVAILABILITY_KINDS)
_SUCCESS = frozenset(c.value for c in SUCCESS_CLASSES)
_COUNTS_AS = {c.value: counts_as(c) for c in ErrorClass}
_ADD_MODEL_DAY = (
    "INSERT INTO daily_model (day_ms, target_id, ok, failed, excluded, first_ms, last_ms,"
    " last_ok_ms, classes, latency_hist, ttft_hist, latency_p50, latency_p95, ttft_p50)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (day_ms, target_id) DO UPDATE SET ok = daily_model.ok + excluded.ok,"
    " failed = daily_model.failed + excluded.failed,"
    " excluded = daily_model.excluded + excluded.excluded,"
    " first_ms = min(daily_model.first_ms, excluded.first_ms),"
    " last_ms = max(daily_model.last_ms, excluded.last_ms),"
    " last_ok_ms = coalesce(max(daily_model.last_ok_ms, excluded.last_ok_ms),"
    "  daily_model.last_ok_ms, excluded.last_ok_ms),"
    " classes = modelaudit_classes_add(daily_model.classes, excluded.classes),"
    " latency_hist = modelaudit_hist_add(daily_model.latency_hist, excluded.latency_hist),"
    " ttft_hist = modelaudit_hist_add(daily_model.ttft_hist, excluded.ttft_hist),"
    " latency_p50 = CASE WHEN excluded.latency_hist IS NULL THEN daily_model.latency_p50"
    "  ELSE modelaudit_hist_rank(modelaudit_hist_add(daily_model.latency_hist,"
    "  excluded.latency_hist), 50) END,"
    " latency_p95 = CASE WHEN excluded.latency_hist IS NULL THEN daily_model.latency_p95"
    "  ELSE modelaudit_hist_rank(modelaudit_hist_add(daily_model.latency_hist,"
    "  excluded.latency_hist), 95) END,"
    " ttft_p50 = CASE WHEN excluded.ttft_hist IS NULL THEN daily_model.ttft_p50"
    "  ELSE modelaudit_hist_rank(modelaudit_hist_add(daily_model.ttft_hist,"
    "  excluded.ttft_hist), 50) END"
)
"""Add a batch's day of a model to its row (the functions are `functions`'; a batch with
no new sample of a metric leaves its percentiles as they are)."""
