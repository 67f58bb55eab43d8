"""What the report reads back (`HistoryReader`): availability counted by the one rule,
exact percentiles, timelines, verdicts, incidents, catalog changes, drift, rate limits."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from modelaudit.history import Percentiles, Window, counts_as
from modelaudit.store import buckets
from modelaudit.store.base import HistoryReader
from modelaudit.store.sqlite.reader import SqliteHistory
from modelaudit.store.sqlite.store import SqliteStore
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict

from .synthetic import at, attempt, completion, report, result

DAY = Window(at(), at(days=1))


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    opened = SqliteStore.open(tmp_path / "history.sqlite3")
    yield opened  # type: ignore[misc]
    opened.close()


def test_the_sqlite_reader_is_a_history_reader(store: SqliteStore) -> None:
    reader: HistoryReader = store.history()
    assert isinstance(reader, SqliteHistory)


def test_availability_counts_each_attempt_by_the_one_rule(store: SqliteStore) -> None:
    run = store.begin_run(at(), None)
    classes = list(ErrorClass)
    for minute, error_class in enumerate(classes):
        store.add_results(run, [completion("m", at(minutes=minute), error_class)])
    store.add_results(run, [result("m", ProbeKind.CATALOG, attempt(at(), ErrorClass.SERVER_ERROR))])
    store.finish_run(run, report(at(), {"m": Verdict.DOWN}))

    (model,) = store.history().models(DAY)

    expected = {"ok": 0, "failed": 0, "excluded": 0}
    for error_class in classes:
        expected[counts_as(error_class)] += 1
    assert (model.ok, model.failed, model.excluded) == (
        expected["ok"],
        expected["failed"],
        expected["excluded"],
    )
    assert model.error_classes[ErrorClass.SERVER_ERROR] == 2  # the catalog's is listed too
    assert model.n == expected["ok"] + expected["failed"]


def test_attempts_of_an_inconclusive_run_count_as_excluded(store: SqliteStore) -> None:
    offline = store.begin_run(at(), None)
    store.add_results(offline, [completion("m", at(minutes=1), ErrorClass.CONNECT_FAILED)])
    store.finish_run(offline, report(at(), {"m": Verdict.INCONCLUSIVE}, RunStatus.INCONCLUSIVE))
    online = store.begin_run(at(hours=1), None)
    store.add_results(online, [completion("m", at(hours=1, minutes=1))])
    store.finish_run(online, report(at(hours=1), {"m": Verdict.UP}))

    (model,) = store.history().models(DAY)

    assert (model.ok, model.failed, model.excluded) == (1, 0, 1)
    assert model.error_classes[ErrorClass.CONNECT_FAILED] == 1


def test_percentiles_are_exact_nearest_rank_over_successes_inside_a_day(
    store: SqliteStore,
) -> None:
    run = store.begin_run(at(), None)
    for i in range(1, 101):
        store.add_results(run, [completion("m", at(minutes=i), latency_ms=float(i))])
    store.add_results(run, [completion("m", at(), ErrorClass.SERVER_ERROR, latency_ms=99999.0)])
    for i in range(1, 21):  # streams: TTFT 10..200 ms, one filtered reply among them
        cls = ErrorClass.CONTENT_FILTERED if i == 20 else ErrorClass.OK
        stream = attempt(at(minutes=i), cls, latency_ms=900.0, ttft_ms=10.0 * i)
        store.add_results(run, [result("m", ProbeKind.STREAM, stream)])

    (model,) = store.history().models(Window(at(), at(hours=23)))
    (whole,) = store.history().models(DAY)

    assert model.latency == Percentiles(100, 50.0, 95.0, 99.0)
    assert model.ttft == Percentiles(20, 100.0, 190.0, 200.0)
    # A window holding a whole day reads its histograms: the same ranks, bucketed (3 %).
    assert whole.latency == buckets.from_histogram(buckets.histogram(range(1, 101)))
    assert whole.ttft == buckets.from_histogram(buckets.histogram(range(10, 201, 10)))
    assert whole.latency.p50 is not None
    assert abs(whole.latency.p50 - 50.0) <= 0.03 * 50.0


def test_a_model_without_successes_has_empty_percentiles(store: SqliteStore) -> None:
    run = store.begin_run(at(), None)
    store.add_results(run, [completion("m", at(), ErrorClass.TIMEOUT, latency_ms=30000.0)])

    (model,) = store.history().models(DAY)

    assert model.latency == Percentiles(0)
    assert model.ttft == Percentiles(0)
    assert model.last_ok is None


def test_last_ok_looks_back_before_the_window(store: SqliteStore) -> None:
    early = store.begin_run(at(days=-10), None)
    store.add_results(early, [completion("m", at(days=-10))])
    store.add_results(early, [result("m", ProbeKind.CATALOG, attempt(at(days=-9)))])
    late = store.begin_run(at(hours=2), None)
    store.add_results(late, [completion("m", at(hours=2), ErrorClass.MODEL_NOT_FOUND)])

    (model,) = store.history().models(DAY)

    assert model.last_ok == at(days=-10)  # the catalog listing is not an answer
    assert model.first_seen == model.last_seen == at(hours=2)
    assert store.last_ok("acme", "m") == at(days=-10)
    assert store.last_ok("acme", "m", before=at(days=-10)) is None
    assert store.last_ok("acme", "nobody") is None


def test_timelines_bucket_from_the_window_start_and_leave_empty_buckets_out(
    store: SqliteStore,
) -> None:
    run = store.begin_run(at(), None)
    store.add_results(run, [completion("m", at(minutes=10), latency_ms=100.0)])
    store.add_results(run, [completion("m", at(minutes=20), latency_ms=300.0)])
    store.add_results(run, [completion("m", at(hours=5), ErrorClass.SERVER_ERROR)])

    timeline = store.history().timelines(DAY, timedelta(hours=1))[("acme", "m")]

    assert [(p.start, p.ok, p.failed) for p in timeline] == [(at(), 2, 0), (at(hours=5), 0, 1)]
    assert (timeline[0].latency_p50, timeline[0].latency_p95) == (100.0, 300.0)
    assert timeline[1].latency_p50 is None


def _verdict_runs(store: SqliteStore, verdicts: list[Verdict], start_hour: int = 0) -> None:
    for hour, verdict in enumerate(verdicts, start=start_hour):
        run = store.begin_run(at(hours=hour), None)
        store.finish_run(run, report(at(hours=hour), {"m": verdict}))


def test_verdicts_come_per_model_oldest_first(store: SqliteStore) -> None:
    _verdict_runs(store, [Verdict.UP, Verdict.DOWN])

    points = store.history().verdicts(DAY)[("acme", "m")]

    assert [(p.at, p.verdict, p.reason) for p in points] == [
        (at(), Verdict.UP, "m is up"),
        (at(hours=1), Verdict.DOWN, "m is down"),
    ]


def test_an_incident_runs_from_the_first_failing_run_to_the_next_that_answers(
    store: SqliteStore,
) -> None:
    # Down, then nothing seen (skipped, our key blocked), then gone: one outage, which
    # ends only when a run finds the model answering again.
    sequence = [
        Verdict.UP,
        Verdict.DOWN,
        Verdict.SKIPPED,
        Verdict.BLOCKED,
        Verdict.DOWN,
        Verdict.GONE,
        Verdict.DEGRADED,
        Verdict.DOWN,
    ]
    _verdict_runs(store, sequence)

    incidents = store.history().incidents(DAY)

    assert [(i.verdict, i.start, i.end, i.runs) for i in incidents] == [
        (Verdict.GONE, at(hours=1), at(hours=6), 3),
        (Verdict.DOWN, at(hours=7), None, 1),
    ]


def test_a_blocked_run_neither_starts_nor_ends_an_incident(store: SqliteStore) -> None:
    _verdict_runs(store, [Verdict.UP, Verdict.BLOCKED, Verdict.UP])

    assert store.history().incidents(DAY) == []


def test_an_incident_going_on_at_the_window_start_keeps_its_real_start(
    store: SqliteStore,
) -> None:
    _verdict_runs(store, [Verdict.UP, Verdict.DOWN, Verdict.DOWN, Verdict.DOWN], start_hour=-3)

    (incident,) = store.history().incidents(DAY)

    assert (incident.start, incident.end, incident.runs) == (at(hours=-2), None, 3)


def _catalog(store: SqliteStore, hour: int, ids: tuple[str, ...]) -> None:
    run = store.begin_run(at(hours=hour), None)
    listed = attempt(at(hours=hour))
    for model in ("a", "b"):  # every model's catalog result carries the same list
        store.add_results(run, [result(model, ProbeKind.CATALOG, listed, catalog_ids=ids)])


def test_catalog_changes_name_what_appeared_and_vanished_between_snapshots(
    store: SqliteStore,
) -> None:
    _catalog(store, -5, ("a", "b", "old"))
    _catalog(store, 1, ("a", "b", "old"))
    _catalog(store, 2, ("a", "b", "new"))
    _catalog(store, 3, ("a", "b", "new"))

    changes = store.history().catalog_changes(DAY)

    assert [(c.model, c.change, c.at) for c in changes] == [
        ("new", "appeared", at(hours=2)),
        ("old", "vanished", at(hours=2)),
    ]
    assert store.counts()["catalog_snapshots"] == 4
    sets = store.conn.execute("SELECT count(*) FROM catalog_set").fetchone()[0]
    assert sets == 2  # a list seen again is stored once


def test_a_catalog_change_is_seen_against_the_last_list_before_the_window(
    store: SqliteStore,
) -> None:
    _catalog(store, -9, ("a", "b", "older"))
    _catalog(store, -5, ("a", "b", "old"))  # the last list before the window
    _catalog(store, 1, ("a", "b", "new"))
    _catalog(store, 2, ("a", "b", "new"))

    changes = store.history().catalog_changes(DAY)

    assert [(c.model, c.change, c.at) for c in changes] == [
        ("new", "appeared", at(hours=1)),
        ("old", "vanished", at(hours=1)),
    ]


def test_the_latest_catalog_is_the_providers_last_stored_list(store: SqliteStore) -> None:
    _catalog(store, 1, ("a", "b", "old"))
    _catalog(store, 2, ("a", "b", "new"))

    latest = store.latest_catalog("acme")
    before = store.latest_catalog("acme", before=at(hours=2))

    assert latest is not None
    assert (latest.taken_at, latest.ids) == (at(hours=2), frozenset({"a", "b", "new"}))
    assert before is not None
    assert before.ids == frozenset({"a", "b", "old"})
    assert store.latest_catalog("acme", before=at(hours=1)) is None
    assert store.latest_catalog("other") is None


def test_drift_names_a_different_served_model_and_fingerprint_changes(
    store: SqliteStore,
) -> None:
    run = store.begin_run(at(), None)
    served = ["gpt-x-2025-01-01", "gpt-x-2025-01-01", "gpt-x-2026-02-02", "other-model"]
    for minute, name in enumerate(served):
        store.add_results(
            run,
            [
                completion(
                    "gpt-x",
                    at(minutes=minute),
                    served_model=name,
                    system_fingerprint="fp_a" if minute < 3 else "fp_b",
                )
            ],
        )
    store.add_results(run, [completion("mini", at(), served_model="big")])

    events = [(e.model, e.kind, e.before, e.after) for e in store.history().drift(DAY)]

    assert events == [
        ("mini", "served_model", None, "big"),
        ("gpt-x", "served_model", "gpt-x-2025-01-01", "gpt-x-2026-02-02"),
        ("gpt-x", "fingerprint", "fp_a", "fp_b"),  # at the same moment: sorted by kind
        ("gpt-x", "served_model", "gpt-x-2026-02-02", "other-model"),
    ]


def test_rate_limit_ceilings_are_kept_and_counters_are_not(store: SqliteStore) -> None:
    run = store.begin_run(at(), None)
    for minute, (limit, remaining) in enumerate([("100", "99"), ("100", "98"), ("500", "497")]):
        headers = (
            ("anthropic-ratelimit-requests-limit", limit),
            ("anthropic-ratelimit-requests-remaining", remaining),
            ("retry-after", "3"),
        )
        store.add_results(run, [completion("m", at(minutes=minute), ratelimit=headers)])

    points = store.history().ratelimit_ceilings(DAY)[("acme", "m")]

    assert [(p.at, p.header, p.limit) for p in points] == [
        (at(), "anthropic-ratelimit-requests-limit", 100.0),
        (at(minutes=2), "anthropic-ratelimit-requests-limit", 500.0),
    ]
    stored = [v for (v,) in store.conn.execute("SELECT value FROM string")]
    assert not any("remaining" in v or "retry-after" in v for v in stored)


def test_every_attempt_is_stored_not_only_the_last(store: SqliteStore) -> None:
    run = store.begin_run(at(), None)
    attempts = (
        attempt(at(), ErrorClass.RATE_LIMITED, 1, http_status=429, retry_after_s=2.0),
        attempt(at(minutes=1), ErrorClass.OK, 2, http_status=200, latency_ms=640.0),
    )
    store.add_results(run, [result("m", ProbeKind.COMPLETION, *attempts)])

    rows = store.conn.execute(
        "SELECT number, error_class, http_status, retry_after_s FROM attempt ORDER BY number"
    ).fetchall()

    assert rows == [(1, "rate_limited", 429, 2.0), (2, "ok", 200, None)]
    assert store.conn.execute("SELECT attempts FROM run").fetchone()[0] == 2


def test_a_vendor_alternating_between_known_fingerprints_is_not_drift(
    store: SqliteStore,
) -> None:
    run = store.begin_run(at(), None)
    for minute, fingerprint in enumerate(["fp_a", "fp_b", "fp_a", "fp_b", "fp_c", "fp_a"]):
        store.add_results(
            run, [completion("m", at(minutes=minute), system_fingerprint=fingerprint)]
        )

    events = store.history().drift(DAY)

    assert [(e.at, e.before, e.after) for e in events] == [
        (at(minutes=1), "fp_a", "fp_b"),
        (at(minutes=4), "fp_b", "fp_c"),
    ]


def test_changes_outlive_prune_and_ceilings_in_effect_show_at_the_window_start(
    store: SqliteStore,
) -> None:
    from modelaudit.store.sqlite.prune import prune

    run = store.begin_run(at(days=-3), None)
    ceiling = (("x-ratelimit-limit-tokens", "30000"),)
    store.add_results(run, [completion("m", at(days=-3), served_model="m-1", ratelimit=ceiling)])
    store.add_results(run, [completion("m", at(hours=1), served_model="m-2", ratelimit=ceiling)])

    prune(store.conn, timedelta(hours=1), now=at(days=1))

    assert store.counts()["attempts"] == 0
    history = store.history()
    assert [(e.at, e.before, e.after) for e in history.drift(DAY)] == [(at(hours=1), "m-1", "m-2")]
    assert [(p.at, p.limit) for p in history.ratelimit_ceilings(DAY)[("acme", "m")]] == [
        (at(), 30000.0)
    ]


def test_a_list_that_changes_wholesale_every_run_reports_only_the_latest_changes(
    store: SqliteStore,
) -> None:
    from modelaudit.store.sqlite.reader import MAX_CATALOG_CHANGES

    for hour in range(1, 5):  # every run lists 600 ids no run listed before
        _catalog(store, hour, tuple(f"m-{hour}-{i}" for i in range(600)))

    changes = store.history().catalog_changes(DAY)

    assert len(changes) == MAX_CATALOG_CHANGES
    assert changes[-1].at == at(hours=4)  # the latest are kept, oldest first
    assert changes == sorted(changes, key=lambda c: c.at)


def test_a_ceiling_header_that_is_not_a_finite_number_is_no_ceiling(store: SqliteStore) -> None:
    run = store.begin_run(at(), None)
    for minute, value in enumerate(["100", "NaN", "inf", "50"]):
        header = (("x-ratelimit-limit-requests", value),)
        store.add_results(
            run, [result("a", ProbeKind.COMPLETION, attempt(at(minute), ratelimit=header))]
        )

    points = store.history().ratelimit_ceilings(DAY)[("acme", "a")]

    assert [p.limit for p in points] == [100.0, 50.0]


def test_rows_of_a_model_the_database_lost_are_reported_under_a_placeholder(
    store: SqliteStore,
) -> None:
    _verdict_runs(store, [Verdict.UP, Verdict.DOWN], start_hour=1)
    store.conn.execute("PRAGMA foreign_keys = OFF")  # what a damaged file looks like
    store.conn.execute("DELETE FROM target")

    verdicts = store.history().verdicts(DAY)

    assert list(verdicts) == [("(unknown)", "target #1")]
