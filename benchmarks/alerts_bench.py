"""What alerting costs a run.

Targets (issue 16): evaluating alerts for 1,000 models after a run adds <= 50 ms; a run
with 100 transitions sends its messages concurrently, bounded, and never delays the exit
by more than the configured send timeout.

    python benchmarks/alerts_bench.py [--models 1000] [--repeat 15]

1. Evaluation: a registry of `--models` models with two routes; a history store (SQLite)
   that has seen them all `up`; then runs where every model stays up (the steady state)
   and runs where 100 models go `gone` (100 transitions, 200 new deliveries). Measured:
   `Alerting.after_run` minus its sending (the store's transaction, the evaluation, the
   writes), median of `--repeat` runs each.
2. Sending: 100 messages to a loopback JSON webhook that answers after 50 ms, at most 8 at
   once: wall time, and the peak number of requests in flight at the receiver.
3. The exit bound: the same 100 messages to a receiver that never answers in time, with a
   2 s send timeout: how long `deliver` holds the caller (the process exits right after).
"""

from __future__ import annotations

import argparse
import http.server
import os
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from modelaudit.alerts.service import Alerting
from modelaudit.probe.result import ModelVerdict, RunReport
from modelaudit.registry.schema import Registry
from modelaudit.store.sqlite.store import SqliteStore
from modelaudit.vocabulary import RunStatus, Verdict


def registry(models: int, timeout_s: float = 10.0) -> Registry:
    per = 50
    providers = [
        {
            "name": f"p{p}",
            "api": "openai",
            "base_url": "http://127.0.0.1:9/v1",
            "hosting": "self-hosted",
            "models": [
                {"id": f"m{m}", "weights": "open", "pinned": m % 2 == 0}
                for m in range(p * per, min(models, (p + 1) * per))
            ],
        }
        for p in range((models + per - 1) // per)
    ]
    return Registry.model_validate(
        {
            "version": 1,
            "providers": providers,
            "alerts": {
                "send_timeout_s": timeout_s,
                "routes": {
                    "oncall": {"urls": ["env:BENCH_HOOK"]},
                    "pins": {"urls": ["env:BENCH_HOOK"], "events": ["pinned_lost", "retiring"]},
                },
            },
        }
    )


def run_report(reg: Registry, started: datetime, gone: set[str]) -> RunReport:
    verdicts = tuple(
        ModelVerdict(
            p.name,
            m.id,
            Verdict.GONE if m.id in gone else Verdict.UP,
            "404" if m.id in gone else "ok",
        )
        for p in reg.providers
        for m in p.models
    )
    return RunReport(started, started + timedelta(seconds=5), RunStatus.COMPLETE, (), verdicts)


class NoSend(Alerting):
    """Evaluation only: what is decided stays pending (sending is measured apart)."""

    def deliver(self, alerts: Any, base_dir: Path, decided: int = 0) -> Any:
        return None


def evaluation(models: int, repeat: int) -> tuple[list[float], list[float]]:
    reg = registry(models)
    steady, transitions = [], []
    with (
        tempfile.TemporaryDirectory() as folder,
        SqliteStore.open(Path(folder) / "h.sqlite3") as store,
    ):
        alerting = NoSend(store, lambda _: None, lambda _: None)
        t = datetime(2026, 3, 1, tzinfo=UTC)
        for index in range(2 * repeat + 2):
            started = t + timedelta(minutes=5 * index)
            run_id = store.begin_run(started, None)
            flip = index >= 2 and index % 2 == 0
            gone = {f"m{i}" for i in range(0, models, models // 100)} if flip else set()
            report = run_report(reg, started, gone)
            store.finish_run(run_id, report)
            begin = time.perf_counter()
            alerting.after_run(reg, Path(folder), report, run_id)
            spent = (time.perf_counter() - begin) * 1000
            if index >= 2:
                (transitions if flip else steady).append(spent)
    return steady, transitions


class Receiver:
    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.count = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with owner.lock:
                    owner.in_flight += 1
                    owner.peak = max(owner.peak, owner.in_flight)
                time.sleep(owner.delay_s)
                with owner.lock:
                    owner.in_flight -= 1
                    owner.count += 1
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/hook"


def sending(delay_s: float, timeout_s: float) -> tuple[float, Receiver, int]:
    reg = registry(200, timeout_s)
    receiver = Receiver(delay_s)
    os.environ["BENCH_HOOK"] = receiver.url
    with (
        tempfile.TemporaryDirectory() as folder,
        SqliteStore.open(Path(folder) / "h.sqlite3") as store,
    ):
        quiet = NoSend(store, lambda _: None, lambda _: None)
        started = datetime(2026, 3, 1, tzinfo=UTC)
        for index, gone in enumerate([set(), {f"m{i}" for i in range(1, 200, 2)}]):
            run_id = store.begin_run(started + timedelta(minutes=index), None)
            report = run_report(reg, started + timedelta(minutes=index), gone)
            store.finish_run(run_id, report)
            quiet.after_run(reg, Path(folder), report, run_id)
        alerting = Alerting(store, lambda _: None, lambda _: None)
        assert reg.alerts is not None
        begin = time.perf_counter()
        tally = alerting.deliver(reg.alerts, Path(folder))
        wall = time.perf_counter() - begin
    return wall, receiver, tally.sent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    import apprise  # noqa: F401 - imported once up front: its first import is measured apart

    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    steady, transitions = evaluation(args.models, args.repeat)
    print(
        f"evaluate {args.models} models, none changes: median {statistics.median(steady):.1f} ms"
        f" (max {max(steady):.1f})"
    )
    print(
        f"evaluate {args.models} models, 100 go gone (200 deliveries): median "
        f"{statistics.median(transitions):.1f} ms (max {max(transitions):.1f})"
    )
    wall, receiver, sent = sending(0.05, 10.0)
    print(
        f"send 100 messages (receiver answers in 50 ms, 8 at once): {wall:.2f} s, {sent} sent, "
        f"peak in flight {receiver.peak}"
    )
    wall, receiver, sent = sending(30.0, 2.0)
    print(
        f"send 100 messages to a receiver that holds each 30 s, send timeout 2 s: "
        f"deliver returned after {wall:.2f} s, {sent} sent, peak in flight {receiver.peak}"
    )


if __name__ == "__main__":
    main()
