"""FakeAzure and FakeAnthropic speak the real wire formats."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.fakes import Behaviour, FakeAnthropic, FakeAzure, Model
from tests.fakes.wire import sse_events

MSGS = [{"role": "user", "content": "hi"}]
V = {"api-version": "2024-10-21"}

# --- Azure ------------------------------------------------------------------------------------


@pytest.fixture
def azure() -> Iterator[FakeAzure]:
    models = [
        "gpt-4o-mini-2024-07-18",
        Model(
            "gpt-35-turbo-0613",
            lifecycle_status="deprecated",
            deprecation={"fine_tune": 1700000000, "inference": 1739000000},
        ),
    ]
    with FakeAzure(
        key="az-key", deployments={"prod": "gpt-4o-mini-2024-07-18"}, models=models
    ) as f:
        yield f


def test_azure_catalog_lifecycle(http: httpx.Client, azure: FakeAzure) -> None:
    body = http.get(f"{azure.url}/openai/models", params=V, headers={"api-key": "az-key"}).json()
    assert body["object"] == "list"
    old = body["data"][1]
    assert old["lifecycle_status"] == "deprecated"
    assert old["deprecation"] == {"fine_tune": 1700000000, "inference": 1739000000}
    assert old["capabilities"]["chat_completion"] is True


def test_azure_deployment_completion(http: httpx.Client, azure: FakeAzure) -> None:
    response = http.post(
        f"{azure.url}/openai/deployments/prod/chat/completions",
        params=V,
        json={"messages": MSGS},
        headers={"api-key": "az-key"},
    )
    assert response.status_code == 200
    assert response.headers["x-ms-region"] == "swedencentral"
    body = response.json()
    assert body["model"] == "gpt-4o-mini-2024-07-18"
    assert body["prompt_filter_results"][0]["content_filter_results"]["hate"] == {
        "filtered": False,
        "severity": "safe",
    }
    assert "content_filter_results" in body["choices"][0]
    bearer = http.post(
        f"{azure.url}/openai/deployments/prod/chat/completions",
        params=V,
        json={"messages": MSGS},
        headers={"authorization": "Bearer az-key"},
    )
    assert bearer.status_code == 200


def test_azure_stream_starts_with_prompt_filter_chunk(http: httpx.Client, azure: FakeAzure) -> None:
    response = http.post(
        f"{azure.url}/openai/deployments/prod/chat/completions",
        params=V,
        json={"messages": MSGS, "stream": True},
        headers={"api-key": "az-key"},
    )
    events = sse_events(response.content)
    first = events[0].json()
    assert first["id"] == ""
    assert first["choices"] == []
    assert first["prompt_filter_results"][0]["prompt_index"] == 0
    assert events[1].json()["choices"][0]["delta"]["role"] == "assistant"
    assert events[2].json()["choices"][0]["delta"] == {"content": "ok"}
    assert events[-1].data == "[DONE]"


def test_azure_errors(http: httpx.Client, azure: FakeAzure) -> None:
    url = f"{azure.url}/openai/deployments"
    missing = http.post(
        f"{url}/nope/chat/completions",
        params=V,
        json={"messages": MSGS},
        headers={"api-key": "az-key"},
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "DeploymentNotFound"
    no_version = http.post(
        f"{url}/prod/chat/completions", json={"messages": MSGS}, headers={"api-key": "az-key"}
    )
    assert no_version.status_code == 404
    bad_key = http.post(
        f"{url}/prod/chat/completions", params=V, json={"messages": MSGS}, headers={"api-key": "x"}
    )
    assert bad_key.status_code == 401
    assert bad_key.json()["error"]["code"] == "401"
    azure.behave(
        "prod",
        [Behaviour.error("rate_limited", retry_after="6"), Behaviour.error("content_filtered")],
    )
    limited = http.post(
        f"{url}/prod/chat/completions",
        params=V,
        json={"messages": MSGS},
        headers={"api-key": "az-key"},
    )
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "6"
    assert "Please retry after 6 seconds" in limited.json()["error"]["message"]
    assert "API version 2024-10-21" in limited.json()["error"]["message"]
    filtered = http.post(
        f"{url}/prod/chat/completions",
        params=V,
        json={"messages": MSGS},
        headers={"api-key": "az-key"},
    )
    assert filtered.json()["error"]["code"] == "content_filter"
    assert filtered.json()["error"]["innererror"]["code"] == "ResponsibleAIPolicyViolation"


def test_azure_filtered_200(http: httpx.Client, azure: FakeAzure) -> None:
    azure.behave("prod", Behaviour.filtered())
    body = http.post(
        f"{azure.url}/openai/deployments/prod/chat/completions",
        params=V,
        json={"messages": MSGS},
        headers={"api-key": "az-key"},
    ).json()
    choice = body["choices"][0]
    assert choice["finish_reason"] == "content_filter"
    assert choice["content_filter_results"]["violence"]["filtered"] is True


def test_azure_v1_surface(http: httpx.Client, azure: FakeAzure) -> None:
    models = http.get(f"{azure.url}/openai/v1/models", headers={"api-key": "az-key"}).json()
    assert [m["id"] for m in models["data"]] == ["prod"]
    reply = http.post(
        f"{azure.url}/openai/v1/chat/completions",
        json={"model": "prod", "messages": MSGS},
        headers={"api-key": "az-key"},
    )
    assert reply.json()["model"] == "gpt-4o-mini-2024-07-18"


# --- Anthropic --------------------------------------------------------------------------------

AH = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}


@pytest.fixture
def anthropic() -> Iterator[FakeAnthropic]:
    models = [f"claude-fake-{i:02d}" for i in range(45)]
    with FakeAnthropic(key="sk-ant-test", models=models) as f:
        yield f


def test_anthropic_pagination_spans_pages(http: httpx.Client, anthropic: FakeAnthropic) -> None:
    seen: list[str] = []
    pages = 0
    params: dict[str, str | int] = {}
    while True:
        body = http.get(f"{anthropic.url}/v1/models", params=params, headers=AH).json()
        pages += 1
        assert set(body) == {"data", "has_more", "first_id", "last_id"}
        seen.extend(m["id"] for m in body["data"])
        assert body["first_id"] == body["data"][0]["id"]
        if not body["has_more"]:
            break
        params = {"after_id": body["last_id"]}
    assert pages == 3  # default limit 20
    assert seen == [f"claude-fake-{i:02d}" for i in range(45)]
    small = http.get(f"{anthropic.url}/v1/models", params={"limit": 5}, headers=AH).json()
    assert len(small["data"]) == 5
    before = http.get(
        f"{anthropic.url}/v1/models", params={"limit": 2, "before_id": "claude-fake-10"}, headers=AH
    ).json()
    assert [m["id"] for m in before["data"]] == ["claude-fake-08", "claude-fake-09"]
    entry = small["data"][0]
    assert set(entry) == {"type", "id", "display_name", "created_at"}
    assert entry["type"] == "model"


def test_anthropic_message_shape(http: httpx.Client, anthropic: FakeAnthropic) -> None:
    response = http.post(
        f"{anthropic.url}/v1/messages",
        json={"model": "claude-fake-01", "max_tokens": 1, "messages": MSGS},
        headers=AH,
    )
    assert response.headers["request-id"].startswith("req_")
    body = response.json()
    assert body["type"] == "message"
    assert body["content"] == [{"type": "text", "text": "ok"}]
    assert body["stop_reason"] == "end_turn"
    assert body["usage"]["output_tokens"] == 1


def test_anthropic_stream_event_order(http: httpx.Client, anthropic: FakeAnthropic) -> None:
    anthropic.behave("claude-fake-01", Behaviour.ok("one two three"))
    response = http.post(
        f"{anthropic.url}/v1/messages",
        json={"model": "claude-fake-01", "max_tokens": 2, "messages": MSGS, "stream": True},
        headers=AH,
    )
    events = sse_events(response.content)
    names = [e.event for e in events]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(e.json()["type"] == e.event for e in events)
    assert events[3].json()["delta"] == {"type": "text_delta", "text": "one"}
    assert events[6].json()["delta"]["stop_reason"] == "max_tokens"
    assert all(e.data != "[DONE]" for e in events)


def test_anthropic_error_event_after_200(http: httpx.Client, anthropic: FakeAnthropic) -> None:
    anthropic.behave("claude-fake-01", Behaviour.stream_error("overloaded"))
    response = http.post(
        f"{anthropic.url}/v1/messages",
        json={"model": "claude-fake-01", "max_tokens": 5, "messages": MSGS, "stream": True},
        headers=AH,
    )
    assert response.status_code == 200
    last = sse_events(response.content)[-1]
    assert last.event == "error"
    assert last.json() == {
        "type": "error",
        "error": {"details": None, "type": "overloaded_error", "message": "Overloaded"},
    }


def test_anthropic_auth_version_and_validation(
    http: httpx.Client, anthropic: FakeAnthropic
) -> None:
    url = f"{anthropic.url}/v1/messages"
    body = {"model": "claude-fake-01", "max_tokens": 1, "messages": MSGS}
    missing = http.post(url, json=body, headers={"anthropic-version": "2023-06-01"})
    assert missing.status_code == 401
    assert missing.json()["error"] == {
        "type": "authentication_error",
        "message": "x-api-key header is required",
    }
    wrong = http.post(url, json=body, headers={**AH, "x-api-key": "nope"})
    assert wrong.json()["error"]["message"] == "invalid x-api-key"
    no_version = http.post(url, json=body, headers={"x-api-key": "sk-ant-test"})
    assert no_version.status_code == 400
    no_max = http.post(url, json={"model": "claude-fake-01", "messages": MSGS}, headers=AH)
    assert no_max.json()["error"]["message"] == "max_tokens: Field required"
    unknown = http.post(url, json={**body, "model": "claude-2.1"}, headers=AH)
    assert unknown.status_code == 404
    assert unknown.json()["error"] == {"type": "not_found_error", "message": "model: claude-2.1"}


def test_anthropic_overloaded_and_credit(http: httpx.Client, anthropic: FakeAnthropic) -> None:
    anthropic.behave(
        "claude-fake-01", [Behaviour.error("overloaded"), Behaviour.error("quota_exhausted")]
    )
    url = f"{anthropic.url}/v1/messages"
    body = {"model": "claude-fake-01", "max_tokens": 1, "messages": MSGS}
    overloaded = http.post(url, json=body, headers=AH)
    assert overloaded.status_code == 529
    assert overloaded.headers["x-should-retry"] == "true"
    credit = http.post(url, json=body, headers=AH)
    assert credit.status_code == 400
    assert credit.json()["error"]["message"].startswith("Your credit balance is too low")
    counted = http.post(f"{anthropic.url}/v1/messages/count_tokens", json=body, headers=AH)
    assert counted.status_code == 400  # count_tokens fails while billing is blocked


def test_anthropic_count_tokens_and_refusal(http: httpx.Client, anthropic: FakeAnthropic) -> None:
    body = {"model": "claude-fake-01", "messages": MSGS}
    counted = http.post(f"{anthropic.url}/v1/messages/count_tokens", json=body, headers=AH)
    assert set(counted.json()) == {"input_tokens"}
    assert (
        http.post(
            f"{anthropic.url}/v1/messages/count_tokens", json={**body, "model": "x"}, headers=AH
        ).status_code
        == 404
    )
    anthropic.behave("claude-fake-01", Behaviour.filtered())
    refusal = http.post(
        f"{anthropic.url}/v1/messages", json={**body, "max_tokens": 5}, headers=AH
    ).json()
    assert refusal["stop_reason"] == "refusal"
    assert refusal["content"] == []


def test_anthropic_thinking_out_of_budget(http: httpx.Client, anthropic: FakeAnthropic) -> None:
    anthropic.behave("claude-fake-01", Behaviour.empty_length())
    response = http.post(
        f"{anthropic.url}/v1/messages",
        json={"model": "claude-fake-01", "max_tokens": 3, "messages": MSGS, "stream": True},
        headers=AH,
    )
    events = sse_events(response.content)
    deltas = [e.json()["delta"]["type"] for e in events if e.event == "content_block_delta"]
    assert "text_delta" not in deltas
    assert "thinking_delta" in deltas
    message_delta = next(e for e in events if e.event == "message_delta")
    assert message_delta.json()["delta"]["stop_reason"] == "max_tokens"
