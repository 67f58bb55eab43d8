"""OpenAI chat-completions wire format (api.openai.com and OpenAI-compatible vendors).

`FakeOpenAI` speaks `GET /v1/models`, `GET /v1/models/{id}`, `POST /v1/chat/completions`
and `POST /v1/responses` (plain and SSE; `tests/fakes/responses.py`) with
`Authorization: Bearer`; a model in `fake.responses_only` answers chat requests with
OpenAI's 404 "only supported in v1/responses". Vendor variants change the catalog shape, the
path prefix and the error library: `FakeGroq` (`active`, `/openai/v1`), `FakeTogether` (a bare
JSON array), `FakeMistral` (`deprecation` fields, 400 `invalid_model`), `FakeOpenRouter`
(`expiration_date`, `/api/v1`, an unauthenticated list), `FakeDeepSeek` (402 balance),
`FakeMoonshot` (429 `engine_overloaded_error`).

Shapes follow live recordings in openai/openai-python (`.inline-snapshot/external/*.bin`) and
error bodies quoted in public issue threads; `library[name].source` says which.

    fake = FakeOpenAI(key="sk-test", models=["gpt-4o-mini", Model("gpt-4", shutdown_date=...)])
    with fake:
        httpx.post(f"{fake.base_url}/chat/completions", headers={"authorization": ...}, ...)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from tests.fakes import responses
from tests.fakes.base import (
    ErrorSpec,
    FamilyFake,
    Frame,
    GenContext,
    Model,
    StreamPlan,
    model_in_body,
)
from tests.fakes.http import Reply, Request, json_reply

__all__ = [
    "OPENAI_ERRORS",
    "FakeDeepSeek",
    "FakeGroq",
    "FakeMistral",
    "FakeMoonshot",
    "FakeOpenAI",
    "FakeOpenRouter",
    "FakeTogether",
    "oai_error",
]

CREATED = 1721172741  # a fixed `created` for catalog entries


def oai_error(message: str, type_: str | None, code: str | None, param: str | None = None) -> Any:
    """The OpenAI error envelope."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


_ISSUE = "public issue threads quoting the API"
_RATE_HEADERS = {
    "x-ratelimit-limit-requests": "3",
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-reset-requests": "20s",
    "x-ratelimit-limit-tokens": "40000",
    "x-ratelimit-remaining-tokens": "39985",
    "x-ratelimit-reset-tokens": "22ms",
    "x-should-retry": "true",
}
_CLOUDFLARE_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    "</body>\r\n</html>\r\n"
)

OPENAI_ERRORS: Mapping[str, ErrorSpec] = {
    "model_not_found": ErrorSpec(
        404,
        oai_error(
            "The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        ),
        "model_not_found",
        "openai/openai-agents-python#458 (404 body)",
    ),
    "model_deprecated": ErrorSpec(
        404,
        oai_error(
            "The model `{model}` has been deprecated, learn more here: "
            "https://platform.openai.com/docs/deprecations",
            "invalid_request_error",
            "model_not_found",
        ),
        "model_deprecated",
        "reference §5.2 (retired legacy models: same code, 'has been deprecated' text)",
    ),
    "auth_failed": ErrorSpec(
        401,
        oai_error(
            "Incorrect API key provided: sk-wrong****0000. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        ),
        "auth_failed",
        "continuedev/continue#9634 (401 text); reference §5.2 (code)",
    ),
    "auth_missing": ErrorSpec(
        401,
        oai_error(
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as "
            "the password field (with blank username) if you're accessing the API from your "
            "browser and are prompted for a username and password. You can obtain an API key "
            "from https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            None,
        ),
        "auth_failed",
        "chatboxai/chatbox#98 (full 401 body)",
    ),
    "access_denied": ErrorSpec(
        403,
        oai_error(
            "Project `{project}` does not have access to model `{model}`",
            "invalid_request_error",
            "model_not_found",
        ),
        "access_denied",
        "cursor/cursor#2953 (full 403 body)",
        note="403 + code model_not_found is an entitlement problem, not a missing model",
    ),
    "region_blocked": ErrorSpec(
        403,
        {
            "error": {
                "code": "unsupported_country_region_territory",
                "message": "Country, region, or territory not supported",
                "param": None,
                "type": "request_forbidden",
            }
        },
        "access_denied",
        "aurora-develop/Duck2api#33 (full 403 body)",
    ),
    "rate_limited": ErrorSpec(
        429,
        oai_error(
            "Rate limit reached for {model} in organization org-FakeOrg0123456789 on requests "
            "per min (RPM): Limit 3, Used 3, Requested 1. Please try again in {retry_s}s. "
            "Visit https://platform.openai.com/account/rate-limits to learn more.",
            "requests",
            "rate_limit_exceeded",
        ),
        "rate_limited",
        "OpenBMB/ChatDev#26 (text); reference §5.2 (type/code)",
        headers=_RATE_HEADERS,
    ),
    "rate_limited_tokens": ErrorSpec(
        429,
        oai_error(
            "Rate limit reached for {model} in organization org-FakeOrg0123456789 on tokens per "
            "min (TPM): Limit 30000, Used 28770, Requested 3082. Please try again in 3.704s. "
            "Visit https://platform.openai.com/account/rate-limits to learn more.",
            "tokens",
            "rate_limit_exceeded",
        ),
        "rate_limited",
        "FoundationAgents/MetaGPT#523 (text)",
        headers=_RATE_HEADERS,
    ),
    "quota_exhausted": ErrorSpec(
        429,
        oai_error(
            "You exceeded your current quota, please check your plan and billing details. For "
            "more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors.",
            "insufficient_quota",
            "insufficient_quota",
        ),
        "quota_exhausted",
        "ChatGPTNextWeb/NextChat#3664 (full 429 body)",
        note="a 429 that retrying cannot fix",
    ),
    "overloaded": ErrorSpec(
        503,
        oai_error(
            "That model is currently overloaded with other requests. You can retry your "
            "request, or contact us through our help center at help.openai.com if the error "
            "persists. (Please include the request ID {request_id} in your message.)",
            "server_error",
            None,
        ),
        "overloaded",
        "reference §5.2 (older wording)",
        headers={"x-should-retry": "true"},
    ),
    "server_error": ErrorSpec(
        500,
        oai_error(
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
        ),
        "server_error",
        "LlmKira/Openaibot#125, langbot-app/LangBot#126 (text)",
    ),
    "bad_gateway": ErrorSpec(
        502,
        None,
        "server_error",
        "Cloudflare's edge page (HTML, not JSON)",
        headers={"content-type": "text/html", "server": "cloudflare"},
        raw_body=_CLOUDFLARE_502,
    ),
    "context_length_exceeded": ErrorSpec(
        400,
        oai_error(
            "This model's maximum context length is 128000 tokens. However, your messages "
            "resulted in 130012 tokens. Please reduce the length of the messages.",
            "invalid_request_error",
            "context_length_exceeded",
            "messages",
        ),
        "bad_request",
        "reference §5.2 (request too large)",
    ),
    "unsupported_parameter": ErrorSpec(
        400,
        oai_error(
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
            "'max_completion_tokens' instead.",
            "invalid_request_error",
            "unsupported_parameter",
            "max_tokens",
        ),
        "bad_request",
        "griptape-ai/ComfyUI-Griptape#312, microsoft/vscode-copilot-release#8065 (full body)",
        headers={"x-should-retry": "false"},
        note="o-series and gpt-5 on api.openai.com: retry with max_completion_tokens",
    ),
    "content_filtered": ErrorSpec(
        400,
        oai_error(
            "Invalid prompt: your prompt was flagged as potentially violating our usage policy. "
            "Please try again with a different prompt: "
            "https://platform.openai.com/docs/guides/reasoning#advice-on-prompting",
            "invalid_request_error",
            "invalid_prompt",
        ),
        "content_filtered",
        "reference §5.2 ('reportedly', unverified)",
    ),
    "bad_request": ErrorSpec(
        400,
        oai_error(
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
            "but what was sent was not valid JSON. If you have trouble figuring out how to fix "
            "this, please contact us through our help center at help.openai.com.)",
            "invalid_request_error",
            None,
        ),
        "bad_request",
        "OpenAI's answer to a body that is not JSON",
    ),
    "missing_messages": ErrorSpec(
        400,
        oai_error(
            "Missing required parameter: 'messages'.",
            "invalid_request_error",
            "missing_required_parameter",
            "messages",
        ),
        "bad_request",
        "OpenAI's answer to a chat request without messages",
    ),
    "not_found_route": ErrorSpec(
        404,
        oai_error("Invalid URL ({model})", "invalid_request_error", None),
        "bad_request",
        "OpenAI's answer to an unknown path ({model} is the method and path)",
    ),
}
OPENAI_ERRORS = {
    **OPENAI_ERRORS,
    "request_too_large": OPENAI_ERRORS["context_length_exceeded"],
}


def _vendor(overrides: Mapping[str, ErrorSpec]) -> Mapping[str, ErrorSpec]:
    """OpenAI's library with a vendor's own errors on top; a vendor that words its bad-key
    error differently uses that wording for a missing key too unless it says otherwise."""
    merged = {**OPENAI_ERRORS, **overrides}
    if "auth_failed" in overrides and "auth_missing" not in overrides:
        merged["auth_missing"] = overrides["auth_failed"]
    return merged


class FakeOpenAI(FamilyFake):
    """api.openai.com: `base_url` is `http://127.0.0.1:PORT/v1` (the SDK's convention)."""

    family = "openai"
    ERRORS: ClassVar[Mapping[str, ErrorSpec]] = OPENAI_ERRORS
    prefix: ClassVar[str] = "/v1"
    owned_by: ClassVar[str] = "system"
    list_needs_auth: ClassVar[bool] = True
    retrieve_route: ClassVar[bool] = True
    """Whether `GET {prefix}/models/{id}` exists (vLLM and llama.cpp do not route it)."""

    def __init__(
        self,
        *,
        key: str | None = None,
        models: Any = (),
        tls: Any = None,
        system_fingerprint: str | None = "fp_fake0c1d2e3",
    ) -> None:
        self.system_fingerprint = system_fingerprint
        self.responses_only: set[str] = set()
        """Models served only on `/responses` (a chat request gets the real 404)."""
        super().__init__(key=key, models=models, tls=tls)

    @property
    def base_url(self) -> str:
        return self.server.url + self.prefix

    # -- routes

    def install_routes(self) -> None:
        for prefix in self.prefixes():
            self.server.route("GET", f"{prefix}/models", self.serve_catalog)
            if self.retrieve_route:
                self.server.route("GET", f"{prefix}/models/{{model:path}}", self._serve_one_model)
            self.server.route("POST", f"{prefix}/chat/completions", self._serve_chat)
            self.server.route("POST", f"{prefix}{responses.PATH}", self._serve_responses)

    def prefixes(self) -> list[str]:
        return [self.prefix]

    def _serve_chat(self, request: Request) -> Reply:
        if model_in_body(request) in self.responses_only and self.check_auth(request) is None:
            return json_reply(responses.RESPONSES_ONLY_BODY, status=404)
        stream = wants_stream(request)
        return self.serve_generation(request, None, stream)

    def _serve_responses(self, request: Request) -> Reply:
        return self.serve_generation(request, None, wants_stream(request))

    @staticmethod
    def on_responses(request: Request) -> bool:
        return request.path.endswith(responses.PATH)

    def _serve_one_model(self, request: Request) -> Reply:
        return self.serve_retrieve(request, request.path_params["model"])

    def retrieve_reply(self, model: Model) -> Reply:
        return json_reply(self.catalog_entry(model), headers=self.response_headers())

    def is_generation(self, request: Request) -> bool:
        return request.method == "POST" and (
            request.path.endswith("/chat/completions") or self.on_responses(request)
        )

    # -- auth

    def check_auth(self, request: Request) -> Reply | None:
        if self.key is None:
            return None
        if (
            request.method == "GET"
            and request.path.endswith("/models")
            and not self.list_needs_auth
        ):
            return None
        header = request.headers.get("authorization", "")
        if not header:
            return self.error_reply("auth_missing")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.key:
            return self.error_reply("auth_failed")
        return None

    # -- catalog

    def catalog_entry(self, model: Model) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": model.id,
            "object": "model",
            "created": CREATED,
            "owned_by": self.owned_by,
        }
        entry.update(model.meta)
        return entry

    def listed_entries(self) -> list[dict[str, Any]]:
        return [self.catalog_entry(m) for m in self.models.values() if m.listed]

    def catalog_reply(self, request: Request) -> Reply:
        return json_reply(
            {"object": "list", "data": self.listed_entries()}, headers=self.response_headers()
        )

    # -- generation

    def response_headers(self) -> dict[str, str]:
        return {
            "x-request-id": f"req_{hashlib.sha256(str(id(self)).encode()).hexdigest()[:24]}",
            "openai-processing-ms": "42",
            "openai-version": "2020-10-01",
        }

    def max_tokens_of(self, body: dict[str, Any]) -> int | None:
        for name in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
            value = body.get(name)
            if isinstance(value, int):
                return value
        return None

    def validate(self, request: Request, body: dict[str, Any], stream: bool) -> Reply | None:
        if self.on_responses(request):
            refused = responses.below_minimum(body)
            return json_reply(refused, status=400) if refused is not None else None
        if "messages" not in body:
            return self.error_reply("missing_messages")
        return None

    def extra_params_reply(self, request: Request, body: dict[str, Any]) -> Reply | None:
        if "max_tokens" in body and not self.on_responses(request):
            return self.error_reply("unsupported_parameter", model=str(body.get("model")))
        return None

    def finish_reason(self, ctx: GenContext) -> str:
        return {"stop": "stop", "length": "length", "filter": "content_filter"}[ctx.finish]

    def usage(self, ctx: GenContext) -> dict[str, Any]:
        return {
            "prompt_tokens": ctx.prompt_tokens,
            "completion_tokens": ctx.output_tokens,
            "total_tokens": ctx.prompt_tokens + ctx.output_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": len(ctx.reasoning_pieces),
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def completion_reply(self, ctx: GenContext) -> Reply:
        if self.on_responses(ctx.request):
            return responses.completion_reply(ctx, self.response_headers())
        message: dict[str, Any] = {
            "role": "assistant",
            "content": ctx.text if ctx.variant not in ("filtered", "prompt_filtered") else None,
            "refusal": None,
            "annotations": [],
        }
        if ctx.reasoning_pieces:
            message["reasoning_content"] = ctx.reasoning
        body: dict[str, Any] = {
            "id": f"chatcmpl-fake{ctx.seq:08d}",
            "object": "chat.completion",
            "created": ctx.created,
            "model": ctx.served_model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": self.finish_reason(ctx),
                }
            ],
            "usage": self.usage(ctx),
            "service_tier": "default",
            "system_fingerprint": self.system_fingerprint,
        }
        body = self.decorate_completion(body, ctx)
        return json_reply(body, headers=self.response_headers(), indent=2)

    def decorate_completion(self, body: dict[str, Any], ctx: GenContext) -> dict[str, Any]:
        return body

    def chunk(self, ctx: GenContext, choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": f"chatcmpl-fake{ctx.seq:08d}",
            "object": "chat.completion.chunk",
            "created": ctx.created,
            "model": ctx.served_model,
            "service_tier": "default",
            "system_fingerprint": self.system_fingerprint,
            "choices": choices,
        }
        out.update(extra)
        return out

    def decorate_chunk(self, chunk: dict[str, Any], ctx: GenContext, kind: str) -> dict[str, Any]:
        return chunk

    def head_frames(self, ctx: GenContext) -> list[Frame]:
        return []

    def stream_plan(self, ctx: GenContext) -> StreamPlan:
        if self.on_responses(ctx.request):
            return responses.stream_plan(ctx, self.response_headers())
        options = ctx.body.get("stream_options")
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        usage_extra: dict[str, Any] = {"usage": None} if include_usage else {}

        def choice(delta: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
            return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]

        def frame(chunk: dict[str, Any], kind: str) -> Frame:
            chunk = self.decorate_chunk(chunk, ctx, kind)
            return Frame(sse_frame(chunk), kind)  # type: ignore[arg-type]

        frames = self.head_frames(ctx)
        role = {"role": "assistant", "content": "", "refusal": None}
        frames.append(frame(self.chunk(ctx, choice(role), **usage_extra), "head"))
        for piece in ctx.reasoning_pieces:
            delta = {"content": None, "reasoning_content": piece}
            frames.append(frame(self.chunk(ctx, choice(delta), **usage_extra), "content"))
        for piece in ctx.pieces:
            frames.append(
                frame(self.chunk(ctx, choice({"content": piece}), **usage_extra), "content")
            )
        finish = choice({}, self.finish_reason(ctx))
        frames.append(frame(self.chunk(ctx, finish, **usage_extra), "end"))
        if include_usage:
            frames.append(frame(self.chunk(ctx, [], usage=self.usage(ctx)), "end"))
        frames.append(Frame(b"data: [DONE]\n\n", "end"))
        headers = {"content-type": "text/event-stream; charset=utf-8", **self.response_headers()}
        return StreamPlan(frames=frames, headers=headers)

    def stream_error_frame(
        self, spec: ErrorSpec, model: str, plan: StreamPlan | None = None
    ) -> bytes:
        reply = self.render_error(spec, model=model)
        if responses.is_responses_plan(plan):
            return responses.error_event(reply.body)
        return b"data: " + reply.body.replace(b"\n", b"") + b"\n\n"

    def malformed_frame(self) -> bytes:
        return (
            b'data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","choices":[{"delta":\n\n'
        )

    def unknown_route(self, request: Request) -> Reply:
        return self.error_reply("not_found_route", model=f"{request.method} {request.path}")


def wants_stream(request: Request) -> bool:
    try:
        body = request.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("stream") is True


def sse_frame(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


# --- OpenAI-compatible vendors ------------------------------------------------------------------


class FakeGroq(FakeOpenAI):
    """api.groq.com: `/openai/v1`, catalog entries carry `active` and `context_window`; a
    retired model answers 400 `model_decommissioned` (`Behaviour.error("model_deprecated")`)."""

    prefix = "/openai/v1"
    owned_by = "Meta"
    ERRORS = _vendor(
        {
            "model_not_found": ErrorSpec(
                404,
                {
                    "error": {
                        "message": "The model `{model}` does not exist or you do not have "
                        "access to it.",
                        "type": "invalid_request_error",
                        "code": "model_not_found",
                    }
                },
                "model_not_found",
                "reference §5.1 (Groq leaves out `param`) and §5.2",
            ),
            "model_deprecated": ErrorSpec(
                400,
                {
                    "error": {
                        "message": "The model `{model}` has been decommissioned and is no "
                        "longer supported. Please refer to "
                        "https://console.groq.com/docs/deprecations for a recommendation on which "
                        "model to use instead.",
                        "type": "invalid_request_error",
                        "code": "model_decommissioned",
                    }
                },
                "model_deprecated",
                "atiilla/sqlmap-ai#3 (full 400 body)",
            ),
            "auth_failed": ErrorSpec(
                401,
                {
                    "error": {
                        "message": "Invalid API Key",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                    }
                },
                "auth_failed",
                "Groq's 401 (assumed from its OpenAI-style envelope)",
            ),
            "rate_limited": ErrorSpec(
                429,
                {
                    "error": {
                        "message": "Rate limit reached for model `{model}` in organization "
                        "`org_fake0123456789` service tier `on_demand` on tokens per minute (TPM): "
                        "Limit 6000, Used 5958, Requested 1096. Please try again in 10.54s. "
                        "Need more tokens? Upgrade to Dev Tier today at "
                        "https://console.groq.com/settings/billing",
                        "type": "tokens",
                        "code": "rate_limit_exceeded",
                    }
                },
                "rate_limited",
                "reference §5.2 (Groq TPM text)",
                headers={"retry-after": "11"},
            ),
            "request_too_large": ErrorSpec(
                413,
                {
                    "error": {
                        "message": "Request too large for model `{model}` in organization "
                        "`org_fake0123456789` service tier `on_demand` on tokens per minute (TPM): "
                        "Limit 6000, Requested 10385, please reduce your message size and try "
                        "again. Need more tokens? Upgrade to Dev Tier today at "
                        "https://console.groq.com/settings/billing",
                        "type": "tokens",
                        "code": "rate_limit_exceeded",
                    }
                },
                "rate_limited",
                "reference §5.2 (413 rate_limit_exceeded: one request over the whole TPM budget)",
            ),
        }
    )

    def catalog_entry(self, model: Model) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": model.id,
            "object": "model",
            "created": CREATED,
            "owned_by": self.owned_by,
            "active": True,
            "context_window": 131072,
            "public_apps": None,
            "max_completion_tokens": 32768,
        }
        entry.update(model.meta)
        return entry


class FakeTogether(FakeOpenAI):
    """api.together.xyz: `GET /v1/models` answers a bare JSON array."""

    ERRORS = _vendor(
        {
            "model_not_found": ErrorSpec(
                400,
                {
                    "id": "fake-together-req",
                    "error": {
                        "message": "Unable to access model {model}. Please visit "
                        "https://api.together.ai/models to view the list of supported models.",
                        "type": "invalid_request_error",
                        "param": "model",
                        "code": "model_not_available",
                    },
                },
                "model_not_found",
                "reference §5.1 (top-level id) and §5.2 (400 model_not_available)",
            ),
            "auth_failed": ErrorSpec(
                401,
                {
                    "id": "fake-together-req",
                    "error": {
                        "message": "Invalid API key provided. You can find your API key at "
                        "https://api.together.xyz/settings/api-keys.",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": "invalid_api_key",
                    },
                },
                "auth_failed",
                "Together's 401 (assumed from its OpenAI-style envelope)",
            ),
        }
    )

    def catalog_entry(self, model: Model) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": model.id,
            "object": "model",
            "created": CREATED,
            "type": "chat",
            "running": False,
            "display_name": model.id.split("/")[-1],
            "organization": model.id.split("/")[0] if "/" in model.id else "Together",
            "link": f"https://huggingface.co/{model.id}",
            "license": "llama3.3",
            "context_length": 131072,
            "config": {"chat_template": None, "stop": ["<|eot_id|>"], "bos_token": None},
            "pricing": {"hourly": 0, "input": 0.88, "output": 0.88, "base": 0, "finetune": 0},
        }
        entry.update(model.meta)
        return entry

    def catalog_reply(self, request: Request) -> Reply:
        return json_reply(self.listed_entries(), headers=self.response_headers())


class FakeMistral(FakeOpenAI):
    """api.mistral.ai: catalog entries carry `deprecation`, `deprecation_replacement_model`,
    `archived`; an unknown model is a 400 `invalid_model` (code "1500")."""

    owned_by = "mistralai"
    ERRORS = _vendor(
        {
            "model_not_found": ErrorSpec(
                400,
                {
                    "object": "error",
                    "message": "Invalid model: {model}",
                    "type": "invalid_model",
                    "param": None,
                    "code": "1500",
                },
                "model_not_found",
                "tmc/langchaingo#1233 (full 400 body)",
            ),
            "auth_failed": ErrorSpec(
                401, {"detail": "Unauthorized"}, "auth_failed", "reference §5.2 (Mistral 401)"
            ),
            "auth_missing": ErrorSpec(
                401, {"detail": "Unauthorized"}, "auth_failed", "reference §5.2 (Mistral 401)"
            ),
            "rate_limited": ErrorSpec(
                429,
                {
                    "object": "error",
                    "message": "Rate limit exceeded",
                    "type": "rate_limited",
                    "param": None,
                    "code": "1300",
                },
                "rate_limited",
                "reference §5.2 (429 rate_limited, code 1300)",
            ),
            "rate_limited_gateway": ErrorSpec(
                429,
                {"message": "Requests rate limit exceeded"},
                "rate_limited",
                "reference §5.2 (gateway form)",
            ),
        }
    )

    def catalog_entry(self, model: Model) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": model.id,
            "object": "model",
            "created": CREATED,
            "owned_by": self.owned_by,
            "capabilities": {
                "completion_chat": True,
                "completion_fim": False,
                "function_calling": True,
                "fine_tuning": False,
                "vision": False,
                "classification": False,
            },
            "name": model.id,
            "description": f"Fake Mistral model {model.id}",
            "max_context_length": 131072,
            "aliases": [],
            "deprecation": None,
            "deprecation_replacement_model": None,
            "default_model_temperature": 0.3,
            "type": "base",
        }
        entry.update(model.meta)
        return entry


class FakeOpenRouter(FakeOpenAI):
    """openrouter.ai: `/api/v1`, the model list needs no key, entries carry
    `expiration_date`; errors are `{"error": {"message", "code": <int>}, "user_id"}`."""

    prefix = "/api/v1"
    list_needs_auth = False
    ERRORS = _vendor(
        {
            "model_not_found": ErrorSpec(
                400,
                {
                    "error": {"message": "{model} is not a valid model ID", "code": 400},
                    "user_id": "user_fake",
                },
                "model_not_found",
                "reference §5.1/§5.2",
            ),
            "no_endpoints": ErrorSpec(
                404,
                {
                    "error": {"message": "No endpoints found for {model}.", "code": 404},
                    "user_id": "user_fake",
                },
                "model_not_found",
                "reference §5.2",
            ),
            "quota_exhausted": ErrorSpec(
                402,
                {
                    "error": {
                        "message": "Insufficient credits. Add more using "
                        "https://openrouter.ai/settings/credits",
                        "code": 402,
                    },
                    "user_id": "user_fake",
                },
                "quota_exhausted",
                "reference §5.2 (402 Insufficient credits)",
            ),
            "rate_limited": ErrorSpec(
                429,
                {
                    "error": {
                        "message": "Rate limit exceeded: free-models-per-min. ",
                        "code": 429,
                        "metadata": {
                            "headers": {
                                "X-RateLimit-Limit": "20",
                                "X-RateLimit-Remaining": "0",
                                "X-RateLimit-Reset": "1741305600000",
                            }
                        },
                    },
                    "user_id": "user_fake",
                },
                "rate_limited",
                "reference §5.2 and §7 (limits inside error.metadata.headers, reset in epoch ms)",
            ),
            "auth_failed": ErrorSpec(
                401,
                {"error": {"message": "User not found.", "code": 401}},
                "auth_failed",
                "OpenRouter's 401 for an unknown key (assumed)",
            ),
            "auth_missing": ErrorSpec(
                401,
                {"error": {"message": "No auth credentials found", "code": 401}},
                "auth_failed",
                "OpenRouter's 401 without a key (assumed)",
            ),
        }
    )

    def catalog_entry(self, model: Model) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": model.id,
            "canonical_slug": model.id,
            "hugging_face_id": "",
            "name": model.id,
            "created": CREATED,
            "description": f"Fake OpenRouter model {model.id}",
            "context_length": 131072,
            "architecture": {
                "modality": "text->text",
                "input_modalities": ["text"],
                "output_modalities": ["text"],
                "tokenizer": "Other",
                "instruct_type": None,
            },
            "pricing": {"prompt": "0.0000003", "completion": "0.0000012", "request": "0"},
            "top_provider": {"context_length": 131072, "max_completion_tokens": 16384},
            "per_request_limits": None,
            "supported_parameters": ["max_tokens", "temperature", "stop"],
            "expiration_date": None,
        }
        entry.update(model.meta)
        return entry

    def catalog_reply(self, request: Request) -> Reply:
        return json_reply({"data": self.listed_entries()}, headers=self.response_headers())

    def head_frames(self, ctx: GenContext) -> list[Frame]:
        return [Frame(b": OPENROUTER PROCESSING\n\n", "head")]


class FakeDeepSeek(FakeOpenAI):
    """api.deepseek.com: paths without `/v1` (with `/v1` too); `Behaviour.ok(reasoning=...)`
    streams `reasoning_content` like deepseek-reasoner."""

    prefix = ""
    owned_by = "deepseek"
    ERRORS = _vendor(
        {
            "model_not_found": ErrorSpec(
                400,
                oai_error("Model Not Exist", "invalid_request_error", "invalid_request_error"),
                "model_not_found",
                "reference §5.2 (400 Model Not Exist)",
            ),
            "quota_exhausted": ErrorSpec(
                402,
                oai_error("Insufficient Balance", "unknown_error", "invalid_request_error"),
                "quota_exhausted",
                "reference §5.2 (402 Insufficient Balance)",
            ),
            "content_filtered": ErrorSpec(
                400,
                oai_error("Content Exists Risk", "invalid_request_error", "invalid_request_error"),
                "content_filtered",
                "666ghj/BettaFish#108 via reference §5.2",
            ),
            "auth_failed": ErrorSpec(
                401,
                oai_error(
                    "Authentication Fails, Your api key: ****0000 is invalid",
                    "authentication_error",
                    "invalid_request_error",
                ),
                "auth_failed",
                "reference §5.2 (401 authentication_error)",
            ),
        }
    )

    def prefixes(self) -> list[str]:
        return ["", "/v1"]

    def catalog_entry(self, model: Model) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": model.id, "object": "model", "owned_by": self.owned_by}
        entry.update(model.meta)
        return entry


class FakeMoonshot(FakeOpenAI):
    """api.moonshot.ai: overload is a **429** `engine_overloaded_error`; errors carry only
    `message` and `type`."""

    owned_by = "moonshot"
    ERRORS = _vendor(
        {
            "overloaded": ErrorSpec(
                429,
                {
                    "error": {
                        "message": "The engine is currently overloaded, please try again later",
                        "type": "engine_overloaded_error",
                    }
                },
                "overloaded",
                "MoonshotAI/kimi-cli#2209, MoonshotAI/MoonshotAI-Cookbook#16 (full 429 body)",
            ),
            "model_not_found": ErrorSpec(
                404,
                {
                    "error": {
                        "message": "Not found the model {model} or Permission denied",
                        "type": "resource_not_found_error",
                    }
                },
                "model_not_found",
                "reference §5.2",
            ),
            "rate_limited": ErrorSpec(
                429,
                {
                    "error": {
                        "message": "Your account org-fake<ak-fake> request reached "
                        "organization max RPM: 3, please try again after 1 seconds",
                        "type": "rate_limit_reached_error",
                    }
                },
                "rate_limited",
                "reference §5.2 (429 rate_limit_reached_error; text assumed)",
            ),
            "quota_exhausted": ErrorSpec(
                403,
                {
                    "error": {
                        "message": "Your account org-fake<ak-fake> is suspended, please "
                        "check your plan and billing details",
                        "type": "exceeded_current_quota_error",
                    }
                },
                "quota_exhausted",
                "reference §5.2 (403 exceeded_current_quota_error; text assumed)",
            ),
            "auth_failed": ErrorSpec(
                401,
                {
                    "error": {
                        "message": "Invalid Authentication",
                        "type": "invalid_authentication_error",
                    }
                },
                "auth_failed",
                "reference §1/§5.2 (401 invalid_authentication_error)",
            ),
        }
    )
