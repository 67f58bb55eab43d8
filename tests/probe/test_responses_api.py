"""OpenAI's Responses API end to end, on a loopback fake that speaks it: a model declared
`endpoint: responses` is probed there (time to first token from
`response.output_text.delta`), a chat probe told "only supported in v1/responses" is retried
there once, and failures streamed as events get their class."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakes import Behaviour, FakeOpenAI
from tests.probe.runs import probe, provider, write_fast_registry

KEY = "sk-responses-test-3f9a"


def registry(work: Path, fake: FakeOpenAI, models: dict[str, str | None], control: str) -> None:
    entry: dict[str, Any] = provider(
        "openai", "openai", fake.base_url, [], key_env="OPENAI_API_KEY"
    )
    entry["models"] = [
        {"id": m, "weights": "closed", **({"endpoint": e} if e else {})} for m, e in models.items()
    ]
    write_fast_registry(work, [entry], control_url=control, kinds=["completion", "stream"])


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return KEY


def test_a_model_declared_on_responses_is_probed_there_with_its_ttft(
    isolated_env: Path, online: str, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=key, models=["gpt-5"]) as fake:
        fake.behave("gpt-5", Behaviour.ok(text="ok there").paced(ttft_s=0.05))
        registry(isolated_env, fake, {"gpt-5": "responses"}, online)
        run = probe(capsys)
        paths = [r.path for r in fake.generation_requests("gpt-5")]

    assert paths == ["/v1/responses", "/v1/responses"]
    assert run.verdict("gpt-5")["verdict"] == "up"
    streamed = run.result("gpt-5", "stream")
    assert streamed["error_class"] == "ok"
    assert streamed["ttft_ms"] >= 45
    assert run.result("gpt-5", "completion")["error_class"] == "ok"


def test_a_chat_probe_of_a_responses_only_model_is_retried_there_once(
    isolated_env: Path, online: str, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=key, models=["o3-pro"]) as fake:
        fake.responses_only.add("o3-pro")
        registry(isolated_env, fake, {"o3-pro": None}, online)
        run = probe(capsys)
        paths = [r.path for r in fake.generation_requests("o3-pro")]

    assert run.verdict("o3-pro")["verdict"] == "up"
    # Each kind: the chat request refused with the 404, then the same probe on /responses.
    assert sorted(paths) == sorted(["/v1/chat/completions", "/v1/responses"] * 2)


@pytest.mark.parametrize(
    ("error", "expected"), [("rate_limited", "rate_limited"), ("server_error", "server_error")]
)
def test_an_error_event_in_the_responses_stream_gets_its_class(
    isolated_env: Path,
    online: str,
    key: str,
    capsys: pytest.CaptureFixture[str],
    error: str,
    expected: str,
) -> None:
    with FakeOpenAI(key=key, models=["gpt-5"]) as fake:
        fake.behave("gpt-5", Behaviour.stream_error(error), on="stream")
        registry(isolated_env, fake, {"gpt-5": "responses"}, online)
        run = probe(capsys)

    assert run.result("gpt-5", "stream")["error_class"] == expected
