"""Build a registry around loopback fakes and run `modelaudit probe` on it in-process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli, write_registry

# Fast timeouts and retries, so a test of a failure mode takes a fraction of a second.
FAST_DEFAULTS: dict[str, Any] = {
    "timeouts": {"connect_s": 2, "first_byte_s": 2, "first_token_s": 2, "stall_s": 1, "total_s": 4},
    "retry": {"attempts": 3, "backoff_s": 0.01, "max_backoff_s": 0.05, "max_retry_after_s": 2},
}


def provider(
    name: str,
    api: str,
    base_url: str,
    models: list[str],
    *,
    key_env: str | None = None,
    hosting: str = "vendor",
    **extra: Any,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "api": api, "base_url": base_url, "hosting": hosting}
    if key_env:
        entry["api_key"] = f"env:{key_env}"
    if hosting != "self-hosted":
        entry["jurisdiction"] = "US"
    entry.update(extra)
    entry["models"] = [{"id": m, "weights": "closed"} for m in models]
    return entry


def write_fast_registry(
    directory: Path,
    providers: list[dict[str, Any]],
    *,
    control_url: str,
    kinds: list[str] | None = None,
    **defaults: Any,
) -> Path:
    """`providers` with `FAST_DEFAULTS` (merged with `defaults`) and the control check at
    `control_url`."""
    merged: dict[str, Any] = {
        key: {**FAST_DEFAULTS.get(key, {}), **value} if isinstance(value, dict) else value
        for key, value in {**FAST_DEFAULTS, **defaults}.items()
    }
    merged["control"] = {"urls": [control_url], "timeout_s": 1}
    if kinds:
        merged["kinds"] = kinds
    return write_registry(directory, {"version": 1, "defaults": merged, "providers": providers})


@dataclass
class ProbeRun:
    code: int
    out: str
    err: str

    @property
    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.out)
        return parsed

    def verdict(self, model: str) -> dict[str, Any]:
        return next(v for v in self.document["verdicts"] if v["model"] == model)

    def result(self, model: str, kind: str) -> dict[str, Any]:
        return next(
            r for r in self.document["results"] if r["model"] == model and r["kind"] == kind
        )


def probe(capsys: pytest.CaptureFixture[str], *args: str) -> ProbeRun:
    """`modelaudit probe -f json ARGS`, in-process; the registry is ./providers.yaml."""
    return ProbeRun(*run_cli(["probe", "-f", "json", *args], capsys))
