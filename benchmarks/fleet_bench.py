"""A probe fleet on one PostgreSQL: concurrent writers, a month's report, bytes per attempt.

1. 10 agents (processes, one region each) write one run of 1,000 models at once through the
   store's own write path (catalog + completion + stream per model, one transaction per
   probe result as `probe` writes; completions and streams carry a served model per model, a
   fingerprint, rate-limit ceilings and a detail, as the month's), timed from the moment all
   of them have started (imported what a probing agent has, connected, run begun: ten
   processes starting on a small machine otherwise make every agent's first batch the
   slowest): insert rate, p50/p90/p99/max transaction time, and a count of every attempt
   (none lost, none twice).
2. A month of history from 10 regions, 1,000 models (catalog + completion + stream per model
   and run), generated in SQL in the store's own layout (attempts, verdicts, daily sums per
   region, and over all regions for the closed days; each attempt with the fields
   store_bench's month holds, as vendors send them: served model, fingerprint, rate-limit
   ceilings, detail, output tokens, stream rates): bytes per stored attempt, then
   `modelaudit report -f json --since 30d` timed in fresh processes (wall time, CPU time
   and peak RSS), in each format (`--formats`); with `--baseline SRC` another tree's
   package (e.g. `main`'s, from `git archive`) reads the same month (`--baseline-month
   NAME`: a copy of it in the schema that tree knows), its runs alternating with this
   tree's.

    .venv/bin/python benchmarks/fleet_bench.py \\
        --url postgresql://postgres@127.0.0.1:5432/postgres [--attempts 10000000] [--repeat 3] \\
        [--batch 100] [--reuse] [--skip-writes] [--formats json,html] [--baseline SRC] \\
        [--baseline-month NAME]

`--batch N` writes N probe results per transaction (`probe` writes a batch every 50 ms or
500 results: 1 is the slowest case, a run of 2,000 results a second writes about 100).
`--reuse` times the month already generated (database `fleet_bench_month`) instead of
generating it again.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier
from pathlib import Path

import psycopg

from modelaudit.probe.result import Attempt, ModelVerdict, ProbeResult, RunReport
from modelaudit.store.base import Origin
from modelaudit.store.postgres.store import PostgresStore
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_bench import run_once

AGENTS = 10
MODELS = 1000
PROVIDERS = 10
DAYS = 30
KINDS = ("catalog", "completion", "stream")


def database(url: str, name: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"


CEILINGS = (("x-ratelimit-limit-requests", "10000"), ("x-ratelimit-limit-tokens", "2000000"))


def model_names() -> list[tuple[str, str]]:
    return [(f"p{i % PROVIDERS}", f"model-{i:04d}") for i in range(MODELS)]


def agent(
    url: str,
    index: int,
    batch: int,
    queue: multiprocessing.Queue,  # type: ignore[type-arg]
    ready: Barrier,
) -> None:
    store = PostgresStore.open(url)
    started = datetime.now(UTC)
    run = store.begin_run(started, None, Origin(f"region-{index}", f"agent-{index}"))
    importlib.import_module("modelaudit.probe.classify")  # the write path's; an agent has it

    ready.wait()  # every agent started (imports, a connection, its run) before any writes
    times = []
    waiting: list[ProbeResult] = []
    for provider, model in model_names():
        now = datetime.now(UTC)
        sent = {  # as vendors send them (the month's fields): each model its served name
            "served_model": f"{model}-2025-06-01",
            "system_fingerprint": "fp_0abc1",
            "ratelimit": CEILINGS,
            "output_tokens": 16,
        }
        results = [
            ProbeResult(provider, model, ProbeKind.CATALOG, (Attempt(1, now, ErrorClass.OK),)),
            ProbeResult(
                provider,
                model,
                ProbeKind.COMPLETION,
                (
                    Attempt(
                        1,
                        now,
                        ErrorClass.OK,
                        200,
                        latency_ms=300.0 + index,
                        detail="answered (finish: length)",
                        **sent,
                    ),
                ),
            ),
            ProbeResult(
                provider,
                model,
                ProbeKind.STREAM,
                (
                    Attempt(
                        1,
                        now,
                        ErrorClass.OK,
                        200,
                        latency_ms=900.0,
                        ttft_ms=250.0,
                        detail="streamed 9 chunks with text (finish: length)",
                        **sent,
                    ),
                ),
            ),
        ]
        for result in results:
            waiting.append(result)
            if len(waiting) >= batch:
                t0 = time.perf_counter()
                store.add_results(run, waiting)
                times.append(time.perf_counter() - t0)
                waiting = []
    if waiting:
        t0 = time.perf_counter()
        store.add_results(run, waiting)
        times.append(time.perf_counter() - t0)
    verdicts = tuple(ModelVerdict(p, m, Verdict.UP, "answered") for p, m in model_names())
    finished = datetime.now(UTC)
    store.finish_run(run, RunReport(started, finished, RunStatus.COMPLETE, (), verdicts))
    store.close()
    queue.put(times)


def concurrent_writes(url: str, batch: int) -> None:
    url = database(url, "fleet_bench_writes")
    PostgresStore.open(url).close()  # the schema, once
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    ready = multiprocessing.Barrier(AGENTS + 1)
    workers = [
        multiprocessing.Process(target=agent, args=(url, i, batch, queue, ready))
        for i in range(AGENTS)
    ]
    for w in workers:
        w.start()
    ready.wait()
    start = time.perf_counter()
    times = [t for _ in workers for t in queue.get()]
    for w in workers:
        w.join()
    wall = time.perf_counter() - start
    with psycopg.connect(url) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (run_id, target_id, kind, number)) FROM attempt"
        ).fetchone()
        runs = conn.execute("SELECT count(*) FROM run WHERE status = 'complete'").fetchone()[0]
    expected = AGENTS * MODELS * len(KINDS)
    times.sort()
    print(
        f"1. {AGENTS} agents x {MODELS} models x {len(KINDS)} kinds at once, {batch} result(s)"
        f" per transaction: {total:,} attempts"
        f" stored of {expected:,} ({distinct:,} distinct, {runs} runs complete) in {wall:.1f} s:"
        f" {total / wall:,.0f} attempts/s; transaction p50 {1000 * times[len(times) // 2]:.1f} ms,"
        f" p90 {1000 * times[int(len(times) * 0.9)]:.1f} ms,"
        f" p99 {1000 * times[int(len(times) * 0.99)]:.1f} ms, max {1000 * times[-1]:.1f} ms"
    )
    assert total == distinct == expected, "an attempt was lost or stored twice"


GENERATE = """
INSERT INTO label (value) SELECT unnest(%(words)s::text[]) ON CONFLICT DO NOTHING;
INSERT INTO target (provider, model)
  SELECT 'p' || (i %% {providers}), 'model-' || lpad(i::text, 4, '0')
  FROM generate_series(0, {models} - 1) AS i;
INSERT INTO string (id, digest, value) VALUES (1, '\\x00', 'answered'),
  (2, '\\x02', 'model-2025-06-01'), (3, '\\x03', 'fp_0abc1'),
  (4, '\\x04', '{{"x-ratelimit-limit-requests":"10000","x-ratelimit-limit-tokens":"2000000"}}'),
  (5, '\\x05', 'answered (finish: length)'),
  (6, '\\x06', 'streamed 9 chunks with text (finish: length)'), (7, '\\x07', 'HTTP 500');
INSERT INTO run (started_ms, finished_ms, last_attempt_ms, status, tool_version, pid, host,
                 region_id, agent)
  SELECT %(t0)s::bigint + k * %(step)s::bigint + r * 60000,
         %(t0)s::bigint + k * %(step)s::bigint + r * 60000 + 600000,
         %(t0)s::bigint + k * %(step)s::bigint + r * 60000 + 600000,
         'complete', 'bench', 1, 'bench',
         (SELECT id FROM label WHERE value = 'region-' || r), 'agent-' || r
  FROM generate_series(0, %(rounds)s - 1) AS k, generate_series(0, {agents} - 1) AS r
  ORDER BY 1;
INSERT INTO attempt_extra (id, served_model_id, fingerprint_id, ratelimit_id, detail_id)
  VALUES (1, 2, 3, 4, 5), (2, 2, 3, 4, 6), (3, NULL, NULL, NULL, 7);
SELECT setval(pg_get_serial_sequence('attempt_extra', 'id'), 3);
INSERT INTO attempt (started_ms, latency_us, ttft_us, run_id, target_id, kind, number,
                     error_class, http_status, connect_us, connection_reused, extra_id,
                     output_tokens, tokens_per_s, max_gap_us)
  SELECT started, modelaudit_us(latency),
         CASE WHEN ok AND n = 2 THEN modelaudit_us(latency * 0.4) END, run_id, target_id,
         label, 1, CASE WHEN ok THEN %(ok)s ELSE %(fail)s END,
         CASE WHEN ok THEN 200 ELSE 500 END,
         CASE WHEN n > 0 AND ok AND random() < 0.1 THEN modelaudit_us(20 + random() * 60) END,
         CASE WHEN n > 0 AND ok THEN true END,
         CASE WHEN n = 0 THEN NULL WHEN NOT ok THEN 3 WHEN n = 2 THEN 2 ELSE 1 END,
         CASE WHEN n > 0 AND ok THEN 16 END,
         CASE WHEN n = 2 AND ok THEN 40 + random() * 80 END,
         CASE WHEN n = 2 AND ok THEN modelaudit_us(5 + random() * 55) END
  FROM (SELECT r.started_ms + t.id * 500 + k.n * 100 AS started, r.id AS run_id,
               t.id AS target_id, k.n, k.label, k.n = 0 OR random() >= 0.01 AS ok,
               CASE WHEN k.n = 0 THEN 100 + random() * 200 ELSE 200 + random() * 800 END
                 AS latency
        FROM run r CROSS JOIN target t CROSS JOIN (VALUES (0, %(catalog)s::smallint),
             (1, %(completion)s::smallint), (2, %(stream)s::smallint)) AS k (n, label)
        ORDER BY r.started_ms, r.id) AS a;
INSERT INTO verdict (run_id, target_id, verdict, reason_id)
  SELECT r.id, t.id, %(up)s, 1 FROM run r CROSS JOIN target t ORDER BY r.id, t.id;
"""

DAILY = """
WITH per_bucket AS (
  SELECT a.started_ms - a.started_ms %% 86400000 AS day, r.region_id, a.target_id,
         a.kind, a.error_class, a.started_ms, modelaudit_ms(a.latency_us) AS latency_ms,
         modelaudit_ms(a.ttft_us) AS ttft_ms
  FROM attempt a JOIN run r ON r.id = a.run_id
), sums AS (
  SELECT day, g.region_id, target_id, count(*) AS attempts,
         count(*) FILTER (WHERE kind <> %(catalog)s AND error_class = %(ok)s) AS ok,
         count(*) FILTER (WHERE kind <> %(catalog)s AND error_class <> %(ok)s) AS failed,
         min(started_ms) AS first_ms, max(started_ms) AS last_ms,
         max(started_ms) FILTER (WHERE kind <> %(catalog)s AND error_class = %(ok)s) AS last_ok
  FROM per_bucket, LATERAL (VALUES (per_bucket.region_id), (0)) AS g (region_id)
  GROUP BY 1, 2, 3
), hist AS (
  SELECT day, g.region_id, target_id, metric, bucket, count(*) AS n FROM (
    SELECT day, region_id, target_id, 'latency' AS metric,
           floor(log(latency_ms) * 40)::integer AS bucket
    FROM per_bucket WHERE kind = %(completion)s AND error_class = %(ok)s
    UNION ALL
    SELECT day, region_id, target_id, 'ttft', floor(log(ttft_ms) * 40)::integer
    FROM per_bucket WHERE kind = %(stream)s AND error_class = %(ok)s
  ) AS x, LATERAL (VALUES (x.region_id), (0)) AS g (region_id)
  GROUP BY 1, 2, 3, 4, 5
), arrays AS (
  SELECT day, region_id, target_id,
         array_agg(v ORDER BY bucket, o) FILTER (WHERE metric = 'latency') AS latency,
         array_agg(v ORDER BY bucket, o) FILTER (WHERE metric = 'ttft') AS ttft
  FROM hist, LATERAL (VALUES (0, bucket), (1, n::integer)) AS p (o, v)
  GROUP BY 1, 2, 3
)
INSERT INTO daily (day_ms, region_id, target_id, inconclusive, attempts, ok, failed, excluded,
                   first_ms, last_ms, last_ok_ms, classes, latency, ttft)
SELECT s.day, s.region_id, s.target_id, false, s.attempts, s.ok, s.failed, 0, s.first_ms,
       s.last_ms, s.last_ok,
       modelaudit_hist_encode(ARRAY[%(ok)s, s.ok + (s.attempts - s.ok - s.failed)]::integer[]),
       modelaudit_hist_encode(a.latency), modelaudit_hist_encode(a.ttft)
FROM sums s LEFT JOIN arrays a USING (day, region_id, target_id);
INSERT INTO target_state (target_id, region_id, first_seen_ms, last_seen_ms, last_ok_ms)
  SELECT target_id, region_id, min(first_ms), max(last_ms), max(last_ok_ms) FROM daily
  WHERE region_id <> 0 GROUP BY 1, 2;
INSERT INTO daily_closed
  SELECT DISTINCT day_ms, %(now)s FROM daily WHERE day_ms + 86400000 + 3600000 <= %(now)s;
DELETE FROM daily WHERE region_id = 0 AND day_ms NOT IN (SELECT day_ms FROM daily_closed);
"""


def build_month(url: str, attempts: int, until: datetime, name: str) -> str:
    url = database(url, name)
    PostgresStore.open(url).close()
    rounds = max(1, attempts // (AGENTS * MODELS * len(KINDS)))
    t0 = int((until - timedelta(days=DAYS)).timestamp() * 1000)
    step = DAYS * 86_400_000 // rounds
    words = ["catalog", "completion", "stream", "ok", "server_error", "up"]
    words += [f"region-{r}" for r in range(AGENTS)]
    start = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(GENERATE.split(";", maxsplit=1)[0], {"words": words})
        ids = dict(conn.execute("SELECT value, id FROM label").fetchall())
        params = {
            "t0": t0,
            "step": step,
            "rounds": rounds,
            "ok": ids["ok"],
            "fail": ids["server_error"],
            "up": ids["up"],
            "catalog": ids["catalog"],
            "completion": ids["completion"],
            "stream": ids["stream"],
            "words": words,
        }
        text = GENERATE.format(providers=PROVIDERS, models=MODELS, agents=AGENTS)
        for statement in text.split(";")[1:]:
            if statement.strip():
                conn.execute(statement, params)
        params["now"] = int(time.time() * 1000)
        for statement in DAILY.split(";"):  # the all-regions rows: of the closed days only
            if statement.strip():
                conn.execute(statement, params)
        conn.execute("VACUUM ANALYZE")
        stored = conn.execute("SELECT count(*) FROM attempt").fetchone()[0]
        sizes = dict(
            conn.execute(
                "SELECT relname, pg_total_relation_size(c.oid) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND c.relkind = 'r'"
            ).fetchall()
        )
    total = sum(sizes.values())
    print(
        f"2. a month from {AGENTS} regions, {MODELS} models: {stored:,} attempts, "
        f"{rounds * AGENTS:,} runs, generated in {time.perf_counter() - start:.0f} s; "
        f"{total / stored:.1f} bytes per stored attempt (every table and index: attempt "
        f"{sizes['attempt'] / stored:.1f}, verdict {sizes['verdict'] / stored:.1f}, daily "
        f"{sizes['daily'] / stored:.1f})"
    )
    return url


def registry(directory: Path) -> Path:
    lines = ["version: 1", "providers:"]
    for p in range(PROVIDERS):
        lines += [f"  - name: p{p}", "    api: openai", "    base_url: http://127.0.0.1:9/v1"]
        lines += ["    hosting: vendor", "    jurisdiction: US", "    models:"]
        lines += [
            f"      - {{id: {m}, weights: closed}}" for prov, m in model_names() if prov == f"p{p}"
        ]
    path = directory / "providers.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def time_report(
    url: str, repeat: int, formats: list[str], baseline: Path | None, baseline_url: str
) -> None:
    """Each format's report in fresh processes; with a baseline tree, its runs alternate
    with this tree's, on the same database or on `baseline_url` (the same month in the
    schema the baseline knows)."""
    trees = {"this tree": {**os.environ, "NO_COLOR": "1", "COLUMNS": "160"}}
    urls = {"this tree": url, "baseline": baseline_url}
    if baseline is not None:
        trees = {"baseline": {**trees["this tree"], "PYTHONPATH": str(baseline.resolve())}, **trees}
    with tempfile.TemporaryDirectory() as tmp:
        config = registry(Path(tmp))
        for kind in formats:
            runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in trees}
            out = Path(tmp) / f"report.{kind}"
            command = [sys.executable, "-m", "modelaudit", "report", "-c", str(config)]
            argv = {
                name: [*command, "--db", urls[name], "-f", kind, "--since", "30d", "-o", str(out)]
                for name in trees
            }
            for name, env in trees.items():
                run_once(argv[name], env)  # warm the server's and the file system's caches
            for i in range(repeat):
                order = list(trees.items()) if i % 2 == 0 else list(trees.items())[::-1]
                for name, env in order:
                    wall, rss, cpu = run_once(argv[name], env)
                    runs[name].append((wall, cpu, rss))
            medians = {}
            for name, found in runs.items():
                medians[name] = statistics.median(r[0] for r in found)
                print(
                    f"3. {name}: `report -f {kind} --since 30d` (whole process): median"
                    f" {medians[name]:.2f} s (runs: {', '.join(f'{r[0]:.2f}' for r in found)}),"
                    f" CPU median {statistics.median(r[1] for r in found):.2f} s, peak RSS"
                    f" {max(r[2] for r in found):.0f} MB (load average {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
            if len(medians) == 2:
                ratio = medians["baseline"] / medians["this tree"]
                print(f"   {kind}: baseline / this tree, median wall: {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a PostgreSQL server's postgres database")
    parser.add_argument("--attempts", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1, help="probe results per transaction")
    parser.add_argument("--skip-writes", action="store_true")
    parser.add_argument("--skip-report", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="time the month generated before")
    parser.add_argument("--month", default="fleet_bench_month", help="the month's database")
    parser.add_argument("--formats", default="json")
    parser.add_argument("--baseline", type=Path, help="another tree's src/, run alternately")
    parser.add_argument(
        "--baseline-month", help="the month's database the baseline reads (default: --month)"
    )
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load}", flush=True)
    if not args.skip_writes:
        concurrent_writes(args.url, args.batch)
    if args.reuse:
        month = args.url.rsplit("/", 1)[0] + f"/{args.month}"
    else:
        month = build_month(args.url, args.attempts, datetime.now(UTC), args.month)
    if not args.skip_report:
        other = (
            args.url.rsplit("/", 1)[0] + f"/{args.baseline_month}" if args.baseline_month else month
        )
        time_report(month, args.repeat, args.formats.split(","), args.baseline, other)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at the end: {load}")


if __name__ == "__main__":
    main()
