from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelaudit.families.base import (
    PROBE_PROMPT,
    CatalogEntry,
    HttpResponse,
    ProviderError,
    StreamEnd,
    StreamFailure,
    StreamMeta,
    StreamToken,
)
from modelaudit.families.openai import ChatVariant, OpenAIFamily
from tests.families.specs import model, provider
from tests.families.streaming import decode_bytewise, decode_in_pieces, decode_whole

FAMILY = OpenAIFamily()
OPENAI = provider("openai", "https://api.openai.com/v1")
LLAMACPP = provider("openai", "http://127.0.0.1:8080/v1", hosting="self-hosted")


def ok(body: str | bytes) -> HttpResponse:
    return HttpResponse(200, {}, body.encode() if isinstance(body, str) else body)


# --- provider conventions -------------------------------------------------------------


def test_api_version_is_refused() -> None:
    problem = FAMILY.check_api_version("2024-10-21", "https://api.openai.com/v1")
    assert "api_version" in (problem or "")


def test_an_endpoint_url_is_refused_with_the_root_to_write() -> None:
    problem = FAMILY.check_base_url("https://api.groq.com/openai/v1/chat/completions")
    assert problem is not None
    assert "`https://api.groq.com/openai/v1`" in problem


def test_any_api_root_is_fine() -> None:
    assert FAMILY.check_base_url("http://10.0.0.5:30000/v1") is None


def test_bearer_auth() -> None:
    assert FAMILY.auth_headers("k") == {"Authorization": "Bearer k"}


# --- catalog --------------------------------------------------------------------------


def test_catalog_request_carries_provider_headers_and_needs_a_key() -> None:
    spec = provider("openai", "https://api.openai.com/v1", headers={"OpenAI-Project": "proj_1"})
    request = FAMILY.catalog_request(spec)
    assert (request.method, request.url) == ("GET", "https://api.openai.com/v1/models")
    assert request.headers["OpenAI-Project"] == "proj_1"
    assert request.authenticated


def test_openrouter_lists_models_without_a_key() -> None:
    request = FAMILY.catalog_request(provider("openai", "https://openrouter.ai/api/v1"))
    assert not request.authenticated


def test_openai_list_with_shutdown_dates_in_both_forms() -> None:
    body = {
        "object": "list",
        "data": [
            {"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"},
            {
                "id": "gpt-4.5-preview",
                "object": "model",
                "created": 1740623059,
                "owned_by": "system",
                "shutdown_date": 1752537600,
            },
            {
                "id": "o1-preview",
                "object": "model",
                "created": 1725648897,
                "owned_by": "system",
                "shutdown_date": "2025-07-28",
            },
            {"id": "gpt-4.1", "object": "model", "shutdown_date": None},
        ],
    }
    entries = FAMILY.parse_catalog(OPENAI, ok(json.dumps(body))).entries
    assert [e.id for e in entries] == ["gpt-4o", "gpt-4.5-preview", "o1-preview", "gpt-4.1"]
    assert [str(e.retires) for e in entries] == ["None", "2025-07-15", "2025-07-28", "None"]


def test_together_bare_array() -> None:
    body = (
        '[{"id":"meta-llama/Llama-3.3-70B-Instruct-Turbo","object":"model","type":"chat",'
        '"context_length":131072}]'
    )
    page = FAMILY.parse_catalog(OPENAI, ok(body))
    assert page.entries == (
        CatalogEntry(id="meta-llama/Llama-3.3-70B-Instruct-Turbo", generates_text=True),
    )
    assert page.next_request is None


def test_llamacpp_combined_body_reads_the_openai_list() -> None:
    body = (
        '{"models":[{"name":"smollm2-135m","model":"smollm2-135m","capabilities":["completion"],'
        '"details":{"parent_model":"","format":"gguf"}}],"object":"list","data":[{"id":'
        '"smollm2-135m","aliases":["smollm2-135m"],"tags":[],"object":"model","created":'
        '1795988306,"owned_by":"llamacpp","meta":{"vocab_type":2,"n_vocab":49152,"n_ctx":2048}}]}'
    )
    assert FAMILY.parse_catalog(LLAMACPP, ok(body)).entries == (
        CatalogEntry(id="smollm2-135m", owned_by="llamacpp", created=1795988306),
    )


def test_mistral_deprecation_replacement_and_archived() -> None:
    body = {
        "object": "list",
        "data": [
            {
                "id": "open-mistral-7b",
                "object": "model",
                "deprecation": "2025-03-30T12:00:00Z",
                "deprecation_replacement_model": "ministral-8b-latest",
                "archived": False,
            },
            {"id": "mistral-tiny-2312", "object": "model", "archived": True, "deprecation": None},
        ],
    }
    first, second = FAMILY.parse_catalog(OPENAI, ok(json.dumps(body))).entries
    assert (str(first.retires), first.lifecycle, first.note) == (
        "2025-03-30",
        "deprecated",
        "replacement: ministral-8b-latest",
    )
    assert second.lifecycle == "archived"


def test_openrouter_expiration_and_groq_inactive() -> None:
    body = {
        "data": [
            {"id": "google/gemini-2.0-flash-exp:free", "expiration_date": "2025-09-01"},
            {
                "id": "mixtral-8x7b-32768",
                "object": "model",
                "owned_by": "Mistral AI",
                "active": False,
                "context_window": 32768,
            },
        ]
    }
    expiring, inactive = FAMILY.parse_catalog(OPENAI, ok(json.dumps(body))).entries
    assert str(expiring.retires) == "2025-09-01"
    assert inactive.lifecycle == "inactive"


@pytest.mark.parametrize(
    "body",
    [b"<html><body>Welcome to nginx!</body></html>", b'{"object":"list"}', b'"models"', b"{"],
)
def test_a_body_that_is_not_a_model_list_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError, match=r".+"):
        FAMILY.parse_catalog(OPENAI, ok(body))


# --- completion -----------------------------------------------------------------------


def test_openai_gets_max_completion_tokens_and_the_fixed_prompt() -> None:
    request = FAMILY.completion_request(OPENAI, model("gpt-4o"), 16)
    assert (request.method, request.url) == ("POST", "https://api.openai.com/v1/chat/completions")
    assert request.json_body == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": PROBE_PROMPT}],
        "temperature": 0,
        "max_completion_tokens": 16,
    }


def test_compatible_servers_get_max_tokens_and_nothing_unusual() -> None:
    body = FAMILY.completion_request(LLAMACPP, model("o3-mini"), 4).json_body
    assert isinstance(body, dict)
    assert body["max_tokens"] == 4
    assert "max_completion_tokens" not in body
    assert "reasoning_effort" not in body


@pytest.mark.parametrize(
    ("model_id", "asks_low_effort"),
    [
        ("o3", True),
        ("o4-mini", True),
        ("gpt-5-mini", True),
        ("gpt-5-chat-latest", False),
        ("o1-mini", False),
        ("gpt-4o", False),
    ],
)
def test_reasoning_kept_low_only_for_openai_reasoning_models(
    model_id: str, asks_low_effort: bool
) -> None:
    body = FAMILY.completion_request(OPENAI, model(model_id), 16).json_body
    assert isinstance(body, dict)
    assert (body.get("reasoning_effort") == "low") is asks_low_effort


UNSUPPORTED_MAX_TOKENS = ProviderError(
    type="invalid_request_error",
    code="unsupported_parameter",
    param="max_tokens",
    message="Unsupported parameter: 'max_tokens' is not supported with this model. "
    "Use 'max_completion_tokens' instead.",
)


def test_refused_max_tokens_switches_to_max_completion_tokens() -> None:
    variant = FAMILY.alternative_variant(UNSUPPORTED_MAX_TOKENS, 0)
    assert variant == ChatVariant.SWAP_TOKEN_LIMIT
    body = FAMILY.completion_request(LLAMACPP, model("o1"), 8, variant).json_body
    assert isinstance(body, dict)
    assert body["max_completion_tokens"] == 8
    assert "max_tokens" not in body
    assert FAMILY.alternative_variant(UNSUPPORTED_MAX_TOKENS, variant) is None


def test_an_old_server_refusing_max_completion_tokens_gets_max_tokens() -> None:
    error = ProviderError(message="Unrecognized request argument supplied: max_completion_tokens")
    variant = FAMILY.alternative_variant(error, 0)
    assert variant is not None
    body = FAMILY.completion_request(OPENAI, model("gpt-4o"), 8, variant).json_body
    assert isinstance(body, dict)
    assert body["max_tokens"] == 8


def test_refused_reasoning_effort_is_dropped() -> None:
    error = ProviderError(
        code="unsupported_value",
        param="reasoning_effort",
        message="Unsupported value: 'reasoning_effort' does not support 'low' with this model. "
        "Supported values are: 'high'.",
    )
    variant = FAMILY.alternative_variant(error, 0)
    assert variant == ChatVariant.NO_REASONING_EFFORT
    body = FAMILY.completion_request(OPENAI, model("gpt-5-pro"), 8, variant).json_body
    assert isinstance(body, dict)
    assert "reasoning_effort" not in body


def test_refused_stream_options_are_dropped() -> None:
    error = ProviderError(message="Extra inputs are not permitted: stream_options")
    variant = FAMILY.alternative_variant(error, 0)
    assert variant == ChatVariant.NO_STREAM_OPTIONS
    body = FAMILY.stream_request(LLAMACPP, model("m"), 8, variant).json_body
    assert isinstance(body, dict)
    assert body["stream"] is True
    assert "stream_options" not in body


def test_an_unrelated_400_has_no_alternative() -> None:
    error = ProviderError(
        code="context_length_exceeded",
        message="This model's maximum context length is 8192 tokens.",
    )
    assert FAMILY.alternative_variant(error, 0) is None


LLAMACPP_REPLY = (
    '{"choices":[{"finish_reason":"length","index":0,"message":{"role":"assistant","content":"I"}}],'
    '"created":1795988307,"model":"smollm2-135m","system_fingerprint":"b0-unknown","object":'
    '"chat.completion","usage":{"completion_tokens":1,"prompt_tokens":32,"total_tokens":33,'
    '"prompt_tokens_details":{"cached_tokens":0}},"id":"chatcmpl-7ELS","timings":{"cache_n":0,'
    '"prompt_n":32,"prompt_ms":169.58}}'
)


def test_llamacpp_reply() -> None:
    generation = FAMILY.parse_completion(ok(LLAMACPP_REPLY))
    assert generation.served_model == "smollm2-135m"
    assert generation.system_fingerprint == "b0-unknown"
    assert (generation.finish_reason, generation.output_tokens) == ("length", 1)
    assert generation.text_chars == 1
    assert not generation.filtered
    assert generation.error is None


def test_reasoning_content_counts_as_text() -> None:
    body = (
        '{"id":"x","object":"chat.completion","model":"deepseek-reasoner","choices":[{"index":0,'
        '"message":{"role":"assistant","content":"","reasoning_content":"Okay, the user"},'
        '"finish_reason":"length"}],"usage":{"completion_tokens":4}}'
    )
    assert FAMILY.parse_completion(ok(body)).text_chars == len("Okay, the user")


def test_a_reasoning_model_that_spent_its_budget_thinking_still_answered() -> None:
    body = (
        '{"id":"c","object":"chat.completion","model":"o3-2025-04-16","choices":[{"index":0,'
        '"message":{"role":"assistant","content":"","refusal":null},"finish_reason":"length"}],'
        '"usage":{"completion_tokens":16,"completion_tokens_details":{"reasoning_tokens":16}}}'
    )
    generation = FAMILY.parse_completion(ok(body))
    assert (generation.text_chars, generation.finish_reason, generation.error) == (
        0,
        "length",
        None,
    )


def test_content_filter_finish_is_filtered() -> None:
    body = (
        '{"id":"c","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[{"index":0,'
        '"finish_reason":"content_filter","message":{"role":"assistant","content":null},'
        '"content_filter_results":{"hate":{"filtered":true,"severity":"high"}}}]}'
    )
    assert FAMILY.parse_completion(ok(body)).filtered


def test_an_error_inside_a_200_is_reported_not_raised() -> None:
    body = '{"error":{"message":"Internal server error","type":"server_error","code":500}}'
    generation = FAMILY.parse_completion(ok(body))
    assert generation.error == ProviderError(
        type="server_error", code="500", message="Internal server error", status=500
    )


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><title>Sign in</title></html>",
        b'{"choices":[]}',
        b'{"object":"list","data":[]}',
        b'{"id":"x","choi',
        b"[1,2]",
    ],
)
def test_a_body_that_is_not_a_chat_completion_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError, match=r".+"):
        FAMILY.parse_completion(ok(body))


# --- streaming ------------------------------------------------------------------------


def test_stream_request_asks_for_usage() -> None:
    request = FAMILY.stream_request(OPENAI, model("gpt-4o-mini"), 16)
    assert request.stream
    assert request.headers["accept"] == "text/event-stream"
    assert isinstance(request.json_body, dict)
    assert request.json_body["stream"] is True
    assert request.json_body["stream_options"] == {"include_usage": True}


def _chunk(choices: str, extra: str = "") -> bytes:
    return (
        'data: {"choices":' + choices + ',"created":1795988307,"id":"chatcmpl-3Qpi","model":'
        '"smollm2-135m","system_fingerprint":"b0-unknown","object":"chat.completion.chunk"'
        + extra
        + "}\n\n"
    ).encode()


LLAMACPP_STREAM = b"".join(
    [
        _chunk('[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}]'),
        _chunk('[{"finish_reason":null,"index":0,"delta":{"content":"I"}}]'),
        _chunk('[{"finish_reason":null,"index":0,"delta":{"content":"\'m"}}]'),
        _chunk('[{"finish_reason":"length","index":0,"delta":{}}]', ',"timings":{"predicted_n":2}'),
        _chunk("[]", ',"usage":{"completion_tokens":2,"prompt_tokens":32,"total_tokens":34}'),
        b"data: [DONE]\n\n",
    ]
)
LLAMACPP_EVENTS = [
    StreamMeta(served_model="smollm2-135m", system_fingerprint="b0-unknown"),
    StreamToken(chars=1),
    StreamToken(chars=2),
    StreamEnd(finish_reason="length", output_tokens=2),
]


def test_llamacpp_stream_role_and_usage_chunks_are_not_tokens() -> None:
    assert decode_whole(FAMILY.stream_decoder(), LLAMACPP_STREAM) == LLAMACPP_EVENTS


def test_llamacpp_stream_fed_one_byte_at_a_time() -> None:
    assert decode_bytewise(FAMILY.stream_decoder(), LLAMACPP_STREAM) == LLAMACPP_EVENTS


@settings(max_examples=60)
@given(st.lists(st.integers(min_value=1, max_value=len(LLAMACPP_STREAM) - 1), max_size=20))
def test_llamacpp_stream_any_split(cuts: list[int]) -> None:
    assert decode_in_pieces(FAMILY.stream_decoder(), LLAMACPP_STREAM, cuts) == LLAMACPP_EVENTS


OPENROUTER_REASONING_STREAM = (
    b": OPENROUTER PROCESSING\n\n"
    b'data: {"id":"gen-1","provider":"DeepSeek","model":"deepseek/deepseek-r1","object":'
    b'"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant",'
    b'"content":"","reasoning":"Hmm"},"finish_reason":null}]}\n\n'
    b": OPENROUTER PROCESSING\n\n"
    b'data: {"id":"gen-1","model":"deepseek/deepseek-r1","choices":[{"index":0,"delta":'
    b'{"content":"ok"},"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)


def test_reasoning_deltas_are_reasoning_tokens() -> None:
    assert decode_whole(FAMILY.stream_decoder(), OPENROUTER_REASONING_STREAM) == [
        StreamMeta(served_model="deepseek/deepseek-r1"),
        StreamToken(chars=3, reasoning=True),
        StreamToken(chars=2),
        StreamEnd(finish_reason="stop"),
    ]


def test_an_error_event_inside_the_stream_is_a_failure() -> None:
    body = (
        _chunk('[{"index":0,"delta":{"content":"I"}}]')
        + b'data: {"error":{"message":"The server had an error while processing your request.",'
        b'"type":"server_error","param":null,"code":null}}\n\n'
    )
    events = decode_whole(FAMILY.stream_decoder(), body)
    assert events[-1] == StreamFailure(
        error=ProviderError(
            type="server_error", message="The server had an error while processing your request."
        )
    )
    assert not any(isinstance(event, StreamEnd) for event in events)


def test_malformed_data_is_a_failure() -> None:
    events = decode_whole(FAMILY.stream_decoder(), b"data: {not json\n\n")
    assert len(events) == 1
    assert isinstance(events[0], StreamFailure)
    assert events[0].malformed is not None


def test_close_does_not_invent_an_end() -> None:
    truncated = LLAMACPP_STREAM.removesuffix(b"data: [DONE]\n\n")
    events = decode_whole(FAMILY.stream_decoder(), truncated)
    assert not any(isinstance(event, StreamEnd) for event in events)


def test_events_after_done_are_ignored() -> None:
    events = decode_whole(
        FAMILY.stream_decoder(), LLAMACPP_STREAM + _chunk('[{"delta":{"content":"x"}}]')
    )
    assert events == LLAMACPP_EVENTS


def test_trailing_slash_does_not_hide_the_endpoint() -> None:
    assert FAMILY.check_base_url("https://api.openai.com/v1/chat/completions/") is not None
