"""`watch --serve`: the latest report, /metrics and a badge per pinned model on one port,
with bounded threads, no way out of its fixed routes, and idle clients that cannot hold
it."""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from modelaudit.schedule.serve import WORKERS
from tests.alerts.conftest import GUARD_DIR
from tests.e2e.cli import clean_env
from tests.fakes import FakeOpenAI

REGISTRY = """version: 1
providers:
  - name: acme
    api: openai
    base_url: {base_url}
    hosting: self-hosted
    models:
      - id: main
        weights: open
        pinned: true
      - id: spare
        weights: open
"""


def get(port: int, path: str, timeout: float = 10) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheader("content-type") or "", response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """One watcher for the module's tests (each starting its own would cost seconds)."""
    tmp_path = tmp_path_factory.mktemp("serve")
    log = tmp_path / "resolved.log"
    log.touch()
    with FakeOpenAI(models=["main", "spare"]) as fake:
        registry = tmp_path / "providers.yaml"
        registry.write_text(REGISTRY.format(base_url=fake.base_url))
        env = clean_env(
            tmp_path / "home",
            MODELAUDIT_DB=str(tmp_path / "h.sqlite3"),
            PYTHONPATH=str(GUARD_DIR),
            MODELAUDIT_TEST_RESOLVE_LOG=str(log),
        )
        argv = ["watch", "-c", str(registry), "--every", "1h", "--serve", "0"]
        watcher = subprocess.Popen(
            [sys.executable, "-m", "modelaudit", *argv],
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        try:
            assert watcher.stderr is not None
            port = 0
            end = time.monotonic() + 60
            while not port and time.monotonic() < end:
                found = re.search(r"http://127\.0\.0\.1:(\d+)/report", watcher.stderr.readline())
                port = int(found.group(1)) if found else 0
            assert port, "watch --serve did not say where it serves"
            while get(port, "/report.json")[0] != 200 and time.monotonic() < end:
                time.sleep(0.05)
            yield port
        finally:
            watcher.send_signal(signal.SIGTERM)
            watcher.communicate(timeout=60)
    assert log.read_text() == ""


def test_the_report_metrics_and_badges_are_served(served: int) -> None:
    status, kind, body = get(served, "/report.html")
    assert (status, kind) == (200, "text/html; charset=utf-8")
    assert b"<html" in body[:500].lower()
    status, kind, body = get(served, "/report.json")
    assert (status, kind) == (200, "application/json")
    assert [m["model"] for m in json.loads(body)["models"]] != []
    status, _, body = get(served, "/metrics")
    assert status == 200
    assert re.search(
        rb'modelaudit_model_verdict\{model="main",provider="acme",[^}]*verdict="up"\} 1\.0', body
    )
    status, kind, body = get(served, "/badge/acme/main.json")
    assert (status, kind) == (200, "application/json")
    assert json.loads(body) == {
        "schemaVersion": 1,
        "label": "main",
        "message": "up",
        "color": "brightgreen",
        "cacheSeconds": 300,
    }


@pytest.mark.parametrize(
    "path",
    [
        "/badge/acme/spare.json",  # not pinned
        "/badge/nobody/main.json",
        "/../../../../etc/passwd",
        "/badge/..%2F..%2F..%2Fetc%2Fpasswd.json",
        "/report.html/../../etc/passwd",
        "/metrics/../providers.yaml",
    ],
)
def test_nothing_outside_the_fixed_routes(served: int, path: str) -> None:
    status, _, body = get(served, path)
    assert status == 404
    assert b"root:" not in body


def test_idle_clients_cannot_hold_more_than_the_worker_slots(served: int) -> None:
    idle = [socket.create_connection(("127.0.0.1", served), timeout=10) for _ in range(WORKERS)]
    try:
        end = time.monotonic() + 10
        refused = False
        while not refused and time.monotonic() < end:  # the slots fill as threads start
            refused = get(served, "/metrics")[0] == 503
        assert refused
    finally:
        for sock in idle:
            sock.close()
    end = time.monotonic() + 10
    while get(served, "/metrics")[0] != 200:
        assert time.monotonic() < end, "the slots were not given back"
        time.sleep(0.05)
