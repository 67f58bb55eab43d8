"""`SqliteHistory`: the `HistoryReader` over the SQLite store.

Windows are half-open, [since, until). Counting follows `history.counts_as` exactly: the
SQL groups attempts by (model, kind, error class, run inconclusive?) and Python applies the
rule to the few hundred groups, so the rule lives in one place. The whole UTC days of a
window are counted from the daily sums kept as attempts are written (`daily`), the hours
around them from the attempts themselves; rolled-up hours count in a window when the hour
starts inside it.

A model's summary percentiles are exact (nearest rank, read by rank along an index) where
only raw attempts are in the window; where `db prune` has rolled hours up, those hours'
histograms are merged with the raw samples and the percentiles are bucketed (see
`buckets`). A timeline's percentiles are exact for buckets shorter than a day; a timeline of
whole-day buckets reads them from the daily histograms, bucketed. Incidents are kept as
verdicts are written (`incidents`).
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from modelaudit.history import (
    AVAILABILITY_KINDS,
    SUCCESS_CLASSES,
    CatalogChange,
    DriftEvent,
    Incident,
    ModelHistory,
    ModelKey,
    Percentiles,
    RateLimitPoint,
    RegionHistory,
    TimelinePoint,
    VerdictPoint,
    Window,
    counts_as,
)
from modelaudit.store import buckets
from modelaudit.store.sqlite.db import from_ms, ms, translated
from modelaudit.store.sqlite.periods import DAILY, ROLLUP, Table
from modelaudit.vocabulary import ErrorClass, ProbeKind, Verdict

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable, Iterator
    from datetime import datetime, timedelta
    from pathlib import Path


DAY_MS = DAILY.width_ms
RANGED_BUCKETS = 64
"""Up to this many timeline buckets, each is counted by index ranges (no sort)."""
# The sets of `history.py`, bound as JSON arrays (`x IN (SELECT value FROM json_each(?))`):
# no SQL text is ever built from values.
OK_CLASSES = json.dumps(sorted(c.value for c in SUCCESS_CLASSES))
COUNTED_KINDS = json.dumps(sorted(k.value for k in AVAILABILITY_KINDS))
# The rule of `history.counts_as`, looked up by stored value: a month's timeline adds tens of
# thousands of groups.
_CLASSES = {c.value: c for c in ErrorClass}
_COUNTS_AS = {c.value: counts_as(c) for c in ErrorClass}
_AVAILABILITY = frozenset(k.value for k in AVAILABILITY_KINDS)
COUNTED_AS = {
    counted: json.dumps(sorted(c for c, how in _COUNTS_AS.items() if how == counted))
    for counted in ("ok", "excluded")
}
"""`counts_as` as the JSON arrays of classes that count as ok and as excluded (any other
counts as failed), for SQL that counts many groups at once."""


@dataclass
class _Tally:
    """Counts of one model (or one model's bucket) as attempts are added."""

    ok: int = 0
    failed: int = 0
    excluded: int = 0
    classes: Counter[ErrorClass] = field(default_factory=Counter)
    first: int | None = None
    last: int | None = None
    last_ok: int | None = None

    def add(self, row: tuple[str, str, int, int, int | None, int | None]) -> None:
        """One group of attempts: kind, class, how many, how many in inconclusive runs,
        first and last start (None where a timeline does not need them)."""
        kind, error_class, n, inconclusive, first, last = row
        self.classes[_CLASSES[error_class]] += n
        self.first = _earliest(self.first, first)
        self.last = _latest(self.last, last)
        if kind not in _AVAILABILITY:
            return
        counted = _COUNTS_AS[error_class]
        if counted == "ok":
            self.ok += n - inconclusive
            self.last_ok = _latest(self.last_ok, last)
        elif counted == "failed":
            self.failed += n - inconclusive
        else:
            self.excluded += n - inconclusive
        self.excluded += inconclusive


def _earliest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass(frozen=True)
class _Sample:
    """Which attempts a percentile is taken over: successes of one kind, one metric. The
    SQL is literal per metric: SQLite uses a partial index only for a literal `kind`, and
    `INDEXED BY` keeps it from preferring attempt_summary (more equality columns, but the
    values are not in it, so every sample would be looked up and sorted). `span_sql` reads
    the samples of a short span (less than a day) along the time index instead."""

    kind: ProbeKind
    metric: Literal["latency", "ttft"]
    count_sql: str
    nth_sql: str
    values_sql: str
    span_sql: str
    top_sql: str
    """`nth_sql` counting down from the largest: a p95 or p99 steps over a few entries
    instead of nearly all of them."""


LATENCY = _Sample(
    ProbeKind.COMPLETION,
    "latency",
    count_sql="SELECT count(*) FROM attempt INDEXED BY attempt_latency"
    " WHERE kind = 'completion' AND target_id = :target AND error_class = :cls"
    " AND latency_ms IS NOT NULL"
    " AND started_ms >= :since AND started_ms < :until",
    nth_sql="SELECT latency_ms FROM attempt INDEXED BY attempt_latency"
    " WHERE kind = 'completion' AND target_id = :target AND error_class = :cls"
    " AND latency_ms IS NOT NULL"
    " AND started_ms >= :since AND started_ms < :until"
    " ORDER BY latency_ms LIMIT 1 OFFSET :offset",
    top_sql="SELECT latency_ms FROM attempt INDEXED BY attempt_latency"
    " WHERE kind = 'completion' AND target_id = :target AND error_class = :cls"
    " AND latency_ms IS NOT NULL"
    " AND started_ms >= :since AND started_ms < :until"
    " ORDER BY latency_ms DESC LIMIT 1 OFFSET :offset",
    values_sql="SELECT (started_ms - :origin) / :width AS g, json_group_array(latency_ms)"
    " FROM attempt INDEXED BY attempt_latency WHERE kind = 'completion'"
    " AND target_id = :target AND error_class = :cls AND latency_ms IS NOT NULL"
    " AND started_ms >= :since AND started_ms < :until GROUP BY g",
    span_sql="SELECT target_id, (started_ms - :origin) / :width AS g,"
    " json_group_array(latency_ms) FROM attempt INDEXED BY attempt_started"
    " WHERE started_ms >= :since AND started_ms < :until AND kind = 'completion'"
    " AND error_class IN (SELECT value FROM json_each(:ok)) AND latency_ms IS NOT NULL"
    " GROUP BY 1, 2",
)
TTFT = _Sample(
    ProbeKind.STREAM,
    "ttft",
    count_sql="SELECT count(*) FROM attempt INDEXED BY attempt_ttft"
    " WHERE kind = 'stream' AND target_id = :target AND error_class = :cls AND ttft_ms IS NOT NULL"
    " AND started_ms >= :since AND started_ms < :until",
    nth_sql="SELECT ttft_ms FROM attempt INDEXED BY attempt_ttft"
    " WHERE kind = 'stream' AND target_id = :target AND error_class = :cls AND ttft_ms IS NOT NULL"
    " AND started_ms >= :since AND started_ms < :until"
    " ORDER BY ttft_ms LIMIT 1 OFFSET :offset",
    top_sql="SELECT ttft_ms FROM attempt INDEXED BY attempt_ttft"
    " WHERE kind = 'stream' AND target_id = :target AND error_class = :cls AND ttft_ms IS NOT NULL"
    " AND started_ms >= :since AND started_ms < :until"
    " ORDER BY ttft_ms DESC LIMIT 1 OFFSET :offset",
    values_sql="SELECT (started_ms - :origin) / :width AS g, json_group_array(ttft_ms)"
    " FROM attempt INDEXED BY attempt_ttft WHERE kind = 'stream'"
    " AND target_id = :target AND error_class = :cls AND ttft_ms IS NOT NULL"
    " AND started_ms >= :since AND started_ms < :until GROUP BY g",
    span_sql="SELECT target_id, (started_ms - :origin) / :width AS g,"
    " json_group_array(ttft_ms) FROM attempt INDEXED BY attempt_started"
    " WHERE started_ms >= :since AND started_ms < :until AND kind = 'stream'"
    " AND error_class IN (SELECT value FROM json_each(:ok)) AND ttft_ms IS NOT NULL"
    " GROUP BY 1, 2",
)
SUCCESSES = tuple(sorted(c.value for c in SUCCESS_CLASSES))
_VERDICTS = {v.value: v for v in Verdict}
_Key = tuple[int, int]
"""(target id, bucket number)."""
# SQL naming a table (`rollup` or `daily`, from the `Table` constants) or joining these
# fragments carries `noqa: S608`: values are always bound, never part of the text.
# Each (model, kind, error class) seen in a span, from the daily sums (a range of a small
# table), and each one's attempts in bucket g of the span, counted along attempt_summary.
_GROUPS = (
    "groups AS (SELECT DISTINCT target_id AS t, kind AS k, error_class AS c FROM daily"
    " WHERE day_ms >= :since - :since % 86400000 AND day_ms < :until)"
)
_IN_BUCKET = (
    " FROM attempt WHERE target_id = t AND kind = k AND error_class = c"
    " AND started_ms >= max(:since, :origin + g * :width)"
    " AND started_ms < min(:until, :origin + (g + 1) * :width)"
)


@dataclass(frozen=True)
class _Grid:
    """A window cut into buckets: bucket g holds the attempts of [origin + g * width,
    origin + (g + 1) * width) that started inside [since, until)."""

    since: int
    until: int
    origin: int
    width: int

    @classmethod
    def whole(cls, since: int, until: int) -> _Grid:
        """The window as one bucket (a model's summary)."""
        return cls(since, until, since, until - since + 1)

    @classmethod
    def aligned(cls, since: int, until: int, width: int) -> _Grid:
        """Buckets at multiples of `width` since the epoch (`history.bucket_start`)."""
        return cls(since, until, since - since % width, width)

    @property
    def params(self) -> dict[str, int]:
        return {
            "since": self.since,
            "until": self.until,
            "origin": self.origin,
            "width": self.width,
        }

    @property
    def single(self) -> bool:
        return self.origin <= self.since and self.until <= self.origin + self.width

    @property
    def numbers(self) -> range:
        """The bucket numbers the window touches."""
        first = (self.since - self.origin) // self.width
        return range(first, (self.until - 1 - self.origin) // self.width + 1)

    def start(self, number: int) -> int:
        return self.origin + number * self.width

    def parts(self) -> list[tuple[_Grid, bool]]:
        """The window as its whole UTC days, read from the daily sums (True), and the
        hours before and after them, read from the attempts (False). Days are used only
        when each falls in one bucket."""
        first_day = -(-self.since // DAY_MS) * DAY_MS
        last_day = self.until // DAY_MS * DAY_MS
        days_fit = self.single or (self.width % DAY_MS == 0 and self.origin % DAY_MS == 0)
        if not days_fit or first_day >= last_day:
            return [(self, False)]
        parts = [(replace(self, since=first_day, until=last_day), True)]
        if self.since < first_day:
            parts.insert(0, (replace(self, until=first_day), False))
        if last_day < self.until:
            parts.append((replace(self, since=last_day), False))
        return parts


UNKNOWN_PROVIDER = "(unknown)"
MAX_CATALOG_CHANGES = 1000
"""Catalog changes a report shows at most (the latest)."""


class SqliteHistory:
    """Implements `modelaudit.store.base.HistoryReader`."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._names: dict[int, ModelKey] | None = None

    def _name(self, target_id: int) -> ModelKey:
        """A target's (provider, model). A damaged database (`db check` flags it) may hold
        rows of a target it lost: they are reported as `(unknown)`/`target #N`, never a
        crash, and never merged with another model."""
        if self._names is None or target_id not in self._names:
            self._names = {
                row[0]: (row[1], row[2])
                for row in self.conn.execute("SELECT id, provider, model FROM target")
            }
        return self._names.setdefault(target_id, (UNKNOWN_PROVIDER, f"target #{target_id}"))

    # --- per-model summary ----------------------------------------------------------------

    @translated
    def models(self, window: Window) -> list[ModelHistory]:
        since, until = _bounds(window)
        grid = _Grid.whole(since, until)
        if window.regions:
            tallies, latency, ttft = self._of_regions(grid, window.regions)
        else:
            tallies = self._tallies(grid)
            targets = sorted({target_id for target_id, _ in tallies})
            latency = self._exact_percentiles(grid, LATENCY, targets)
            ttft = self._exact_percentiles(grid, TTFT, targets)
        histories = []
        for (target_id, _), tally in sorted(tallies.items(), key=lambda i: self._name(i[0][0])):
            provider, model = self._name(target_id)
            last_ok = tally.last_ok
            if last_ok is None:
                last_ok = last_ok_ms_before(self.conn, target_id, since)
            histories.append(
                ModelHistory(
                    provider=provider,
                    model=model,
                    ok=tally.ok,
                    failed=tally.failed,
                    excluded=tally.excluded,
                    latency=latency.get((target_id, 0), Percentiles(0)),
                    ttft=ttft.get((target_id, 0), Percentiles(0)),
                    error_classes=dict(tally.classes),
                    first_seen=_at(tally.first),
                    last_seen=_at(tally.last),
                    last_ok=_at(last_ok),
                )
            )
        return histories

    @translated
    def timelines(self, window: Window, bucket: timedelta) -> dict[ModelKey, list[TimelinePoint]]:
        since, until = _bounds(window)
        grid = _Grid.aligned(since, until, max(1, round(bucket.total_seconds() * 1000)))
        if window.regions:
            tallies, latency, ttft = self._of_regions(grid, window.regions)
        else:
            tallies = self._tallies(grid)
            targets = sorted({target_id for target_id, _ in tallies})
            by_days = any(from_days for _, from_days in grid.parts())
            percentiles = self._bucketed_percentiles if by_days else self._exact_percentiles
            latency = percentiles(grid, LATENCY, targets)
            ttft = percentiles(grid, TTFT, targets)
        timelines: dict[ModelKey, list[TimelinePoint]] = {}
        for key in sorted(tallies, key=lambda k: (self._name(k[0]), k[1])):
            tally = tallies[key]
            timelines.setdefault(self._name(key[0]), []).append(
                TimelinePoint(
                    start=from_ms(grid.start(key[1])),
                    ok=tally.ok,
                    failed=tally.failed,
                    excluded=tally.excluded,
                    latency_p50=latency[key].p50 if key in latency else None,
                    latency_p95=latency[key].p95 if key in latency else None,
                    ttft_p50=ttft[key].p50 if key in ttft else None,
                )
            )
        return timelines

    def _of_regions(
        self, grid: _Grid, regions: frozenset[str]
    ) -> tuple[dict[_Key, _Tally], dict[_Key, Percentiles], dict[_Key, Percentiles]]:
        """Counts and exact percentiles of the raw attempts of runs from `regions` (the
        daily sums and `db prune`'s hours hold every region together: a report asked for
        some regions reads the attempts, and leaves rolled-up hours out)."""
        params = {**grid.params, "regions": json.dumps(sorted(regions))}
        runs = (
            " FROM run r JOIN attempt a ON a.run_id = r.id"
            " WHERE r.region IN (SELECT value FROM json_each(:regions))"
            " AND a.started_ms >= :since AND a.started_ms < :until"
        )
        tallies: dict[_Key, _Tally] = defaultdict(_Tally)
        for target_id, g, *counts in self.conn.execute(
            "SELECT a.target_id, (a.started_ms - :origin) / :width, a.kind, a.error_class,"
            f" count(*), sum(r.status = 'inconclusive'), min(a.started_ms), max(a.started_ms)"
            f" {runs} GROUP BY 1, 2, 3, 4",
            params,
        ):
            tallies[(target_id, g)].add(tuple(counts))
        found: list[dict[_Key, Percentiles]] = []
        for sample in (LATENCY, TTFT):
            column = f"a.{sample.metric}_ms"
            found.append(
                {
                    (target_id, g): buckets.from_sorted(sorted(json.loads(values)))
                    for target_id, g, values in self.conn.execute(
                        f"SELECT a.target_id, (a.started_ms - :origin) / :width,"  # noqa: S608
                        f" json_group_array({column}) {runs} AND a.kind = :kind"
                        f" AND a.error_class IN (SELECT value FROM json_each(:ok))"
                        f" AND {column} IS NOT NULL GROUP BY 1, 2",
                        {**params, "kind": sample.kind.value, "ok": OK_CLASSES},
                    )
                }
            )
        return tallies, found[0], found[1]

    @translated
    def regions(self, window: Window) -> list[RegionHistory]:
        """From the raw attempts, per region; when the window holds runs of one region
        only (the usual SQLite store), from the model summaries (`models`)."""
        since, until = _bounds(window)
        seen = [
            row[0]
            for row in self.conn.execute(
                "SELECT DISTINCT region FROM run WHERE started_ms < ?"
                " AND coalesce(last_attempt_ms, finished_ms, started_ms) >= ?",
                (until, since),
            )
            if not window.regions or row[0] in window.regions
        ]
        if len(seen) == 1:
            return [
                RegionHistory(
                    m.provider, m.model, seen[0], m.ok, m.failed, m.excluded, m.last_seen, m.last_ok
                )
                for m in self.models(Window(window.since, window.until, frozenset(seen)))
            ]
        tallies: dict[tuple[int, str], _Tally] = defaultdict(_Tally)
        for target_id, region, *counts in self.conn.execute(
            "SELECT a.target_id, r.region, a.kind, a.error_class, count(*),"
            " sum(r.status = 'inconclusive'), min(a.started_ms), max(a.started_ms)"
            " FROM run r JOIN attempt a ON a.run_id = r.id"
            " WHERE r.region IN (SELECT value FROM json_each(?))"
            " AND a.started_ms >= ? AND a.started_ms < ? GROUP BY 1, 2, 3, 4",
            (json.dumps(seen), since, until),
        ):
            tallies[(target_id, region)].add(tuple(counts))
        found = [
            RegionHistory(
                *self._name(target_id),
                region,
                t.ok,
                t.failed,
                t.excluded,
                _at(t.last),
                _at(t.last_ok),
            )
            for (target_id, region), t in tallies.items()
        ]
        return sorted(found, key=lambda r: (r.provider, r.model, r.region))

    def _tallies(self, grid: _Grid) -> dict[_Key, _Tally]:
        tallies: dict[_Key, _Tally] = defaultdict(_Tally)
        for part, from_days in grid.parts():
            if from_days and not part.single:
                for target_id, group_no, ok, failed, excluded in self._counted_days(part):
                    tally = tallies[(target_id, group_no)]
                    tally.ok += ok
                    tally.failed += failed
                    tally.excluded += excluded
                continue
            rows = self._summed(part, DAILY) if from_days else self._raw_tally_rows(part)
            for target_id, group_no, *counts in rows:
                tallies[(target_id, group_no)].add(tuple(counts))
        return tallies

    def _counted_days(self, part: _Grid) -> Iterable[tuple[int, int, int, int, int]]:
        """A timeline's whole days, counted in SQL: (model, bucket, ok, failed, excluded)
        per day, a fifth of the rows of `_summed`. The sets it counts by are `counts_as`'s,
        bound as values."""
        return self.conn.execute(
            "SELECT target_id, (day_ms - :origin) / :width,"
            " sum(CASE WHEN NOT inconclusive AND c = 'ok' THEN attempts ELSE 0 END),"
            " sum(CASE WHEN NOT inconclusive AND c = 'failed' THEN attempts ELSE 0 END),"
            " sum(CASE WHEN inconclusive OR c = 'excluded' THEN attempts ELSE 0 END)"
            " FROM (SELECT day_ms, target_id, inconclusive, attempts,"
            "  CASE WHEN error_class IN (SELECT value FROM json_each(:ok)) THEN 'ok'"
            "  WHEN error_class IN (SELECT value FROM json_each(:excluded)) THEN 'excluded'"
            "  ELSE 'failed' END AS c FROM daily WHERE day_ms >= :since AND day_ms < :until"
            "  AND kind IN (SELECT value FROM json_each(:kinds)))"
            " GROUP BY day_ms, target_id",
            {**part.params, **COUNTED_AS, "kinds": COUNTED_KINDS},
        )

    def _raw_tally_rows(self, part: _Grid) -> Iterator[tuple[Any, ...]]:
        """Attempts of a span that are not in whole days: the raw ones, and the hours
        `db prune` rolled up that start in it."""
        inconclusive = self._inconclusive_counts(part.params)
        for target_id, group_no, kind, error_class, n, first, last in self._raw_groups(part):
            n_inconclusive = inconclusive.get((target_id, group_no, kind, error_class), 0)
            yield (target_id, group_no, kind, error_class, n, n_inconclusive, first, last)
        yield from self._summed(part, ROLLUP)

    def _summed(self, part: _Grid, table: Table) -> Iterable[tuple[Any, ...]]:
        """Rows of `rollup` or `daily` whose period starts in the span, added up per model,
        kind and error class (their inconclusive attempts apart): over the whole window for
        a summary (a month is a few rows per model), else per period, in the table's key
        order (no sort), a bucket of several periods coming as several rows."""
        return self.conn.execute(
            f"SELECT target_id, ({table.period} - :origin) / :width, kind, error_class,"  # noqa: S608
            " sum(attempts), sum(CASE WHEN inconclusive THEN attempts ELSE 0 END),"
            f" min(first_ms), max(last_ms) FROM {table.name}"
            f" WHERE {table.period} >= :since AND {table.period} < :until"
            f" GROUP BY {'' if part.single else f'{table.period}, '}target_id, kind, error_class",
            part.params,
        )

    def _raw_groups(
        self, part: _Grid
    ) -> Iterable[tuple[int, int, str, str, int, int | None, int | None]]:
        """Attempts per (model, bucket, kind, error class), each counted by a range of
        attempt_summary, so nothing is sorted; for a model's summary (one bucket) its
        first and last attempt are two seeks more. Many buckets are grouped by a sort."""
        numbers = part.numbers
        if len(numbers) > RANGED_BUCKETS:
            return self.conn.execute(
                "SELECT target_id, (started_ms - :origin) / :width AS g, kind, error_class,"
                " count(*), NULL, NULL FROM attempt"
                " WHERE +started_ms >= :since AND +started_ms < :until"
                " GROUP BY target_id, kind, error_class, g",
                part.params,
            )
        times = (
            f"(SELECT min(started_ms){_IN_BUCKET}), (SELECT max(started_ms){_IN_BUCKET})"
            if part.single
            else "NULL, NULL"
        )
        return self.conn.execute(
            "WITH RECURSIVE b(g) AS (SELECT :first UNION ALL SELECT g + 1 FROM b"  # noqa: S608
            f" WHERE g < :last), {_GROUPS}"
            f" SELECT t, g, k, c, n, {times} FROM (SELECT t, g, k, c,"
            f" (SELECT count(*){_IN_BUCKET}) AS n FROM groups CROSS JOIN b) WHERE n > 0",
            {**part.params, "first": numbers[0], "last": numbers[-1]},
        )

    def _inconclusive_counts(self, params: dict[str, int]) -> dict[tuple[int, int, str, str], int]:
        """Attempts of runs marked inconclusive (this machine was offline), which count
        as excluded. Such runs are rare and short: each is found by its time span."""
        rows = self.conn.execute(
            "SELECT a.target_id, (a.started_ms - :origin) / :width, a.kind, a.error_class,"
            " count(*) FROM run r CROSS JOIN attempt a ON +a.run_id = r.id"  # runs first
            " AND a.started_ms BETWEEN r.started_ms AND coalesce(r.last_attempt_ms, r.finished_ms)"
            " WHERE r.status = 'inconclusive' AND r.started_ms < :until"
            " AND coalesce(r.last_attempt_ms, r.finished_ms) >= :since"
            " AND a.started_ms >= :since AND a.started_ms < :until GROUP BY 1, 2, 3, 4",
            params,
        )
        return {(t, g, kind, cls): n for t, g, kind, cls, n in rows}

    def _exact_percentiles(
        self, grid: _Grid, sample: _Sample, targets: Iterable[int]
    ) -> dict[_Key, Percentiles]:
        """Exact from raw samples; bucketed where rolled-up hours share the bucket."""
        params: dict[str, object] = {**grid.params, "kind": sample.kind.value}
        rolled = self._histograms(grid, sample, ROLLUP)
        found: dict[_Key, Percentiles] = {}
        for target_id in targets:
            params["target"] = target_id
            if grid.single and not any(key[0] == target_id for key in rolled):
                found[(target_id, 0)] = self._exact_by_rank(sample, params)
                continue
            for group_no, values in self._sorted_samples(sample, params).items():
                key = (target_id, group_no)
                if key in rolled:
                    found[key] = buckets.from_histogram(rolled.pop(key) + buckets.histogram(values))
                else:
                    found[key] = buckets.from_sorted(values)
        found.update((key, buckets.from_histogram(hist)) for key, hist in rolled.items())
        return {key: p for key, p in found.items() if p.n}

    def _bucketed_percentiles(
        self, grid: _Grid, sample: _Sample, targets: Iterable[int]
    ) -> dict[_Key, Percentiles]:
        """From histograms: the daily sums' for whole days, the raw samples' and rolled-up
        hours' for the rest of the window."""
        stored: dict[_Key, list[buckets.Stored]] = defaultdict(list)
        raw: dict[_Key, buckets.Histogram] = {}
        for part, from_days in grid.parts():
            for key, hist in self._histogram_rows(part, sample, DAILY if from_days else ROLLUP):
                stored[key].append(hist)
            if from_days:
                continue
            for target_id, group_no, values in self.conn.execute(
                sample.span_sql, {**part.params, "ok": OK_CLASSES}
            ):
                _merge(raw, (target_id, group_no), buckets.histogram(json.loads(values)))
        found = {
            key: buckets.from_stored(stored.get(key, []), raw.get(key))
            for key in stored.keys() | raw.keys()
        }
        return {key: p for key, p in found.items() if p.n}

    def _exact_by_rank(self, sample: _Sample, params: dict[str, object]) -> Percentiles:
        """The whole window's percentiles, read by rank along the sample's index: SQLite
        steps over k index entries; no sample is sorted or fetched."""
        counts = {
            cls: int(self.conn.execute(sample.count_sql, {**params, "cls": cls}).fetchone()[0])
            for cls in SUCCESSES
        }
        present = [cls for cls, n in counts.items() if n]
        if len(present) != 1:  # none, or answers of more than one success class to merge
            return buckets.from_sorted(self._sorted_samples(sample, params).get(0, []))
        cls, n = present[0], counts[present[0]]
        p50, p95, p99 = (
            self._nth(sample, {**params, "cls": cls}, buckets.rank(p, n), n)
            for p in buckets.QUANTILES
        )
        return Percentiles(n, p50, p95, p99)

    def _nth(self, sample: _Sample, params: dict[str, object], rank: int, n: int) -> float:
        """The sample of 1-based `rank` among `n`, stepping from whichever end is nearer."""
        if n - rank < rank - 1:
            sql, offset = sample.top_sql, n - rank
        else:
            sql, offset = sample.nth_sql, rank - 1
        return float(self.conn.execute(sql, {**params, "offset": offset}).fetchone()[0])

    def _sorted_samples(self, sample: _Sample, params: dict[str, object]) -> dict[int, list[float]]:
        """One model's successful samples per bucket, each list sorted. SQLite hands each
        bucket over as one JSON array: far fewer rows to build in Python."""
        samples: dict[int, list[float]] = defaultdict(list)
        for cls in SUCCESSES:
            for group_no, values in self.conn.execute(sample.values_sql, {**params, "cls": cls}):
                samples[group_no].extend(json.loads(values))
        for values in samples.values():
            values.sort()
        return samples

    def _histograms(
        self, part: _Grid, sample: _Sample, table: Table
    ) -> dict[_Key, buckets.Histogram]:
        """The sample's histograms of the `rollup` or `daily` rows starting in the span,
        per bucket."""
        hists: dict[_Key, buckets.Histogram] = {}
        for key, found in self._histogram_rows(part, sample, table):
            _merge(hists, key, buckets.parsed(found))
        return hists

    def _histogram_rows(
        self, part: _Grid, sample: _Sample, table: Table
    ) -> Iterator[tuple[_Key, buckets.Stored]]:
        """Each row's histogram, parsed. SQLite hands them all over as one JSON array of
        `[model, bucket, histogram]` (the stored JSON text, joined): a month's timeline
        holds 6,000 per metric, and one parse of them all costs far less than one parse
        (and one row) each."""
        (document,) = self.conn.execute(
            "SELECT '[' || coalesce(group_concat('[' || target_id || ',' || g || ',' || h || ']'),"  # noqa: S608
            " '') || ']' FROM"
            f" (SELECT target_id, ({table.period} - :origin) / :width AS g,"
            "  CASE :metric WHEN 'ttft' THEN ttft_hist ELSE latency_hist END AS h"
            f"  FROM {table.name} WHERE {table.period} >= :since AND {table.period} < :until"
            "  AND kind = :kind AND error_class IN (SELECT value FROM json_each(:ok)))"
            " WHERE h IS NOT NULL",
            {**part.params, "kind": sample.kind.value, "metric": sample.metric, "ok": OK_CLASSES},
        ).fetchone()
        for target_id, group_no, found in json.loads(document):
            yield (target_id, group_no), found

    # --- verdicts and incidents -------------------------------------------------------------

    @translated
    def verdicts(self, window: Window) -> dict[ModelKey, list[VerdictPoint]]:
        since, until = _bounds(window)
        # Runs in start order (run_started), each run's verdicts by its primary key: the
        # points of each model come out oldest first, with nothing to sort.
        rows = self.conn.execute(
            "SELECT v.target_id, v.run_id, r.started_ms, v.verdict, v.reason, r.region"
            " FROM run r JOIN verdict v ON v.run_id = r.id"
            " WHERE r.started_ms >= :since AND r.started_ms < :until"
            " AND (:regions IS NULL OR r.region IN (SELECT value FROM json_each(:regions)))"
            " ORDER BY r.started_ms",
            {"since": since, "until": until, "regions": _regions(window)},
        )
        by_target: dict[int, list[VerdictPoint]] = defaultdict(list)
        moments: dict[int, datetime] = {}
        for target_id, run_id, started, verdict, reason, region in rows:
            at = moments.get(started) or moments.setdefault(started, from_ms(started))
            point = VerdictPoint(run_id, at, _VERDICTS[verdict], reason, region)
            by_target[target_id].append(point)
        return dict(sorted((self._name(t), points) for t, points in by_target.items()))

    @translated
    def incidents(self, window: Window) -> list[Incident]:
        """The incidents with a run in the window, from the `incident` table (kept as
        verdicts are written): each with its real start, its end if that falls inside the
        window, and its runs up to the window's end."""
        since, until = _bounds(window)
        rows = self.conn.execute(
            "SELECT target_id, verdict, start_ms, last_ms, end_ms, runs, region FROM incident"
            " WHERE last_ms >= :since AND start_ms < :until"
            " AND (:regions IS NULL OR region IN (SELECT value FROM json_each(:regions)))",
            {"since": since, "until": until, "regions": _regions(window)},
        ).fetchall()
        found = []
        for target_id, stored, start, last, end, all_runs, region in rows:
            runs, verdict = all_runs, stored
            if last >= until:  # it has runs after the window: as it stood at the window's end
                count = self._incident_runs
                runs, verdict = count(target_id, region, start, until)
                if start < since and runs == count(target_id, region, start, since)[0]:
                    continue  # none of its runs is inside the window
            found.append(
                Incident(
                    *self._name(target_id),
                    verdict=_VERDICTS[verdict],
                    start=from_ms(start),
                    end=from_ms(end) if end is not None and end < until else None,
                    runs=runs,
                    region=region,
                )
            )
        return sorted(found, key=lambda i: (i.provider, i.model, i.start, i.region))

    def _incident_runs(
        self, target_id: int, region: str, since: int, until: int
    ) -> tuple[int, str]:
        """The failing runs (down or gone) of a model in one region in [since, until), and
        the verdict of the latest in run order."""
        failing = (
            " FROM run r JOIN verdict v ON v.run_id = r.id AND v.target_id = :target"
            " WHERE v.verdict IN ('down', 'gone') AND r.region = :region"
            " AND r.started_ms >= :since AND r.started_ms < :until"
        )
        row = self.conn.execute(
            f"SELECT (SELECT count(*){failing}), (SELECT v.verdict{failing}"
            " ORDER BY r.started_ms DESC, r.id DESC LIMIT 1)",
            {"target": target_id, "since": since, "until": until, "region": region},
        ).fetchone()
        return int(row[0]), str(row[1])

    # --- catalog, drift, rate limits -------------------------------------------------------

    @translated
    def catalog_changes(self, window: Window) -> list[CatalogChange]:
        """What appeared in or vanished from each provider's model list, oldest first: at
        most MAX_CATALOG_CHANGES, the latest (a list that changes wholesale every run would
        otherwise make a report of millions of lines)."""
        since, until = _bounds(window)
        changes: list[CatalogChange] = []
        providers = [
            row[0]
            for row in self.conn.execute(
                "SELECT DISTINCT provider FROM catalog_snapshot"
                " WHERE taken_ms >= ? AND taken_ms < ? ORDER BY provider",
                (since, until),
            )
        ]
        for provider in providers:
            changes.extend(self._catalog_changes_of(provider, since, until))
        if len(changes) > MAX_CATALOG_CHANGES:
            changes.sort(key=lambda c: c.at)
            changes = changes[-MAX_CATALOG_CHANGES:]
        return changes

    def _catalog_changes_of(self, provider: str, since: int, until: int) -> list[CatalogChange]:
        before = self.conn.execute(
            "SELECT taken_ms, set_id FROM catalog_snapshot WHERE provider = ? AND taken_ms < ?"
            " ORDER BY taken_ms DESC LIMIT 1",
            (provider, since),
        ).fetchall()
        inside = self.conn.execute(
            "SELECT taken_ms, set_id FROM catalog_snapshot WHERE provider = ?"
            " AND taken_ms >= ? AND taken_ms < ? ORDER BY taken_ms",
            (provider, since, until),
        ).fetchall()
        snapshots = [*before, *inside]
        changes: list[CatalogChange] = []
        # Newest first, so the cap keeps the latest changes; each set is read once.
        newer: tuple[int, set[str]] | None = None
        for (_, old_set), (taken, new_set) in reversed(list(itertools.pairwise(snapshots))):
            if old_set == new_set:
                continue
            new = newer[1] if newer and newer[0] == new_set else self._catalog_set(new_set)
            old = self._catalog_set(old_set)
            newer = (old_set, old)
            at = from_ms(taken)
            found = [CatalogChange(provider, m, "appeared", at) for m in sorted(new - old)]
            found += [CatalogChange(provider, m, "vanished", at) for m in sorted(old - new)]
            changes[:0] = found[:MAX_CATALOG_CHANGES]
            if len(changes) >= MAX_CATALOG_CHANGES:
                return changes[-MAX_CATALOG_CHANGES:]
        return changes

    def _catalog_set(self, set_id: int) -> set[str]:
        row = self.conn.execute("SELECT ids FROM catalog_set WHERE id = ?", (set_id,)).fetchone()
        return set(json.loads(row[0]))

    @translated
    def drift(self, window: Window) -> list[DriftEvent]:
        """Served-model events: the first answer naming another model than the one asked
        for, then every change of the served model. Fingerprint events: a
        `system_fingerprint` the model never reported before, with the one it reported
        last (a vendor alternating between backends it already used is not drift). Both
        are recorded as attempts are written (`changes`), so they outlive `db prune`."""
        since, until = _bounds(window)
        rows = self.conn.execute(
            "SELECT e.target_id, e.at_ms, e.kind, b.value, a.value FROM change_event e"
            " JOIN string a ON a.id = e.after_id LEFT JOIN string b ON b.id = e.before_id"
            " WHERE e.kind IN ('served_model', 'fingerprint')"
            " AND e.at_ms >= ? AND e.at_ms < ? ORDER BY e.at_ms, e.id",
            (since, until),
        )
        events = [
            DriftEvent(*self._name(target_id), from_ms(at), kind, before, after)
            for target_id, at, kind, before, after in rows
        ]
        return sorted(events, key=lambda e: (e.at, e.provider, e.model, e.kind))

    def _string(self, string_id: int) -> str:
        row = self.conn.execute("SELECT value FROM string WHERE id = ?", (string_id,)).fetchone()
        return str(row[0])

    @translated
    def ratelimit_ceilings(self, window: Window) -> dict[ModelKey, list[RateLimitPoint]]:
        """The ceilings in effect when the window starts (at its start), then each change
        of a ceiling header inside it."""
        since, until = _bounds(window)
        in_effect = self.conn.execute(
            "SELECT e.target_id, max(e.at_ms), s.value FROM change_event e"
            " JOIN string s ON s.id = e.after_id"
            " WHERE e.kind = 'ratelimit' AND e.at_ms < ? GROUP BY e.target_id",
            (since,),
        )
        changes = self.conn.execute(
            "SELECT e.target_id, e.at_ms, s.value FROM change_event e"
            " JOIN string s ON s.id = e.after_id"
            " WHERE e.kind = 'ratelimit' AND e.at_ms >= ? AND e.at_ms < ? ORDER BY e.at_ms, e.id",
            (since, until),
        )
        seen: dict[ModelKey, dict[str, float]] = defaultdict(dict)
        points: dict[ModelKey, list[RateLimitPoint]] = {}
        for target_id, at, text in (*((t, since, v) for t, _, v in in_effect), *changes):
            key = self._name(target_id)
            for header, value in sorted(json.loads(text).items()):
                limit = _number(value)
                if limit is None or seen[key].get(header) == limit:
                    continue
                seen[key][header] = limit
                points.setdefault(key, []).append(RateLimitPoint(from_ms(at), header, limit))
        return dict(sorted(points.items()))


# --- helpers shared with the store ------------------------------------------------------------


def last_ok_ms_before(conn: sqlite3.Connection, target_id: int, before: int) -> int | None:
    """The last successful availability attempt (raw or rolled up) before `before`."""
    row = conn.execute("SELECT last_ok_ms FROM target WHERE id = ?", (target_id,)).fetchone()
    if row is None or row[0] is None:
        return None
    if row[0] < before:
        return int(row[0])
    found = [
        conn.execute(
            "SELECT max(started_ms) FROM attempt WHERE target_id = ? AND kind = ?"
            " AND error_class = ? AND started_ms < ?",
            (target_id, kind.value, cls.value, before),
        ).fetchone()[0]
        for kind in AVAILABILITY_KINDS
        for cls in SUCCESS_CLASSES
    ]
    found.append(
        conn.execute(
            "SELECT max(min(last_ms, :before - 1)) FROM rollup"
            " WHERE target_id = :target AND hour_ms < :before"
            " AND kind IN (SELECT value FROM json_each(:kinds))"
            " AND error_class IN (SELECT value FROM json_each(:ok))",
            {"target": target_id, "before": before, "ok": OK_CLASSES, "kinds": COUNTED_KINDS},
        ).fetchone()[0]
    )
    known = [v for v in found if v is not None]
    return max(known) if known else None


def last_ok_before(conn: sqlite3.Connection, target_id: int, before: int) -> datetime | None:
    return _at(last_ok_ms_before(conn, target_id, before))


def _merge(hists: dict[_Key, buckets.Histogram], key: _Key, hist: buckets.Histogram) -> None:
    found = hists.get(key)
    if found is None:
        hists[key] = hist
    else:
        found.update(hist)


def _bounds(window: Window) -> tuple[int, int]:
    return ms(window.since), ms(window.until)


def _regions(window: Window) -> str | None:
    """The window's regions as a JSON array to bind, or None for every region."""
    return json.dumps(sorted(window.regions)) if window.regions else None


def _at(value: int | None) -> datetime | None:
    return None if value is None else from_ms(value)


def _number(text: str) -> float | None:
    """A rate-limit header's value as a number (a finite one: `NaN` is no ceiling)."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
