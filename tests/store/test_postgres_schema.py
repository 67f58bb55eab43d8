"""PostgreSQL's migrations 3 and 5 on a database that holds history: the attempts'
durations and rates keep their values, every daily row gets the buckets of its
percentiles, as the reader would merge them from its histograms, and the attempts' texts
read back alike through one interned id. The histograms' bytes of schema 6 (migration 6
itself is tested in test_region_state.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from modelaudit.store import buckets
from modelaudit.store.backends import locate
from modelaudit.store.postgres import sums
from modelaudit.store.postgres.migrations import PAIRS_ADD, kept_buckets, retyped_sums
from modelaudit.vocabulary import ErrorClass, ProbeKind, Verdict

from .synthetic import at, attempt, completion, report, result

pytestmark = [pytest.mark.realserver, pytest.mark.xdist_group("postgres")]


def _kept_equal_merged(conn: Any) -> int:
    rows = conn.execute(
        "SELECT latency, ttft, latency_p50_bucket, latency_p95_bucket, ttft_p50_bucket FROM daily"
    ).fetchall()
    for latency, ttft, p50, p95, ttft_p50 in map(_flat, rows):
        merged = buckets.from_stored([latency] if latency else [])
        first = buckets.from_stored([ttft] if ttft else [])
        assert (_value(p50), _value(p95), _value(ttft_p50)) == (merged.p50, merged.p95, first.p50)
    return len(rows)


def _flat(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row's histograms as flat arrays, whether stored as such (schema 3 and 4) or
    encoded (schema 5)."""
    return tuple(sums.decoded(v) if isinstance(v, bytes) else v for v in row)


def _value(bucket: int | None) -> float | None:
    return None if bucket is None else buckets.bucket_value(bucket)


def test_migration_3_keeps_the_attempts_values_and_fills_the_days_percentiles(
    postgres_url: str,
) -> None:
    import psycopg

    from modelaudit.store.postgres.migrations import migrate

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        migrate(conn, target=2)
        conn.execute(
            "INSERT INTO label (id, value) VALUES (1, 'completion'), (2, 'ok'), (3, 'r');"
            "INSERT INTO run (started_ms, status, tool_version, pid, host, region_id, agent)"
            " VALUES (0, 'complete', 't', 1, 'h', 3, 'a');"
            "INSERT INTO target (provider, model) VALUES ('acme', 'm');"
            "INSERT INTO attempt (started_ms, latency_ms, ttft_ms, connect_ms, tokens_per_s,"
            " max_gap_ms, retry_after_s, run_id, target_id, kind, number, error_class)"
            " VALUES (1, 123.456, 0.001, 2147483.647, 12345.678, 3600000.4, 2.5, 1, 1, 1, 1, 2),"
            " (2, NULL, NULL, NULL, NULL, NULL, NULL, 1, 1, 1, 2, 2);"
            "INSERT INTO daily (day_ms, region_id, target_id, inconclusive, attempts, ok,"
            " failed, excluded, first_ms, last_ms, latency, ttft) VALUES"
            " (0, 0, 1, false, 9, 9, 0, 0, 1, 2, '{100,3,104,5,130,1}', '{90,2}'),"
            " (0, 3, 1, false, 1, 1, 0, 0, 1, 2, NULL, NULL)"
        )
        assert migrate(conn, target=3) == [3]
        values = conn.execute(
            "SELECT modelaudit_ms(latency_us), modelaudit_ms(ttft_us),"
            " modelaudit_ms(connect_us), tokens_per_s, modelaudit_ms(max_gap_us), retry_after_s"
            " FROM attempt ORDER BY started_ms"
        ).fetchall()
        assert values[0][:3] == (123.456, 0.001, 2147483.647)
        assert round(values[0][3], 3) == 12345.678
        assert values[0][4:] == (3600000.0, 2.5)
        assert values[1] == (None,) * 6
        assert _kept_equal_merged(conn) == 2


def test_daily_rows_written_after_keep_their_percentiles(postgres_url: str) -> None:
    import psycopg

    with locate(postgres_url).open() as store:
        for hour in range(6):
            run = store.begin_run(at(hours=hour), None)
            latencies = [float(10 * (hour + 1) * (i + 1)) for i in range(5)]
            results = [
                completion(f"m{i}", at(hours=hour), latency_ms=v) for i, v in enumerate(latencies)
            ]
            stream = attempt(at(hours=hour), ttft_ms=7.5 * (hour + 1))
            store.add_results(run, [*results, result("m0", ProbeKind.STREAM, stream)])
            store.finish_run(run, report(at(hours=hour), {}))
    with psycopg.connect(postgres_url) as conn:
        assert _kept_equal_merged(conn) == 10  # 5 models, over every region and in one


UNDO_6 = (
    "ALTER TABLE daily DROP COLUMN latency_p50_bucket, DROP COLUMN latency_p95_bucket,"
    " DROP COLUMN ttft_p50_bucket;\n"
    + retyped_sums("daily", "integer[]", "modelaudit_hist_decode")
    + kept_buckets("modelaudit_pairs_rank")
    + retyped_sums("rollup", "integer[]", "modelaudit_hist_decode")
    + """
DROP FUNCTION modelaudit_hist_rank(bytea, integer), modelaudit_hist_add(bytea, bytea),
    modelaudit_hist_encode(integer[]), modelaudit_hist_decode(bytea);
"""
    + PAIRS_ADD
    + """
CREATE AGGREGATE modelaudit_pairs_cat(integer[]) (SFUNC = array_cat, STYPE = integer[]);
DELETE FROM schema_migration WHERE version = 6;
"""
)
"""Schema 6 taken back to 5 (the period rows' `integer[]` arrays, as the writers before it
left them)."""

UNDO_5 = """
ALTER TABLE attempt ADD COLUMN served_model_id integer, ADD COLUMN fingerprint_id integer,
    ADD COLUMN ratelimit_id integer, ADD COLUMN detail_id integer;
UPDATE attempt a SET served_model_id = x.served_model_id, fingerprint_id = x.fingerprint_id,
    ratelimit_id = x.ratelimit_id, detail_id = x.detail_id
    FROM attempt_extra x WHERE x.id = a.extra_id;
ALTER TABLE attempt DROP COLUMN extra_id;
DROP TABLE attempt_extra;
DROP FUNCTION modelaudit_attempt_extras(integer[], integer[], integer[], integer[]);
DELETE FROM schema_migration WHERE version = 5;
"""
"""A database of schema 5 taken back to schema 4: the four ids on each attempt row."""

_CEILINGS = (("x-ratelimit-limit-requests", "100"), ("x-ratelimit-remaining-requests", "7"))


def _texts_history(store: Any) -> None:
    """Attempts with every mix of served model, fingerprint, ceilings and detail: all
    four, none, one alone, the same four again, another model's."""
    mixes: list[dict[str, Any]] = [
        {"served_model": "m-1", "system_fingerprint": "fp_1", "ratelimit": _CEILINGS},
        {},
        {"detail": "HTTP 500"},
        {"served_model": "m-1", "system_fingerprint": "fp_1", "ratelimit": _CEILINGS},
        {"served_model": "m-2", "detail": "answered"},
        {"ratelimit": _CEILINGS[1:]},  # no ceiling among them: nothing stored
    ]
    for hour in range(2):
        run = store.begin_run(at(hours=hour), None)
        start = at(hours=hour, minutes=1)
        store.add_results(
            run,
            [
                completion(f"m{i}", start + timedelta(seconds=i), ErrorClass.OK, **mix)
                for i, mix in enumerate(mixes)
            ]
            + [result("m0", ProbeKind.CATALOG, attempt(start, ErrorClass.SERVER_ERROR))],
        )
        store.finish_run(run, report(at(hours=hour), {"m0": Verdict.UP}))


def test_migration_5_keeps_every_attempts_texts_ids_index_and_keys(postgres_url: str) -> None:
    import psycopg

    from modelaudit.store.postgres.store import PostgresStore

    with PostgresStore.open(postgres_url) as store:
        _texts_history(store)
        exported, copied = list(store.export_attempts()), list(store.copy_out(set()))
    texts = {(e.served_model, e.system_fingerprint, str(e.ratelimit), e.detail) for e in exported}
    assert texts == {
        ("m-1", "fp_1", "{'x-ratelimit-limit-requests': '100'}", ""),
        (None, None, "{}", ""),
        (None, None, "{}", "HTTP 500"),
        ("m-2", None, "{}", "answered"),
    }
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(UNDO_6)
        conn.execute(UNDO_5)
        before = conn.execute(
            "SELECT id, served_model_id, fingerprint_id, ratelimit_id, detail_id FROM attempt"
            " ORDER BY id"
        ).fetchall()
        next_id = conn.execute("SELECT last_value + 1 FROM attempt_id_seq").fetchone()

    with PostgresStore.open(postgres_url, create=False) as migrated:
        assert list(migrated.export_attempts()) == exported
        assert list(migrated.copy_out(set())) == copied
        assert migrated.check().problems == ()
        run = migrated.begin_run(at(hours=3), None)
        again = {"served_model": "m-1", "system_fingerprint": "fp_1", "ratelimit": _CEILINGS}
        migrated.add_results(run, [completion("m0", at(hours=3), **again)])
        with migrated.pool.connection() as conn:
            after = conn.execute(
                "SELECT a.id, x.served_model_id, x.fingerprint_id, x.ratelimit_id, x.detail_id"
                " FROM attempt a LEFT JOIN attempt_extra x ON x.id = a.extra_id ORDER BY a.id"
            ).fetchall()
            combinations = conn.execute("SELECT count(*) FROM attempt_extra").fetchone()
            parts = conn.execute(
                "SELECT (SELECT count(*) FROM pg_attribute WHERE attrelid = 'attempt'::regclass"
                "  AND attisdropped),"
                " (SELECT array_agg(conname ORDER BY conname) FROM pg_constraint"
                "  WHERE conrelid = 'attempt'::regclass AND contype = 'f'),"
                " (SELECT indexdef FROM pg_indexes WHERE tablename = 'attempt'),"
                " (SELECT attidentity FROM pg_attribute WHERE attrelid = 'attempt'::regclass"
                "  AND attname = 'id')"
            ).fetchone()

    assert after[:-1] == before
    assert after[-1] == (next_id[0] if next_id else None, *before[0][1:])
    assert combinations == (3,)  # all four; the detail alone; a served model and a detail
    assert parts == (
        0,
        ["attempt_run_id_fkey", "attempt_target_id_fkey"],
        "CREATE INDEX attempt_started ON public.attempt USING brin (started_ms)"
        " WITH (pages_per_range='16')",
        "d",
    )


def test_the_histograms_bytes_are_the_same_written_by_python_or_sql_and_add_up(
    postgres_url: str,
) -> None:
    """Writers encode in Python and the upsert merges in SQL: both ends read the same
    bytes, whatever the keys (below 1 ms buckets are negative), counts (a writer's input
    takes attempts out of a row: negative) and widths."""
    import random
    from collections import Counter

    import psycopg

    from modelaudit.store.postgres.migrations import migrate

    rnd = random.Random(15)
    counts = [1, 2, 63, 64, 127, 128, 20_000, 3_000_000, -1, -200]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        migrate(conn)
        for _ in range(60):
            h = Counter(
                {rnd.randint(-130, 400): rnd.choice(counts) for _ in range(rnd.randint(0, 30))}
            )
            g = Counter(
                {rnd.randint(-130, 400): rnd.choice(counts) for _ in range(rnd.randint(0, 9))}
            )
            flat, encoded = sums.pairs(h), sums.stored(h)
            assert sums.decoded(encoded) == flat
            in_sql = conn.execute(
                "SELECT modelaudit_hist_encode(%s::integer[]), modelaudit_hist_decode(%s::bytea),"
                " modelaudit_hist_add(%s::bytea, %s::bytea)",
                (flat, encoded, encoded, sums.stored(g)),
            ).fetchone()
            assert in_sql is not None
            total = Counter(h)
            total.update(g)
            assert in_sql[:2] == (encoded, flat)
            assert sums.decoded(in_sql[2]) == sums.pairs(total)
            positive = Counter({k: abs(v) for k, v in h.items()})
            ranks = conn.execute(
                "SELECT modelaudit_hist_rank(%s, 50), modelaudit_hist_rank(%s, 95)",
                (sums.stored(positive), sums.stored(positive)),
            ).fetchone()
            merged = buckets.from_stored([sums.pairs(positive)] if positive else [])
            assert ranks is not None
            assert (_value(ranks[0]), _value(ranks[1])) == (merged.p50, merged.p95)
