"""How the process ends when the outside world cuts it short: Ctrl-C at any moment exits 130,
a reader that goes away exits 141; never a traceback, and never a history DB left broken."""

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
from tests.fakes import Behaviour, FakeOpenAI
from tests.fakes.http import closed_port
from tests.gate.loopback import KEY, PINNED, write_gate_registry
from tests.store.cli_support import KEY as STORE_KEY
from tests.store.cli_support import env as store_env
from tests.store.cli_support import rows, write_store_registry

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
        stdout=subprocess.PIPE,  # read by communicate(); never a device node
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


# --- a reader that goes away: `modelaudit ... | head` -----------------------------------------


def gone_reader(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """`modelaudit ARGS` writing into a pipe whose reader has already gone: the first write
    fails with EPIPE, whatever the timing."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "modelaudit", *args],
            cwd=cwd,
            env=env,
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    return done.returncode, done.stderr.decode()


def assert_quiet(err: str) -> None:
    for noise in ("Traceback", "Exception ignored", "BrokenPipeError", "internal error"):
        assert noise not in err, err


@pytest.mark.parametrize(
    "args",
    [["providers", "-f", "json"], ["check", "-f", "json"], ["check", "-f", "github"]],
)
def test_a_gone_reader_exits_141_quietly_not_as_a_failed_policy(
    args: list[str], isolated_env: Path
) -> None:
    with FakeOpenAI(key=KEY, models=[PINNED]) as fake, closed_port() as control:
        write_gate_registry(isolated_env, fake.base_url, control.port)

        code, err = gone_reader(args, isolated_env, {**os.environ, "ACME_API_KEY": KEY})

    assert code == 141, err
    assert_quiet(err)


def test_a_probe_whose_reader_leaves_midway_exits_141_and_keeps_the_database_sound(
    isolated_env: Path,
) -> None:
    db = isolated_env / "history.sqlite3"
    with FakeOpenAI(key=STORE_KEY, models=["quick", "slow"]) as fake:
        fake.behave("slow", Behaviour.ok().delayed(1.0))
        write_store_registry(isolated_env, fake.base_url, ["quick", "slow"])
        read_end, write_end = os.pipe()
        process = subprocess.Popen(
            [sys.executable, "-m", "modelaudit", "probe", "-f", "jsonl", "--db", str(db)],
            cwd=isolated_env,
            env=store_env(),
            stdout=write_end,
            stderr=subprocess.PIPE,
        )
        os.close(write_end)
        with os.fdopen(read_end, "rb") as reader:  # `| head -1`
            first = reader.readline()
        _, err = process.communicate(timeout=60)

    assert b'"type": "result"' in first
    assert process.returncode == 141, err
    assert_quiet(err.decode())
    checked = subprocess.run(
        [sys.executable, "-m", "modelaudit", "db", "check", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert rows(db, "SELECT status FROM run") == [("interrupted",)]
