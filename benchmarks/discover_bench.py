"""What `init` and `discover` cost: the loopback scan, and a whole draft from several vendors.

    python benchmarks/discover_bench.py [--runs 7]

* the scan of the engines' default number of ports (7), all closed; of one port that
  accepts connections and never answers (a hung server: the worst case, bounded by the
  scan's deadlines); of three live servers (vLLM, llama.cpp and Ollama fakes);
* `init`'s whole draft (`scaffold.build`: every list read, the scan, families and
  fallbacks, rendering and the loader's check of the text) with five vendors' fakes (each
  through the base-URL variable of the vendor table) and two local servers.

Every figure is the median of `--runs` runs after one warm-up, with the spread. Nothing
leaves 127.0.0.1: the fakes and the ports are this process's own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes import FakeLlamaCpp, FakeOllama, FakeVLLM  # noqa: E402
from tests.fakes.http import closed_port  # noqa: E402

from modelaudit.discovery.localscan import scan  # noqa: E402
from modelaudit.registry import load  # noqa: E402
from modelaudit.scaffold.build import Request, build  # noqa: E402
from modelaudit.scaffold.render import render  # noqa: E402


def timed(runs: int, work: Callable[[], object]) -> list[float]:
    work()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000.0)
    return samples


def row(label: str, samples: list[float], extra: str = "") -> None:
    spread = f"{min(samples):.1f}-{max(samples):.1f} ms"
    print(f"| {label} | {statistics.median(samples):.1f} ms | {spread} | {extra} |")


def vendor_env(stack: ExitStack) -> None:
    """Five vendors' fakes, reached as `init` reaches real vendors."""
    import pytest
    from tests.discovery.vendors import vendor_fakes

    monkeypatch = stack.enter_context(pytest.MonkeyPatch.context())
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_TOKEN", "_BASE_URL", "_ENDPOINT")):
            monkeypatch.delenv(name)
    stack.enter_context(vendor_fakes(monkeypatch))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    print(f"load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print("| what | median | spread | |")
    print("| --- | --- | --- | --- |")
    with ExitStack() as stack:
        closed = [stack.enter_context(closed_port()).port for _ in range(7)]
        row("scan: 7 closed ports", timed(runs, lambda: asyncio.run(scan(closed))))
        hung = stack.enter_context(socket.create_server(("127.0.0.1", 0), backlog=16))
        port = hung.getsockname()[1]
        row("scan: 1 port that never answers", timed(2, lambda: asyncio.run(scan([port]))))
        live = [
            stack.enter_context(FakeVLLM(models=["Qwen/Qwen3-8B"])).server.port,
            stack.enter_context(FakeLlamaCpp()).server.port,
            stack.enter_context(FakeOllama(models=["qwen3:8b", "llama3:latest"])).server.port,
        ]
        found = asyncio.run(scan(live))
        row(
            "scan: 3 live servers",
            timed(runs, lambda: asyncio.run(scan(live))),
            f"{len(found.servers)} found",
        )
        vendor_env(stack)
        request = Request(ports=tuple(live[:2]))
        with tempfile.TemporaryDirectory() as directory:
            target = Path(directory) / "providers.yaml"

            def draft() -> int:
                built = build(request)
                target.write_text(render(built.draft), encoding="utf-8")
                load(target)
                return built.requests_sent

            sent = draft()
            models = sum(len(p.models) for p in build(request).draft.active())
            row(
                "init: 5 vendors + 2 local servers, drafted, rendered, checked",
                timed(runs, draft),
                f"{sent} requests, {models} models, no tokens",
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
