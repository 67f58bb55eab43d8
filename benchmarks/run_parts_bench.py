"""The CPU a 10,000-model run's results cost after they are made (issue 14), tree against tree.

    .venv/bin/python benchmarks/run_parts_bench.py [--providers 100] [--models 100]
        [--runs 3] [--baseline OTHER/src]

One real run against scale_bench's loopback fakes (1 s replies by default; `--delay 0.05`
for a quicker one), in this process, keeps what it produced: every probe result in the
order it arrived, and the report. Then each tree (this one, and `--baseline`'s src/, in
turn) is timed in a process of its own on the same values, by CPU time (`process_time`),
which a busy machine disturbs far less than wall time:

- `store`: `add_results` in batches of `BATCH_SIZE` into a fresh SQLite history, as the
  recorder's writer thread does during the run, then `finish_run` (the verdicts);
- `document`: the `--format json` document written to memory;
- `decisions`: one verdict per model from its results.

Both trees must read the same pickled values (`modelaudit.probe.result` unchanged).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_bench import fake_servers, registry

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("store", "finish", "document", "decisions")


def capture(path: Path, providers: int, models: int, delay: float) -> None:
    """One run in this process; its results (in arrival order) and report pickled."""
    from modelaudit import registry as registries
    from modelaudit.probe import runner
    from modelaudit.probe.plan import Selection, make_plan
    from modelaudit.probe.result import ProbeResult

    class Kept(runner.Observer):
        def __init__(self) -> None:
            self.results: list[ProbeResult] = []

        def result(self, result: ProbeResult) -> None:
            self.results.append(result)

    with tempfile.TemporaryDirectory() as tmp, fake_servers(providers, models, delay) as fakes:
        loaded = registries.load(registry(Path(tmp), fakes.urls, models, 10))
        kept = Kept()
        report = runner.run_sync(make_plan(loaded, Selection((), (), ()), None), kept)
    path.write_bytes(pickle.dumps((kept.results, report)))


def measure(path: Path) -> dict[str, float]:
    """CPU seconds of each part, in the tree this process imports (after a warm-up)."""
    from modelaudit.probe import verdict
    from modelaudit.probe.formats.json_doc import JsonFormatter
    from modelaudit.registry.schema import Slo
    from modelaudit.store.recorder import BATCH_SIZE
    from modelaudit.store.sqlite.store import SqliteStore

    results, report = pickle.loads(path.read_bytes())  # this run's own file
    spent: dict[str, float] = {}

    def timed(part: str, work: Any) -> None:
        started = time.process_time()
        work()
        spent[part] = time.process_time() - started

    with tempfile.TemporaryDirectory() as tmp:
        for name in ("warm-up", "measured"):
            store = SqliteStore.open(Path(tmp) / f"{name}.sqlite3", create=True)
            run_id = store.begin_run(report.started_at, None)
            batches = [results[i : i + BATCH_SIZE] for i in range(0, len(results), BATCH_SIZE)]
            if name == "warm-up":
                batches = [batches[0], batches[-1]]
            timed("store", lambda: [store.add_results(run_id, b) for b in batches])  # noqa: B023
            timed("finish", lambda: store.finish_run(run_id, report))  # noqa: B023
            store.close()
    formatter = JsonFormatter.__new__(JsonFormatter)
    by_model: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for result in results:
        by_model[(result.provider, result.model)].append(result)
    for _ in range(2):  # the second of each is kept
        formatter.out = io.StringIO()
        timed("document", lambda: formatter.write_safe(report))
        timed(
            "decisions",
            lambda: [verdict.decide(p, m, rs, Slo()) for (p, m), rs in by_model.items()],
        )
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=100)
    parser.add_argument("--models", type=int, default=100, help="per provider")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds before each reply")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another tree's src/, measured in turn")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    trees = {"this tree": ROOT / "src"}
    if args.baseline:
        trees = {"baseline": args.baseline.resolve(), **trees}
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    spent: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as tmp:
        values = Path(tmp) / "run.pickle"
        capture(values, args.providers, args.models, args.delay)
        for number in range(args.runs):
            for name, src in trees.items():
                env = {**os.environ, "PYTHONPATH": str(src)}
                argv = [sys.executable, __file__, "--measure", str(values)]
                child = subprocess.run(argv, env=env, check=True, capture_output=True)
                found = json.loads(child.stdout)
                spent[name].append(found)
                shown = ", ".join(f"{part} {found[part]:.3f} s" for part in PARTS)
                print(f"  {name} run {number + 1}: {shown}", flush=True)
    for name, runs in spent.items():
        medians = {part: statistics.median(r[part] for r in runs) for part in PARTS}
        shown = ", ".join(f"{part} {medians[part]:.3f} s" for part in PARTS)
        print(f"{name}, median CPU: {shown}")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
