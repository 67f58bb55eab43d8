"""Run `modelaudit probe` the way a user does (`python -m modelaudit probe ...`) and read
what it printed: the JSON document on stdout, the summary on stderr, the exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tests.conftest import _KEPT_PREFIXES as KEPT_PREFIXES
from tests.conftest import _SCRUBBED_PREFIXES as SCRUBBED_PREFIXES
from tests.conftest import _SCRUBBED_SUFFIXES as SCRUBBED_SUFFIXES

# The same scrubbing rules as the autouse `isolated_env` fixture.
from tests.conftest import CLOSED_METADATA

SUBPROCESS_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class ProbeRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float = 0.0

    @cached_property
    def document(self) -> dict[str, Any]:
        """The `-f json` document (fails the test with the output when it is not JSON)."""
        try:
            parsed = json.loads(self.stdout)
        except ValueError as exc:
            raise AssertionError(f"stdout is not JSON: {exc}\n{self}") from None
        assert isinstance(parsed, dict)
        return parsed

    def verdict(self, provider: str, model: str) -> dict[str, Any]:
        found = [
            v for v in self.document["verdicts"] if (v["provider"], v["model"]) == (provider, model)
        ]
        assert len(found) == 1, f"no single verdict for {provider}/{model}: {self}"
        return found[0]

    def result(self, provider: str, model: str, kind: str) -> dict[str, Any]:
        found = [
            r
            for r in self.document["results"]
            if (r["provider"], r["model"], r["kind"]) == (provider, model, kind)
        ]
        assert len(found) == 1, f"no single {kind} result for {provider}/{model}: {self}"
        return found[0]

    def __str__(self) -> str:
        return (
            f"exit {self.returncode} after {self.seconds:.1f} s\n"
            f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
        )


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment `isolated_env` gives a test, for fixtures that run before it: no
    keys or tokens, no MODELAUDIT_* settings, no proxies, a temp HOME, no colour."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name.startswith(KEPT_PREFIXES)
        or not (name.startswith(SCRUBBED_PREFIXES) or name.endswith(SCRUBBED_SUFFIXES))
    }
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env.pop(proxy, None)
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        NO_COLOR="1",
        COLUMNS="200",
        TERM="dumb",
        NO_PROXY="127.0.0.1,localhost",
        MODELAUDIT_LOCAL_PORTS="none",
        # Google's chain (vertex) finds nothing and never reaches a metadata server.
        GOOGLE_APPLICATION_CREDENTIALS=str(home / "no-adc.json"),
        CLOUDSDK_CONFIG=str(home / "gcloud"),
        GCE_METADATA_HOST=CLOSED_METADATA,
        GCE_METADATA_IP=CLOSED_METADATA,
    )
    env.pop("FORCE_COLOR", None)
    env.pop("GOOGLE_CLOUD_PROJECT", None)
    env.update(extra)
    return env


def probe_argv(registry: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "modelaudit", "probe", "-c", str(registry), *args]


def run_probe(
    registry: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = SUBPROCESS_TIMEOUT_S,
) -> ProbeRun:
    """`python -m modelaudit probe -c REGISTRY ARGS...` in a subprocess."""
    import time

    started = time.perf_counter()
    done = subprocess.run(
        probe_argv(registry, *args),
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else None,
        cwd=registry.parent,
        timeout=timeout,
        check=False,
    )
    return ProbeRun(done.returncode, done.stdout, done.stderr, time.perf_counter() - started)


def verdicts_by_model(document: Mapping[str, Any]) -> dict[str, str]:
    """`provider/model` → verdict."""
    return {f"{v['provider']}/{v['model']}": v["verdict"] for v in document["verdicts"]}
