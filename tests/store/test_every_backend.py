"""What every store backend answers alike, through the interface only (`store/base.py`):
SQLite and PostgreSQL, the latter a real server."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from modelaudit.errors import LockedError
from modelaudit.history import Percentiles, Window, counts_as, streaks_of
from modelaudit.store import buckets
from modelaudit.store.backends import locate
from modelaudit.store.base import Origin, Store
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict

from .backends_fixture import location, second_location  # noqa: F401 - fixtures
from .synthetic import at, attempt, completion, report, result

DAY = Window(at(), at(days=1))
EU, US = Origin("eu-west", "agent-eu"), Origin("us-east", "agent-us")


@pytest.fixture
def store(location: str) -> Iterator[Store]:  # noqa: F811 - the fixture above
    with locate(location).open() as opened:
        yield opened


def _runs(store: Store, origin: Origin, verdicts: list[Verdict], start_hour: int = 0) -> None:
    for hour, verdict in enumerate(verdicts, start=start_hour):
        run = store.begin_run(at(hours=hour), None, origin)
        ok = verdict in (Verdict.UP, Verdict.DEGRADED)
        cls = ErrorClass.OK if ok else ErrorClass.ACCESS_DENIED
        store.add_results(run, [completion("m", at(hours=hour, minutes=1), cls)])
        store.finish_run(run, report(at(hours=hour), {"m": verdict}))


def test_availability_counts_each_attempt_by_the_one_rule(store: Store) -> None:
    run = store.begin_run(at(), None)
    classes = list(ErrorClass)
    for minute, error_class in enumerate(classes):
        store.add_results(run, [completion("m", at(minutes=minute), error_class)])
    store.add_results(run, [result("m", ProbeKind.CATALOG, attempt(at(), ErrorClass.SERVER_ERROR))])
    store.finish_run(run, report(at(), {"m": Verdict.DOWN}))

    for window in (DAY, Window(at(), at(hours=20))):
        (model,) = store.history().models(window)
        expected = {"ok": 0, "failed": 0, "excluded": 0}
        for error_class in classes:
            expected[counts_as(error_class)] += 1
        assert (model.ok, model.failed, model.excluded) == tuple(expected.values())
        assert model.error_classes[ErrorClass.SERVER_ERROR] == 2


def test_percentiles_are_exact_inside_a_day_and_within_3_percent_over_whole_days(
    store: Store,
) -> None:
    run = store.begin_run(at(), None)
    store.add_results(
        run, [completion("m", at(minutes=i), latency_ms=float(i)) for i in range(1, 101)]
    )

    (short,) = store.history().models(Window(at(), at(hours=12)))
    (whole,) = store.history().models(DAY)

    assert short.latency == Percentiles(100, 50.0, 95.0, 99.0)
    assert whole.latency.n == 100
    for found, exact in ((whole.latency.p50, 50), (whole.latency.p95, 95), (whole.latency.p99, 99)):
        assert found == pytest.approx(exact, rel=0.03)


def test_an_inconclusive_run_counts_as_excluded(store: Store) -> None:
    offline = store.begin_run(at(), None)
    store.add_results(offline, [completion("m", at(minutes=1), ErrorClass.CONNECT_FAILED)])
    store.finish_run(offline, report(at(), {"m": Verdict.INCONCLUSIVE}, RunStatus.INCONCLUSIVE))
    online = store.begin_run(at(hours=1), None)
    store.add_results(online, [completion("m", at(hours=1, minutes=1))])
    store.finish_run(online, report(at(hours=1), {"m": Verdict.UP}))

    for window in (DAY, Window(at(), at(hours=3))):
        (model,) = store.history().models(window)
        assert (model.ok, model.failed, model.excluded) == (1, 0, 1)


def test_incidents_verdicts_and_counts_are_kept_per_region(store: Store) -> None:
    _runs(store, EU, [Verdict.UP, Verdict.DOWN, Verdict.DOWN, Verdict.UP])
    _runs(store, US, [Verdict.UP, Verdict.UP, Verdict.UP, Verdict.UP])
    history = store.history()

    (incident,) = history.incidents(DAY)
    by_region = {r.region: (r.ok, r.n) for r in history.regions(DAY)}
    points = history.verdicts(Window(at(), at(days=1), frozenset({"us-east"})))[("acme", "m")]
    (eu_only,) = history.models(Window(at(), at(days=1), frozenset({"eu-west"})))

    assert (incident.region, incident.verdict, incident.start, incident.end, incident.runs) == (
        "eu-west",
        Verdict.DOWN,
        at(hours=1),
        at(hours=3),
        2,
    )
    assert by_region == {"eu-west": (2, 2), "us-east": (4, 4)}  # access_denied is excluded
    assert {p.region for p in points} == {"us-east"}
    assert len(points) == 4
    assert (eu_only.ok, eu_only.excluded) == (2, 2)
    runs = store.recent_runs(10, frozenset({"eu-west"}))
    assert {(r.region, r.agent) for r in runs} == {("eu-west", "agent-eu")}
    model_runs = store.model_runs(store.find_model("m"), 3, frozenset({"us-east"}))
    assert [r.region for r in model_runs] == ["us-east"] * 3


def test_streaks_are_the_rule_over_the_verdicts_per_model_and_region(store: Store) -> None:
    """The stores compute streaks in SQL: the same answer as `streaks_of` over every
    verdict, undecided runs passed over, for any window and any set of models."""
    _runs(store, EU, [Verdict.UP, Verdict.DOWN, Verdict.SKIPPED, Verdict.DOWN, Verdict.GONE])
    _runs(store, US, [Verdict.DOWN, Verdict.UP, Verdict.INCONCLUSIVE, Verdict.UP], start_hour=1)
    _runs(store, US, [Verdict.SKIPPED], start_hour=9)
    history = store.history()

    for window in (
        DAY,
        Window(at(hours=2), at(hours=5)),
        Window(at(hours=1), at(days=1), frozenset({"us-east"})),
    ):
        points = [(key, p) for key, of in history.verdicts(window).items() for p in of]
        assert history.streaks(window) == streaks_of(points)
    eu, us = history.streaks(DAY)
    assert (eu.region, eu.last.verdict, eu.since, eu.runs) == (
        "eu-west",
        Verdict.GONE,
        at(hours=4),
        1,
    )
    assert (us.region, us.last.verdict, us.since, us.runs) == (
        "us-east",
        Verdict.UP,
        at(hours=2),
        2,
    )
    assert history.streaks(DAY, frozenset({("acme", "nobody")})) == []
    assert history.run_starts(DAY) == [at(hours=h) for h in (0, 1, 2, 3, 4, 9)]


def test_catalog_changes_drift_and_ceilings(store: Store) -> None:
    for hour, ids in enumerate((("a", "old"), ("a", "old"), ("a", "new"))):
        run = store.begin_run(at(hours=hour), None)
        listed = attempt(at(hours=hour))
        store.add_results(run, [result("a", ProbeKind.CATALOG, listed, catalog_ids=ids)])
    run = store.begin_run(at(hours=5), None)
    ceiling = (("x-ratelimit-limit-tokens", "30000"),)
    for minute, (served, fingerprint) in enumerate([("a-1", "fp1"), ("a-2", "fp2")]):
        store.add_results(
            run,
            [
                completion(
                    "a",
                    at(hours=5, minutes=minute),
                    served_model=served,
                    system_fingerprint=fingerprint,
                    ratelimit=ceiling,
                )
            ],
        )
    history = store.history()

    changes = [(c.model, c.change, c.at) for c in history.catalog_changes(DAY)]
    drift = [(d.kind, d.before, d.after) for d in history.drift(DAY)]
    ceilings = history.ratelimit_ceilings(DAY)[("acme", "a")]

    assert changes == [("new", "appeared", at(hours=2)), ("old", "vanished", at(hours=2))]
    assert drift == [  # `a-1` answering for `a` is the model asked for: no event
        ("fingerprint", "fp1", "fp2"),
        ("served_model", "a-1", "a-2"),
    ]
    assert [(p.header, p.limit) for p in ceilings] == [("x-ratelimit-limit-tokens", 30000.0)]
    latest = store.latest_catalog("acme")
    assert latest is not None
    assert latest.ids == frozenset({"a", "new"})
    assert store.last_ok("acme", "a") == at(hours=5, minutes=1)


def test_export_lines_carry_the_region_and_agent(store: Store) -> None:
    run = store.begin_run(at(), None, EU)
    store.add_results(run, [completion("m", at(minutes=1), detail="answered")])

    (line,) = list(store.export_attempts())

    assert (line.region, line.agent, line.kind, line.detail) == (
        "eu-west",
        "agent-eu",
        "completion",
        "answered",
    )


def test_prune_keeps_what_the_window_reads(store: Store) -> None:
    _runs(store, EU, [Verdict.UP, Verdict.DOWN, Verdict.UP])
    before = store.history().models(Window(at(), at(hours=12)))

    pruned = store.prune(timedelta(hours=1), at(days=2))

    assert pruned.attempts == 3
    after = store.history().models(Window(at(), at(hours=12)))
    assert [(m.ok, m.failed, m.excluded) for m in after] == [
        (m.ok, m.failed, m.excluded) for m in before
    ]
    assert store.check().ok


def test_db_copy_is_idempotent_and_keeps_what_the_history_answers(
    store: Store,
    second_location: str,  # noqa: F811 - the fixture above
) -> None:
    _runs(store, EU, [Verdict.UP, Verdict.DOWN, Verdict.DOWN])
    _runs(store, US, [Verdict.UP, Verdict.UP], start_hour=1)
    with locate(second_location).open() as target:
        copied = [target.copy_in(run) for run in store.copy_out(target.run_identities())]
        again = list(store.copy_out(target.run_identities()))
        source, copy = store.history(), target.history()
        assert copied == [True] * 5
        assert again == []
        assert [(m.ok, m.failed, m.excluded) for m in copy.models(DAY)] == [
            (m.ok, m.failed, m.excluded) for m in source.models(DAY)
        ]
        assert copy.incidents(DAY) == source.incidents(DAY)
        assert copy.regions(DAY) == source.regions(DAY)
        assert [(p.at, p.verdict, p.region) for p in copy.verdicts(DAY)[("acme", "m")]] == [
            (p.at, p.verdict, p.region) for p in source.verdicts(DAY)[("acme", "m")]
        ]


def test_a_killed_agents_run_is_marked_interrupted_on_the_next_open(location: str) -> None:  # noqa: F811
    with locate(location).open() as store:
        run = store.begin_run(at(), None)
        store.add_results(run, [completion("m", at(minutes=1))])
    # The same process id would look alive: pretend its writer died.
    fake_dead = "UPDATE run SET pid = 2147483000"
    _execute(location, fake_dead)
    with locate(location).open(create=False) as store:
        assert store.swept == [run]
        (summary,) = store.recent_runs(5)
        assert summary.status is RunStatus.INTERRUPTED
        assert summary.attempts == 1


def _execute(where: str, sql: str) -> None:
    if where.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(where, autocommit=True) as conn:
            conn.execute(sql)
        return
    import sqlite3

    conn = sqlite3.connect(where)
    conn.execute(sql)
    conn.commit()
    conn.close()


def test_the_fleet_lock_is_one_per_agent_and_region(location: str) -> None:  # noqa: F811
    where = locate(location)
    with where.exclusive(EU):
        locked = pytest.raises(LockedError, match="another exclusive modelaudit run")
        with locked, where.exclusive(EU):
            pass
        if location.startswith("postgresql://"):  # a shared store scopes it to the agent
            with where.exclusive(US):
                pass
    with where.exclusive(EU):
        pass


def test_an_attempts_measurements_come_back_as_the_probe_wrote_them(
    store: Store,
    second_location: str,  # noqa: F811 - the fixture above
) -> None:
    # The probe rounds durations and rates to three decimals; PostgreSQL stores durations
    # as integer microseconds and rates as `real` (schema 3): export and copy give back
    # the same numbers, and a duration beyond 35.8 minutes its milliseconds.
    durations = [0.001, 0.5, 123.456, 59_999.999, 2_147_483.647]
    rates = [0.001, 85.123, 1_234.567, 12_345.678]
    run = store.begin_run(at(), None)
    written = [
        result(
            f"m{i}",
            ProbeKind.STREAM,
            attempt(
                at(minutes=i),
                latency_ms=value,
                ttft_ms=value,
                connect_ms=value,
                max_gap_ms=value,
                tokens_per_s=rates[i % len(rates)],
                retry_after_s=86_400.0 if i == 0 else None,
            ),
        )
        for i, value in enumerate(durations)
    ]
    long = attempt(at(minutes=9), latency_ms=3_600_000.123, max_gap_ms=2_400_000.5)
    store.add_results(run, [*written, result("slow", ProbeKind.STREAM, long)])
    store.finish_run(run, report(at(), {}))

    def measured(found: list[Any]) -> list[tuple[Any, ...]]:
        return [
            (a.latency_ms, a.ttft_ms, a.connect_ms, a.max_gap_ms, a.tokens_per_s, a.retry_after_s)
            for a in found
        ]

    expected = [
        (v, v, v, v, rates[i % len(rates)], 86_400.0 if i == 0 else None)
        for i, v in enumerate(durations)
    ]
    exported = list(store.export_attempts())
    assert measured(exported[:-1]) == expected
    assert exported[-1].latency_ms == pytest.approx(3_600_000.123, abs=0.5)
    assert exported[-1].max_gap_ms == pytest.approx(2_400_000.5, abs=0.5)
    with locate(second_location).open() as target:
        for stored in store.copy_out(set()):
            target.copy_in(stored)
        (copied,) = target.copy_out(set())
        attempts = [r.attempts[0] for r in copied.results if r.model != "slow"]
        assert measured(sorted(attempts, key=lambda a: a.started_at)) == expected


def test_a_timeline_of_days_gives_each_days_bucketed_percentiles(store: Store) -> None:
    # PostgreSQL's daily rows keep the buckets of their p50/p95 (schema 3), SQLite's
    # `daily_model` its percentiles: a day read whole gives what its histogram does, a
    # day with an inconclusive run's too (two rows on PostgreSQL, merged). (Per region,
    # SQLite reads the attempts: exact; test_postgres_schema checks PostgreSQL's rows.)
    rng = random.Random(15)
    samples: dict[tuple[str, int], dict[str, list[float]]] = defaultdict(
        lambda: {"latency": [], "ttft": []}
    )
    for day in range(3):
        for hour, origin in enumerate((EU, US, EU, US, EU)):
            started = at(days=day, hours=2 * hour)
            inconclusive = day == 1 and hour == 4
            run = store.begin_run(started, None, origin)
            results = []
            for model in ("a", "b"):
                latency = round(rng.lognormvariate(6, 0.8), 3)
                ttft = round(rng.lognormvariate(5, 0.6), 3)
                when = started + timedelta(minutes=1)
                results.append(completion(model, when, latency_ms=latency))
                results.append(result(model, ProbeKind.STREAM, attempt(when, ttft_ms=ttft)))
                samples[(model, day)]["latency"].append(latency)
                samples[(model, day)]["ttft"].append(ttft)
            store.add_results(run, results)
            status = RunStatus.INCONCLUSIVE if inconclusive else RunStatus.COMPLETE
            verdict = Verdict.INCONCLUSIVE if inconclusive else Verdict.UP
            store.finish_run(run, report(started, {"a": verdict, "b": verdict}, status))

    timelines = store.history().timelines(Window(at(), at(days=3)), timedelta(days=1))
    assert sorted(timelines) == [("acme", "a"), ("acme", "b")]
    for (_, model), points in timelines.items():
        assert [p.start for p in points] == [at(days=d) for d in range(3)]
        for day, point in enumerate(points):
            kept = samples[(model, day)]
            latency = buckets.from_histogram(buckets.histogram(kept["latency"]))
            ttft = buckets.from_histogram(buckets.histogram(kept["ttft"]))
            assert (point.latency_p50, point.latency_p95, point.ttft_p50) == (
                latency.p50,
                latency.p95,
                ttft.p50,
            )
