"""Self-hosted servers' own health endpoints: one request and one reading per engine.

Health endpoints sit at the server root, so a provider's OpenAI-style `base_url`
(`http://host:8000/v1`) loses its `/v1`. They never need the key: vLLM, llama.cpp and the
rest leave them open even when the API itself asks for one, so requests go out
unauthenticated and a key is never sent where it is not needed.
"""

from __future__ import annotations

from modelaudit.families.base import HttpRequest, HttpResponse
from modelaudit.families.fields import load_json
from modelaudit.probe.result import HealthState
from modelaudit.vocabulary import ServerEngine

_PATHS = {
    ServerEngine.VLLM: "/health",
    ServerEngine.SGLANG: "/health",
    ServerEngine.LLAMACPP: "/health",
    ServerEngine.TGI: "/health",
    ServerEngine.OLLAMA: "/api/version",
    ServerEngine.LMSTUDIO: "/api/v0/models",
    ServerEngine.LOCALAI: "/readyz",
    ServerEngine.TRITON: "/v2/health/ready",
}


def server_root(base_url: str) -> str:
    return base_url.rstrip("/").removesuffix("/v1")


def health_request(server: ServerEngine, base_url: str) -> HttpRequest:
    return HttpRequest(
        method="GET",
        url=server_root(base_url) + _PATHS[server],
        headers={"accept": "application/json"},
        authenticated=False,
    )


def parse_health(server: ServerEngine, response: HttpResponse) -> HealthState:
    """What the server says about itself.

    * vLLM `/health`: 200 with an empty body; 503 once the engine is dead.
    * SGLang `/health`: 200, or 503 while starting, unhealthy or shutting down (the three
      look alike, so all read as unhealthy).
    * llama.cpp `/health`: 503 `Loading model` while it loads, then 200 `{"status":"ok"}`.
    * TGI `/health`: 200, or 503 `{"error":"unhealthy","error_type":"healthcheck"}`.
    * Ollama `/api/version`: 200 `{"version": ...}` (models load lazily, on request).
    * LM Studio `/api/v0/models`: each model's `state` is `loaded` or `not-loaded`. With
      nothing resident the next request loads a model (JIT) or is refused (JIT off), so the
      server reads as loading; with no model at all, as unhealthy.
    * LocalAI `/readyz`: always 200, even when the model is not loaded (a failed lazy load
      shows only on inference), so it proves only that the process answers.
    * Triton `/v2/health/ready`: 200 when ready, a 4xx otherwise.
    """
    if server is ServerEngine.LLAMACPP:
        return _llamacpp(response)
    if server is ServerEngine.OLLAMA:
        return _ollama(response)
    if server is ServerEngine.LMSTUDIO:
        return _lmstudio(response)
    return HealthState.OK if _success(response) else HealthState.UNHEALTHY


def _success(response: HttpResponse) -> bool:
    return 200 <= response.status < 300


def _json(response: HttpResponse) -> object:
    try:
        return load_json(response.body)
    except ValueError:
        return None


def _llamacpp(response: HttpResponse) -> HealthState:
    # Older builds answered {"status": "loading model"}; newer ones an error envelope.
    loading = b"loading model" in response.body.lower()
    if response.status == 503 and loading:
        return HealthState.LOADING
    if _success(response):
        return HealthState.LOADING if loading else HealthState.OK
    return HealthState.UNHEALTHY


def _ollama(response: HttpResponse) -> HealthState:
    body = _json(response)
    if _success(response) and isinstance(body, dict) and "version" in body:
        return HealthState.OK
    return HealthState.UNHEALTHY


def _lmstudio(response: HttpResponse) -> HealthState:
    body = _json(response)
    models = body.get("data") if isinstance(body, dict) else None
    if not _success(response) or not isinstance(models, list) or not models:
        return HealthState.UNHEALTHY
    states = {model.get("state") for model in models if isinstance(model, dict)}
    return HealthState.OK if "loaded" in states else HealthState.LOADING
