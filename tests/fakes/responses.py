"""OpenAI's Responses API (`POST /v1/responses`), rendered for `FakeOpenAI`.

Shapes follow openai-python's `types/responses` (`Response`, `ResponseStreamEvent`) and its
live SSE recordings: a reply is a `response` object whose `output` holds a `reasoning` item
(reasoning models) and a `message` item with `output_text` parts; a stream is named events,
`response.created` ... `response.output_text.delta` ... `response.completed` (or
`response.incomplete` when the output cap cut it), each with a `sequence_number`; a failure
the server reports in the stream is an `error` event (`{"type":"error","code","message",
"param","sequence_number"}`).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from tests.fakes.base import Frame, GenContext, StreamPlan
from tests.fakes.http import Reply, json_reply

PATH = "/responses"
MIN_OUTPUT_TOKENS = 16

RESPONSES_ONLY_BODY = {
    "error": {
        "message": "This model is only supported in v1/responses and not in v1/chat/completions.",
        "type": "invalid_request_error",
        "param": "model",
        "code": None,
    }
}
"""The 404 a chat-completions request for a Responses-only model gets (n8n-io/n8n#18352,
gpt-4o-deep-research; pgadmin-org/pgadmin4#9795, gpt-5-pro)."""


def below_minimum(body: dict[str, Any]) -> dict[str, Any] | None:
    value = body.get("max_output_tokens")
    if isinstance(value, int) and value < MIN_OUTPUT_TOKENS:
        return {
            "error": {
                "message": (
                    "Invalid 'max_output_tokens': integer below minimum value. Expected a "
                    f"value >= {MIN_OUTPUT_TOKENS}, but got {value} instead."
                ),
                "type": "invalid_request_error",
                "param": "max_output_tokens",
                "code": "integer_below_min_value",
            }
        }
    return None


def _status(ctx: GenContext) -> tuple[str, dict[str, str] | None]:
    if ctx.finish == "length":
        return "incomplete", {"reason": "max_output_tokens"}
    if ctx.finish == "filter":
        return "incomplete", {"reason": "content_filter"}
    return "completed", None


def response_object(ctx: GenContext, *, done: bool = True) -> dict[str, Any]:
    status, incomplete = _status(ctx) if done else ("in_progress", None)
    output: list[dict[str, Any]] = []
    if done and ctx.reasoning_pieces:
        output.append(
            {
                "id": f"rs_fake{ctx.seq:08d}",
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": ctx.reasoning}],
            }
        )
    if done and ctx.pieces:
        output.append(
            {
                "id": f"msg_fake{ctx.seq:08d}",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": ctx.text, "annotations": []}],
            }
        )
    return {
        "id": f"resp_fake{ctx.seq:08d}",
        "object": "response",
        "created_at": ctx.created,
        "status": status,
        "error": None,
        "incomplete_details": incomplete,
        "model": ctx.served_model,
        "output": output,
        "max_output_tokens": ctx.body.get("max_output_tokens"),
        "reasoning": ctx.body.get("reasoning", {"effort": None, "summary": None}),
        "usage": {
            "input_tokens": ctx.prompt_tokens,
            "output_tokens": ctx.output_tokens,
            "output_tokens_details": {"reasoning_tokens": len(ctx.reasoning_pieces)},
            "total_tokens": ctx.prompt_tokens + ctx.output_tokens,
        }
        if done
        else None,
    }


def completion_reply(ctx: GenContext, headers: dict[str, str]) -> Reply:
    return json_reply(response_object(ctx), headers=headers, indent=2)


def _event(name: str, payload: dict[str, Any], numbers: itertools.count[int]) -> bytes:
    data = {"type": name, "sequence_number": next(numbers), **payload}
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def stream_plan(ctx: GenContext, headers: dict[str, str]) -> StreamPlan:
    numbers = itertools.count()
    head = response_object(ctx, done=False)
    item_id = f"msg_fake{ctx.seq:08d}"
    frames = [
        Frame(_event("response.created", {"response": head}, numbers), "head"),
        Frame(_event("response.in_progress", {"response": head}, numbers), "head"),
    ]
    for piece in ctx.reasoning_pieces:
        delta = {"item_id": f"rs_fake{ctx.seq:08d}", "output_index": 0, "summary_index": 0}
        event = _event("response.reasoning_summary_text.delta", {**delta, "delta": piece}, numbers)
        frames.append(Frame(event, "content"))
    place = {"item_id": item_id, "output_index": 1 if ctx.reasoning_pieces else 0}
    for piece in ctx.pieces:
        delta = {**place, "content_index": 0, "delta": piece, "logprobs": []}
        frames.append(Frame(_event("response.output_text.delta", delta, numbers), "content"))
    done = {**place, "content_index": 0, "text": ctx.text, "logprobs": []}
    frames.append(Frame(_event("response.output_text.done", done, numbers), "end"))
    final = response_object(ctx)
    end = "response.completed" if final["status"] == "completed" else "response.incomplete"
    frames.append(Frame(_event(end, {"response": final}, numbers), "end"))
    return StreamPlan(frames=frames, headers={"content-type": "text/event-stream", **headers})


def is_responses_plan(plan: StreamPlan | None) -> bool:
    first = plan.frames[0].data if plan is not None and plan.frames else b""
    return first.startswith(b"event: response.")


def error_event(rendered: bytes) -> bytes:
    """An `error` event carrying the fields of a library error's rendered body."""
    try:
        error_body = json.loads(rendered)
    except ValueError:
        error_body = {}
    inner = error_body.get("error", {}) if isinstance(error_body, dict) else {}
    inner = inner if isinstance(inner, dict) else {"message": str(inner)}
    payload = {
        "type": "error",
        "code": inner.get("code") or inner.get("type"),
        "message": inner.get("message", "An error occurred."),
        "param": inner.get("param"),
        "sequence_number": 2,
    }
    return f"event: error\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()
