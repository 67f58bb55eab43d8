"""What many tests need, once: writing a registry, a free loopback port, running the CLI
in this process. A port that refuses connections is `tests.fakes.closed_port()`; a port
that never answers is `tests.fakes.silent_port()`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml


def write_registry(
    directory: Path, registry: str | Mapping[str, Any], name: str = "providers.yaml"
) -> Path:
    """`registry` (YAML text, or a document to write as YAML) as `directory/name`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    text = registry if isinstance(registry, str) else yaml.safe_dump(dict(registry))
    path.write_text(text, encoding="utf-8")
    return path


def free_port() -> int:
    """A loopback port nothing listens on now, for a server a test starts (bound, then
    released: a server that must refuse connections throughout is `closed_port()`)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class CliRun(NamedTuple):
    """What `modelaudit ARGS` did: exit code, stdout, stderr."""

    code: int
    out: str
    err: str


def run_cli(args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> CliRun:
    """`modelaudit ARGS` in this process, through the same entry as the command (quicker
    than a new interpreter)."""
    from modelaudit.cli.main import main

    code = main(list(args))
    captured = capsys.readouterr()
    return CliRun(code, captured.out, captured.err)


def python_stderr(
    script: str, *, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> list[str]:
    """The stderr lines of `python -c script` in a fresh interpreter (what a command
    imports is seen only there), which must exit 0; `env` is added to this one's."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=cwd,
        env={**os.environ, **env} if env is not None else None,
    )
    return done.stderr.splitlines()
