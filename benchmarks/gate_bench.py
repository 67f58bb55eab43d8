"""What `modelaudit check` costs a CI job: wall time and requests for many pins.

    python benchmarks/gate_bench.py [--providers 5] [--pins 10] [--runs 7]

Starts `--providers` loopback OpenAI-wire fakes (tests/fakes), each serving `--pins` pinned
models, and runs the gate in-process (`modelaudit.gate.run.check`) catalog-only and with
`--live`, `--runs` times each after one warm-up. Prints the median and spread of wall time
and the requests each run sent: catalog-only sends one model-list request per provider
however many pins it has; `--live` adds one completion per pin.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.http import closed_port  # noqa: E402
from tests.fakes.openai import FakeOpenAI  # noqa: E402

from modelaudit.gate.decide import Policy  # noqa: E402
from modelaudit.gate.run import check  # noqa: E402
from modelaudit.registry import LoadedRegistry, load  # noqa: E402

KEY = "bench-not-a-secret"  # the fake checks it; nothing real


def registry(urls: list[str], pins: int, control_port: int) -> str:
    lines = [
        "version: 1",
        "defaults:",
        f"  control: {{urls: ['http://127.0.0.1:{control_port}/'], timeout_s: 1}}",
        "providers:",
    ]
    for i, url in enumerate(urls):
        lines += [
            f"  - name: vendor{i}",
            "    api: openai",
            f"    base_url: {url}",
            "    api_key: env:BENCH_API_KEY",
            "    hosting: vendor",
            "    jurisdiction: FR",
            "    models:",
        ]
        lines += [f"      - {{id: m{j}, weights: closed, pinned: true}}" for j in range(pins)]
    return "\n".join(lines) + "\n"


def timed(loaded: LoadedRegistry, lock: Path, live: bool, runs: int) -> tuple[list[float], int]:
    policy = Policy(live=live)
    check(loaded, lock, policy, date.today())
    samples, sent = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        report = check(loaded, lock, policy, date.today())
        samples.append((time.perf_counter() - start) * 1000.0)
        sent = report.run.requests_sent
        assert report.result.exit_code == 0, report.result.exit_code
    return samples, sent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--providers", type=int, default=5)
    parser.add_argument("--pins", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    os.environ["BENCH_API_KEY"] = KEY
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        control = stack.enter_context(closed_port())
        fakes = [
            stack.enter_context(FakeOpenAI(key=KEY, models=[f"m{j}" for j in range(args.pins)]))
            for _ in range(args.providers)
        ]
        path = Path(tmp) / "providers.yaml"
        path.write_text(registry([f.base_url for f in fakes], args.pins, control.port))
        loaded = load(path)
        total = args.providers * args.pins
        print(f"{args.providers} providers x {args.pins} pins = {total} pins, {args.runs} runs")
        for live in (False, True):
            samples, sent = timed(loaded, Path(tmp) / "modelaudit.lock", live, args.runs)
            mode = "live" if live else "catalog only"
            print(
                f"  {mode:<13} median {statistics.median(samples):7.1f} ms"
                f"  min {min(samples):7.1f}  max {max(samples):7.1f}  requests/run {sent}"
            )


if __name__ == "__main__":
    main()
