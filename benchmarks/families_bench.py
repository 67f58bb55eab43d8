"""Timing fidelity of the Vertex AI routes and of OpenAI's Responses API (issue 17), next
to the chat-completions path measured the same way in the same loop.

    .venv/bin/python benchmarks/families_bench.py [--rounds 30] [--delays 50,200]

A process of its own serves a loopback OAuth token endpoint, a Vertex fake (Gemini
generateContent, Claude rawPredict, the OpenAI-compatible openapi endpoint) and an OpenAI
fake (chat completions and /v1/responses); every model waits a known delay before its reply
(completion) or before its first token (stream). modelaudit probes them through its real
path (`make_plan` + `runner.run_sync` on a generated providers.yaml, a service-account file
in GOOGLE_APPLICATION_CREDENTIALS whose token_uri is the loopback endpoint), one request at
a time, each run in both kind orders as benchmarks/probe_bench.py does. Error = reported -
injected, in ms; the first probe of a provider in a run opens its connection, the others
reuse it. Target: median error within 1.5 ms on a reused connection, as for the other
families (BENCHMARKS.md, "Probe: timing fidelity").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 1.5
ROUTES = {
    # route label: (provider, model id pattern with {ms}, endpoint)
    "vertex gemini": ("vertex", "gemini-delay-{ms}", None),
    "vertex claude": ("vertex", "claude-delay-{ms}@20250929", None),
    "vertex openapi": ("vertex", "meta/llama-delay-{ms}-maas", None),
    "openai responses": ("openai", "gpt-5-delay-{ms}", "responses"),
    "openai chat (baseline)": ("openai", "gpt-4o-delay-{ms}", None),
}


def serve(delays: list[int]) -> None:
    """Child process: start the servers, print what the parent needs, stop at EOF."""
    sys.path.insert(0, str(ROOT))
    from tests.fakes import Behaviour, FakeOpenAI
    from tests.fakes.vertex import FakeVertex, GoogleTokenServer, new_key, service_account_file

    email = "bench@probe-project.iam.gserviceaccount.com"
    key = new_key()
    tokens = GoogleTokenServer(accounts={email: key.public_key()}).__enter__()
    account = Path(tempfile.mkdtemp(prefix="families-bench-")) / "sa.json"
    service_account_file(account, key, tokens.url, client_email=email)
    ids = {
        label: [pattern.format(ms=ms) for ms in delays] for label, (_, pattern, _) in ROUTES.items()
    }
    vertex = FakeVertex(
        tokens=tokens,
        models=[m for label in ROUTES if label.startswith("vertex") for m in ids[label]],
    )
    openai = FakeOpenAI(
        models=[m for label in ROUTES if label.startswith("openai") for m in ids[label]]
    )
    for label, (provider, _, _) in ROUTES.items():
        fake = vertex if provider == "vertex" else openai
        for ms, model in zip(delays, ids[label], strict=True):
            fake.behave(model, Behaviour.ok().delayed(ms / 1000), on="completion")
            fake.behave(model, Behaviour.ok(text="ok there").paced(ttft_s=ms / 1000), on="stream")
    vertex.start()
    openai.start()
    print(
        json.dumps({"vertex": vertex.url, "openai": openai.base_url, "account": str(account)}),
        flush=True,
    )
    sys.stdin.read()
    vertex.stop()
    openai.stop()
    tokens.__exit__()


@contextlib.contextmanager
def servers(delays: list[int]) -> Iterator[dict[str, str]]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", ",".join(map(str, delays))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        yield json.loads(child.stdout.readline())
    finally:
        child.stdin.close()
        child.wait(10)


def registry(directory: Path, urls: dict[str, str], delays: list[int]) -> Path:
    def models(provider: str) -> str:
        lines = []
        for _label, (owner, pattern, endpoint) in ROUTES.items():
            if owner != provider:
                continue
            for ms in delays:
                extra = f", endpoint: {endpoint}" if endpoint else ""
                lines.append(f"      - {{id: '{pattern.format(ms=ms)}', weights: closed{extra}}}\n")
        return "".join(lines)

    path = directory / "families.yaml"
    path.write_text(
        "version: 1\n"
        "defaults:\n"
        "  retry: {attempts: 1}\n"
        # The control check on a loopback port nothing listens on: never a public host.
        "  control: {urls: ['http://127.0.0.1:9/'], timeout_s: 1}\n"
        "  concurrency: {total: 1}\n"
        "providers:\n"
        "  - name: vertex\n"
        "    api: vertex\n"
        f"    base_url: {urls['vertex']}\n"
        "    project: probe-project\n"
        "    location: us-central1\n"
        "    credentials: {chain: default}\n"
        "    hosting: third-party\n"
        "    jurisdiction: US\n"
        "    limits: {concurrency: 1}\n"
        f"    models:\n{models('vertex')}"
        "  - name: openai\n"
        "    api: openai\n"
        f"    base_url: {urls['openai']}\n"
        "    hosting: vendor\n"
        "    jurisdiction: US\n"
        "    limits: {concurrency: 1}\n"
        f"    models:\n{models('openai')}"
    )
    return path


def measure(
    path: Path, delays: list[int], rounds: int
) -> tuple[dict[tuple[str, str, str], list[float]], list[str]]:
    from modelaudit.probe import runner
    from modelaudit.probe.plan import Selection, make_plan
    from modelaudit.registry.loader import load
    from modelaudit.vocabulary import ErrorClass, ProbeKind

    loaded = load(path)
    label_of = {
        pattern.format(ms=ms): (label, ms)
        for label, (_, pattern, _) in ROUTES.items()
        for ms in delays
    }
    errors: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    failures: list[str] = []
    orders = ((ProbeKind.COMPLETION, ProbeKind.STREAM), (ProbeKind.STREAM, ProbeKind.COMPLETION))
    for _ in range(rounds):
        for kinds in orders:
            report = runner.run_sync(make_plan(loaded, Selection(), kinds))
            for result in report.results:
                final = result.final
                if final.error_class is not ErrorClass.OK:
                    failures.append(f"{result.model} {result.kind}: {final.detail}")
                    continue
                label, ms = label_of[result.model]
                metric = "latency" if result.kind is ProbeKind.COMPLETION else "TTFT"
                reported = final.latency_ms if metric == "latency" else final.ttft_ms
                assert reported is not None
                connection = "reused" if final.connection_reused else "new"
                errors[(label, metric, connection)].append(reported - ms)
    return errors, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--delays", default="50,200")
    parser.add_argument("--serve")
    args = parser.parse_args()
    if args.serve:
        serve([int(d) for d in args.serve.split(",")])
        return 0
    delays = [int(d) for d in args.delays.split(",")]
    sys.path.insert(0, str(ROOT))
    print(f"load average at start: {Path('/proc/loadavg').read_text().split()[:3]}")
    with servers(delays) as urls, tempfile.TemporaryDirectory() as work:
        os.environ["GOOGLE_APPLICATION_CREDENTIALS"] = urls["account"]
        os.environ["NO_PROXY"] = "127.0.0.1,localhost"
        errors, failures = measure(registry(Path(work), urls, delays), delays, args.rounds)
    print(f"load average at end: {Path('/proc/loadavg').read_text().split()[:3]}")
    print(
        f"\n{'route':<24} {'metric':<8} {'connection':<10} {'n':>4} {'median ms':>10} {'p95 ms':>8}"
    )
    held = True
    for (label, metric, connection), samples in sorted(errors.items()):
        samples.sort()
        p95 = samples[min(len(samples) - 1, int(0.95 * len(samples)))]
        middle = statistics.median(samples)
        row = f"{label:<24} {metric:<8} {connection:<10} {len(samples):>4}"
        print(f"{row} {middle:>10.2f} {p95:>8.2f}")
        if connection == "reused" and not label.endswith("(baseline)"):
            held = held and middle <= TARGET_MS
    print(f"\nfailures: {len(failures)}" + (f" (first: {failures[0]})" if failures else ""))
    print(
        f"target (median error <= {TARGET_MS} ms, reused connection): "
        + ("held" if held else "MISSED")
    )
    return 0 if held and not failures else 1


if __name__ == "__main__":
    raise SystemExit(main())
