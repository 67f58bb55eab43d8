"""`SqliteHistory`: the `HistoryReader` over the SQLite store.

Windows are half-open, [since, until). Counting follows `history.counts_as` exactly: the
SQL groups attempts by (model, kind, error class, run inconclusive?) and Python applies the
rule to the few hundred groups, so the rule lives in one place. The whole UTC days of a
window are read from the daily sums kept as attempts are written (`daily`), and so is a
partial day whose attempts all fall inside the window (the last day of a window ending
now); only where the window cuts through a day's attempts are they read themselves, in
one pass along the time index. Rolled-up hours count in a window when the hour starts
inside it. A month's report thus reads a few rows per model and day, and at most a day of
attempts, however many attempts the month holds.

Percentiles follow `store.buckets`: where the window holds a whole day or a rolled-up hour,
they are bucketed (within 3 %), from the daily (and hourly) histograms merged with the
histograms of the raw samples around them, so a day's histogram is the mergeable sketch of
its latencies; a window with neither gives them exact (nearest rank), from the raw samples.
A timeline's buckets follow the same rule. Incidents are kept as verdicts are written
(`incidents`).
"""

from __future__ import annotations

import itertools
import json
import math
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from modelaudit.history import (
    AVAILABILITY_KINDS,
    SUCCESS_CLASSES,
    UNDECIDED,
    CatalogChange,
    DriftEvent,
    Incident,
    ModelHistory,
    ModelKey,
    Percentiles,
    RateLimitPoint,
    RegionHistory,
    Streak,
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


@dataclass(slots=True)
class _Tally:
    """Counts of one model (or one model's bucket) as attempts are added."""

    ok: int = 0
    failed: int = 0
    excluded: int = 0
    classes: Counter[ErrorClass] | None = None
    """Made on the first count by class (a timeline's hundreds of thousands of buckets
    never need one)."""
    first: int | None = None
    last: int | None = None
    last_ok: int | None = None

    def add(self, row: tuple[str, str, int, int, int | None, int | None]) -> None:
        """One group of attempts: kind, class, how many, how many in inconclusive runs,
        first and last start (None where a timeline does not need them)."""
        kind, error_class, n, inconclusive, first, last = row
        self.count_class(error_class, n)
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

    def add_day(self, first: int, last: int, last_ok: int | None) -> None:
        """A stored day's first and last start (never NULL) and its last success (NULL
        for a day without one), compared inline: a month of 10,000 models has 300,000."""
        if self.first is None or first < self.first:
            self.first = first
        if self.last is None or last > self.last:
            self.last = last
        if last_ok is not None and (self.last_ok is None or last_ok > self.last_ok):
            self.last_ok = last_ok

    def count_class(self, error_class: str, n: int) -> None:
        if self.classes is None:
            self.classes = Counter()
        self.classes[_CLASSES[error_class]] += n


def _earliest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass(frozen=True)
class _Sample:
    """Which attempts a percentile is taken over: successes of one kind, one metric."""

    kind: ProbeKind
    metric: Literal["latency", "ttft"]


LATENCY = _Sample(ProbeKind.COMPLETION, "latency")
TTFT = _Sample(ProbeKind.STREAM, "ttft")
_VERDICTS = {v.value: v for v in Verdict}
_Key = tuple[int, int]
"""(target id, bucket number)."""
# SQL naming a table (`rollup` or `daily`, from the `Table` constants) or joining these
# fragments carries `noqa: S608`: values are always bound, never part of the text.
# One pass over the attempts of a span: counts per (model, bucket, kind, class), how many
# of them in inconclusive runs (`:inconclusive`, their ids), first and last start, and the
# successful samples of each metric as JSON arrays.
_RAW = (
    "SELECT target_id, (started_ms - :origin) / :width, kind, error_class, count(*),"
    " sum(run_id IN (SELECT value FROM json_each(:inconclusive))),"
    " min(started_ms), max(started_ms),"
    " json_group_array(latency_ms) FILTER (WHERE kind = 'completion'"
    "  AND error_class IN (SELECT value FROM json_each(:ok)) AND latency_ms IS NOT NULL),"
    " json_group_array(ttft_ms) FILTER (WHERE kind = 'stream'"
    "  AND error_class IN (SELECT value FROM json_each(:ok)) AND ttft_ms IS NOT NULL)"
    " FROM attempt WHERE started_ms >= :since AND started_ms < :until GROUP BY 1, 2, 3, 4"
)


_PARSED_CLASSES = 4096
"""Distinct class counts a read of days keeps parsed."""
_DAYS = (
    "SELECT target_id, day_ms, ok, failed, excluded, first_ms, last_ms, last_ok_ms, classes,"
    " latency_hist, ttft_hist, latency_p50, latency_p95, ttft_p50 FROM daily_model"
    " WHERE day_ms >= :since AND day_ms < :until"
)
"""Each model's day starting in the span (`daily_model`), in the table's order."""


@dataclass
class _Read:
    """What a window holds per (model, bucket): its counts, and each metric's samples:
    stored histograms and raw samples, merged into percentiles at the end (exact when
    the window holds no day or hour that was summed, bucketed otherwise)."""

    exact: bool
    summary: bool = True
    """Whether the counts per class and the first and last starts are wanted (a summary),
    or the counts only (a timeline's buckets)."""
    tallies: dict[_Key, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    marks: dict[_Key, list[float | None]] = field(default_factory=dict)
    """A timeline's day-wide buckets read whole from a model's day: its latency p50 and
    p95 and TTFT p50, as kept."""
    stored: dict[str, dict[_Key, list[buckets.Stored | str]]] = field(
        default_factory=lambda: {"latency": defaultdict(list), "ttft": defaultdict(list)}
    )
    raw: dict[str, dict[_Key, list[float]]] = field(
        default_factory=lambda: {"latency": defaultdict(list), "ttft": defaultdict(list)}
    )

    def percentiles(self, metric: Literal["latency", "ttft"]) -> dict[_Key, Percentiles]:
        stored, raw = self.stored[metric], self.raw[metric]
        found: dict[_Key, Percentiles] = {}
        if self.exact:
            for key, values in raw.items():
                found[key] = buckets.from_sorted(sorted(values))
        else:
            for key, arrays in stored.items():
                samples = raw.get(key)
                found[key] = buckets.from_stored(
                    arrays, buckets.histogram(samples) if samples else None
                )
            for key, samples in raw.items():
                if key not in stored and samples:
                    found[key] = buckets.from_histogram(buckets.histogram(samples))
        return {key: p for key, p in found.items() if p.n}


UNDECIDED_VALUES = json.dumps(sorted(v.value for v in UNDECIDED))
# Each model's decisive verdicts of a window per region, newest first: the join walks the
# window's runs by start (run_started) and each run's verdicts by key; SQLite sorts the
# rows (a few hundred thousand in a month's last two days) far faster than it evaluates
# window functions over them, and `_streaks` reads each streak off in one pass.
_DECISIVE = (
    "SELECT v.target_id, r.region, r.started_ms, r.id, v.verdict"
    " FROM run r JOIN verdict v ON v.run_id = r.id"
    " WHERE r.started_ms >= :since AND r.started_ms < :until"
    " AND v.verdict NOT IN (SELECT value FROM json_each(:undecided))"
    " AND (:regions IS NULL OR r.region IN (SELECT value FROM json_each(:regions)))"
    " AND (:targets IS NULL OR v.target_id IN (SELECT value FROM json_each(:targets)))"
    " ORDER BY v.target_id, r.region, r.started_ms DESC, r.id DESC"
)


def _streaks(rows: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """(target, region, newest run, its start, its verdict, the streak's first start,
    its runs) per model and region, from `_DECISIVE`'s rows: `history.streaks_of`'s
    rule, read newest first."""
    found: list[tuple[Any, ...]] = []
    key: tuple[int, str] | None = None
    newest: tuple[int, int, str] = (0, 0, "")
    since, runs, broken = 0, 0, False
    for t, region, at, run, verdict in rows:
        if (t, region) != key:
            if key is not None:
                found.append((*key, *newest, since, runs))
            key, newest, since, runs, broken = (t, region), (run, at, verdict), at, 0, False
        if broken:
            continue
        if verdict == newest[2]:
            since, runs = at, runs + 1
        else:
            broken = True
    if key is not None:
        found.append((*key, *newest, since, runs))
    return found


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


@dataclass
class _DayMarks:
    """What a timeline of day-wide buckets takes from each model's day, kept column by
    column (compact arrays) while a summary reads the same days, so the timeline needs
    no second pass over them."""

    targets: array[int] = field(default_factory=lambda: array("q"))
    days: array[int] = field(default_factory=lambda: array("q"))
    counts: array[int] = field(default_factory=lambda: array("q"))
    """ok, failed, excluded, three per day."""
    percentiles: array[float] = field(default_factory=lambda: array("d"))
    """latency p50, p95, TTFT p50, three per day; NaN for none."""

    def into(self, read: _Read, origin: int) -> None:
        counts, found, tallies, marks = self.counts, self.percentiles, read.tallies, read.marks
        isnan = math.isnan
        for i, (target, day) in enumerate(zip(self.targets, self.days, strict=True)):
            key = (target, (day - origin) // DAY_MS)
            tally = tallies[key]
            at = 3 * i
            tally.ok += counts[at]
            tally.failed += counts[at + 1]
            tally.excluded += counts[at + 2]
            p50, p95, t50 = found[at], found[at + 1], found[at + 2]
            marks[key] = [
                None if isnan(p50) else p50,
                None if isnan(p95) else p95,
                None if isnan(t50) else t50,
            ]


class SqliteHistory:
    """Implements `modelaudit.store.base.HistoryReader`."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._names: dict[int, ModelKey] | None = None
        self._raw_cache: dict[tuple[int, int], list[tuple[Any, ...]]] = {}
        self._marks: dict[tuple[int, int], _DayMarks] = {}
        self._reads: dict[_Grid, _Read] = {}

    def _name(self, target_id: int) -> ModelKey:
        """A target's (provider, model). A damaged database (`db check` flags it) may hold
        rows of a target it lost: they are reported as `(unknown)`/`target #N`, never a
        crash, and never merged with another model."""
        if self._names is None or target_id not in self._names:
            self._names = self._names_of()
        return self._names.setdefault(target_id, (UNKNOWN_PROVIDER, f"target #{target_id}"))

    def _names_of(self) -> dict[int, ModelKey]:
        return {
            row[0]: (row[1], row[2])
            for row in self.conn.execute("SELECT id, provider, model FROM target")
        }

    # --- per-model summary ----------------------------------------------------------------

    @translated
    def models(self, window: Window) -> list[ModelHistory]:
        since, until = _bounds(window)
        grid = _Grid.whole(since, until)
        tallies, latency, ttft = self._counted(grid, window)
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
                    error_classes=dict(tally.classes or {}),
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
        marks: dict[_Key, list[float | None]] = {}
        if self._filtered(window):
            tallies, latency, ttft = self._of_regions(grid, window.regions)
        else:
            read = self._read(grid, summary=False)
            tallies, marks = read.tallies, read.marks
            latency, ttft = read.percentiles("latency"), read.percentiles("ttft")
        by_target: dict[int, list[int]] = defaultdict(list)
        for target_id, group_no in tallies:
            by_target[target_id].append(group_no)
        starts: dict[int, datetime] = {}
        timelines: dict[ModelKey, list[TimelinePoint]] = {}
        for target_id in sorted(by_target, key=self._name):
            points = timelines[self._name(target_id)] = []
            for group_no in sorted(by_target[target_id]):
                key = (target_id, group_no)
                tally = tallies[key]
                start = starts.get(group_no)
                if start is None:
                    start = starts[group_no] = from_ms(grid.start(group_no))
                mark = marks.get(key)
                if mark is None:
                    p, f = latency.get(key), ttft.get(key)
                    mark = [p.p50 if p else None, p.p95 if p else None, f.p50 if f else None]
                # start, ok, failed, excluded, latency p50 and p95, TTFT p50: positional, as
                # keywords cost a fifth more over a month's 300,000 points
                points.append(
                    TimelinePoint(
                        start, tally.ok, tally.failed, tally.excluded, mark[0], mark[1], mark[2]
                    )
                )
        return timelines

    def _counted(
        self, grid: _Grid, window: Window
    ) -> tuple[dict[_Key, _Tally], dict[_Key, Percentiles], dict[_Key, Percentiles]]:
        if self._filtered(window):
            return self._of_regions(grid, window.regions)
        read = self._read(grid)
        return read.tallies, read.percentiles("latency"), read.percentiles("ttft")

    def _filtered(self, window: Window) -> bool:
        """Whether the window asks for some regions only, and runs of others are in it (a
        store whose runs are all of the regions asked for is read whole, from its sums)."""
        if not window.regions:
            return False
        since, until = _bounds(window)
        return not set(self._regions_between(since, until)) <= window.regions

    def _regions_between(self, since: int, until: int) -> list[str]:
        """The regions of the runs with attempts in [since, until)."""
        return [
            row[0]
            for row in self.conn.execute(
                "SELECT DISTINCT region FROM run WHERE started_ms < ?"
                " AND coalesce(last_attempt_ms, finished_ms, started_ms) >= ?",
                (until, since),
            )
        ]

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
            region
            for region in self._regions_between(since, until)
            if not window.regions or region in window.regions
        ]
        if len(seen) == 1:
            only = Window(window.since, window.until, frozenset(seen))
            if not self._filtered(only):  # the store holds this region's runs only
                return self._one_region(seen[0], since, until)
            return [
                RegionHistory(
                    m.provider, m.model, seen[0], m.ok, m.failed, m.excluded, m.last_seen, m.last_ok
                )
                for m in self.models(only)
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
            self._region_history(target_id, region, t, t.last_ok)
            for (target_id, region), t in tallies.items()
        ]
        return sorted(found, key=lambda r: (r.provider, r.model, r.region))

    def _one_region(self, region: str, since: int, until: int) -> list[RegionHistory]:
        """The counts of a window every run of which is of `region`: from the sums (no
        percentiles), as a summary gives them."""
        tallies = self._read(_Grid.whole(since, until)).tallies
        found = []
        for (target_id, _), t in tallies.items():
            last_ok = t.last_ok or last_ok_ms_before(self.conn, target_id, since)
            found.append(self._region_history(target_id, region, t, last_ok))
        return sorted(found, key=lambda r: (r.provider, r.model))

    def _region_history(
        self, target_id: int, region: str, t: _Tally, last_ok: int | None
    ) -> RegionHistory:
        return RegionHistory(
            *self._name(target_id), region, t.ok, t.failed, t.excluded, _at(t.last), _at(last_ok)
        )

    def _read(self, grid: _Grid, *, summary: bool = True) -> _Read:
        """`_reads_of`, a summary kept for the next read of the same grid (a window's summary
        and its regions)."""
        if not summary:  # a timeline is read once; its hundreds of thousands of buckets go
            return self._reads_of(grid, summary=False)
        found = self._reads.get(grid)
        if found is None:
            found = self._reads[grid] = self._reads_of(grid, summary=True)
        return found

    def _reads_of(self, grid: _Grid, *, summary: bool) -> _Read:
        """The window's whole UTC days from the daily sums, the hours around them from the
        attempts (and the hours `db prune` rolled up). A partial day whose attempts all fall
        inside the window (the usual last day of a window ending now) is read from its sums
        too: the attempts are read only where the window cuts through a day's."""
        parts = grid.parts()
        with_days = any(from_days for _, from_days in parts)
        read = _Read(exact=not with_days and not self._rolled_up(grid), summary=summary)
        for part, from_days in parts:
            if from_days:
                self._days(part, read)
                continue
            whole = self._whole_day(part, grid) if with_days else None
            if whole is not None:
                self._days(whole, read)
                continue
            self._raw(part, read)
            for target_id, group_no, *counts in self._summed(part, ROLLUP):
                read.tallies[(target_id, group_no)].add(tuple(counts))
            for sample in (LATENCY, TTFT):
                for key, found in self._histogram_rows(part, sample, ROLLUP):
                    read.stored[sample.metric][key].append(found)
        return read

    def _rolled_up(self, grid: _Grid) -> bool:
        row = self.conn.execute(
            "SELECT EXISTS (SELECT 1 FROM rollup WHERE hour_ms >= ? AND hour_ms < ?)",
            (grid.since, grid.until),
        ).fetchone()
        return bool(row[0])

    def _whole_day(self, part: _Grid, grid: _Grid) -> _Grid | None:
        """The day holding `part` (an edge of `grid` shorter than a day), as a span read
        from the daily sums into `part`'s bucket, when every attempt of that day is inside
        the window; else None."""
        day = part.since - part.since % DAY_MS
        if part.until > day + DAY_MS:
            return None
        first, last = self.conn.execute(
            "SELECT min(first_ms), max(last_ms) FROM daily_model WHERE day_ms = ?", (day,)
        ).fetchone()
        if first is None or first < grid.since or last >= grid.until:
            return None
        number = (part.since - grid.origin) // grid.width
        return _Grid(day, day + DAY_MS, day - number * grid.width, grid.width)

    def _days(self, part: _Grid, read: _Read) -> None:
        """Counts and histograms of the days starting in the span, from each model's day,
        streamed: a month of 10,000 models is 300,000 rows, none of them kept whole. A
        summary keeps each day's histogram text to merge, and what a timeline of the same
        days will draw (`_DayMarks`); a timeline of day-wide buckets takes each day's
        counts and percentiles as they are kept."""
        origin, width = part.origin, part.width
        by_day = width == DAY_MS and origin % DAY_MS == 0
        kept = self._marks.get((part.since, part.until))
        if not read.summary and by_day and kept is not None:
            kept.into(read, origin)
            return
        tallies, latency, ttft = read.tallies, read.stored["latency"], read.stored["ttft"]
        marks = _DayMarks() if read.summary else None
        if marks is not None:  # bound once: the loop below runs once per model and day
            mark_target, mark_day = marks.targets.append, marks.days.append
            mark_counts, mark_percentiles = marks.counts.extend, marks.percentiles.extend
        nan = math.nan
        # A day's classes are a small JSON object, and most days of a model (and of its
        # neighbours) count the same: each text is parsed once.
        parsed: dict[str, tuple[tuple[ErrorClass, int], ...]] = {}
        rows = self.conn.execute(_DAYS, {"since": part.since, "until": part.until})
        for t, day, ok, failed, excluded, first, last, last_ok, classes, lat, ttf, *kept_p in rows:
            key = (t, (day - origin) // width)
            tally = tallies[key]
            tally.ok += ok
            tally.failed += failed
            tally.excluded += excluded
            if marks is not None:
                mark_target(t)
                mark_day(day)
                mark_counts((ok, failed, excluded))
                p50, p95, t50 = kept_p
                mark_percentiles(
                    (
                        nan if p50 is None else p50,
                        nan if p95 is None else p95,
                        nan if t50 is None else t50,
                    )
                )
                tally.add_day(first, last, last_ok)
                counted = parsed.get(classes)
                if counted is None:
                    if len(parsed) >= _PARSED_CLASSES:
                        parsed.clear()
                    counted = parsed[classes] = tuple(
                        (_CLASSES[cls], n) for cls, n in json.loads(classes).items()
                    )
                found = tally.classes
                if found is None:
                    found = tally.classes = Counter()
                for cls_n in counted:
                    found[cls_n[0]] += cls_n[1]
            elif by_day:
                read.marks[key] = kept_p
                continue
            if lat:
                latency[key].append(lat)
            if ttf:
                ttft[key].append(ttf)
        if marks is not None:
            self._marks[(part.since, part.until)] = marks

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

    def _raw(self, part: _Grid, read: _Read) -> None:
        """The attempts of the span, in one pass along the time index: counts, and the
        successful samples of each metric. A span inside one bucket (a window's edge) is
        read once for the reads of the window (its summary, regions and timeline)."""
        numbers = part.numbers
        if len(numbers) == 1:
            rows = self._raw_cache.get((part.since, part.until))
            if rows is None:
                whole = _Grid(part.since, part.until, part.since, part.until - part.since)
                rows = self._raw_cache[(part.since, part.until)] = self._raw_rows(whole)
            rows = [(t, numbers[0], *rest) for t, _, *rest in rows]
        else:
            rows = self._raw_rows(part)
        for target_id, group_no, *counts, latency, ttft in rows:
            key = (target_id, group_no)
            read.tallies[key].add(tuple(counts))
            if latency != "[]":
                read.raw["latency"][key] += json.loads(latency)
            if ttft != "[]":
                read.raw["ttft"][key] += json.loads(ttft)

    def _raw_rows(self, part: _Grid) -> list[tuple[Any, ...]]:
        params = {**part.params, "ok": OK_CLASSES, "inconclusive": self._inconclusive(part)}
        return self.conn.execute(_RAW, params).fetchall()

    def _inconclusive(self, part: _Grid) -> str:
        """The runs marked inconclusive (this machine was offline) with attempts in the span,
        as a JSON array to bind: their attempts count as excluded. Such runs are rare."""
        return json.dumps(
            [
                row[0]
                for row in self.conn.execute(
                    "SELECT id FROM run WHERE status = 'inconclusive' AND started_ms < ?"
                    " AND coalesce(last_attempt_ms, finished_ms, started_ms) >= ?",
                    (part.until, part.since),
                )
            ]
        )

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
    def streaks(self, window: Window, models: frozenset[ModelKey] = frozenset()) -> list[Streak]:
        since, until = _bounds(window)
        targets = None
        if models:
            ids = {key: target_id for target_id, key in self._names_of().items()}
            targets = json.dumps(sorted(ids[key] for key in models if key in ids))
        rows = self.conn.execute(
            _DECISIVE,
            {
                "since": since,
                "until": until,
                "regions": _regions(window),
                "targets": targets,
                "undecided": UNDECIDED_VALUES,
            },
        )
        found = []
        for t, region, run, at, verdict, first, runs in _streaks(rows):
            (reason,) = self.conn.execute(
                "SELECT reason FROM verdict WHERE run_id = ? AND target_id = ?", (run, t)
            ).fetchone()
            point = VerdictPoint(run, from_ms(at), _VERDICTS[verdict], reason, region)
            found.append(Streak(*self._name(t), point, from_ms(first), runs))
        return sorted(found, key=lambda s: (s.provider, s.model, s.region))

    @translated
    def run_starts(self, window: Window) -> list[datetime]:
        since, until = _bounds(window)
        return [
            from_ms(row[0])
            for row in self.conn.execute(
                "SELECT DISTINCT r.started_ms FROM run r WHERE r.started_ms >= :since"
                " AND r.started_ms < :until AND EXISTS (SELECT 1 FROM verdict v"
                "  WHERE v.run_id = r.id)"
                " AND (:regions IS NULL OR r.region IN (SELECT value FROM json_each(:regions)))"
                " ORDER BY 1",
                {"since": since, "until": until, "regions": _regions(window)},
            )
        ]

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
    """The last successful availability attempt (raw or rolled up) before `before`: the
    day of `before` from its attempts and rolled-up hours, the days before it from each
    model's day (newest first, one key seek each)."""
    row = conn.execute(
        "SELECT last_ok_ms, first_seen_ms FROM target WHERE id = ?", (target_id,)
    ).fetchone()
    if row is None or row[0] is None:
        return None
    if row[0] < before:
        return int(row[0])
    day = before - before % DAY_MS
    ok = {"target": target_id, "ok": OK_CLASSES, "kinds": COUNTED_KINDS}
    found = conn.execute(
        "SELECT max(started_ms) FROM attempt WHERE started_ms >= :day AND started_ms < :before"
        " AND target_id = :target AND kind IN (SELECT value FROM json_each(:kinds))"
        " AND error_class IN (SELECT value FROM json_each(:ok))",
        {**ok, "day": day, "before": before},
    ).fetchone()[0]
    rolled = conn.execute(
        "SELECT max(min(last_ms, :before - 1)) FROM rollup"
        " WHERE target_id = :target AND hour_ms >= :day AND hour_ms < :before"
        " AND kind IN (SELECT value FROM json_each(:kinds))"
        " AND error_class IN (SELECT value FROM json_each(:ok))",
        {**ok, "day": day, "before": before},
    ).fetchone()[0]
    known = [int(v) for v in (found, rolled) if v is not None]
    if known:
        return max(known)
    first_day = (row[1] or 0) - (row[1] or 0) % DAY_MS
    while day > first_day:
        day -= DAY_MS
        last = conn.execute(
            "SELECT last_ok_ms FROM daily_model WHERE day_ms = ? AND target_id = ?",
            (day, target_id),
        ).fetchone()
        if last is not None and last[0] is not None:
            return int(last[0])
    return None


def last_ok_before(conn: sqlite3.Connection, target_id: int, before: int) -> datetime | None:
    return _at(last_ok_ms_before(conn, target_id, before))


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
