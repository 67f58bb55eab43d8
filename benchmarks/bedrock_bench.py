"""`api: bedrock`: timing fidelity on loopback, and start-up with the [bedrock] extra installed.

    .venv/bin/python -m benchmarks.bedrock_bench [--probes 30] [--startups 10]

(a) Timing fidelity. The loopback Bedrock fake (tests/fakes/bedrock.py: every request's
SigV4 signature recomputed and checked), in a process of its own, waits a known delay
(50, 200 ms) before its Converse reply or before the first content event of a
ConverseStream. modelaudit probes it through `make_plan` and `runner.run_sync` (the SigV4
signing by botocore included); error = reported latency (completion) or TTFT (stream) minus
the injected delay. The same loop against the OpenAI fake is the same-run baseline.

(b) Start-up. `modelaudit --version` and `config check` on the shipped registry, wall time
of a fresh process each, with botocore installed, against the same commands in a process
where botocore cannot be imported (`sys.modules["botocore"] = None`): equal when nothing
imports it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DELAYS_MS = (50, 200)
KEY_ID, SECRET = "bench-key-id-placeholder", "bench-secret-placeholder"


OPENAI_PLACEHOLDER = "bench-openai-placeholder"
"""The same-run OpenAI fake's key: a placeholder, not shaped like a real one."""


def serve(ready: Any, stop: Any) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.fakes.base import Behaviour
    from tests.fakes.bedrock import FakeBedrock
    from tests.fakes.openai import FakeOpenAI

    models = [f"bench.delay-{ms}-v1:0" for ms in DELAYS_MS]
    bedrock = FakeBedrock(keys={KEY_ID: SECRET}, models=models)
    openai = FakeOpenAI(key=OPENAI_PLACEHOLDER, models=models)
    for fake in (bedrock, openai):
        for ms, model in zip(DELAYS_MS, models, strict=True):
            fake.behave(model, Behaviour.ok().delayed(ms / 1000), on="completion")
            fake.behave(model, Behaviour.ok().paced(ttft_s=ms / 1000), on="stream")
        fake.start()
    ready.send((bedrock.base_url, openai.base_url))
    stop.recv()


def registry(directory: Path, api: str, base_url: str) -> Path:
    entry: dict[str, Any] = {
        "name": api,
        "api": api,
        "base_url": base_url,
        "hosting": "vendor",
        "jurisdiction": "US",
        "models": [{"id": f"bench.delay-{ms}-v1:0", "weights": "closed"} for ms in DELAYS_MS],
        "limits": {"concurrency": 1},
    }
    if api == "bedrock":
        entry["region"] = "us-east-1"
        entry["credentials"] = {
            "parts": {"access_key_id": "env:BENCH_KEY_ID", "secret_access_key": "env:BENCH_SECRET"}
        }
    else:
        entry["api_key"] = "env:BENCH_OPENAI_KEY"
    document = {
        "version": 1,
        "defaults": {
            "kinds": ["completion", "stream"],
            "retry": {"attempts": 1},
            # The control check on a loopback port nothing listens on (discard): a fake that
            # fails to start makes the run inconclusive here, never a request to a public host.
            "control": {"urls": ["http://127.0.0.1:9/"], "timeout_s": 1},
        },
        "providers": [entry],
    }
    path = directory / f"{api}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def fidelity(path: Path, probes: int) -> dict[tuple[int, str], list[float]]:
    from modelaudit import registry as registry_module
    from modelaudit.probe import runner
    from modelaudit.probe.plan import Selection, make_plan

    errors: dict[tuple[int, str], list[float]] = {}
    plan = make_plan(registry_module.load(path), Selection(), None)
    for _ in range(probes):
        report = runner.run_sync(plan)
        for result in report.results:
            ms = int(result.model.split("-")[1])
            attempt = result.attempts[-1]
            value = attempt.latency_ms if result.kind.value == "completion" else attempt.ttft_ms
            if result.error_class.value != "ok":
                raise SystemExit(
                    f"{path.stem} {result.model} {result.kind.value}: {result.attempts[-1]}"
                )
            if value is not None:
                errors.setdefault((ms, result.kind.value), []).append(value - ms)
    return errors


def startup(args: list[str], hide_botocore: bool, runs: int, cwd: Path) -> float:
    hide = "sys.modules['botocore'] = None; " if hide_botocore else ""
    script = f"import sys; {hide}from modelaudit.cli.app import main; main({args!r})"
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, check=False)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=30)
    parser.add_argument("--startups", type=int, default=10)
    options = parser.parse_args()
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    os.environ.update(
        BENCH_KEY_ID=KEY_ID,
        BENCH_SECRET=SECRET,
        BENCH_OPENAI_KEY=OPENAI_PLACEHOLDER,
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1",
    )
    ready, ready_child = multiprocessing.Pipe()
    stop, stop_child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(ready_child, stop_child), daemon=True)
    server.start()
    bedrock_url, openai_url = ready.recv()
    with tempfile.TemporaryDirectory() as directory:
        for api, url in (("bedrock", bedrock_url), ("openai", openai_url)):
            errors = fidelity(registry(Path(directory), api, url), options.probes)
            for (ms, kind), values in sorted(errors.items()):
                print(
                    f"{api:8} {kind:10} {ms:4} ms injected: error median "
                    f"{statistics.median(values):5.2f} ms, max {max(values):6.2f} ms "
                    f"(n={len(values)})"
                )
    stop.send(True)
    server.join(5)
    for args in (["--version"], ["config", "check"]):
        shown = " ".join(args)
        with_extra = startup(args, False, options.startups, ROOT)
        without = startup(args, True, options.startups, ROOT)
        print(
            f"modelaudit {shown:12} median {with_extra:6.1f} ms with botocore installed, "
            f"{without:6.1f} ms with it unimportable (n={options.startups})"
        )


if __name__ == "__main__":
    main()
