"""`api: vertex`: where each publisher's model is called, in which wire format, and what a
provider must say (project, location) for it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from modelaudit.families import FAMILIES
from modelaudit.families.base import HttpRequest, StreamEnd, StreamMeta, StreamToken
from modelaudit.registry.schema import ModelSpec, ProviderSpec
from tests.families.streaming import decode_whole

FAMILY = FAMILIES["vertex"]


def vertex(**fields: Any) -> ProviderSpec:
    spec: dict[str, Any] = {
        "name": "vertex",
        "api": "vertex",
        "project": "probe-project",
        "location": "us-east5",
        "credentials": {"chain": "default"},
        "hosting": "third-party",
        "jurisdiction": "US",
        "models": [{"id": "gemini-2.5-flash", "weights": "closed"}],
        **fields,
    }
    return ProviderSpec(**spec)


def model(model_id: str) -> ModelSpec:
    return ModelSpec(id=model_id, weights="closed")


def test_the_host_follows_the_location_and_global_has_its_own() -> None:
    assert vertex().base_url == "https://us-east5-aiplatform.googleapis.com"
    assert vertex(location="global").base_url == "https://aiplatform.googleapis.com"
    assert vertex(base_url="http://127.0.0.1:9000").base_url == "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"project": None}, "api `vertex` needs `project`"),
        ({"location": "mars-north1x"}, "is not a Vertex location"),
        ({"project": "My Project"}, "is not a Google Cloud project id"),
        (
            {"base_url": "https://europe-west4-aiplatform.googleapis.com"},
            "serves another location than `us-east5`",
        ),
        ({"base_url": "https://aiplatform.googleapis.com/v1"}, "base_url is the host alone"),
        ({"api_key": "env:VERTEX_KEY", "credentials": None}, "does not take a single key"),
    ],
)
def test_a_provider_that_cannot_be_placed_is_refused_saying_why(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        vertex(**fields)


def test_project_and_location_mean_nothing_to_other_apis() -> None:
    with pytest.raises(ValidationError, match="`location` has no meaning for api `openai`"):
        ProviderSpec(
            name="o",
            api="openai",
            base_url="https://api.openai.com/v1",
            location="us-central1",
            hosting="vendor",
            jurisdiction="US",
            models=[{"id": "m", "weights": "closed"}],
        )


ROOT = "https://us-east5-aiplatform.googleapis.com/v1/projects/probe-project/locations/us-east5"


def test_each_publisher_is_called_on_its_own_route_in_its_own_wire() -> None:
    provider = vertex()
    gemini = FAMILY.stream_request(provider, model("gemini-2.5-flash"), 16)
    claude = FAMILY.completion_request(provider, model("claude-sonnet-4-5@20250929"), 16)
    llama = FAMILY.stream_request(provider, model("meta/llama-3.3-70b-instruct-maas"), 16)
    mistral = FAMILY.completion_request(provider, model("mistralai/mistral-medium-3"), 16)

    assert gemini.url == (
        f"{ROOT}/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    )
    assert isinstance(gemini.json_body, dict)
    assert gemini.json_body["generationConfig"]["maxOutputTokens"] == 16
    assert claude.url == f"{ROOT}/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
    assert claude.json_body == {
        "anthropic_version": "vertex-2023-10-16",
        "max_tokens": 16,
        "messages": [{"role": "user", "content": "Reply with the single word: ok"}],
        "temperature": 0,
    }
    assert llama.url == f"{ROOT}/endpoints/openapi/chat/completions"
    assert isinstance(llama.json_body, dict)
    assert llama.json_body["model"] == "meta/llama-3.3-70b-instruct-maas"
    assert llama.json_body["stream"] is True
    assert mistral.url == f"{ROOT}/publishers/mistralai/models/mistral-medium-3:rawPredict"
    assert isinstance(mistral.json_body, dict)
    assert mistral.json_body["model"] == "mistral-medium-3"


def test_the_project_may_be_read_from_a_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "from-the-env")
    provider = vertex(project="env:GOOGLE_CLOUD_PROJECT")
    request = FAMILY.completion_request(provider, model("gemini-2.5-flash"), 16)
    assert "/projects/from-the-env/locations/us-east5/" in request.url


def test_a_reply_is_read_in_the_wire_its_request_was_sent_in() -> None:
    claude_stream = (
        b'event: message_start\ndata: {"type":"message_start","message":{"model":'
        b'"claude-sonnet-4-5-20250929","usage":{"output_tokens":1}}}\n\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","delta":'
        b'{"type":"text_delta","text":"ok"}}\n\n'
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )
    request = HttpRequest("POST", f"{ROOT}/publishers/anthropic/models/claude-x@1:streamRawPredict")
    assert decode_whole(FAMILY.stream_decoder(request), claude_stream) == [
        StreamMeta(served_model="claude-sonnet-4-5-20250929"),
        StreamToken(chars=2),
        StreamEnd(finish_reason=None, output_tokens=1),
    ]
    assert FAMILY.served_names(model("claude-sonnet-4-5@20250929")) == (
        "claude-sonnet-4-5-20250929",
    )


@pytest.mark.parametrize("absent", [("google", "google.auth"), ("google.auth",)])
def test_without_the_extra_the_provider_is_skipped_naming_it(
    monkeypatch: pytest.MonkeyPatch, absent: tuple[str, ...]
) -> None:
    """A core install has no `google` package at all; another Google library may bring the
    namespace without google-auth."""
    from modelaudit import credentials

    for module in absent:
        monkeypatch.setitem(sys.modules, module, None)
    status = credentials.provider_status(vertex(), Path.cwd())
    assert not status.present
    assert status.reason == "api `vertex` needs google-auth: pip install 'llm-modelaudit[vertex]'"


def test_without_application_default_credentials_the_reason_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from modelaudit import credentials

    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    status = credentials.provider_status(vertex(), tmp_path)
    assert not status.present
    assert status.reason is not None
    assert "GOOGLE_APPLICATION_CREDENTIALS" in status.reason
    assert "gcloud auth application-default login" in status.reason

    adc = tmp_path / "gcloud" / "application_default_credentials.json"
    adc.parent.mkdir()
    adc.write_text("{}")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(adc.parent))
    assert credentials.provider_status(vertex(), tmp_path).present
