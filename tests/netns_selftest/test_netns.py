"""Inside `unshare -n` nothing is reachable, and failures come fast."""

from __future__ import annotations

import json
import sys

import pytest
from tests.fakes import FakeServer, json_reply
from tests.netns import run_offline

PROBE = r"""
import json, socket, sys, time
port = int(sys.argv[1])
out = {}
started = time.perf_counter()
try:
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    out["connect"] = "connected"
except OSError as exc:
    out["connect"] = f"{type(exc).__name__}: {exc}"
out["connect_s"] = time.perf_counter() - started
started = time.perf_counter()
try:
    socket.getaddrinfo("api.vendor.test", 443)
    out["dns"] = "resolved"
except OSError as exc:
    out["dns"] = f"{type(exc).__name__}: {exc}"
out["dns_s"] = time.perf_counter() - started
print(json.dumps(out))
"""


@pytest.mark.netns
def test_connect_and_dns_fail_fast_inside_the_namespace() -> None:
    # a server that IS listening on the host's loopback: unreachable from the namespace
    with FakeServer() as server:
        server.route("GET", "/", json_reply({"ok": True}))
        result = run_offline([sys.executable, "-c", PROBE, str(server.port)], timeout=30)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["connect"] != "connected"
    assert "unreachable" in out["connect"].lower() or "refused" in out["connect"].lower()
    assert out["connect_s"] < 1.0
    assert out["dns"] != "resolved"
    assert out["dns_s"] < 2.0
    assert server.connections == 0


@pytest.mark.netns
def test_exit_code_and_streams_are_captured() -> None:
    result = run_offline(
        [
            sys.executable,
            "-c",
            "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)",
        ]
    )
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")


@pytest.mark.netns
def test_loopback_can_be_brought_up() -> None:
    script = (
        "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1); "
        "c = socket.create_connection(s.getsockname(), timeout=2); print('ok')"
    )
    result = run_offline([sys.executable, "-c", script], loopback=True)
    assert result.stdout.strip() == "ok", result.stderr
