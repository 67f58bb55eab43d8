"""vLLM's OpenAI-compatible server (also the shape of NIM and many self-hosted stacks).

* `GET /health` → 200 with an empty body (503 once the engine is dead:
  `fake.behave_health(Behaviour.error("engine_dead"))`), `/ping`, `/version`, `/metrics`.
* `/v1/models` entries carry `root`, `parent`, `max_model_len`, `owned_by: "vllm"`; the id is
  `--served-model-name`.
* An unknown model is 404 `NotFoundError` (newer envelope; `model_not_found_flat` is the older
  flat one). With `--api-key`, a bad key is 401 `{"error": "Unauthorized"}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from tests.fakes.base import ErrorSpec, Model
from tests.fakes.http import Reply, Request, json_reply, text_reply
from tests.fakes.openai import CREATED, FakeOpenAI

__all__ = ["VLLM_ERRORS", "FakeVLLM"]


def vllm_error(message: str, type_: str, code: int, param: str | None = None) -> Any:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


VLLM_ERRORS: Mapping[str, ErrorSpec] = {
    "model_not_found": ErrorSpec(
        404,
        vllm_error("The model `{model}` does not exist.", "NotFoundError", 404, "model"),
        "model_not_found",
        "reference §5.1/§5.2 (newer vLLM)",
    ),
    "model_not_found_flat": ErrorSpec(
        404,
        {
            "object": "error",
            "message": "The model `{model}` does not exist.",
            "type": "NotFoundError",
            "param": None,
            "code": 404,
        },
        "model_not_found",
        "reference §5.1 (older vLLM, SGLang)",
    ),
    "auth_failed": ErrorSpec(
        401, {"error": "Unauthorized"}, "auth_failed", "vLLM's --api-key middleware"
    ),
    "bad_request": ErrorSpec(
        400,
        vllm_error("JSON decode error", "BadRequestError", 400),
        "bad_request",
        "vLLM error envelope (wording assumed)",
    ),
    "missing_messages": ErrorSpec(
        400,
        vllm_error("Field required: messages", "BadRequestError", 400),
        "bad_request",
        "vLLM error envelope (wording assumed)",
    ),
    "context_length_exceeded": ErrorSpec(
        400,
        vllm_error(
            "This model's maximum context length is 4096 tokens. However, you requested 5000 "
            "tokens (4000 in the messages, 1000 in the completion). Please reduce the length of "
            "the messages or completion.",
            "BadRequestError",
            400,
        ),
        "bad_request",
        "vLLM's context-length message",
    ),
    "server_error": ErrorSpec(
        500,
        vllm_error("EngineCore encountered an issue.", "InternalServerError", 500),
        "server_error",
        "vLLM error envelope (wording assumed)",
    ),
    "engine_dead": ErrorSpec(
        503, None, "server_error", "reference §4 (503 once the engine is dead)", raw_body=""
    ),
    "not_found_route": ErrorSpec(
        404, {"detail": "Not Found"}, "bad_request", "FastAPI's default 404"
    ),
}


class FakeVLLM(FakeOpenAI):
    """`base_url` is `http://127.0.0.1:PORT/v1`."""

    ERRORS: ClassVar[Mapping[str, ErrorSpec]] = VLLM_ERRORS
    owned_by = "vllm"
    retrieve_route = False  # vLLM serves the list only: `/v1/models/{id}` is FastAPI's 404
    version = "0.11.0"

    def __init__(self, *, key: str | None = None, models: Any = (), tls: Any = None) -> None:
        super().__init__(key=key, models=models, tls=tls, system_fingerprint=None)

    def install_routes(self) -> None:
        super().install_routes()
        self.server.route("GET", "/health", lambda r: self.serve_health(r, Reply))
        self.server.route("GET", "/ping", lambda r: self.serve_health(r, Reply))
        self.server.route("GET", "/version", lambda r: json_reply({"version": self.version}))
        self.server.route(
            "GET",
            "/metrics",
            lambda r: text_reply(
                "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 0.0\n"
                "# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting 0.0\n",
                content_type="text/plain; version=0.0.4; charset=utf-8",
            ),
        )

    def check_auth(self, request: Request) -> Reply | None:
        if self.key is None:
            return None
        if request.headers.get("authorization", "") != f"Bearer {self.key}":
            return self.error_reply("auth_failed")
        return None

    def catalog_entry(self, model: Model) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": model.id,
            "object": "model",
            "created": CREATED,
            "owned_by": "vllm",
            "root": f"/models/{model.id}",
            "parent": None,
            "max_model_len": 4096,
            "permission": [
                {
                    "id": "modelperm-fake",
                    "object": "model_permission",
                    "created": CREATED,
                    "allow_create_engine": False,
                    "allow_sampling": True,
                    "allow_logprobs": True,
                    "allow_search_indices": False,
                    "allow_view": True,
                    "allow_fine_tuning": False,
                    "organization": "*",
                    "group": None,
                    "is_blocking": False,
                }
            ],
        }
        entry.update(model.meta)
        return entry

    def unknown_route(self, request: Request) -> Reply:
        return self.error_reply("not_found_route")
