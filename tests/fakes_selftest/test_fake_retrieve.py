"""Every fake's look-up of one model by id speaks its API's wire format: the model object,
the family's not-found body, Anthropic's alias resolution, and `behave_retrieve`."""

from __future__ import annotations

import httpx
from tests.fakes import (
    Behaviour,
    FakeAnthropic,
    FakeGemini,
    FakeOllama,
    FakeOpenAI,
    FakeVLLM,
    Model,
)

ANT = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
ALIAS, DATED = "claude-sonnet-4-5", "claude-sonnet-4-5-20250929"


def test_anthropic_resolves_an_alias_and_404s_the_unknown(http: httpx.Client) -> None:
    models = [Model(DATED), Model(ALIAS, served_as=DATED, listed=False)]
    with FakeAnthropic(key="k", models=models) as fake:
        listed = http.get(f"{fake.url}/v1/models", headers=ANT).json()
        alias = http.get(f"{fake.url}/v1/models/{ALIAS}", headers=ANT)
        unknown = http.get(f"{fake.url}/v1/models/claude-2.1", headers=ANT)
        keyless = http.get(f"{fake.url}/v1/models/{ALIAS}", headers={"anthropic-version": "x"})

    assert [m["id"] for m in listed["data"]] == [DATED]
    assert alias.status_code == 200
    assert alias.json()["type"] == "model"
    assert alias.json()["id"] == DATED
    assert unknown.status_code == 404
    assert unknown.json()["error"] == {"type": "not_found_error", "message": "model: claude-2.1"}
    assert keyless.status_code == 401


def test_openai_model_object_and_model_not_found(http: httpx.Client) -> None:
    auth = {"authorization": "Bearer k"}
    with FakeOpenAI(key="k", models=[Model("gpt-4o", shutdown_date="2027-01-01")]) as fake:
        found = http.get(f"{fake.base_url}/models/gpt-4o", headers=auth).json()
        missing = http.get(f"{fake.base_url}/models/gpt-3", headers=auth)

    assert (found["id"], found["object"], found["shutdown_date"]) == (
        "gpt-4o",
        "model",
        "2027-01-01",
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "model_not_found"


def test_gemini_model_resource_and_not_found_status(http: httpx.Client) -> None:
    with FakeGemini(key="k", models=["gemini-2.5-flash"]) as fake:
        found = http.get(
            f"{fake.url}/v1beta/models/gemini-2.5-flash", headers={"x-goog-api-key": "k"}
        )
        missing = http.get(f"{fake.url}/v1beta/models/gemini-0", headers={"x-goog-api-key": "k"})

    assert found.json()["name"] == "models/gemini-2.5-flash"
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == "NOT_FOUND"


def test_ollama_show_resolves_the_default_registry_names(http: httpx.Client) -> None:
    with FakeOllama(models=["qwen3:8b"]) as fake:
        shown = http.post(
            f"{fake.url}/api/show", json={"model": "registry.ollama.ai/library/qwen3:8b"}
        )
        missing = http.post(f"{fake.url}/api/show", json={"model": "llama3"})

    assert shown.status_code == 200
    assert "details" in shown.json()
    assert missing.json() == {"error": "model 'llama3' not found"}


def test_vllm_does_not_route_the_look_up(http: httpx.Client) -> None:
    with FakeVLLM(models=["qwen3-8b"]) as fake:
        reply = http.get(f"{fake.base_url}/models/qwen3-8b")

    assert reply.status_code == 404
    assert reply.json() == {"detail": "Not Found"}


def test_the_look_up_is_scriptable(http: httpx.Client) -> None:
    with FakeAnthropic(key="k", models=[DATED]) as fake:
        fake.behave_retrieve([Behaviour.error("overloaded"), Behaviour.ok()])
        first = http.get(f"{fake.url}/v1/models/{DATED}", headers=ANT)
        second = http.get(f"{fake.url}/v1/models/{DATED}", headers=ANT)

    assert first.status_code == 529
    assert second.json()["id"] == DATED
