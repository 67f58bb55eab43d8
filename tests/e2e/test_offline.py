"""`modelaudit probe` on a machine with no network at all (a fresh network namespace).

The issue's "done when": a newcomer who runs `modelaudit probe` on the shipped registry with
no keys and no network gets `skipped` (naming the variable to set) for keyed providers and
`inconclusive`, not `down`, for the unreachable endpoints, in a clear table. The control check
keeps its default public targets here: inside the namespace nothing can leave, which is the
point. Every failure is immediate without a network, so the whole run takes seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.cli import ProbeRun, clean_env, probe_argv, verdicts_by_model
from tests.helpers import write_registry
from tests.netns import netns_unavailable_reason, run_offline

pytestmark = pytest.mark.timeout(180)
netns = pytest.mark.netns

SHIPPED = Path(__file__).resolve().parents[2] / "providers.yaml"
OFFLINE_RUN_BOUND_S = 15.0
"""About 3 s on a quiet machine; generous for a busy CI one. A run that waits on something
(DNS or connect timeouts, retries: 5 s each by default) blows through it."""

VENDOR_CANARY = "sk-proj-CANARYoffline0123456789abcdefXYZ"
PLAIN_CANARY = "canary-9f8e7d6c5b4a"


def _offline(registry: Path, *args: str, env: dict[str, str]) -> ProbeRun:
    started = time.perf_counter()
    done = run_offline(probe_argv(registry, *args), env=env, cwd=registry.parent)
    return ProbeRun(done.returncode, done.stdout, done.stderr, time.perf_counter() - started)


def _shipped() -> dict[str, Any]:
    loaded = yaml.safe_load(SHIPPED.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _credential_variable(provider: dict[str, Any]) -> str | None:
    """The variable a provider's credential needs first: its key's, or for a cloud's own
    chain (vertex) its project's."""
    if provider.get("api_key"):
        return str(provider["api_key"]).removeprefix("env:")
    if provider.get("credentials"):
        return str(provider["project"]).removeprefix("env:")
    return None


@pytest.fixture(scope="module")
def shipped_json(tmp_path_factory: pytest.TempPathFactory) -> ProbeRun:
    if netns_unavailable_reason() is not None:
        pytest.skip(f"needs a network namespace: {netns_unavailable_reason()}")
    home = tmp_path_factory.mktemp("offline")
    return _offline(SHIPPED, "-f", "json", env=clean_env(home / "home"))


@netns
def test_shipped_registry_offline_without_keys_is_inconclusive_exit_3(
    shipped_json: ProbeRun,
) -> None:
    assert shipped_json.returncode == 3, shipped_json
    run = shipped_json.document["run"]
    assert run["status"] == "inconclusive"
    assert run["control"]["reachable"] is False
    assert "down" not in verdicts_by_model(shipped_json.document).values()


@netns
def test_every_keyed_provider_is_skipped_naming_its_variable(shipped_json: ProbeRun) -> None:
    keyed = [p for p in _shipped()["providers"] if _credential_variable(p)]
    assert len(keyed) >= 10
    for provider in keyed:
        variable = _credential_variable(provider)
        for model in provider["models"]:
            verdict = shipped_json.verdict(provider["name"], model["id"])
            assert verdict["verdict"] == "skipped", verdict
            assert variable in verdict["reason"], verdict


@netns
def test_every_self_hosted_endpoint_is_inconclusive_not_down(shipped_json: ProbeRun) -> None:
    local = [p for p in _shipped()["providers"] if p["hosting"] == "self-hosted"]
    assert len(local) >= 3
    for provider in local:
        for model in provider["models"]:
            verdict = shipped_json.verdict(provider["name"], model["id"])
            assert (verdict["verdict"], verdict["error_class"]) == (
                "inconclusive",
                "connect_failed",
            ), verdict
            assert "Network is unreachable" in verdict["reason"]  # not httpx's bare words
            assert "cannot reach the network" in verdict["reason"]


@netns
def test_no_request_reaches_a_keyed_provider(shipped_json: ProbeRun) -> None:
    keyed = {p["name"] for p in _shipped()["providers"] if _credential_variable(p)}
    assert not [r for r in shipped_json.document["results"] if r["provider"] in keyed]


@netns
def test_a_host_that_never_connected_is_not_retried_model_by_model(
    shipped_json: ProbeRun,
) -> None:
    # The catalog already retried reaching the server; each model then tries once: another
    # round of backoff per model would say the same thing, seconds later (one at a time,
    # since a self-hosted server is probed serially).
    for provider in _shipped()["providers"]:
        if provider["hosting"] != "self-hosted":
            continue
        first = shipped_json.result(provider["name"], provider["models"][0]["id"], "catalog")
        assert first["attempts"] == 3, first
        for model in provider["models"]:
            completion = shipped_json.result(provider["name"], model["id"], "completion")
            assert completion["attempts"] == 1, completion


@netns
def test_the_offline_run_takes_seconds(shipped_json: ProbeRun) -> None:
    assert shipped_json.seconds < OFFLINE_RUN_BOUND_S, shipped_json


@netns
def test_the_offline_table_is_clear(tmp_path: Path) -> None:
    run = _offline(SHIPPED, "-f", "table", env=clean_env(tmp_path / "home"))

    assert run.returncode == 3, run
    lines = run.stdout.splitlines()
    header = lines[0].split()
    assert (header[:3], header[-1]) == (["provider", "model", "verdict"], "reason")
    rows = {(line.split()[0], line.split()[1]): line for line in lines[2:] if line[:1].strip()}
    for provider in _shipped()["providers"]:
        for model in provider["models"]:
            row = rows[(provider["name"], model["id"])]
            if _credential_variable(provider):
                assert " skipped " in row
                assert f"{_credential_variable(provider)} is not set" in row
            else:
                assert " inconclusive " in row
                assert " down " not in row
    assert "this machine could not reach the network" in run.stderr
    assert "run inconclusive" in run.stderr
    assert "Traceback" not in run.stderr


# --- keys set, vendor-like hosts (*.test), no network ----------------------------------------

VENDOR_LIKE = """\
version: 1
defaults:
  kinds: [catalog, completion, stream]
providers:
  - name: openai-like
    api: openai
    base_url: https://api.openai-like.test/v1
    api_key: env:OPENAI_LIKE_API_KEY
    hosting: vendor
    jurisdiction: US
    models:
      - {id: gpt-6-luna, weights: closed}
      - {id: gpt-6.2-sol, weights: closed}
  - name: anthropic-like
    api: anthropic
    base_url: https://api.anthropic-like.test
    api_key: env:ANTHROPIC_LIKE_API_KEY
    hosting: vendor
    jurisdiction: US
    models:
      - {id: claude-sonnet-5-5, weights: closed}
  - name: gemini-like
    api: gemini
    base_url: https://generativelanguage.gemini-like.test
    api_version: v1beta
    api_key: env:GEMINI_LIKE_API_KEY
    hosting: vendor
    jurisdiction: US
    models:
      - {id: gemini-3.8-flash, weights: closed}
  - name: gateway
    api: openai
    base_url: https://llm-gateway.corp.test/v1
    api_key: env:GATEWAY_TOKEN_VALUE
    hosting: third-party
    jurisdiction: DE
    models:
      - {id: qwen3.6-27b, weights: open}
"""
CANARY_ENV = {
    "OPENAI_LIKE_API_KEY": VENDOR_CANARY,
    "ANTHROPIC_LIKE_API_KEY": VENDOR_CANARY.replace("sk-proj-", "sk-ant-api03-"),
    "GEMINI_LIKE_API_KEY": PLAIN_CANARY + "-gemini",
    "GATEWAY_TOKEN_VALUE": PLAIN_CANARY,
}


@netns
def test_keyed_vendors_offline_are_inconclusive_and_keys_stay_secret(tmp_path: Path) -> None:
    registry = write_registry(tmp_path, VENDOR_LIKE)

    run = _offline(registry, "-f", "json", env=clean_env(tmp_path / "home", **CANARY_ENV))

    assert run.returncode == 3, run
    verdicts = verdicts_by_model(run.document)
    assert set(verdicts.values()) == {"inconclusive"}, verdicts
    assert len(verdicts) == 5
    for result in run.document["results"]:
        assert result["error_class"] == "dns_failed", result
        assert result["attempts"] == 1, result  # a failed lookup is not retried
    for secret in CANARY_ENV.values():
        assert secret not in run.stdout
        assert secret not in run.stderr
    assert run.seconds < OFFLINE_RUN_BOUND_S, run


VERTEX_OFFLINE = """\
version: 1
defaults:
  kinds: [completion, stream]
providers:
  - name: vertex
    api: vertex
    project: env:GOOGLE_CLOUD_PROJECT
    location: us-central1
    credentials: {chain: default}
    hosting: third-party
    jurisdiction: US
    models:
      - {id: gemini-3.8-flash, weights: closed}
      - {id: claude-sonnet-4-6, weights: closed}
"""


@netns
def test_vertex_offline_is_inconclusive_and_its_service_account_stays_secret(
    tmp_path: Path,
) -> None:
    from tests.fakes.vertex import GOOGLE_TOKEN_AUDIENCE, new_key, service_account_file

    account = service_account_file(tmp_path / "sa.json", new_key(), GOOGLE_TOKEN_AUDIENCE)
    registry = write_registry(tmp_path, VERTEX_OFFLINE)
    env = clean_env(
        tmp_path / "home",
        GOOGLE_APPLICATION_CREDENTIALS=str(account),
        GOOGLE_CLOUD_PROJECT="probe-project",
    )

    run = _offline(registry, "-f", "json", env=env)

    assert run.returncode == 3, run
    assert set(verdicts_by_model(run.document).values()) == {"inconclusive"}, run
    for result in run.document["results"]:
        # the token endpoint, not Vertex, was out of reach: a connection failure
        assert result["error_class"] in ("connect_failed", "dns_failed"), result
        assert "token endpoint" in result["detail"], result
    private_key = json.loads(account.read_text())["private_key"]
    for line in private_key.splitlines()[1:-1]:
        assert line not in run.stdout + run.stderr
    assert run.seconds < OFFLINE_RUN_BOUND_S, run


# --- the same on loopback, where namespaces are not permitted --------------------------------


def test_a_refused_port_is_down_retried_by_the_catalog_then_once_per_model(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nothing listens on a loopback port: the host answered (a refusal), so the server is
    # down whatever the control check would say, and it is not asked. The catalog retried
    # reaching the server; each model then tries once.
    from modelaudit.cli.app import run
    from tests.fakes.http import closed_port
    from tests.probe.runs import provider, write_fast_registry

    models = ["qwen", "llama", "gemma", "phi"]
    with closed_port() as server, closed_port() as control:
        entry = provider("local", "openai", server.url + "/v1", models, hosting="self-hosted")
        write_fast_registry(isolated_env, [entry], control_url=control.url + "/")

        code = run(["probe", "-f", "json"])

    document = json.loads(capsys.readouterr().out)
    attempts = {(r["model"], r["kind"]): r["attempts"] for r in document["results"]}
    assert attempts == {
        **{(m, "catalog"): 3 for m in models},
        **{(m, "completion"): 1 for m in models},
    }
    assert set(verdicts_by_model(document).values()) == {"down"}
    assert document["run"]["control"] is None
    assert code == 0
    # which address refused, not only httpx's "All connection attempts failed"
    assert all(f"127.0.0.1:{server.port}" in v["reason"] for v in document["verdicts"])


# --- a real llama.cpp server on an air-gapped machine ------------------------------------------

_STOPPED_SERVER_DRIVER = """\
import json, subprocess, sys
from pathlib import Path

sys.path.insert(0, sys.argv[1])
from tests.realservers import start_llamacpp

work = Path(sys.argv[2])
server = start_llamacpp(work / "server")
registry = work / "providers.yaml"
registry.write_text(sys.argv[3].replace("URL", server.url))

def probe():
    done = subprocess.run(
        [sys.executable, "-m", "modelaudit", "probe", "-c", str(registry), "-f", "json",
         "--no-store", "--fail-on", "down"],
        capture_output=True, text=True, timeout=300, cwd=work,
    )
    return {"code": done.returncode, "out": done.stdout, "err": done.stderr}

try:
    running = probe()
finally:
    server.stop()
stopped = probe()
print(json.dumps({"running": running, "stopped": stopped}))
"""

_LOCAL_LLAMACPP = """\
version: 1
defaults:
  kinds: [completion]
  budget: {output_tokens_per_probe: 2}
  timeouts: {connect_s: 5, first_byte_s: 120, first_token_s: 120, stall_s: 60, total_s: 180}
  slo: {p95_latency_ms: 600000}
providers:
  - name: gpu-box
    api: openai
    base_url: URL/v1
    hosting: self-hosted
    models:
      - {id: smollm2-135m, weights: open}
"""


@netns
@pytest.mark.realserver
@pytest.mark.usefixtures("llamacpp_installed")
def test_a_stopped_local_llamacpp_is_down_with_the_network_unplugged(tmp_path: Path) -> None:
    # No network but loopback: the control check (public hosts, the defaults) fails. The
    # real server answers; once stopped, its port refuses: the host answered and nothing
    # listens, which is down, whatever the control check says.
    repo = Path(__file__).resolve().parents[2]
    done = run_offline(
        [sys.executable, "-c", _STOPPED_SERVER_DRIVER, str(repo), str(tmp_path), _LOCAL_LLAMACPP],
        env=clean_env(tmp_path / "home"),
        cwd=tmp_path,
        loopback=True,
        timeout=400,
    )
    assert done.returncode == 0, done
    runs = json.loads(done.stdout.strip().splitlines()[-1])
    running, stopped = (json.loads(runs[k]["out"]) for k in ("running", "stopped"))
    assert runs["running"]["code"] == 0, runs["running"]
    assert running["verdicts"][0]["verdict"] == "up"
    assert runs["stopped"]["code"] == 1, runs["stopped"]  # --fail-on down
    verdict = stopped["verdicts"][0]
    assert (verdict["verdict"], verdict["error_class"]) == ("down", "connect_failed")
    assert "nothing listens on port" in verdict["reason"]
    assert stopped["run"]["status"] == "complete"


CORE_INSTALL = (
    "import sys\n"
    "for extra in ('google', 'botocore', 'psycopg'):\n"
    "    sys.modules[extra] = None  # what an install without the optional extras looks like\n"
    "from modelaudit.cli.main import entry\n"
    "sys.argv[0] = 'modelaudit'\n"
    "entry()\n"
)


def test_the_shipped_registry_plans_on_an_install_without_the_optional_extras(
    tmp_path: Path,
) -> None:
    """The quick start installs the core alone: the cloud providers whose library is not
    installed are skipped, naming the extra, and nothing fails on the way."""
    argv = [sys.executable, "-c", CORE_INSTALL, "probe", "-c", str(SHIPPED), "--dry-run"]
    done = subprocess.run(
        [*argv, "--no-store"],
        capture_output=True,
        text=True,
        env=clean_env(tmp_path / "home"),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "internal error" not in done.stderr
    assert "pip install 'llm-modelaudit[vertex]'" in done.stdout + done.stderr
