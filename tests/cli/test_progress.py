"""The live progress display: on stderr when stderr is a terminal, and never in the data."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes import FakeOpenAI
from tests.fakes.http import FakeServer, Reply, closed_port, silent_port
from tests.probe.runs import provider, write_fast_registry

KEY = "sk-test-progress-0123456789abcdef"


def _read_all(fd: int, process: subprocess.Popen[bytes], bound_s: float) -> bytes:
    """Everything written to the terminal until the process ends (bounded)."""
    chunks = []
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    return b"".join(chunks)


def _probe_on_a_terminal(env: dict[str, str]) -> tuple[int, str, bytes]:
    """Run a probe with stderr on a pseudo-terminal: its exit code, what the terminal
    showed, and stdout."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "modelaudit", "probe", "--no-store", "-f", "json"],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**os.environ, "TERM": "xterm", "NO_COLOR": "1", **env},
    )
    os.close(terminal)
    shown = _read_all(controller, process, bound_s=60).decode(errors="replace")
    out, _ = process.communicate(timeout=60)
    os.close(controller)
    return process.returncode, shown, out


def test_a_terminal_sees_each_model_as_it_finishes_and_stdout_keeps_only_data(
    isolated_env: Path,
) -> None:
    with FakeServer() as control, FakeOpenAI(key=KEY, models=["a", "b"]) as fake:
        control.route("GET", "/", Reply(status=204))
        entry = provider("openai", "openai", fake.base_url, ["a", "b"], key_env="OPENAI_API_KEY")
        write_fast_registry(isolated_env, [entry], control_url=control.url + "/")
        code, shown, out = _probe_on_a_terminal({"OPENAI_API_KEY": KEY})

    assert code == 0
    assert "up" in shown
    assert "openai/a" in shown
    assert "openai/b" in shown
    assert "run complete" in shown
    document = json.loads(out)  # the progress display never reaches the data
    assert [v["verdict"] for v in document["verdicts"]] == ["up", "up"]


def test_a_terminal_never_sees_down_for_a_model_the_run_ends_calling_inconclusive(
    isolated_env: Path,
) -> None:
    # The server never answers and neither does the control check: this machine looks
    # offline. The line shown as each model finishes must already say so.
    with silent_port() as server, closed_port() as control:
        models = ["a", "b", "c"]
        entry = provider("local", "openai", server.url + "/v1", models, hosting="self-hosted")
        write_fast_registry(
            isolated_env,
            [entry],
            control_url=control.url + "/",
            timeouts={"connect_s": 0.3},
        )
        code, shown, out = _probe_on_a_terminal({})

    assert code == 3
    document = json.loads(out)
    assert {v["verdict"] for v in document["verdicts"]} == {"inconclusive"}
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", shown)
    model_lines = [line.strip() for line in plain.splitlines() if " local/" in line]
    assert len(model_lines) == len(models), shown
    assert all(line.startswith("inconclusive local/") for line in model_lines), shown
