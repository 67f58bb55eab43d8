"""--metrics-file: the text exposition node_exporter's textfile collector reads."""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from modelaudit.cli.app import main
from modelaudit.metrics.prometheus import MetricsState, read_textfile
from modelaudit.probe.result import ProbeResult, RunReport
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict
from tests.fakes import Behaviour, FakeOpenAI
from tests.store.cli_support import KEY, KEY_ENV, write_store_registry
from tests.store.synthetic import at, attempt, report, result

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(path: Path) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(path.read_text()):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    """A sample's value; every series carries the agent's region (the host name unless
    `--region` says otherwise)."""
    labels.setdefault("region", socket.gethostname())
    return found[(name, frozenset(labels.items()))]


def test_the_metrics_file_has_every_series_and_counters_grow_across_runs(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    prom = isolated_env / "textfile" / "modelaudit.prom"
    prom.parent.mkdir()
    with FakeOpenAI(key=KEY, models=["steady", "falls"]) as fake:
        write_store_registry(
            isolated_env, fake.base_url, ["steady", "falls"], kinds=("completion", "stream")
        )
        args = ["probe", "-f", "json", "--no-store", "--metrics-file", str(prom)]
        assert main(args) == 0
        first = samples(prom)
        fake.behave("falls", Behaviour.error("server_error"))
        assert main(args) == 0
    capsys.readouterr()
    second = samples(prom)

    steady = {"provider": "acme", "model": "steady"}
    falls = {"provider": "acme", "model": "falls"}
    assert (
        value(first, "modelaudit_probe_success", kind="completion", error_class="ok", **falls) == 1
    )
    assert (
        value(
            second,
            "modelaudit_probe_success",
            kind="completion",
            error_class="server_error",
            **falls,
        )
        == 0
    )
    assert (
        "modelaudit_probe_success",
        frozenset({"kind": "completion", "error_class": "ok", **falls}.items()),
    ) not in second
    assert value(second, "modelaudit_model_verdict", verdict="down", **falls) == 1
    assert value(second, "modelaudit_model_verdict", verdict="up", **falls) == 0
    assert value(second, "modelaudit_model_verdict", verdict="up", **steady) == 1
    # Histograms are counters: the second run adds to what the first run wrote.
    assert value(first, "modelaudit_probe_latency_seconds_count", kind="completion", **steady) == 1
    assert value(second, "modelaudit_probe_latency_seconds_count", kind="completion", **steady) == 2
    assert value(second, "modelaudit_ttft_seconds_count", **steady) == 2
    assert value(second, "modelaudit_ttft_seconds_count", **falls) == 1  # failures add nothing
    assert value(second, "modelaudit_ttft_seconds_bucket", le="+Inf", **steady) == 2
    assert value(second, "modelaudit_probe_latency_seconds_sum", kind="completion", **steady) > 0
    assert value(second, "modelaudit_last_run_timestamp_seconds") >= value(
        first, "modelaudit_last_run_timestamp_seconds"
    )
    assert sorted(p.name for p in prom.parent.iterdir()) == ["modelaudit.prom"]  # no temp left


def test_an_unreadable_metrics_file_starts_the_counters_afresh(tmp_path: Path) -> None:
    prom = tmp_path / "m.prom"
    prom.write_text("this is { not the exposition format\n")

    state, problem = read_textfile(prom)

    assert state.latency == {}
    assert state.last_run is None
    assert problem is not None


def test_an_interrupted_run_updates_only_what_it_reached() -> None:
    state = MetricsState()
    state.record(
        _run(
            RunStatus.COMPLETE,
            {"a": Verdict.UP, "b": Verdict.DOWN},
            [
                result("a", ProbeKind.COMPLETION, attempt(at())),
                result("b", ProbeKind.COMPLETION, attempt(at(), ErrorClass.SERVER_ERROR)),
            ],
        )
    )
    state.record(
        _run(
            RunStatus.INTERRUPTED,
            {"a": Verdict.DOWN, "b": Verdict.SKIPPED},
            [result("a", ProbeKind.COMPLETION, attempt(at(), ErrorClass.TIMEOUT))],
        )
    )

    assert state.verdicts == {("acme", "a"): Verdict.DOWN, ("acme", "b"): Verdict.DOWN}
    assert state.success[("acme", "b", "completion")] == ("server_error", 0.0)
    assert state.success[("acme", "a", "completion")] == ("timeout", 0.0)


def _run(status: RunStatus, verdicts: dict[str, Verdict], results: list[ProbeResult]) -> RunReport:
    return replace(report(at(), verdicts, status), results=tuple(results))


# --- the /metrics endpoint ------------------------------------------------------------------


def _scrape(port: int) -> int:
    import httpx

    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code


def test_idle_scrapers_hold_a_bounded_number_of_threads() -> None:
    import socket
    import threading

    from modelaudit.metrics import prometheus
    from tests.fakes import wait_until

    server = prometheus.serve(MetricsState(), "127.0.0.1", 0)
    threads_before = threading.active_count()
    most = threads_before + prometheus.MAX_CONNECTIONS
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(40)]
    try:
        wait_until(lambda: threading.active_count() >= most, timeout_s=10)
        # The connections beyond the bound are closed at once, not given a thread.
        assert threading.active_count() <= most
        wait_until(lambda: _hung_up(idle) >= 40 - prometheus.MAX_CONNECTIONS, timeout_s=10)
    finally:
        for sock in idle:
            sock.close()
        server.close()


def _hung_up(sockets: list[Any]) -> int:
    """How many of `sockets` the server closed (readable, with nothing to read)."""
    import select
    import socket

    readable, _, _ = select.select(sockets, [], [], 0)
    return sum(sock.recv(1, socket.MSG_PEEK) == b"" for sock in readable)


def test_an_idle_scraper_is_dropped_after_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from modelaudit.metrics import prometheus

    monkeypatch.setattr(prometheus._Handler, "timeout", 0.3)  # the idle timeout, shortened
    server = prometheus.serve(MetricsState(), "127.0.0.1", 0)
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.settimeout(10)
            assert sock.recv(1) == b""  # the server hung up on the silent client
        assert _scrape(server.port) == 200
    finally:
        server.close()


def _scrape_or_zero(port: int) -> int:
    import httpx

    try:
        return _scrape(port)
    except httpx.HTTPError:
        return 0


def test_metrics_are_served_and_anything_else_is_404() -> None:
    import httpx

    from modelaudit.metrics import prometheus

    server = prometheus.serve(MetricsState(), "127.0.0.1", 0)
    try:
        assert _scrape(server.port) == 200
        assert httpx.get(f"http://127.0.0.1:{server.port}/other", timeout=5).status_code == 404
    finally:
        server.close()
