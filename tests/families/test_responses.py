"""The Responses API as the `openai` family speaks it: the cheapest request, a reply's
text, cut and refusal, and the streamed events at any byte split."""

from __future__ import annotations

import json

import pytest

from modelaudit.families import FAMILIES
from modelaudit.families.base import (
    HttpRequest,
    HttpResponse,
    ProviderError,
    StreamEnd,
    StreamFailure,
    StreamMeta,
    StreamToken,
)
from modelaudit.families.openai import ChatVariant
from modelaudit.registry.schema import ModelSpec, ProviderSpec
from tests.families.streaming import decode_bytewise, decode_whole

FAMILY = FAMILIES["openai"]
OPENAI = ProviderSpec(
    name="openai",
    api="openai",
    base_url="https://api.openai.com/v1",
    hosting="vendor",
    jurisdiction="US",
    models=[{"id": "gpt-5", "weights": "closed", "endpoint": "responses"}],
)
RESPONSES = HttpRequest("POST", "https://api.openai.com/v1/responses")


def model(model_id: str, endpoint: str | None = "responses") -> ModelSpec:
    return ModelSpec(id=model_id, weights="closed", endpoint=endpoint)


def test_a_model_declared_on_responses_gets_the_cheapest_responses_request() -> None:
    request = FAMILY.completion_request(OPENAI, model("gpt-5"), 16)
    streamed = FAMILY.stream_request(OPENAI, model("o3-pro"), 4)

    assert request.url == "https://api.openai.com/v1/responses"
    assert request.json_body == {
        "model": "gpt-5",
        "input": "Reply with the single word: ok",
        "max_output_tokens": 16,
        "store": False,
        "reasoning": {"effort": "minimal"},
    }
    assert streamed.stream
    assert isinstance(streamed.json_body, dict)
    # The API refuses a cap below 16; o-series models take `low`, not `minimal`.
    assert streamed.json_body["max_output_tokens"] == 16
    assert streamed.json_body["reasoning"] == {"effort": "low"}
    assert streamed.json_body["stream"] is True
    plain = FAMILY.completion_request(OPENAI, model("gpt-4.1"), 16)
    assert isinstance(plain.json_body, dict)
    assert "reasoning" not in plain.json_body


def test_the_chat_endpoints_only_on_responses_answer_retries_there_once() -> None:
    said = ProviderError(
        type="invalid_request_error",
        param="model",
        message="This model is only supported in v1/responses and not in v1/chat/completions.",
        status=404,
    )
    variant = FAMILY.alternative_variant(said, 0)
    assert variant is not None
    assert variant & ChatVariant.RESPONSES
    retried = FAMILY.completion_request(OPENAI, model("o1-pro", None), 16, variant)
    assert retried.url.endswith("/v1/responses")
    assert FAMILY.alternative_variant(said, variant) is None  # once


def test_a_refused_reasoning_effort_is_dropped() -> None:
    refused = ProviderError(
        code="unsupported_value",
        param="reasoning.effort",
        message="Unsupported value: 'low' is not supported with the 'gpt-5-pro' model.",
    )
    variant = FAMILY.alternative_variant(refused, ChatVariant.RESPONSES)
    assert variant is not None
    body = FAMILY.completion_request(OPENAI, model("gpt-5-pro"), 16, variant).json_body
    assert isinstance(body, dict)
    assert "reasoning" not in body


def reply(body: dict[str, object]) -> HttpResponse:
    return HttpResponse(200, {}, json.dumps(body).encode())


def test_a_completed_an_incomplete_and_a_failed_response_are_read() -> None:
    completed = FAMILY.parse_completion(
        reply(
            {
                "object": "response",
                "status": "completed",
                "model": "gpt-5-2025-08-07",
                "error": None,
                "incomplete_details": None,
                "output": [
                    {"type": "reasoning", "summary": []},
                    {
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "output_text", "text": "ok", "annotations": []}],
                    },
                ],
                "usage": {"input_tokens": 12, "output_tokens": 9},
            }
        ),
        RESPONSES,
    )
    assert (completed.served_model, completed.finish_reason) == ("gpt-5-2025-08-07", "completed")
    assert (completed.text_chars, completed.output_tokens, completed.filtered) == (2, 9, False)

    cut = FAMILY.parse_completion(
        reply(
            {
                "object": "response",
                "status": "incomplete",
                "incomplete_details": {"reason": "max_output_tokens"},
                "output": [{"type": "reasoning", "summary": []}],
                "usage": {"output_tokens": 16},
            }
        ),
        RESPONSES,
    )
    assert (cut.finish_reason, cut.text_chars, cut.error) == ("max_output_tokens", 0, None)

    refused = FAMILY.parse_completion(
        reply(
            {
                "object": "response",
                "status": "completed",
                "output": [{"type": "message", "content": [{"type": "refusal", "refusal": "No."}]}],
            }
        ),
        RESPONSES,
    )
    assert refused.filtered

    failed = FAMILY.parse_completion(
        reply(
            {
                "object": "response",
                "status": "failed",
                "error": {"code": "server_error", "message": "The server had an error."},
                "output": [],
            }
        ),
        RESPONSES,
    )
    assert failed.error is not None
    assert failed.error.code == "server_error"


def event(name: str, payload: dict[str, object]) -> bytes:
    data = json.dumps({"type": name, **payload})
    return f"event: {name}\ndata: {data}\n\n".encode()


RESPONSE = {"id": "resp_1", "object": "response", "model": "gpt-5-2025-08-07", "output": []}
IN_PROGRESS = {**RESPONSE, "status": "in_progress"}
DONE = {**RESPONSE, "status": "completed", "usage": {"output_tokens": 11}}
FAILED = {
    **RESPONSE,
    "status": "failed",
    "error": {"code": "rate_limit_exceeded", "message": "Rate limit reached"},
}
STREAM = b"".join(
    [
        event("response.created", {"sequence_number": 0, "response": IN_PROGRESS}),
        event("response.in_progress", {"sequence_number": 1, "response": IN_PROGRESS}),
        event("response.reasoning_summary_text.delta", {"sequence_number": 2, "delta": "Thinking"}),
        event("response.output_text.delta", {"sequence_number": 3, "delta": "o"}),
        event("response.output_text.delta", {"sequence_number": 4, "delta": "k"}),
        event("response.output_text.done", {"sequence_number": 5, "text": "ok"}),
        event(
            "response.completed",
            {"sequence_number": 6, "response": DONE},
        ),
    ]
)  # fmt: skip
EVENTS = [
    StreamMeta(served_model="gpt-5-2025-08-07"),
    StreamToken(chars=8, reasoning=True),
    StreamToken(chars=1),
    StreamToken(chars=1),
    StreamEnd(finish_reason="completed", output_tokens=11),
]


def test_the_stream_is_read_at_any_byte_split() -> None:
    assert decode_whole(FAMILY.stream_decoder(RESPONSES), STREAM) == EVENTS
    assert decode_bytewise(FAMILY.stream_decoder(RESPONSES), STREAM) == EVENTS


def test_failed_and_error_events_are_failures_inside_the_200() -> None:
    failed = event(
        "response.failed",
        {"response": FAILED},
    )
    error = event(
        "error",
        {
            "code": "server_error",
            "message": "An error occurred.",
            "param": None,
            "sequence_number": 1,
        },
    )
    (_meta, failure) = decode_whole(FAMILY.stream_decoder(RESPONSES), failed)
    assert isinstance(failure, StreamFailure)
    assert failure.error is not None
    assert failure.error.code == "rate_limit_exceeded"
    (only,) = decode_whole(FAMILY.stream_decoder(RESPONSES), error)
    assert isinstance(only, StreamFailure)
    assert only.error is not None
    assert only.error.code == "server_error"


def test_a_stream_without_its_terminator_has_no_end() -> None:
    cut = STREAM[: STREAM.index(b"event: response.completed")]
    events = decode_whole(FAMILY.stream_decoder(RESPONSES), cut)
    assert not any(isinstance(e, StreamEnd) for e in events)


def test_endpoint_is_checked_against_the_api() -> None:
    import pytest
    from pydantic import ValidationError

    base = {"name": "p", "hosting": "vendor", "jurisdiction": "US"}
    with pytest.raises(ValidationError, match="endpoint` is one of: chat-completions, responses"):
        ProviderSpec(
            **base,
            api="openai",
            base_url="https://api.openai.com/v1",
            models=[{"id": "m", "weights": "closed", "endpoint": "messages"}],
        )
    with pytest.raises(ValidationError, match="has no meaning for api `anthropic`"):
        ProviderSpec(
            **base,
            api="anthropic",
            base_url="https://api.anthropic.com",
            models=[{"id": "m", "weights": "closed", "endpoint": "responses"}],
        )


def test_azure_speaks_responses_on_its_v1_api_only() -> None:
    from pydantic import ValidationError

    base = {"name": "az", "api": "azure-openai", "hosting": "vendor", "jurisdiction": "US"}
    declared = [{"id": "o3-pro", "weights": "closed", "endpoint": "responses"}]
    v1 = ProviderSpec(**base, base_url="https://r.openai.azure.com/openai/v1", models=declared)
    request = FAMILIES["azure-openai"].completion_request(v1, v1.models[0], 16)
    assert request.url == "https://r.openai.azure.com/openai/v1/responses"
    with pytest.raises(ValidationError, match="has no Responses endpoint"):
        ProviderSpec(
            **base,
            base_url="https://r.openai.azure.com",
            api_version="2024-10-21",
            models=declared,
        )
