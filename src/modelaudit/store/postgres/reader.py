"""`PostgresHistory`: the `HistoryReader` over the PostgreSQL store.

A window is read as its whole UTC days, from the daily sums (one row per model and day for
every region together, or per region when the report asks by region; a day not closed yet
has its regions' rows added up in SQL instead: `closing`), and the hours
before and after them; a partial day whose attempts all fall inside the window (the last
day of a window ending now) is read from its sums too, and only where the window cuts
through a day's attempts are they read themselves, in one pass shared by the reads of
the same window. So a month's report reads a few rows per model and day, and at most a
day of attempts, however many attempts and agents there were: its cost follows the
models and the days, not the attempts.

Counting follows `history.counts_as`. Percentiles follow `store.buckets`: where the window
holds whole days (or rolled-up hours) they are bucketed (within 3 %), merged from the daily
histograms (each day's mergeable sketch of its latencies) and the raw samples of the
edges; a window with neither gives them exact (nearest rank), from the raw samples.
"""

from __future__ import annotations

import itertools
import json
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
    Percentiles,
    RateLimitPoint,
    RegionHistory,
    Streak,
    TimelinePoint,
    VerdictPoint,
    counts_as,
)
from modelaudit.store import buckets
from modelaudit.store.incidents import INCIDENT_VERDICTS
from modelaudit.store.postgres import closing, db, sums
from modelaudit.store.postgres.store import LAST_OK, from_ms, ms
from modelaudit.store.postgres.sums import ALL_REGIONS, DAY_MS
from modelaudit.vocabulary import ErrorClass, ProbeKind, Verdict

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime, timedelta

    import psycopg

    from modelaudit.history import ModelKey, Window
    from modelaudit.store.postgres.labels import Labels
    from modelaudit.store.postgres.store import PostgresStore

_COUNTED = {c.value: counts_as(c) for c in ErrorClass}
# Per model and region, its decisive verdicts newest first (`back` 1, 2, ...), the newest's
# verdict, and the streak: how many rows from the newest on share its verdict. Only the
# newest row and the streak's first come out (`history.streaks_of` is the rule).
_STREAKS = (
    "SELECT t, region_id, back, run, at, verdict, s.value, runs FROM ("
    " SELECT *, coalesce(min(CASE WHEN verdict <> newest THEN back END) OVER p - 1,"
    "  count(*) OVER p) AS runs FROM ("
    "  SELECT v.target_id AS t, r.region_id, r.started_ms AS at, v.run_id AS run,"
    "   v.verdict, v.reason_id,"
    "   row_number() OVER newest_first AS back,"
    "   first_value(v.verdict) OVER newest_first AS newest"
    "  FROM run r JOIN verdict v ON v.run_id = r.id"
    "  WHERE r.started_ms >= %(since)s AND r.started_ms < %(until)s"
    "  AND v.verdict <> ALL(%(undecided)s)"
    "  AND (%(all)s OR r.region_id = ANY(%(regions)s))"
    "  AND (%(any_target)s OR v.target_id = ANY(%(targets)s))"
    "  WINDOW newest_first AS (PARTITION BY v.target_id, r.region_id"
    "   ORDER BY r.started_ms DESC, r.id DESC)) AS ranked"
    " WINDOW p AS (PARTITION BY t, region_id)) AS streak JOIN string s ON s.id = reason_id"
    " WHERE back = 1 OR back = runs"
)
# Served-model and fingerprint changes; agents detect them per region, so the same change
# seen by several regions in turn (no other change of the model between) is one event.
_DRIFT = (
    "SELECT e.target_id, e.at_ms, e.kind, b.value, a.value FROM ("
    " SELECT *, lag(before_id) OVER w AS seen_before, lag(after_id) OVER w AS seen_after"
    " FROM change_event"
    " WHERE kind IN ('served_model', 'fingerprint') AND at_ms < %s"
    " WINDOW w AS (PARTITION BY target_id, kind ORDER BY at_ms, id)) AS e"
    " JOIN string a ON a.id = e.after_id LEFT JOIN string b ON b.id = e.before_id"
    " WHERE e.at_ms >= %s AND (e.seen_before IS DISTINCT FROM e.before_id"
    " OR e.seen_after IS DISTINCT FROM e.after_id) ORDER BY e.at_ms, e.id"
)
_AVAILABILITY = frozenset(k.value for k in AVAILABILITY_KINDS)
_SUCCESS = frozenset(c.value for c in SUCCESS_CLASSES)
_KEPT = ", latency_p50_bucket, latency_p95_bucket, ttft_p50_bucket"
"""The percentiles' buckets each daily row keeps (schema 3)."""
_Key = tuple[int, int, int]
"""(target id, bucket number, region id: ALL_REGIONS unless read per region)."""


@dataclass
class _Acc:
    ok: int = 0
    failed: int = 0
    excluded: int = 0
    first: int | None = None
    last: int | None = None
    last_ok: int | None = None
    classes: Counter[str] = field(default_factory=Counter)
    latency: list[bytes] = field(default_factory=list)
    """Stored histograms (`sums.encoded`) to merge, then the raw samples' (a timeline point
    that takes its row's kept percentiles never decodes them)."""
    ttft: list[bytes] = field(default_factory=list)
    exact_latency: list[float] = field(default_factory=list)
    exact_ttft: list[float] = field(default_factory=list)
    rows: int = 0
    """Period rows added (a timeline's day read whole from one row can take its kept
    percentiles)."""
    kept: tuple[int | None, int | None, int | None] | None = None
    """The one row's buckets of latency p50, p95 and TTFT p50, as `daily` keeps them."""

    def add_counts(
        self,
        ok: int,
        failed: int,
        excluded: int,
        first: int | None,
        last: int | None,
        last_ok: int | None,
    ) -> None:
        """Add a period row's counts and its first, last and last successful start."""
        self.ok += ok
        self.failed += failed
        self.excluded += excluded
        self.times(first, last, last_ok)

    def times(self, first: int | None, last: int | None, last_ok: int | None) -> None:
        self.first = _pick(min, self.first, first)
        self.last = _pick(max, self.last, last)
        self.last_ok = _pick(max, self.last_ok, last_ok)

    def add_row(self, kept: tuple[Any, ...], latency: Any, ttft: Any) -> None:
        """A period row: its kept percentiles' buckets are taken when it is the bucket's
        only row and they agree with its histograms (a row that keeps none, e.g. summed
        at read time, is merged instead)."""
        self.rows += 1
        usable = len(kept) == 3 and (kept[0] is None) == (not latency)
        usable = usable and (kept[2] is None) == (not ttft)
        self.kept = (kept[0], kept[1], kept[2]) if self.rows == 1 and usable else None

    def marks(self, exact: bool) -> tuple[float | None, float | None, float | None]:
        """Latency p50 and p95 and TTFT p50 for a timeline point: the kept ones of the
        bucket's one daily row when that is all it holds (the same buckets a merge of its
        histogram gives), else merged."""
        if self.kept is not None and not exact and not self.exact_latency and not self.exact_ttft:
            return _value(self.kept[0]), _value(self.kept[1]), _value(self.kept[2])
        latency, ttft = self.percentiles("latency", exact), self.percentiles("ttft", exact)
        return latency.p50, latency.p95, ttft.p50

    def percentiles(self, metric: Literal["latency", "ttft"], exact: bool) -> Percentiles:
        samples = self.exact_latency if metric == "latency" else self.exact_ttft
        if exact:
            return buckets.from_sorted(sorted(samples))
        stored = self.latency if metric == "latency" else self.ttft
        flat = [h for h in map(sums.decoded, stored) if h]
        return buckets.from_stored(flat, buckets.histogram(samples) if samples else None)


def _value(bucket: int | None) -> float | None:
    return None if bucket is None else buckets.bucket_value(bucket)


def _pick(how: Any, a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else how(a, b)


@dataclass(frozen=True)
class _Grid:
    """A window cut into buckets, as `store/sqlite/reader.py` cuts it."""

    since: int
    until: int
    origin: int
    width: int

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

    def parts(self) -> list[tuple[_Grid, bool]]:
        """Whole UTC days (True: read from the daily sums) and the edges around them."""
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


class PostgresHistory:
    """Implements `modelaudit.store.base.HistoryReader`."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store
        self.address = store.address
        self.labels: Labels = store.labels
        self._names: dict[int, ModelKey] = {}
        self._spans: dict[tuple[int, int, tuple[int, ...] | None], list[tuple[Any, ...]]] = {}
        """The attempts of a span cut by the window, as `_raw_rows` read them."""
        self._periods: dict[tuple[str, int, int, tuple[int, ...] | None], list[tuple[Any, ...]]]
        self._periods = {}
        """The stored histograms of a span, as `_period_rows` read them."""

    def _name(self, conn: psycopg.Connection[Any], target_id: int) -> ModelKey:
        if target_id not in self._names:
            self._names = self._names_of(conn)
        return self._names[target_id]

    def _names_of(self, conn: psycopg.Connection[Any]) -> dict[int, ModelKey]:
        return {
            row[0]: (row[1], row[2])
            for row in conn.execute("SELECT id, provider, model FROM target")
        }

    def _ids(self, words: Iterable[str]) -> list[int]:
        return [self.labels.ids[w] for w in words if w in self.labels.ids]

    # --- counts and percentiles --------------------------------------------------------------

    @db.translated
    def models(self, window: Window) -> list[ModelHistory]:
        since, until = ms(window.since), ms(window.until)
        grid = _Grid(since, until, since, until - since + 1)
        with self.store.pool.connection() as conn:
            accs, exact = self._read(conn, grid, window.regions, by_region=False)
            found = []
            for (target_id, _, _), acc in accs.items():
                provider, model = self._name(conn, target_id)
                last_ok = acc.last_ok
                if last_ok is None:
                    last_ok = last_ok_ms_before(conn, self.labels, target_id, since, window.regions)
                found.append(
                    ModelHistory(
                        provider=provider,
                        model=model,
                        ok=acc.ok,
                        failed=acc.failed,
                        excluded=acc.excluded,
                        latency=acc.percentiles("latency", exact),
                        ttft=acc.percentiles("ttft", exact),
                        error_classes={ErrorClass(c): n for c, n in acc.classes.items() if n},
                        first_seen=_at(acc.first),
                        last_seen=_at(acc.last),
                        last_ok=_at(last_ok),
                    )
                )
        return sorted(found, key=lambda h: (h.provider, h.model))

    @db.translated
    def timelines(self, window: Window, bucket: timedelta) -> dict[ModelKey, list[TimelinePoint]]:
        since, until = ms(window.since), ms(window.until)
        width = max(1, round(bucket.total_seconds() * 1000))
        grid = _Grid(since, until, since - since % width, width)
        timelines: dict[ModelKey, list[TimelinePoint]] = {}
        with self.store.pool.connection() as conn:
            accs, exact = self._read(conn, grid, window.regions, by_region=False, summary=False)
            starts: dict[int, datetime] = {}
            for (target_id, g, _), acc in sorted(accs.items()):
                latency_p50, latency_p95, ttft_p50 = acc.marks(exact)
                start = starts.get(g)
                if start is None:
                    start = starts[g] = from_ms(grid.origin + g * grid.width)
                timelines.setdefault(self._name(conn, target_id), []).append(
                    TimelinePoint(
                        start=start,
                        ok=acc.ok,
                        failed=acc.failed,
                        excluded=acc.excluded,
                        latency_p50=latency_p50,
                        latency_p95=latency_p95,
                        ttft_p50=ttft_p50,
                    )
                )
        return dict(sorted(timelines.items()))

    @db.translated
    def regions(self, window: Window) -> list[RegionHistory]:
        since, until = ms(window.since), ms(window.until)
        grid = _Grid(since, until, since, until - since + 1)
        found = []
        with self.store.pool.connection() as conn:
            accs, _ = self._read(conn, grid, window.regions, by_region=True)
            for (target_id, _, region_id), acc in accs.items():
                provider, model = self._name(conn, target_id)
                found.append(
                    RegionHistory(
                        provider,
                        model,
                        self.labels.word(region_id, conn),
                        acc.ok,
                        acc.failed,
                        acc.excluded,
                        _at(acc.last),
                        _at(acc.last_ok),
                    )
                )
        return sorted(found, key=lambda r: (r.provider, r.model, r.region))

    def _read(
        self,
        conn: psycopg.Connection[Any],
        grid: _Grid,
        regions: frozenset[str],
        *,
        by_region: bool,
        summary: bool = True,
    ) -> tuple[dict[_Key, _Acc], bool]:
        """Every bucket's counts (and histograms or exact samples); True when the
        percentiles are exact (no whole day, no rolled-up hour in the window). A partial
        day whose attempts all fall inside the window is read from its sums like a whole
        one: attempts are read only where the window cuts through a day's. Not for a
        `summary` (a timeline's points), the period rows' class counts and first and last
        starts are left out."""
        ids = self.store.region_ids(regions)
        accs: dict[_Key, _Acc] = defaultdict(_Acc)
        parts = grid.parts()
        with_days = any(days for _, days in parts)
        rolled = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM rollup WHERE hour_ms >= %s AND hour_ms < %s)",
            (grid.since, grid.until),
        ).fetchone()
        exact = not with_days and not (rolled and rolled[0])
        for part, days in parts:
            whole = part if days else self._whole_day(conn, part, grid) if with_days else None
            if whole is not None:
                self._periods_of(conn, accs, "daily", whole, ids, by_region, summary)
                continue
            self._periods_of(conn, accs, "rollup", part, ids, by_region, summary)
            self._raw(conn, accs, part, grid, ids, by_region=by_region, exact=exact)
        return accs, exact

    def _whole_day(self, conn: psycopg.Connection[Any], part: _Grid, grid: _Grid) -> _Grid | None:
        """The day holding `part` (an edge of `grid` shorter than a day), as a span read
        from the daily sums into `part`'s bucket, when every attempt of that day is inside
        the window; else None."""
        day = part.since - part.since % DAY_MS
        if part.until > day + DAY_MS:
            return None
        row = conn.execute(  # the regions' rows: an open day has no all-regions rows
            "SELECT min(first_ms), max(last_ms) FROM daily WHERE day_ms = %s AND region_id <> %s",
            (day, ALL_REGIONS),
        ).fetchone()
        if row is None or row[0] is None or row[0] < grid.since or row[1] >= grid.until:
            return None
        number = (part.since - grid.origin) // grid.width
        return _Grid(day, day + DAY_MS, day - number * grid.width, grid.width)

    def _region_rows(self, ids: list[int] | None, by_region: bool) -> tuple[str, dict[str, Any]]:
        """Which period rows to read: every region summed (region 0), or per region."""
        if ids is None and not by_region:
            return "region_id = %(zero)s", {"zero": ALL_REGIONS}
        if ids is None:
            return "region_id <> %(zero)s", {"zero": ALL_REGIONS}
        return "region_id = ANY(%(regions)s)", {"regions": ids}

    def _sums_by_region(
        self,
        conn: psycopg.Connection[Any],
        accs: dict[_Key, _Acc],
        table: Literal["daily", "rollup"],
        part: _Grid,
        ids: list[int] | None,
    ) -> None:
        """The counts of the period rows starting in the span, added up in SQL per bucket
        and region."""
        period = "day_ms" if table == "daily" else "hour_ms"
        which, params = self._region_rows(ids, by_region=True)
        for target_id, g, region_id, ok, failed, excluded, first, last, last_ok in conn.execute(
            f"SELECT target_id, ({period} - %(origin)s) / %(width)s, region_id, sum(ok),"  # noqa: S608
            f" sum(failed), sum(excluded), min(first_ms), max(last_ms), max(last_ok_ms)"
            f" FROM {table} WHERE {period} >= %(since)s AND {period} < %(until)s AND {which}"
            " GROUP BY 1, 2, 3",
            {**part.params, **params},
        ):
            accs[(target_id, g, region_id)].add_counts(ok, failed, excluded, first, last, last_ok)

    def _periods_of(
        self,
        conn: psycopg.Connection[Any],
        accs: dict[_Key, _Acc],
        table: Literal["daily", "rollup"],
        part: _Grid,
        ids: list[int] | None,
        by_region: bool,
        summary: bool,
    ) -> None:
        """The period rows starting in the span: per region, their counts summed in SQL;
        over the regions, their counts, class counts and histograms as stored (a row per
        model and period, the same rows for a window's summary and its timeline), merged
        in Python."""
        if by_region:
            self._sums_by_region(conn, accs, table, part, ids)
            return
        for row in self._period_rows(conn, table, part, ids):
            period, target_id, ok, failed, excluded, first, last, last_ok = row[:8]
            classes, latency, ttft = row[8:11]  # as stored: decoded only where needed
            acc = accs[(target_id, (period - part.origin) // part.width, ALL_REGIONS)]
            if latency:
                acc.latency.append(latency)
            if ttft:
                acc.ttft.append(ttft)
            if not summary:  # a timeline point: its counts, and the day's kept percentiles
                acc.add_row(row[11:], latency, ttft)
                acc.ok, acc.failed, acc.excluded = (
                    acc.ok + ok,
                    acc.failed + failed,
                    acc.excluded + excluded,
                )
                continue
            acc.add_counts(ok, failed, excluded, first, last, last_ok)
            if classes:
                flat = sums.decoded(classes) or []
                for i in range(0, len(flat), 2):
                    acc.classes[self.labels.word(flat[i], conn)] += flat[i + 1]

    def _period_rows(
        self,
        conn: psycopg.Connection[Any],
        table: Literal["daily", "rollup"],
        part: _Grid,
        ids: list[int] | None,
    ) -> list[tuple[Any, ...]]:
        """The rows of a span over every region asked for, fetched once for the reads of
        a window (its summary and its timeline ask for the same days), in binary."""
        key = (table, part.since, part.until, tuple(ids) if ids is not None else None)
        found = self._periods.get(key)
        if found is None and table == "daily" and ids is None:
            found = self._periods[key] = closing.all_regions_rows(conn, part.since, part.until)
        if found is None:
            period = "day_ms" if table == "daily" else "hour_ms"
            which, params = self._region_rows(ids, by_region=False)
            found = (
                conn.cursor(binary=True)
                .execute(
                    f"SELECT {period}, target_id, ok, failed, excluded, first_ms, last_ms,"  # noqa: S608
                    f" last_ok_ms, classes, latency, ttft{_KEPT if table == 'daily' else ''}"
                    f" FROM {table}"
                    f" WHERE {period} >= %(since)s AND {period} < %(until)s AND {which}",
                    {"since": part.since, "until": part.until, **params},
                )
                .fetchall()
            )
            self._periods[key] = found
        return found

    def _raw(
        self,
        conn: psycopg.Connection[Any],
        accs: dict[_Key, _Acc],
        part: _Grid,
        grid: _Grid,
        ids: list[int] | None,
        *,
        by_region: bool,
        exact: bool,
    ) -> None:
        """The attempts of the span, in one pass: counts per model, region, kind and class,
        and the successful samples of each metric (kept for the next read of the same span:
        a report asks for the window's summary, its regions and its timeline)."""
        single = (part.since - grid.origin) // grid.width == (part.until - 1 - grid.origin) // (
            grid.width
        )
        for group, *row in self._raw_rows(conn, part, grid, ids, single):
            target_id, region_id, kind_id, class_id, inconclusive, n, first, last = row[:8]
            latency, ttft = row[8:]
            g = (part.since - grid.origin) // grid.width if single else group
            acc = accs[(target_id, g, region_id if by_region else ALL_REGIONS)]
            kind, cls = self.labels.word(kind_id, conn), self.labels.word(class_id, conn)
            acc.classes[cls] += n
            available = kind in _AVAILABILITY
            success = available and cls in _SUCCESS
            acc.times(first, last, last if success else None)
            if available:
                counted = "excluded" if inconclusive else _COUNTED[cls]
                setattr(acc, counted, getattr(acc, counted) + n)
            if latency:
                acc.exact_latency.extend(latency)
            if ttft:
                acc.exact_ttft.extend(ttft)

    def _raw_rows(
        self,
        conn: psycopg.Connection[Any],
        part: _Grid,
        grid: _Grid,
        ids: list[int] | None,
        single: bool,
    ) -> list[tuple[Any, ...]]:
        key = (part.since, part.until, tuple(ids) if ids is not None else None)
        if single and key in self._spans:
            return self._spans[key]
        ok = self._ids(_SUCCESS)
        completion = self.labels.ids.get(ProbeKind.COMPLETION.value, -1)
        stream = self.labels.ids.get(ProbeKind.STREAM.value, -1)
        group = "0" if single else "(a.started_ms - %(origin)s) / %(width)s"
        rows = conn.execute(
            f"SELECT {group}, a.target_id, r.region_id, a.kind, a.error_class,"  # noqa: S608
            " r.status = 'inconclusive', count(*), min(a.started_ms), max(a.started_ms),"
            " array_agg(modelaudit_ms(a.latency_us)) FILTER (WHERE a.kind = %(completion)s"
            "  AND a.error_class = ANY(%(ok)s) AND a.latency_us IS NOT NULL),"
            " array_agg(modelaudit_ms(a.ttft_us)) FILTER (WHERE a.kind = %(stream)s"
            "  AND a.error_class = ANY(%(ok)s) AND a.ttft_us IS NOT NULL)"
            " FROM attempt a JOIN run r ON r.id = a.run_id"
            " WHERE a.started_ms >= %(since)s AND a.started_ms < %(until)s"
            " AND (%(all)s OR r.region_id = ANY(%(regions)s)) GROUP BY 1, 2, 3, 4, 5, 6",
            {
                **grid.params,
                "since": part.since,
                "until": part.until,
                "completion": completion,
                "stream": stream,
                "ok": ok,
                "all": ids is None,
                "regions": ids or [],
            },
        ).fetchall()
        if single:
            self._spans[key] = rows
        return rows

    # --- verdicts and incidents ----------------------------------------------------------------

    @db.translated
    def verdicts(self, window: Window) -> dict[ModelKey, list[VerdictPoint]]:
        ids = self.store.region_ids(window.regions)
        by_target: dict[int, list[VerdictPoint]] = defaultdict(list)
        with self.store.pool.connection() as conn:
            rows = conn.execute(
                "SELECT v.target_id, v.run_id, r.started_ms, v.verdict, s.value, r.region_id"
                " FROM run r JOIN verdict v ON v.run_id = r.id JOIN string s ON s.id = v.reason_id"
                " WHERE r.started_ms >= %s AND r.started_ms < %s AND (%s OR r.region_id = ANY(%s))"
                " ORDER BY r.started_ms, r.id",
                (ms(window.since), ms(window.until), ids is None, ids or []),
            )
            moments: dict[int, datetime] = {}
            words = {}
            for target_id, run_id, started, verdict, reason, region_id in rows:
                at = moments.get(started) or moments.setdefault(started, from_ms(started))
                if verdict not in words:
                    words[verdict] = Verdict(self.labels.word(verdict, conn))
                point = VerdictPoint(
                    run_id, at, words[verdict], reason, self.labels.word(region_id, conn)
                )
                by_target[target_id].append(point)
            return dict(sorted((self._name(conn, t), p) for t, p in by_target.items()))

    @db.translated
    def streaks(self, window: Window, models: frozenset[ModelKey] = frozenset()) -> list[Streak]:
        ids = self.store.region_ids(window.regions)
        with self.store.pool.connection() as conn:
            targets = None
            if models:
                wanted = {key: target_id for target_id, key in self._names_of(conn).items()}
                targets = [wanted[key] for key in models if key in wanted]
            rows = conn.execute(
                _STREAKS,
                {
                    "since": ms(window.since),
                    "until": ms(window.until),
                    "all": ids is None,
                    "regions": ids or [],
                    "any_target": targets is None,
                    "targets": targets or [],
                    "undecided": self._ids(v.value for v in UNDECIDED),
                },
            ).fetchall()
            newest: dict[tuple[int, int], tuple[Any, ...]] = {}
            first: dict[tuple[int, int], int] = {}
            for t, region_id, back, run, at, verdict, reason, runs in rows:
                if back == 1:
                    newest[(t, region_id)] = (run, at, verdict, reason, runs)
                if back == runs:
                    first[(t, region_id)] = at
            found = []
            for (t, region_id), (run, at, verdict, reason, runs) in newest.items():
                word = Verdict(self.labels.word(verdict, conn))
                region = self.labels.word(region_id, conn)
                point = VerdictPoint(run, from_ms(at), word, reason, region)
                since = from_ms(first[(t, region_id)])
                found.append(Streak(*self._name(conn, t), point, since, runs))
        return sorted(found, key=lambda s: (s.provider, s.model, s.region))

    @db.translated
    def run_starts(self, window: Window) -> list[datetime]:
        ids = self.store.region_ids(window.regions)
        with self.store.pool.connection() as conn:
            rows = conn.execute(
                "SELECT DISTINCT r.started_ms FROM run r WHERE r.started_ms >= %s"
                " AND r.started_ms < %s AND EXISTS (SELECT 1 FROM verdict v WHERE v.run_id = r.id)"
                " AND (%s OR r.region_id = ANY(%s)) ORDER BY 1",
                (ms(window.since), ms(window.until), ids is None, ids or []),
            ).fetchall()
        return [from_ms(row[0]) for row in rows]

    @db.translated
    def incidents(self, window: Window) -> list[Incident]:
        since, until = ms(window.since), ms(window.until)
        ids = self.store.region_ids(window.regions)
        found = []
        with self.store.pool.connection() as conn:
            rows = conn.execute(
                "SELECT target_id, region_id, verdict, start_ms, last_ms, end_ms, runs"
                " FROM incident WHERE last_ms >= %s AND start_ms < %s"
                " AND (%s OR region_id = ANY(%s))",
                (since, until, ids is None, ids or []),
            ).fetchall()
            for target_id, region_id, stored, start, last, end, all_runs in rows:
                runs, verdict = all_runs, stored
                if last >= until:  # runs after the window: as it stood at the window's end
                    count = self._incident_runs
                    runs, verdict = count(conn, target_id, region_id, start, until)
                    if start < since and runs == count(conn, target_id, region_id, start, since)[0]:
                        continue
                found.append(
                    Incident(
                        *self._name(conn, target_id),
                        verdict=Verdict(self.labels.word(verdict, conn)),
                        start=from_ms(start),
                        end=from_ms(end) if end is not None and end < until else None,
                        runs=runs,
                        region=self.labels.word(region_id, conn),
                    )
                )
        return sorted(found, key=lambda i: (i.provider, i.model, i.start, i.region))

    def _incident_runs(
        self,
        conn: psycopg.Connection[Any],
        target_id: int,
        region_id: int,
        since: int,
        until: int,
    ) -> tuple[int, int]:
        """The failing runs (down or gone) of a model in one region in [since, until), and
        the verdict (label id) of the latest in run order."""
        failing = self._ids(v.value for v in INCIDENT_VERDICTS)
        row = conn.execute(
            "SELECT count(*), (array_agg(v.verdict ORDER BY r.started_ms DESC, r.id DESC))[1]"
            " FROM run r JOIN verdict v ON v.run_id = r.id AND v.target_id = %s"
            " WHERE r.region_id = %s AND v.verdict = ANY(%s) AND r.started_ms >= %s"
            " AND r.started_ms < %s",
            (target_id, region_id, failing, since, until),
        ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1]) if row[1] is not None else 0

    # --- catalog, drift, rate limits -----------------------------------------------------------

    @db.translated
    def catalog_changes(self, window: Window) -> list[CatalogChange]:
        since, until = ms(window.since), ms(window.until)
        changes: list[CatalogChange] = []
        with self.store.pool.connection() as conn:
            providers = [
                row[0]
                for row in conn.execute(
                    "SELECT DISTINCT provider FROM catalog_snapshot"
                    " WHERE taken_ms >= %s AND taken_ms < %s ORDER BY provider",
                    (since, until),
                )
            ]
            for provider in providers:
                snapshots = conn.execute(
                    "(SELECT taken_ms, set_id FROM catalog_snapshot WHERE provider = %(p)s"
                    " AND taken_ms < %(since)s ORDER BY taken_ms DESC LIMIT 1) UNION ALL"
                    " (SELECT taken_ms, set_id FROM catalog_snapshot WHERE provider = %(p)s"
                    " AND taken_ms >= %(since)s AND taken_ms < %(until)s ORDER BY taken_ms)",
                    {"p": provider, "since": since, "until": until},
                ).fetchall()
                for (_, old_set), (taken, new_set) in itertools.pairwise(snapshots):
                    if old_set == new_set:
                        continue
                    old, new = _catalog_set(conn, old_set), _catalog_set(conn, new_set)
                    at = from_ms(taken)
                    changes += [
                        CatalogChange(provider, m, "appeared", at) for m in sorted(new - old)
                    ]
                    changes += [
                        CatalogChange(provider, m, "vanished", at) for m in sorted(old - new)
                    ]
        return changes

    @db.translated
    def drift(self, window: Window) -> list[DriftEvent]:
        with self.store.pool.connection() as conn:
            rows = conn.execute(_DRIFT, (ms(window.until), ms(window.since))).fetchall()
            events = [
                DriftEvent(*self._name(conn, target_id), from_ms(at), kind, before, after)
                for target_id, at, kind, before, after in rows
            ]
        return sorted(events, key=lambda e: (e.at, e.provider, e.model, e.kind))

    @db.translated
    def ratelimit_ceilings(self, window: Window) -> dict[ModelKey, list[RateLimitPoint]]:
        since, until = ms(window.since), ms(window.until)
        seen: dict[ModelKey, dict[str, float]] = defaultdict(dict)
        points: dict[ModelKey, list[RateLimitPoint]] = {}
        with self.store.pool.connection() as conn:
            in_effect = conn.execute(
                "SELECT DISTINCT ON (e.target_id) e.target_id, s.value FROM change_event e"
                " JOIN string s ON s.id = e.after_id WHERE e.kind = 'ratelimit' AND e.at_ms < %s"
                " ORDER BY e.target_id, e.at_ms DESC, e.id DESC",
                (since,),
            ).fetchall()
            changes = conn.execute(
                "SELECT e.target_id, e.at_ms, s.value FROM change_event e"
                " JOIN string s ON s.id = e.after_id WHERE e.kind = 'ratelimit'"
                " AND e.at_ms >= %s AND e.at_ms < %s ORDER BY e.at_ms, e.id",
                (since, until),
            ).fetchall()
            for target_id, at, text in (*((t, since, v) for t, v in in_effect), *changes):
                key = self._name(conn, target_id)
                for header, value in sorted(json.loads(text).items()):
                    limit = _number(value)
                    if limit is None or seen[key].get(header) == limit:
                        continue
                    seen[key][header] = limit
                    points.setdefault(key, []).append(RateLimitPoint(from_ms(at), header, limit))
        return dict(sorted(points.items()))


def last_ok_ms_before(
    conn: psycopg.Connection[Any],
    labels: Labels,
    target_id: int,
    before: int,
    regions: frozenset[str],
) -> int | None:
    """The last successful availability attempt before `before` (of `regions`): from
    the daily sums of the days before, then that day's rolled-up hours and attempts."""
    ids = None if not regions else [labels.ids.get(r, -1) for r in sorted(regions)]
    if ids is None:
        row = conn.execute(
            f"SELECT {LAST_OK} FROM target t WHERE id = %s",  # noqa: S608
            (target_id,),
        ).fetchone()
        if row is None or row[0] is None:
            return None
        if row[0] < before:
            return int(row[0])
    day = before - before % DAY_MS
    which = {"all": ids is None, "regions": ids or [], "zero": ALL_REGIONS}
    found = conn.execute(
        "SELECT (SELECT max(last_ok_ms) FROM daily WHERE target_id = %(t)s AND day_ms < %(day)s"
        "  AND ((%(all)s AND region_id <> %(zero)s) OR region_id = ANY(%(regions)s))),"
        " (SELECT max(least(last_ok_ms, %(before)s - 1)) FROM rollup WHERE target_id = %(t)s"
        "  AND hour_ms >= %(day)s AND hour_ms < %(before)s"
        "  AND ((%(all)s AND region_id = %(zero)s) OR region_id = ANY(%(regions)s))),"
        " (SELECT max(a.started_ms) FROM attempt a JOIN run r ON r.id = a.run_id"
        "  WHERE a.target_id = %(t)s AND a.started_ms >= %(day)s AND a.started_ms < %(before)s"
        "  AND a.kind = ANY(%(kinds)s) AND a.error_class = ANY(%(ok)s)"
        "  AND r.status <> 'inconclusive' AND (%(all)s OR r.region_id = ANY(%(regions)s)))",
        {
            **which,
            "t": target_id,
            "day": day,
            "before": before,
            "kinds": [labels.ids[k] for k in _AVAILABILITY if k in labels.ids],
            "ok": [labels.ids[c] for c in _SUCCESS if c in labels.ids],
        },
    ).fetchone()
    known = [int(v) for v in found or () if v is not None]
    return max(known) if known else None


def _catalog_set(conn: psycopg.Connection[Any], set_id: int) -> set[str]:
    row = conn.execute("SELECT ids FROM catalog_set WHERE id = %s", (set_id,)).fetchone()
    return set(json.loads(row[0])) if row else set()


def _at(value: int | None) -> datetime | None:
    return None if value is None else from_ms(value)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
