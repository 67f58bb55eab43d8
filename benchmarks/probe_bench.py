"""Probe engine: timing fidelity next to blackbox_exporter, and throughput (issue 3).

    .venv/bin/python benchmarks/probe_bench.py [--probes 100] [--runs 3] [--only fidelity]
        [--samples out.json]   # every sample, for benchmarks/probe_compare.py

(a) Timing fidelity. A loopback fake of the OpenAI API (in a process of its own) waits a
known delay (50, 200, 1000 ms) before its reply (completion) or before the first token of
an SSE stream (stream). modelaudit probes it through its real path, `make_plan` and
`runner.run_sync` on a generated providers.yaml, exactly what `modelaudit probe` runs;
Prometheus's blackbox_exporter, started on 127.0.0.1 with an `http` module POSTing the
same body and headers, probes the same server, interleaved in the same loop. Error =
reported - injected, in ms.

modelaudit runs twice per round, kinds (completion, stream) then (stream, completion): the
first probe of a run opens a new connection, the second reuses it, so each kind is
measured both ways. blackbox_exporter opens a new connection for every probe: its
`probe_duration_seconds` includes the connection setup (like modelaudit's new-connection
rows), and its `processing + transfer` phases exclude it (like the reused rows). It has no
time-to-first-token: for the stream, its figure is the whole stream, which ends right
after the first token here. A bare httpx client sending the same requests, timed from the
same httpcore trace events, shows what the HTTP library itself costs on this machine.

(b) Throughput. 20 fake providers x 50 models (every reply after 100 ms), probed by a real
`modelaudit probe` process with the default kinds (catalog, completion), each provider
capped by `limits.concurrency` and `concurrency.total` set high enough not to bind. The
ideal wall time is what the caps allow: per provider, the catalog (one request, before
its models) plus ceil(models x generation kinds / cap) rounds of 100 ms; the slowest
provider sets it. Reported: the process's wall time (interpreter start-up and loading the
1,000-model registry included), the run's own wall time (`started_at` to `finished_at`),
CPU time and peak RSS (`wait4` on that process; the fakes run in another process). A bare
httpx client sending the same requests under the same caps shows the HTTP library's own
floor on this machine.

Needs `prometheus-blackbox-exporter` (Debian) for (a). Not run in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DELAYS_MS = (50, 200, 1000)
FIDELITY_TARGET_MS = 1.5
PROVIDERS, MODELS_PER_PROVIDER, SERVER_LATENCY_S = 20, 50, 0.100
THROUGHPUT_RATIO_TARGET, RSS_TARGET_MB = 1.3, 150.0
SCENARIOS = (("vendor", 4), ("self-hosted", 1))
"""(hosting, limits.concurrency): the default caps of a vendor and of a self-hosted server."""
BLACKBOX_NAMES = ("prometheus-blackbox-exporter", "blackbox_exporter")
LOOPBACK_CONTROL = "{urls: ['http://127.0.0.1:9/'], timeout_s: 1}"
"""The control check's target: a loopback port (discard, nothing listens): a fake that fails
to start makes the run inconclusive here, never a request to a public host."""


# --- the fake servers, in a process of their own -------------------------------------------


def serve(what: str) -> None:
    """Child process: start the fakes, print their base URLs as one JSON line, stop at EOF."""
    sys.path.insert(0, str(ROOT))
    from tests.fakes import Behaviour, FakeOpenAI

    fakes: list[FakeOpenAI] = []
    if what == "fidelity":
        fake = FakeOpenAI(models=[_delay_model(ms) for ms in DELAYS_MS])
        for ms in DELAYS_MS:
            fake.behave(_delay_model(ms), Behaviour.ok().delayed(ms / 1000), on="completion")
            fake.behave(_delay_model(ms), Behaviour.ok().paced(ttft_s=ms / 1000), on="stream")
        fakes.append(fake)
    else:
        for _ in range(PROVIDERS):
            fake = FakeOpenAI(models=[_model(i) for i in range(MODELS_PER_PROVIDER)])
            for i in range(MODELS_PER_PROVIDER):
                fake.behave(_model(i), Behaviour.ok().delayed(SERVER_LATENCY_S))
            fake.behave_catalog(Behaviour.ok().delayed(SERVER_LATENCY_S))
            fakes.append(fake)
    for fake in fakes:
        fake.start()
    print(json.dumps([fake.base_url for fake in fakes]), flush=True)
    sys.stdin.read()
    for fake in fakes:
        fake.stop()


@contextlib.contextmanager
def fake_servers(what: str) -> Iterator[list[str]]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", what],
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
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _delay_model(ms: int) -> str:
    return f"delay-{ms}ms"


def _model(i: int) -> str:
    return f"model-{i:02d}"


# --- statistics --------------------------------------------------------------------------


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else math.nan


# --- (a) timing fidelity ---------------------------------------------------------------------

Key = tuple[int, str, str, str]
"""(delay ms, tool, metric, connection)."""


@dataclass
class Fidelity:
    errors: dict[Key, list[float]] = field(default_factory=lambda: defaultdict(list))
    setup: dict[tuple[int, str, str], list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    """Connection setup (ms) of the probes that opened a connection."""
    failures: list[str] = field(default_factory=list)


def fidelity_registry(directory: Path, base_url: str) -> Path:
    models = "".join(f"      - {{id: {_delay_model(ms)}, weights: closed}}\n" for ms in DELAYS_MS)
    path = directory / "fidelity.yaml"
    path.write_text(
        "version: 1\n"
        "defaults:\n"
        "  retry: {attempts: 1}\n"  # a failure is counted, not retried away
        f"  control: {LOOPBACK_CONTROL}\n"
        "providers:\n"
        "  - name: timing\n"
        "    api: openai\n"
        f"    base_url: {base_url}\n"
        "    hosting: vendor\n"
        "    jurisdiction: US\n"
        f"    models:\n{models}"
    )
    return path


class Blackbox:
    """blackbox_exporter on 127.0.0.1 with one POST module per delay and kind."""

    def __init__(self, binary: str, directory: Path, loaded: Any, base_url: str) -> None:
        self.binary, self.directory = binary, directory
        self.modules = _blackbox_modules(loaded)
        self.target = f"{base_url}/chat/completions"
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Blackbox:
        import yaml

        config = self.directory / "blackbox.yml"
        config.write_text(yaml.safe_dump({"modules": self.modules}, sort_keys=True))
        log = (self.directory / "blackbox.log").open("wb")
        self.process = subprocess.Popen(
            [
                self.binary,
                f"--config.file={config}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/healthy", timeout=1):
                    return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    tail = (self.directory / "blackbox.log").read_text()[-2000:]
                    raise SystemExit(f"blackbox_exporter did not start:\n{tail}") from None
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def probe(self, module: str) -> dict[str, float]:
        query = urllib.parse.urlencode({"target": self.target, "module": module})
        url = f"http://127.0.0.1:{self.port}/probe?{query}"
        with urllib.request.urlopen(url, timeout=30) as response:
            return parse_exposition(response.read().decode())


def _blackbox_modules(loaded: Any) -> dict[str, Any]:
    """The exact requests modelaudit sends, as blackbox_exporter modules."""
    from modelaudit.families import FAMILIES

    provider = loaded.registry.providers[0]
    family = FAMILIES[provider.api]
    max_tokens = loaded.registry.defaults.budget.output_tokens_per_probe
    modules: dict[str, Any] = {}
    for model in provider.models:
        for kind, build in (
            ("completion", family.completion_request),
            ("stream", family.stream_request),
        ):
            request = build(provider, model, max_tokens, 0)
            body = request.body_bytes()
            assert body is not None
            modules[f"{model.id}-{kind}"] = {
                "prober": "http",
                "timeout": "10s",
                "http": {
                    "method": "POST",
                    "headers": {"Content-Type": "application/json", **request.headers},
                    "body": body.decode(),
                    "valid_status_codes": [200],
                    "preferred_ip_protocol": "ip4",
                    "ip_protocol_fallback": False,
                },
            }
    return modules


def parse_exposition(text: str) -> dict[str, float]:
    """`name{labels} value` lines of the Prometheus text format, keyed by `name{labels}`."""
    metrics = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            metrics[name] = float(value)
    return metrics


def _phase(metrics: dict[str, float], phase: str) -> float:
    return metrics[f'probe_http_duration_seconds{{phase="{phase}"}}'] * 1000.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def modelaudit_round(loaded: Any, delay_ms: int, out: Fidelity) -> None:
    """Two runs: completion then stream, and stream then completion."""
    from modelaudit.probe import runner
    from modelaudit.probe.plan import Selection, make_plan
    from modelaudit.vocabulary import ErrorClass, ProbeKind

    selection = Selection(models=(_delay_model(delay_ms),))
    for kinds in (
        (ProbeKind.COMPLETION, ProbeKind.STREAM),
        (ProbeKind.STREAM, ProbeKind.COMPLETION),
    ):
        report = runner.run_sync(make_plan(loaded, selection, kinds))
        for result in report.results:
            final = result.final
            if final.error_class is not ErrorClass.OK:
                out.failures.append(f"modelaudit {delay_ms} ms {result.kind}: {final.detail}")
                continue
            connection = "reused" if final.connection_reused else "new"
            if result.kind is ProbeKind.COMPLETION:
                reported, metric = final.latency_ms, "latency"
            else:
                reported, metric = final.ttft_ms, "TTFT"
            assert reported is not None
            out.errors[(delay_ms, "modelaudit", metric, connection)].append(reported - delay_ms)
            if final.connect_ms is not None:
                out.setup[(delay_ms, "modelaudit", metric)].append(final.connect_ms)


def bare_httpx_round(requests: dict[str, Any], delay_ms: int, out: Fidelity) -> None:
    """The same two orders with a bare httpx client, timed from the same httpcore trace
    events as modelaudit: what the HTTP library itself costs."""
    import httpx

    async def exchange(client: httpx.AsyncClient, kind: str) -> None:
        marks: dict[str, float] = {}

        async def trace(event: str, info: Any) -> None:
            marks.setdefault("sent", time.perf_counter())
            marks[event] = time.perf_counter()

        request, first_token = requests[kind], None
        async with client.stream(
            request.method,
            request.url,
            headers=dict(request.headers),
            content=request.body_bytes(),
            extensions={"trace": trace},
        ) as response:
            async for chunk in response.aiter_bytes():
                if first_token is None and b'"ok"' in chunk:
                    first_token = time.perf_counter()
        end = first_token if kind == "stream" else marks["http11.receive_response_body.complete"]
        assert end is not None
        metric = "TTFT" if kind == "stream" else "latency"
        connection = "new" if "connection.connect_tcp.started" in marks else "reused"
        out.errors[(delay_ms, "bare httpx", metric, connection)].append(
            (end - marks["sent"]) * 1000.0 - delay_ms
        )

    async def two(first: str, second: str) -> None:
        async with httpx.AsyncClient() as client:
            await exchange(client, first)
            await exchange(client, second)

    asyncio.run(two("completion", "stream"))
    asyncio.run(two("stream", "completion"))


def _bare_requests(loaded: Any) -> dict[int, dict[str, Any]]:
    from modelaudit.families import FAMILIES

    provider = loaded.registry.providers[0]
    family = FAMILIES[provider.api]
    max_tokens = loaded.registry.defaults.budget.output_tokens_per_probe
    models = {m.id: m for m in provider.models}
    return {
        ms: {
            "completion": family.completion_request(provider, models[_delay_model(ms)], max_tokens),
            "stream": family.stream_request(provider, models[_delay_model(ms)], max_tokens),
        }
        for ms in DELAYS_MS
    }


def blackbox_round(blackbox: Blackbox, delay_ms: int, out: Fidelity) -> None:
    for kind, metric in (("completion", "latency"), ("stream", "whole stream")):
        metrics = blackbox.probe(f"{_delay_model(delay_ms)}-{kind}")
        if metrics.get("probe_success") != 1.0:
            out.failures.append(f"blackbox_exporter {delay_ms} ms {kind}: probe_success 0")
            continue
        new = "new" if _phase(metrics, "connect") > 0 else "reused"
        total = metrics["probe_duration_seconds"] * 1000.0
        request = _phase(metrics, "processing") + _phase(metrics, "transfer")
        tool = "blackbox_exporter"
        out.errors[(delay_ms, tool, metric, new)].append(total - delay_ms)
        out.setup[(delay_ms, tool, metric)].append(_phase(metrics, "connect"))
        out.errors[(delay_ms, tool, metric, "connect excluded")].append(request - delay_ms)


def measure_fidelity(binary: str, probes: int, warmup: int) -> Fidelity:
    from modelaudit import registry

    out = Fidelity()
    with (
        tempfile.TemporaryDirectory(prefix="probe-bench-") as tmp,
        fake_servers("fidelity") as (base_url,),
    ):
        loaded = registry.load(fidelity_registry(Path(tmp), base_url))
        bare = _bare_requests(loaded)
        with Blackbox(binary, Path(tmp), loaded, base_url) as blackbox:
            scratch = Fidelity()
            for round_number in range(warmup + probes):
                target = scratch if round_number < warmup else out
                for delay_ms in DELAYS_MS:
                    modelaudit_round(loaded, delay_ms, target)
                    blackbox_round(blackbox, delay_ms, target)
                    bare_httpx_round(bare[delay_ms], delay_ms, target)
    return out


def report_fidelity(result: Fidelity, probes: int) -> list[tuple[str, bool]]:
    print(f"\n(a) timing fidelity: error = reported - injected (ms), {probes} probes per row")
    print(
        f"{'delay':>6}  {'tool':<18} {'metric':<13} {'connection':<17} {'median':>7} {'p95':>7}"
        f"   {'of which connect (median)':>25}"
    )
    tools = {"modelaudit": 0, "bare httpx": 1, "blackbox_exporter": 2}
    for key in sorted(result.errors, key=lambda k: (k[0], k[2] != "latency", tools[k[1]], k[3])):
        delay, tool, metric, connection = key
        samples = result.errors[key]
        setup = result.setup.get((delay, tool, metric)) if connection == "new" else None
        print(
            f"{delay:>4}ms  {tool:<18} {metric:<13} {connection:<17} "
            f"{median(samples):>7.2f} {p95(samples):>7.2f}"
            + (f"   {median(setup):>25.2f}" if setup else "")
        )
    for failure in result.failures[:10]:
        print(f"  failed: {failure}")
    return fidelity_targets(result)


def fidelity_targets(result: Fidelity) -> list[tuple[str, bool]]:
    """Median error under FIDELITY_TARGET_MS (1.5 ms since issue 13), and no worse than
    blackbox_exporter's for the same delay, kind and connection handling (the whole stream
    standing in for its TTFT)."""
    checks = []
    pairs = {("new", "new"), ("reused", "connect excluded")}
    bb_metric = {"latency": "latency", "TTFT": "whole stream"}
    for delay in DELAYS_MS:
        for metric in ("latency", "TTFT"):
            for ours, theirs in sorted(pairs):
                mine = median(result.errors[(delay, "modelaudit", metric, ours)])
                bb = median(result.errors[(delay, "blackbox_exporter", bb_metric[metric], theirs)])
                label = f"{delay} ms {metric}, {ours} connection: {mine:.2f} ms"
                checks.append((f"{label} < {FIDELITY_TARGET_MS:g} ms", mine < FIDELITY_TARGET_MS))
                checks.append((f"{label} <= blackbox_exporter {bb:.2f} ms", mine <= bb))
    return checks


# --- (b) throughput ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessRun:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    stdout: bytes


def throughput_registry(directory: Path, urls: list[str], hosting: str, cap: int) -> Path:
    lines = [
        "version: 1",
        "defaults:",
        "  kinds: [catalog, completion]",
        f"  concurrency: {{total: {len(urls) * cap}}}",
        "  budget: {max_requests: 10000, max_output_tokens: 1000000}",
        f"  control: {LOOPBACK_CONTROL}",
        "providers:",
    ]
    for index, url in enumerate(urls):
        lines += [
            f"  - name: provider-{index:02d}",
            "    api: openai",
            f"    base_url: {url}",
            f"    hosting: {hosting}",
            *(["    jurisdiction: US"] if hosting != "self-hosted" else []),
            f"    limits: {{concurrency: {cap}}}",
            "    models:",
            *(f"      - {{id: {_model(i)}, weights: open}}" for i in range(MODELS_PER_PROVIDER)),
        ]
    path = directory / f"throughput-{hosting}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def ideal_wall_s(cap: int, generation_kinds: int = 1, catalog_requests: int = 1) -> float:
    rounds = catalog_requests + math.ceil(MODELS_PER_PROVIDER * generation_kinds / cap)
    return rounds * SERVER_LATENCY_S


def run_process(argv: list[str]) -> ProcessRun:
    """Wall time, CPU time and peak RSS of this one child process (not of the fakes)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode not in (0, 1):
        raise SystemExit(f"{argv[0]} exited {child.returncode}:\n{stderr.decode()[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return ProcessRun(wall, cpu, usage.ru_maxrss / 1024.0, stdout)


def modelaudit_argv(registry_path: Path) -> list[str]:
    entry = Path(sys.executable).parent / "modelaudit"
    command = [str(entry)] if entry.exists() else [sys.executable, "-m", "modelaudit"]
    # --no-store: the run's figures without the history store, which would also fill the
    # benchmarking user's own history with fake providers.
    return [*command, "probe", "--config", str(registry_path), "--format", "json", "--no-store"]


def run_wall_s(document: bytes) -> tuple[float, int]:
    doc = json.loads(document)
    started = datetime.fromisoformat(doc["run"]["started_at"].replace("Z", "+00:00"))
    finished = datetime.fromisoformat(doc["run"]["finished_at"].replace("Z", "+00:00"))
    up = sum(1 for v in doc["verdicts"] if v["verdict"] == "up")
    return (finished - started).total_seconds(), up


async def bare_httpx(registry_path: Path) -> None:
    """The same catalog and completion requests, the same caps, nothing else."""
    import httpx

    from modelaudit import registry
    from modelaudit.families import FAMILIES

    reg = registry.load(registry_path).registry
    max_tokens = reg.defaults.budget.output_tokens_per_probe
    mounts = {
        _origin(p.base_url): httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=p.concurrency(reg.defaults.concurrency))
        )
        for p in reg.providers
    }
    async with httpx.AsyncClient(mounts=mounts, trust_env=False) as client:

        async def send(request: Any, cap: asyncio.Semaphore) -> None:
            async with cap:
                response = await client.request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    content=request.body_bytes(),
                )
                response.raise_for_status()

        async def provider_run(provider: Any) -> None:
            family = FAMILIES[provider.api]
            cap = asyncio.Semaphore(provider.concurrency(reg.defaults.concurrency))
            await send(family.catalog_request(provider), cap)
            await asyncio.gather(
                *(
                    send(family.completion_request(provider, m, max_tokens), cap)
                    for m in provider.models
                )
            )

        started = time.perf_counter()
        await asyncio.gather(*(provider_run(p) for p in reg.providers))
        print(json.dumps({"run_s": time.perf_counter() - started}))


def _origin(base_url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Scenario:
    hosting: str
    cap: int
    ideal_s: float
    runs: dict[str, list[ProcessRun]]
    """modelaudit and bare httpx: every run's process figures."""
    run_walls: dict[str, list[float]]
    """The same runs' own wall time, from the start of the first request to the last."""
    not_up: int = 0


def measure_throughput(runs: int) -> list[Scenario]:
    scenarios = []
    with (
        tempfile.TemporaryDirectory(prefix="probe-bench-") as tmp,
        fake_servers("throughput") as urls,
    ):
        for hosting, cap in SCENARIOS:
            path = throughput_registry(Path(tmp), urls, hosting, cap)
            tools = {
                "modelaudit": modelaudit_argv(path),
                "bare httpx": [sys.executable, __file__, "--bare", str(path)],
            }
            scenario = Scenario(
                hosting, cap, ideal_wall_s(cap), {t: [] for t in tools}, {t: [] for t in tools}
            )
            for argv in tools.values():
                run_process(argv)  # warm-up: bytecode caches, page cache
            for _ in range(runs):
                for tool, argv in tools.items():
                    run = run_process(argv)
                    scenario.runs[tool].append(run)
                    if tool == "modelaudit":
                        wall, up = run_wall_s(run.stdout)
                        scenario.not_up += len(urls) * MODELS_PER_PROVIDER - up
                    else:
                        wall = json.loads(run.stdout)["run_s"]
                    scenario.run_walls[tool].append(wall)
            scenarios.append(scenario)
    return scenarios


def report_throughput(scenarios: list[Scenario], runs: int) -> list[tuple[str, bool]]:
    total = PROVIDERS * MODELS_PER_PROVIDER
    print(
        f"\n(b) throughput: {total} models on {PROVIDERS} fake providers, "
        f"{SERVER_LATENCY_S * 1000:.0f} ms per reply, kinds catalog+completion, "
        f"median of {runs} runs (wall: run = first request to last; process = whole command)"
    )
    print(
        f"{'hosting, cap':<18} {'tool':<11} {'ideal':>6} {'run':>7} {'ratio':>6} "
        f"{'process':>8} {'ratio':>6} {'CPU':>6} {'peak RSS':>9}"
    )
    checks = []
    for s in scenarios:
        label = f"{s.hosting}, cap {s.cap}"
        for tool, runs_of in s.runs.items():
            run = median(s.run_walls[tool])
            process = median([r.wall_s for r in runs_of])
            print(
                f"{label:<18} {tool:<11} {s.ideal_s:>5.2f}s {run:>6.2f}s {run / s.ideal_s:>5.2f}x "
                f"{process:>7.2f}s {process / s.ideal_s:>5.2f}x "
                f"{median([r.cpu_s for r in runs_of]):>5.2f}s "
                f"{max(r.peak_rss_mb for r in runs_of):>7.1f}MB"
            )
        if s.not_up:
            print(f"  {s.not_up} verdicts were not `up`: the figures above are not valid")
        run = median(s.run_walls["modelaudit"])
        process = median([r.wall_s for r in s.runs["modelaudit"]])
        rss = max(r.peak_rss_mb for r in s.runs["modelaudit"])
        checks.append(
            (
                f"{label}: run wall {run:.2f} s <= {THROUGHPUT_RATIO_TARGET} x ideal "
                f"{s.ideal_s:.2f} s (whole process {process:.2f} s)",
                run <= THROUGHPUT_RATIO_TARGET * s.ideal_s,
            )
        )
        checks.append(
            (f"{label}: peak RSS {rss:.1f} MB < {RSS_TARGET_MB:g} MB", rss < RSS_TARGET_MB)
        )
    return checks


# --- main ----------------------------------------------------------------------------------------


def find_blackbox(option: str | None) -> str:
    for name in (option,) if option else BLACKBOX_NAMES:
        found = shutil.which(name) if name else None
        if found:
            return found
    print(
        "blackbox_exporter not found: install it with "
        "`apt-get install -y prometheus-blackbox-exporter`, pass --blackbox PATH, "
        "or skip this part with --only throughput",
        file=sys.stderr,
    )
    raise SystemExit(2)


def machine_note() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=100, help="probes per delay and row")
    parser.add_argument("--warmup", type=int, default=3, help="rounds discarded first")
    parser.add_argument("--runs", type=int, default=3, help="throughput runs per scenario")
    parser.add_argument("--only", choices=("fidelity", "throughput"))
    parser.add_argument("--blackbox", help="path of the blackbox_exporter binary")
    parser.add_argument(
        "--samples", type=Path, help="also write every sample as JSON (to pool several runs)"
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--bare", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    if args.bare:
        asyncio.run(bare_httpx(Path(args.bare)))
        return 0
    checks: list[tuple[str, bool]] = []
    samples: dict[str, Any] = {"machine_start": machine_note()}
    print(f"machine: {machine_note()}; python {sys.version.split()[0]}")
    if args.only != "throughput":
        binary = find_blackbox(args.blackbox)
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
        print(
            f"blackbox_exporter: {binary} ({(version.stdout or version.stderr).split(chr(10))[0]})"
        )
        fidelity = measure_fidelity(binary, args.probes, args.warmup)
        checks += report_fidelity(fidelity, args.probes)
        samples["fidelity"] = {"|".join(map(str, k)): v for k, v in fidelity.errors.items()}
        samples["setup"] = {"|".join(map(str, k)): v for k, v in fidelity.setup.items()}
    if args.only != "fidelity":
        scenarios = measure_throughput(args.runs)
        checks += report_throughput(scenarios, args.runs)
        samples["throughput"] = [
            {
                "hosting": s.hosting,
                "cap": s.cap,
                "ideal_s": s.ideal_s,
                "run_s": s.run_walls,
                "process_s": {t: [r.wall_s for r in runs] for t, runs in s.runs.items()},
                "cpu_s": {t: [r.cpu_s for r in runs] for t, runs in s.runs.items()},
                "rss_mb": {t: [r.peak_rss_mb for r in runs] for t, runs in s.runs.items()},
            }
            for s in scenarios
        ]
    if args.samples is not None:
        args.samples.write_text(json.dumps(samples, indent=1))
    print(f"\ntargets (machine at the end: {machine_note()}):")
    for label, ok in checks:
        print(f"  {'ok  ' if ok else 'MISS'} {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
