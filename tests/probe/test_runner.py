"""`modelaudit probe` against loopback fakes that speak the real wire formats: verdicts,
retries, deadlines per phase, the offline path, budgets, safety and output."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from modelaudit.cli.app import run
from tests.fakes import (
    Behaviour,
    FakeAnthropic,
    FakeAzure,
    FakeGemini,
    FakeLlamaCpp,
    FakeOllama,
    FakeOpenAI,
    FakeVLLM,
    Model,
)
from tests.fakes.base import http_date
from tests.fakes.http import FakeServer, closed_port, silent_port
from tests.probe.runs import probe, provider, write_fast_registry

KEY = "sk-test-runner-0123456789abcdef"
ALL_GENERATION = ["catalog", "completion", "stream"]


@pytest.fixture
def openai_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return KEY


def one_at_a_time(fake: FakeOpenAI, models: list[str]) -> dict[str, Any]:
    """An OpenAI provider probed one request at a time (its connection reused in order)."""
    return provider(
        "openai",
        "openai",
        fake.base_url,
        models,
        key_env="OPENAI_API_KEY",
        limits={"concurrency": 1},
    )


def openai_registry(
    work: Path, fake: FakeOpenAI, models: list[str], control: str, **defaults: object
) -> Path:
    entry = provider("openai", "openai", fake.base_url, models, key_env="OPENAI_API_KEY")
    return write_fast_registry(work, [entry], control_url=control, **defaults)


# --- verdicts -----------------------------------------------------------------------------


def test_a_healthy_model_is_up_with_latency_ttft_and_the_served_model(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(
        key=openai_key, models=[Model("gpt-4o", served_as="gpt-4o-2024-08-06")]
    ) as fake:
        fake.behave("gpt-4o", Behaviour.ok("hello there friend").paced(ttft_s=0.05))
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=ALL_GENERATION)

        run = probe(capsys)

    assert run.code == 0
    assert run.verdict("gpt-4o")["verdict"] == "up"
    completion, stream = run.result("gpt-4o", "completion"), run.result("gpt-4o", "stream")
    assert completion["served_model"] == "gpt-4o-2024-08-06"
    assert completion["latency_ms"] > 0
    assert stream["ttft_ms"] >= 50
    assert stream["latency_ms"] >= stream["ttft_ms"]
    assert run.result("gpt-4o", "catalog")["catalog"]["listed"] is True
    assert run.document["run"]["status"] == "complete"


def test_the_catalog_warms_the_connection_the_generations_reuse(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["a", "b"]) as fake:
        entry = one_at_a_time(fake, ["a", "b"])
        write_fast_registry(isolated_env, [entry], control_url=online, kinds=ALL_GENERATION)

        run = probe(capsys)
        connections = fake.connections

    assert connections == 1
    catalog, completion = run.result("a", "catalog"), run.result("a", "completion")
    assert catalog["connection_reused"] is False
    assert catalog["connect_ms"] is not None
    assert completion["connection_reused"] is True
    assert completion["connect_ms"] is None


def test_a_model_missing_from_the_catalog_is_gone_and_names_its_fallbacks(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4-0613", Behaviour.unlisted())
        entry = provider(
            "openai", "openai", fake.base_url, ["gpt-4o", "gpt-4-0613"], key_env="OPENAI_API_KEY"
        )
        entry["models"][1]["fallbacks"] = ["openai/gpt-4o"]
        write_fast_registry(isolated_env, [entry], control_url=online)

        run = probe(capsys, "--fail-on", "gone")

    gone = run.verdict("gpt-4-0613")
    assert gone["verdict"] == "gone"
    assert gone["error_class"] == "model_not_found"
    assert "fallbacks: openai/gpt-4o" in gone["reason"]
    assert run.code == 1  # --fail-on gone


def test_a_404_model_not_found_on_completion_is_gone(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", Behaviour.error("model_not_found"))
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=["completion"])

        run = probe(capsys)
        attempts = len(fake.generation_requests("gpt-4o"))

    assert run.verdict("gpt-4o")["verdict"] == "gone"
    assert attempts == 1  # a 404 is never retried


def test_shutdown_dates_in_the_catalog_are_reported(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=[Model("gpt-4o", shutdown_date="2027-03-01")]) as fake:
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=["catalog"])

        run = probe(capsys)

    assert run.result("gpt-4o", "catalog")["catalog"]["retires"] == "2027-03-01"
    assert "retires 2027-03-01" in run.verdict("gpt-4o")["reason"]


# --- retries and rate limits --------------------------------------------------------------


def test_a_429_is_retried_after_its_retry_after_and_the_model_is_up(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", [Behaviour.error("rate_limited", retry_after="1"), Behaviour.ok()])
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=["completion"])

        started = time.monotonic()
        run = probe(capsys)
        elapsed = time.monotonic() - started

    completion = run.result("gpt-4o", "completion")
    assert run.verdict("gpt-4o")["verdict"] == "up"
    assert completion["attempts"] == 2
    assert completion["attempt_log"][0]["error_class"] == "rate_limited"
    assert completion["attempt_log"][0]["retry_after_s"] == 1.0
    assert elapsed >= 1.0


@pytest.mark.parametrize("header", ["retry_after_ms", "http_date"])
def test_retry_after_in_milliseconds_and_as_a_date_are_honoured(
    header: str,
    isolated_env: Path,
    online: str,
    openai_key: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.fakes import http_date

    hint = (
        {"retry_after_ms": "300"} if header == "retry_after_ms" else {"retry_after": http_date(2)}
    )
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", [Behaviour.error("rate_limited", **hint), Behaviour.ok()])
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=["completion"])

        run = probe(capsys)

    waited = run.result("gpt-4o", "completion")["attempt_log"][0]["retry_after_s"]
    assert waited is not None
    assert 0.0 < waited <= 2.0
    assert run.verdict("gpt-4o")["verdict"] == "up"


def test_a_retry_after_beyond_the_budget_is_not_waited_for(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", Behaviour.error("rate_limited", retry_after="600"))
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=["completion"])

        run = probe(capsys)

    assert run.result("gpt-4o", "completion")["attempts"] == 1
    assert run.verdict("gpt-4o")["verdict"] == "degraded"


@pytest.mark.parametrize("hint", [{"retry_after": "7200"}, {"retry_after": http_date(86400)}])
def test_a_429_that_lifts_in_hours_is_a_quota_not_a_rate_limit(
    hint: dict[str, str],
    isolated_env: Path,
    online: str,
    openai_key: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", Behaviour.error("rate_limited", **hint))
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=["completion"])

        run = probe(capsys)

    verdict = run.verdict("gpt-4o")
    assert (verdict["verdict"], verdict["error_class"]) == ("blocked", "quota_exhausted")
    assert "the limit lifts in" in verdict["reason"]
    assert run.result("gpt-4o", "completion")["attempts"] == 1


def test_rate_limited_throughout_is_degraded_never_down(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", Behaviour.error("rate_limited", retry_s="0.05"))
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=["completion"])

        run = probe(capsys, "--fail-on", "down")

    assert run.result("gpt-4o", "completion")["attempts"] == 3
    verdict = run.verdict("gpt-4o")
    assert (verdict["verdict"], verdict["error_class"]) == ("degraded", "rate_limited")
    assert run.code == 0


def test_billing_exhaustion_is_blocked_and_never_retried(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", Behaviour.error("quota_exhausted"))
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=["completion"])

        run = probe(capsys)

    assert run.result("gpt-4o", "completion")["attempts"] == 1
    verdict = run.verdict("gpt-4o")
    assert (verdict["verdict"], verdict["error_class"]) == ("blocked", "quota_exhausted")


def test_a_bad_key_is_blocked_and_names_the_variable(
    isolated_env: Path,
    online: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key-0123456789abcdef")
    with FakeOpenAI(key=KEY, models=["gpt-4o"]) as fake:
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=["completion"])

        run = probe(capsys)

    verdict = run.verdict("gpt-4o")
    assert (verdict["verdict"], verdict["error_class"]) == ("blocked", "auth_failed")
    assert verdict["reason"].endswith("check env:OPENAI_API_KEY")


def test_overloaded_then_ok_is_up_after_a_retry(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeAnthropic(key=openai_key, models=["claude-x"]) as fake:
        fake.behave("claude-x", [Behaviour.error("overloaded"), Behaviour.ok()])
        entry = provider(
            "anthropic", "anthropic", fake.base_url, ["claude-x"], key_env="OPENAI_API_KEY"
        )
        write_fast_registry(isolated_env, [entry], control_url=online, kinds=["completion"])

        run = probe(capsys)

    completion = run.result("claude-x", "completion")
    assert [a["error_class"] for a in completion["attempt_log"]] == ["overloaded", "ok"]
    assert completion["attempt_log"][0]["http_status"] == 529
    assert run.verdict("claude-x")["verdict"] == "up"


def test_a_server_error_that_outlives_its_retries_is_down(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", Behaviour.error("server_error"))
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=["completion"])

        run = probe(capsys, "--fail-on", "down")

    assert run.result("gpt-4o", "completion")["attempts"] == 3
    assert run.verdict("gpt-4o")["verdict"] == "down"
    assert run.code == 1


def test_an_unsupported_max_tokens_is_retried_once_with_max_completion_tokens(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["o3"]) as fake:
        fake.behave("o3", Behaviour.needs_max_completion_tokens())
        openai_registry(isolated_env, fake, ["o3"], online, kinds=["completion"])

        run = probe(capsys)
        bodies = [r.json() for r in fake.generation_requests("o3")]

    assert run.verdict("o3")["verdict"] == "up"
    assert [("max_tokens" in b, "max_completion_tokens" in b) for b in bodies] == [
        (True, False),
        (False, True),
    ]


def test_an_empty_reply_cut_by_the_length_limit_is_alive(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["gpt-5"]) as fake:
        fake.behave("gpt-5", Behaviour.empty_length())
        openai_registry(isolated_env, fake, ["gpt-5"], online, kinds=["completion", "stream"])

        run = probe(capsys)

    assert run.verdict("gpt-5")["verdict"] == "up"


# --- deadlines per phase -------------------------------------------------------------------


def test_slow_headers_time_out_in_the_first_byte_phase(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", Behaviour.slow_headers(3))
        openai_registry(
            isolated_env,
            fake,
            ["gpt-4o"],
            online,
            kinds=["completion"],
            retry={"attempts": 1},
            timeouts={"first_byte_s": 0.3, "total_s": 5},
        )

        run = probe(capsys)

    completion = run.result("gpt-4o", "completion")
    assert (completion["error_class"], completion["failed_phase"]) == ("timeout", "first_byte")
    assert completion["detail"] == "no response headers within 0.3 s (first_byte_s)"
    assert run.verdict("gpt-4o")["verdict"] == "down"


def test_a_body_that_trickles_forever_is_stopped_by_the_total_deadline(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # One byte every 50 ms: httpx's per-read timeout alone would never fire.
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", Behaviour.ok("x " * 200).trickled(1, 0.05))
        openai_registry(
            isolated_env,
            fake,
            ["gpt-4o"],
            online,
            kinds=["completion"],
            retry={"attempts": 1},
            timeouts={"connect_s": 0.5, "stall_s": 1, "total_s": 0.6},
        )

        started = time.monotonic()
        run = probe(capsys)
        elapsed = time.monotonic() - started

    completion = run.result("gpt-4o", "completion")
    assert (completion["error_class"], completion["failed_phase"]) == ("timeout", "total")
    assert completion["detail"] == "the request did not complete within 0.6 s (total_s)"
    assert elapsed < 3


def test_a_stream_that_stalls_times_out_in_the_stall_phase(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", Behaviour.stall(after=2, seconds=5), on="stream")
        openai_registry(
            isolated_env,
            fake,
            ["gpt-4o"],
            online,
            kinds=["stream"],
            retry={"attempts": 1},
            timeouts={"stall_s": 0.3},
        )

        run = probe(capsys)

    stream = run.result("gpt-4o", "stream")
    assert (stream["error_class"], stream["failed_phase"]) == ("timeout", "stall")
    # The stream kind adds how far it got ("(after 1 tokens)").
    assert stream["detail"].startswith(
        "the response stalled for more than 0.3 s between chunks (stall_s)"
    )


def test_a_stream_without_a_token_times_out_in_the_first_token_phase(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", Behaviour.ok().paced(ttft_s=3), on="stream")
        openai_registry(
            isolated_env,
            fake,
            ["gpt-4o"],
            online,
            kinds=["stream"],
            retry={"attempts": 1},
            timeouts={"first_token_s": 0.4, "stall_s": 2},
        )

        run = probe(capsys)

    stream = run.result("gpt-4o", "stream")
    assert (stream["error_class"], stream["failed_phase"]) == ("timeout", "first_token")
    assert stream["detail"] == "no first token within 0.4 s (first_token_s)"


def test_a_server_that_never_accepts_times_out_in_the_connect_phase(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A listening socket with no room left in its backlog: the kernel drops the next SYN.
    with socket.create_server(("127.0.0.1", 0), backlog=0) as full, socket.socket() as filler:
        port = full.getsockname()[1]
        filler.connect(("127.0.0.1", port))
        entry = provider(
            "openai", "openai", f"http://127.0.0.1:{port}/v1", ["gpt-4o"], key_env="OPENAI_API_KEY"
        )
        write_fast_registry(
            isolated_env,
            [entry],
            control_url=online,
            kinds=["completion"],
            retry={"attempts": 1},
            timeouts={"connect_s": 0.3},
        )

        run = probe(capsys)

    completion = run.result("gpt-4o", "completion")
    assert (completion["error_class"], completion["failed_phase"]) == ("timeout", "connect")
    assert completion["detail"] == "could not connect within 0.3 s (connect_s)"


# --- broken answers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "error_class"),
    [
        (Behaviour.cut(after=2), "protocol_error"),
        (Behaviour.stream_error("overloaded", after=1), "overloaded"),
        (Behaviour.malformed(), "protocol_error"),
    ],
    ids=["cut-without-terminator", "error-event-after-200", "malformed"],
)
def test_a_broken_stream_is_a_failure_classified_like_the_same_error_outside_one(
    behaviour: Behaviour,
    error_class: str,
    isolated_env: Path,
    online: str,
    openai_key: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", behaviour, on="stream")
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=["stream"])

        run = probe(capsys)

    assert run.result("gpt-4o", "stream")["error_class"] == error_class


def test_an_anthropic_error_event_after_a_200_is_overloaded(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeAnthropic(key=openai_key, models=["claude-x"]) as fake:
        fake.behave("claude-x", Behaviour.stream_error("overloaded", after=1), on="stream")
        entry = provider(
            "anthropic", "anthropic", fake.base_url, ["claude-x"], key_env="OPENAI_API_KEY"
        )
        write_fast_registry(isolated_env, [entry], control_url=online, kinds=["stream"])

        run = probe(capsys)

    stream = run.result("claude-x", "stream")
    assert (stream["http_status"], stream["error_class"]) == (200, "overloaded")
    assert run.verdict("claude-x")["verdict"] == "degraded"


def test_an_html_page_with_status_200_is_not_the_provider(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A captive portal or a login page answers where the API was expected: with the
    # network working, it is the configuration (base_url), never an outage.
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", Behaviour.html())
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=["completion"])

        run = probe(capsys, "--fail-on", "down")

    verdict = run.verdict("gpt-4o")
    assert (verdict["verdict"], verdict["error_class"]) == ("inconclusive", "bad_request")
    assert "check base_url" in verdict["reason"]
    assert run.document["run"]["control"]["reachable"] is True
    assert run.code == 0


def test_an_html_page_with_status_200_behind_a_dead_network_is_a_portal(
    isolated_env: Path, offline: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", Behaviour.html())
        openai_registry(isolated_env, fake, ["gpt-4o"], offline, kinds=["completion"])

        run = probe(capsys, "--fail-on", "down")

    assert run.verdict("gpt-4o")["verdict"] == "inconclusive"
    assert "cannot reach the network" in run.verdict("gpt-4o")["reason"]
    assert run.document["run"]["status"] == "inconclusive"
    assert run.code == 3


def test_a_reset_connection_is_retried(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", [Behaviour.reset(), Behaviour.ok()])
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=["completion"])

        run = probe(capsys)

    completion = run.result("gpt-4o", "completion")
    assert completion["attempt_log"][0]["error_class"] in ("connect_failed", "protocol_error")
    assert run.verdict("gpt-4o")["verdict"] == "up"


def test_a_redirect_is_reported_not_followed_and_no_key_reaches_the_other_host(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeServer() as elsewhere, FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gpt-4o", Behaviour.redirect(elsewhere))
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=["completion"])

        run = probe(capsys)
        reached = list(elsewhere.requests)

    completion = run.result("gpt-4o", "completion")
    assert completion["error_class"] == "protocol_error"
    assert "redirected" in completion["detail"]
    assert reached == []


# --- TLS ------------------------------------------------------------------------------------


def test_a_self_signed_certificate_fails_tls_unless_its_ca_bundle_is_given(
    isolated_env: Path, online: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import trustme

    ca = trustme.CA()
    with FakeVLLM(models=["qwen"], tls=ca) as fake:
        entry = provider("local", "openai", fake.base_url, ["qwen"], hosting="self-hosted")
        write_fast_registry(isolated_env, [entry], control_url=online, kinds=["completion"])
        untrusted = probe(capsys)

        entry["ca_bundle"] = str(fake.ca_path)
        write_fast_registry(isolated_env, [entry], control_url=online, kinds=["completion"])
        trusted = probe(capsys)

    failed = untrusted.result("qwen", "completion")
    assert (failed["error_class"], failed["attempts"]) == ("tls_failed", 1)
    assert untrusted.verdict("qwen")["verdict"] == "down"
    assert trusted.verdict("qwen")["verdict"] == "up"


# --- offline and unreachable ---------------------------------------------------------------


def test_connection_refused_with_a_working_network_is_down(
    isolated_env: Path, online: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with closed_port() as port:
        entry = provider("local", "openai", port.url + "/v1", ["qwen"], hosting="self-hosted")
        write_fast_registry(isolated_env, [entry], control_url=online, kinds=["completion"])

        run = probe(capsys)

    verdict = run.verdict("qwen")
    assert (verdict["verdict"], verdict["error_class"]) == ("down", "connect_failed")
    assert f"nothing listens on port {port.port} of 127.0.0.1" in verdict["reason"]
    assert run.document["run"]["control"] is None  # a refusal on this machine is definitive
    assert run.code == 0


def test_a_refused_local_port_is_down_even_when_the_network_is_dead(
    isolated_env: Path, offline: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A TCP refusal from 127.0.0.1 proves the host answered and nothing listens: an
    # air-gapped GPU box must still see its dead server.
    with closed_port() as port:
        entry = provider("local", "openai", port.url + "/v1", ["qwen"], hosting="self-hosted")
        write_fast_registry(isolated_env, [entry], control_url=offline, kinds=["completion"])

        run = probe(capsys, "--fail-on", "down")

    assert run.verdict("qwen")["verdict"] == "down"
    assert run.document["run"]["status"] == "complete"
    assert run.code == 1


def test_on_an_offline_machine_nothing_is_called_down_and_the_run_is_inconclusive(
    isolated_env: Path, offline: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with silent_port() as port:
        entry = provider("local", "openai", port.url + "/v1", ["qwen"], hosting="self-hosted")
        write_fast_registry(
            isolated_env,
            [entry],
            control_url=offline,
            kinds=["completion"],
            timeouts={"connect_s": 0.3},
        )

        run = probe(capsys, "--fail-on", "down")

    assert run.verdict("qwen")["verdict"] == "inconclusive"
    assert run.document["run"]["status"] == "inconclusive"
    assert run.document["run"]["control"]["reachable"] is False
    assert run.code == 3
    assert "could not reach the network" in run.err


def test_a_provider_without_its_key_is_skipped_and_nothing_is_sent(
    isolated_env: Path, online: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=KEY, models=["gpt-4o"]) as fake:
        openai_registry(isolated_env, fake, ["gpt-4o"], online)

        run = probe(capsys)
        sent = list(fake.requests)

    verdict = run.verdict("gpt-4o")
    assert verdict["verdict"] == "skipped"
    assert verdict["reason"] == "OPENAI_API_KEY is not set: export it to probe this provider"
    assert sent == []
    assert run.code == 0


# --- budgets, plan and concurrency ---------------------------------------------------------


def test_dry_run_prints_the_plan_and_its_cost_and_sends_nothing(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["a", "b"]) as fake:
        openai_registry(isolated_env, fake, ["a", "b"], online, kinds=ALL_GENERATION)

        run = probe(capsys, "--dry-run")
        sent = list(fake.requests)

    assert run.code == 0
    assert sent == []
    # catalog: 3 attempts, and 3 per model looked up by id when the list leaves it out;
    # completion and stream: (3 + 1 variant) per model, 16 tokens each.
    assert "Worst case 25 requests and 256 output tokens" in run.err
    document = run.document  # -f json: the plan as a JSON document, not a table
    assert document["schema_version"] == 1
    assert document["tool"]["name"] == "modelaudit"
    plan = document["plan"]
    assert plan["kinds"] == ALL_GENERATION
    assert plan["worst_case"] == {"requests": 25, "output_tokens": 256}
    assert plan["budget"]["max_requests"] == 1000
    assert plan["providers"] == [
        {
            "provider": "openai",
            "models": ["a", "b"],
            "kinds": ALL_GENERATION,
            "key": "present",
            "skip_reason": None,
            "worst_case": {"requests": 25, "output_tokens": 256},
        }
    ]


def test_dry_run_as_jsonl_is_one_line_per_planned_model(
    isolated_env: Path, online: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=KEY, models=["a", "b"]) as fake:
        openai_registry(isolated_env, fake, ["a", "b"], online)

        code = run(["probe", "--dry-run", "-f", "jsonl"])
        out, err = capsys.readouterr()
        sent = list(fake.requests)

    assert (code, sent) == (0, [])
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(line["type"], line["model"]) for line in lines] == [("planned", "a"), ("planned", "b")]
    assert all(line["schema_version"] == 1 for line in lines)
    assert lines[0]["provider"] == "openai"
    assert lines[0]["key"] == "missing"
    assert lines[0]["skip_reason"] == "OPENAI_API_KEY is not set: export it to probe this provider"
    assert "dry run: nothing sent" in err


def test_dry_run_as_a_table_is_for_a_person(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["a", "b"]) as fake:
        openai_registry(isolated_env, fake, ["a", "b"], online, kinds=["completion"])

        code = run(["probe", "--dry-run", "-f", "table"])
        out, _ = capsys.readouterr()

    assert code == 0
    (header, _rule, row) = out.splitlines()
    columns = ["provider", "models", "kinds", "key", "requests (max)", "output tokens (max)"]
    assert header.split() == " ".join(columns).split()
    assert row.split() == ["openai", "a,", "b", "completion", "present", "8", "128"]


def test_the_request_budget_is_checked_before_sending(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["a", "b", "c"]) as fake:
        entry = one_at_a_time(fake, ["a", "b", "c"])
        write_fast_registry(
            isolated_env,
            [entry],
            control_url=online,
            kinds=["completion"],
            budget={"max_requests": 2},
        )

        run = probe(capsys)
        sent = len(fake.requests)

    assert sent == 2
    assert run.document["run"]["requests_sent"] == 2
    verdicts = sorted(v["verdict"] for v in run.document["verdicts"])
    assert verdicts == ["skipped", "up", "up"]
    assert any("request budget" in note for note in run.document["run"]["notes"])


def test_a_model_whose_generation_the_budget_cut_is_skipped_not_up_on_its_listing(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=openai_key, models=["a", "b"]) as fake:
        entry = one_at_a_time(fake, ["a", "b"])
        write_fast_registry(
            isolated_env,
            [entry],
            control_url=online,
            kinds=["catalog", "completion"],
            budget={"max_requests": 2},
        )

        run = probe(capsys)

    verdicts = {v["model"]: v for v in run.document["verdicts"]}
    assert run.result("a", "catalog")["catalog"]["listed"] is True
    assert run.result("b", "catalog")["catalog"]["listed"] is True
    assert sorted(v["verdict"] for v in verdicts.values()) == ["skipped", "up"]
    (cut,) = (v for v in verdicts.values() if v["verdict"] == "skipped")
    assert "budget was spent before its completion probe ran" in cut["reason"]


def test_the_per_provider_cap_serializes_a_self_hosted_server(
    isolated_env: Path, online: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeVLLM(models=["a", "b", "c", "d"]) as fake:
        for model in "abcd":
            fake.behave(model, Behaviour.ok().delayed(0.25))
        entry = provider("local", "openai", fake.base_url, list("abcd"), hosting="self-hosted")
        write_fast_registry(isolated_env, [entry], control_url=online, kinds=["completion"])

        started = time.monotonic()
        run = probe(capsys)
        serial = time.monotonic() - started

        entry["limits"] = {"concurrency": 4}
        write_fast_registry(isolated_env, [entry], control_url=online, kinds=["completion"])
        started = time.monotonic()
        probe(capsys)
        parallel = time.monotonic() - started

    assert {v["verdict"] for v in run.document["verdicts"]} == {"up"}
    assert serial >= 1.0  # four requests of 250 ms, one at a time
    assert parallel < serial


# --- families end to end --------------------------------------------------------------------


def test_anthropic_paginates_its_catalog(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    models = [f"claude-{i:02d}" for i in range(7)]
    with FakeAnthropic(key=openai_key, models=models) as fake:
        fake.max_page_size = 3
        entry = provider(
            "anthropic", "anthropic", fake.base_url, ["claude-06"], key_env="OPENAI_API_KEY"
        )
        write_fast_registry(isolated_env, [entry], control_url=online, kinds=["catalog"])

        run = probe(capsys)
        pages = [r for r in fake.requests if r.path == "/v1/models"]

    assert len(pages) == 3
    assert run.verdict("claude-06")["verdict"] == "up"


def test_gemini_paginates_its_catalog_and_answers(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    models = [f"gemini-{i}" for i in range(5)]
    with FakeGemini(key=openai_key, models=models) as fake:
        fake.max_page_size = 2
        entry = provider("gemini", "gemini", fake.base_url, ["gemini-4"], key_env="OPENAI_API_KEY")
        write_fast_registry(isolated_env, [entry], control_url=online, kinds=ALL_GENERATION)

        run = probe(capsys)

    assert run.verdict("gemini-4")["verdict"] == "up"
    assert run.result("gemini-4", "stream")["ttft_ms"] is not None


def test_azure_deployments_answer_through_their_deployment_url(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeAzure(key=openai_key, deployments={"prod-4o": "gpt-4o"}) as fake:
        entry = provider(
            "azure",
            "azure-openai",
            fake.base_url,
            ["prod-4o", "missing"],
            key_env="OPENAI_API_KEY",
            api_version="2024-10-21",
        )
        write_fast_registry(
            isolated_env, [entry], control_url=online, kinds=["completion", "stream"]
        )

        run = probe(capsys)

    assert run.verdict("prod-4o")["verdict"] == "up"
    assert run.verdict("missing")["verdict"] == "gone"


def test_ollama_native_api_end_to_end(
    isolated_env: Path, online: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOllama(models=["qwen3:8b"]) as fake:
        entry = provider(
            "ollama",
            "ollama",
            fake.base_url,
            ["qwen3:8b", "llama3:70b"],
            hosting="self-hosted",
            server="ollama",
        )
        write_fast_registry(
            isolated_env,
            [entry],
            control_url=online,
            kinds=["health", "catalog", "completion", "stream"],
        )

        run = probe(capsys)

    assert run.verdict("qwen3:8b")["verdict"] == "up"
    assert run.result("qwen3:8b", "health")["health"] == "ok"
    assert run.verdict("llama3:70b")["verdict"] == "gone"


def test_a_llamacpp_server_loading_its_model_is_degraded(
    isolated_env: Path, online: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeLlamaCpp(alias="smollm2") as fake:
        fake.loading = True
        entry = provider(
            "llama", "openai", fake.base_url, ["smollm2"], hosting="self-hosted", server="llamacpp"
        )
        write_fast_registry(isolated_env, [entry], control_url=online, kinds=["health"])

        run = probe(capsys)

    assert run.result("smollm2", "health")["health"] == "loading"
    verdict = run.verdict("smollm2")
    assert verdict["verdict"] == "degraded"
    assert "loading its model" in verdict["reason"]


# --- output ---------------------------------------------------------------------------------


def test_jsonl_writes_results_then_verdicts_then_the_run(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from modelaudit.cli.app import run as cli

    with FakeOpenAI(key=openai_key, models=["a", "b"]) as fake:
        openai_registry(isolated_env, fake, ["a", "b"], online, kinds=["completion"])

        code = cli(["probe", "-f", "jsonl"])
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert code == 0
    assert [line["type"] for line in lines] == ["result", "result", "verdict", "verdict", "run"]
    assert all(line["schema_version"] == 1 for line in lines)
    assert lines[-1]["status"] == "complete"


def test_the_table_has_one_row_per_model(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from modelaudit.cli.app import run as cli

    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gone-model", Behaviour.unlisted())
        openai_registry(isolated_env, fake, ["gpt-4o", "gone-model"], online)

        code = cli(["probe", "-f", "table"])
        captured = capsys.readouterr()
        out = captured.out

    assert code == 0, captured.err
    header, _, first, second = out.splitlines()[:4]
    assert header.split() == [
        "provider",
        "model",
        "verdict",
        "error",
        "class",
        "latency",
        "TTFT",
        "reason",
    ]
    assert first.split()[:3] == ["openai", "gpt-4o", "up"]
    assert second.split()[:4] == ["openai", "gone-model", "gone", "model_not_found"]


def test_a_stream_only_probe_shows_its_latency_and_ttft_in_the_table(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from modelaudit.cli.app import run as cli

    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=["stream"])

        code = cli(["probe", "-f", "table"])
        out = capsys.readouterr().out

    assert code == 0
    header, _, row = out.splitlines()[:3]
    assert header.split()[5:8] == ["latency", "TTFT", "reason"]
    cells = row.split()
    assert cells[:3] == ["openai", "gpt-4o", "up"]
    latency, ttft = cells[3], cells[5]  # no error class: "up  61 ms  20 ms  ..."
    assert cells[4] == cells[6] == "ms"
    assert float(latency) >= float(ttft) > 0


def test_a_catalog_only_probe_calls_a_listed_model_up_and_says_only_listed(
    isolated_env: Path, online: str, openai_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # As the README's verdict table says: with --kind catalog alone nothing else was asked.
    from modelaudit.cli.app import run as cli

    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        openai_registry(isolated_env, fake, ["gpt-4o"], online, kinds=["catalog"])

        code = cli(["probe", "-f", "json", "--no-store"])
        document = json.loads(capsys.readouterr().out)

    assert code == 0
    (verdict,) = document["verdicts"]
    assert (verdict["verdict"], verdict["reason"]) == ("up", "listed")
    assert [r.path for r in fake.requests] == ["/v1/models"]  # no generation was sent


def test_on_a_narrow_terminal_each_model_keeps_its_whole_reason(
    isolated_env: Path,
    online: str,
    openai_key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from modelaudit.cli.app import run as cli

    monkeypatch.setenv("COLUMNS", "80")
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        fake.behave("gone-model", Behaviour.unlisted())
        openai_registry(isolated_env, fake, ["gpt-4o", "gone-model"], online)

        cli(["probe", "-f", "table"])
        out = capsys.readouterr().out

    lines = out.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert lines[0].split()[:2] == ["up", "openai/gpt-4o"]
    assert lines[2].split()[:3] == ["gone", "openai/gone-model", "model_not_found"]
    reason = " ".join(line.strip() for line in lines[3:])
    assert "404 model_not_found" in reason
    assert reason.endswith("no fallback declared")


# --- keys that cannot be sent ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "described"),
    [
        ("sk-pasted-key-0123456789\u200b", "a non-ASCII character (U+200B)"),
        ("sk-first-line-0123456789\nsecond-line-ABCDEFGH", "a line break"),
    ],
)
def test_a_key_no_header_can_carry_skips_its_provider_and_never_shows(
    isolated_env: Path,
    online: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    key: str,
    described: str,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", key)
    with FakeOpenAI(key=KEY, models=["gpt-4o"]) as fake, FakeVLLM(models=["local"]) as local:
        entries = [
            provider("openai", "openai", fake.base_url, ["gpt-4o"], key_env="OPENAI_API_KEY"),
            provider("local", "openai", local.base_url, ["local"], hosting="self-hosted"),
        ]
        write_fast_registry(isolated_env, entries, control_url=online, kinds=["completion"])

        run = probe(capsys)
        sent = list(fake.requests)

    assert run.code == 0  # a broken key is the user's to fix, not a crash (exit 4)
    assert sent == []
    cut = run.verdict("gpt-4o")
    assert cut["verdict"] == "skipped"
    assert f"OPENAI_API_KEY contains {described}" in cut["reason"]
    assert run.verdict("local")["verdict"] == "up"  # the other providers' results are kept
    for piece in key.replace("\u200b", "\n").split("\n"):
        assert not piece or piece not in run.out + run.err


def test_the_run_reads_its_times_from_the_clock_it_is_given(
    isolated_env: Path, online: str, openai_key: str
) -> None:
    from datetime import UTC, datetime

    from modelaudit.probe import runner
    from modelaudit.probe.plan import Selection, make_plan
    from modelaudit.registry import load

    fixed = datetime(2031, 5, 4, 3, 2, 1, tzinfo=UTC)
    with FakeOpenAI(key=openai_key, models=["gpt-4o"]) as fake:
        path = openai_registry(isolated_env, fake, ["gpt-4o"], online)
        plan = make_plan(load(path), Selection(), None)

        report = runner.run_sync(plan, clock=lambda: fixed)

    assert report.started_at == report.finished_at == fixed
    assert {a.started_at for r in report.results for a in r.attempts} == {fixed}
