"""llama.cpp's HTTP server (`llama-server`), single-model mode, as measured on the real server
(`tests/realservers.py` runs the real one; this fake scripts what the real one cannot do).

* It serves one model under one alias and **answers any `model` name** with it; only the
  catalog says what it serves. `/v1/models` carries both an Ollama-style `models` list and the
  OpenAI `data` list.
* `GET /health` (and `/v1/health`) needs no key: 200 `{"status":"ok"}`, or 503
  `{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}` while loading
  (`fake.loading = True`; then every endpoint answers that 503).
* With a key: `Authorization: Bearer` or `x-api-key`; a bad key is 401 "Invalid API Key".
* Streams: the role chunk has `content: null`, chunks have no `logprobs`, the last chunk
  carries `timings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from tests.fakes.base import ErrorSpec, GenContext
from tests.fakes.http import Reply, Request, json_reply, text_reply
from tests.fakes.openai import CREATED, FakeOpenAI, wants_stream

__all__ = ["LLAMACPP_ERRORS", "FakeLlamaCpp"]


def cpp_error(code: int, message: str, type_: str) -> Any:
    return {"error": {"code": code, "message": message, "type": type_}}


_MEASURED = "measured on xllamacpp 2026.10.11549 (llama.cpp server)"

LLAMACPP_ERRORS: Mapping[str, ErrorSpec] = {
    "auth_failed": ErrorSpec(
        401,
        {"error": {"message": "Invalid API Key", "type": "authentication_error", "code": 401}},
        "auth_failed",
        _MEASURED,
    ),
    "loading": ErrorSpec(
        503,
        cpp_error(503, "Loading model", "unavailable_error"),
        "overloaded",
        "reference §4 (503 while loading)",
        note="self-hosted and starting: overloaded for a generation, not-ready for health",
    ),
    "bad_request": ErrorSpec(
        400,
        cpp_error(
            400,
            "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error while "
            "parsing value - invalid literal; last read: 'no'",
            "invalid_request_error",
        ),
        "bad_request",
        _MEASURED,
    ),
    "missing_messages": ErrorSpec(
        400,
        cpp_error(400, "'messages' is required", "invalid_request_error"),
        "bad_request",
        _MEASURED,
    ),
    "model_not_found": ErrorSpec(
        404,
        cpp_error(404, "model not found", "not_found_error"),
        "model_not_found",
        "reference §5.1 (type not_found_error; router mode, wording assumed)",
        note="single-model mode never says this: it answers any name",
    ),
    "server_error": ErrorSpec(
        500,
        cpp_error(500, "Internal server error", "server_error"),
        "server_error",
        "llama.cpp error envelope (wording assumed)",
    ),
    "metrics_disabled": ErrorSpec(
        501,
        cpp_error(
            501,
            "This server does not support metrics endpoint. Start it with `--metrics`",
            "not_supported_error",
        ),
        "bad_request",
        _MEASURED,
    ),
    "not_found_route": ErrorSpec(
        404,
        cpp_error(404, "File Not Found", "not_found_error"),
        "bad_request",
        "llama.cpp's answer to an unknown path",
    ),
}


class FakeLlamaCpp(FakeOpenAI):
    """`base_url` is `http://127.0.0.1:PORT/v1`; `url` is the server root (for `/health`)."""

    family = "openai"
    ERRORS: ClassVar[Mapping[str, ErrorSpec]] = LLAMACPP_ERRORS
    owned_by = "llamacpp"

    def __init__(
        self, *, alias: str = "smollm2-135m", key: str | None = None, tls: Any = None
    ) -> None:
        self.alias = alias
        self.loading = False
        super().__init__(key=key, models=[alias], tls=tls, system_fingerprint="b0-unknown")

    def install_routes(self) -> None:
        for path in ("/health", "/v1/health"):
            self.server.route("GET", path, self._serve_health)
        for prefix in ("/v1", ""):
            self.server.route("GET", f"{prefix}/models", self.serve_catalog)
            self.server.route("POST", f"{prefix}/chat/completions", self._serve_chat)
        self.server.route("GET", "/props", self._serve_props)
        self.server.route("GET", "/slots", self._serve_slots)
        self.server.route("GET", "/metrics", self._serve_metrics)

    def _serve_health(self, request: Request) -> Reply:
        def render() -> Reply:
            if self.loading:
                return self.error_reply("loading")
            return json_reply({"status": "ok"})

        return self.serve_health(request, render)

    def check_auth(self, request: Request) -> Reply | None:
        if self.loading:
            return self.error_reply("loading")
        if self.key is None:
            return None
        bearer = request.headers.get("authorization", "").partition(" ")[2].strip()
        if self.key not in (bearer, request.headers.get("x-api-key")):
            return self.error_reply("auth_failed")
        return None

    # single-model mode: every name is served by the one model, under its alias
    def serves(self, model_id: str) -> bool:
        return True

    def served_name(self, model_id: str) -> str:
        return self.alias

    def validate(self, request: Request, body: dict[str, Any], stream: bool) -> Reply | None:
        if "messages" not in body:
            return self.error_reply("missing_messages")
        return None

    def catalog_reply(self, request: Request) -> Reply:
        meta = {
            "vocab_type": 2,
            "n_vocab": 49152,
            "n_ctx": 2048,
            "n_ctx_train": 8192,
            "n_embd": 576,
            "n_params": 134515008,
            "size": 96576768,
            "ftype": "Q4_1",
        }
        body = {
            "models": [
                {
                    "name": self.alias,
                    "model": self.alias,
                    "modified_at": "",
                    "size": "",
                    "digest": "",
                    "type": "model",
                    "description": "",
                    "tags": [""],
                    "capabilities": ["completion"],
                    "parameters": "",
                    "details": {
                        "parent_model": "",
                        "format": "gguf",
                        "family": "",
                        "families": [""],
                        "parameter_size": "",
                        "quantization_level": "",
                    },
                }
            ],
            "object": "list",
            "data": [
                {
                    "id": self.alias,
                    "aliases": [self.alias],
                    "tags": [],
                    "object": "model",
                    "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
                    "created": CREATED,
                    "owned_by": "llamacpp",
                    "meta": meta,
                }
            ],
        }
        return json_reply(body)

    def _serve_props(self, request: Request) -> Reply:
        return json_reply(
            {
                "model_alias": self.alias,
                "model_path": f"/models/{self.alias}.gguf",
                "total_slots": 2,
                "n_ctx": 2048,
                "build_info": "b0-unknown",
                "default_generation_settings": {"n_ctx": 2048, "params": {"temperature": 0.8}},
            }
        )

    def _serve_slots(self, request: Request) -> Reply:
        return json_reply([{"id": 0, "n_ctx": 1024, "is_processing": False}])

    def _serve_metrics(self, request: Request) -> Reply:
        return text_reply(
            "# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.\n"
            "# TYPE llamacpp:prompt_tokens_total counter\nllamacpp:prompt_tokens_total 31\n"
            "# HELP llamacpp:tokens_predicted_total Number of generation tokens processed.\n"
            "# TYPE llamacpp:tokens_predicted_total counter\nllamacpp:tokens_predicted_total 5\n",
            content_type="text/plain; version=0.0.4",
        )

    def _serve_chat(self, request: Request) -> Reply:
        return self.serve_generation(request, None, wants_stream(request))

    def response_headers(self) -> dict[str, str]:
        return {"server": "llama.cpp", "access-control-allow-origin": ""}

    def _timings(self, ctx: GenContext) -> dict[str, Any]:
        n = max(1, ctx.output_tokens)
        return {
            "cache_n": 0,
            "prompt_n": ctx.prompt_tokens,
            "prompt_ms": 169.58,
            "prompt_per_token_ms": 5.3,
            "prompt_per_second": 188.7,
            "predicted_n": n,
            "predicted_ms": 12.5 * n,
            "predicted_per_token_ms": 12.5,
            "predicted_per_second": 80.0,
        }

    def decorate_completion(self, body: dict[str, Any], ctx: GenContext) -> dict[str, Any]:
        body.pop("service_tier", None)
        for choice in body["choices"]:
            choice.pop("logprobs", None)
            choice["message"].pop("refusal", None)
            choice["message"].pop("annotations", None)
        body["usage"] = {
            "completion_tokens": ctx.output_tokens,
            "prompt_tokens": ctx.prompt_tokens,
            "total_tokens": ctx.prompt_tokens + ctx.output_tokens,
            "prompt_tokens_details": {"cached_tokens": 0},
        }
        body["timings"] = self._timings(ctx)
        return body

    def decorate_chunk(self, chunk: dict[str, Any], ctx: GenContext, kind: str) -> dict[str, Any]:
        chunk.pop("service_tier", None)
        for choice in chunk["choices"]:
            choice.pop("logprobs", None)
            delta = choice["delta"]
            if "role" in delta:
                choice["delta"] = {"role": "assistant", "content": None}
            if choice.get("finish_reason"):
                chunk["timings"] = self._timings(ctx)
        if chunk.get("usage"):
            chunk["usage"] = {
                "completion_tokens": ctx.output_tokens,
                "prompt_tokens": ctx.prompt_tokens,
                "total_tokens": ctx.prompt_tokens + ctx.output_tokens,
                "prompt_tokens_details": {"cached_tokens": 0},
            }
        elif "usage" in chunk:
            del chunk["usage"]
        return chunk

    def unknown_route(self, request: Request) -> Reply:
        return self.error_reply("not_found_route")
