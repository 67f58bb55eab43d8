"""The self-hosted variants: llama.cpp, vLLM, LiteLLM."""

from __future__ import annotations

import httpx
import pytest
from tests.fakes import Behaviour, FakeLiteLLM, FakeLlamaCpp, FakeVLLM
from tests.fakes.wire import sse_events

MSGS = [{"role": "user", "content": "hi"}]


def test_llamacpp_any_model_name_and_both_lists(http: httpx.Client) -> None:
    with FakeLlamaCpp(alias="smollm2-135m") as fake:
        assert http.get(f"{fake.url}/health").json() == {"status": "ok"}
        models = http.get(f"{fake.base_url}/models").json()
        assert models["data"][0]["id"] == "smollm2-135m"
        assert models["models"][0]["name"] == "smollm2-135m"
        reply = http.post(
            f"{fake.base_url}/chat/completions",
            json={"model": "no-such-model", "messages": MSGS, "max_tokens": 1},
        ).json()
        assert reply["model"] == "smollm2-135m"
        assert reply["system_fingerprint"] == "b0-unknown"
        assert "timings" in reply
        events = sse_events(
            http.post(
                f"{fake.base_url}/chat/completions",
                json={"model": "x", "messages": MSGS, "stream": True},
            ).content
        )
        assert events[0].json()["choices"][0]["delta"] == {"role": "assistant", "content": None}
        assert events[-1].data == "[DONE]"
        assert "timings" in events[-2].json()


def test_llamacpp_loading_and_key(http: httpx.Client) -> None:
    with FakeLlamaCpp(key="sk-local") as fake:
        fake.loading = True
        loading = http.get(f"{fake.url}/health")
        assert loading.status_code == 503
        assert loading.json() == {
            "error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}
        }
        assert http.get(f"{fake.base_url}/models").status_code == 503
        fake.loading = False
        assert http.get(f"{fake.url}/health").status_code == 200  # /health needs no key
        denied = http.post(f"{fake.base_url}/chat/completions", json={"messages": MSGS})
        assert denied.status_code == 401
        assert denied.json()["error"]["message"] == "Invalid API Key"
        for headers in ({"authorization": "Bearer sk-local"}, {"x-api-key": "sk-local"}):
            ok = http.post(
                f"{fake.base_url}/chat/completions", json={"messages": MSGS}, headers=headers
            )
            assert ok.status_code == 200


def test_llamacpp_health_script(http: httpx.Client) -> None:
    with FakeLlamaCpp() as fake:
        fake.behave_health([Behaviour.error("loading"), Behaviour.ok()])
        assert [http.get(f"{fake.url}/health").status_code for _ in range(3)] == [503, 200, 200]


def test_vllm(http: httpx.Client) -> None:
    with FakeVLLM(models=["Qwen/Qwen3-0.6B"], key="tok") as fake:
        health = http.get(f"{fake.url}/health")
        assert health.status_code == 200
        assert health.content == b""
        entry = http.get(f"{fake.base_url}/models", headers={"authorization": "Bearer tok"}).json()[
            "data"
        ][0]
        assert entry["owned_by"] == "vllm"
        assert entry["max_model_len"] == 4096
        assert http.get(f"{fake.base_url}/models").json() == {"error": "Unauthorized"}
        missing = http.post(
            f"{fake.base_url}/chat/completions",
            json={"model": "nope", "messages": MSGS},
            headers={"authorization": "Bearer tok"},
        )
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "NotFoundError"
        fake.behave_health(Behaviour.error("engine_dead"))
        assert http.get(f"{fake.url}/health").status_code == 503


def test_litellm_like_measured(http: httpx.Client) -> None:
    with FakeLiteLLM.like_measured() as fake:
        auth = {"authorization": "Bearer sk-local-test-0123456789"}
        assert http.get(f"{fake.url}/health/liveliness").json() == "I'm alive!"
        ids = [m["id"] for m in http.get(f"{fake.base_url}/models", headers=auth).json()["data"]]
        assert ids == ["gpt-4o-mini", "claude-3-5-haiku", "mock-rate-limited", "mock-server-error"]
        url = f"{fake.base_url}/chat/completions"
        assert (
            http.post(
                url, json={"model": "mock-rate-limited", "messages": MSGS}, headers=auth
            ).status_code
            == 429
        )
        assert (
            http.post(
                url, json={"model": "mock-server-error", "messages": MSGS}, headers=auth
            ).status_code
            == 500
        )
        unknown = http.post(url, json={"model": "nope", "messages": MSGS}, headers=auth)
        assert unknown.status_code == 400
        assert "Invalid model name passed in model=nope" in unknown.json()["error"]["message"]
        assert http.post(url, json={"model": "gpt-4o-mini", "messages": MSGS}).status_code == 401
        wrong = http.post(
            url,
            json={"model": "gpt-4o-mini", "messages": MSGS},
            headers={"authorization": "Bearer x"},
        )
        assert wrong.status_code == 400
        assert wrong.json()["error"]["type"] == "no_db_connection"
        events = sse_events(
            http.post(
                url, json={"model": "gpt-4o-mini", "messages": MSGS, "stream": True}, headers=auth
            ).content
        )
        first = events[0].json()["choices"][0]
        assert first["delta"]["role"] == "assistant"
        assert first["delta"]["content"] == "Hello"
        assert events[-2].json()["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
        assert events[-1].data == "[DONE]"
        assert (
            http.post(
                f"{fake.url}/chat/completions",
                json={"model": "gpt-4o-mini", "messages": MSGS},
                headers=auth,
            ).status_code
            == 200
        )


def test_llamacpp_dropping_the_connection_after_a_stream() -> None:
    with FakeLlamaCpp() as fake, httpx.Client(trust_env=False) as client:
        fake.behave("smollm2-135m", Behaviour.ok().dropping_next(), on="stream")
        streamed = client.post(
            f"{fake.base_url}/chat/completions",
            json={"model": "smollm2-135m", "messages": MSGS, "stream": True},
        )
        assert sse_events(streamed.content)[-1].data == "[DONE]"
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(f"{fake.url}/metrics")
