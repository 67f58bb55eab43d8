"""Start-up time of the CLI: `modelaudit --version` and `modelaudit config check`.

Target (issue 2): `modelaudit --version` under 150 ms median on this machine.

    python benchmarks/startup_bench.py [--runs 30]

Each figure is the wall time of a whole process (interpreter start included), run
`--runs` times after two warm-up runs; the median and p95 are printed, with the bare
interpreter's own start-up for comparison.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(argv: list[str], runs: int) -> list[float]:
    for _ in range(2):
        subprocess.run(argv, capture_output=True, check=False)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)
        samples.append((time.perf_counter() - start) * 1000.0)
    return samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    entry = shutil.which("modelaudit") or str(Path(sys.executable).parent / "modelaudit")
    cases = {
        "python -c pass (interpreter alone)": [sys.executable, "-c", "pass"],
        "modelaudit --version": [entry, "--version"],
        "modelaudit config check (shipped registry)": [
            entry,
            "config",
            "check",
            "-c",
            str(ROOT / "providers.yaml"),
        ],
    }
    print(f"{'command':<46} {'median':>9} {'p95':>9}   (ms, {args.runs} runs)")
    for name, argv in cases.items():
        samples = measure(argv, args.runs)
        print(f"{name:<46} {statistics.median(samples):>9.1f} {p95(samples):>9.1f}")


if __name__ == "__main__":
    main()
