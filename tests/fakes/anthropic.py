"""Anthropic Messages API: `x-api-key` + `anthropic-version`, paginated `/v1/models`, named SSE
events, `event: error` after a 200.

    fake = FakeAnthropic(key="sk-ant-test", models=["claude-sonnet-4-5", "claude-haiku-4-5"])

* `GET /v1/models?limit=&after_id=&before_id=` → `{"data", "has_more", "first_id", "last_id"}`
  (default limit 20, 1..1000; pagination really happens: a test can list 45 models).
* `GET /v1/models/{id}` (an alias resolves to its dated model: see `retrieved`; unknown:
  404 `not_found_error`), `POST /v1/messages` (plain or `stream: true`),
  `POST /v1/messages/count_tokens` → `{"input_tokens": N}` (validates the key and the model).
* A missing `anthropic-version` is 400; a missing `max_tokens` is 400 "max_tokens: Field
  required", like the real API.

`base_url` is `http://127.0.0.1:PORT` (the SDK adds `/v1`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from tests.fakes.base import ErrorSpec, FamilyFake, Frame, GenContext, Model, StreamPlan
from tests.fakes.http import Reply, Request, json_reply

__all__ = ["ANTHROPIC_ERRORS", "FakeAnthropic"]


def ant_error(type_: str, message: str) -> Any:
    return {
        "type": "error",
        "error": {"type": type_, "message": message},
        "request_id": "{request_id}",
    }


ANTHROPIC_ERRORS: Mapping[str, ErrorSpec] = {
    "model_not_found": ErrorSpec(
        404,
        ant_error("not_found_error", "model: {model}"),
        "model_not_found",
        "reference §5.2 (retired models look identical)",
        headers={"x-should-retry": "false"},
    ),
    "auth_failed": ErrorSpec(
        401,
        ant_error("authentication_error", "invalid x-api-key"),
        "auth_failed",
        "reference §5.2",
        headers={"x-should-retry": "false"},
    ),
    "auth_missing": ErrorSpec(
        401,
        ant_error("authentication_error", "x-api-key header is required"),
        "auth_failed",
        "n8n-io/n8n#37930 (full 401 body)",
        headers={"x-should-retry": "false"},
    ),
    "version_missing": ErrorSpec(
        400,
        ant_error("invalid_request_error", "anthropic-version: header is required"),
        "bad_request",
        "the API's answer without anthropic-version",
        headers={"x-should-retry": "false"},
    ),
    "access_denied": ErrorSpec(
        403,
        ant_error(
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
        "access_denied",
        "reference §5.2 (403 permission_error; text from the API docs)",
    ),
    "region_blocked": ErrorSpec(
        403,
        {"error": {"type": "forbidden", "message": "Request not allowed"}},
        "access_denied",
        "reference §5.2 (edge layer: no type:error wrapper)",
    ),
    "rate_limited": ErrorSpec(
        429,
        ant_error(
            "rate_limit_error",
            "This request would exceed the rate limit for your organization of 50 requests per "
            "minute. For details, refer to: https://docs.anthropic.com/en/api/rate-limits. You "
            "can see the response headers for current usage. Please reduce the prompt length or "
            "the maximum tokens requested, or try again later. You may also contact sales at "
            "https://www.anthropic.com/contact-sales to discuss your options for a rate limit "
            "increase.",
        ),
        "rate_limited",
        "FoundationAgents/OpenManus#746 (text, tokens variant)",
        headers={
            "retry-after": "{retry_s}",
            "x-should-retry": "true",
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": "2026-01-01T00:00:20Z",
        },
    ),
    "overloaded": ErrorSpec(
        529,
        ant_error("overloaded_error", "Overloaded"),
        "overloaded",
        "anthropics/anthropic-sdk-typescript#616 (status, headers, body)",
        headers={"x-should-retry": "true"},
    ),
    "server_error": ErrorSpec(
        500,
        ant_error("api_error", "Internal server error"),
        "server_error",
        "reference §5.2",
        headers={"x-should-retry": "true"},
    ),
    "timeout": ErrorSpec(
        504,
        ant_error("timeout_error", "Request timeout"),
        "server_error",
        "reference §5.2 (504 timeout_error; text assumed)",
        note="the API's own timeout: the request reached it, so a server error, not ours",
    ),
    "quota_exhausted": ErrorSpec(
        400,
        ant_error(
            "invalid_request_error",
            "Your credit balance is too low to access the Anthropic API. Please go to Plans & "
            "Billing to upgrade or purchase credits.",
        ),
        "quota_exhausted",
        "anthropics/claude-code#66314 (full 400 body)",
        headers={"x-should-retry": "false"},
        note="billing exhaustion is a 400 here",
    ),
    "billing_error": ErrorSpec(
        402,
        ant_error("billing_error", "Your account has a billing issue. Please check your plan."),
        "quota_exhausted",
        "reference §5.2 (402 billing_error exists; text assumed)",
    ),
    "request_too_large": ErrorSpec(
        413,
        ant_error("request_too_large", "Request exceeds the maximum allowed number of bytes."),
        "bad_request",
        "reference §5.2 (413 from the edge over 32 MB)",
    ),
    "bad_request": ErrorSpec(
        400,
        ant_error("invalid_request_error", "Expecting value: line 1 column 1 (char 0)"),
        "bad_request",
        "the API's answer to a body that is not JSON (text assumed)",
    ),
    "max_tokens_missing": ErrorSpec(
        400,
        ant_error("invalid_request_error", "max_tokens: Field required"),
        "bad_request",
        "reference §3 (max_tokens is required)",
    ),
    "messages_missing": ErrorSpec(
        400,
        ant_error("invalid_request_error", "messages: Field required"),
        "bad_request",
        "the API's answer without messages",
    ),
    "not_found_route": ErrorSpec(
        404,
        ant_error("not_found_error", "Not Found"),
        "bad_request",
        "the API's answer to an unknown path",
    ),
}


_ACCOUNT_ERRORS = frozenset({"quota_exhausted", "billing_error", "access_denied", "auth_failed"})


def _event(name: str, data: dict[str, Any]) -> bytes:
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"event: {name}\ndata: {payload}\n\n".encode()


def _display_name(model_id: str) -> str:
    words = model_id.replace("claude-", "Claude ").replace("-", " ").split()
    return " ".join(w.capitalize() if not w[0].isdigit() else w for w in words if not w.isdigit())


class FakeAnthropic(FamilyFake):
    """api.anthropic.com."""

    family = "anthropic"
    ERRORS: ClassVar[Mapping[str, ErrorSpec]] = ANTHROPIC_ERRORS
    DEFAULT_LIMIT = 20
    max_page_size = 1000
    """The most entries a page holds whatever `limit` asks (lower it to force pagination)."""

    def install_routes(self) -> None:
        self.server.route("GET", "/v1/models", self.serve_catalog)
        self.server.route("GET", "/v1/models/{model}", self._serve_one_model)
        self.server.route("POST", "/v1/messages", self._serve_messages)
        self.server.route("POST", "/v1/messages/count_tokens", self._serve_count_tokens)

    def is_generation(self, request: Request) -> bool:
        return request.method == "POST" and request.path == "/v1/messages"

    def check_auth(self, request: Request) -> Reply | None:
        if self.key is not None:
            key = request.headers.get("x-api-key")
            if key is None:
                return self.error_reply("auth_missing")
            if key != self.key:
                return self.error_reply("auth_failed")
        if "anthropic-version" not in request.headers:
            return self.error_reply("version_missing")
        return None

    def response_headers(self, seq: int = 0) -> dict[str, str]:
        return {
            "request-id": f"req_fake{seq:020d}",
            "anthropic-organization-id": "00000000-fake-4000-8000-000000000000",
        }

    # -- catalog

    def catalog_entry(self, model: Model) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "type": "model",
            "id": model.id,
            "display_name": _display_name(model.id),
            "created_at": "2025-09-29T00:00:00Z",
        }
        entry.update(model.meta)
        return entry

    def catalog_reply(self, request: Request) -> Reply:
        entries = [self.catalog_entry(m) for m in self.models.values() if m.listed]
        raw_limit = request.query_value("limit")
        try:
            limit = int(raw_limit) if raw_limit is not None else self.DEFAULT_LIMIT
        except ValueError:
            limit = -1
        if not 1 <= limit <= 1000:
            return self.error_reply(
                "bad_request", message="limit: Input should be greater than or equal to 1"
            )
        limit = min(limit, self.max_page_size)
        ids = [e["id"] for e in entries]
        after, before = request.query_value("after_id"), request.query_value("before_id")
        if after is not None:
            start = ids.index(after) + 1 if after in ids else len(ids)
            page = entries[start : start + limit]
            has_more = start + limit < len(entries)
        elif before is not None:
            end = ids.index(before) if before in ids else 0
            page = entries[max(0, end - limit) : end]
            has_more = end - limit > 0
        else:
            page = entries[:limit]
            has_more = limit < len(entries)
        body = {
            "data": page,
            "has_more": has_more,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
        }
        return json_reply(body, headers=self.response_headers())

    def _serve_one_model(self, request: Request) -> Reply:
        return self.serve_retrieve(request, request.path_params["model"])

    def retrieved(self, model_id: str) -> Model | None:
        """An alias resolves: an unlisted model served as a listed one (`Model(
        "claude-sonnet-4-5", served_as="claude-sonnet-4-5-20250929", listed=False)`) answers
        with the model it points at, as `GET /v1/models/{alias}` does."""
        model = self.models.get(model_id)
        if model is not None and not model.listed and model.served_as:
            return super().retrieved(model.served_as)
        return super().retrieved(model_id)

    def retrieve_reply(self, model: Model) -> Reply:
        return json_reply(self.catalog_entry(model), headers=self.response_headers())

    def _serve_count_tokens(self, request: Request) -> Reply:
        denied = self.check_auth(request)
        if denied is not None:
            return denied
        try:
            body = request.json()
        except ValueError:
            return self.error_reply("bad_request")
        model_id = str(body.get("model", ""))
        # count_tokens validates the key and the model and fails while billing is blocked
        # (reference §3), but it does not use up a scripted generation.
        behaviour = self.peek_behaviour(model_id)
        if (
            behaviour is not None
            and behaviour.kind == "error"
            and behaviour.name in _ACCOUNT_ERRORS
        ):
            return self.error_reply(behaviour.name, model=model_id, **behaviour.params)
        unlisted = (
            behaviour is not None and behaviour.kind == "unlisted" and not behaviour.works_unlisted
        )
        if unlisted or (behaviour is None and not self.serves(model_id)):
            return self.error_reply("model_not_found", model=model_id)
        tokens = max(1, len(json.dumps(body.get("messages", ""))) // 4)
        return json_reply({"input_tokens": tokens}, headers=self.response_headers())

    # -- generation

    def _serve_messages(self, request: Request) -> Reply:
        try:
            stream = request.json().get("stream") is True
        except (ValueError, AttributeError):
            stream = False
        return self.serve_generation(request, None, stream)

    def validate(self, request: Request, body: dict[str, Any], stream: bool) -> Reply | None:
        if "max_tokens" not in body:
            return self.error_reply("max_tokens_missing")
        if "messages" not in body:
            return self.error_reply("messages_missing")
        return None

    def max_tokens_of(self, body: dict[str, Any]) -> int | None:
        value = body.get("max_tokens")
        return value if isinstance(value, int) else None

    def stop_reason(self, ctx: GenContext) -> str:
        return {"stop": "end_turn", "length": "max_tokens", "filter": "refusal"}[ctx.finish]

    def usage(self, ctx: GenContext, output_tokens: int) -> dict[str, Any]:
        return {
            "input_tokens": ctx.prompt_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": output_tokens,
            "service_tier": "standard",
        }

    def content_blocks(self, ctx: GenContext) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if ctx.reasoning_pieces:
            blocks.append(
                {"type": "thinking", "thinking": ctx.reasoning, "signature": "EqQBCkYIBxgCKkDfake"}
            )
        if ctx.pieces:
            blocks.append({"type": "text", "text": ctx.text})
        return blocks

    def completion_reply(self, ctx: GenContext) -> Reply:
        body = {
            "id": f"msg_fake{ctx.seq:020d}",
            "type": "message",
            "role": "assistant",
            "model": ctx.served_model,
            "content": self.content_blocks(ctx),
            "stop_reason": self.stop_reason(ctx),
            "stop_sequence": None,
            "usage": self.usage(ctx, ctx.output_tokens),
        }
        return json_reply(body, headers=self.response_headers(ctx.seq))

    def stream_plan(self, ctx: GenContext) -> StreamPlan:
        frames: list[Frame] = []
        message: dict[str, Any] = {
            "id": f"msg_fake{ctx.seq:020d}",
            "type": "message",
            "role": "assistant",
            "model": ctx.served_model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": self.usage(ctx, 1),
        }
        frames.append(
            Frame(_event("message_start", {"type": "message_start", "message": message}), "head")
        )
        index = 0
        pinged = False

        def ping() -> None:
            nonlocal pinged
            if not pinged:
                frames.append(Frame(_event("ping", {"type": "ping"}), "head"))
                pinged = True

        if ctx.reasoning_pieces:
            start = {"type": "thinking", "thinking": "", "signature": ""}
            frames.append(
                Frame(
                    _event(
                        "content_block_start",
                        {"type": "content_block_start", "index": index, "content_block": start},
                    ),
                    "head",
                )
            )
            ping()
            for piece in ctx.reasoning_pieces:
                delta = {"type": "thinking_delta", "thinking": piece}
                frames.append(
                    Frame(
                        _event(
                            "content_block_delta",
                            {"type": "content_block_delta", "index": index, "delta": delta},
                        )
                    )
                )
            signature = {"type": "signature_delta", "signature": "EqQBCkYIBxgCKkDfake"}
            frames.append(
                Frame(
                    _event(
                        "content_block_delta",
                        {"type": "content_block_delta", "index": index, "delta": signature},
                    ),
                    "head",
                )
            )
            frames.append(
                Frame(
                    _event("content_block_stop", {"type": "content_block_stop", "index": index}),
                    "head",
                )
            )
            index += 1
        if ctx.pieces:
            start = {"type": "text", "text": ""}
            frames.append(
                Frame(
                    _event(
                        "content_block_start",
                        {"type": "content_block_start", "index": index, "content_block": start},
                    ),
                    "head",
                )
            )
            ping()
            for piece in ctx.pieces:
                delta = {"type": "text_delta", "text": piece}
                frames.append(
                    Frame(
                        _event(
                            "content_block_delta",
                            {"type": "content_block_delta", "index": index, "delta": delta},
                        )
                    )
                )
            frames.append(
                Frame(
                    _event("content_block_stop", {"type": "content_block_stop", "index": index}),
                    "end",
                )
            )
        ping()
        delta_body = {
            "type": "message_delta",
            "delta": {"stop_reason": self.stop_reason(ctx), "stop_sequence": None},
            "usage": {"output_tokens": ctx.output_tokens},
        }
        frames.append(Frame(_event("message_delta", delta_body), "end"))
        frames.append(Frame(_event("message_stop", {"type": "message_stop"}), "end"))
        headers = {
            "content-type": "text/event-stream; charset=utf-8",
            "cache-control": "no-cache",
            **self.response_headers(ctx.seq),
        }
        return StreamPlan(frames=frames, headers=headers)

    def stream_error_frame(
        self, spec: ErrorSpec, model: str, plan: StreamPlan | None = None
    ) -> bytes:
        raw = self.render_error(spec, model=model).body
        try:
            error = dict(json.loads(raw).get("error", {}))
        except ValueError:
            error = {"type": "api_error", "message": raw.decode(errors="replace")}
        return _event("error", {"type": "error", "error": {"details": None, **error}})

    def malformed_frame(self) -> bytes:
        return (
            b"event: content_block_delta\n"
            b'data: {"type":"content_block_delta","index":0,"delta":{\n\n'
        )

    def invalid_json_reply(self, request: Request) -> Reply:
        return self.error_reply("bad_request")

    def unknown_route(self, request: Request) -> Reply:
        return self.error_reply("not_found_route")
