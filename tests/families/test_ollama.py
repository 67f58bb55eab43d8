from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelaudit.families.base import (
    PROBE_PROMPT,
    HttpResponse,
    ProviderError,
    StreamEnd,
    StreamFailure,
    StreamMeta,
    StreamToken,
)
from modelaudit.families.ollama import OllamaFamily
from tests.families.specs import model, provider
from tests.families.streaming import decode_bytewise, decode_in_pieces, decode_whole

FAMILY = OllamaFamily()
LOCAL = provider("ollama", "http://127.0.0.1:11434", hosting="self-hosted")


def ok(body: str) -> HttpResponse:
    return HttpResponse(200, {}, body.encode())


def test_v1_base_url_points_at_the_openai_family() -> None:
    problem = FAMILY.check_base_url("http://localhost:11434/v1")
    assert problem is not None
    assert "api: openai" in problem
    assert "`http://localhost:11434`" in problem


def test_api_suffix_is_refused_and_host_root_is_fine() -> None:
    assert "`http://localhost:11434`" in (FAMILY.check_base_url("http://localhost:11434/api") or "")
    assert FAMILY.check_base_url("http://localhost:11434") is None
    assert FAMILY.check_api_version("v1", "http://localhost:11434") is not None


def test_bearer_for_proxies() -> None:
    assert FAMILY.auth_headers("k") == {"Authorization": "Bearer k"}


TAGS = {
    "models": [
        {
            "name": "qwen3:32b",
            "model": "qwen3:32b",
            "modified_at": "2025-05-01T10:00:00.000000+02:00",
            "size": 20201253588,
            "digest": "030ee887880f0b8e0d1d3b7d3e2d7cc8e17a0a0f6a4a6d3c1c5a0c8a2f2c8e2a",
            "details": {
                "format": "gguf",
                "family": "qwen3",
                "parameter_size": "32.8B",
                "quantization_level": "Q4_K_M",
            },
        },
        {"name": "llama3:latest", "model": "llama3:latest", "digest": "365c0bd3c000"},
    ]
}


def test_catalog_lists_installed_models_with_tags() -> None:
    assert FAMILY.catalog_request(LOCAL).url == "http://127.0.0.1:11434/api/tags"
    page = FAMILY.parse_catalog(LOCAL, ok(json.dumps(TAGS)))
    assert [e.id for e in page.entries] == ["qwen3:32b", "llama3:latest"]
    # The digest tells tags of the same weights apart from others (`discover`, `init`).
    assert page.entries[1].digest == "365c0bd3c000"


@pytest.mark.parametrize(
    ("model_id", "listed_as"),
    [
        ("llama3", "llama3:latest"),
        ("llama3:latest", "llama3:latest"),
        ("qwen3:32b", "qwen3:32b"),
        (
            "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF",
            "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:latest",
        ),
        ("registry.local:5000/team/model", "registry.local:5000/team/model:latest"),
    ],
)
def test_an_untagged_id_matches_its_latest_tag(model_id: str, listed_as: str) -> None:
    assert FAMILY.catalog_id(LOCAL, model(model_id)) == listed_as


def test_catalog_that_is_not_a_tag_list_is_refused() -> None:
    with pytest.raises(ValueError, match="installed-model list"):
        FAMILY.parse_catalog(LOCAL, ok('{"data":[]}'))


def test_completion_uses_native_chat_without_streaming() -> None:
    request = FAMILY.completion_request(LOCAL, model("qwen3:32b"), 16)
    assert request.url == "http://127.0.0.1:11434/api/chat"
    assert request.json_body == {
        "model": "qwen3:32b",
        "messages": [{"role": "user", "content": PROBE_PROMPT}],
        "stream": False,
        "options": {"num_predict": 16, "temperature": 0},
    }


def test_reply_with_thinking() -> None:
    body = (
        '{"model":"qwen3:0.6b","created_at":"2025-06-01T10:00:00.123Z","message":{"role":'
        '"assistant","content":"","thinking":"Okay"},"done_reason":"length","done":true,'
        '"total_duration":512000000,"load_duration":30000000,"prompt_eval_count":14,'
        '"prompt_eval_duration":40000000,"eval_count":16,"eval_duration":400000000}'
    )
    generation = FAMILY.parse_completion(ok(body))
    assert generation.served_model == "qwen3:0.6b"
    assert (generation.finish_reason, generation.output_tokens, generation.text_chars) == (
        "length",
        16,
        4,
    )


def test_error_body_with_status_200() -> None:
    generation = FAMILY.parse_completion(
        ok('{"error":"an error was encountered while running the model"}')
    )
    assert generation.error == ProviderError(
        message="an error was encountered while running the model"
    )


@pytest.mark.parametrize("body", ["Ollama is running", '{"model":"x","done":true}'])
def test_body_that_is_not_a_chat_reply_is_refused(body: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        FAMILY.parse_completion(ok(body))


STREAM = (
    b'{"model":"llama3.2","created_at":"2025-06-01T10:00:00.1Z","message":{"role":"assistant",'
    b'"content":"O"},"done":false}\n'
    b'{"model":"llama3.2","created_at":"2025-06-01T10:00:00.2Z","message":{"role":"assistant",'
    b'"content":"k \xc3\xa9"},"done":false}\n'
    b'{"model":"llama3.2","created_at":"2025-06-01T10:00:00.3Z","message":{"role":"assistant",'
    b'"content":""},"done_reason":"stop","done":true,"total_duration":174560334,'
    b'"load_duration":101397084,"prompt_eval_count":11,"prompt_eval_duration":13074791,'
    b'"eval_count":3,"eval_duration":52479709}\n'
)
EVENTS = [
    StreamMeta(served_model="llama3.2"),
    StreamToken(chars=1),
    StreamToken(chars=3),
    StreamEnd(finish_reason="stop", output_tokens=3),
]


def test_ndjson_stream() -> None:
    request = FAMILY.stream_request(LOCAL, model("llama3.2"), 16)
    assert request.stream
    assert isinstance(request.json_body, dict)
    assert request.json_body["stream"] is True
    assert decode_whole(FAMILY.stream_decoder(), STREAM) == EVENTS
    assert decode_bytewise(FAMILY.stream_decoder(), STREAM) == EVENTS


@settings(max_examples=60)
@given(st.lists(st.integers(min_value=1, max_value=len(STREAM) - 1), max_size=20))
def test_stream_any_split(cuts: list[int]) -> None:
    assert decode_in_pieces(FAMILY.stream_decoder(), STREAM, cuts) == EVENTS


def test_error_line_after_the_200_is_a_failure() -> None:
    body = (
        STREAM.splitlines(keepends=True)[0] + b'{"error":"model runner has unexpectedly stopped"}\n'
    )
    events = decode_whole(FAMILY.stream_decoder(), body)
    assert events[-1] == StreamFailure(
        error=ProviderError(message="model runner has unexpectedly stopped")
    )
    assert not any(isinstance(event, StreamEnd) for event in events)


def test_malformed_line_and_no_done_means_no_end() -> None:
    events = decode_whole(
        FAMILY.stream_decoder(), b'{"model":"x","message":{"content":"a"},"done":false}\nnot json\n'
    )
    assert isinstance(events[-1], StreamFailure)
    assert events[-1].malformed is not None
    assert not any(isinstance(event, StreamEnd) for event in events)


def test_model_not_found_envelope() -> None:
    error = FAMILY.parse_error(
        HttpResponse(
            404,
            {"content-type": "application/json; charset=utf-8"},
            b'{"error":"model \\"llama9\\" not found, try pulling it first"}',
        )
    )
    assert error.message == 'model "llama9" not found, try pulling it first'


def test_trailing_slash_does_not_hide_the_v1() -> None:
    assert FAMILY.check_base_url("http://localhost:11434/v1/") is not None
