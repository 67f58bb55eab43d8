"""The suite's loopback guard (tests/netguard.py) itself: a test that reaches beyond
127.0.0.1, in this process or in a modelaudit process it started, is caught."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests import netguard
from tests.fakes.http import closed_port

DOCUMENTATION_ADDRESS = "192.0.2.1"
"""TEST-NET-1 (RFC 5737): never routed, so even a guard that failed would send nothing."""


def test_a_connection_beyond_loopback_is_refused_and_recorded() -> None:
    before = len(netguard.violations)
    with socket.socket() as sock, pytest.raises(netguard.NetworkGuardError):
        sock.connect((DOCUMENTATION_ADDRESS, 9))
    caught = netguard.violations[before:]
    del netguard.violations[before:]  # expected here: not a failure of this test

    assert caught == [f"connect to {DOCUMENTATION_ADDRESS}:9"]


def test_loopback_is_allowed() -> None:
    with closed_port() as port, socket.socket() as sock:
        sock.settimeout(2)
        assert sock.connect_ex(("127.0.0.1", port.port)) != 0  # refused, not guarded


def test_a_modelaudit_process_a_test_starts_is_guarded_too(tmp_path: Path) -> None:
    log = tmp_path / "guard.log"
    registry = tmp_path / "providers.yaml"
    registry.write_text(
        "version: 1\n"
        "defaults: {kinds: [completion], retry: {attempts: 1}, timeouts: {connect_s: 2}}\n"
        "providers:\n"
        f"  - {{name: far, api: openai, base_url: 'http://{DOCUMENTATION_ADDRESS}:9/v1',\n"
        "     hosting: self-hosted, models: [{id: m, weights: open}]}\n"
    )

    done = subprocess.run(
        [sys.executable, "-m", "modelaudit", "probe", "-c", str(registry), "--no-store"],
        env={**os.environ, netguard.ENV: str(log)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    found = log.read_text().splitlines()
    assert f"connect to {DOCUMENTATION_ADDRESS}:9" in found, (found, done.stderr)
