"""`SqliteHistory`: the `HistoryReader` over the SQLite store, plus the reads behind
`modelaudit history`.

Windows are half-open, [since, until). Counting follows `history.counts_as` exactly: the
SQL groups attempts by (model, kind, error class, run inconclusive?) and Python applies the
rule to the few hundred groups, so the rule lives in one place. Percentiles are exact
(nearest rank, computed in SQL with window functions) where only raw attempts are in the
window; where `db prune` has rolled hours up, those hours' histograms are merged with the
raw samples and the percentiles are bucketed (see `buckets`). Rolled-up hours count in a
window when the hour starts inside it.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from modelaudit.store import buckets
from modelaudit.store.db import from_ms, ms
from modelaudit.store.history import (
    AVAILABILITY_KINDS,
    SUCCESS_CLASSES,
    CatalogChange,
    DriftEvent,
    Incident,
    ModelHistory,
    ModelKey,
    Percentiles,
    RateLimitPoint,
    TimelinePoint,
    VerdictPoint,
    counts_as,
)
from modelaudit.vocabulary import ErrorClass, ProbeKind, Verdict

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable
    from datetime import datetime, timedelta

    from modelaudit.store.history import Window

HOUR_MS = 3_600_000
INCIDENT_VERDICTS = frozenset({Verdict.DOWN, Verdict.GONE})
NEUTRAL_VERDICTS = frozenset({Verdict.SKIPPED, Verdict.INCONCLUSIVE})
"""Say nothing about the model (not probed, or this machine offline): they neither
continue nor end an incident."""
LOOKBACK_ROWS = 1000
RANGED_BUCKETS = 64
"""Up to this many timeline buckets, each is counted by index ranges (no sort)."""
# The sets of `history.py`, bound as JSON arrays (`x IN (SELECT value FROM json_each(?))`):
# no SQL text is ever built from values.
OK_CLASSES = json.dumps(sorted(c.value for c in SUCCESS_CLASSES))
COUNTED_KINDS = json.dumps(sorted(k.value for k in AVAILABILITY_KINDS))


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
        cls = ErrorClass(error_class)
        self.classes[cls] += n
        self.first = _earliest(self.first, first)
        self.last = _latest(self.last, last)
        if ProbeKind(kind) not in AVAILABILITY_KINDS:
            return
        counted = counts_as(cls)
        setattr(self, counted, getattr(self, counted) + n - inconclusive)
        self.excluded += inconclusive
        if counted == "ok":
            self.last_ok = _latest(self.last_ok, last)


def _earliest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass(frozen=True)
class _Sample:
    """Which attempts a percentile is taken over: successes of one kind, one metric. The
    SQL is literal per metric: SQLite uses a partial index only for a literal `kind`, and
    `INDEXED BY` keeps it from preferring attempt_summary (more equality columns, but the
    values are not in it, so every sample would be looked up and sorted)."""

    kind: ProbeKind
    metric: Literal["latency", "ttft"]
    count_sql: str
    nth_sql: str
    values_sql: str


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
    values_sql="SELECT (started_ms - :since) / :width AS g, json_group_array(latency_ms)"
    " FROM attempt INDEXED BY attempt_latency WHERE kind = 'completion'"
    " AND target_id = :target AND error_class = :cls AND latency_ms IS NOT NULL"
    " AND started_ms >= :since AND started_ms < :until GROUP BY g",
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
    values_sql="SELECT (started_ms - :since) / :width AS g, json_group_array(ttft_ms)"
    " FROM attempt INDEXED BY attempt_ttft WHERE kind = 'stream'"
    " AND target_id = :target AND error_class = :cls AND ttft_ms IS NOT NULL"
    " AND started_ms >= :since AND started_ms < :until GROUP BY g",
)
SUCCESSES = tuple(sorted(c.value for c in SUCCESS_CLASSES))
_VERDICTS = {v.value: v for v in Verdict}
_Key = tuple[int, int]
"""(target id, bucket number)."""


class SqliteHistory:
    """Implements `modelaudit.store.history.HistoryReader`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._names: dict[int, ModelKey] | None = None

    def _name(self, target_id: int) -> ModelKey:
        if self._names is None or target_id not in self._names:
            self._names = {
                row[0]: (row[1], row[2])
                for row in self.conn.execute("SELECT id, provider, model FROM target")
            }
        return self._names[target_id]

    # --- per-model summary ----------------------------------------------------------------

    def models(self, window: Window) -> list[ModelHistory]:
        since, until = _bounds(window)
        tallies = self._tallies(since, until, width=None)
        targets = sorted({target_id for target_id, _ in tallies})
        latency = self._percentiles(since, until, None, LATENCY, targets)
        ttft = self._percentiles(since, until, None, TTFT, targets)
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

    def timelines(self, window: Window, bucket: timedelta) -> dict[ModelKey, list[TimelinePoint]]:
        since, until = _bounds(window)
        width = max(1, round(bucket.total_seconds() * 1000))
        tallies = self._tallies(since, until, width)
        targets = sorted({target_id for target_id, _ in tallies})
        latency = self._percentiles(since, until, width, LATENCY, targets)
        ttft = self._percentiles(since, until, width, TTFT, targets)
        timelines: dict[ModelKey, list[TimelinePoint]] = {}
        for key in sorted(tallies, key=lambda k: (self._name(k[0]), k[1])):
            tally = tallies[key]
            timelines.setdefault(self._name(key[0]), []).append(
                TimelinePoint(
                    start=from_ms(since + key[1] * width),
                    ok=tally.ok,
                    failed=tally.failed,
                    excluded=tally.excluded,
                    latency_p50=latency[key].p50 if key in latency else None,
                    latency_p95=latency[key].p95 if key in latency else None,
                    ttft_p50=ttft[key].p50 if key in ttft else None,
                )
            )
        return timelines

    def _tallies(self, since: int, until: int, width: int | None) -> dict[_Key, _Tally]:
        params = {"since": since, "until": until, "width": width or (until - since + 1)}
        tallies: dict[_Key, _Tally] = defaultdict(_Tally)
        inconclusive = self._inconclusive_counts(params)
        for target_id, group_no, kind, error_class, n, first, last in self._raw_groups(
            params, width is None
        ):
            n_inconclusive = inconclusive.get((target_id, group_no, kind, error_class), 0)
            tallies[(target_id, group_no)].add((kind, error_class, n, n_inconclusive, first, last))
        rolled = self.conn.execute(
            "SELECT target_id, (hour_ms - :since) / :width, kind, error_class, sum(attempts),"
            " sum(CASE WHEN inconclusive THEN attempts ELSE 0 END), min(first_ms), max(last_ms)"
            " FROM rollup WHERE hour_ms >= :since AND hour_ms < :until GROUP BY 1, 2, 3, 4",
            params,
        )
        for target_id, group_no, *counts in rolled:
            tallies[(target_id, group_no)].add(tuple(counts))
        return tallies

    def _raw_groups(
        self, params: dict[str, int], whole_window: bool
    ) -> Iterable[tuple[int, int, str, str, int, int | None, int | None]]:
        """Attempts per (model, bucket, kind, error class), counted along attempt_summary
        (`+started_ms` keeps SQLite off the time index). Over the whole window the GROUP BY
        follows the index, so nothing is sorted, and each group's first and last attempt
        are two seeks. For a timeline of few buckets, each (group, bucket) is counted by a
        range of the index, again without a sort; many buckets are grouped by a sort."""
        if whole_window:
            return self.conn.execute(
                "SELECT t, 0, k, c, n,"
                " (SELECT min(started_ms) FROM attempt WHERE target_id = t AND kind = k"
                "  AND error_class = c AND started_ms >= :since AND started_ms < :until),"
                " (SELECT max(started_ms) FROM attempt WHERE target_id = t AND kind = k"
                "  AND error_class = c AND started_ms >= :since AND started_ms < :until)"
                " FROM (SELECT target_id AS t, kind AS k, error_class AS c, count(*) AS n"
                "  FROM attempt INDEXED BY attempt_summary"
                "  WHERE +started_ms >= :since AND +started_ms < :until"
                "  GROUP BY target_id, kind, error_class)",
                params,
            )
        count = -(-(params["until"] - params["since"]) // params["width"])
        if count <= RANGED_BUCKETS:
            return self.conn.execute(
                "WITH RECURSIVE b(g) AS (SELECT 0 UNION ALL SELECT g + 1 FROM b"
                "  WHERE g + 1 < :buckets),"
                " groups AS (SELECT target_id AS t, kind AS k, error_class AS c"
                "  FROM attempt INDEXED BY attempt_summary"
                "  WHERE +started_ms >= :since AND +started_ms < :until GROUP BY 1, 2, 3)"
                " SELECT t, g, k, c, n, NULL, NULL FROM (SELECT t, g, k, c,"
                "  (SELECT count(*) FROM attempt WHERE target_id = t AND kind = k"
                "   AND error_class = c AND started_ms >= :since + g * :width"
                "   AND started_ms < min(:until, :since + (g + 1) * :width)) AS n"
                "  FROM groups CROSS JOIN b) WHERE n > 0",
                {**params, "buckets": count},
            )
        return self.conn.execute(
            "SELECT target_id, (started_ms - :since) / :width AS g, kind, error_class, count(*),"
            " NULL, NULL FROM attempt WHERE +started_ms >= :since AND +started_ms < :until"
            " GROUP BY target_id, kind, error_class, g",
            params,
        )

    def _inconclusive_counts(self, params: dict[str, int]) -> dict[tuple[int, int, str, str], int]:
        """Attempts of runs marked inconclusive (this machine was offline), which count
        as excluded. Such runs are rare and short: each is found by its time span."""
        rows = self.conn.execute(
            "SELECT a.target_id, (a.started_ms - :since) / :width, a.kind, a.error_class,"
            " count(*) FROM run r CROSS JOIN attempt a ON +a.run_id = r.id"  # runs first
            " AND a.started_ms BETWEEN r.started_ms AND coalesce(r.last_attempt_ms, r.finished_ms)"
            " WHERE r.status = 'inconclusive' AND r.started_ms < :until"
            " AND coalesce(r.last_attempt_ms, r.finished_ms) >= :since"
            " AND a.started_ms >= :since AND a.started_ms < :until GROUP BY 1, 2, 3, 4",
            params,
        )
        return {(t, g, kind, cls): n for t, g, kind, cls, n in rows}

    def _percentiles(
        self, since: int, until: int, width: int | None, sample: _Sample, targets: Iterable[int]
    ) -> dict[_Key, Percentiles]:
        """Exact from raw samples; bucketed where rolled-up hours share the bucket."""
        params: dict[str, object] = {
            "since": since,
            "until": until,
            "width": width or (until - since + 1),
            "kind": sample.kind.value,
            "metric": sample.metric,
            "ok": OK_CLASSES,
        }
        rolled = self._rolled_histograms(params)
        found: dict[_Key, Percentiles] = {}
        for target_id in targets:
            params["target"] = target_id
            if width is None and not any(key[0] == target_id for key in rolled):
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
            self.conn.execute(
                sample.nth_sql, {**params, "cls": cls, "offset": buckets.rank(p, n) - 1}
            ).fetchone()[0]
            for p in buckets.QUANTILES
        )
        return Percentiles(n, p50, p95, p99)

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

    def _rolled_histograms(self, params: dict[str, object]) -> dict[_Key, buckets.Histogram]:
        rows = self.conn.execute(
            "SELECT target_id, (hour_ms - :since) / :width, h FROM (SELECT target_id, hour_ms,"
            "  CASE :metric WHEN 'ttft' THEN ttft_hist ELSE latency_hist END AS h FROM rollup"
            "  WHERE hour_ms >= :since AND hour_ms < :until AND kind = :kind"
            "  AND error_class IN (SELECT value FROM json_each(:ok))) WHERE h IS NOT NULL",
            params,
        )
        hists: dict[_Key, buckets.Histogram] = defaultdict(Counter)
        for target_id, group_no, text in rows:
            hists[(target_id, group_no)].update(buckets.decode(text))
        return hists

    # --- verdicts and incidents -------------------------------------------------------------

    def verdicts(self, window: Window) -> dict[ModelKey, list[VerdictPoint]]:
        since, until = _bounds(window)
        # Runs in start order (run_started), each run's verdicts by its primary key: the
        # points of each model come out oldest first, with nothing to sort.
        rows = self.conn.execute(
            "SELECT v.target_id, v.run_id, r.started_ms, v.verdict, v.reason"
            " FROM run r JOIN verdict v ON v.run_id = r.id"
            " WHERE r.started_ms >= ? AND r.started_ms < ? ORDER BY r.started_ms",
            (since, until),
        )
        by_target: dict[int, list[VerdictPoint]] = defaultdict(list)
        moments: dict[int, datetime] = {}
        for target_id, run_id, started, verdict, reason in rows:
            at = moments.get(started) or moments.setdefault(started, from_ms(started))
            by_target[target_id].append(VerdictPoint(run_id, at, _VERDICTS[verdict], reason))
        return dict(sorted((self._name(t), points) for t, points in by_target.items()))

    def incidents(self, window: Window) -> list[Incident]:
        since, _ = _bounds(window)
        incidents = []
        for (provider, model), points in self.verdicts(window).items():
            history = self._verdicts_before(provider, model, since, points)
            incidents.extend(_incidents_of(provider, model, [*history, *points]))
        return incidents

    def _verdicts_before(
        self, provider: str, model: str, since: int, points: list[VerdictPoint]
    ) -> list[VerdictPoint]:
        """The runs before the window that belong to an incident still going on at its
        start, so the incident's start is its real start."""
        first = next((p for p in points if p.verdict not in NEUTRAL_VERDICTS), None)
        if first is None or first.verdict not in INCIDENT_VERDICTS:
            return []
        rows = self.conn.execute(
            "SELECT v.run_id, r.started_ms, v.verdict, v.reason FROM target t"
            " JOIN verdict v ON v.target_id = t.id JOIN run r ON r.id = v.run_id"
            " WHERE t.provider = ? AND t.model = ? AND r.started_ms < ?"
            " ORDER BY r.started_ms DESC LIMIT ?",
            (provider, model, since, LOOKBACK_ROWS),
        )
        earlier = []
        for run_id, started, verdict, reason in rows:
            point = VerdictPoint(run_id, from_ms(started), Verdict(verdict), reason)
            if point.verdict not in NEUTRAL_VERDICTS and point.verdict is not first.verdict:
                break
            earlier.append(point)
        return earlier[::-1]

    # --- catalog, drift, rate limits -------------------------------------------------------

    def catalog_changes(self, window: Window) -> list[CatalogChange]:
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
        changes = []
        for (_, old_set), (taken, new_set) in itertools.pairwise(snapshots):
            if old_set == new_set:
                continue
            old, new = self._catalog_set(old_set), self._catalog_set(new_set)
            at = from_ms(taken)
            changes += [CatalogChange(provider, m, "appeared", at) for m in sorted(new - old)]
            changes += [CatalogChange(provider, m, "vanished", at) for m in sorted(old - new)]
        return changes

    def _catalog_set(self, set_id: int) -> set[str]:
        row = self.conn.execute("SELECT ids FROM catalog_set WHERE id = ?", (set_id,)).fetchone()
        return set(json.loads(row[0]))

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


def _incidents_of(provider: str, model: str, points: list[VerdictPoint]) -> list[Incident]:
    incidents: list[Incident] = []
    current: Incident | None = None
    for point in points:
        if point.verdict in NEUTRAL_VERDICTS:
            continue
        if current is not None and point.verdict is current.verdict:
            current = replace(current, runs=current.runs + 1)
            continue
        if current is not None:
            incidents.append(
                Incident(provider, model, current.verdict, current.start, point.at, current.runs)
            )
            current = None
        if point.verdict in INCIDENT_VERDICTS:
            current = Incident(provider, model, point.verdict, point.at, None, 1)
    if current is not None:
        incidents.append(current)
    return incidents


def _bounds(window: Window) -> tuple[int, int]:
    return ms(window.since), ms(window.until)


def _at(value: int | None) -> datetime | None:
    return None if value is None else from_ms(value)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
