from __future__ import annotations

import json
from datetime import date

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
from modelaudit.families.gemini import GeminiFamily
from tests.families.specs import model, provider
from tests.families.streaming import decode_bytewise, decode_in_pieces, decode_whole

FAMILY = GeminiFamily()
HOST = "https://generativelanguage.googleapis.com"
GEMINI = provider("gemini", HOST)


def ok(body: str) -> HttpResponse:
    return HttpResponse(200, {}, body.encode())


# --- provider conventions -------------------------------------------------------------


@pytest.mark.parametrize("base_url", [f"{HOST}/v1beta", f"{HOST}/v1", f"{HOST}/v1beta/models"])
def test_base_url_with_a_version_is_refused_with_the_host_root(base_url: str) -> None:
    problem = FAMILY.check_base_url(base_url)
    assert problem is not None
    assert f"`{HOST}`" in problem
    assert "api_version" in problem


def test_api_version_defaults_to_v1beta_and_is_checked() -> None:
    assert FAMILY.default_api_version == "v1beta"
    assert FAMILY.check_base_url(HOST) is None
    assert FAMILY.check_api_version(None, HOST) is None
    assert FAMILY.check_api_version("v1", HOST) is None
    assert FAMILY.check_api_version("2024-10-21", HOST) is not None


def test_key_travels_in_a_header_never_the_url() -> None:
    assert FAMILY.auth_headers("k") == {"x-goog-api-key": "k"}
    for request in (
        FAMILY.catalog_request(GEMINI),
        FAMILY.completion_request(GEMINI, model("gemini-2.5-flash"), 16),
        FAMILY.stream_request(GEMINI, model("gemini-2.5-flash"), 16),
    ):
        assert "key=" not in request.url


# --- catalog --------------------------------------------------------------------------


def test_catalog_pages_with_page_token_and_strips_models_prefix() -> None:
    assert FAMILY.catalog_request(GEMINI).url == f"{HOST}/v1beta/models?pageSize=1000"
    body = {
        "models": [
            {
                "name": "models/gemini-2.5-flash",
                "version": "001",
                "displayName": "Gemini 2.5 Flash",
                "description": "Stable version of Gemini 2.5 Flash.",
                "inputTokenLimit": 1048576,
                "supportedGenerationMethods": ["generateContent", "countTokens"],
                "thinking": True,
            }
        ],
        "nextPageToken": "Ch5tb2RlbHMv+Z2VtaW5p",
    }
    page = FAMILY.parse_catalog(GEMINI, ok(json.dumps(body)))
    assert [entry.id for entry in page.entries] == ["gemini-2.5-flash"]
    assert page.next_request is not None
    assert page.next_request.url == (
        f"{HOST}/v1beta/models?pageSize=1000&pageToken=Ch5tb2RlbHMv%2BZ2VtaW5p"
    )
    assert FAMILY.parse_catalog(GEMINI, ok('{"models":[]}')).next_request is None
    assert FAMILY.parse_catalog(GEMINI, ok("{}")).entries == ()


def test_catalog_uses_the_configured_api_version() -> None:
    spec = provider("gemini", HOST, api_version="v1")
    assert FAMILY.catalog_request(spec).url.startswith(f"{HOST}/v1/models?")


def test_deprecation_in_the_description_is_read() -> None:
    body = {
        "models": [
            {
                "name": "models/gemini-1.0-pro-vision-latest",
                "description": "The original Gemini 1.0 Pro Vision model version which was "
                "optimized for image understanding. Gemini 1.0 Pro Vision was deprecated on "
                "July 12, 2024. Move to a newer Gemini version.",
            },
            {"name": "models/gemini-x", "description": "This model is deprecated."},
        ]
    }
    vision, vague = FAMILY.parse_catalog(GEMINI, ok(json.dumps(body))).entries
    assert (vision.lifecycle, vision.retires) == ("deprecated", date(2024, 7, 12))
    assert (vague.lifecycle, vague.retires) == ("deprecated", None)


def test_a_models_prefixed_registry_id_matches_the_catalog() -> None:
    assert FAMILY.catalog_id(GEMINI, model("models/gemini-2.5-pro")) == "gemini-2.5-pro"


def test_catalog_that_is_not_a_list_is_refused() -> None:
    with pytest.raises(ValueError, match="model list"):
        FAMILY.parse_catalog(GEMINI, ok('{"name":"models/gemini-2.5-pro"}'))


# --- completion -----------------------------------------------------------------------


def test_completion_turns_thinking_off_first() -> None:
    request = FAMILY.completion_request(GEMINI, model("gemini-2.5-flash"), 16)
    assert request.url == f"{HOST}/v1beta/models/gemini-2.5-flash:generateContent"
    assert request.json_body == {
        "contents": [{"role": "user", "parts": [{"text": PROBE_PROMPT}]}],
        "generationConfig": {
            "maxOutputTokens": 16,
            "temperature": 0,
            "thinkingConfig": {"thinkingBudget": 0},
        },
    }


def test_a_model_that_must_think_gets_the_variant_without_thinking_config() -> None:
    refusal = ProviderError(
        type="INVALID_ARGUMENT",
        status=400,
        message="Budget 0 is invalid. This model only works in thinking mode.",
    )
    variant = FAMILY.alternative_variant(refusal, 0)
    assert variant == 1
    body = FAMILY.completion_request(GEMINI, model("gemini-2.5-pro"), 16, variant).json_body
    assert isinstance(body, dict)
    assert body["generationConfig"] == {"maxOutputTokens": 16, "temperature": 0}
    assert FAMILY.alternative_variant(refusal, 1) is None
    unrelated = ProviderError(
        type="INVALID_ARGUMENT", message="Request contains an invalid argument."
    )
    assert FAMILY.alternative_variant(unrelated, 0) is None


REPLY = """{
  "candidates": [
    {
      "content": {"parts": [{"text": "ok"}], "role": "model"},
      "finishReason": "STOP",
      "index": 0
    }
  ],
  "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 1, "totalTokenCount": 9,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 8}]},
  "modelVersion": "gemini-2.5-flash",
  "responseId": "B3M4aPWkKJaT1dkPq7fN0Ag"
}"""


def test_reply() -> None:
    generation = FAMILY.parse_completion(ok(REPLY))
    assert generation.served_model == "gemini-2.5-flash"
    assert (generation.finish_reason, generation.output_tokens, generation.text_chars) == (
        "STOP",
        1,
        2,
    )
    assert not generation.filtered


def test_thinking_spent_the_budget_no_parts_is_still_an_answer() -> None:
    body = (
        '{"candidates":[{"content":{"role":"model"},"finishReason":"MAX_TOKENS","index":0}],'
        '"usageMetadata":{"promptTokenCount":8,"totalTokenCount":24,"thoughtsTokenCount":16},'
        '"modelVersion":"gemini-2.5-pro"}'
    )
    generation = FAMILY.parse_completion(ok(body))
    assert (generation.text_chars, generation.output_tokens, generation.finish_reason) == (
        0,
        16,
        "MAX_TOKENS",
    )
    assert generation.error is None
    assert not generation.filtered


def test_prompt_block_and_safety_stop_are_filtered() -> None:
    blocked = (
        '{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},'
        '"usageMetadata":{"promptTokenCount":8}}'
    )
    generation = FAMILY.parse_completion(ok(blocked))
    assert generation.filtered
    assert generation.finish_reason == "PROHIBITED_CONTENT"
    safety = (
        '{"candidates":[{"finishReason":"SAFETY","index":0,"safetyRatings":[{"category":'
        '"HARM_CATEGORY_HARASSMENT","probability":"HIGH","blocked":true}]}]}'
    )
    assert FAMILY.parse_completion(ok(safety)).filtered


def test_error_with_status_200_is_an_error() -> None:
    body = (
        '{"error":{"code":503,"message":"The model is overloaded. Please try again later.",'
        '"status":"UNAVAILABLE"}}'
    )
    generation = FAMILY.parse_completion(ok(body))
    assert generation.error is not None
    assert (generation.error.status, generation.error.type) == (503, "UNAVAILABLE")


@pytest.mark.parametrize("body", ["<html></html>", '{"usageMetadata":{}}', "[]"])
def test_body_that_is_not_a_reply_is_refused(body: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        FAMILY.parse_completion(ok(body))


# --- streaming ------------------------------------------------------------------------


def test_stream_request_uses_sse() -> None:
    request = FAMILY.stream_request(GEMINI, model("gemini-2.5-flash"), 16)
    assert request.url == f"{HOST}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert request.stream


# Gemini ends SSE lines with CRLF, sends thought parts when asked, and has no [DONE].
STREAM = (
    b'data: {"candidates": [{"content": {"parts": [{"text": "Considering","thought": true}],'
    b'"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 8,"totalTokenCount": 8},'
    b'"modelVersion": "gemini-2.5-flash","responseId": "aBc"}\r\n\r\n'
    b'data: {"candidates": [{"content": {"parts": [{"text": "Ok"}],"role": "model"},"index": 0}],'
    b'"usageMetadata": {"promptTokenCount": 8,"candidatesTokenCount": 1,"totalTokenCount": 9},'
    b'"modelVersion": "gemini-2.5-flash","responseId": "aBc"}\r\n\r\n'
    b'data: {"candidates": [{"content": {"parts": [{"text": "\xc3\xa9"}],"role": "model"},'
    b'"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 8,'
    b'"candidatesTokenCount": 2,"totalTokenCount": 14,"thoughtsTokenCount": 4},'
    b'"modelVersion": "gemini-2.5-flash","responseId": "aBc"}\r\n\r\n'
)
EVENTS = [
    StreamMeta(served_model="gemini-2.5-flash"),
    StreamToken(chars=11, reasoning=True),
    StreamToken(chars=2),
    StreamToken(chars=1),
    StreamEnd(finish_reason="STOP", output_tokens=6),
]


def test_the_event_with_a_finish_reason_ends_the_stream() -> None:
    assert decode_whole(FAMILY.stream_decoder(), STREAM) == EVENTS
    assert decode_bytewise(FAMILY.stream_decoder(), STREAM) == EVENTS


@settings(max_examples=60)
@given(st.lists(st.integers(min_value=1, max_value=len(STREAM) - 1), max_size=20))
def test_stream_any_split(cuts: list[int]) -> None:
    assert decode_in_pieces(FAMILY.stream_decoder(), STREAM, cuts) == EVENTS


def test_a_stream_without_a_finish_reason_has_no_end() -> None:
    cut = STREAM.split(b'data: {"candidates": [{"content": {"parts": [{"text": "\xc3\xa9"}]')[0]
    assert not any(isinstance(e, StreamEnd) for e in decode_whole(FAMILY.stream_decoder(), cut))


def test_prompt_block_event_ends_filtered() -> None:
    body = (
        b'data: {"promptFeedback": {"blockReason": "SAFETY"},'
        b'"modelVersion": "gemini-2.5-flash"}\r\n\r\n'
    )
    assert decode_whole(FAMILY.stream_decoder(), body)[-1] == StreamEnd(
        finish_reason="SAFETY", filtered=True
    )


def test_error_event_in_the_stream_is_a_failure() -> None:
    body = (
        b'data: {"error": {"code": 503, "message": "The model is overloaded. Please try again '
        b'later.", "status": "UNAVAILABLE"}}\r\n\r\n'
    )
    (event,) = decode_whole(FAMILY.stream_decoder(), body)
    assert isinstance(event, StreamFailure)
    assert event.error is not None
    assert (event.error.status, event.error.type) == (503, "UNAVAILABLE")
