"""A real Prometheus server scrapes `modelaudit watch --metrics-port` and stores the
series with their labels and values."""

from __future__ import annotations

import re
import signal
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from tests.fakes import Behaviour, FakeOpenAI, wait_until
from tests.store.cli_support import KEY, running, write_store_registry

from .conftest import RunningPrometheus


def _by_model(result: list[dict[str, object]]) -> dict[str, tuple[dict[str, str], float]]:
    found = {}
    for series in result:
        labels = series["metric"]
        value = series["value"]
        assert isinstance(labels, dict)
        assert isinstance(value, list)
        found[labels["model"]] = (labels, float(value[1]))
    return found


@pytest.mark.realserver
@pytest.mark.timeout(240)
def test_prometheus_scrapes_the_watchers_series(
    isolated_env: Path, start_prometheus: Callable[[Sequence[str]], RunningPrometheus]
) -> None:
    log = isolated_env / "watch.log"
    with FakeOpenAI(key=KEY, models=["good", "bad"]) as fake:
        fake.behave("bad", Behaviour.error("server_error"))
        write_store_registry(
            isolated_env, fake.base_url, ["good", "bad"], kinds=("completion", "stream")
        )
        args = ["watch", "--every", "2s", "--metrics-port", "0", "--no-store"]
        with running(args, isolated_env, log) as watcher:
            wait_until(lambda: "metrics on http" in log.read_text(), timeout_s=60)
            port = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", log.read_text())
            assert port is not None, log.read_text()
            prometheus = start_prometheus([f"127.0.0.1:{port.group(1)}"])
            query = "modelaudit_probe_success{kind='completion'}"
            wait_until(lambda: len(prometheus.query(query)) == 2, timeout_s=90, poll_s=0.5)

            success = _by_model(prometheus.query(query))
            verdict_up = _by_model(prometheus.query("modelaudit_model_verdict{verdict='up'}"))
            latency = _by_model(
                prometheus.query("modelaudit_probe_latency_seconds_count{kind='completion'}")
            )
            ttft = _by_model(prometheus.query("modelaudit_ttft_seconds_bucket{le='+Inf'}"))
            last_run = prometheus.query("modelaudit_last_run_timestamp_seconds")
            watcher.send_signal(signal.SIGTERM)
            assert watcher.wait(timeout=30) == 0

    good_labels, good_value = success["good"]
    assert good_value == 1
    assert {k: good_labels[k] for k in ("provider", "model", "kind", "error_class", "job")} == {
        "provider": "acme",
        "model": "good",
        "kind": "completion",
        "error_class": "ok",
        "job": "modelaudit",
    }
    assert success["bad"][1] == 0
    assert success["bad"][0]["error_class"] == "server_error"
    assert (verdict_up["good"][1], verdict_up["bad"][1]) == (1, 0)
    assert latency["good"][1] >= 1
    assert "bad" not in latency or latency["bad"][1] == 0  # failures are not latencies
    assert ttft["good"][1] >= 1
    assert len(last_run) == 1
    assert float(last_run[0]["value"][1]) > 1_700_000_000
