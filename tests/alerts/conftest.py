"""Every alert test stays on this machine: a name lookup of any other host fails the test
(Apprise must never resolve a public host)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = {"127.0.0.1", "::1", "localhost", socket.gethostname(), ""}
GUARD_DIR = Path(__file__).parent / "loopback_only"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    refused: list[str] = []
    original = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and name not in HERE and not str(name).startswith("127."):
            refused.append(str(name))
            raise socket.gaierror(socket.EAI_NONAME, "refused by the test: not this machine")
        return original(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield refused
    assert refused == [], f"a lookup beyond this machine: {refused}"


@pytest.fixture
def guarded_env(tmp_path: Path) -> dict[str, str]:
    """Environment additions for a subprocess: the same guard, logging to a file."""
    log = tmp_path / "resolved.log"
    log.touch()
    return {"PYTHONPATH": str(GUARD_DIR), "MODELAUDIT_TEST_RESOLVE_LOG": str(log)}
