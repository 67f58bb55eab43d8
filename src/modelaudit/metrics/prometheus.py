"""The metrics Prometheus reads, built with the official `prometheus-client`.

Series (documented in docs/history.md):

* `modelaudit_probe_success{provider,model,kind,error_class}`: 1 when the last run's probe
  of that kind got an answer (`ok`, `content_filtered`), else 0; `error_class` says what
  happened.
* `modelaudit_probe_latency_seconds{provider,model,kind}`: histogram of successful
  attempts' latency, accumulated over every run.
* `modelaudit_ttft_seconds{provider,model}`: histogram of successful streams' time to
  first token, accumulated over every run.
* `modelaudit_model_verdict{provider,model,verdict}`: 1 for the model's verdict in the last
  run, 0 for every other verdict.
* `modelaudit_last_run_timestamp_seconds`: when the last run finished (Unix time).

Every series carries `region`, the agent's region (`--region`, default the host name), so a
fleet's agents can be scraped into one Prometheus and compared region by region.

Histograms are counters: `watch` accumulates them for as long as it runs; `--metrics-file`
reads back the file it wrote last time and adds the new run, so counters grow across cron
runs as Prometheus expects (deleting the file is a counter reset, which it handles). A file
that cannot be read back (damaged, not ours, too big) starts the counters afresh: it never
fails the run.
"""

from __future__ import annotations

import math
import socketserver
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING

from modelaudit.history import SUCCESS_CLASSES
from modelaudit.outgoing import safe_text
from modelaudit.vocabulary import ProbeKind, RunStatus, Verdict

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import Collector

    from modelaudit.probe.result import Attempt, RunReport

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
SUCCESS = "modelaudit_probe_success"
LATENCY = "modelaudit_probe_latency_seconds"
TTFT = "modelaudit_ttft_seconds"
VERDICT = "modelaudit_model_verdict"
LAST_RUN = "modelaudit_last_run_timestamp_seconds"
_PROBE = ("provider", "model", "kind")
_MODEL = ("provider", "model")
MAX_TEXTFILE_BYTES = 16 * 1024 * 1024
"""The most a metrics file read back may hold (ten thousand models write about 10 MiB)."""
MAX_CONNECTIONS = 16
"""Scrapes `/metrics` serves at once; a connection beyond them is closed at once."""
CONNECTION_TIMEOUT_S = 10.0
"""A scraper that sends nothing for this long is disconnected."""


@dataclass
class Histogram:
    bounds: tuple[float, ...]
    counts: list[float] = field(default_factory=list)
    """Observations per bucket (not cumulative); the last one is +Inf."""
    total: float = 0.0

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0.0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        if not math.isfinite(value):
            return
        index = next((i for i, b in enumerate(self.bounds) if value <= b), len(self.bounds))
        self.counts[index] += 1
        self.total += value

    def cumulative(self) -> list[tuple[str, float]]:
        running, out = 0.0, []
        for bound, count in zip((*map(_le, self.bounds), "+Inf"), self.counts, strict=True):
            running += count
            out.append((bound, running))
        return out


@dataclass(eq=False)  # hashable: the registry keeps collectors in a dict
class MetricsState:
    """What the exposition shows. Thread-safe: `watch` updates it while its HTTP server
    thread reads it."""

    success: dict[tuple[str, str, str], tuple[str, float]] = field(default_factory=dict)
    """(provider, model, kind) -> (error class, 0 or 1)."""
    verdicts: dict[tuple[str, str], Verdict] = field(default_factory=dict)
    latency: dict[tuple[str, str, str], Histogram] = field(default_factory=dict)
    ttft: dict[tuple[str, str], Histogram] = field(default_factory=dict)
    last_run: float | None = None
    region: str = ""
    """The agent's region, a label on every series."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, report: RunReport) -> None:
        """Add a finished run. An interrupted run only updates what it reached."""
        keep_old = report.status is RunStatus.INTERRUPTED
        success = dict(self.success) if keep_old else {}
        verdicts = dict(self.verdicts) if keep_old else {}
        with self.lock:
            for result in report.results:
                ok = result.error_class in SUCCESS_CLASSES
                key = (result.provider, result.model, result.kind.value)
                success[key] = (result.error_class.value, 1.0 if ok else 0.0)
                self._observe(result.provider, result.model, result.kind, result.attempts)
            for verdict in report.verdicts:
                if not (keep_old and verdict.verdict is Verdict.SKIPPED):
                    verdicts[(verdict.provider, verdict.model)] = verdict.verdict
            self.success, self.verdicts = success, verdicts
            self.last_run = report.finished_at.timestamp()

    def _observe(
        self, provider: str, model: str, kind: ProbeKind, attempts: tuple[Attempt, ...]
    ) -> None:
        for attempt in attempts:
            if attempt.error_class not in SUCCESS_CLASSES:
                continue
            if attempt.latency_ms is not None:
                hist = self.latency.setdefault(
                    (provider, model, kind.value), Histogram(LATENCY_BUCKETS)
                )
                hist.observe(attempt.latency_ms / 1000)
            if kind is ProbeKind.STREAM and attempt.ttft_ms is not None:
                self.ttft.setdefault((provider, model), Histogram(TTFT_BUCKETS)).observe(
                    attempt.ttft_ms / 1000
                )

    # --- the prometheus-client Collector protocol ----------------------------------------

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

        region = self.region
        with self.lock:
            success = GaugeMetricFamily(
                SUCCESS,
                "1 when the last run's probe got an answer, else 0.",
                labels=[*_PROBE, "error_class", "region"],
            )
            for (provider, model, kind), (error_class, value) in sorted(self.success.items()):
                success.add_metric(_labels(provider, model, kind, error_class, region), value)
            verdict = GaugeMetricFamily(
                VERDICT,
                "1 for the model's verdict in the last run, 0 for the others.",
                labels=[*_MODEL, "verdict", "region"],
            )
            for (provider, model), current in sorted(self.verdicts.items()):
                for candidate in Verdict:
                    verdict.add_metric(
                        _labels(provider, model, candidate.value, region),
                        1.0 if candidate is current else 0.0,
                    )
            latency = HistogramMetricFamily(
                LATENCY, "Latency of successful probe attempts.", labels=[*_PROBE, "region"]
            )
            for probe, hist in sorted(self.latency.items(), key=lambda i: i[0]):
                latency.add_metric(_labels(*probe, region), hist.cumulative(), hist.total)
            ttft = HistogramMetricFamily(
                TTFT, "Time to first token of successful streams.", labels=[*_MODEL, "region"]
            )
            for model_key, hist in sorted(self.ttft.items(), key=lambda i: i[0]):
                ttft.add_metric(_labels(*model_key, region), hist.cumulative(), hist.total)
            families: list[Metric] = [success, latency, ttft, verdict]
            if self.last_run is not None:
                last = GaugeMetricFamily(LAST_RUN, "When the last run finished.", labels=["region"])
                last.add_metric([region], self.last_run)
                families.append(last)
        yield from families


def _le(bound: float) -> str:
    return repr(float(bound))


def _labels(*values: str) -> list[str]:
    return [safe_text(value) for value in values]


def _registry(state: MetricsState) -> Collector:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(state)
    return registry


# --- the text file (node_exporter's textfile collector) -----------------------------------


def write_textfile(path: Path, state: MetricsState) -> None:
    """Written atomically (`fileio.write_text`): a reader never sees half."""
    from prometheus_client import generate_latest

    from modelaudit.fileio import write_text

    write_text(path, generate_latest(_registry(state)).decode("utf-8"))


def read_textfile(path: Path) -> tuple[MetricsState, str | None]:
    """The state a previous run wrote, so its counters keep growing, and why it could not
    be read (None when it could, or when there is no file yet): a file that is not ours,
    damaged or too big starts the counters afresh, and never fails the run."""
    from prometheus_client.parser import text_string_to_metric_families

    from modelaudit.fileio import FileError, read_text

    state = MetricsState()
    try:
        text = read_text(path, MAX_TEXTFILE_BYTES)
    except FileError as exc:
        return state, None if exc.missing else exc.reason
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if math.isfinite(sample.value):
                    _restore(state, sample.name, sample.labels, sample.value)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        return MetricsState(), f"not the metrics modelaudit writes ({type(exc).__name__})"
    return state, None


def _restore(state: MetricsState, name: str, labels: dict[str, str], value: float) -> None:
    if name == SUCCESS:
        key = (labels["provider"], labels["model"], labels["kind"])
        state.success[key] = (labels["error_class"], value)
    elif name == VERDICT and value == 1.0:
        state.verdicts[(labels["provider"], labels["model"])] = Verdict(labels["verdict"])
    elif name == LAST_RUN:
        state.last_run = value
    elif name.startswith(LATENCY):
        hist = state.latency.setdefault(
            (labels["provider"], labels["model"], labels["kind"]), Histogram(LATENCY_BUCKETS)
        )
        _restore_histogram(hist, name[len(LATENCY) :], labels, value)
    elif name.startswith(TTFT):
        hist = state.ttft.setdefault((labels["provider"], labels["model"]), Histogram(TTFT_BUCKETS))
        _restore_histogram(hist, name[len(TTFT) :], labels, value)


def _restore_histogram(hist: Histogram, suffix: str, labels: dict[str, str], value: float) -> None:
    """Cumulative `_bucket` samples arrive in order; each bucket is the difference."""
    if suffix == "_sum":
        hist.total = value
        return
    if suffix != "_bucket":
        return
    bounds = [*map(_le, hist.bounds), "+Inf"]
    le = labels.get("le", "")
    le = "+Inf" if le == "+Inf" else _le(float(le))
    if le in bounds:
        index = bounds.index(le)
        below = sum(hist.counts[:index])
        hist.counts[index] = max(0.0, value - below)


# --- the /metrics endpoint -----------------------------------------------------------------


@dataclass
class MetricsServer:
    host: str
    port: int
    """The port bound (useful when 0 was asked for)."""
    _shutdown: Callable[[], None]

    def close(self) -> None:
        self._shutdown()


def serve(state: MetricsState, host: str, port: int) -> MetricsServer:
    """Serve `/metrics` from a background thread: at most `MAX_CONNECTIONS` scrapes at
    once, each thread ending when its scraper goes quiet for `CONNECTION_TIMEOUT_S`."""
    import socket

    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    server = _Server((host, port), _registry(state), family)
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()

    def shutdown() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return MetricsServer(host, int(server.server_address[1]), shutdown)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], registry: Collector, family: int) -> None:
        self.address_family = family
        self.registry = registry
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, _Handler)

    def process_request(self, request: object, client_address: object) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)  # type: ignore[arg-type]
            return
        try:
            super().process_request(request, client_address)  # type: ignore[arg-type]
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: object, client_address: object) -> None:
        try:
            super().process_request_thread(request, client_address)  # type: ignore[arg-type]
        finally:
            self.slots.release()


class _Handler(BaseHTTPRequestHandler):
    timeout = CONNECTION_TIMEOUT_S
    server: _Server

    def do_GET(self) -> None:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        if self.path.split("?", 1)[0] not in ("/metrics", "/"):
            self.send_error(404)
            return
        body = generate_latest(self.server.registry)
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE_LATEST)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Scrapes are not logged."""
