"""The tables the store keeps beside the raw rows (`incident`, `daily`) say exactly what the
raw rows say: each is compared here with the straightforward computation over every stored
verdict and attempt, over a random history with overlapping runs that finish out of order,
inconclusive and interrupted runs, `db prune`, and a database migrated from schema 4."""

from __future__ import annotations

import json
import random
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from modelaudit.errors import StoreError
from modelaudit.history import (
    AVAILABILITY_KINDS,
    SUCCESS_CLASSES,
    Incident,
    Window,
    bucket_start,
    counts_as,
    streaks_of,
)
from modelaudit.store import buckets
from modelaudit.store.sqlite.db import connect, from_ms, ms
from modelaudit.store.sqlite.migrations import migrate
from modelaudit.store.sqlite.prune import prune
from modelaudit.store.sqlite.store import SqliteStore
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict

from .synthetic import at, attempt, report, result

if TYPE_CHECKING:
    from pathlib import Path

MODELS = ("m0", "m1", "m2", "m3")
VERDICTS = (
    Verdict.UP,
    Verdict.UP,
    Verdict.DOWN,
    Verdict.DOWN,
    Verdict.GONE,
    Verdict.DEGRADED,
    Verdict.BLOCKED,
    Verdict.SKIPPED,
    Verdict.INCONCLUSIVE,
)
CLASSES = (
    ErrorClass.OK,
    ErrorClass.OK,
    ErrorClass.OK,
    ErrorClass.CONTENT_FILTERED,
    ErrorClass.SERVER_ERROR,
    ErrorClass.RATE_LIMITED,
    ErrorClass.TIMEOUT,
    ErrorClass.MODEL_NOT_FOUND,
)
KINDS = (ProbeKind.COMPLETION, ProbeKind.COMPLETION, ProbeKind.STREAM, ProbeKind.CATALOG)
HOUR_MS = 3_600_000
DAYS = 4


def _probe(rng: random.Random, model: str, started_hours: float) -> object:
    kind = rng.choice(KINDS)
    cls = rng.choice(CLASSES)
    fields: dict[str, float | None] = {"latency_ms": round(rng.lognormvariate(6, 0.8), 3)}
    if kind is ProbeKind.STREAM and cls is ErrorClass.OK:
        fields["ttft_ms"] = round(rng.lognormvariate(5, 0.7), 3)
    if cls is not ErrorClass.OK and rng.random() < 0.5:
        fields["latency_ms"] = None
    return result(model, kind, attempt(at(hours=started_hours), cls, **fields))


def build_history(store: SqliteStore, seed: int) -> None:
    """Runs every 90 minutes or so over DAYS days; one in five overlaps the next and
    finishes after it; some end inconclusive, some are interrupted (no verdicts)."""
    rng = random.Random(seed)
    hour = -3.0
    pending: list[tuple[int, float, RunStatus | None]] = []
    while hour < DAYS * 24:
        run = store.begin_run(at(hours=hour), None)
        roll = rng.random()
        status = (
            RunStatus.INCONCLUSIVE
            if roll < 0.1
            else None
            if roll < 0.15  # interrupted
            else RunStatus.COMPLETE
        )
        for model in MODELS:
            for _ in range(rng.randint(0, 3)):
                store.add_results(run, [_probe(rng, model, hour + rng.random() * 0.5)])  # type: ignore[arg-type]
        pending.append((run, hour, status))
        if rng.random() < 0.2 and len(pending) == 1:
            hour += rng.choice((0.0, 0.25))  # the next run starts at once (or at the same ms)
            continue
        for run_id, started, run_status in reversed(pending):  # the later run finishes first
            if run_status is None:
                store.abandon_run(run_id)
                continue
            verdicts = {m: rng.choice(VERDICTS) for m in MODELS if rng.random() < 0.9}
            store.finish_run(run_id, report(at(hours=started), verdicts, run_status))
        pending = []
        hour += rng.choice((0.5, 1.5, 2.0, 7.0))


# --- the straightforward computations ------------------------------------------------------


def all_verdicts(conn: sqlite3.Connection) -> dict[int, list[tuple[int, int, Verdict]]]:
    """Per target, (run start, run id, verdict) in run order."""
    rows = conn.execute(
        "SELECT v.target_id, r.started_ms, r.id, v.verdict FROM verdict v"
        " JOIN run r ON r.id = v.run_id ORDER BY r.started_ms, r.id"
    )
    found: dict[int, list[tuple[int, int, Verdict]]] = defaultdict(list)
    for target_id, started, run_id, verdict in rows:
        found[target_id].append((started, run_id, Verdict(verdict)))
    return found


@dataclass
class _Open:
    verdict: Verdict
    start: int
    start_run: int
    last: int
    runs: list[int] = field(default_factory=list)


def incidents_by_hand(
    points: list[tuple[int, int, Verdict]],
) -> list[tuple[_Open, int | None]]:
    """Every incident of one model: from the first run found down or gone to the next run
    found answering (up or degraded); skipped, inconclusive and blocked runs say nothing.
    Its verdict is its latest failing run's."""
    found: list[tuple[_Open, int | None]] = []
    current: _Open | None = None
    for started, run_id, verdict in points:
        if verdict in (Verdict.UP, Verdict.DEGRADED):
            if current is not None:
                found.append((current, started))
            current = None
        elif verdict in (Verdict.DOWN, Verdict.GONE):
            if current is None:
                current = _Open(verdict, started, run_id, started, [])
            current.verdict = verdict
            current.runs.append(started)
            current.last = started
    if current is not None:
        found.append((current, None))
    return found


def window_incidents_by_hand(conn: sqlite3.Connection, window: Window) -> list[Incident]:
    """The incidents with a run inside the window, as the verdicts up to its end show them."""
    since, until = ms(window.since), ms(window.until)
    names = {
        row[0]: (row[1], row[2]) for row in conn.execute("SELECT id, provider, model FROM target")
    }
    regions = dict(conn.execute("SELECT id, region FROM run").fetchall())
    found = []
    for target_id, points in all_verdicts(conn).items():
        upto = [p for p in points if p[0] < until]
        for span, end in incidents_by_hand(upto):
            if not any(since <= r < until for r in span.runs):
                continue
            found.append(
                Incident(
                    *names[target_id],
                    verdict=span.verdict,
                    start=from_ms(span.start),
                    end=None if end is None else from_ms(end),
                    runs=len(span.runs),
                    region=regions[span.start_run],
                )
            )
    return sorted(found, key=lambda i: (i.provider, i.model, i.start))


def raw_attempts(
    conn: sqlite3.Connection,
) -> list[tuple[int, str, str, int, int, float | None, float | None]]:
    """(target, kind, class, inconclusive run?, start, latency, ttft) of every raw attempt."""
    return conn.execute(
        "SELECT a.target_id, a.kind, a.error_class, r.status = 'inconclusive', a.started_ms,"
        " a.latency_ms, a.ttft_ms FROM attempt a JOIN run r ON r.id = a.run_id"
    ).fetchall()


def daily_by_hand(
    conn: sqlite3.Connection,
) -> dict[tuple[int, int, str, str, int], tuple[object, ...]]:
    groups: dict[tuple[int, int, str, str, int], list[tuple[int, float | None, float | None]]]
    groups = defaultdict(list)
    for target_id, kind, cls, inconclusive, started, latency, ttft in raw_attempts(conn):
        day = started - started % 86_400_000
        groups[(day, target_id, kind, cls, int(inconclusive))].append((started, latency, ttft))
    return {
        key: (
            len(rows),
            min(r[0] for r in rows),
            max(r[0] for r in rows),
            buckets.histogram(r[1] for r in rows if r[1] is not None),
            buckets.histogram(r[2] for r in rows if r[2] is not None),
        )
        for key, rows in groups.items()
    }


def daily_rows(
    conn: sqlite3.Connection,
) -> dict[tuple[int, int, str, str, int], tuple[object, ...]]:
    rows = conn.execute(
        "SELECT day_ms, target_id, kind, error_class, inconclusive, attempts, first_ms, last_ms,"
        " latency_hist, ttft_hist FROM daily"
    )
    return {
        tuple(row[:5]): (*row[5:8], buckets.decode(row[8]), buckets.decode(row[9])) for row in rows
    }


def model_days_by_hand(conn: sqlite3.Connection) -> dict[tuple[int, int], tuple[object, ...]]:
    """Each model's day from the raw attempts, by the one rule: counts, attempts per class,
    the successes' histograms and their bucketed percentiles."""
    days: dict[tuple[int, int], _Counted] = defaultdict(_Counted)
    for target_id, kind, cls, inconclusive, started, latency, ttft in raw_attempts(conn):
        c = days[(started - started % 86_400_000, target_id)]
        error_class, probe_kind = ErrorClass(cls), ProbeKind(kind)
        c.classes[error_class] += 1
        if probe_kind in AVAILABILITY_KINDS:
            counted = "excluded" if inconclusive else counts_as(error_class)
            setattr(c, counted, getattr(c, counted) + 1)
        if error_class in SUCCESS_CLASSES:
            if probe_kind is ProbeKind.COMPLETION and latency is not None:
                c.latency.append(latency)
            if probe_kind is ProbeKind.STREAM and ttft is not None:
                c.ttft.append(ttft)
    found = {}
    for key, c in days.items():
        latency = buckets.from_histogram(buckets.histogram(c.latency))
        ttft = buckets.from_histogram(buckets.histogram(c.ttft))
        found[key] = (
            c.ok,
            c.failed,
            c.excluded,
            {cls.value: n for cls, n in c.classes.items()},
            buckets.histogram(c.latency),
            buckets.histogram(c.ttft),
            latency.p50,
            latency.p95,
            ttft.p50,
        )
    return found


def model_day_rows(conn: sqlite3.Connection) -> dict[tuple[int, int], tuple[object, ...]]:
    rows = conn.execute(
        "SELECT day_ms, target_id, ok, failed, excluded, classes, latency_hist, ttft_hist,"
        " latency_p50, latency_p95, ttft_p50 FROM daily_model"
    )
    found = {}
    for day, t, ok, failed, excluded, classes, lat, first_token, p50, p95, tp50 in rows:
        histograms = (buckets.decode(lat), buckets.decode(first_token))
        found[(day, t)] = (ok, failed, excluded, json.loads(classes), *histograms, p50, p95, tp50)
    return found


@dataclass
class _Counted:
    ok: int = 0
    failed: int = 0
    excluded: int = 0
    classes: Counter[ErrorClass] = field(default_factory=Counter)
    latency: list[float] = field(default_factory=list)
    ttft: list[float] = field(default_factory=list)


def counted_by_hand(
    conn: sqlite3.Connection, window: Window, width_ms: int | None
) -> dict[tuple[int, int], _Counted]:
    """Per (target, bucket start; 0 for the whole window): attempts counted by the one
    rule, and the successful samples."""
    since, until = ms(window.since), ms(window.until)
    found: dict[tuple[int, int], _Counted] = defaultdict(_Counted)
    for target_id, kind, cls, inconclusive, started, latency, ttft in raw_attempts(conn):
        if not since <= started < until:
            continue
        key = (target_id, 0 if width_ms is None else started - started % width_ms)
        c = found[key]
        error_class, probe_kind = ErrorClass(cls), ProbeKind(kind)
        c.classes[error_class] += 1
        if probe_kind in AVAILABILITY_KINDS:
            counted = "excluded" if inconclusive else counts_as(error_class)
            setattr(c, counted, getattr(c, counted) + 1)
        if error_class in SUCCESS_CLASSES:
            if probe_kind is ProbeKind.COMPLETION and latency is not None:
                c.latency.append(latency)
            if probe_kind is ProbeKind.STREAM and ttft is not None:
                c.ttft.append(ttft)
    return found


# --- the tests -----------------------------------------------------------------------------

SEEDS = (1, 2, 3)
WINDOWS = (
    Window(at(hours=-5), at(days=DAYS + 1)),  # everything
    Window(at(days=1), at(days=3)),  # whole days
    Window(at(hours=7, minutes=13), at(days=2, hours=3, minutes=1)),  # cut mid-day
    Window(at(days=1, hours=5), at(days=1, hours=17)),  # inside one day
)


@pytest.fixture(params=SEEDS)
def built(request: pytest.FixtureRequest, tmp_path: Path) -> SqliteStore:
    store = SqliteStore.open(tmp_path / "history.sqlite3")
    build_history(store, request.param)
    yield store  # type: ignore[misc]
    store.close()


def _incident_rows_by_hand(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    rows = []
    for target_id, points in all_verdicts(conn).items():
        for span, end in incidents_by_hand(points):
            rows.append(
                (
                    target_id,
                    span.start,
                    span.start_run,
                    span.verdict.value,
                    span.last,
                    end,
                    len(span.runs),
                )
            )
    return sorted(rows)


def _incident_rows(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    return sorted(
        conn.execute(
            "SELECT target_id, start_ms, start_run, verdict, last_ms, end_ms, runs FROM incident"
        ).fetchall()
    )


def test_the_incident_rows_are_one_pass_over_every_verdict_in_run_order(
    built: SqliteStore,
) -> None:
    expected = _incident_rows_by_hand(built.conn)
    assert expected, "the history has incidents to compare"
    assert _incident_rows(built.conn) == expected


@pytest.mark.parametrize("window", WINDOWS)
def test_the_incidents_of_a_window_are_those_its_verdicts_show(
    built: SqliteStore, window: Window
) -> None:
    assert built.history().incidents(window) == window_incidents_by_hand(built.conn, window)


def _spans(rows: dict[tuple[int, int, str, str, int], tuple[object, ...]]) -> dict[object, object]:
    """First and last start per (day, model, kind, class), the run's status aside: a run
    that ends inconclusive moves its attempts to the other row of the pair and leaves the
    first row's span as it was (readers take the span over both)."""
    spans: dict[object, tuple[int, int]] = {}
    for (day, target, kind, cls, _), (_, first, last, *_) in rows.items():
        key = (day, target, kind, cls)
        was = spans.get(key, (first, last))
        spans[key] = (min(was[0], first), max(was[1], last))  # type: ignore[type-var]
    return spans  # type: ignore[return-value]


def assert_same_daily(
    found: dict[tuple[int, int, str, str, int], tuple[object, ...]],
    expected: dict[tuple[int, int, str, str, int], tuple[object, ...]],
) -> None:
    """The same rows, attempts and spans. (Their histograms are not compared: from schema 11
    on the daily rows are written without them, each model's day holding its successes'
    histograms instead, which `model_days_by_hand` checks; rows derived by migration 6
    keep theirs.)"""
    assert found.keys() == expected.keys()
    for key, (attempts, *_) in expected.items():
        assert found[key][0] == attempts
    assert _spans(found) == _spans(expected)


def test_the_daily_rows_sum_every_attempt_by_utc_day(built: SqliteStore) -> None:
    assert_same_daily(daily_rows(built.conn), daily_by_hand(built.conn))


def holds_a_day(window: Window) -> bool:
    since, until = ms(window.since), ms(window.until)
    return -(-since // 86_400_000) * 86_400_000 + 86_400_000 <= until


def percentiles_of(samples: list[float], window: Window) -> buckets.Percentiles:
    """Exact for a window without a whole day; else bucketed, as the histogram of every
    sample gives them (merging the daily histograms loses nothing more)."""
    if holds_a_day(window):
        return buckets.from_histogram(buckets.histogram(samples))
    return buckets.from_sorted(sorted(samples))


def test_each_models_day_is_its_raw_attempts_by_the_one_rule(built: SqliteStore) -> None:
    """Written as attempts are, moved when a run turns out inconclusive (this history has
    such runs), as one pass over the raw attempts gives it."""
    assert model_day_rows(built.conn) == model_days_by_hand(built.conn)


@pytest.mark.parametrize("window", WINDOWS)
def test_a_models_summary_counts_are_the_raw_attempts_and_its_percentiles_their_sketch(
    built: SqliteStore, window: Window
) -> None:
    expected = counted_by_hand(built.conn, window, None)
    names = {(h.provider, h.model): h for h in built.history().models(window)}
    ids = dict(built.conn.execute("SELECT provider || '/' || model, id FROM target").fetchall())
    assert len(names) == len(expected)
    for (provider, model), history in names.items():
        c = expected[(ids[f"{provider}/{model}"], 0)]
        assert (history.ok, history.failed, history.excluded) == (c.ok, c.failed, c.excluded)
        assert history.error_classes == dict(c.classes)
        assert history.latency == percentiles_of(c.latency, window)
        assert history.ttft == percentiles_of(c.ttft, window)


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("hours", [1, 6, 24])
def test_timeline_buckets_count_the_raw_attempts_and_day_percentiles_are_bucketed(
    built: SqliteStore, window: Window, hours: int
) -> None:
    width = timedelta(hours=hours)
    expected = counted_by_hand(built.conn, window, hours * HOUR_MS)
    names = dict(built.conn.execute("SELECT id, provider || '/' || model FROM target").fetchall())
    found = {
        (f"{provider}/{model}", ms(p.start)): p
        for (provider, model), points in built.history().timelines(window, width).items()
        for p in points
    }
    assert set(found) == {(names[t], start) for t, start in expected}
    for (target_id, start), c in expected.items():
        point = found[(names[target_id], start)]
        assert point.start == bucket_start(point.start, width)
        assert (point.ok, point.failed, point.excluded) == (c.ok, c.failed, c.excluded)
        latency, ttft = sorted(c.latency), sorted(c.ttft)
        exact = buckets.from_sorted(latency), buckets.from_sorted(ttft)
        bucketed = (
            buckets.from_histogram(buckets.histogram(latency)),
            buckets.from_histogram(buckets.histogram(ttft)),
        )
        # A day's percentiles come from its histogram (within 3 %) when the day is whole.
        assert (point.latency_p50, point.latency_p95, point.ttft_p50) in (
            (exact[0].p50, exact[0].p95, exact[1].p50),
            (bucketed[0].p50, bucketed[0].p95, bucketed[1].p50),
        )
        for got, want in ((point.latency_p50, exact[0].p50), (point.ttft_p50, exact[1].p50)):
            assert (got is None) == (want is None)
            if got is not None and want is not None:
                assert abs(got - want) <= 0.03 * want


def test_prune_changes_neither_the_derived_rows_nor_the_counts(built: SqliteStore) -> None:
    days_before = daily_rows(built.conn)
    incidents_before = _incident_rows(built.conn)
    # Rolled-up hours count in a window when they start inside it: windows of whole hours.
    whole_hours = [w for w in WINDOWS if w.since.minute == w.until.minute == 0]
    summary_before = {
        w: [
            (h.provider, h.model, h.ok, h.failed, h.excluded, h.error_classes)
            for h in built.history().models(w)
        ]
        for w in whole_hours
    }
    timeline_before = built.history().timelines(WINDOWS[0], timedelta(days=1))

    prune(built.conn, timedelta(days=2), at(days=DAYS))

    assert built.conn.execute("SELECT count(*) FROM rollup").fetchone()[0] > 0
    assert daily_rows(built.conn) == days_before
    assert _incident_rows(built.conn) == incidents_before
    for w, before in summary_before.items():
        after = [
            (h.provider, h.model, h.ok, h.failed, h.excluded, h.error_classes)
            for h in built.history().models(w)
        ]
        assert after == before
    assert built.history().timelines(WINDOWS[0], timedelta(days=1)) == timeline_before


V4_TABLES = (
    "run",
    "string",
    "attempt",
    "verdict",
    "catalog_set",
    "catalog_snapshot",
    "rollup",
    "target_fingerprint",
    "change_event",
)


def test_a_schema_4_database_migrates_to_the_rows_the_writers_keep(
    built: SqliteStore, tmp_path: Path
) -> None:
    """A user's history from before the derived tables: the same rows at schema 4, opened
    by this version, get the incidents and daily sums the write path kept."""
    prune(built.conn, timedelta(days=2), at(days=DAYS))  # rolled-up hours too
    old = tmp_path / "v4.sqlite3"
    conn = connect(old, create=True)
    migrate(conn, target=4)
    conn.execute("ATTACH DATABASE ? AS src", (str(built.path),))
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO target SELECT id, provider, model, first_seen_ms, last_seen_ms,"
        " last_ok_ms, served_model_id, fingerprint_id, ratelimit_id FROM src.target"
    )
    conn.execute(
        "INSERT INTO run SELECT id, started_ms, finished_ms, status, tool_version,"
        " registry_sha256, pid, host, boot_id, process_start, requests_sent, notes, attempts,"
        " last_attempt_ms FROM src.run"
    )
    for table in (t for t in V4_TABLES if t != "run"):
        conn.execute(f"INSERT INTO {table} SELECT * FROM src.{table}")  # noqa: S608
    conn.execute("COMMIT")
    conn.execute("DETACH DATABASE src")
    conn.close()

    with SqliteStore.open(old, create=False) as migrated:
        assert _incident_rows(migrated.conn) == _incident_rows(built.conn)
        assert_same_daily(daily_rows(migrated.conn), daily_rows(built.conn))
        assert model_day_rows(migrated.conn) == model_day_rows(built.conn)
        for w in WINDOWS:
            assert migrated.history().models(w) == built.history().models(w)
            assert migrated.history().incidents(w) == built.history().incidents(w)


def test_a_write_that_fails_leaves_the_daily_sums_as_they_were(tmp_path: Path) -> None:
    """The sums are written in the transaction of the attempts: when it fails, neither is
    kept."""
    with SqliteStore.open(tmp_path / "history.sqlite3") as store:
        run = store.begin_run(at(), None)
        store.add_results(run, [result("m", ProbeKind.COMPLETION, attempt(at()))])
        before = daily_rows(store.conn)
        store.conn.execute(
            "CREATE TEMP TRIGGER refuse BEFORE UPDATE ON main.daily"
            " BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
        store.conn.execute(
            "CREATE TEMP TRIGGER refuse_new BEFORE INSERT ON main.daily"
            " BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
        with pytest.raises(StoreError, match="disk full"):  # the store's error, not SQLite's
            store.add_results(run, [result("m", ProbeKind.COMPLETION, attempt(at(minutes=1)))])
        store.conn.execute("DROP TRIGGER refuse")
        store.conn.execute("DROP TRIGGER refuse_new")
        assert store.counts()["attempts"] == 1
        assert daily_rows(store.conn) == before
        assert_same_daily(before, daily_by_hand(store.conn))


@pytest.mark.parametrize("window", WINDOWS)
def test_the_streaks_are_the_rule_over_every_verdict(built: SqliteStore, window: Window) -> None:
    history = built.history()
    points = [(key, p) for key, of in history.verdicts(window).items() for p in of]
    assert history.streaks(window) == streaks_of(points)


@pytest.mark.parametrize("window", WINDOWS)
def test_a_timeline_read_after_its_summary_is_the_timeline_read_alone(
    built: SqliteStore, window: Window
) -> None:
    """A reader keeps what the summary read of each day for the timeline that follows (and
    the window's edges): the same answers as a reader that reads the timeline first."""
    shared = built.history()
    summary = shared.models(window)
    assert shared.timelines(window, timedelta(days=1)) == built.history().timelines(
        window, timedelta(days=1)
    )
    assert shared.models(window) == summary == built.history().models(window)
