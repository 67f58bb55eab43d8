"""The catalog probe asks for a model the list leaves out by id, against loopback fakes:
an alias the API resolves is listed, a 404 from the look-up confirms the model is gone, and
a server without the look-up leaves the list's answer standing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakes import (
    Behaviour,
    FakeAnthropic,
    FakeGemini,
    FakeOllama,
    FakeOpenAI,
    FakeVLLM,
    Model,
    Reply,
    json_reply,
)
from tests.probe.runs import ProbeRun, probe, provider, write_fast_registry

KEY = "sk-ant-test-retrieve-0123456789"
ALIAS, DATED = "claude-sonnet-4-5", "claude-sonnet-4-5-20250929"


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PROVIDER_API_KEY", KEY)
    return KEY


def anthropic_fake() -> FakeAnthropic:
    """Anthropic's list shows the dated model only; the alias is served as it."""
    return FakeAnthropic(
        key=KEY, models=[Model(DATED), Model(ALIAS, served_as=DATED, listed=False)]
    )


def catalog_run(
    work: Path,
    capsys: pytest.CaptureFixture[str],
    api: str,
    base_url: str,
    models: list[str],
    control: str,
    **defaults: Any,
) -> ProbeRun:
    hosting = "self-hosted" if api == "ollama" or "vllm" in base_url else "vendor"
    entry = provider(api, api, base_url, models, key_env="PROVIDER_API_KEY", hosting=hosting)
    write_fast_registry(work, [entry], control_url=control, kinds=["catalog"], **defaults)
    return probe(capsys)


def look_ups(fake: FakeAnthropic | FakeOpenAI | FakeGemini, model: str) -> int:
    return sum(1 for r in fake.requests if r.path.endswith(f"/models/{model}"))


def test_an_alias_the_list_leaves_out_is_listed_by_id_and_resolved(
    isolated_env: Path, online: str, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with anthropic_fake() as fake:
        run = catalog_run(isolated_env, capsys, "anthropic", fake.base_url, [ALIAS], online)
        asked = look_ups(fake, ALIAS)

    assert run.code == 0
    assert run.verdict(ALIAS)["verdict"] == "up"
    assert "listed by id" in run.verdict(ALIAS)["reason"]
    result = run.result(ALIAS, "catalog")
    assert result["error_class"] == "ok"
    assert result["detail"] == f"listed (retrievable by id: `{ALIAS}` → `{DATED}`)"
    assert result["catalog"]["listed"] is True
    assert result["catalog"]["retrieved_by_id"] is True
    assert result["catalog"]["resolved_id"] == DATED
    assert [a["number"] for a in result["attempt_log"]] == [1, 2]
    assert asked == 1
    assert run.document["run"]["requests_sent"] == 2  # the list, then the look-up


def test_a_listed_model_is_not_looked_up(
    isolated_env: Path, online: str, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with anthropic_fake() as fake:
        run = catalog_run(isolated_env, capsys, "anthropic", fake.base_url, [DATED], online)
        asked = look_ups(fake, DATED)

    assert asked == 0
    catalog = run.result(DATED, "catalog")["catalog"]
    assert (catalog["listed"], catalog["retrieved_by_id"], catalog["resolved_id"]) == (
        True,
        False,
        None,
    )
    assert run.document["run"]["requests_sent"] == 1


def test_a_model_absent_from_the_list_and_the_look_up_is_gone(
    isolated_env: Path, online: str, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    retired = "claude-3-opus-20240229"
    with anthropic_fake() as fake:
        run = catalog_run(isolated_env, capsys, "anthropic", fake.base_url, [retired], online)
        asked = look_ups(fake, retired)

    assert run.verdict(retired)["verdict"] == "gone"
    result = run.result(retired, "catalog")
    assert result["error_class"] == "model_not_found"
    assert result["http_status"] == 404  # the look-up's answer confirms it
    assert result["detail"].startswith("not in the catalog (1 models listed); retrieved by id: 404")
    assert result["catalog"]["listed"] is False
    assert asked == 1  # a 404 is not retried


def test_gemini_look_up_not_found_confirms_the_absence(
    isolated_env: Path, online: str, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeGemini(key=KEY, models=["gemini-2.5-flash"]) as fake:
        run = catalog_run(isolated_env, capsys, "gemini", fake.base_url, ["gemini-1.0-pro"], online)

    assert run.verdict("gemini-1.0-pro")["verdict"] == "gone"
    assert run.result("gemini-1.0-pro", "catalog")["http_status"] == 404


def test_the_look_up_reads_the_lifecycle_of_what_it_finds(
    isolated_env: Path, online: str, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    hidden = {"id": "gpt-4-0613", "object": "model", "shutdown_date": "2026-06-01"}
    with FakeOpenAI(key=KEY, models=["gpt-4o"]) as fake:
        fake.behave_retrieve(Behaviour.raw(json_reply(hidden)))
        run = catalog_run(isolated_env, capsys, "openai", fake.base_url, ["gpt-4-0613"], online)

    catalog = run.result("gpt-4-0613", "catalog")["catalog"]
    assert catalog["listed"] is True
    assert catalog["retires"] == "2026-06-01"
    assert catalog["resolved_id"] == "gpt-4-0613"
    assert run.result("gpt-4-0613", "catalog")["detail"] == (
        "listed (retrievable by id: `gpt-4-0613`); retires 2026-06-01"
    )


def test_a_server_without_the_look_up_leaves_the_lists_answer(
    isolated_env: Path, online: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeVLLM(models=["qwen3-8b"]) as fake:
        entry = provider("local", "openai", fake.base_url, ["qwen3-8b", "llama-70b"])
        entry["hosting"] = "self-hosted"
        entry.pop("jurisdiction", None)
        write_fast_registry(isolated_env, [entry], control_url=online, kinds=["catalog"])
        run = probe(capsys)
        tried = [r.path for r in fake.requests]

    assert run.verdict("llama-70b")["verdict"] == "gone"
    assert run.verdict("qwen3-8b")["verdict"] == "up"
    result = run.result("llama-70b", "catalog")
    assert result["error_class"] == "model_not_found"
    assert result["catalog"]["listed"] is False
    assert "no look-up by id here (404 bad_request" in result["detail"]
    assert tried == ["/v1/models", "/v1/models/llama-70b"]  # FastAPI's 404 is not retried


@pytest.mark.parametrize("status", [405, 501])
def test_a_look_up_the_server_refuses_leaves_the_lists_answer(
    status: int, isolated_env: Path, online: str, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=KEY, models=["gpt-4o"]) as fake:
        fake.behave_retrieve(Behaviour.raw(Reply(status=status, body=b"")))
        run = catalog_run(isolated_env, capsys, "openai", fake.base_url, ["gone-model"], online)

    assert run.verdict("gone-model")["verdict"] == "gone"
    assert run.result("gone-model", "catalog")["catalog"]["listed"] is False


def test_a_look_up_that_stays_rate_limited_leaves_the_listing_unknown(
    isolated_env: Path, online: str, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with anthropic_fake() as fake:
        fake.behave_retrieve(Behaviour.error("rate_limited", retry_after="0"))
        run = catalog_run(isolated_env, capsys, "anthropic", fake.base_url, [ALIAS], online)
        asked = look_ups(fake, ALIAS)

    verdict = run.verdict(ALIAS)
    assert verdict["verdict"] == "degraded"  # never gone on a 429
    assert verdict["error_class"] == "rate_limited"
    result = run.result(ALIAS, "catalog")
    assert result["catalog"] is None
    assert "retrieving it by id: 429 rate_limited" in result["detail"]
    assert asked == 3  # retried like any probe
    assert [a["number"] for a in result["attempt_log"]] == [1, 2, 3, 4]


def test_the_look_up_counts_against_the_request_budget(
    isolated_env: Path, online: str, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with anthropic_fake() as fake:
        run = catalog_run(
            isolated_env,
            capsys,
            "anthropic",
            fake.base_url,
            [ALIAS],
            online,
            budget={"max_requests": 1},
        )
        asked = look_ups(fake, ALIAS)

    assert asked == 0
    assert run.document["run"]["requests_sent"] == 1
    result = run.result(ALIAS, "catalog")
    assert result["detail"].endswith("not retrieved by id: budget spent")


def test_ollama_shows_a_model_its_list_names_otherwise(
    isolated_env: Path, online: str, capsys: pytest.CaptureFixture[str]
) -> None:
    full_name = "registry.ollama.ai/library/qwen3:8b"
    with FakeOllama(models=["qwen3:8b"]) as fake:
        entry = provider("ollama", "ollama", fake.base_url, [full_name, "llama3:70b"])
        entry["hosting"] = "self-hosted"
        entry.pop("jurisdiction", None)
        write_fast_registry(isolated_env, [entry], control_url=online, kinds=["catalog"])
        run = probe(capsys)
        shown = [r.json()["model"] for r in fake.requests if r.path == "/api/show"]

    assert run.verdict(full_name)["verdict"] == "up"
    assert run.result(full_name, "catalog")["catalog"]["retrieved_by_id"] is True
    assert run.verdict("llama3:70b")["verdict"] == "gone"
    assert sorted(shown) == ["llama3:70b", full_name]
