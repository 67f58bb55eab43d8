"""`modelaudit report` over a month of history: 1,000,000 stored attempts, 200 models.

Builds 30 days of runs ending now through the store's own write path (the builder of
benchmarks/store_bench.py), writes a registry of the same 200 models (10 providers in three
jurisdictions, a fifth of the models pinned with fallbacks, open-weight families across
providers), then runs the real command in fresh processes, once per format:

    modelaudit report --db DB -c providers.yaml --since 30d --format FORMAT -o FILE

and prints the median wall time and the peak RSS of the process (interpreter start and
imports included). Target (issue 5): <= 3 s and <= 250 MB. A last run, in-process, splits
one HTML report into the store's reads (per HistoryReader method) and the report's own
work (scoring, view model, rendering), so a slow figure says whose it is.

    .venv/bin/python benchmarks/report_bench.py [--attempts 1000000] [--models 200] [--repeat 5]
        [--multiply 10]

A database kept from an older schema (`--reuse`) is migrated first, timed apart: a one-off.

A same-run baseline: `--baseline SRC --baseline-db DB` runs another tree's package (e.g.
`main`'s, from `git archive`) on its own copy of the month (at that tree's schema), each of
its runs alternating with this tree's, and prints both medians and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from store_bench import DAYS, PROVIDERS, build, build_multiplied, db_size

JURISDICTIONS = ("US", "FR", "CN")
FORMATS = ("html", "json", "markdown", "table")


def registry_yaml(models: int) -> str:
    """The store_bench targets (`provider{i % 10}/model-{i:03d}`) as a registry."""
    lines = ["version: 1", "providers:"]
    for p in range(PROVIDERS):
        lines += [
            f"  - name: provider{p}",
            "    api: openai",
            f"    base_url: https://api.provider{p}.invalid/v1",
            f"    api_key: env:PROVIDER{p}_API_KEY",
            f"    hosting: {'vendor' if p % 3 else 'third-party'}",
            f"    jurisdiction: {JURISDICTIONS[p % len(JURISDICTIONS)]}",
            "    models:",
        ]
        for i in range(p, models, PROVIDERS):
            open_weights = i % 2 == 0
            lines += [
                f"      - id: model-{i:03d}",
                f"        weights: {'open' if open_weights else 'closed'}",
            ]
            if open_weights:  # families of about ten hosts each, whatever the size
                lines.append(f"        family: family-{i % max(20, models // 10)}")
            if i % 5 == 0:
                fallback = (i + 1) % models
                lines += [
                    "        pinned: true",
                    f"        fallbacks: [provider{fallback % PROVIDERS}/model-{fallback:03d}]",
                ]
    return "\n".join(lines) + "\n"


SPLIT_SCRIPT = """
import json, sys, time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from modelaudit.registry import load
from modelaudit.report.formats.base import ReportFormat
from modelaudit.report.model import build_report
from modelaudit.report.render import render
from modelaudit.report.source import open_history

spent = {}

class Timed:
    def __init__(self, reader):
        self.reader = reader
    def __getattr__(self, name):
        method = getattr(self.reader, name)
        def timed(*args):
            start = time.perf_counter()
            try:
                return method(*args)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
        return timed

registry = load(Path(sys.argv[2])).registry
start = time.perf_counter()
with open_history(sys.argv[1]) as reader:
    report = build_report(registry, Timed(reader), now=datetime.now(UTC), span=timedelta(days=30))
built = time.perf_counter()
render(report, ReportFormat.HTML)
done = time.perf_counter()
print(json.dumps({"store": spent, "build": built - start, "render": done - built}))
"""


def split_once(
    db: Path, registry: Path, env: dict[str, str]
) -> tuple[dict[str, float], float, float]:
    """Seconds per HistoryReader method, for the whole view model, and for rendering."""
    done = subprocess.run(
        [sys.executable, "-c", SPLIT_SCRIPT, str(db), str(registry)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    result = json.loads(done.stdout)
    return result["store"], result["build"], result["render"]


def report_argv(entry: str, db: Path, registry: Path, kind: str, out: Path) -> list[str]:
    argv = [entry, "report", "--db", str(db), "-c", str(registry), "--since", "30d"]
    return [*argv, "--format", kind, "-o", str(out)]


def migrate_once(db: Path, env: dict[str, str], *, latest: bool = True) -> float | None:
    """A database kept by an older modelaudit is migrated by the first command that opens
    it: time that apart (a process that only opens it), as the one-off cost it is. None
    when it is already at the current schema."""
    conn = sqlite3.connect(db)
    try:
        before = conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
    from modelaudit.store.sqlite.migrations import LATEST

    if latest and before >= LATEST:
        return None
    opens = (
        "import sys, pathlib; from modelaudit.store.sqlite.store import SqliteStore"
        "; SqliteStore.open(pathlib.Path(sys.argv[1]), create=False).close()"
    )
    seconds, _, _ = run_once([sys.executable, "-c", opens, str(db)], env)
    return seconds


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds (user + system) of one fresh process.
    On a shared machine the CPU time says what the command needs when the wall time says
    mostly how busy the neighbours are."""
    with tempfile.TemporaryFile() as shown:  # a file of our own, never a device node
        start = time.perf_counter()
        process = subprocess.Popen(argv, env=env, stdout=shown, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    assert process.stderr is not None
    errors = process.stderr.read().decode()
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{errors}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the database here and keep it")
    parser.add_argument(
        "--reuse", type=Path, help="time an existing database (from --keep) instead of building"
    )
    parser.add_argument("--baseline", type=Path, help="another tree's src/, run alternately")
    parser.add_argument("--baseline-db", type=Path, help="the baseline's copy of the month")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument(
        "--multiply",
        type=int,
        default=1,
        help="write attempts/N through the store, then copy each run N times in SQL "
        "(store_bench.build_multiplied): ten million attempts in minutes, not an hour",
    )
    args = parser.parse_args()
    if (args.baseline is None) != (args.baseline_db is None):
        parser.error("--baseline and --baseline-db go together")
    entry = shutil.which("modelaudit") or str(Path(sys.executable).parent / "modelaudit")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = args.reuse or args.keep or work / "history.sqlite3"
        if args.reuse is None:
            begin = time.perf_counter()
            since = datetime.now(UTC) - timedelta(days=DAYS)
            if args.multiply > 1:
                stats = build_multiplied(db, since, args.attempts, args.models, args.multiply)
            else:
                stats = build(db, since, args.attempts, args.models)
            print(
                f"database: {stats['attempts']:,} attempts in {stats['runs']:,} runs, "
                f"{db_size(db):,} bytes, built in {time.perf_counter() - begin:.0f} s"
            )
        registry = work / "providers.yaml"
        registry.write_text(registry_yaml(args.models))
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "160"}
        migrated = migrate_once(db, env)
        if migrated is not None:
            print(f"migrated the kept database to the current schema in {migrated:.1f} s (once)")
        trees = {"": (db, env)}
        if args.baseline is not None:
            base_env = {**env, "PYTHONPATH": str(args.baseline.resolve())}
            migrate_once(args.baseline_db, base_env, latest=False)
            trees = {"baseline ": (args.baseline_db, base_env), **trees}
        for kind in args.formats.split(","):
            medians = {}
            runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in trees}
            for name, (tree_db, tree_env) in trees.items():
                out = work / f"{name.strip()}report.{kind}"
                run_once(report_argv(entry, tree_db, registry, kind, out), tree_env)  # warm
            for i in range(args.repeat):
                order = list(trees.items()) if i % 2 == 0 else list(trees.items())[::-1]
                for name, (tree_db, tree_env) in order:
                    out = work / f"{name.strip()}report.{kind}"
                    argv = report_argv(entry, tree_db, registry, kind, out)
                    runs[name].append(run_once(argv, tree_env))
            for name, found in runs.items():
                medians[name] = statistics.median(r[0] for r in found)
                print(
                    f"{name}report --since 30d --format {kind}: median {medians[name]:.2f} s "
                    f"(min {min(r[0] for r in found):.2f}, max {max(r[0] for r in found):.2f}), "
                    f"CPU median {statistics.median(r[2] for r in found):.2f} s, "
                    f"peak RSS {max(r[1] for r in found):.0f} MB, "
                    f"{(work / f'{name.strip()}report.{kind}').stat().st_size:,} bytes "
                    f"(load average {os.getloadavg()[0]:.1f})"
                )
            if len(medians) == 2:
                ratio = medians["baseline "] / medians[""]
                print(f"  {kind}: baseline / this tree, median wall: {ratio:.2f}x")
        store, build_s, render_s = split_once(db, registry, env)
        reads = ", ".join(f"{name} {seconds:.2f}" for name, seconds in store.items())
        print(f"one HTML report, in-process: store reads {sum(store.values()):.2f} s ({reads})")
        print(
            f"  the report's own work: scoring and view model "
            f"{build_s - sum(store.values()):.2f} s, rendering {render_s:.2f} s"
        )


if __name__ == "__main__":
    main()
