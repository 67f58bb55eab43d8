"""Looking one model up by id: the request each family builds and how it reads the answer."""

from __future__ import annotations

import json
from datetime import date

import pytest

from modelaudit.families.anthropic import AnthropicFamily
from modelaudit.families.azure import AzureOpenAIFamily
from modelaudit.families.base import Family, HttpResponse
from modelaudit.families.gemini import GeminiFamily
from modelaudit.families.ollama import OllamaFamily
from modelaudit.families.openai import OpenAIFamily
from tests.families.specs import model, provider

ANTHROPIC = provider("anthropic", "https://api.anthropic.com")
OPENAI = provider("openai", "https://api.openai.com/v1")
GEMINI = provider("gemini", "https://generativelanguage.googleapis.com")
OLLAMA = provider("ollama", "http://127.0.0.1:11434", hosting="self-hosted")


def ok(body: object) -> HttpResponse:
    return HttpResponse(200, {"content-type": "application/json"}, json.dumps(body).encode())


def test_a_family_without_a_look_up_says_so() -> None:
    assert Family.retrieve_request(OpenAIFamily(), OPENAI, model("m")) is None


def test_anthropic_asks_for_the_model_with_its_version_header() -> None:
    request = AnthropicFamily().retrieve_request(ANTHROPIC, model("claude-sonnet-4-5"))
    assert request.method == "GET"
    assert request.url == "https://api.anthropic.com/v1/models/claude-sonnet-4-5"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.authenticated


def test_anthropic_resolves_an_alias_to_the_dated_model() -> None:
    answer = ok(
        {
            "type": "model",
            "id": "claude-sonnet-4-5-20250929",
            "display_name": "Claude Sonnet 4.5",
            "created_at": "2025-09-29T00:00:00Z",
        }
    )
    entry = AnthropicFamily().parse_retrieve(ANTHROPIC, model("claude-sonnet-4-5"), answer)
    assert entry.id == "claude-sonnet-4-5-20250929"


@pytest.mark.parametrize(
    "body",
    [{"data": [], "has_more": False}, {"type": "error", "id": "x"}, ["claude"], {"id": ""}],
)
def test_anthropic_refuses_an_answer_that_is_not_a_model(body: object) -> None:
    with pytest.raises(ValueError, match="model"):
        AnthropicFamily().parse_retrieve(ANTHROPIC, model("claude-x"), ok(body))


def test_openai_compatible_asks_under_the_api_root_keeping_slashes() -> None:
    family = OpenAIFamily()
    assert family.retrieve_request(OPENAI, model("gpt-4o")).url == (
        "https://api.openai.com/v1/models/gpt-4o"
    )
    vllm = provider("openai", "http://127.0.0.1:8000/v1", hosting="self-hosted")
    request = family.retrieve_request(vllm, model("Qwen/Qwen3-8B"))
    assert request.url == "http://127.0.0.1:8000/v1/models/Qwen/Qwen3-8B"


def test_openai_reads_the_lifecycle_fields_of_the_model_object() -> None:
    family = OpenAIFamily()
    entry = family.parse_retrieve(
        OPENAI,
        model("gpt-4-0613"),
        ok({"id": "gpt-4-0613", "object": "model", "created": 1, "shutdown_date": "2026-06-01"}),
    )
    assert (entry.id, entry.retires) == ("gpt-4-0613", date(2026, 6, 1))
    mistral = family.parse_retrieve(
        OPENAI,
        model("mistral-old"),
        ok(
            {
                "id": "mistral-old",
                "deprecation": "2026-03-01T00:00:00Z",
                "deprecation_replacement_model": "mistral-new",
            }
        ),
    )
    assert mistral.lifecycle == "deprecated"
    assert mistral.note == "replacement: mistral-new"


@pytest.mark.parametrize("body", [{"object": "model"}, [], "gpt-4o"])
def test_openai_refuses_an_answer_without_a_model_id(body: object) -> None:
    with pytest.raises(ValueError, match="expected"):
        OpenAIFamily().parse_retrieve(OPENAI, model("gpt-4o"), ok(body))


def test_azure_asks_for_the_base_model_with_the_api_version() -> None:
    family = AzureOpenAIFamily()
    resource = provider("azure-openai", "https://res.openai.azure.com", api_version="2024-10-21")
    request = family.retrieve_request(resource, model("prod-4o", base_model="gpt-4o"))
    assert request.url == (
        "https://res.openai.azure.com/openai/models/gpt-4o?api-version=2024-10-21"
    )
    v1 = provider("azure-openai", "https://res.openai.azure.com/openai/v1")
    assert family.retrieve_request(v1, model("prod-4o")).url == (
        "https://res.openai.azure.com/openai/v1/models/prod-4o"
    )
    entry = family.parse_retrieve(
        resource,
        model("prod-4o", base_model="gpt-4o"),
        ok({"id": "gpt-4o", "lifecycle_status": "deprecated", "deprecation": {"inference": 0}}),
    )
    assert (entry.id, entry.lifecycle) == ("gpt-4o", "deprecated")


def test_gemini_asks_under_its_api_version_without_the_models_prefix() -> None:
    family = GeminiFamily()
    request = family.retrieve_request(GEMINI, model("models/gemini-2.5-flash"))
    assert request.url == (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash"
    )
    v1 = provider("gemini", "https://generativelanguage.googleapis.com", api_version="v1")
    assert (
        "/v1/models/gemini-2.5-flash" in family.retrieve_request(v1, model("gemini-2.5-flash")).url
    )


def test_gemini_reads_the_deprecation_in_the_description() -> None:
    entry = GeminiFamily().parse_retrieve(
        GEMINI,
        model("gemini-1.0-pro"),
        ok(
            {
                "name": "models/gemini-1.0-pro-001",
                "version": "001",
                "description": "The original Gemini 1.0 Pro model. This model was deprecated "
                "on July 12, 2024. Move to a newer Gemini version.",
            }
        ),
    )
    assert entry.id == "gemini-1.0-pro-001"
    assert (entry.lifecycle, entry.retires) == ("deprecated", date(2024, 7, 12))


def test_ollama_shows_the_model_and_keeps_the_tagged_name() -> None:
    family = OllamaFamily()
    request = family.retrieve_request(OLLAMA, model("llama3.2"))
    assert (request.method, request.url) == ("POST", "http://127.0.0.1:11434/api/show")
    assert request.json_body == {"model": "llama3.2"}
    shown = ok({"modelfile": "FROM llama3.2\n", "details": {"family": "llama"}})
    assert family.parse_retrieve(OLLAMA, model("llama3.2"), shown).id == "llama3.2:latest"
    with pytest.raises(ValueError, match="details"):
        family.parse_retrieve(OLLAMA, model("llama3.2"), ok({"status": "success"}))
