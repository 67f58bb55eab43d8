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
runs as Prometheus expects (deleting the file is a counter reset, which it handles).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modelaudit.history import SUCCESS_CLASSES
from modelaudit.vocabulary import ProbeKind, RunStatus, Verdict

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from prometheus_client.metrics_core import Metric

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
                success.add_metric([provider, model, kind, error_class, region], value)
            verdict = GaugeMetricFamily(
                VERDICT,
                "1 for the model's verdict in the last run, 0 for the others.",
                labels=[*_MODEL, "verdict", "region"],
            )
            for (provider, model), current in sorted(self.verdicts.items()):
                for candidate in Verdict:
                    verdict.add_metric(
                        [provider, model, candidate.value, region],
                        1.0 if candidate is current else 0.0,
                    )
            latency = HistogramMetricFamily(
                LATENCY, "Latency of successful probe attempts.", labels=[*_PROBE, "region"]
            )
            for probe, hist in sorted(self.latency.items(), key=lambda i: i[0]):
                latency.add_metric([*probe, region], hist.cumulative(), hist.total)
            ttft = HistogramMetricFamily(
                TTFT, "Time to first token of successful streams.", labels=[*_MODEL, "region"]
            )
            for model_key, hist in sorted(self.ttft.items(), key=lambda i: i[0]):
                ttft.add_metric([*model_key, region], hist.cumulative(), hist.total)
            families: list[Metric] = [success, latency, ttft, verdict]
            if self.last_run is not None:
                last = GaugeMetricFamily(LAST_RUN, "When the last run finished.", labels=["region"])
                last.add_metric([region], self.last_run)
                families.append(last)
        yield from families


def _le(bound: float) -> str:
    return repr(float(bound))


# --- the text file (node_exporter's textfile collector) -----------------------------------


def write_textfile(path: Path, state: MetricsState) -> None:
    """Written to a temporary file and renamed over `path`: a reader never sees half."""
    from prometheus_client import CollectorRegistry, write_to_textfile

    registry = CollectorRegistry(auto_describe=False)
    registry.register(state)
    write_to_textfile(str(path), registry)


def read_textfile(path: Path) -> MetricsState:
    """The state a previous run wrote, so its counters keep growing. A missing or
    unreadable file starts afresh."""
    from prometheus_client.parser import text_string_to_metric_families

    state = MetricsState()
    try:
        text = path.read_text(encoding="utf-8")
        families = list(text_string_to_metric_families(text))
    except (OSError, UnicodeDecodeError, ValueError):
        return state
    for family in families:
        for sample in family.samples:
            _restore(state, sample.name, sample.labels, sample.value)
    return state


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
    """Serve `/metrics` from a background thread."""
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry(auto_describe=False)
    registry.register(state)
    server, _thread = start_http_server(port, addr=host, registry=registry)

    def shutdown() -> None:
        server.shutdown()
        server.server_close()

    return MetricsServer(host, int(server.server_port), shutdown)
