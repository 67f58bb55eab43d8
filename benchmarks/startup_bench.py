"""Start-up time of the CLI: `modelaudit --version` and `modelaudit config check`.

Target (issue 2): `modelaudit --version` under 150 ms median on this machine.

    python benchmarks/startup_bench.py [--runs 30] [--baseline SRC]

Each figure is the wall time of a whole process (interpreter start included), run
`--runs` times after two warm-up runs; the median and p95 are printed, with the median
CPU time (user + system: the steadier figure on a shared machine) and the bare
interpreter's own start-up for comparison. `--baseline SRC` runs another tree's package
(e.g. `main`'s, from `git archive`) the same way, each of its runs alternating with this
tree's, and prints the ratio of the medians.

Both trees are byte-compiled first (`compileall`, what `pip install` does for an installed
package): with `PYTHONDONTWRITEBYTECODE` set and no `__pycache__`, every run would compile
modelaudit's sources again (~35 ms), a cost no installed copy pays.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def once(argv: list[str], env: dict[str, str] | None) -> tuple[float, float]:
    """Wall and CPU milliseconds of one process."""
    with tempfile.TemporaryFile() as sink:  # a file of our own, never a device node
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=sink, stderr=sink, env=env)
        _, _, usage = os.wait4(child.pid, 0)
        wall = (time.perf_counter() - start) * 1000.0
    return wall, (usage.ru_utime + usage.ru_stime) * 1000.0


def measure(
    argv: list[str], runs: int, envs: dict[str, dict[str, str] | None]
) -> dict[str, list[tuple[float, float]]]:
    for env in envs.values():
        for _ in range(2):
            once(argv, env)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in envs}
    for i in range(runs):
        order = list(envs.items()) if i % 2 == 0 else list(envs.items())[::-1]
        for name, env in order:
            samples[name].append(once(argv, env))
    return samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--baseline", type=Path, help="another tree's src/, run alternately")
    args = parser.parse_args()
    entry = shutil.which("modelaudit") or str(Path(sys.executable).parent / "modelaudit")
    envs: dict[str, dict[str, str] | None] = {"": None}
    if args.baseline is not None:
        envs = {"baseline: ": {**os.environ, "PYTHONPATH": str(args.baseline.resolve())}, **envs}
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
    for tree in [ROOT / "src", *([args.baseline] if args.baseline is not None else [])]:
        compileall.compile_dir(tree, quiet=1)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average {load}")
    print(f"{'command':<56} {'median':>9} {'p95':>9} {'CPU':>9}   (ms, {args.runs} runs)")
    for name, argv in cases.items():
        found = measure(argv, args.runs, envs if argv[0] == entry else {"": None})
        for tree, samples in found.items():
            walls = [w for w, _ in samples]
            cpu = statistics.median(c for _, c in samples)
            print(
                f"{tree + name:<56} {statistics.median(walls):>9.1f} {p95(walls):>9.1f} {cpu:>9.1f}"
            )
        if len(found) == 2:
            ratio = statistics.median(w for w, _ in found["baseline: "]) / statistics.median(
                w for w, _ in found[""]
            )
            print(f"  baseline / this tree, median wall: {ratio:.2f}x")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at the end {load}")


if __name__ == "__main__":
    main()
