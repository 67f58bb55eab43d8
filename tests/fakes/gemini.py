"""Gemini API (generativelanguage.googleapis.com): `models/{id}` names, `pageSize`/`pageToken`
pagination, `?alt=sse` streams separated by CRLF, errors in the google.rpc envelope.

    fake = FakeGemini(key="AIza-test", models=["gemini-2.5-flash", "gemini-2.5-pro"])

* `GET /v1beta/models?pageSize=&pageToken=` → `{"models": [...], "nextPageToken"}` (default
  page size 50, at most 1000; the token is opaque). `GET /v1beta/models/{id}`.
* `POST /v1beta/models/{id}:generateContent`, `:streamGenerateContent` (`?alt=sse`: SSE events
  `data: {...}\\r\\n\\r\\n`, no `[DONE]`, the last one carrying `finishReason` and the full
  `usageMetadata`; without `alt=sse`: one JSON array, and errors wrapped in `[...]`),
  `:countTokens` → `{"totalTokens": N}`. `/v1/...` answers too.
* Auth: `x-goog-api-key` or `?key=`. A wrong key is **400** `API_KEY_INVALID`; no key is 403.
* Bodies are pretty-printed like Google's; SSE events use `", "`-less separators as recorded.

`base_url` is `http://127.0.0.1:PORT` (the SDK adds the version).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from tests.fakes.base import ErrorSpec, FamilyFake, Frame, GenContext, Model, StreamPlan
from tests.fakes.http import Reply, Request, json_reply

__all__ = ["GEMINI_ERRORS", "FakeGemini"]

_JSON = "application/json; charset=UTF-8"


def g_error(code: int, status: str, message: str, details: list[Any] | None = None) -> Any:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details is not None:
        error["details"] = details
    return {"error": error}


def _error_info(reason: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }


_HELP_QUOTA = {
    "@type": "type.googleapis.com/google.rpc.Help",
    "links": [
        {
            "description": "Learn more about Gemini API quotas",
            "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
        }
    ],
}
_GOOGLE_404 = """<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <title>Error 404 (Not Found)!!1</title>
  <p><b>404.</b> <ins>That's an error.</ins>
  <p>The requested URL <code>{model}</code> was not found on this server.
  <ins>That's all we know.</ins>
"""

GEMINI_ERRORS: Mapping[str, ErrorSpec] = {
    "model_not_found": ErrorSpec(
        404,
        g_error(
            404,
            "NOT_FOUND",
            "models/{model} is not found for API version v1beta, or is not supported for "
            "generateContent. Call ListModels to see the list of available models and their "
            "supported methods.",
        ),
        "model_not_found",
        "reference §5.2",
    ),
    "model_deprecated": ErrorSpec(
        404,
        g_error(
            404,
            "NOT_FOUND",
            "models/{model} has been deprecated on July 12, 2024. Consider switching to "
            "different model, for example gemini-1.5-flash.",
        ),
        "model_deprecated",
        "reference §5.2/§6 (some retired models: 404 'has been deprecated on <date>')",
    ),
    "auth_failed": ErrorSpec(
        400,
        g_error(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            [
                _error_info("API_KEY_INVALID"),
                {
                    "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                    "locale": "en-US",
                    "message": "API key not valid. Please pass a valid API key.",
                },
            ],
        ),
        "auth_failed",
        "cequence-io/openai-scala-client#109, zeroclaw-labs/zeroclaw#194 (full 400 body)",
        note="a bad key is a 400 here, recognisable by ErrorInfo.reason API_KEY_INVALID",
    ),
    "auth_missing": ErrorSpec(
        403,
        g_error(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). "
            "Please use API Key or other form of API consumer identity to call this API.",
        ),
        "auth_failed",
        "Google APIs' 403 without credentials (assumed wording)",
    ),
    "key_leaked": ErrorSpec(
        403,
        g_error(
            403,
            "PERMISSION_DENIED",
            "Your API key was reported as leaked. Please use another API key.",
        ),
        "auth_failed",
        "reference §5.2 (403 PERMISSION_DENIED for disabled or leaked keys)",
        note="§9 rule 7 alone would say access_denied; either way the verdict is blocked",
    ),
    "access_denied": ErrorSpec(
        403,
        g_error(403, "PERMISSION_DENIED", "The caller does not have permission"),
        "access_denied",
        "reference §5.2 (403 PERMISSION_DENIED)",
    ),
    "region_blocked": ErrorSpec(
        400,
        g_error(400, "FAILED_PRECONDITION", "User location is not supported for the API use."),
        "access_denied",
        "reference §5.2",
    ),
    "rate_limited": ErrorSpec(
        429,
        g_error(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details. For "
            "more information on this error, head to: "
            "https://ai.google.dev/gemini-api/docs/rate-limits.",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": "generativelanguage.googleapis.com/"
                            "generate_content_free_tier_requests",
                            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                            "quotaDimensions": {"location": "global", "model": "{model}"},
                            "quotaValue": "10",
                        }
                    ],
                },
                _HELP_QUOTA,
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "{retry_s}s"},
            ],
        ),
        "rate_limited",
        "RooCodeInc/Roo-Code#3883, google-gemini/gemini-cli#8437 (full 429 body)",
        note="says 'quota' but is a per-minute limit: RetryInfo.retryDelay is the hint",
    ),
    "rate_limited_plain": ErrorSpec(
        429,
        g_error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
        "rate_limited",
        "googleapis/python-genai#2065 (full 429 body)",
    ),
    "overloaded": ErrorSpec(
        503,
        g_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        "overloaded",
        "reference §5.2",
    ),
    "server_error": ErrorSpec(
        500,
        g_error(
            500,
            "INTERNAL",
            "An internal error has occurred. Please retry or report in "
            "https://developers.generativeai.google/guide/troubleshooting",
        ),
        "server_error",
        "reference §5.2 (500 INTERNAL; text assumed)",
    ),
    "bad_request": ErrorSpec(
        400,
        g_error(
            400,
            "INVALID_ARGUMENT",
            "Invalid JSON payload received. Unexpected token.\nnot json\n^",
        ),
        "bad_request",
        "Google's answer to a body that is not JSON",
    ),
    "contents_missing": ErrorSpec(
        400,
        g_error(
            400,
            "INVALID_ARGUMENT",
            "* GenerateContentRequest.contents: contents is not specified\n",
        ),
        "bad_request",
        "Google's answer without contents",
    ),
    "invalid_page_token": ErrorSpec(
        400,
        g_error(400, "INVALID_ARGUMENT", "Invalid page token."),
        "bad_request",
        "assumed wording",
    ),
    "not_found_route": ErrorSpec(
        404,
        None,
        "bad_request",
        "Google front end's HTML 404 for an unknown path",
        headers={"content-type": "text/html; charset=UTF-8"},
        raw_body=_GOOGLE_404,
    ),
}

_SAFETY = [
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
]
_ACTIONS = ("generateContent", "streamGenerateContent", "countTokens")


def _sse_event(obj: Any) -> bytes:
    # Google's SSE: `data: ` + JSON with ": " after keys and "," without space, CRLF CRLF.
    return (
        b"data: "
        + json.dumps(obj, separators=(",", ": "), ensure_ascii=False).encode()
        + b"\r\n\r\n"
    )


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"fake-offset:{offset}".encode()).decode().rstrip("=")


def _offset(token: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except ValueError:
        return None
    prefix, _, number = raw.partition(":")
    return int(number) if prefix == "fake-offset" and number.isdigit() else None


class FakeGemini(FamilyFake):
    """The Gemini Developer API."""

    family = "gemini"
    ERRORS: ClassVar[Mapping[str, ErrorSpec]] = GEMINI_ERRORS
    DEFAULT_PAGE_SIZE = 50
    max_page_size = 1000
    """The most entries a page holds whatever `pageSize` asks (lower it to force pagination)."""

    def install_routes(self) -> None:
        for version in ("v1beta", "v1"):
            self.server.route("GET", f"/{version}/models", self.serve_catalog)
            self.server.route("GET", f"/{version}/models/{{model}}", self._serve_one_model)
            for action in _ACTIONS:
                self.server.route(
                    "POST", f"/{version}/models/{{model}}:{action}", self._serve_action
                )

    def is_generation(self, request: Request) -> bool:
        return request.method == "POST" and (
            request.path.endswith(":generateContent")
            or request.path.endswith(":streamGenerateContent")
        )

    def model_of(self, request: Request) -> str | None:
        path = request.path.rsplit("/models/", 1)[-1]
        return path.split(":", 1)[0] if ":" in path else None

    def canonical_model(self, model_id: str) -> str:
        return model_id.removeprefix("models/")

    def check_auth(self, request: Request) -> Reply | None:
        if self.key is None:
            return None
        key = request.headers.get("x-goog-api-key") or request.query_value("key")
        if key is None:
            return self.error_reply("auth_missing")
        if key != self.key:
            return self.error_reply("auth_failed")
        return None

    def encode_error_body(self, body: Any) -> bytes:
        return json.dumps(body, indent=2, ensure_ascii=False).encode() + b"\n"

    def render_error(self, spec: ErrorSpec, *, model: str, **params: Any) -> Reply:
        reply = super().render_error(spec, model=model, **params)
        if reply.headers.get("content-type") == "application/json":
            reply.headers["content-type"] = _JSON
        return reply

    def _json(self, obj: Any) -> Reply:
        return json_reply(
            obj, indent=2, content_type=_JSON, headers={"server": "scaffolding on HTTPServer2"}
        )

    # -- catalog

    def catalog_entry(self, model: Model) -> dict[str, Any]:
        name = model.id.removeprefix("models/")
        entry: dict[str, Any] = {
            "name": f"models/{name}",
            "version": "001",
            "displayName": name.replace("-", " ").title(),
            "description": f"Fake Gemini model {name}",
            "inputTokenLimit": 1048576,
            "outputTokenLimit": 65536,
            "supportedGenerationMethods": [
                "generateContent",
                "countTokens",
                "createCachedContent",
                "batchGenerateContent",
            ],
            "temperature": 1,
            "topP": 0.95,
            "topK": 64,
            "maxTemperature": 2,
            "thinking": True,
        }
        entry.update(model.meta)
        return entry

    def catalog_reply(self, request: Request) -> Reply:
        entries = [self.catalog_entry(m) for m in self.models.values() if m.listed]
        raw_size = request.query_value("pageSize")
        size = int(raw_size) if raw_size and raw_size.isdigit() else self.DEFAULT_PAGE_SIZE
        size = min(max(size, 1), 1000) if size else self.DEFAULT_PAGE_SIZE
        size = min(size, self.max_page_size)
        token = request.query_value("pageToken")
        start = 0
        if token:
            offset = _offset(token)
            if offset is None:
                return self.error_reply("invalid_page_token")
            start = offset
        page = entries[start : start + size]
        body: dict[str, Any] = {"models": page}
        if start + size < len(entries):
            body["nextPageToken"] = _page_token(start + size)
        return self._json(body)

    def _serve_one_model(self, request: Request) -> Reply:
        return self.serve_retrieve(request, request.path_params["model"])

    def retrieve_reply(self, model: Model) -> Reply:
        return self._json(self.catalog_entry(model))

    # -- generation

    def _serve_action(self, request: Request) -> Reply:
        model_id, _, action = request.path.rsplit("/models/", 1)[-1].partition(":")
        if action == "countTokens":
            return self._serve_count_tokens(request, model_id)
        stream = action == "streamGenerateContent"
        reply = self.serve_generation(request, model_id, stream)
        json_error = reply.status >= 400 and reply.headers.get("content-type", "").startswith(
            "application/json"
        )
        if stream and request.query_value("alt") != "sse" and json_error:
            reply.body = b"[" + reply.body.rstrip(b"\n") + b"\n]"
        return reply

    def _serve_count_tokens(self, request: Request, model_id: str) -> Reply:
        denied = self.check_auth(request)
        if denied is not None:
            return denied
        if not self.serves(self.canonical_model(model_id)):
            return self.error_reply("model_not_found", model=model_id)
        try:
            body = request.json()
        except ValueError:
            return self.error_reply("bad_request")
        tokens = max(1, len(json.dumps(body.get("contents", ""))) // 4)
        return self._json(
            {
                "totalTokens": tokens,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": tokens}],
            }
        )

    def validate(self, request: Request, body: dict[str, Any], stream: bool) -> Reply | None:
        if "contents" not in body:
            return self.error_reply("contents_missing")
        return None

    def max_tokens_of(self, body: dict[str, Any]) -> int | None:
        config = body.get("generationConfig")
        if isinstance(config, dict) and isinstance(config.get("maxOutputTokens"), int):
            return int(config["maxOutputTokens"])
        return None

    def _include_thoughts(self, ctx: GenContext) -> bool:
        config = ctx.body.get("generationConfig")
        thinking = config.get("thinkingConfig") if isinstance(config, dict) else None
        return isinstance(thinking, dict) and bool(thinking.get("includeThoughts"))

    def _usage(self, ctx: GenContext, *, final: bool) -> dict[str, Any]:
        usage: dict[str, Any] = {"promptTokenCount": ctx.prompt_tokens}
        if final and ctx.pieces:
            usage["candidatesTokenCount"] = len(ctx.pieces)
        usage["totalTokenCount"] = ctx.prompt_tokens + (ctx.output_tokens if final else 0)
        usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": ctx.prompt_tokens}]
        if ctx.reasoning_pieces:
            usage["thoughtsTokenCount"] = len(ctx.reasoning_pieces)
        return usage

    def _finish(self, ctx: GenContext) -> str:
        return {"stop": "STOP", "length": "MAX_TOKENS", "filter": "SAFETY"}[ctx.finish]

    def _envelope(
        self, ctx: GenContext, candidates: list[Any] | None, *, final: bool
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if candidates is not None:
            body["candidates"] = candidates
        if ctx.variant == "prompt_filtered":
            body["promptFeedback"] = {"blockReason": "SAFETY", "safetyRatings": _SAFETY}
        body["usageMetadata"] = self._usage(ctx, final=final)
        body["modelVersion"] = ctx.served_model.removeprefix("models/")
        body["responseId"] = f"fakeResp{ctx.seq:012d}"
        return body

    def _candidate(
        self, ctx: GenContext, parts: list[dict[str, Any]], finish: str | None
    ) -> dict[str, Any]:
        candidate: dict[str, Any] = {}
        if parts:
            candidate["content"] = {"parts": parts, "role": "model"}
        elif finish is not None and ctx.variant != "filtered":
            candidate["content"] = {"role": "model"}
        if finish is not None:
            candidate["finishReason"] = finish
            if ctx.variant == "filtered":
                candidate["safetyRatings"] = _SAFETY
        candidate["index"] = 0
        return candidate

    def completion_reply(self, ctx: GenContext) -> Reply:
        if ctx.variant == "prompt_filtered":
            return self._json(self._envelope(ctx, None, final=True))
        parts: list[dict[str, Any]] = []
        if ctx.reasoning_pieces and self._include_thoughts(ctx):
            parts.append({"text": ctx.reasoning, "thought": True})
        if ctx.pieces:
            parts.append({"text": ctx.text})
        candidate = self._candidate(ctx, parts, self._finish(ctx))
        return self._json(self._envelope(ctx, [candidate], final=True))

    def stream_plan(self, ctx: GenContext) -> StreamPlan:
        events: list[tuple[dict[str, Any], str, bool]] = []
        if ctx.variant == "prompt_filtered":
            events.append((self._envelope(ctx, None, final=True), "end", False))
        else:
            if ctx.reasoning_pieces and self._include_thoughts(ctx):
                for piece in ctx.reasoning_pieces:
                    part = {"text": piece, "thought": True}
                    events.append(
                        (
                            self._envelope(ctx, [self._candidate(ctx, [part], None)], final=False),
                            "content",
                            True,
                        )
                    )
            pieces = list(ctx.pieces)
            last = pieces.pop() if pieces else None
            for piece in pieces:
                candidate = self._candidate(ctx, [{"text": piece}], None)
                events.append((self._envelope(ctx, [candidate], final=False), "content", True))
            parts = [{"text": last}] if last is not None else []
            final = self._candidate(ctx, parts, self._finish(ctx))
            events.append((self._envelope(ctx, [final], final=True), "end", last is not None))
        sse = ctx.request.query_value("alt") == "sse"
        frames: list[Frame] = []
        if sse:
            for obj, kind, text in events:
                frames.append(Frame(_sse_event(obj), kind, text))  # type: ignore[arg-type]
            content_type = "text/event-stream"
        else:
            for i, (obj, kind, text) in enumerate(events):
                pretty = json.dumps(obj, indent=2, ensure_ascii=False).encode()
                frames.append(Frame((b"[" if i == 0 else b",\r\n") + pretty, kind, text))  # type: ignore[arg-type]
            frames.append(Frame(b"]", "end"))
            content_type = _JSON
        headers = {"content-type": content_type, "server": "scaffolding on HTTPServer2"}
        return StreamPlan(frames=frames, headers=headers)

    def stream_error_frame(
        self, spec: ErrorSpec, model: str, plan: StreamPlan | None = None
    ) -> bytes:
        raw = self.render_error(spec, model=model).body
        if plan is not None and not plan.headers.get("content-type", "").startswith("text/"):
            # without alt=sse the stream is one JSON array: the error is its next element
            return b",\r\n" + raw.rstrip(b"\n") + b"]"
        try:
            return _sse_event(json.loads(raw))
        except ValueError:
            return b"data: " + raw.replace(b"\n", b" ") + b"\r\n\r\n"

    def malformed_frame(self) -> bytes:
        return b'data: {"candidates": [{"content": {"parts": [{"text": \r\n\r\n'

    def invalid_json_reply(self, request: Request) -> Reply:
        return self.error_reply("bad_request")

    def unknown_route(self, request: Request) -> Reply:
        return self.error_reply("not_found_route", model=request.path)
