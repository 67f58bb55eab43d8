"""`db prune`: old attempts become hourly rollups that still answer availability and
percentiles; `db export`: raw attempts as versioned JSON lines."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import pytest

from modelaudit.cli.app import main
from modelaudit.history import Window
from modelaudit.store.export import EXPORT_SCHEMA_VERSION, FIELDS
from modelaudit.store.sqlite.prune import prune
from modelaudit.store.sqlite.store import SqliteStore
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict

from .synthetic import at, attempt, completion, report, result

MONTH = Window(at(), at(days=30))


def _fill(store: SqliteStore, days: int = 30) -> None:
    """A model probed every hour for `days` days: latencies spread 100..3000 ms, one
    failure a day, one rate limit a day; one inconclusive run."""
    rng = random.Random(3)
    for hour in range(days * 24):
        run = store.begin_run(at(hours=hour), None)
        failed = hour % 24 == 5
        store.add_results(
            run,
            [
                completion(
                    "m",
                    at(hours=hour, minutes=1),
                    ErrorClass.SERVER_ERROR if failed else ErrorClass.OK,
                    latency_ms=round(rng.uniform(100, 3000), 3),
                )
            ],
        )
        stream = attempt(at(hours=hour, minutes=2), latency_ms=900.0, ttft_ms=rng.uniform(50, 800))
        store.add_results(run, [result("m", ProbeKind.STREAM, stream)])
        if hour % 24 == 7:
            store.add_results(
                run, [completion("m", at(hours=hour, minutes=3), ErrorClass.RATE_LIMITED)]
            )
        status = RunStatus.INCONCLUSIVE if hour == 100 else RunStatus.COMPLETE
        store.finish_run(run, report(at(hours=hour), {"m": Verdict.UP}, status))


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    opened = SqliteStore.open(tmp_path / "history.sqlite3")
    yield opened  # type: ignore[misc]
    opened.close()


def test_rolled_up_hours_keep_counts_exactly_and_percentiles_within_the_bucket_width(
    store: SqliteStore,
) -> None:
    _fill(store)
    before = store.history().models(MONTH)[0]

    done = prune(store.conn, timedelta(days=10), now=at(days=40))

    assert done.attempts == 30 * 24 * 2 + 30
    assert store.counts()["attempts"] == 0
    (after,) = store.history().models(MONTH)
    assert (after.ok, after.failed, after.excluded) == (before.ok, before.failed, before.excluded)
    assert after.error_classes == before.error_classes
    assert (after.first_seen, after.last_seen, after.last_ok) == (
        before.first_seen,
        before.last_seen,
        before.last_ok,
    )
    for bucketed, exact in ((after.latency, before.latency), (after.ttft, before.ttft)):
        assert bucketed.n == exact.n
        for got, want in (
            (bucketed.p50, exact.p50),
            (bucketed.p95, exact.p95),
            (bucketed.p99, exact.p99),
        ):
            assert got is not None
            assert want is not None
            assert abs(got - want) / want < 0.03
    assert store.counts()["verdicts"] == 30 * 24  # runs and verdicts are kept


def test_a_window_across_the_prune_boundary_counts_both_and_a_second_prune_changes_nothing(
    store: SqliteStore,
) -> None:
    _fill(store)
    before = store.history().models(MONTH)[0]
    prune(store.conn, timedelta(days=25), now=at(days=40))  # days 0-14 rolled up, 15-29 raw
    mixed = store.history().models(MONTH)[0]
    assert (mixed.ok, mixed.failed, mixed.excluded) == (before.ok, before.failed, before.excluded)
    assert mixed.latency.n == before.latency.n

    again = prune(store.conn, timedelta(days=25), now=at(days=40))

    assert again.attempts == 0
    assert store.history().models(MONTH)[0] == mixed
    timeline = store.history().timelines(MONTH, timedelta(days=1))[("acme", "m")]
    counted = [p.ok + p.failed for p in timeline]  # each day: 24 completions, 24 streams
    assert counted == [48] * 4 + [46] + [48] * 25  # hour 100's run was inconclusive
    assert [p.failed for p in timeline] == [1] * 30


def test_export_writes_every_raw_attempt_as_a_versioned_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.sqlite3"
    with SqliteStore.open(db) as store:
        run = store.begin_run(at(), "f" * 64)
        attempts = (
            attempt(
                at(),
                ErrorClass.RATE_LIMITED,
                1,
                http_status=429,
                retry_after_s=1.5,
                ratelimit=(("x-ratelimit-limit-requests", "60"),),
            ),
            attempt(
                at(minutes=1),
                ErrorClass.OK,
                2,
                http_status=200,
                latency_ms=812.5,
                served_model="m-2026",
                system_fingerprint="fp_1",
                connection_reused=True,
            ),
        )
        store.add_results(run, [result("m", ProbeKind.COMPLETION, *attempts)])
        store.finish_run(run, report(at(), {"m": Verdict.UP}))

    assert main(["db", "export", "--db", str(db)]) == 0
    out, err = capsys.readouterr()

    lines = [json.loads(line) for line in out.splitlines()]
    assert [list(line) for line in lines] == [list(FIELDS)] * 2
    first, second = lines
    assert first["schema_version"] == EXPORT_SCHEMA_VERSION == 1
    assert (first["error_class"], first["http_status"], first["retry_after_s"]) == (
        "rate_limited",
        429,
        1.5,
    )
    assert first["ratelimit"] == {"x-ratelimit-limit-requests": "60"}
    assert first["started_at"] == "2026-03-01T00:00:00.000Z"
    assert (second["attempt"], second["latency_ms"], second["served_model"]) == (2, 812.5, "m-2026")
    assert (second["connection_reused"], second["run_status"]) == (True, "complete")
    assert "exported 2 attempts" in err


def test_prune_and_export_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.sqlite3"
    with SqliteStore.open(db) as store:  # attempts of 2026-03-01: long before "now"
        _fill(store, days=1)

    assert main(["db", "prune", "--older-than", "90d", "--db", str(db)]) == 0
    assert "rolled 49 attempts from before" in capsys.readouterr().err
    assert main(["db", "export", "--db", str(db), "-o", str(tmp_path / "a.jsonl")]) == 0
    assert (tmp_path / "a.jsonl").read_text() == ""
    assert main(["db", "prune", "--older-than", "soon", "--db", str(db)]) == 2
    assert "`soon` is not a duration" in capsys.readouterr().err


def test_db_check_fails_loudly_on_a_damaged_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.sqlite3"
    with SqliteStore.open(db) as store:
        _fill(store, days=2)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    page = 4096
    data[2 * page : 6 * page] = b"\x5a" * (4 * page)  # scribble over four b-tree pages
    db.write_bytes(bytes(data))

    code = main(["db", "check", "--db", str(db)])
    err = capsys.readouterr().err

    assert code == 4
    assert f"{db} failed its check: database disk image is malformed" in err
    assert "Traceback" not in err
