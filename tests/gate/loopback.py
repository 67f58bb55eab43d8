"""A registry whose pinned model lives on a loopback fake of the OpenAI wire format, and
whose control check points at a closed loopback port: when the fake cannot be reached
(it never answers) the run is "could not tell", never "gone"."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write_registry

KEY = "sk-proj-GATEcanaryKEY0123456789abcdefXYZ"
PINNED = "acme-large"
SERVED_AS = "acme-large-2026-10-01"

_REGISTRY = """\
version: 1

defaults:
  timeouts: {{connect_s: {connect_s:g}, first_byte_s: 5, first_token_s: 5, stall_s: 5, total_s: 10}}
  retry: {{attempts: 2, backoff_s: 0, max_backoff_s: 0, max_retry_after_s: 1}}
  control:
    # Nothing listens here: "is this machine online?" is answered "no".
    urls: [http://127.0.0.1:{control_port}/]
    timeout_s: 1

providers:

  # The vendor whose model we pin.
  - name: acme
    api: openai
    base_url: {base_url}
    api_key: env:{key_env}
    hosting: vendor
    jurisdiction: FR
    models:
      - id: acme-small
        weights: closed

      - id: {pinned}
        weights: closed
        pinned: true{retires}
        fallbacks: [acme/acme-small]
"""
PIN_LINE = 24


def registry_text(
    base_url: str,
    control_port: int,
    retires: str | None = None,
    key_env: str = "ACME_API_KEY",
    connect_s: float = 2,
) -> str:
    return _REGISTRY.format(
        connect_s=connect_s,
        base_url=base_url,
        key_env=key_env,
        control_port=control_port,
        pinned=PINNED,
        retires=f"\n        retires: {retires}" if retires else "",
    )


def write_gate_registry(
    directory: Path,
    base_url: str,
    control_port: int,
    retires: str | None = None,
    key_env: str = "ACME_API_KEY",
    connect_s: float = 2,
) -> Path:
    path = write_registry(
        directory, registry_text(base_url, control_port, retires, key_env, connect_s)
    )
    assert path.read_text().splitlines()[PIN_LINE - 1].strip() == f"- id: {PINNED}"
    return path
