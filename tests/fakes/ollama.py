"""Ollama's native API: `/api/tags`, `/api/ps`, `/api/show`, `/api/version`, and NDJSON streams
from `/api/chat` and `/api/generate` (which stream unless `"stream": false`).

    fake = FakeOllama(models=["llama3.2:latest", "qwen3:0.6b"])

* Model names are `name:tag`; `llama3.2` means `llama3.2:latest`.
* The last stream line is `done: true` with `total_duration`, `load_duration`,
  `prompt_eval_count`, `prompt_eval_duration`, `eval_count`, `eval_duration` (nanoseconds).
  An empty prompt only loads the model (`done_reason: "load"`).
* A mid-stream failure is a `{"error": "..."}` line on a 200 (`Behaviour.stream_error`).
* `GET /` → `Ollama is running`. No auth by default; with `key=` the fake wants
  `Authorization: Bearer` (Ollama behind a proxy, or ollama.com).

`base_url` is `http://127.0.0.1:PORT`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from tests.fakes.base import ErrorSpec, FamilyFake, Frame, GenContext, Model, StreamPlan
from tests.fakes.http import Reply, Request, json_reply, text_reply

__all__ = ["OLLAMA_ERRORS", "FakeOllama"]

OLLAMA_ERRORS: Mapping[str, ErrorSpec] = {
    "model_not_found": ErrorSpec(
        404,
        {"error": "model '{model}' not found"},
        "model_not_found",
        "reference §5.2 (ollama/ollama server/routes.go)",
    ),
    "model_not_found_pull": ErrorSpec(
        404,
        {"error": 'model "{model}" not found, try pulling it first'},
        "model_not_found",
        "reference §5.2 (older Ollama wording)",
    ),
    "overloaded": ErrorSpec(
        503,
        {"error": "server busy, please try again.  maximum pending requests exceeded"},
        "overloaded",
        "reference §4/§5.2 (full queue)",
    ),
    "server_error": ErrorSpec(
        500,
        {"error": "llama runner process has terminated: exit status 2"},
        "server_error",
        "Ollama's 500 when the runner dies (wording from its logs)",
    ),
    "out_of_memory": ErrorSpec(
        500,
        {"error": "model requires more system memory (8.4 GiB) than is available (3.1 GiB)"},
        "server_error",
        "Ollama's 500 when a model does not fit",
    ),
    "auth_failed": ErrorSpec(
        401, {"error": "unauthorized"}, "auth_failed", "an authenticating proxy in front (assumed)"
    ),
    "bad_request": ErrorSpec(
        400,
        {"error": "invalid character 'n' looking for beginning of value"},
        "bad_request",
        "Ollama's answer to a body that is not JSON (Go's encoding/json message)",
    ),
    "model_missing": ErrorSpec(
        400, {"error": "model is required"}, "bad_request", "Ollama without a model"
    ),
    "not_found_route": ErrorSpec(
        404,
        None,
        "bad_request",
        "Go's default 404",
        headers={"content-type": "text/plain"},
        raw_body="404 page not found",
    ),
}


_DEFAULT_HOST = "registry.ollama.ai/"
_DEFAULT_NAMESPACE = "library/"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _line(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


class FakeOllama(FamilyFake):
    """An Ollama server."""

    family = "ollama"
    ERRORS: ClassVar[Mapping[str, ErrorSpec]] = OLLAMA_ERRORS
    version = "0.12.6"

    def __init__(self, *, key: str | None = None, models: Any = (), tls: Any = None) -> None:
        self.loaded: dict[str, float] = {}
        super().__init__(key=key, models=[self._tagged(m) for m in models], tls=tls)

    @staticmethod
    def _tagged(model: str | Model) -> Model:
        m = Model.of(model)
        if ":" not in m.id:
            return Model(f"{m.id}:latest", m.meta, m.served_as, m.listed)
        return m

    def add_model(self, model: str | Model, **meta: Any) -> Model:
        return super().add_model(self._tagged(model), **meta)

    def canonical_model(self, model_id: str) -> str:
        """Ollama's name defaults: host `registry.ollama.ai`, namespace `library`, tag
        `latest` (`/api/tags` shows the short form)."""
        short = model_id.removeprefix(_DEFAULT_HOST).removeprefix(_DEFAULT_NAMESPACE)
        return short if ":" in short.rsplit("/", 1)[-1] else f"{short}:latest"

    def behave(self, model_id: str, behaviour: Any, *, on: Any = "any") -> None:
        super().behave(self.canonical_model(model_id), behaviour, on=on)

    def install_routes(self) -> None:
        self.server.route("GET", "/", lambda r: text_reply("Ollama is running"))
        self.server.route("GET", "/api/version", self._serve_version)
        self.server.route("GET", "/api/tags", self.serve_catalog)
        self.server.route("GET", "/api/ps", self._serve_ps)
        self.server.route("POST", "/api/show", self._serve_show)
        self.server.route("POST", "/api/chat", self._serve_chat)
        self.server.route("POST", "/api/generate", self._serve_generate)

    def is_generation(self, request: Request) -> bool:
        return request.method == "POST" and request.path in ("/api/chat", "/api/generate")

    def check_auth(self, request: Request) -> Reply | None:
        if self.key is None:
            return None
        header = request.headers.get("authorization", "")
        if header.partition(" ")[2].strip() != self.key:
            return self.error_reply("auth_failed")
        return None

    def _serve_version(self, request: Request) -> Reply:
        return json_reply({"version": self.version})

    # -- catalog

    def _digest(self, model_id: str) -> str:
        return hashlib.sha256(model_id.encode()).hexdigest()

    def catalog_entry(self, model: Model) -> dict[str, Any]:
        family = model.id.split(":")[0].rstrip("0123456789.")
        entry: dict[str, Any] = {
            "name": model.id,
            "model": model.id,
            "modified_at": "2025-10-01T12:00:00.000000000Z",
            "size": 2019393189,
            "digest": self._digest(model.id),
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": family or "llama",
                "families": [family or "llama"],
                "parameter_size": "3.2B",
                "quantization_level": "Q4_K_M",
            },
        }
        entry.update(model.meta)
        return entry

    def catalog_reply(self, request: Request) -> Reply:
        return json_reply(
            {"models": [self.catalog_entry(m) for m in self.models.values() if m.listed]}
        )

    def _serve_ps(self, request: Request) -> Reply:
        denied = self.check_auth(request)
        if denied is not None:
            return denied
        models = []
        for model_id in self.loaded:
            model = self.models.get(model_id, Model(model_id))
            entry = self.catalog_entry(model)
            entry.pop("modified_at", None)
            entry["expires_at"] = "2099-01-01T00:05:00.000000000Z"
            entry["size_vram"] = 0
            entry["context_length"] = 4096
            models.append(entry)
        return json_reply({"models": models})

    def _serve_show(self, request: Request) -> Reply:
        denied = self.check_auth(request)
        if denied is not None:
            return denied
        try:
            body = request.json()
        except ValueError:
            return self.error_reply("bad_request")
        name = str(body.get("model") or body.get("name") or "") if isinstance(body, dict) else ""
        return self.serve_retrieve(request, name)

    def retrieve_reply(self, model: Model) -> Reply:
        entry = self.catalog_entry(model)
        return json_reply(
            {
                "license": "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT",
                "modelfile": f"FROM {model.id}\n",
                "parameters": 'stop "<|eot_id|>"',
                "template": "{{ .Prompt }}",
                "details": entry["details"],
                "model_info": {"general.architecture": entry["details"]["family"]},
                "capabilities": ["completion"],
                "modified_at": entry["modified_at"],
            }
        )

    # -- generation

    def _serve_chat(self, request: Request) -> Reply:
        return self.serve_generation(request, None, _streams(request))

    def _serve_generate(self, request: Request) -> Reply:
        return self.serve_generation(request, None, _streams(request))

    def validate(self, request: Request, body: dict[str, Any], stream: bool) -> Reply | None:
        if not body.get("model"):
            return self.error_reply("model_missing")
        return None

    def max_tokens_of(self, body: dict[str, Any]) -> int | None:
        options = body.get("options")
        if isinstance(options, dict) and isinstance(options.get("num_predict"), int):
            value = int(options["num_predict"])
            return value if value >= 0 else None
        return None

    def _load_only(self, ctx: GenContext) -> bool:
        if ctx.request.path == "/api/generate":
            return not ctx.body.get("prompt")
        return not ctx.body.get("messages")

    def _chunk(self, ctx: GenContext, text: str, *, thinking: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"model": ctx.served_model, "created_at": _now()}
        if ctx.request.path == "/api/chat":
            message: dict[str, Any] = {"role": "assistant", "content": text}
            if thinking is not None:
                message["thinking"] = thinking
            out["message"] = message
        else:
            out["response"] = text
            if thinking is not None:
                out["thinking"] = thinking
        out["done"] = False
        return out

    def _final(self, ctx: GenContext, text: str) -> dict[str, Any]:
        self.loaded[self.canonical_model(ctx.model_id)] = 1.0
        out = self._chunk(ctx, text)
        if self._load_only(ctx):
            out["done_reason"] = "load"
            out["done"] = True
            return out
        out["done_reason"] = "length" if ctx.finish == "length" else "stop"
        out["done"] = True
        if ctx.request.path == "/api/generate":
            out["context"] = [128006, 882, 128007, 271, 6151, 128009]
        eval_count = max(1, ctx.output_tokens)
        out.update(
            {
                "total_duration": 412_345_678,
                "load_duration": 21_234_567,
                "prompt_eval_count": ctx.prompt_tokens,
                "prompt_eval_duration": 61_234_567,
                "eval_count": eval_count,
                "eval_duration": 12_345_678 * eval_count,
            }
        )
        return out

    def completion_reply(self, ctx: GenContext) -> Reply:
        if self._load_only(ctx):
            return json_reply(self._final(ctx, ""))
        body = self._final(ctx, ctx.text)
        if ctx.reasoning_pieces:
            target = body.get("message", body)
            target["thinking"] = ctx.reasoning
        return json_reply(body)

    def stream_plan(self, ctx: GenContext) -> StreamPlan:
        frames: list[Frame] = []
        if not self._load_only(ctx):
            for piece in ctx.reasoning_pieces:
                frames.append(Frame(_line(self._chunk(ctx, "", thinking=piece))))
            for piece in ctx.pieces:
                frames.append(Frame(_line(self._chunk(ctx, piece))))
        frames.append(Frame(_line(self._final(ctx, "")), "end"))
        return StreamPlan(frames=frames, headers={"content-type": "application/x-ndjson"})

    def stream_error_frame(
        self, spec: ErrorSpec, model: str, plan: StreamPlan | None = None
    ) -> bytes:
        return self.render_error(spec, model=model).body + b"\n"

    def malformed_frame(self) -> bytes:
        return b'{"model":"x","created_at":"2025-01-01T00:00:00Z","message":{"role":\n'

    def unknown_route(self, request: Request) -> Reply:
        return self.error_reply("not_found_route")


def _streams(request: Request) -> bool:
    try:
        body = request.json()
    except ValueError:
        return False
    return not (isinstance(body, dict) and body.get("stream") is False)
