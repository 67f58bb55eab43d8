"""Fleet scale on one machine (issue 14): a 10,000-model probe run with the store on.

    .venv/bin/python benchmarks/scale_bench.py [--providers 100] [--models 100] [--cap 10]
        [--delay 1.0] [--runs 3] [--baseline OTHER/src] [--fakes-nice N] [--profile FILE]

100 loopback OpenAI-compatible fakes (one asyncio process of their own, one port each:
`GET /v1/models`, `POST /v1/chat/completions` in the OpenAI wire format, every reply after
`--delay` seconds) serve 100 models each; a real `modelaudit probe --format json` process
probes them all (kinds catalog + completion, each provider capped at `--cap`, the global
cap high enough never to bind) and stores the run in a fresh SQLite history. The registry
points `defaults.control.urls` at a loopback port, so nothing can reach a public host even
if a fake fails to start.

Ideal wall time: per provider, the catalog (one reply) then ceil(models / cap) rounds of
replies: (1 + 10) x 1 s = 11.0 s with the defaults. Reported per run: the whole process's
wall time (interpreter start-up, registry load, writing the JSON document included), the
run's own wall time (the document's started_at to finished_at), CPU time and peak RSS
(`wait4` on that process alone), and the full (generation 2) garbage collections the
process ran and the time they took (a `gc.callbacks` hook installed by a wrapper before
modelaudit's entry point). `--profile FILE` runs once more under cProfile, `--sampled FILE`
under py-spy (per thread).

The fakes share the machine's cores with the prober, and their CPU time per run is reported
too: a request sent on loopback wakes the fake on the sender's core, where it runs in the
prober's place (measured: the main thread spent ~1 s of a run's wall time inside `send`
for ~0.2 s of its own CPU). `--fakes-nice 10` makes the fakes yield to the prober, closer
to the ideal's replies that cost nothing; the default keeps the figures comparable with
earlier ones.

Targets: the whole process within 1.2x the ideal wall time, peak RSS <= 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from probe_bench import child_servers

ROOT = Path(__file__).resolve().parents[1]
PROCESS_RATIO_TARGET, RSS_TARGET_MB = 1.2, 200.0

# The wrapper around modelaudit's entry point: counts the full collections (written to the
# file named in $SCALE_BENCH_GC at exit) and sends the probe's output to $SCALE_BENCH_OUT
# (a profiler may write its own lines to stdout).
WRAPPER = """
import atexit, gc, json, os, sys, time
stats = {"full": 0, "full_s": 0.0, "all": 0}
started = [0.0]
def hook(phase, info):
    if phase == "start":
        started[0] = time.perf_counter()
        return
    stats["all"] += 1
    if info["generation"] == 2:
        stats["full"] += 1
        stats["full_s"] += time.perf_counter() - started[0]
gc.callbacks.append(hook)
def dump():
    with open(os.environ["SCALE_BENCH_GC"], "w") as f:
        json.dump(stats, f)
atexit.register(dump)
sys.stdout = open(os.environ["SCALE_BENCH_OUT"], "w")
sys.argv = ["modelaudit", *sys.argv[1:]]
from modelaudit.cli.main import entry
sys.exit(entry())
"""


# --- the fakes: one asyncio process, one port per provider ------------------------------------


def _model(i: int) -> str:
    return f"model-{i:03d}"


def _catalog_body(models: int) -> bytes:
    data = [
        {"id": _model(i), "object": "model", "created": 1715367049, "owned_by": "system"}
        for i in range(models)
    ]
    return json.dumps({"object": "list", "data": data}).encode()


def _completion_body(model: str, seq: int) -> bytes:
    return json.dumps(
        {
            "id": f"chatcmpl-bench{seq:08d}",
            "object": "chat.completion",
            "created": 1715367049,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "ok", "refusal": None},
                    "logprobs": None,
                    "finish_reason": "length",
                }
            ],
            "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10},
            "service_tier": "default",
            "system_fingerprint": "fp_bench",
        }
    ).encode()


def _reply(body: bytes) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nx-request-id: req_bench\r\n"
        "openai-processing-ms: 42\r\n\r\n"
    )
    return head.encode() + body


class _FakeOpenAI(asyncio.Protocol):
    """Keep-alive HTTP/1.1, one request at a time per connection, each answered after the
    delay: what a loopback vendor costs the prober, and as little CPU as a server can take."""

    def __init__(self, catalog: bytes, delay: float) -> None:
        self.catalog = catalog
        self.delay = delay
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.seq = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            self._answer(head.split(" ", 2)[1], body)

    def _answer(self, path: str, body: bytes) -> None:
        if path.endswith("/models"):
            reply = _reply(self.catalog)
        else:
            self.seq += 1
            model = json.loads(body).get("model", "unknown")
            reply = _reply(_completion_body(model, self.seq))
        loop = asyncio.get_running_loop()
        loop.call_later(self.delay, self._send, reply)

    def _send(self, reply: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def serve(providers: int, models: int, delay: float) -> None:
    """Child process: start the fakes, print their base URLs as one JSON line, stop at EOF."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        catalog = _catalog_body(models)
        servers = [
            await loop.create_server(
                lambda: _FakeOpenAI(catalog, delay), "127.0.0.1", 0, backlog=1024
            )
            for _ in range(providers)
        ]
        urls = [f"http://127.0.0.1:{s.sockets[0].getsockname()[1]}/v1" for s in servers]
        print(json.dumps({"urls": urls, "pid": os.getpid()}), flush=True)
        await loop.run_in_executor(None, sys.stdin.read)

    asyncio.run(main())


@dataclass(frozen=True)
class Fakes:
    urls: list[str]
    pid: int

    def cpu_s(self) -> float | None:
        """The CPU time the fakes' process has used so far (Linux), else None: what a
        run's replies cost the machine the prober shares with them."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def fake_servers(providers: int, models: int, delay: float) -> Iterator[Fakes]:
    with child_servers(__file__, "--serve", str(providers), str(models), str(delay)) as found:
        started: dict[str, Any] = found  # type: ignore[assignment]
        yield Fakes(started["urls"], started["pid"])


# --- the run -------------------------------------------------------------------------------------


def registry(directory: Path, urls: list[str], models: int, cap: int) -> Path:
    """A loopback port nothing listens on as the control target: any failure to reach a
    fake is then `inconclusive` here, never a request to a public host."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    lines = [
        "version: 1",
        "defaults:",
        "  kinds: [catalog, completion]",
        f"  concurrency: {{total: {len(urls) * cap}}}",
        "  budget: {max_requests: 1000000, max_output_tokens: 100000000}",
        f"  control: {{urls: ['http://127.0.0.1:{closed}/'], timeout_s: 1}}",
        "providers:",
    ]
    for index, url in enumerate(urls):
        lines += [
            f"  - name: provider-{index:03d}",
            "    api: openai",
            f"    base_url: {url}",
            "    hosting: vendor",
            "    jurisdiction: US",
            f"    limits: {{concurrency: {cap}}}",
            "    models:",
            *(f"      - {{id: {_model(i)}, weights: open}}" for i in range(models)),
        ]
    path = directory / "providers.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Run:
    process_s: float
    run_s: float
    cpu_s: float
    peak_rss_mb: float
    full_gcs: int
    full_gc_s: float
    collections: int
    up: int
    fakes_cpu_s: float | None = None
    """CPU time of the fakes' process during the run (they share the machine's cores)."""


def run_probe(
    path: Path,
    db: Path,
    work: Path,
    src: Path,
    profile: Path | None = None,
    sampled: Path | None = None,
    output: str = "json",
    extra: tuple[str, ...] = (),
) -> Run:
    """One `modelaudit probe` process, with the package imported from `src`."""
    gc_file = work / "gc.json"
    out = work / "run.json"
    wrapper = work / "wrapper.py"
    wrapper.write_text(WRAPPER)
    argv = [sys.executable, str(wrapper)]
    if profile is not None:
        argv = [sys.executable, "-m", "cProfile", "-o", str(profile), str(wrapper)]
    if sampled is not None:
        spy = Path(sys.executable).parent / "py-spy"
        record = ["record", "-r", "250", "-f", "raw", "--threads", "-o", str(sampled)]
        argv = [str(spy), *record, "--", *argv]
    argv += ["probe", "-c", str(path), "--db", str(db), "--format", output, *extra]
    env = {
        **os.environ,
        "SCALE_BENCH_OUT": str(out),
        "SCALE_BENCH_GC": str(gc_file),
        "NO_COLOR": "1",
        "PYTHONPATH": str(src),
    }
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as shown:
        started = time.perf_counter()
        child = subprocess.Popen(argv, stdout=shown, stderr=err, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            err.seek(0)
            raise SystemExit(f"probe exited {code}:\n{err.read().decode()[-3000:]}")
    document = read_document(out, output)
    begun = datetime.fromisoformat(document["run"]["started_at"].replace("Z", "+00:00"))
    ended = datetime.fromisoformat(document["run"]["finished_at"].replace("Z", "+00:00"))
    gcs = json.loads(gc_file.read_text())
    return Run(
        process_s=wall,
        run_s=(ended - begun).total_seconds(),
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,
        full_gcs=gcs["full"],
        full_gc_s=gcs["full_s"],
        collections=gcs["all"],
        up=sum(1 for v in document["verdicts"] if v["verdict"] == "up"),
    )


def read_document(path: Path, output: str) -> dict[str, Any]:
    """The run and its verdicts, from `--format json` or `jsonl` output."""
    if output == "json":
        document: dict[str, Any] = json.loads(path.read_bytes())
        return document
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    run = next(line for line in lines if line["type"] == "run")
    return {"run": run, "verdicts": [line for line in lines if line["type"] == "verdict"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=100)
    parser.add_argument("--models", type=int, default=100, help="per provider")
    parser.add_argument("--cap", type=int, default=10, help="limits.concurrency per provider")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds before each reply")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--format", choices=("json", "jsonl"), default="json")
    parser.add_argument("--profile", type=Path, help="one more run under cProfile, saved here")
    parser.add_argument(
        "--sampled", type=Path, help="one more run under py-spy (raw stacks), saved here"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another tree's src/ (e.g. main's, from `git archive`): its runs alternate with "
        "this tree's, for a same-run baseline",
    )
    parser.add_argument(
        "--fakes-nice",
        type=int,
        default=0,
        help="run the fakes at this nice value: the ideal assumes replies that cost nothing, "
        "and a fake woken by a request on the prober's core runs in its place",
    )
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), int(args.serve[1]), float(args.serve[2]))
        return 0
    total = args.providers * args.models
    ideal = (1 + math.ceil(args.models / args.cap)) * args.delay
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"{total:,} models on {args.providers} loopback providers, cap {args.cap}, "
        f"{args.delay:g} s per reply: ideal {ideal:.1f} s; {os.cpu_count()} CPUs, "
        f"load average {load}; fakes at nice {args.fakes_nice}"
    )
    trees = {"this tree": ROOT / "src"}
    if args.baseline:
        trees = {"baseline": args.baseline.resolve(), **trees}
    runs: dict[str, list[Run]] = {name: [] for name in trees}
    with (
        tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp,
        fake_servers(args.providers, args.models, args.delay) as fakes,
    ):
        work = Path(tmp)
        if args.fakes_nice:
            os.setpriority(os.PRIO_PROCESS, fakes.pid, args.fakes_nice)
        path = registry(work, fakes.urls, args.models, args.cap)
        for number in range(args.runs):
            for name, src in trees.items():
                db = work / f"history-{name[:4]}{number}.sqlite3"
                before = fakes.cpu_s()
                run = run_probe(path, db, work, src, output=args.format)
                after = fakes.cpu_s()
                if before is not None and after is not None:
                    run.fakes_cpu_s = after - before
                runs[name].append(run)
                fakes_cpu = (
                    "" if run.fakes_cpu_s is None else f", fakes' CPU {run.fakes_cpu_s:.2f} s"
                )
                print(
                    f"  {name} run {number + 1}: process {run.process_s:.2f} s "
                    f"({run.process_s / ideal:.2f}x), run {run.run_s:.2f} s, "
                    f"CPU {run.cpu_s:.2f} s, peak RSS {run.peak_rss_mb:.0f} MB, full GCs "
                    f"{run.full_gcs} ({run.full_gc_s * 1000:.0f} ms), {run.up:,} up{fakes_cpu}, "
                    f"load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        if args.profile:
            run_probe(path, work / "history-profiled.sqlite3", work, ROOT / "src", args.profile)
            print(f"  profile of one more run: {args.profile}")
        if args.sampled:
            run_probe(
                path, work / "history-sampled.sqlite3", work, ROOT / "src", None, args.sampled
            )
            print(f"  py-spy samples of one more run: {args.sampled}")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    for name, of in runs.items():
        summarize(name, of, ideal)
    print(f"load average at the end: {load}")
    if any(r.up != total for of in runs.values() for r in of):
        print("  some verdicts were not `up`: the figures are not valid")
        return 1
    return 0


def summarize(name: str, runs: list[Run], ideal: float) -> None:
    process = statistics.median(r.process_s for r in runs)
    rss = max(r.peak_rss_mb for r in runs)
    print(
        f"{name}, median: process {process:.2f} s ({process / ideal:.2f}x ideal; target <= "
        f"{PROCESS_RATIO_TARGET}x), run {statistics.median(r.run_s for r in runs):.2f} s, "
        f"CPU {statistics.median(r.cpu_s for r in runs):.2f} s, peak RSS {rss:.0f} MB "
        f"(target <= {RSS_TARGET_MB:.0f} MB), full GCs "
        f"{statistics.median(r.full_gcs for r in runs):.0f} "
        f"({statistics.median(r.full_gc_s for r in runs) * 1000:.0f} ms)"
        + "".join(
            f", fakes' CPU {statistics.median(spent):.2f} s"
            for spent in [[r.fakes_cpu_s for r in runs if r.fakes_cpu_s is not None]]
            if spent
        )
    )


if __name__ == "__main__":
    sys.exit(main())
