"""`modelaudit probe`, the real command in a subprocess, against real servers: llama.cpp's own
server (SmolLM2-135M) through its OpenAI and Anthropic routes, with and without a key, and
the LiteLLM proxy in front of mock models and of that llama.cpp server.

Each scenario is ONE probe run (a module fixture); the tests read its JSON document. The
registries keep the machine's speed out of the verdicts: a 135M model on a busy CI machine
may take seconds per token, so generations ask for 2 tokens, deadlines are generous and the
latency budget is out of reach. Retries back off for 0.05 s. The control check points at the
local server, so nothing here ever leaves 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cli import ProbeRun, clean_env, run_probe, verdicts_by_model
from tests.helpers import write_registry
from tests.realservers import RunningServer

pytestmark = [pytest.mark.realserver, pytest.mark.timeout(600)]

ALIAS = "smollm2-135m"
NOT_SERVED = "qwen3-0.6b"
"""A model id llama.cpp does not list (it answers it anyway, as its one model)."""
NOT_IN_LITELLM = "gpt-4.5-preview"
WRONG_KEY = "sk-llamacpp-wrong-9876543210"

FAST_AND_PATIENT = """\
version: 1
defaults:
  kinds: [{kinds}]
  retry: {{attempts: 3, backoff_s: 0.05, max_backoff_s: 0.2}}
  budget: {{output_tokens_per_probe: 2}}
  timeouts: {{connect_s: 5, first_byte_s: 120, first_token_s: 120, stall_s: 60, total_s: 180}}
  slo: {{p95_latency_ms: 600000}}
  control: {{urls: ["{control}"], timeout_s: 5}}
providers:
"""


def _defaults(control_url: str, kinds: str) -> str:
    return FAST_AND_PATIENT.format(kinds=kinds, control=control_url)


def _llamacpp_registry(
    url: str, kinds: str, openai_ids: list[str], anthropic_ids: list[str]
) -> str:
    """llama.cpp through its OpenAI routes and its Anthropic route, no key."""

    def models(ids: list[str]) -> str:
        return "".join(f"      - {{id: {i}, weights: open}}\n" for i in ids)

    return _defaults(f"{url}/health", kinds) + (
        f"  - name: llamacpp\n    api: openai\n    base_url: {url}/v1\n"
        "    server: llamacpp\n    hosting: self-hosted\n    models:\n"
        + models(openai_ids)
        + f"  - name: llamacpp-anthropic\n    api: anthropic\n    base_url: {url}\n"
        "    server: llamacpp\n    hosting: self-hosted\n    models:\n" + models(anthropic_ids)
    )


def _probe(tmp: Path, registry: str, *, timeout: float = 400.0, **keys: str) -> Iterator[ProbeRun]:
    path = write_registry(tmp, registry)
    run = run_probe(path, "-f", "json", env=clean_env(tmp / "home", **keys), timeout=timeout)
    assert run.returncode in (0, 1, 3), run  # a crash (4) or usage error (2) is not a run
    yield run


# --- llama.cpp, no key: every kind, both wire formats ----------------------------------------


@pytest.fixture(scope="module")
def llamacpp_run(
    llamacpp_server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProbeRun]:
    registry = _llamacpp_registry(
        llamacpp_server.url, "catalog, completion, stream, health", [ALIAS, NOT_SERVED], [ALIAS]
    )
    yield from _probe(tmp_path_factory.mktemp("llamacpp"), registry)


@pytest.mark.parametrize("provider", ["llamacpp", "llamacpp-anthropic"])
def test_llamacpp_is_up_through_every_kind(llamacpp_run: ProbeRun, provider: str) -> None:
    verdict = llamacpp_run.verdict(provider, ALIAS)
    assert (verdict["verdict"], verdict["error_class"]) == ("up", None), llamacpp_run
    for kind in ("catalog", "completion", "stream", "health"):
        result = llamacpp_run.result(provider, ALIAS, kind)
        assert result["error_class"] == "ok", result
        assert result["http_status"] == 200, result


@pytest.mark.parametrize("provider", ["llamacpp", "llamacpp-anthropic"])
def test_llamacpp_generations_name_the_served_model_and_streams_time_the_first_token(
    llamacpp_run: ProbeRun, provider: str
) -> None:
    completion = llamacpp_run.result(provider, ALIAS, "completion")
    stream = llamacpp_run.result(provider, ALIAS, "stream")
    assert completion["served_model"] == stream["served_model"] == ALIAS
    assert completion["latency_ms"] > 0
    assert completion["output_tokens"] is not None
    assert stream["ttft_ms"] is not None
    assert 0 < stream["ttft_ms"] <= stream["latency_ms"]


@pytest.mark.parametrize("provider", ["llamacpp", "llamacpp-anthropic"])
def test_llamacpp_health_and_catalog_read_right(llamacpp_run: ProbeRun, provider: str) -> None:
    assert llamacpp_run.result(provider, ALIAS, "health")["health"] == "ok"
    catalog = llamacpp_run.result(provider, ALIAS, "catalog")["catalog"]
    assert catalog["listed"] is True


def test_a_model_llamacpp_does_not_list_is_gone_though_it_answers(
    llamacpp_run: ProbeRun,
) -> None:
    # Single-model llama.cpp answers any model name with 200, as its one model: the reply
    # names the model that answered, and it is not the one asked for.
    completion = llamacpp_run.result("llamacpp", NOT_SERVED, "completion")
    assert (completion["error_class"], completion["served_model"]) == ("model_substituted", ALIAS)
    assert llamacpp_run.result("llamacpp", NOT_SERVED, "catalog")["catalog"]["listed"] is False

    verdict = llamacpp_run.verdict("llamacpp", NOT_SERVED)
    assert (verdict["verdict"], verdict["error_class"]) == ("gone", "model_substituted")
    assert f"answered by `{ALIAS}`, not `{NOT_SERVED}`" in verdict["reason"]


GHOST = "ghost-model-7b"


@pytest.fixture(scope="module", params=["catalog", "completion", "stream"])
def one_kind_run(
    request: pytest.FixtureRequest,
    llamacpp_server: RunningServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, ProbeRun]]:
    registry = _llamacpp_registry(llamacpp_server.url, request.param, [GHOST, ALIAS], [GHOST])
    for run in _probe(tmp_path_factory.mktemp(f"one-kind-{request.param}"), registry):
        yield request.param, run


def test_an_unserved_model_id_is_never_up_on_any_kind(one_kind_run: tuple[str, ProbeRun]) -> None:
    kind, run = one_kind_run
    for provider in ("llamacpp", "llamacpp-anthropic"):
        verdict = run.verdict(provider, GHOST)
        assert verdict["verdict"] == "gone", (kind, verdict)
        if kind != "catalog":
            assert ALIAS in verdict["reason"], verdict  # says which model answered
    assert run.verdict("llamacpp", ALIAS)["verdict"] == "up", run


def test_a_llamacpp_run_completes_and_exits_0(llamacpp_run: ProbeRun) -> None:
    # gone is a finding, not a failure of the run: exit 1 only with --fail-on
    assert llamacpp_run.returncode == 0, llamacpp_run
    run = llamacpp_run.document["run"]
    assert (run["status"], run["control"]) == ("complete", None)
    assert "run complete" in llamacpp_run.stderr


# --- llama.cpp with --api-key ------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed_run(
    llamacpp_server_with_key: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProbeRun]:
    server = llamacpp_server_with_key
    assert server.key is not None
    provider = """\
  - name: {name}
    api: openai
    base_url: {url}/v1
    api_key: env:{var}
    server: llamacpp
    hosting: self-hosted
    models:
      - {{id: {alias}, weights: open}}
"""
    registry = _defaults(f"{server.url}/health", "catalog, completion") + "".join(
        provider.format(name=name, url=server.url, var=var, alias=ALIAS)
        for name, var in (("wrong-key", "LLAMACPP_WRONG_KEY"), ("right-key", "LLAMACPP_KEY"))
    )
    yield from _probe(
        tmp_path_factory.mktemp("keyed"),
        registry,
        LLAMACPP_WRONG_KEY=WRONG_KEY,
        LLAMACPP_KEY=server.key,
    )


def test_a_wrong_key_is_blocked_and_names_its_variable(keyed_run: ProbeRun) -> None:
    verdict = keyed_run.verdict("wrong-key", ALIAS)
    assert (verdict["verdict"], verdict["error_class"]) == ("blocked", "auth_failed"), keyed_run
    assert "env:LLAMACPP_WRONG_KEY" in verdict["reason"]
    completion = keyed_run.result("wrong-key", ALIAS, "completion")
    assert (completion["http_status"], completion["attempts"]) == (401, 1)  # not retried


def test_the_right_key_is_up(keyed_run: ProbeRun) -> None:
    assert keyed_run.verdict("right-key", ALIAS)["verdict"] == "up", keyed_run


def test_neither_key_is_printed(
    keyed_run: ProbeRun, llamacpp_server_with_key: RunningServer
) -> None:
    assert llamacpp_server_with_key.key is not None
    for secret in (WRONG_KEY, llamacpp_server_with_key.key):
        assert secret not in keyed_run.stdout
        assert secret not in keyed_run.stderr


# --- the LiteLLM proxy ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def litellm_run(
    litellm_server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProbeRun]:
    assert litellm_server.key is not None
    url = litellm_server.url
    models = ("gpt-4o-mini", "mock-rate-limited", "mock-server-error", NOT_IN_LITELLM, ALIAS)
    listed = "".join(f"      - {{id: {m}, weights: closed}}\n" for m in models)
    registry = (
        _defaults(f"{url}/health/liveliness", "catalog, completion, stream")
        + f"""\
  - name: litellm
    api: openai
    base_url: {url}/v1
    api_key: env:LITELLM_MASTER_KEY
    hosting: self-hosted
    limits: {{concurrency: 4}}
    models:
{listed}\
  - name: litellm-no-key
    api: openai
    base_url: {url}/v1
    hosting: self-hosted
    models:
      - {{id: gpt-4o-mini, weights: closed}}
"""
    )
    yield from _probe(
        tmp_path_factory.mktemp("litellm"), registry, LITELLM_MASTER_KEY=litellm_server.key
    )


def test_litellm_mock_model_is_up(litellm_run: ProbeRun) -> None:
    assert litellm_run.verdict("litellm", "gpt-4o-mini")["verdict"] == "up", litellm_run
    assert litellm_run.result("litellm", "gpt-4o-mini", "completion")["served_model"] == (
        "gpt-4o-mini"
    )


def test_litellm_rate_limit_is_degraded_never_down(litellm_run: ProbeRun) -> None:
    verdict = litellm_run.verdict("litellm", "mock-rate-limited")
    assert (verdict["verdict"], verdict["error_class"]) == ("degraded", "rate_limited")
    for kind in ("completion", "stream"):
        result = litellm_run.result("litellm", "mock-rate-limited", kind)
        assert (result["http_status"], result["attempts"]) == (429, 3), result


def test_litellm_server_error_is_down_after_retries(litellm_run: ProbeRun) -> None:
    verdict = litellm_run.verdict("litellm", "mock-server-error")
    assert (verdict["verdict"], verdict["error_class"]) == ("down", "server_error")
    assert "after 3 attempts" in verdict["reason"]
    for kind in ("completion", "stream"):
        result = litellm_run.result("litellm", "mock-server-error", kind)
        assert (result["http_status"], result["attempts"]) == (500, 3), result


def test_a_model_litellm_does_not_route_is_gone_by_catalog_and_completion(
    litellm_run: ProbeRun,
) -> None:
    # LiteLLM answers 400 "Invalid model name passed in model=..." (not a 404); its model
    # list does not have the id either: both signals agree.
    assert litellm_run.result("litellm", NOT_IN_LITELLM, "catalog")["catalog"]["listed"] is False
    completion = litellm_run.result("litellm", NOT_IN_LITELLM, "completion")
    assert (completion["http_status"], completion["error_class"]) == (400, "model_not_found")
    assert completion["attempts"] == 1
    verdict = litellm_run.verdict("litellm", NOT_IN_LITELLM)
    assert (verdict["verdict"], verdict["error_class"]) == ("gone", "model_not_found")


def test_litellm_without_a_key_is_blocked(litellm_run: ProbeRun) -> None:
    verdict = litellm_run.verdict("litellm-no-key", "gpt-4o-mini")
    assert (verdict["verdict"], verdict["error_class"]) == ("blocked", "auth_failed")
    completion = litellm_run.result("litellm-no-key", "gpt-4o-mini", "completion")
    assert completion["http_status"] == 401


def test_litellm_streams_llamacpp_with_a_first_token_time(litellm_run: ProbeRun) -> None:
    stream = litellm_run.result("litellm", ALIAS, "stream")
    assert stream["error_class"] == "ok", stream
    assert stream["ttft_ms"] is not None
    assert stream["served_model"] is not None
    assert stream["served_model"].endswith(ALIAS)
    assert litellm_run.verdict("litellm", ALIAS)["verdict"] == "up"


def test_the_litellm_run_tells_every_outcome_apart(
    litellm_run: ProbeRun, litellm_server: RunningServer
) -> None:
    assert litellm_run.returncode == 0, litellm_run
    assert verdicts_by_model(litellm_run.document) == {
        "litellm/gpt-4o-mini": "up",
        "litellm/mock-rate-limited": "degraded",
        "litellm/mock-server-error": "down",
        f"litellm/{NOT_IN_LITELLM}": "gone",
        f"litellm/{ALIAS}": "up",
        "litellm-no-key/gpt-4o-mini": "blocked",
    }
    assert litellm_server.key is not None
    assert litellm_server.key not in litellm_run.stdout + litellm_run.stderr
