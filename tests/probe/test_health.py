from __future__ import annotations

import json

import pytest

from modelaudit.families.base import HttpResponse
from modelaudit.probe.health import health_request, parse_health
from modelaudit.probe.result import HealthState
from modelaudit.vocabulary import ServerEngine

S = ServerEngine


@pytest.mark.parametrize(
    ("server", "base_url", "url"),
    [
        (S.VLLM, "http://gpu1:8000/v1", "http://gpu1:8000/health"),
        (S.SGLANG, "http://gpu1:30000/v1/", "http://gpu1:30000/health"),
        (S.LLAMACPP, "http://127.0.0.1:8080", "http://127.0.0.1:8080/health"),
        (S.TGI, "http://tgi/v1", "http://tgi/health"),
        (S.OLLAMA, "http://localhost:11434", "http://localhost:11434/api/version"),
        (S.LMSTUDIO, "http://localhost:1234/v1", "http://localhost:1234/api/v0/models"),
        (S.LOCALAI, "http://localai:8080/v1", "http://localai:8080/readyz"),
        (S.TRITON, "http://triton:8000", "http://triton:8000/v2/health/ready"),
    ],
)
def test_health_endpoint_at_the_server_root(server: ServerEngine, base_url: str, url: str) -> None:
    request = health_request(server, base_url)
    assert (request.method, request.url) == ("GET", url)
    assert not request.authenticated


def test_every_engine_has_a_health_request() -> None:
    for server in ServerEngine:
        assert health_request(server, "http://127.0.0.1:9/v1").url.startswith("http://127.0.0.1:9/")


def reply(status: int, body: str | bytes = b"") -> HttpResponse:
    return HttpResponse(status, {}, body.encode() if isinstance(body, str) else body)


@pytest.mark.parametrize(
    ("server", "response", "state"),
    [
        (S.VLLM, reply(200), HealthState.OK),
        (S.VLLM, reply(503), HealthState.UNHEALTHY),
        (S.SGLANG, reply(200), HealthState.OK),
        (S.SGLANG, reply(503), HealthState.UNHEALTHY),
        (S.LLAMACPP, reply(200, '{"status":"ok"}'), HealthState.OK),
        (
            S.LLAMACPP,
            reply(
                503, '{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}'
            ),
            HealthState.LOADING,
        ),
        (S.LLAMACPP, reply(503, '{"status":"loading model"}'), HealthState.LOADING),
        (S.LLAMACPP, reply(500, '{"status":"error"}'), HealthState.UNHEALTHY),
        (S.TGI, reply(200), HealthState.OK),
        (
            S.TGI,
            reply(503, '{"error":"unhealthy","error_type":"healthcheck"}'),
            HealthState.UNHEALTHY,
        ),
        (S.OLLAMA, reply(200, '{"version":"0.12.3"}'), HealthState.OK),
        (S.OLLAMA, reply(200, "<html>captive portal</html>"), HealthState.UNHEALTHY),
        (S.OLLAMA, reply(404, "404 page not found"), HealthState.UNHEALTHY),
        (S.LOCALAI, reply(200, "OK"), HealthState.OK),
        (S.TRITON, reply(200), HealthState.OK),
        (S.TRITON, reply(400), HealthState.UNHEALTHY),
    ],
)
def test_health_readings(server: ServerEngine, response: HttpResponse, state: HealthState) -> None:
    assert parse_health(server, response) is state


def _lmstudio(*states: str) -> HttpResponse:
    models = [
        {
            "id": f"m{i}",
            "object": "model",
            "type": "llm",
            "publisher": "qwen",
            "arch": "qwen3",
            "compatibility_type": "gguf",
            "quantization": "Q4_K_M",
            "state": state,
            "max_context_length": 32768,
        }
        for i, state in enumerate(states)
    ]
    return reply(200, json.dumps({"object": "list", "data": models}))


def test_lmstudio_reads_model_state() -> None:
    assert parse_health(S.LMSTUDIO, _lmstudio("not-loaded", "loaded")) is HealthState.OK
    assert parse_health(S.LMSTUDIO, _lmstudio("not-loaded")) is HealthState.LOADING
    assert parse_health(S.LMSTUDIO, _lmstudio()) is HealthState.UNHEALTHY
    assert parse_health(S.LMSTUDIO, reply(200, "not json")) is HealthState.UNHEALTHY
