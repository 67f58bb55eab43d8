"""PostgreSQL keeps nothing a batch writes shared between regions: a model's state per
region, and the all-regions daily rows built once a day is closed (an open day's summed
when read). The answers are the ones every region's rows give, whichever way a day is
kept; a database of an older schema keeps its answers through the migration."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from modelaudit.history import Window
from modelaudit.store import buckets
from modelaudit.store.base import Origin
from modelaudit.store.postgres import closing
from modelaudit.store.postgres.store import PostgresStore
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict

from .synthetic import at, attempt, completion, report, result
from .test_postgres_schema import UNDO_5, UNDO_6

pytestmark = [pytest.mark.realserver, pytest.mark.xdist_group("postgres")]
EU, US = Origin("eu-west", "agent-eu"), Origin("us-east", "agent-us")
DAYS = Window(at(), at(days=2))


@pytest.fixture
def store(postgres_url: str) -> Iterator[PostgresStore]:
    with PostgresStore.open(postgres_url) as opened:
        yield opened


def _write(store: PostgresStore, origin: Origin, hour: float, *, offline: bool = False) -> int:
    """A run of two models: completions with latencies, a stream, one failure."""
    run = store.begin_run(at(hours=hour), None, origin)
    start = at(hours=hour, minutes=1)
    cls = ErrorClass.CONNECT_FAILED if offline else ErrorClass.OK
    store.add_results(
        run,
        [
            completion("a", start, cls, latency_ms=100.0 + hour),
            completion("a", start + timedelta(minutes=1), ErrorClass.SERVER_ERROR),
            completion("b", start, cls, latency_ms=900.0 * (1 + hour)),
            result("b", ProbeKind.STREAM, attempt(start, cls, ttft_ms=40.0 + hour)),
        ],
    )
    return run


def _answers(store: PostgresStore) -> tuple[object, ...]:
    history = store.history()
    return (
        history.models(DAYS),
        history.models(Window(at(hours=5), at(days=1, hours=20))),  # cut edges
        history.timelines(DAYS, timedelta(days=1)),
        history.regions(DAYS),
        store.last_ok("acme", "a"),
        store.last_ok("acme", "b", at(days=1)),
    )


def _all_regions_rows(store: PostgresStore) -> int:
    with store.pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM daily WHERE region_id = 0").fetchone()
    assert row is not None
    return int(row[0])


def test_a_day_answers_alike_open_closed_and_written_into_after_it_closed(
    store: PostgresStore,
) -> None:
    for hour in (0, 6, 25, 30):
        _write(store, EU, hour)
        _write(store, US, hour + 1, offline=hour == 6)
    assert _all_regions_rows(store) == 0  # no batch wrote an all-regions row
    with store.pool.connection() as conn:
        assert closing.closed_days(conn, 0, 2**62) == []
    open_days = _answers(store)

    closed = closing.close_days(store.pool)

    assert closed == [_day(at()), _day(at(days=1))]
    assert closing.close_days(store.pool) == []
    assert _all_regions_rows(store) == 4  # two days, two models
    assert _answers(store) == open_days
    # A late batch (and a run made inconclusive at its end) into a closed day adds to its
    # all-regions rows too: the same answers as the same writes on days left open.
    late = _write(store, US, 10)
    store.finish_run(late, report(at(hours=10), {"a": Verdict.DOWN}, RunStatus.INCONCLUSIVE))
    after = _answers(store)
    assert after != open_days
    with store.pool.connection() as conn:
        conn.execute("DELETE FROM daily WHERE region_id = 0")
        conn.execute("DELETE FROM daily_closed")
    assert _answers(store) == after
    (a, b) = after[0]  # type: ignore[misc]
    assert (a.ok, a.failed, a.excluded, b.ok, b.excluded) == (7, 9, 2, 14, 2)


def test_an_agent_writes_while_other_regions_hold_the_rows_older_agents_shared(
    store: PostgresStore, postgres_url: str
) -> None:
    """Another region's batch in flight holding what every batch used to update (each
    model's row, the all-regions daily rows, its region's state) does not hold this one."""
    closed_run = _write(store, EU, 0)
    store.finish_run(closed_run, report(at(), {"a": Verdict.UP, "b": Verdict.UP}))
    today = datetime.now(UTC).replace(microsecond=0)
    other = store.begin_run(today, None, EU)
    store.add_results(other, [completion("a", today), completion("b", today)])
    with psycopg.connect(postgres_url) as holder:
        holder.execute("UPDATE target SET last_ok_ms = last_ok_ms")
        holder.execute("UPDATE daily SET attempts = attempts WHERE region_id = 0")
        holder.execute("UPDATE target_state SET last_ok_ms = last_ok_ms")
        run = store.begin_run(today, None, US)
        done = threading.Event()

        def write() -> None:
            store.add_results(run, [completion("a", today), completion("b", today)])
            done.set()

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        assert done.wait(10), "the batch waited for another region's rows"
        holder.rollback()
    writer.join()


def test_the_same_served_model_change_seen_by_each_region_is_one_drift_event(
    store: PostgresStore,
) -> None:
    for origin, minute in ((EU, 0), (US, 1)):
        run = store.begin_run(at(minutes=minute), None, origin)
        for step, served in enumerate(("a-1", "a-2", "a-1")):
            when = at(hours=step, minutes=minute)
            store.add_results(run, [completion("a", when, served_model=served)])
    run = store.begin_run(at(hours=5), None, US)
    store.add_results(run, [completion("a", at(hours=5), served_model="other")])

    drift = [(d.at, d.before, d.after) for d in store.history().drift(DAYS)]
    late = [
        (d.at, d.before, d.after)
        for d in store.history().drift(Window(at(hours=1, minutes=1), at(days=1)))
    ]

    assert drift == [
        (at(hours=1), "a-1", "a-2"),
        (at(hours=2), "a-2", "a-1"),
        (at(hours=5), "a-1", "other"),
    ]
    assert late == [(at(hours=2), "a-2", "a-1"), (at(hours=5), "a-1", "other")]


_BEFORE_SCHEMA_3 = """
UPDATE target t SET first_seen_ms = s.first, last_seen_ms = s.last, last_ok_ms = s.ok,
    served_model_id = s.served, fingerprint_id = s.fingerprint, ratelimit_id = s.ratelimit
    FROM (SELECT target_id, min(first_seen_ms) AS first, max(last_seen_ms) AS last,
        max(last_ok_ms) AS ok, max(served_model_id) AS served,
        max(fingerprint_id) AS fingerprint, max(ratelimit_id) AS ratelimit
        FROM target_state GROUP BY 1) AS s WHERE s.target_id = t.id;
DROP TABLE target_state, daily_closed;
DROP FUNCTION modelaudit_lock_days(integer[]);
DROP AGGREGATE modelaudit_pairs_cat(integer[]);
DELETE FROM schema_migration WHERE version = 4;
"""


def test_a_database_of_the_schema_before_keeps_its_answers_through_the_migration(
    store: PostgresStore, postgres_url: str
) -> None:
    """Rows as the writers before schema 3 left them (each model's state in `target`,
    every day's all-regions rows kept, today's too) answer as they did, and the next
    batch compares its served model with the one the model had."""
    today = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    for hour in (0, 25):
        _write(store, EU, hour)
        _write(store, US, hour + 1)
    run = store.begin_run(today, None, US)
    store.add_results(run, [completion("a", today, served_model="a-1")])
    closing.close_days(store.pool)
    with store.pool.connection() as conn:
        closing._close(conn, day=_day(today))  # as every batch kept them before
        regions = conn.execute("SELECT * FROM target_state ORDER BY 1, 2").fetchall()
    before = _answers(store), store.history().models(Window(today, today + timedelta(hours=1)))
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(UNDO_6)
        conn.execute(UNDO_5)
        conn.execute(_BEFORE_SCHEMA_3)

    with PostgresStore.open(postgres_url, create=False) as migrated:
        after = (
            _answers(migrated),
            migrated.history().models(Window(today, today + timedelta(hours=1))),
        )
        with migrated.pool.connection() as conn:
            closed = closing.closed_days(conn, 0, 2**62)
            kept = conn.execute("SELECT * FROM target_state ORDER BY 1, 2").fetchall()
        served = migrated.begin_run(today, None, EU)
        migrated.add_results(served, [completion("a", today, served_model="a-2")])
        drift = migrated.history().drift(
            Window(today - timedelta(days=1), today + timedelta(days=1))
        )

    assert after == before
    assert closed == [_day(at()), _day(at(days=1))]  # today stays open: read from its regions' rows
    assert [row[:5] for row in kept] == [row[:5] for row in regions]
    assert [(d.before, d.after) for d in drift] == [("a-1", "a-2")]


_STORED_SUMS = (
    "SELECT classes, latency, ttft, latency_p50_bucket, latency_p95_bucket, ttft_p50_bucket"
    " FROM daily ORDER BY day_ms, region_id, target_id, inconclusive"
)
_ROLLUP_SUMS = "SELECT classes, latency, ttft FROM rollup ORDER BY hour_ms, region_id, target_id"


def test_period_rows_of_schema_4_keep_their_answers_and_bytes_through_migration_5(
    store: PostgresStore, postgres_url: str
) -> None:
    """The class counts and histograms stored as `integer[]` (closed days, an open day,
    pruned hours) are converted to the bytes a writer of schema 5 writes, the kept
    percentiles generated again, every answer the same, and writers go on adding."""
    today = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    for hour in (0, 6, 25):
        _write(store, EU, hour)
        _write(store, US, hour + 1, offline=hour == 6)
    run = store.begin_run(today, None, US)
    store.add_results(run, [completion("a", today, latency_ms=321.0)])
    closing.close_days(store.pool)
    store.prune(timedelta(days=1), at(days=2))  # day 0 kept as hourly rollups
    before = _answers(store), store.history().models(Window(today, today + timedelta(hours=1)))
    with store.pool.connection() as conn:
        stored = conn.execute(_STORED_SUMS).fetchall(), conn.execute(_ROLLUP_SUMS).fetchall()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(UNDO_6)
        arrays = conn.execute("SELECT latency FROM daily WHERE latency IS NOT NULL").fetchall()
        assert arrays
        assert all(isinstance(row[0], list) for row in arrays)

    with PostgresStore.open(postgres_url, create=False) as migrated:
        after = (
            _answers(migrated),
            migrated.history().models(Window(today, today + timedelta(hours=1))),
        )
        with migrated.pool.connection() as conn:
            converted = conn.execute(_STORED_SUMS).fetchall(), conn.execute(_ROLLUP_SUMS).fetchall()
        later = migrated.begin_run(today, None, EU)
        migrated.add_results(later, [completion("a", today, latency_ms=321.0)])
        added = migrated.history().models(Window(today, today + timedelta(hours=1)))
        with migrated.pool.connection() as conn:
            kept = conn.execute(
                "SELECT modelaudit_hist_decode(latency), latency_p50_bucket FROM daily"
                " WHERE day_ms = %s AND region_id <> 0 AND latency IS NOT NULL ORDER BY region_id",
                (_day(today),),
            ).fetchall()

    assert after == before
    assert converted == stored
    assert all(rows and any(isinstance(row[1], bytes) for row in rows) for rows in converted)
    (a,) = (m for m in added if m.model == "a")
    assert (a.ok, a.latency.n) == (2, 2)
    bucket = buckets.bucket_of(321.0)
    assert sorted(kept) == [([bucket, 1], bucket), ([bucket, 1], bucket)]  # US, then EU's new


def _day(moment: datetime) -> int:
    ms = round(moment.timestamp() * 1000)
    return ms - ms % 86_400_000


def test_a_batch_into_a_day_being_closed_waits_and_adds_to_its_all_regions_rows(
    store: PostgresStore, postgres_url: str
) -> None:
    """The race the day's lock settles: a day closed while a batch writes into it."""
    _write(store, EU, 0)
    run = store.begin_run(at(hours=2), None, US)
    done = threading.Event()
    with psycopg.connect(postgres_url) as closer:
        assert closing._close(closer, day=_day(at()))  # not committed yet
        writer = threading.Thread(
            target=lambda: (store.add_results(run, [completion("a", at(hours=2))]), done.set()),
            daemon=True,
        )
        writer.start()
        for _ in range(500):  # until the batch waits for the day's lock
            found = closer.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            ).fetchone()
            if done.is_set() or (found and found[0]):
                break
            threading.Event().wait(0.02)
        assert not done.is_set(), "the batch did not wait for the day being closed"
        closer.commit()
    writer.join(10)
    assert done.is_set()
    with store.pool.connection() as conn:
        (summed,) = conn.execute(
            "SELECT attempts FROM daily d JOIN target t ON t.id = d.target_id"
            " WHERE d.region_id = 0 AND t.model = 'a'"
        ).fetchone() or (None,)
    assert summed == 3  # two from the closed rows, one from the batch that waited
