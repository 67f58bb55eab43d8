"""FakeOpenAI and its OpenAI-compatible vendor variants speak the real wire format."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.fakes import (
    Behaviour,
    FakeDeepSeek,
    FakeGroq,
    FakeMistral,
    FakeMoonshot,
    FakeOpenAI,
    FakeOpenRouter,
    FakeServer,
    FakeTogether,
    Model,
    json_reply,
)
from tests.fakes.wire import sse_events

KEY = "sk-canary-0123456789"
AUTH = {"authorization": f"Bearer {KEY}"}
MSGS = [{"role": "user", "content": "Reply with the single word: ok"}]


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    models = ["gpt-4o-mini", Model("gpt-4", shutdown_date="2026-06-01", served_as="gpt-4-0613")]
    with FakeOpenAI(key=KEY, models=models) as f:
        yield f


def chat(http: httpx.Client, fake: FakeOpenAI, **body: Any) -> httpx.Response:
    body.setdefault("messages", MSGS)
    return http.post(f"{fake.base_url}/chat/completions", json=body, headers=AUTH)


def test_catalog_shape(http: httpx.Client, fake: FakeOpenAI) -> None:
    assert fake.base_url == f"{fake.url}/v1"
    body = http.get(f"{fake.base_url}/models", headers=AUTH).json()
    assert body == {
        "object": "list",
        "data": [
            {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"},
            {
                "id": "gpt-4",
                "object": "model",
                "created": 1721172741,
                "owned_by": "system",
                "shutdown_date": "2026-06-01",
            },
        ],
    }
    one = http.get(f"{fake.base_url}/models/gpt-4o-mini", headers=AUTH)
    assert one.json()["id"] == "gpt-4o-mini"
    missing = http.get(f"{fake.base_url}/models/gpt-9", headers=AUTH)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "model_not_found"


def test_completion_shape(http: httpx.Client, fake: FakeOpenAI) -> None:
    response = chat(http, fake, model="gpt-4", max_tokens=16)
    assert response.status_code == 200
    assert response.headers["x-request-id"].startswith("req_")
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4-0613"
    assert body["system_fingerprint"] == "fp_fake0c1d2e3"
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "ok", "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    usage = body["usage"]
    assert usage["completion_tokens"] == 1
    assert usage["total_tokens"] == usage["prompt_tokens"] + 1


def test_stream_shape_role_chunk_content_usage_done(http: httpx.Client, fake: FakeOpenAI) -> None:
    fake.behave("gpt-4o-mini", Behaviour.ok("Hello there friend"))
    response = chat(
        http,
        fake,
        model="gpt-4o-mini",
        stream=True,
        stream_options={"include_usage": True},
        max_completion_tokens=16,
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.content)
    assert events[-1].data == "[DONE]"
    chunks = [e.json() for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    texts = [c["choices"][0]["delta"].get("content") for c in chunks[1:4]]
    assert texts == ["Hello", " there", " friend"]
    assert chunks[4]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert chunks[5]["choices"] == []
    assert chunks[5]["usage"]["completion_tokens"] == 3
    assert all(c["usage"] is None for c in chunks[:5])


def test_stream_without_usage_has_no_usage_chunk(http: httpx.Client, fake: FakeOpenAI) -> None:
    events = sse_events(chat(http, fake, model="gpt-4o-mini", stream=True).content)
    assert [e.data for e in events][-1] == "[DONE]"
    assert all("usage" not in e.json() for e in events[:-1])


def test_max_tokens_cuts_with_length(http: httpx.Client, fake: FakeOpenAI) -> None:
    fake.behave("gpt-4o-mini", Behaviour.ok("one two three four"))
    body = chat(http, fake, model="gpt-4o-mini", max_tokens=2).json()
    assert body["choices"][0]["message"]["content"] == "one two"
    assert body["choices"][0]["finish_reason"] == "length"


def test_auth_missing_and_wrong(http: httpx.Client, fake: FakeOpenAI) -> None:
    url = f"{fake.base_url}/chat/completions"
    missing = http.post(url, json={"model": "gpt-4o-mini", "messages": MSGS})
    assert missing.status_code == 401
    assert missing.json()["error"]["message"].startswith("You didn't provide an API key.")
    wrong = http.post(
        url,
        json={"model": "gpt-4o-mini", "messages": MSGS},
        headers={"authorization": "Bearer sk-nope"},
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert http.get(f"{fake.base_url}/models").status_code == 401


def test_scripted_sequence_then_repeat(http: httpx.Client, fake: FakeOpenAI) -> None:
    fake.behave("gpt-4o-mini", [Behaviour.error("overloaded"), Behaviour.ok()])
    statuses = [chat(http, fake, model="gpt-4o-mini").status_code for _ in range(3)]
    assert statuses == [503, 200, 200]
    assert len(fake.generation_requests("gpt-4o-mini")) == 3


def test_rate_limit_retry_after_forms(http: httpx.Client, fake: FakeOpenAI) -> None:
    fake.behave(
        "gpt-4o-mini",
        [
            Behaviour.error("rate_limited", retry_after="2"),
            Behaviour.error("rate_limited", retry_after_ms="1500"),
            Behaviour.error("rate_limited", retry_after="Wed, 21 Oct 2015 07:28:00 GMT"),
        ],
    )
    first, second, third = (chat(http, fake, model="gpt-4o-mini") for _ in range(3))
    assert first.status_code == 429
    assert first.headers["retry-after"] == "2"
    assert "Please try again in 2s" in first.json()["error"]["message"]
    assert first.headers["x-ratelimit-remaining-requests"] == "0"
    assert second.headers["retry-after-ms"] == "1500"
    assert third.headers["retry-after"] == "Wed, 21 Oct 2015 07:28:00 GMT"


def test_named_errors(http: httpx.Client, fake: FakeOpenAI) -> None:
    fake.behave(
        "gpt-4o-mini",
        [
            Behaviour.error("access_denied"),
            Behaviour.error("quota_exhausted"),
            Behaviour.error("region_blocked"),
            Behaviour.error("bad_gateway"),
        ],
    )
    access, quota, region, gateway = (chat(http, fake, model="gpt-4o-mini") for _ in range(4))
    assert access.status_code == 403
    assert access.json()["error"]["code"] == "model_not_found"
    assert "does not have access to model `gpt-4o-mini`" in access.json()["error"]["message"]
    assert quota.status_code == 429
    assert quota.json()["error"]["code"] == "insufficient_quota"
    assert region.json()["error"]["code"] == "unsupported_country_region_territory"
    assert gateway.status_code == 502
    assert gateway.headers["content-type"] == "text/html"


def test_unlisted_model(http: httpx.Client, fake: FakeOpenAI) -> None:
    fake.behave("old-model", Behaviour.unlisted())
    fake.behave("hidden", Behaviour.unlisted(works=True))
    ids = [m["id"] for m in http.get(f"{fake.base_url}/models", headers=AUTH).json()["data"]]
    assert "old-model" not in ids
    assert "hidden" not in ids
    gone = chat(http, fake, model="old-model")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "model_not_found"
    assert chat(http, fake, model="hidden").status_code == 200


def test_max_completion_tokens_rule(http: httpx.Client, fake: FakeOpenAI) -> None:
    fake.add_model("gpt-5")
    fake.behave("gpt-5", Behaviour.needs_max_completion_tokens())
    refused = chat(http, fake, model="gpt-5", max_tokens=1)
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "unsupported_parameter",
    }
    assert chat(http, fake, model="gpt-5", max_completion_tokens=1).status_code == 200


def test_reasoning_model_empty_with_length(http: httpx.Client, fake: FakeOpenAI) -> None:
    fake.behave("gpt-4o-mini", Behaviour.empty_length())
    body = chat(http, fake, model="gpt-4o-mini", max_completion_tokens=4).json()
    assert body["choices"][0]["message"]["content"] == ""
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 4
    events = sse_events(chat(http, fake, model="gpt-4o-mini", stream=True).content)
    finishes = [c["choices"][0]["finish_reason"] for c in (e.json() for e in events[:-1])]
    assert finishes[-1] == "length"


def test_content_filter_stop(http: httpx.Client, fake: FakeOpenAI) -> None:
    fake.behave("gpt-4o-mini", Behaviour.filtered())
    body = chat(http, fake, model="gpt-4o-mini").json()
    assert body["choices"][0]["finish_reason"] == "content_filter"
    assert body["choices"][0]["message"]["content"] is None


def test_stream_error_after_200(http: httpx.Client, fake: FakeOpenAI) -> None:
    fake.behave("gpt-4o-mini", Behaviour.stream_error("server_error"))
    response = chat(http, fake, model="gpt-4o-mini", stream=True)
    assert response.status_code == 200
    events = sse_events(response.content)
    assert events[-1].json()["error"]["type"] == "server_error"
    assert all(e.data != "[DONE]" for e in events)
    assert any(
        e.json().get("choices", [{}])[0].get("delta", {}).get("content") == "ok"
        for e in events[:-1]
    )


def test_cut_stream_clean_and_abrupt(http: httpx.Client, fake: FakeOpenAI) -> None:
    fake.behave("gpt-4o-mini", [Behaviour.cut(), Behaviour.cut(after=2, abrupt=True)])
    clean = chat(http, fake, model="gpt-4o-mini", stream=True)
    events = sse_events(clean.content)
    assert events
    assert all(e.data != "[DONE]" for e in events)
    assert all(e.json()["choices"][0]["finish_reason"] is None for e in events)
    with pytest.raises(httpx.RemoteProtocolError):
        chat(http, fake, model="gpt-4o-mini", stream=True)


def test_stall_mid_stream(fake: FakeOpenAI) -> None:
    fake.behave("gpt-4o-mini", Behaviour.stall(after=2, seconds=0.4))
    seen: list[float] = []
    started = time.perf_counter()
    with (
        httpx.Client(trust_env=False) as client,
        client.stream(
            "POST",
            f"{fake.base_url}/chat/completions",
            json={"model": "gpt-4o-mini", "messages": MSGS, "stream": True},
            headers=AUTH,
        ) as response,
    ):
        for line in response.iter_lines():
            if line:
                seen.append(time.perf_counter() - started)
    gaps = [b - a for a, b in itertools.pairwise(seen)]
    assert max(gaps) >= 0.35
    assert gaps.index(max(gaps)) == 1  # the pause sits before the third frame


def test_stall_read_timeout(fake: FakeOpenAI) -> None:
    fake.behave("gpt-4o-mini", Behaviour.stall(after=1, seconds=5))
    timeout = httpx.Timeout(5, read=0.2)
    with (
        httpx.Client(trust_env=False, timeout=timeout) as client,
        pytest.raises(httpx.ReadTimeout),
        client.stream(
            "POST",
            f"{fake.base_url}/chat/completions",
            json={"model": "gpt-4o-mini", "messages": MSGS, "stream": True},
            headers=AUTH,
        ) as response,
    ):
        for _ in response.iter_lines():
            pass


def test_ttft_and_gap_pacing(fake: FakeOpenAI) -> None:
    fake.behave("gpt-4o-mini", Behaviour.ok("a b c", ttft_s=0.3, gap_s=0.1))
    arrivals: list[tuple[float, str]] = []
    started = time.perf_counter()
    with (
        httpx.Client(trust_env=False) as client,
        client.stream(
            "POST",
            f"{fake.base_url}/chat/completions",
            json={"model": "gpt-4o-mini", "messages": MSGS, "stream": True},
            headers=AUTH,
        ) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("data: {"):
                arrivals.append((time.perf_counter() - started, line))
    first_text = next(t for t, line in arrivals if '"content":"a"' in line)
    role = arrivals[0][0]
    assert first_text - role >= 0.25
    assert arrivals[-1][0] - first_text >= 0.15


def test_malformed_and_html(http: httpx.Client, fake: FakeOpenAI) -> None:
    fake.behave("gpt-4o-mini", [Behaviour.malformed(), Behaviour.html(), Behaviour.malformed()])
    bad = chat(http, fake, model="gpt-4o-mini")
    assert bad.status_code == 200
    with pytest.raises(ValueError, match=r"Expecting|Unterminated|delimiter"):
        bad.json()
    page = chat(http, fake, model="gpt-4o-mini")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.lstrip().startswith("<!DOCTYPE html>")
    events = sse_events(chat(http, fake, model="gpt-4o-mini", stream=True).content)
    broken = 0
    for event in events[:-1]:  # the last one is [DONE]
        try:
            event.json()
        except ValueError:
            broken += 1
    assert broken == 1


def test_slow_trickle_reset_and_redirect(http: httpx.Client, fake: FakeOpenAI) -> None:
    with FakeServer() as other:
        other.route("POST", "/v1/chat/completions", json_reply({"moved": True}))
        fake.behave(
            "gpt-4o-mini",
            [
                Behaviour.slow_headers(0.3),
                Behaviour.trickling(8, 0.001),
                Behaviour.reset(),
                Behaviour.redirect(other),
            ],
        )
        started = time.perf_counter()
        assert chat(http, fake, model="gpt-4o-mini").status_code == 200
        assert time.perf_counter() - started >= 0.3
        assert (
            chat(http, fake, model="gpt-4o-mini").json()["choices"][0]["message"]["content"] == "ok"
        )
        with pytest.raises(httpx.ReadError):
            chat(http, fake, model="gpt-4o-mini")
        moved = chat(http, fake, model="gpt-4o-mini")
        assert moved.status_code == 307
        assert moved.headers["location"] == f"{other.url}/v1/chat/completions"


def test_catalog_misbehaviour(http: httpx.Client, fake: FakeOpenAI) -> None:
    fake.behave_catalog([Behaviour.error("server_error"), Behaviour.ok()])
    assert http.get(f"{fake.base_url}/models", headers=AUTH).status_code == 500
    assert http.get(f"{fake.base_url}/models", headers=AUTH).status_code == 200


def test_unknown_path_and_bad_json(http: httpx.Client, fake: FakeOpenAI) -> None:
    unknown = http.get(f"{fake.base_url}/assistants", headers=AUTH)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "Invalid URL (GET /v1/assistants)"
    bad = http.post(f"{fake.base_url}/chat/completions", content=b"not json", headers=AUTH)
    assert bad.status_code == 400
    assert "could not parse the JSON body" in bad.json()["error"]["message"]
    no_messages = http.post(
        f"{fake.base_url}/chat/completions", json={"model": "gpt-4o-mini"}, headers=AUTH
    )
    assert no_messages.json()["error"]["code"] == "missing_required_parameter"


# --- vendors --------------------------------------------------------------------------------


def test_groq(http: httpx.Client) -> None:
    with FakeGroq(key=KEY, models=["llama-3.1-8b-instant", Model("old", active=False)]) as fake:
        assert fake.base_url.endswith("/openai/v1")
        data = http.get(f"{fake.base_url}/models", headers=AUTH).json()["data"]
        assert [(m["id"], m["active"]) for m in data] == [
            ("llama-3.1-8b-instant", True),
            ("old", False),
        ]
        fake.behave("old", Behaviour.error("model_deprecated"))
        gone = chat(http, fake, model="old")
        assert gone.status_code == 400
        assert gone.json()["error"]["code"] == "model_decommissioned"
        assert "param" not in gone.json()["error"]
        fake.behave("llama-3.1-8b-instant", Behaviour.error("request_too_large"))
        big = chat(http, fake, model="llama-3.1-8b-instant")
        assert big.status_code == 413
        assert big.json()["error"]["code"] == "rate_limit_exceeded"


def test_together_bare_array(http: httpx.Client) -> None:
    with FakeTogether(key=KEY, models=["meta-llama/Llama-3.3-70B-Instruct-Turbo"]) as fake:
        body = http.get(f"{fake.base_url}/models", headers=AUTH).json()
        assert isinstance(body, list)
        assert body[0]["id"] == "meta-llama/Llama-3.3-70B-Instruct-Turbo"
        assert body[0]["type"] == "chat"
        assert set(body[0]["pricing"]) >= {"input", "output"}
        unknown = chat(http, fake, model="nope")
        assert unknown.status_code == 400
        assert unknown.json()["error"]["code"] == "model_not_available"


def test_mistral_deprecation_fields(http: httpx.Client) -> None:
    models = [
        "mistral-small-latest",
        Model(
            "open-mistral-7b",
            deprecation="2025-03-30T12:00:00Z",
            deprecation_replacement_model="ministral-8b-latest",
        ),
    ]
    with FakeMistral(key=KEY, models=models) as fake:
        data = http.get(f"{fake.base_url}/models", headers=AUTH).json()["data"]
        assert data[0]["deprecation"] is None
        assert data[1]["deprecation"] == "2025-03-30T12:00:00Z"
        assert data[1]["deprecation_replacement_model"] == "ministral-8b-latest"
        unknown = chat(http, fake, model="nope")
        assert unknown.status_code == 400
        assert unknown.json() == {
            "object": "error",
            "message": "Invalid model: nope",
            "type": "invalid_model",
            "param": None,
            "code": "1500",
        }
        assert http.get(f"{fake.base_url}/models").json() == {"detail": "Unauthorized"}


def test_openrouter_list_without_key(http: httpx.Client) -> None:
    models = ["openai/gpt-4o-mini", Model("x/retiring", expiration_date="2026-01-15")]
    with FakeOpenRouter(key=KEY, models=models) as fake:
        assert fake.base_url.endswith("/api/v1")
        data = http.get(f"{fake.base_url}/models").json()["data"]
        assert [m["expiration_date"] for m in data] == [None, "2026-01-15"]
        events = sse_events(chat(http, fake, model="openai/gpt-4o-mini", stream=True).content)
        assert events[-1].data == "[DONE]"
        raw = chat(http, fake, model="openai/gpt-4o-mini", stream=True).text
        assert raw.startswith(": OPENROUTER PROCESSING\n\n")
        fake.behave("openai/gpt-4o-mini", Behaviour.error("quota_exhausted"))
        assert chat(http, fake, model="openai/gpt-4o-mini").status_code == 402


def test_deepseek_reasoning_stream_and_balance(http: httpx.Client) -> None:
    with FakeDeepSeek(key=KEY, models=["deepseek-reasoner"]) as fake:
        assert fake.base_url == fake.url
        fake.behave("deepseek-reasoner", Behaviour.ok("ok", reasoning="Let me think"))
        events = sse_events(chat(http, fake, model="deepseek-reasoner", stream=True).content)
        deltas = [e.json()["choices"][0]["delta"] for e in events[1:-2]]
        assert deltas[0] == {"content": None, "reasoning_content": "Let"}
        assert deltas[-1] == {"content": "ok"}
        fake.behave("deepseek-reasoner", Behaviour.error("quota_exhausted"))
        broke = http.post(
            f"{fake.url}/v1/chat/completions",
            json={"model": "deepseek-reasoner", "messages": MSGS},
            headers=AUTH,
        )
        assert broke.status_code == 402
        assert broke.json()["error"]["message"] == "Insufficient Balance"


def test_moonshot_overload_is_429(http: httpx.Client) -> None:
    with FakeMoonshot(key=KEY, models=["kimi-k2"]) as fake:
        fake.behave("kimi-k2", Behaviour.error("overloaded"))
        response = chat(http, fake, model="kimi-k2")
        assert response.status_code == 429
        assert response.json() == {
            "error": {
                "message": "The engine is currently overloaded, please try again later",
                "type": "engine_overloaded_error",
            }
        }


def test_family_fake_over_self_signed_tls() -> None:
    import trustme

    with FakeOpenAI(key=KEY, models=["gpt-4o-mini"], tls=trustme.CA()) as fake:
        assert fake.base_url.startswith("https://127.0.0.1:")
        assert fake.ca_path is not None
        with httpx.Client(trust_env=False, verify=fake.server.client_ssl_context()) as trusted:
            assert trusted.get(f"{fake.base_url}/models", headers=AUTH).status_code == 200
        with (
            httpx.Client(trust_env=False) as untrusted,
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
        ):
            untrusted.get(f"{fake.base_url}/models", headers=AUTH)


def test_catalog_then_stream_then_completion_share_one_connection(fake: FakeOpenAI) -> None:
    with httpx.Client(trust_env=False, headers=AUTH) as client:
        assert client.get(f"{fake.base_url}/models").status_code == 200
        with client.stream(
            "POST",
            f"{fake.base_url}/chat/completions",
            json={"model": "gpt-4o-mini", "messages": MSGS, "stream": True},
        ) as response:
            assert sse_events(response.read())[-1].data == "[DONE]"
        assert chat(client, fake, model="gpt-4o-mini").status_code == 200
    assert fake.connections == 1


def test_retry_after_as_http_date(http: httpx.Client, fake: FakeOpenAI) -> None:
    from email.utils import parsedate_to_datetime

    from tests.fakes import http_date

    fake.behave("gpt-4o-mini", Behaviour.error("rate_limited", retry_after=http_date(30)))
    value = chat(http, fake, model="gpt-4o-mini").headers["retry-after"]
    assert value.endswith(" GMT")
    assert parsedate_to_datetime(value).tzinfo is not None
