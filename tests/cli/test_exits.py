"""How the process ends when the outside world cuts it short: Ctrl-C at any moment exits 130,
never with a traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

BLACKHOLE_REGISTRY = """\
version: 1
defaults:
  kinds: [completion]
  retry: {{attempts: 1}}
  timeouts: {{connect_s: 60, first_byte_s: 60, first_token_s: 60, stall_s: 60, total_s: 60}}
  control: {{urls: ["http://127.0.0.1:{port}/"], timeout_s: 60}}
providers:
  - name: local
    api: openai
    base_url: http://127.0.0.1:{port}/v1
    hosting: self-hosted
    models:
      - {{id: m, weights: open}}
"""


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A port that takes connections (the kernel's backlog) and never answers: a probe
    against it runs until it is interrupted."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as server:
        yield server.getsockname()[1]


def modelaudit(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "modelaudit", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )


# Offsets after the entry point starts running: the first ones land in the imports of
# `modelaudit.cli.main.main` (~150 ms), the later ones while the probe waits on the network.
OFFSETS_S = (0.0, 0.002, 0.005, 0.01, 0.02, 0.04, 0.07, 0.1, 0.15, 0.25)


def test_ctrl_c_at_any_moment_exits_130_without_a_traceback(
    isolated_env: Path, blackhole: int
) -> None:
    (isolated_env / "providers.yaml").write_text(BLACKHOLE_REGISTRY.format(port=blackhole))
    # Python prints each import as it completes: the first import after our entry module's
    # is made inside `main()`, so the signal below can never land in the interpreter's own
    # start-up, which no program can guard.
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    failures = []
    for offset in OFFSETS_S:
        process = modelaudit("probe", "--no-store", "-f", "json", env=env)
        assert process.stderr is not None
        seen = b""
        while b"modelaudit.cli.main\n" not in seen:
            line = process.stderr.readline()
            assert line, f"exited before running main(): {seen.decode()[-2000:]}"
            seen += line
        assert process.stderr.readline(), "main() imports the CLI"
        time.sleep(offset)
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=60)
        err = rest.decode()
        if process.returncode != 130 or "Traceback" in err:
            failures.append((offset, process.returncode, err[-1500:]))

    assert failures == []
