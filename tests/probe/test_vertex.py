"""`api: vertex` end to end on loopback: a service-account file whose `token_uri` points at
a loopback token endpoint that verifies the signed JWT itself, and a Vertex fake that
accepts only the tokens it issued. Every publisher's route answers; the token is fetched
once and again when the run's clock says it expired; a refused or missing credential is
said, never shown; and nothing reaches a metadata server (tests/conftest.py)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from modelaudit import registry
from modelaudit.probe import runner
from modelaudit.probe.plan import Selection, make_plan
from modelaudit.vocabulary import ProbeKind
from tests.fakes import Behaviour
from tests.fakes.vertex import FakeVertex, GoogleTokenServer, new_key, service_account_file
from tests.probe.runs import probe, write_fast_registry

EMAIL = "prober@probe-project.iam.gserviceaccount.com"
GEMINI, CLAUDE = "gemini-2.5-flash", "claude-sonnet-4-5@20250929"
LLAMA, MISTRAL = "meta/llama-4-maverick-17b-128e-instruct-maas", "mistralai/mistral-medium-3"


@functools.cache
def signing_key() -> rsa.RSAPrivateKey:
    return new_key()  # 2048-bit RSA: made once for the module


@dataclass
class Vertex:
    tokens: GoogleTokenServer
    api: FakeVertex
    directory: Path
    control: str

    def provider(self, models: list[str], **extra: Any) -> dict[str, Any]:
        return {
            "name": "vertex",
            "api": "vertex",
            "base_url": self.api.url,
            "project": self.api.project,
            "location": self.api.location,
            "hosting": "vendor",
            "jurisdiction": "US",
            "credentials": {"chain": "default"},
            "models": [{"id": m, "weights": "closed"} for m in models],
            **extra,
        }

    def write(self, models: list[str], kinds: list[str], **extra: Any) -> Path:
        entry = self.provider(models, **extra)
        return write_fast_registry(self.directory, [entry], control_url=self.control, kinds=kinds)


@pytest.fixture
def vertex(
    isolated_env: Path, online: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Vertex]:
    key = signing_key()
    with GoogleTokenServer(accounts={EMAIL: key.public_key()}, lifetime_s=600) as tokens:
        account = service_account_file(tmp_path / "sa.json", key, tokens.url, client_email=EMAIL)
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(account))
        with FakeVertex(tokens=tokens, models=[GEMINI, CLAUDE, LLAMA, MISTRAL]) as api:
            yield Vertex(tokens, api, isolated_env, online)


def test_every_publishers_route_answers_with_the_token_the_service_account_got(
    vertex: Vertex, capsys: pytest.CaptureFixture[str]
) -> None:
    vertex.write([GEMINI, CLAUDE, LLAMA, MISTRAL], ["completion", "stream"])
    run = probe(capsys)

    assert {v["model"]: v["verdict"] for v in run.document["verdicts"]} == dict.fromkeys(
        [GEMINI, CLAUDE, LLAMA, MISTRAL], "up"
    )
    for model in (GEMINI, CLAUDE, LLAMA, MISTRAL):
        assert run.result(model, "stream")["ttft_ms"] is not None
    root = "/v1/projects/probe-project/locations/us-central1"
    assert sorted({r.path for r in vertex.api.requests}) == sorted(
        [
            f"{root}/publishers/google/models/{GEMINI}:generateContent",
            f"{root}/publishers/google/models/{GEMINI}:streamGenerateContent",
            f"{root}/publishers/anthropic/models/{CLAUDE}:rawPredict",
            f"{root}/publishers/anthropic/models/{CLAUDE}:streamRawPredict",
            f"{root}/publishers/mistralai/models/mistral-medium-3:rawPredict",
            f"{root}/publishers/mistralai/models/mistral-medium-3:streamRawPredict",
            f"{root}/endpoints/openapi/chat/completions",
        ]
    )
    # One token for the run (its JWT verified by the token endpoint), sent on every call.
    assert vertex.tokens.refused == []
    assert vertex.tokens.issued == ["ya29.fake-token-1"]
    assert set(vertex.api.seen_tokens) == {"ya29.fake-token-1"}
    assert "ya29.fake-token-1" not in run.out + run.err


def run_with_clock(vertex: Vertex, step: timedelta) -> None:
    """Six completions one after another, under a clock that moves `step` a read."""
    models = [f"gemini-2.5-flash-{i}" for i in range(6)]
    for model in models:
        vertex.api.add_model(model)
    path = vertex.write(models, ["completion"], limits={"concurrency": 1})
    plan = make_plan(registry.load(path), Selection(), (ProbeKind.COMPLETION,))
    start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    reads = iter(range(1000))
    report = asyncio.run(runner.run(plan, clock=lambda: start + step * next(reads)))
    assert {v.verdict.value for v in report.verdicts} == {"up"}


def test_a_token_is_kept_for_the_run_while_the_clock_says_it_is_valid(vertex: Vertex) -> None:
    run_with_clock(vertex, timedelta(0))

    assert vertex.tokens.issued == ["ya29.fake-token-1"]
    assert vertex.api.seen_tokens == ["ya29.fake-token-1"] * 6


def test_a_token_is_fetched_again_once_the_runs_clock_passes_its_expiry(vertex: Vertex) -> None:
    # The tokens live 10 minutes; the clock moves 11 minutes a read: each request needs a
    # fresh one, and gets it (the server accepts only tokens it issued, expired or not).
    run_with_clock(vertex, timedelta(minutes=11))

    assert vertex.tokens.issued == [f"ya29.fake-token-{i}" for i in range(1, 7)]
    assert vertex.api.seen_tokens == vertex.tokens.issued


def test_a_key_the_token_endpoint_does_not_know_is_auth_failed_and_never_shown(
    vertex: Vertex,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stranger = new_key()
    account = service_account_file(
        tmp_path / "other.json", stranger, vertex.tokens.url, client_email=EMAIL
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(account))
    vertex.write([GEMINI], ["completion"])
    run = probe(capsys)

    result = run.result(GEMINI, "completion")
    assert result["error_class"] == "auth_failed"
    assert "Invalid JWT Signature" in result["detail"]
    assert vertex.tokens.issued == []
    assert vertex.api.requests == []  # no request went without a token
    assert "PRIVATE KEY" not in run.out + run.err


def test_a_token_the_api_refuses_is_auth_failed(
    vertex: Vertex, capsys: pytest.CaptureFixture[str]
) -> None:
    vertex.api.tokens = GoogleTokenServer()  # the API trusts another token endpoint
    vertex.write([GEMINI], ["completion"])
    run = probe(capsys)

    assert run.result(GEMINI, "completion")["error_class"] == "auth_failed"
    assert run.verdict(GEMINI)["verdict"] == "blocked"


def test_without_application_default_credentials_the_provider_is_skipped_saying_what_to_set(
    vertex: Vertex,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    vertex.write([GEMINI], ["completion"])
    run = probe(capsys)

    verdict = run.verdict(GEMINI)
    assert verdict["verdict"] == "skipped"
    assert "GOOGLE_APPLICATION_CREDENTIALS" in verdict["reason"]
    assert vertex.api.requests == []
    assert vertex.tokens.server.requests == []


@pytest.mark.parametrize(
    ("model", "error", "expected"),
    [
        (GEMINI, "model_not_found", "gone"),
        (CLAUDE, "rate_limited", "degraded"),
        (LLAMA, "access_denied", "blocked"),
        (CLAUDE, "not_enabled", "blocked"),
    ],
)
def test_vertex_errors_get_their_verdict_on_every_route(
    vertex: Vertex, capsys: pytest.CaptureFixture[str], model: str, error: str, expected: str
) -> None:
    vertex.api.behave(model, Behaviour.error(error))
    vertex.write([model], ["completion"])
    run = probe(capsys)

    assert run.verdict(model)["verdict"] == expected
