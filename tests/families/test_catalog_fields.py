"""What model lists say about an id itself, read into `CatalogEntry` (used by `discover` and
`init`): aliases, the canonical id, the weights' repository, whether it generates text."""

from __future__ import annotations

import json

import pytest

from modelaudit.families.base import HttpResponse
from modelaudit.families.gemini import GeminiFamily
from modelaudit.families.openai import catalog_entry, parse_model_list
from modelaudit.registry.schema import ProviderSpec


def test_litellm_lists_a_mode_per_model() -> None:
    # The real LiteLLM proxy's /v1/models (shared/servers/README.md), plus an embedding.
    body = {
        "data": [
            {"id": "gpt-4o-mini", "object": "model", "owned_by": "openai", "mode": "chat"},
            {"id": "text-embedding-3-small", "object": "model", "mode": "embedding"},
            {"id": "claude-3-5-haiku", "object": "model", "owned_by": "openai"},
        ]
    }
    chat, embedding, unsaid = parse_model_list(json.dumps(body).encode())
    assert (chat.generates_text, embedding.generates_text, unsaid.generates_text) == (
        True,
        False,
        None,
    )


@pytest.mark.parametrize(
    ("root", "expected"),
    [("Qwen/Qwen3-8B", "Qwen/Qwen3-8B"), ("/models/qwen3-8b", None), ("qwen3-8b", None)],
)
def test_vllm_root_names_the_weights_only_when_it_is_a_repository(
    root: str, expected: str | None
) -> None:
    entry = catalog_entry({"id": "served-name", "owned_by": "vllm", "root": root})
    assert entry is not None
    assert entry.weights_id == expected


def test_openrouter_names_the_canonical_id_and_the_weights() -> None:
    entry = catalog_entry(
        {
            "id": "qwen/qwen3-32b",
            "canonical_slug": "qwen/qwen3-32b-04-28",
            "hugging_face_id": "Qwen/Qwen3-32B",
            "architecture": {"output_modalities": ["text"]},
        }
    )
    assert entry is not None
    assert (entry.canonical_id, entry.weights_id, entry.generates_text) == (
        "qwen/qwen3-32b-04-28",
        "Qwen/Qwen3-32B",
        True,
    )
    same = catalog_entry({"id": "a/b", "canonical_slug": "a/b", "hugging_face_id": ""})
    assert same is not None
    assert (same.canonical_id, same.weights_id) == (None, None)


def test_gemini_says_which_models_generate_content() -> None:
    provider = ProviderSpec.model_validate(
        {
            "name": "gemini",
            "api": "gemini",
            "base_url": "https://generativelanguage.googleapis.com",
            "hosting": "vendor",
            "jurisdiction": "US",
            "models": [{"id": "m", "weights": "closed"}],
        }
    )
    body = {
        "models": [
            {
                "name": "models/gemini-2.0-flash-001",
                "supportedGenerationMethods": ["generateContent", "countTokens"],
            },
            {"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]},
        ]
    }
    page = GeminiFamily().parse_catalog(provider, HttpResponse(200, {}, json.dumps(body).encode()))
    assert [(e.id, e.generates_text) for e in page.entries] == [
        ("gemini-2.0-flash-001", True),
        ("text-embedding-004", False),
    ]
