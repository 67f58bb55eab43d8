"""OpenAI's Responses API (`POST /v1/responses`): the request body, the reply and the
streamed events. The `openai` family speaks it for a model declared `endpoint: responses`,
and retries there once when the chat endpoint says the model is served only on it.

Shapes follow openai-python's `types/responses` (`Response`, `ResponseStreamEvent`): a
reply is `{"object":"response","status":...,"output":[items],"usage":{...}}` whose text is
in `output[].content[]` parts of type `output_text` (or `refusal`); a stream is named SSE
events (`response.created`, `response.output_text.delta`, ...) ended by
`response.completed`, `response.incomplete` or `response.failed`, with `error` events for
failures the server reports before a response exists.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from modelaudit.families.base import (
    PROBE_PROMPT,
    Generation,
    ProviderError,
    StreamEnd,
    StreamEvent,
    StreamFailure,
    StreamMeta,
    StreamToken,
)
from modelaudit.families.envelopes import error_from_payload, inband_error
from modelaudit.families.events import decode_event_json
from modelaudit.families.fields import (
    JsonObject,
    as_list,
    as_object,
    integer,
    load_json_object,
    path,
    text,
)
from modelaudit.families.framing import FramedDecoder
from modelaudit.families.sse import SseDecoder, SseEvent

if TYPE_CHECKING:
    from modelaudit.families.base import HttpResponse

MIN_OUTPUT_TOKENS = 16
"""The Responses API refuses a `max_output_tokens` below 16 ("integer below minimum value")."""
# gpt-5 and its mini/nano take `minimal`; the other reasoning models (o-series, gpt-5.1 and
# later, -pro) take `low` as their cheapest common value. A refusal drops `reasoning`.
_MINIMAL_EFFORT = re.compile(r"^gpt-5(?:-mini|-nano)?(?:-\d{4}-\d{2}-\d{2})?$")
_ENDS = {
    "response.completed": "completed",
    "response.incomplete": "incomplete",
    "response.failed": "failed",
}
_TEXT_DELTAS = frozenset({"response.output_text.delta", "response.refusal.delta"})
_REASONING_DELTAS = frozenset(
    {"response.reasoning_text.delta", "response.reasoning_summary_text.delta"}
)


def responses_body(
    model_id: str, max_tokens: int, *, reasoning: bool, stream: bool = False
) -> JsonObject:
    """The cheapest generation: the probe prompt, the output cap (at least the API's
    minimum), the cheapest reasoning effort for a reasoning model."""
    body: JsonObject = {
        "model": model_id,
        "input": PROBE_PROMPT,
        "max_output_tokens": max(max_tokens, MIN_OUTPUT_TOKENS),
        "store": False,
    }
    if reasoning:
        effort = "minimal" if _MINIMAL_EFFORT.match(model_id) else "low"
        body["reasoning"] = {"effort": effort}
    if stream:
        body["stream"] = True
    return body


def parse_response(response: HttpResponse) -> Generation:
    """A `response` object: `completed`, `incomplete` (the output cap, a content filter) or
    `failed` with its `error`."""
    body = load_json_object(response.body, "a response")
    if body.get("object") != "response" and "output" not in body:
        error = inband_error(body)
        if error is not None:
            return Generation(error=error)
        raise ValueError("expected a response object with `output`")
    return _generation(body)


def _generation(body: JsonObject) -> Generation:
    served = text(body.get("model"))
    failure = _failure(body)
    if failure is not None:
        return Generation(served_model=served, error=failure)
    answer, refused = _output_chars(body.get("output"))
    finish = text(body.get("status"))
    reason = text(path(body, "incomplete_details", "reason"))
    return Generation(
        served_model=served,
        finish_reason=reason or finish,
        output_tokens=integer(path(body, "usage", "output_tokens")),
        text_chars=answer,
        filtered=refused or reason == "content_filter",
    )


def _failure(body: JsonObject) -> ProviderError | None:
    """The error of a `failed` response (`{"code","message"}`), as the envelope reads it."""
    error = as_object(body.get("error"))
    if error is None and body.get("status") != "failed":
        return None
    return error_from_payload({"error": error or {"message": "the response failed"}})


def _output_chars(output: object) -> tuple[int, bool]:
    """Characters of answer and reasoning text in `output`, and whether a part refused."""
    total, refused = 0, False
    for item in map(as_object, as_list(output)):
        if item is None:
            continue
        for part in map(as_object, as_list(item.get("content"))):
            if part is None:
                continue
            refused = refused or part.get("type") == "refusal"
            total += len(text(part.get("text")) or "") + len(text(part.get("refusal")) or "")
        for summary in map(as_object, as_list(item.get("summary"))):
            total += len(text((summary or {}).get("text")) or "")
    return total, refused


class ResponsesStreamDecoder(FramedDecoder[SseEvent]):
    """Named events; the text of `response.output_text.delta` (and reasoning and refusal
    deltas) marks the first token; `response.completed` / `response.incomplete` end the
    stream, `response.failed` and `error` events are failures inside the 200."""

    def __init__(self) -> None:
        super().__init__(SseDecoder())
        self._served_model: str | None = None
        self._refused = False

    def _frame(self, event: SseEvent) -> list[StreamEvent]:
        payload, failure = decode_event_json(event)
        if failure is not None:
            return [failure]
        assert payload is not None
        kind = text(payload.get("type")) or event.event or ""
        response = as_object(payload.get("response"))
        decoded = self._meta(response)
        if kind in _TEXT_DELTAS or kind in _REASONING_DELTAS:
            chars = len(text(payload.get("delta")) or "")
            if chars:
                decoded.append(StreamToken(chars=chars, reasoning=kind in _REASONING_DELTAS))
            if kind == "response.refusal.delta":
                self._refused = True
        elif kind in _ENDS:
            self._done = True
            decoded.append(self._end(response or {}))
        return decoded

    def _meta(self, response: JsonObject | None) -> list[StreamEvent]:
        model = text((response or {}).get("model"))
        if model is None or self._served_model is not None:
            return []
        self._served_model = model
        return [StreamMeta(served_model=model)]

    def _end(self, response: JsonObject) -> StreamEvent:
        generation = _generation(response)
        if generation.error is not None:
            return StreamFailure(error=generation.error)
        return StreamEnd(
            finish_reason=generation.finish_reason,
            output_tokens=generation.output_tokens,
            filtered=generation.filtered or self._refused,
        )
