"""FakeGemini and FakeOllama speak the real wire formats."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from tests.fakes import Behaviour, FakeGemini, FakeOllama
from tests.fakes.wire import ndjson_lines, sse_events

GH = {"x-goog-api-key": "AIza-test"}
CONTENTS = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


@pytest.fixture
def gemini() -> Iterator[FakeGemini]:
    with FakeGemini(key="AIza-test", models=[f"gemini-fake-{i}" for i in range(7)]) as f:
        yield f


def test_gemini_pagination_and_names(http: httpx.Client, gemini: FakeGemini) -> None:
    names: list[str] = []
    params: dict[str, str | int] = {"pageSize": 3}
    pages = 0
    while True:
        body = http.get(f"{gemini.url}/v1beta/models", params=params, headers=GH).json()
        pages += 1
        names.extend(m["name"] for m in body["models"])
        if "nextPageToken" not in body:
            break
        params = {"pageSize": 3, "pageToken": body["nextPageToken"]}
    assert pages == 3
    assert names == [f"models/gemini-fake-{i}" for i in range(7)]
    entry = http.get(f"{gemini.url}/v1beta/models/gemini-fake-0", headers=GH).json()
    assert entry["supportedGenerationMethods"][0] == "generateContent"
    assert {"inputTokenLimit", "outputTokenLimit", "version", "displayName"} <= set(entry)
    bad = http.get(f"{gemini.url}/v1beta/models", params={"pageToken": "garbage!"}, headers=GH)
    assert bad.status_code == 400


def test_gemini_generate_content_shape(http: httpx.Client, gemini: FakeGemini) -> None:
    response = http.post(
        f"{gemini.url}/v1beta/models/gemini-fake-0:generateContent", json=CONTENTS, headers=GH
    )
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    assert response.text.startswith("{\n  ")  # pretty-printed like Google's
    body = response.json()
    assert body["candidates"] == [
        {
            "content": {"parts": [{"text": "ok"}], "role": "model"},
            "finishReason": "STOP",
            "index": 0,
        }
    ]
    assert body["usageMetadata"]["candidatesTokenCount"] == 1
    assert body["modelVersion"] == "gemini-fake-0"
    assert "responseId" in body


def test_gemini_sse_stream_crlf_last_event_finishes(http: httpx.Client, gemini: FakeGemini) -> None:
    gemini.behave("gemini-fake-0", Behaviour.ok("one two three"))
    response = http.post(
        f"{gemini.url}/v1beta/models/gemini-fake-0:streamGenerateContent",
        params={"alt": "sse"},
        json=CONTENTS,
        headers=GH,
    )
    assert response.headers["content-type"] == "text/event-stream"
    assert response.content.count(b"\r\n\r\n") == 3
    assert b"[DONE]" not in response.content
    events = [e.json() for e in sse_events(response.content)]
    texts = [e["candidates"][0]["content"]["parts"][0]["text"] for e in events]
    assert texts == ["one", " two", " three"]
    assert [e["candidates"][0].get("finishReason") for e in events] == [None, None, "STOP"]
    assert "candidatesTokenCount" in events[-1]["usageMetadata"]


def test_gemini_stream_without_sse_is_one_array(http: httpx.Client, gemini: FakeGemini) -> None:
    gemini.behave("gemini-fake-0", Behaviour.ok("one two"))
    ok = http.post(
        f"{gemini.url}/v1beta/models/gemini-fake-0:streamGenerateContent",
        json=CONTENTS,
        headers=GH,
    )
    array = json.loads(ok.content)
    assert isinstance(array, list)
    assert len(array) == 2
    missing = http.post(
        f"{gemini.url}/v1beta/models/nope:streamGenerateContent", json=CONTENTS, headers=GH
    )
    assert missing.status_code == 404
    wrapped = missing.json()
    assert isinstance(wrapped, list)
    assert wrapped[0]["error"]["status"] == "NOT_FOUND"


def test_gemini_auth(http: httpx.Client, gemini: FakeGemini) -> None:
    url = f"{gemini.url}/v1beta/models/gemini-fake-0:generateContent"
    wrong = http.post(url, json=CONTENTS, headers={"x-goog-api-key": "nope"})
    assert wrong.status_code == 400
    error = wrong.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["reason"] == "API_KEY_INVALID"
    assert http.post(url, json=CONTENTS).status_code == 403
    assert http.post(url, params={"key": "AIza-test"}, json=CONTENTS).status_code == 200


def test_gemini_rate_limit_retry_info(http: httpx.Client, gemini: FakeGemini) -> None:
    gemini.behave("gemini-fake-1", Behaviour.error("rate_limited", retry_s="26"))
    response = http.post(
        f"{gemini.url}/v1beta/models/gemini-fake-1:generateContent", json=CONTENTS, headers=GH
    )
    assert response.status_code == 429
    details = {d["@type"].rsplit(".", 1)[-1]: d for d in response.json()["error"]["details"]}
    assert details["RetryInfo"]["retryDelay"] == "26s"
    violation = details["QuotaFailure"]["violations"][0]
    assert violation["quotaId"] == "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
    assert violation["quotaDimensions"]["model"] == "gemini-fake-1"


def test_gemini_200_without_text(http: httpx.Client, gemini: FakeGemini) -> None:
    gemini.behave(
        "gemini-fake-2",
        [Behaviour.empty_length(), Behaviour.filtered(prompt=True), Behaviour.filtered()],
    )
    url = f"{gemini.url}/v1beta/models/gemini-fake-2:generateContent"
    body = {**CONTENTS, "generationConfig": {"maxOutputTokens": 16}}
    thinking = http.post(url, json=body, headers=GH).json()
    assert thinking["candidates"] == [
        {"content": {"role": "model"}, "finishReason": "MAX_TOKENS", "index": 0}
    ]
    assert thinking["usageMetadata"]["thoughtsTokenCount"] == 16
    blocked = http.post(url, json=body, headers=GH).json()
    assert "candidates" not in blocked
    assert blocked["promptFeedback"]["blockReason"] == "SAFETY"
    unsafe = http.post(url, json=body, headers=GH).json()
    assert unsafe["candidates"][0]["finishReason"] == "SAFETY"


def test_gemini_count_tokens_and_unknown_path(http: httpx.Client, gemini: FakeGemini) -> None:
    counted = http.post(
        f"{gemini.url}/v1beta/models/gemini-fake-0:countTokens", json=CONTENTS, headers=GH
    )
    assert counted.json()["totalTokens"] >= 1
    unknown = http.get(f"{gemini.url}/v1beta/nothing", headers=GH)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("text/html")


# --- Ollama -----------------------------------------------------------------------------------


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    with FakeOllama(models=["llama3.2", "qwen3:0.6b"]) as f:
        yield f


def test_ollama_root_version_tags(http: httpx.Client, ollama: FakeOllama) -> None:
    assert http.get(f"{ollama.url}/").text == "Ollama is running"
    assert set(http.get(f"{ollama.url}/api/version").json()) == {"version"}
    models = http.get(f"{ollama.url}/api/tags").json()["models"]
    assert [m["name"] for m in models] == ["llama3.2:latest", "qwen3:0.6b"]
    assert len(models[0]["digest"]) == 64
    assert models[0]["details"]["format"] == "gguf"


def test_ollama_chat_streams_ndjson_by_default(http: httpx.Client, ollama: FakeOllama) -> None:
    ollama.behave("llama3.2", Behaviour.ok("Hello there"))
    response = http.post(
        f"{ollama.url}/api/chat",
        json={"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = ndjson_lines(response.content)
    assert [line["done"] for line in lines] == [False, False, True]
    assert [line["message"]["content"] for line in lines] == ["Hello", " there", ""]
    final = lines[-1]
    assert final["done_reason"] == "stop"
    for field in (
        "total_duration",
        "load_duration",
        "prompt_eval_count",
        "eval_count",
        "eval_duration",
    ):
        assert isinstance(final[field], int)
    loaded = http.get(f"{ollama.url}/api/ps").json()["models"]
    assert [m["name"] for m in loaded] == ["llama3.2:latest"]


def test_ollama_generate_non_stream_and_load_only(http: httpx.Client, ollama: FakeOllama) -> None:
    one = http.post(
        f"{ollama.url}/api/generate",
        json={
            "model": "qwen3:0.6b",
            "prompt": "hi",
            "stream": False,
            "options": {"num_predict": 1},
        },
    ).json()
    assert one["done"] is True
    assert one["response"] == "ok"
    assert isinstance(one["context"], list)
    load = ndjson_lines(
        http.post(f"{ollama.url}/api/generate", json={"model": "qwen3:0.6b"}).content
    )
    assert load == [
        {
            "model": "qwen3:0.6b",
            "created_at": load[0]["created_at"],
            "response": "",
            "done": True,
            "done_reason": "load",
        }
    ]


def test_ollama_errors(http: httpx.Client, ollama: FakeOllama) -> None:
    missing = http.post(
        f"{ollama.url}/api/chat",
        json={"model": "nope", "messages": [{"role": "user", "content": "x"}]},
    )
    assert missing.status_code == 404
    assert missing.json() == {"error": "model 'nope' not found"}
    assert http.post(f"{ollama.url}/api/show", json={"model": "nope"}).status_code == 404
    assert http.post(f"{ollama.url}/api/show", json={"model": "llama3.2"}).status_code == 200
    ollama.behave(
        "llama3.2", [Behaviour.stream_error("server_error"), Behaviour.error("overloaded")]
    )
    streamed = http.post(
        f"{ollama.url}/api/chat",
        json={"model": "llama3.2", "messages": [{"role": "user", "content": "x"}]},
    )
    assert streamed.status_code == 200
    lines = ndjson_lines(streamed.content)
    assert lines[-1] == {"error": "llama runner process has terminated: exit status 2"}
    assert not any(line.get("done") for line in lines)
    busy = http.post(
        f"{ollama.url}/api/chat",
        json={"model": "llama3.2", "messages": [{"role": "user", "content": "x"}]},
    )
    assert busy.status_code == 503
    assert "server busy" in busy.json()["error"]


def test_gemini_error_inside_a_stream(http: httpx.Client, gemini: FakeGemini) -> None:
    gemini.behave("gemini-fake-3", Behaviour.stream_error("overloaded"))
    url = f"{gemini.url}/v1beta/models/gemini-fake-3:streamGenerateContent"
    sse = http.post(url, params={"alt": "sse"}, json=CONTENTS, headers=GH)
    assert sse.status_code == 200
    assert sse_events(sse.content)[-1].json()["error"]["status"] == "UNAVAILABLE"
    array = json.loads(http.post(url, json=CONTENTS, headers=GH).content)
    assert array[-1]["error"]["code"] == 503
    assert "candidates" in array[0]
