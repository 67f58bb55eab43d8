"""`init` and `discover` against real servers: llama.cpp's own server found on its (free,
test-chosen) loopback port, and the LiteLLM proxy's own running config imported. Each
registry `init` writes is then probed for real: the model it names answers."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from modelaudit.discovery.localscan import scan
from modelaudit.vocabulary import ServerEngine
from tests.e2e.cli import clean_env, run_probe
from tests.realservers import RunningServer

pytestmark = [pytest.mark.realserver, pytest.mark.timeout(600)]

# The registry init writes, plus run settings that keep a real probe on loopback (the
# control check asks the server itself) and patient with a 135M model on a busy machine.
LOCAL_RUN_SETTINGS = """
defaults:
  retry: {{attempts: 3, backoff_s: 0.05, max_backoff_s: 0.2}}
  budget: {{output_tokens_per_probe: 2}}
  timeouts: {{connect_s: 5, first_byte_s: 120, first_token_s: 120, stall_s: 60, total_s: 180}}
  slo: {{p95_latency_ms: 600000}}
  control: {{urls: ["{control}"], timeout_s: 5}}
"""


def modelaudit(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelaudit", *args],
        env=clean_env(home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_scan_recognises_the_real_llamacpp_server(llamacpp_server: RunningServer) -> None:
    found = asyncio.run(scan([llamacpp_server.port]))
    assert [(s.engine, s.base_url) for s in found.servers] == [
        (ServerEngine.LLAMACPP, llamacpp_server.base_url)
    ]
    assert [e.id for e in found.servers[0].entries] == [llamacpp_server.model]


def test_init_finds_the_real_server_and_its_registry_probes_up(
    tmp_path: Path, llamacpp_server: RunningServer
) -> None:
    target = tmp_path / "providers.yaml"
    port = str(llamacpp_server.port)
    written = modelaudit(tmp_path / "home", "init", "-o", str(target), "--local-ports", port)
    assert written.returncode == 0, written.stderr
    assert modelaudit(tmp_path / "home", "config", "check", "-c", str(target)).returncode == 0
    document = yaml.safe_load(target.read_text())
    [provider] = document["providers"]
    assert (provider["name"], provider["server"], provider["hosting"]) == (
        f"llamacpp-{port}",
        "llamacpp",
        "self-hosted",
    )
    assert [m["id"] for m in provider["models"]] == [llamacpp_server.model]
    listed = modelaudit(
        tmp_path / "home", "discover", "-c", str(target), "-f", "json", "--db", str(tmp_path / "db")
    )
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["providers"][0]["registry_models"][0]["status"] == "listed"
    with target.open("a") as handle:
        handle.write(LOCAL_RUN_SETTINGS.format(control=llamacpp_server.url + "/health"))
    run = run_probe(target, "-f", "json", env=clean_env(tmp_path / "home"))
    assert run.returncode == 0, run
    assert run.verdict(f"llamacpp-{port}", llamacpp_server.model)["verdict"] == "up"


def test_the_running_litellm_config_imports_and_its_upstream_probes_up(
    tmp_path: Path, litellm_server: RunningServer, llamacpp_server: RunningServer
) -> None:
    config = litellm_server.log_path.with_suffix(".yaml")  # the config the proxy runs
    target = tmp_path / "providers.yaml"
    written = modelaudit(
        tmp_path / "home", "init", "--from-litellm", str(config), "-o", str(target)
    )
    assert written.returncode == 0, written.stderr
    document = yaml.safe_load(target.read_text())
    providers = {p["name"]: p for p in document["providers"]}
    assert set(providers) == {"openai", "anthropic", "vllm"}
    upstream = providers["vllm"]
    assert (upstream["base_url"], upstream["server"]) == (llamacpp_server.base_url, "vllm")
    assert "sk-not-used" not in target.read_text()  # literal keys are never copied
    with target.open("a") as handle:
        handle.write(LOCAL_RUN_SETTINGS.format(control=llamacpp_server.url + "/health"))
    run = run_probe(target, "-f", "json", "--provider", "vllm", env=clean_env(tmp_path / "home"))
    assert run.returncode == 0, run
    assert run.verdict("vllm", llamacpp_server.model)["verdict"] == "up"
