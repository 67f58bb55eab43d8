"""The LiteLLM proxy (1.108.x, no database), as measured on the real server.

* A master key is mandatory: no key → 401 `auth_error`; a *wrong* key → **400**
  `no_db_connection` (without a database the proxy cannot look keys up).
* An unknown model is **400** "Invalid model name passed in model=X" (a not-found signal that is
  not a 404).
* `/health/liveliness` → 200 `"I'm alive!"`; `/health/readiness`; routes with and without `/v1`.
* Catalog entries say `owned_by: "openai"` whatever the upstream.
* Streams (mock_response): the role arrives together with the first text, chunks have no
  `system_fingerprint`, the last chunk is `{"delta": {}, "finish_reason": "stop"}`.

`FakeLiteLLM.like_measured()` builds the proxy of `tests/realservers.py`: `gpt-4o-mini`,
`claude-3-5-haiku`, `mock-rate-limited` (429) and `mock-server-error` (500).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from tests.fakes.base import Behaviour, ErrorSpec, Frame, GenContext, Model, StreamPlan
from tests.fakes.http import Reply, Request, json_reply, text_reply
from tests.fakes.openai import FakeOpenAI, sse_frame, wants_stream

__all__ = ["LITELLM_ERRORS", "FakeLiteLLM"]

_MEASURED = "measured on litellm[proxy] 1.108.7"
_INVALID_MODEL = (
    "/chat/completions: Invalid model name passed in model={model}. Call `/v1/models` to view "
    "available models for your key."
)

LITELLM_ERRORS: Mapping[str, ErrorSpec] = {
    "model_not_found": ErrorSpec(
        400,
        {
            "error": {
                "message": _INVALID_MODEL,
                "type": "invalid_request_error",
                "param": None,
                "code": "400",
                "provider_specific_fields": {"error": _INVALID_MODEL},
            }
        },
        "model_not_found",
        _MEASURED,
    ),
    "auth_missing": ErrorSpec(
        401,
        {
            "error": {
                "message": "Authentication Error, No api key passed in.",
                "type": "auth_error",
                "param": "None",
                "code": "401",
            }
        },
        "auth_failed",
        _MEASURED,
    ),
    "auth_failed": ErrorSpec(
        400,
        {
            "error": {
                "message": "No connected db.",
                "type": "no_db_connection",
                "param": None,
                "code": "400",
            }
        },
        "bad_request",
        _MEASURED + " (no database: a wrong key cannot be looked up)",
        note="really a wrong key, but nothing in the reply says so; with a database the proxy "
        "answers 401",
    ),
    "rate_limited": ErrorSpec(
        429,
        {
            "error": {
                "message": "litellm.RateLimitError: this is a mock rate limit error\n\nLiteLLM: "
                "model group '{model}' failed with the error above. No fallback was attempted.",
                "type": "throttling_error",
                "param": None,
                "code": "429",
            }
        },
        "rate_limited",
        _MEASURED,
    ),
    "server_error": ErrorSpec(
        500,
        {
            "error": {
                "message": "litellm.InternalServerError: InternalServerError: OpenAIException - "
                "this is a mock internal server error\n\nLiteLLM: model group '{model}' failed "
                "with the error above. No fallback was attempted.",
                "type": "internal_server_error",
                "param": None,
                "code": "500",
            }
        },
        "server_error",
        _MEASURED,
    ),
    "upstream_down": ErrorSpec(
        500,
        {
            "error": {
                "message": "litellm.InternalServerError: Hosted_vllmException - Cannot connect to "
                "host 127.0.0.1:18093 ssl:default [Connect call failed ('127.0.0.1', 18093)]",
                "type": "internal_server_error",
                "param": None,
                "code": "500",
            }
        },
        "server_error",
        _MEASURED,
    ),
    "cooldown": ErrorSpec(
        429,
        {
            "error": {
                "message": "litellm.RateLimitError: No deployments available for selected model, "
                "Try again in 5 seconds. Passed model={model}. pre-call-checks=False, "
                "cooldown_list=[('fake', {'exception_received': 'litellm.NotFoundError', "
                "'status_code': '404'})]",
                "type": "throttling_error",
                "param": None,
                "code": "429",
            }
        },
        "rate_limited",
        _MEASURED + " (all_deployments_in_cooldown after an upstream 404)",
    ),
    "bad_request": ErrorSpec(
        400,
        {
            "error": {
                "message": "Invalid JSON payload",
                "type": "bad_request_error",
                "param": None,
                "code": "400",
            }
        },
        "bad_request",
        "LiteLLM error envelope (wording assumed)",
    ),
    "missing_messages": ErrorSpec(
        400,
        {
            "error": {
                "message": "litellm.BadRequestError: messages is required",
                "type": "bad_request_error",
                "param": None,
                "code": "400",
            }
        },
        "bad_request",
        "LiteLLM error envelope (wording assumed)",
    ),
    "not_found_route": ErrorSpec(404, {"detail": "Not Found"}, "bad_request", "FastAPI's 404"),
}


class FakeLiteLLM(FakeOpenAI):
    """`base_url` is `http://127.0.0.1:PORT/v1`."""

    ERRORS: ClassVar[Mapping[str, ErrorSpec]] = LITELLM_ERRORS
    owned_by = "openai"

    def __init__(
        self, *, key: str = "sk-local-test-0123456789", models: Any = (), tls: Any = None
    ) -> None:
        super().__init__(key=key, models=models, tls=tls, system_fingerprint=None)

    @classmethod
    def like_measured(cls, *, key: str = "sk-local-test-0123456789") -> FakeLiteLLM:
        fake = cls(
            key=key,
            models=["gpt-4o-mini", "claude-3-5-haiku", "mock-rate-limited", "mock-server-error"],
        )
        fake.behave("mock-rate-limited", Behaviour.error("rate_limited"))
        fake.behave("mock-server-error", Behaviour.error("server_error"))
        for model in ("gpt-4o-mini", "claude-3-5-haiku"):
            fake.behave(model, Behaviour.ok("Hello from the LiteLLM mock."))
        return fake

    def install_routes(self) -> None:
        for prefix in ("/v1", ""):
            self.server.route("GET", f"{prefix}/models", self.serve_catalog)
            self.server.route("POST", f"{prefix}/chat/completions", self._serve_chat_any)
        self.server.route(
            "GET",
            "/health/liveliness",
            lambda r: self.serve_health(r, lambda: json_reply("I'm alive!")),
        )
        self.server.route(
            "GET",
            "/health/readiness",
            lambda r: self.serve_health(
                r, lambda: json_reply({"status": "healthy", "db": "Not connected"})
            ),
        )
        self.server.route("GET", "/", lambda r: text_reply("LiteLLM: RUNNING"))

    def _serve_chat_any(self, request: Request) -> Reply:
        return self.serve_generation(request, None, wants_stream(request))

    def check_auth(self, request: Request) -> Reply | None:
        header = request.headers.get("authorization") or request.headers.get("x-api-key")
        if not header:
            return self.error_reply("auth_missing")
        token = header.partition(" ")[2].strip() if " " in header else header
        if token != self.key:
            return self.error_reply("auth_failed")
        return None

    def catalog_entry(self, model: Model) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": model.id,
            "object": "model",
            "created": 1677610602,
            "owned_by": "openai",
        }
        entry.update(model.meta)
        return entry

    def response_headers(self) -> dict[str, str]:
        return {"x-litellm-version": "1.108.7", "x-litellm-call-id": "fake-call-id"}

    def completion_reply(self, ctx: GenContext) -> Reply:
        body = {
            "id": f"chatcmpl-fake{ctx.seq:08d}",
            "created": ctx.created,
            "model": ctx.served_model,
            "object": "chat.completion",
            "choices": [
                {
                    "finish_reason": self.finish_reason(ctx),
                    "index": 0,
                    "message": {"content": ctx.text, "role": "assistant"},
                }
            ],
            "usage": {"completion_tokens": 20, "prompt_tokens": 10, "total_tokens": 30},
        }
        return json_reply(body, headers=self.response_headers())

    def stream_plan(self, ctx: GenContext) -> StreamPlan:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice: dict[str, Any] = {"index": 0, "delta": delta}
            if finish is not None:
                choice["finish_reason"] = finish
            return sse_frame(
                {
                    "id": f"chatcmpl-fake{ctx.seq:08d}",
                    "object": "chat.completion.chunk",
                    "created": ctx.created,
                    "model": ctx.served_model,
                    "choices": [choice],
                }
            )

        frames: list[Frame] = []
        for i, piece in enumerate(ctx.pieces):
            delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
            frames.append(Frame(chunk(delta)))
        frames.append(Frame(chunk({}, self.finish_reason(ctx)), "end"))
        frames.append(Frame(b"data: [DONE]\n\n", "end"))
        headers = {"content-type": "text/event-stream; charset=utf-8", **self.response_headers()}
        return StreamPlan(frames=frames, headers=headers)

    def unknown_route(self, request: Request) -> Reply:
        return self.error_reply("not_found_route")
