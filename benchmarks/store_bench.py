"""The history store under a month of load: bytes per attempt, insert rate, and how fast the
report's per-model summary (availability, p50/p95/p99) reads back.

Builds 30 days of runs for 200 models (about 1,000,000 attempts: catalog, completion and
stream probes, with retries, failures, served-model ids, fingerprints and rate-limit
headers), through the store's own write path, then times `SqliteHistory.models()` over the
whole month in fresh processes (so peak memory is that of a process doing only the read).

Targets: <= 200 bytes per stored attempt; the month's summary in <= 2 s and <= 200 MB.

    .venv/bin/python benchmarks/store_bench.py [--attempts 1000000] [--models 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from sqlite3 import sqlite_version
from typing import Any

from modelaudit.probe.result import Attempt, ModelVerdict, ProbeResult, RunReport
from modelaudit.store.sqlite.store import SqliteStore
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict

DAYS = 30
PROVIDERS = 10
ATTEMPTS_PER_MODEL_RUN = 3.05  # catalog + completion + stream, and a few retries
PER_RESULT_SAMPLE = 30_000
"""Attempts written one probe result per transaction, as `probe` does, to time inserts."""

READ_SCRIPT = """
import json, resource, sys, time
from datetime import UTC, datetime
from modelaudit.store.sqlite.store import SqliteStore
from modelaudit.history import Window
since, until = (datetime.fromisoformat(a) for a in sys.argv[2:4])
start = time.perf_counter()
with SqliteStore.open(__import__("pathlib").Path(sys.argv[1]), create=False) as store:
    models = store.history().{call}
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": elapsed, "peak_mb": peak, "n": len(models)}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--keep",
        type=Path,
        help="build the database here and keep it; if it exists, reuse it (reads only)",
    )
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load}; SQLite {sqlite_version}")
    with tempfile.TemporaryDirectory() as tmp:
        db = args.keep or Path(tmp) / "history.sqlite3"
        until = datetime(2026, 11, 1, tzinfo=UTC)
        since = until - timedelta(days=DAYS)
        if db.exists():
            print(f"reusing {db}: no insert figures")
            attempts = stored_attempts(db)
        else:
            stats = build(db, since, args.attempts, args.models)
            attempts = int(stats["attempts"])
            print(
                f"insert rate, one transaction per probe result (as `probe` writes): "
                f"{stats['per_result_rate']:,.0f} attempts/s"
            )
            print(
                f"insert rate, one transaction per run (bulk): "
                f"{stats['per_run_rate']:,.0f} attempts/s"
            )
        size = db_size(db)
        print(f"database: {attempts:,} attempts, {size:,} bytes")
        print(f"bytes per stored attempt: {size / attempts:.1f} (target <= 200)")
        reads = {
            "models(30 days)": "models(Window(since, until))",
            "timelines(30 days, 1 day buckets)": (
                "timelines(Window(since, until), __import__('datetime').timedelta(days=1))"
            ),
            "verdicts(30 days)": "verdicts(Window(since, until))",
            "incidents(30 days)": "incidents(Window(since, until))",
            "drift(30 days)": "drift(Window(since, until))",
            "ratelimit_ceilings(30 days)": "ratelimit_ceilings(Window(since, until))",
        }
        for label, call in reads.items():
            runs = [read_once(db, since, until, call) for _ in range(args.repeat)]
            seconds = statistics.median(r["seconds"] for r in runs)
            peak = max(r["peak_mb"] for r in runs)
            target = " (target <= 2 s, <= 200 MB)" if label.startswith("models") else ""
            print(f"{label}: median {seconds:.3f} s, peak RSS {peak:.0f} MB{target}")


def build(db: Path, since: datetime, attempts: int, models: int) -> dict[str, float]:
    rng = random.Random(7)
    targets = [(f"provider{i % PROVIDERS}", f"model-{i:03d}") for i in range(models)]
    runs = round(attempts / (models * ATTEMPTS_PER_MODEL_RUN))
    step = timedelta(days=DAYS) / runs
    written = 0
    per_result_s = per_run_s = 0.0
    per_result_n = per_run_n = 0
    with SqliteStore.open(db) as store:
        for run_no in range(runs):
            started = since + run_no * step
            results = [r for t in targets for r in probe_results(rng, t, started)]
            begin = time.perf_counter()
            run_id = store.begin_run(started, "0" * 64)
            if written < PER_RESULT_SAMPLE:
                for result in results:
                    store.add_results(run_id, [result])
            else:
                store.add_results(run_id, results)
            store.finish_run(run_id, report(started, targets, results))
            elapsed = time.perf_counter() - begin
            count = sum(len(r.attempts) for r in results)
            if written < PER_RESULT_SAMPLE:
                per_result_s, per_result_n = per_result_s + elapsed, per_result_n + count
            else:
                per_run_s, per_run_n = per_run_s + elapsed, per_run_n + count
            written += count
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {
        "attempts": written,
        "runs": runs,
        "per_result_rate": per_result_n / per_result_s,
        "per_run_rate": per_run_n / per_run_s if per_run_s else 0.0,
    }


def build_multiplied(
    db: Path, since: datetime, attempts: int, models: int, times: int
) -> dict[str, float]:
    """A month of `attempts` in a fraction of the time the write path takes: a month of
    `attempts / times` written through the store (`build`), then each of its runs copied
    `times - 1` more times, each copy started `k / times` of the way to the next run (ids
    follow time, as a live store's do) with the content of a run further along (so the
    failures stay scattered), and the rows the store keeps as it writes (daily
    sums, each model's day, incidents, each model's latest verdict per region) derived
    again from every copied attempt and verdict by the migrations' own backfills."""
    import sqlite3

    from modelaudit.store.sqlite import backfills

    base = db.with_name(db.name + ".base")
    stats = build(base, since, attempts // times, models)
    SqliteStore.open(db).close()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("ATTACH ? AS base", (str(base),))
    conn.execute("BEGIN")
    for table in ("string", "catalog_set", "target", "target_fingerprint"):
        conn.execute(f"INSERT INTO {table} SELECT * FROM base.{table}")
    runs = conn.execute(
        "SELECT r.id, r.started_ms, min(a.id), max(a.id) FROM base.run r"
        " JOIN base.attempt a ON a.run_id = r.id GROUP BY r.id ORDER BY r.id"
    ).fetchall()
    step_ms = (runs[-1][1] - runs[0][1]) // max(1, len(runs) - 1)
    shift, stride = step_ms // times, max(1, len(runs) // times)
    columns = [row[1] for row in conn.execute("PRAGMA base.table_info(attempt)")][1:]
    copied = ", ".join(
        {"run_id": ":id", "started_ms": "started_ms + :delta"}.get(c, c) for c in columns
    )
    for index, (run_id, started_ms, _, _) in enumerate(runs):
        for c in range(times):
            # Copy c of a run is another run's content (its attempts and verdicts), moved
            # to its time: failures and incidents stay as scattered as the base month's.
            source, _, first, last = runs[(index + c * stride) % len(runs)]
            bound = {
                "id": run_id * times + c,
                "source": source,
                "delta": started_ms + c * shift - runs[(index + c * stride) % len(runs)][1],
                "first": first,
                "last": last,
            }
            conn.execute(
                "INSERT INTO run SELECT :id, started_ms + :delta, finished_ms + :delta, status,"
                " tool_version, registry_sha256, pid, host, boot_id, process_start,"
                " requests_sent, notes, attempts, last_attempt_ms + :delta, region, agent"
                " FROM base.run WHERE id = :source",
                bound,
            )
            conn.execute(
                f"INSERT INTO attempt ({', '.join(columns)}) SELECT {copied}"
                " FROM base.attempt WHERE id BETWEEN :first AND :last ORDER BY id",
                bound,
            )
            conn.execute(
                "INSERT INTO verdict SELECT :id, target_id, verdict, error_class, reason"
                " FROM base.verdict WHERE run_id = :source",
                bound,
            )
            conn.execute(
                "INSERT INTO catalog_snapshot SELECT :id, provider, taken_ms + :delta, set_id"
                " FROM base.catalog_snapshot WHERE run_id = :source",
                bound,
            )
    # A fingerprint or served model is new once: the base month's changes are the month's.
    conn.execute("INSERT INTO change_event SELECT * FROM base.change_event")
    backfills.daily_sums(conn)
    conn.execute("UPDATE daily SET latency_hist = NULL, ttft_hist = NULL")  # as schema 11 keeps
    backfills.daily_models(conn)
    incidents(conn)
    conn.execute(
        "INSERT INTO target_region (target_id, region, verdict_ms, verdict_run)"
        " SELECT target_id, region, started_ms, run_id FROM (SELECT v.target_id, r.region,"
        " r.started_ms, v.run_id, row_number() OVER (PARTITION BY v.target_id, r.region"
        " ORDER BY r.started_ms DESC, r.id DESC) AS newest"
        " FROM verdict v JOIN run r ON r.id = v.run_id) WHERE newest = 1"
    )
    conn.execute("COMMIT")
    conn.execute("DETACH base")
    stored = int(conn.execute("SELECT count(*) FROM attempt").fetchone()[0])
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    base.unlink()
    return {**stats, "attempts": stored, "runs": stats["runs"] * times}


def incidents(conn: Any) -> None:
    """`backfills.incident_bounds` in one ordered pass (it reads each model's verdicts
    apart, a scan of the whole table each without the index the diet dropped)."""
    from itertools import groupby

    from modelaudit.store.sqlite import backfills

    rows = conn.execute(
        "SELECT v.target_id, r.started_ms, r.id, v.verdict FROM verdict v"
        " JOIN run r ON r.id = v.run_id ORDER BY v.target_id, r.started_ms, r.id"
    )
    for target_id, found in groupby(rows, key=lambda row: row[0]):
        points = [(at, run, verdict) for _, at, run, verdict in found]
        conn.executemany(
            "INSERT INTO incident (target_id, start_ms, start_run, verdict, last_ms, end_ms,"
            " runs, region) VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT region FROM run WHERE id = ?))",
            [(target_id, *span, span[1]) for span in backfills._bounded_spans(points)],
        )


def probe_results(
    rng: random.Random, target: tuple[str, str], started: datetime
) -> list[ProbeResult]:
    provider, model = target
    offset = timedelta(seconds=rng.uniform(0, 60))
    at = started + offset
    catalog = ProbeResult(
        provider,
        model,
        ProbeKind.CATALOG,
        (Attempt(1, at, ErrorClass.OK, 200, round(rng.lognormvariate(5, 0.4), 3)),),
        catalog_ids=tuple(f"model-{i:03d}" for i in range(20)),
    )
    return [
        catalog,
        generation(rng, target, at, ProbeKind.COMPLETION),
        generation(rng, target, at, ProbeKind.STREAM),
    ]


def generation(
    rng: random.Random, target: tuple[str, str], at: datetime, kind: ProbeKind
) -> ProbeResult:
    provider, model = target
    attempts = []
    for number in (1, 2, 3):
        roll = rng.random()
        started = at + timedelta(seconds=number)
        if roll < 0.02:
            attempts.append(
                Attempt(number, started, ErrorClass.RATE_LIMITED, 429, 80.0, detail="rate limited")
            )
            continue
        if roll < 0.03:
            attempts.append(
                Attempt(number, started, ErrorClass.SERVER_ERROR, 500, 200.0, detail="HTTP 500")
            )
            break
        latency = round(rng.lognormvariate(6.7, 0.5), 3)
        chunks = rng.randint(4, 16)
        attempts.append(
            Attempt(
                number,
                started,
                ErrorClass.OK,
                200,
                latency,
                ttft_ms=round(latency * 0.4, 3) if kind is ProbeKind.STREAM else None,
                connect_ms=round(rng.uniform(20, 80), 3) if rng.random() < 0.1 else None,
                connection_reused=True,
                served_model=f"{model}-2025-06-01",
                system_fingerprint=f"fp_{int(provider[-1]) % 3}abc{rng.randint(0, 2)}",
                output_tokens=16,
                tokens_per_s=round(rng.uniform(40, 120), 3) if kind is ProbeKind.STREAM else None,
                max_gap_ms=round(rng.uniform(5, 60), 3) if kind is ProbeKind.STREAM else None,
                ratelimit=(
                    ("x-ratelimit-limit-requests", "10000"),
                    ("x-ratelimit-limit-tokens", "2000000"),
                    ("x-ratelimit-remaining-requests", str(rng.randint(9000, 9999))),
                ),
                detail=(
                    f"streamed {chunks} chunks with text (finish: length)"
                    if kind is ProbeKind.STREAM
                    else "answered (finish: length)"
                ),
            )
        )
        break
    return ProbeResult(provider, model, kind, tuple(attempts))


def report(
    started: datetime, targets: list[tuple[str, str]], results: list[ProbeResult]
) -> RunReport:
    worst = {(r.provider, r.model): r for r in results if not r.ok}
    verdicts = tuple(
        ModelVerdict(p, m, Verdict.DOWN, "completion: HTTP 500", ErrorClass.SERVER_ERROR)
        if (p, m) in worst
        else ModelVerdict(p, m, Verdict.UP, "completion 812 ms, stream TTFT 325 ms, listed")
        for p, m in targets
    )
    return RunReport(started, started + timedelta(seconds=90), RunStatus.COMPLETE, (), verdicts)


def stored_attempts(db: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM attempt").fetchone()[0])
    finally:
        conn.close()


def db_size(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def read_once(db: Path, since: datetime, until: datetime, call: str) -> dict[str, float]:
    script = READ_SCRIPT.format(call=call)
    done = subprocess.run(
        [sys.executable, "-c", script, str(db), since.isoformat(), until.isoformat()],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
