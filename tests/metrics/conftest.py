"""A real Prometheus server (the Debian package `prometheus`), started by the test on
127.0.0.1 with a generated scrape config.

Without the binary the test is skipped with the reason, unless
MODELAUDIT_REQUIRE_REALSERVERS=1 (as in CI), which makes it a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes import wait_until
from tests.helpers import free_port

# Read at import: the autouse fixture scrubs MODELAUDIT_* from each test's environment.
REQUIRE = os.environ.get("MODELAUDIT_REQUIRE_REALSERVERS", "").strip() == "1"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class RunningPrometheus:
    url: str
    log: Path

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector of `promql`: [{"metric": {labels}, "value": [t, "v"]}]."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        response.raise_for_status()
        body = response.json()
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result


@pytest.fixture
def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        reason = (
            "the `prometheus` binary is not installed (Debian/Ubuntu: apt-get install "
            "prometheus); MODELAUDIT_REQUIRE_REALSERVERS=1 makes this a failure"
        )
        if REQUIRE:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return found


@pytest.fixture
def start_prometheus(
    prometheus_binary: str, tmp_path: Path
) -> Iterator[Callable[[Sequence[str]], RunningPrometheus]]:
    """Start Prometheus scraping `targets` (host:port) every second."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(targets: Sequence[str]) -> RunningPrometheus:
        home = tmp_path / "prometheus"
        home.mkdir()
        config = home / "prometheus.yml"
        listed = ", ".join(f'"{t}"' for t in targets)
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: modelaudit\n"
            f"    static_configs:\n      - targets: [{listed}]\n"
        )
        port = free_port()
        log = home / "prometheus.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [
                    prometheus_binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={home / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=warn",
                ],
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _ready(url, process, log), timeout_s=START_TIMEOUT_S, poll_s=0.2)
        return RunningPrometheus(url, log)

    yield start
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _ready(url: str, process: subprocess.Popen[bytes], log: Path) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"prometheus exited with {process.returncode}:\n{log.read_text()}")
    try:
        return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
