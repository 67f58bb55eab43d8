from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from modelaudit.families.anthropic import AnthropicFamily
from modelaudit.families.base import (
    PROBE_PROMPT,
    HttpResponse,
    ProviderError,
    StreamEnd,
    StreamFailure,
    StreamMeta,
    StreamToken,
)
from tests.families.specs import model, provider
from tests.families.streaming import decode_bytewise, decode_in_pieces, decode_whole

FAMILY = AnthropicFamily()
ANTHROPIC = provider("anthropic", "https://api.anthropic.com")


def ok(body: str) -> HttpResponse:
    return HttpResponse(200, {}, body.encode())


def test_base_url_ending_in_v1_is_refused_with_the_fix() -> None:
    problem = FAMILY.check_base_url("https://api.anthropic.com/v1")
    assert problem is not None
    assert "`https://api.anthropic.com`" in problem
    assert FAMILY.check_base_url("https://api.anthropic.com") is None
    assert FAMILY.check_base_url("https://api.deepseek.com/anthropic") is None


def test_api_version_is_refused() -> None:
    assert FAMILY.check_api_version("2023-06-01", "https://api.anthropic.com") is not None
    assert FAMILY.check_api_version("2023-06-01", None) is not None


def test_key_in_x_api_key_and_version_in_request_headers() -> None:
    assert FAMILY.auth_headers("k") == {"x-api-key": "k"}
    request = FAMILY.completion_request(ANTHROPIC, model("claude-sonnet-4-5"), 16)
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "x-api-key" not in request.headers


def test_configured_headers_can_add_a_beta() -> None:
    spec = provider("anthropic", "https://api.anthropic.com", headers={"anthropic-beta": "x-1"})
    assert FAMILY.catalog_request(spec).headers["anthropic-beta"] == "x-1"


def test_catalog_pages_through_after_id() -> None:
    first = FAMILY.catalog_request(ANTHROPIC)
    assert first.url == "https://api.anthropic.com/v1/models?limit=1000"
    body = {
        "data": [
            {
                "type": "model",
                "id": "claude-sonnet-4-5-20250929",
                "display_name": "Claude Sonnet 4.5",
                "created_at": "2025-09-29T00:00:00Z",
            },
            {
                "type": "model",
                "id": "claude-opus-4-1-20250805",
                "display_name": "Claude Opus 4.1",
                "created_at": "2025-08-05T00:00:00Z",
            },
        ],
        "has_more": True,
        "first_id": "claude-sonnet-4-5-20250929",
        "last_id": "claude-opus-4-1-20250805",
    }
    page = FAMILY.parse_catalog(ANTHROPIC, ok(json.dumps(body)))
    assert [entry.id for entry in page.entries] == [
        "claude-sonnet-4-5-20250929",
        "claude-opus-4-1-20250805",
    ]
    assert page.next_request is not None
    assert page.next_request.url == (
        "https://api.anthropic.com/v1/models?limit=1000&after_id=claude-opus-4-1-20250805"
    )
    assert page.next_request.headers["anthropic-version"] == "2023-06-01"
    last = FAMILY.parse_catalog(
        ANTHROPIC, ok('{"data":[],"has_more":false,"first_id":null,"last_id":null}')
    )
    assert last.next_request is None


def test_catalog_that_is_not_a_list_is_refused() -> None:
    with pytest.raises(ValueError, match="model list"):
        FAMILY.parse_catalog(ANTHROPIC, ok('{"type":"model","id":"claude"}'))


def test_completion_body() -> None:
    request = FAMILY.completion_request(ANTHROPIC, model("claude-haiku-4-5"), 16)
    assert request.url == "https://api.anthropic.com/v1/messages"
    assert request.json_body == {
        "model": "claude-haiku-4-5",
        "max_tokens": 16,
        "messages": [{"role": "user", "content": PROBE_PROMPT}],
        "temperature": 0,
    }


def test_reply_from_llamacpp_anthropic_surface() -> None:
    body = (
        '{"id":"chatcmpl-Z1NY","type":"message","role":"assistant","content":[{"type":"text",'
        '"text":"I"}],"model":"smollm2-135m","stop_reason":"max_tokens","stop_sequence":null,'
        '"usage":{"cache_read_input_tokens":31,"input_tokens":1,"output_tokens":1}}'
    )
    generation = FAMILY.parse_completion(ok(body))
    assert generation.served_model == "smollm2-135m"
    assert (generation.finish_reason, generation.output_tokens, generation.text_chars) == (
        "max_tokens",
        1,
        1,
    )
    assert not generation.filtered


def test_thinking_blocks_count_and_refusal_is_filtered() -> None:
    body = (
        '{"id":"msg_1","type":"message","role":"assistant","model":"claude-opus-4-1-20250805",'
        '"content":[{"type":"thinking","thinking":"Let me","signature":"sig"}],'
        '"stop_reason":"refusal","usage":{"output_tokens":7}}'
    )
    generation = FAMILY.parse_completion(ok(body))
    assert generation.text_chars == len("Let me")
    assert generation.filtered


def test_error_envelope_with_status_200_is_an_error() -> None:
    body = '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
    assert FAMILY.parse_completion(ok(body)).error == ProviderError(
        type="overloaded_error", message="Overloaded"
    )


@pytest.mark.parametrize("body", ["<html></html>", '{"type":"message"}', '{"choices":[]}'])
def test_body_that_is_not_a_message_is_refused(body: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        FAMILY.parse_completion(ok(body))


# The shape of the Anthropic SDK's recorded basic stream (tests/lib/streaming/fixtures),
# ending without a final blank line exactly as recorded.
SDK_STREAM = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_4QpJur2dWWDjF6C758",'
    b'"type":"message","role":"assistant","content":[],"model":"claude-3-opus-latest",'
    b'"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":11,"output_tokens":1}}}\n\n'
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\n'
    b'event: ping\ndata: {"type": "ping"}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
    b'{"type":"text_delta","text":"Hello"}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
    b'{"type":"text_delta","text":" th\xc3\xa9re"}}\n\n'
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn",'
    b'"stop_sequence":null},"usage":{"output_tokens":6}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}'
)
SDK_EVENTS = [
    StreamMeta(served_model="claude-3-opus-latest"),
    StreamToken(chars=5),
    StreamToken(chars=6),
    StreamEnd(finish_reason="end_turn", output_tokens=6),
]


def test_stream_ping_and_block_events_are_not_tokens() -> None:
    assert decode_whole(FAMILY.stream_decoder(), SDK_STREAM) == SDK_EVENTS
    assert decode_bytewise(FAMILY.stream_decoder(), SDK_STREAM) == SDK_EVENTS


@settings(max_examples=60)
@given(st.lists(st.integers(min_value=1, max_value=len(SDK_STREAM) - 1), max_size=20))
def test_stream_any_split(cuts: list[int]) -> None:
    assert decode_in_pieces(FAMILY.stream_decoder(), SDK_STREAM, cuts) == SDK_EVENTS


# llama.cpp's server (xllamacpp 2026.10.11549) on its /v1/messages route, streamed: now and then
# (11 of 120 requests, four at once) it sends no `message_start` at all. Recorded on
# loopback, as served.
LLAMACPP_STREAM_WITHOUT_START = (
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
    b'{"type":"text_delta","text":"\xf0\x9f\x98\x89"}}\n\n'
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"max_tokens",'
    b'"stop_sequence":null},"usage":{"output_tokens":3}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)


def test_a_stream_without_message_start_still_answers() -> None:
    """The answer is the tokens and the end, not the opening event: a server that skips it
    served the model (only the served model's name is unknown)."""
    assert decode_whole(FAMILY.stream_decoder(), LLAMACPP_STREAM_WITHOUT_START) == [
        StreamToken(chars=1),
        StreamEnd(finish_reason="max_tokens", output_tokens=3),
    ]


def test_refusal_stream_ends_filtered() -> None:
    body = (
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01","type":'
        b'"message","role":"assistant","content":[],"model":"claude-opus-4-7","stop_reason":null,'
        b'"usage":{"input_tokens":20,"output_tokens":1}}}\n\n'
        b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"refusal",'
        b'"stop_sequence":null,"stop_details":{"type":"refusal","category":"cyber"}},'
        b'"usage":{"output_tokens":120}}\n\n'
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )
    assert decode_whole(FAMILY.stream_decoder(), body)[-1] == StreamEnd(
        finish_reason="refusal", output_tokens=120, filtered=True
    )


def test_thinking_delta_is_a_reasoning_token() -> None:
    body = (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
        b'{"type":"thinking_delta","thinking":"Let me think"}}\n\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
        b'{"type":"signature_delta","signature":"EqQB"}}\n\n'
    )
    assert decode_whole(FAMILY.stream_decoder(), body) == [StreamToken(chars=12, reasoning=True)]


def test_error_event_after_the_200_is_a_failure_not_an_end() -> None:
    body = SDK_STREAM.split(b"event: content_block_stop")[0] + (
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
        b'"message":"Overloaded"}}\n\n'
    )
    events = decode_whole(FAMILY.stream_decoder(), body)
    assert events[-1] == StreamFailure(
        error=ProviderError(type="overloaded_error", message="Overloaded")
    )
    assert not any(isinstance(event, StreamEnd) for event in events)


def test_stream_cut_before_message_stop_has_no_end() -> None:
    body = SDK_STREAM.split(b"event: message_stop")[0]
    assert not any(isinstance(e, StreamEnd) for e in decode_whole(FAMILY.stream_decoder(), body))


def test_stream_request() -> None:
    request = FAMILY.stream_request(ANTHROPIC, model("claude-haiku-4-5"), 16)
    assert request.stream
    assert isinstance(request.json_body, dict)
    assert request.json_body["stream"] is True


def test_credit_balance_error_envelope() -> None:
    error = FAMILY.parse_error(
        HttpResponse(
            400,
            {"request-id": "req_1"},
            b'{"type":"error","error":{"type":"invalid_request_error","message":"Your credit '
            b"balance is too low to access the Anthropic API. Please go to Plans & Billing to "
            b'upgrade or purchase credits."},"request_id":"req_011CV"}',
        )
    )
    assert error.type == "invalid_request_error"
    assert error.message is not None
    assert error.message.startswith("Your credit balance is too low")


def test_trailing_slash_does_not_hide_the_v1() -> None:
    assert FAMILY.check_base_url("https://api.anthropic.com/v1/") is not None


def test_the_registry_reports_the_convention_when_loading() -> None:
    with pytest.raises(ValidationError, match="must not end in /v1"):
        provider("anthropic", "https://api.anthropic.com/v1")
