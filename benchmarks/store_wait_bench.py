"""What a store that waits does to the latencies a probe measures (issue 15).

    .venv/bin/python benchmarks/store_wait_bench.py [--providers 10] [--models 50] [--cap 4]
        [--delay 0.2] [--hold 0.5] [--gap 0.1] [--runs 3] [--baseline SRC]

scale_bench's loopback OpenAI-compatible fakes answer every completion after `--delay`
seconds (the truth); a real `modelaudit probe` process probes them and stores the run in a
fresh SQLite history, while another connection takes the database's write lock for `--hold`
seconds out of every `--hold + --gap` (another process writing, a backup, a slow disk) from
the moment the run is stored as begun. Reported per run: the measured completion latencies
minus the truth (median, p95, max) as stored, and the run's wall time. With `--baseline
SRC` another tree's package (e.g. `main`'s, from `git archive`) runs alternately.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_bench import fake_servers, registry, run_probe

SRC = Path(__file__).resolve().parent.parent / "src"


def hold_the_lock(db: Path, hold: float, gap: float, stop: threading.Event) -> None:
    """Once the run's row exists, hold the write lock `hold` s of every `hold + gap`."""
    while not stop.is_set():
        try:
            conn = sqlite3.connect(db, timeout=60, isolation_level=None)
            if conn.execute("SELECT count(*) FROM run").fetchone()[0]:
                break
            conn.close()
        except sqlite3.Error:
            pass
        time.sleep(0.01)
    else:
        return
    while not stop.is_set():
        conn.execute("BEGIN IMMEDIATE")
        stop.wait(hold)
        conn.execute("ROLLBACK")
        stop.wait(gap)
    conn.close()


def one_run(args: argparse.Namespace, urls: list[str], src: Path) -> tuple[list[float], float]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = work / "history.sqlite3"
        path = registry(work, urls, args.models, args.cap)
        stop = threading.Event()
        locker = threading.Thread(target=hold_the_lock, args=(db, args.hold, args.gap, stop))
        locker.start()
        try:
            run = run_probe(path, db, work, src)
        finally:
            stop.set()
            locker.join()
        with sqlite3.connect(db) as conn:
            latencies = [
                row[0]
                for row in conn.execute(
                    "SELECT latency_ms FROM attempt WHERE kind = 'completion'"
                    " AND error_class = 'ok' AND latency_ms IS NOT NULL"
                )
            ]
    return [lat - 1000 * args.delay for lat in latencies], run.run_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=10)
    parser.add_argument("--models", type=int, default=50, help="per provider")
    parser.add_argument("--cap", type=int, default=4)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds before each reply")
    parser.add_argument("--hold", type=float, default=0.5, help="seconds the lock is held")
    parser.add_argument("--gap", type=float, default=0.1, help="seconds it is free between")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another tree's src/, run alternately")
    args = parser.parse_args()
    trees = [("this tree", SRC)] + ([("baseline", args.baseline)] if args.baseline else [])
    with Path("/proc/loadavg").open() as f:
        print(f"load average at the start: {f.read().split()[:3]}")
    with fake_servers(args.providers, args.models, args.delay) as fakes:
        for i in range(args.runs):
            for name, src in trees:
                errors, run_s = one_run(args, fakes.urls, src)
                errors.sort()
                print(
                    f"run {i + 1}, {name}: {len(errors)} completions, measured minus true"
                    f" latency: median {statistics.median(errors):.1f} ms,"
                    f" p95 {errors[int(len(errors) * 0.95)]:.1f} ms, max {errors[-1]:.1f} ms;"
                    f" run {run_s:.2f} s"
                )
    with Path("/proc/loadavg").open() as f:
        print(f"load average at the end: {f.read().split()[:3]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
