"""`api: bedrock` end to end on loopback: every request signed with SigV4 and checked by a
fake that recomputes the signature itself; the catalog's lifecycle states and inference
profiles; Converse and ConverseStream (AWS event-stream framing, its exceptions, a
truncated message, a bad CRC); the credential from named parts, a profile of the shared
files, or botocore's default chain; and a provider skipped, naming the extra, when
botocore is not installed."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from modelaudit import registry
from modelaudit.probe import runner
from modelaudit.probe.plan import Selection, make_plan
from tests.fakes.base import Behaviour, Model
from tests.fakes.bedrock import BEDROCK_ERRORS, FakeBedrock, bad_crc_stream, truncated_stream
from tests.probe.runs import ProbeRun, probe, provider, write_fast_registry

CLAUDE = "anthropic.claude-sonnet-4-5-20250929-v1:0"
PROFILE = f"us.{CLAUDE}"
LLAMA = "meta.llama3-3-70b-instruct-v1:0"
KEY_ID, SECRET = "AKIAFAKEBEDROCK00001", "fake/Bedrock+Secret0key7Qx2Lm9Rt4Vw8Yz3N"
PARTS = {"access_key_id": "env:TEST_AWS_KEY_ID", "secret_access_key": "env:TEST_AWS_SECRET"}
LEGACY = {"status": "LEGACY", "legacyTime": 1780272000, "endOfLifeTime": 1798761600}


@dataclass
class Bedrock:
    fake: FakeBedrock
    directory: Path
    control_url: str
    capsys: pytest.CaptureFixture[str]

    def write(
        self, models: list[str], credentials: dict[str, Any] | None = None, **options: Any
    ) -> Path:
        kinds = options.pop("kinds", ["catalog", "completion", "stream"])
        entry = provider(
            "bedrock",
            "bedrock",
            self.fake.base_url,
            models,
            region="us-east-1",
            credentials=credentials or {"parts": PARTS},
            **options,
        )
        return write_fast_registry(
            self.directory, [entry], control_url=self.control_url, kinds=kinds
        )

    def probe(
        self, models: list[str], credentials: dict[str, Any] | None = None, **options: Any
    ) -> ProbeRun:
        self.write(models, credentials, **options)
        return probe(self.capsys)


@pytest.fixture
def bedrock(
    isolated_env: Path,
    online: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., Bedrock]]:
    monkeypatch.setenv("TEST_AWS_KEY_ID", KEY_ID)
    monkeypatch.setenv("TEST_AWS_SECRET", SECRET)
    with ExitStack() as stack:

        def make(**options: Any) -> Bedrock:
            options.setdefault("keys", {KEY_ID: SECRET})
            options.setdefault("models", [CLAUDE, Model(LLAMA, modelLifecycle=LEGACY)])
            options.setdefault("profiles", {PROFILE: CLAUDE})
            fake = stack.enter_context(FakeBedrock(**options))
            return Bedrock(fake, isolated_env, online, capsys)

        yield make


def verdicts(run: ProbeRun) -> set[str]:
    return {v["verdict"] for v in run.document["verdicts"]}


def test_catalog_and_generations_are_signed_and_each_signature_checks_out(
    bedrock: Callable[..., Bedrock],
) -> None:
    api = bedrock()
    run = api.probe([CLAUDE, PROFILE])

    assert verdicts(run) == {"up"}
    assert api.fake.rejected == []
    paths = [r.path for r in api.fake.verified]
    assert paths[:2] == ["/foundation-models", "/inference-profiles"]
    quoted = CLAUDE.replace(":", "%3A")
    assert f"/model/{quoted}/converse" in paths
    assert f"/model/{quoted}/converse-stream" in paths
    assert run.result(PROFILE, "catalog")["catalog"]["listed"] is True  # a profile is a model id
    assert SECRET not in run.out + run.err


def test_a_legacy_model_carries_its_lifecycle_and_end_of_life_day(
    bedrock: Callable[..., Bedrock],
) -> None:
    run = bedrock().probe([CLAUDE, LLAMA], kinds=["catalog"])

    legacy = run.result(LLAMA, "catalog")["catalog"]
    assert (legacy["lifecycle"], legacy["retires"]) == ("legacy", "2027-01-01")
    assert "legacy since 2026-06-01" in legacy["note"]
    active = run.result(CLAUDE, "catalog")["catalog"]
    assert (active["lifecycle"], active["retires"]) == (None, None)


def test_inference_profiles_are_read_page_by_page(bedrock: Callable[..., Bedrock]) -> None:
    profiles = {f"{geo}.{CLAUDE}": CLAUDE for geo in ("us", "eu", "apac", "global", "jp")}
    api = bedrock(profiles=profiles, page_size=2)
    run = api.probe(["jp." + CLAUDE], kinds=["catalog"])

    assert run.result("jp." + CLAUDE, "catalog")["catalog"]["listed"] is True
    pages = [r.target for r in api.fake.verified if r.path == "/inference-profiles"]
    assert len(pages) == 3
    assert api.fake.rejected == []


@pytest.mark.parametrize("name", sorted(BEDROCK_ERRORS))
def test_each_real_error_gets_its_class(bedrock: Callable[..., Bedrock], name: str) -> None:
    api = bedrock()
    api.fake.behave(CLAUDE, Behaviour.error(name))
    run = api.probe([CLAUDE], kinds=["completion"], limits={"concurrency": 1})

    assert run.result(CLAUDE, "completion")["error_class"] == BEDROCK_ERRORS[name].expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rate_limited", "rate_limited"),  # throttlingException
        ("overloaded", "overloaded"),  # serviceUnavailableException
        ("model_error", "server_error"),  # modelStreamErrorException
        ("access_denied", "access_denied"),  # accessDeniedException
        ("end_of_life_validation", "model_deprecated"),  # validationException "end of its life"
        ("server_error", "server_error"),  # internalServerException
    ],
)
def test_an_exception_inside_the_stream_is_read_like_the_same_error_outside(
    bedrock: Callable[..., Bedrock], name: str, expected: str
) -> None:
    api = bedrock()
    api.fake.behave(CLAUDE, Behaviour.stream_error(name), on="stream")
    run = api.probe([CLAUDE], kinds=["stream"])

    assert run.result(CLAUDE, "stream")["error_class"] == expected


@pytest.mark.parametrize(
    ("behaviour", "words"),
    [
        (Behaviour.raw(truncated_stream()), "ended inside an event-stream message"),
        (Behaviour.raw(bad_crc_stream()), "CRC does not match"),
        (Behaviour.cut(), "terminator"),
        (Behaviour.malformed(), "not JSON"),
    ],
    ids=["truncated-message", "bad-crc", "no-message-stop", "payload-not-json"],
)
def test_a_broken_event_stream_is_a_protocol_error(
    bedrock: Callable[..., Bedrock], behaviour: Behaviour, words: str
) -> None:
    api = bedrock()
    api.fake.behave(CLAUDE, behaviour, on="stream")
    run = api.probe([CLAUDE], kinds=["stream"])

    result = run.result(CLAUDE, "stream")
    assert result["error_class"] == "protocol_error"
    assert words in result["detail"]


def test_a_stream_split_into_single_bytes_still_decodes(bedrock: Callable[..., Bedrock]) -> None:
    api = bedrock()
    api.fake.behave(CLAUDE, Behaviour.ok("ok then more").trickled(1, 0.0), on="stream")
    run = api.probe([CLAUDE], kinds=["stream"])

    assert run.result(CLAUDE, "stream")["error_class"] == "ok"


def test_the_signature_is_dated_by_the_runners_clock_and_carries_the_session_token(
    bedrock: Callable[..., Bedrock], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = bedrock(date="20261130T120000Z", session_token="session-token-canary-5e1f")
    monkeypatch.setenv("TEST_AWS_SESSION", "session-token-canary-5e1f")
    parts = {**PARTS, "session_token": "env:TEST_AWS_SESSION"}
    plan = make_plan(registry.load(api.write([CLAUDE], {"parts": parts})), Selection(), None)
    fixed = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
    report = asyncio.run(runner.run(plan, clock=lambda: fixed))

    assert {v.verdict.value for v in report.verdicts} == {"up"}
    assert api.fake.rejected == []
    assert {r.headers["x-amz-date"] for r in api.fake.verified} == {"20261130T120000Z"}


def test_a_wrong_secret_is_refused_by_the_server_and_blocks_the_model(
    bedrock: Callable[..., Bedrock], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = bedrock()
    monkeypatch.setenv("TEST_AWS_SECRET", "not/the+secret7Qx2Lm9Rt4Vw8Yz3Nb5Kd1Hf6Jp")
    run = api.probe([CLAUDE], kinds=["completion"])

    assert verdicts(run) == {"blocked"}
    assert {p for _, p in api.fake.rejected} == {"the signature does not match"}
    assert run.result(CLAUDE, "completion")["error_class"] == "auth_failed"


def test_a_profile_of_the_shared_credentials_file_is_read_by_botocore(
    bedrock: Callable[..., Bedrock],
) -> None:
    credentials = Path.home() / ".aws" / "credentials"
    credentials.parent.mkdir(parents=True, exist_ok=True)
    credentials.write_text(
        f"[audit]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
    )
    api = bedrock()
    found = api.probe([CLAUDE], {"profile": "audit"}, kinds=["completion"])
    missing = api.probe([CLAUDE], {"profile": "nobody"}, kinds=["completion"])

    assert verdicts(found) == {"up"}
    assert missing.result(CLAUDE, "completion")["error_class"] == "auth_failed"
    assert "nobody" in missing.result(CLAUDE, "completion")["detail"]
    assert SECRET not in found.out + missing.out


def test_the_default_chain_finds_the_environment_and_nothing_is_no_metadata_call(
    bedrock: Callable[..., Bedrock], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = bedrock()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    found = api.probe([CLAUDE], {"chain": "default"}, kinds=["completion"])
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    none = api.probe([CLAUDE], {"chain": "default"}, kinds=["completion"])

    assert verdicts(found) == {"up"}
    result = none.result(CLAUDE, "completion")
    assert result["error_class"] == "auth_failed"
    assert "found no AWS credentials" in result["detail"]


def test_a_missing_part_skips_the_provider_and_names_the_variable(
    bedrock: Callable[..., Bedrock], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = bedrock()
    monkeypatch.delenv("TEST_AWS_SECRET")
    run = api.probe([CLAUDE])

    assert verdicts(run) == {"skipped"}
    assert "TEST_AWS_SECRET is not set" in run.document["verdicts"][0]["reason"]
    assert api.fake.requests == []


def test_without_botocore_the_provider_is_skipped_naming_the_extra(
    bedrock: Callable[..., Bedrock], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = bedrock()
    monkeypatch.setitem(sys.modules, "botocore", None)  # what an install without it looks like
    run = api.probe([CLAUDE])

    assert verdicts(run) == {"skipped"}
    assert "pip install 'llm-modelaudit[bedrock]'" in run.document["verdicts"][0]["reason"]
    assert api.fake.requests == []
