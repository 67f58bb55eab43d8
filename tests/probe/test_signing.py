"""A family's authorizer sees the whole request and the clock: it can sign each request
(checked by a loopback fake that recomputes the signature itself) or fetch a short-lived
token and keep it until the clock says it expired; a credential made of several parts is
read part by part; and it goes to the hosts the family names for the provider, never to
another one."""

from __future__ import annotations

import asyncio
import json
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from modelaudit import registry
from modelaudit.families import FAMILIES
from modelaudit.probe import runner
from modelaudit.probe.plan import Selection, make_plan
from modelaudit.vocabulary import ProbeKind
from tests.fakes.http import FakeServer, json_reply
from tests.fakes.signed import FakeSignedOpenAI, FakeTokenOpenAI, TokenServer
from tests.probe.runs import ProbeRun, probe, provider, write_registry
from tests.probe.signing import HmacTestFamily, TokenTestFamily

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

MODELS = ["m1", "m2"]
KEY_ID, SECRET = "AKIDTEST", "hmac-test-secret-0f3a9c"
PARTS = {"key_id": "env:SIGNER_KEY_ID", "secret": "env:SIGNER_SECRET"}


@dataclass
class SplitApi:
    """An `hmac-test` provider's two hosts, each checking every request's signature with
    the same secret: `runtime` (its `base_url`: generations) and `control` (the model list)."""

    runtime: FakeSignedOpenAI
    control: FakeSignedOpenAI
    directory: Path
    control_url: str
    capsys: pytest.CaptureFixture[str]

    def write(self, parts: dict[str, str] = PARTS, kinds: list[str] | None = None) -> Path:
        entry = provider(
            "signed", "hmac-test", self.runtime.base_url, MODELS, credentials={"parts": parts}
        )
        return write_registry(self.directory, [entry], control_url=self.control_url, kinds=kinds)

    def probe(self, parts: dict[str, str] = PARTS, kinds: list[str] | None = None) -> ProbeRun:
        self.write(parts, kinds)
        return probe(self.capsys)


@pytest.fixture
def split_api(
    isolated_env: Path,
    online: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., SplitApi]]:
    """Makes the two hosts (keyword arguments go to both fakes), registers `hmac-test` for
    them, and sets the key id and secret in the environment."""
    monkeypatch.setenv("SIGNER_KEY_ID", KEY_ID)
    monkeypatch.setenv("SIGNER_SECRET", SECRET)
    with ExitStack() as stack:

        def make(**options: Any) -> SplitApi:
            fakes = [
                stack.enter_context(
                    FakeSignedOpenAI(keys={KEY_ID: SECRET}, models=MODELS, **options)
                )
                for _ in range(2)
            ]
            family = HmacTestFamily(fakes[1].base_url)
            monkeypatch.setitem(FAMILIES, HmacTestFamily.name, family)
            return SplitApi(*fakes, isolated_env, online, capsys)

        yield make


def test_every_request_is_signed_and_each_host_checks_the_signature_itself(
    split_api: Callable[..., SplitApi],
) -> None:
    api = split_api()
    run = api.probe(kinds=["catalog", "completion", "stream"])

    assert {v["verdict"] for v in run.document["verdicts"]} == {"up"}
    assert (api.runtime.rejected, api.control.rejected) == ([], [])
    # The list on the control host, each model's two generations on the runtime host.
    assert [r.method for r in api.control.verified] == ["GET"]
    assert sorted(r.json()["model"] for r in api.runtime.verified) == ["m1", "m1", "m2", "m2"]
    assert SECRET not in run.out + run.err


def test_a_wrong_secret_is_refused_by_the_server_and_blocks_the_model(
    split_api: Callable[..., SplitApi], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = split_api()
    monkeypatch.setenv("SIGNER_SECRET", "not-the-secret-at-all")
    run = api.probe()

    assert {v["verdict"] for v in run.document["verdicts"]} == {"blocked"}
    assert {p for _, p in api.runtime.rejected} == {"the signature does not match"}
    assert run.result("m1", "completion")["error_class"] == "auth_failed"


def test_the_signature_is_dated_by_the_runners_clock(split_api: Callable[..., SplitApi]) -> None:
    api = split_api(date="20261130T120000Z")
    plan = make_plan(registry.load(api.write()), Selection(), None)
    fixed = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
    report = asyncio.run(runner.run(plan, clock=lambda: fixed))

    assert {v.verdict.value for v in report.verdicts} == {"up"}
    assert api.runtime.rejected == []
    assert {r.headers["x-ma-date"] for r in api.runtime.verified} == {"20261130T120000Z"}


def test_an_optional_part_is_sent_when_set_and_left_out_when_not(
    split_api: Callable[..., SplitApi], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = split_api(session="session-token-123456")
    monkeypatch.setenv("SIGNER_SESSION", "session-token-123456")
    parts = {**PARTS, "session": "env:SIGNER_SESSION"}
    with_session = api.probe(parts, kinds=["completion"])
    monkeypatch.delenv("SIGNER_SESSION")
    without_session = api.probe(parts, kinds=["completion"])

    assert {v["verdict"] for v in with_session.document["verdicts"]} == {"up"}
    # Unset, the optional part is not a missing key: the request goes, the server refuses it.
    assert {v["verdict"] for v in without_session.document["verdicts"]} == {"blocked"}
    assert "session-token-123456" not in with_session.out + with_session.err


def test_a_part_the_server_echoes_back_never_comes_out(
    split_api: Callable[..., SplitApi], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = split_api(session="the-session-the-server-issued")
    monkeypatch.setenv("SIGNER_SESSION", "session-canary-7f3e9a1b")
    run = api.probe({**PARTS, "session": "env:SIGNER_SESSION"}, kinds=["completion"])

    assert {v["verdict"] for v in run.document["verdicts"]} == {"blocked"}
    echoed = [p for _, p in api.runtime.rejected]
    assert echoed
    assert all("session-canary-7f3e9a1b" in p for p in echoed)  # the server did echo it
    assert "session-canary-7f3e9a1b" not in run.out + run.err
    assert "[REDACTED]" in run.out


def test_a_missing_part_skips_the_provider_and_names_the_variable(
    split_api: Callable[..., SplitApi], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = split_api()
    monkeypatch.delenv("SIGNER_SECRET")
    run = api.probe()

    verdicts = run.document["verdicts"]
    assert {v["verdict"] for v in verdicts} == {"skipped"}
    assert "SIGNER_SECRET is not set" in verdicts[0]["reason"]
    assert api.runtime.server.requests == api.control.server.requests == []


def test_the_credential_goes_to_the_providers_hosts_and_never_to_another(
    split_api: Callable[..., SplitApi],
) -> None:
    api = split_api()
    with FakeServer() as elsewhere:
        # The control host's list links its next page to another host.
        elsewhere.route("GET", "/page-2", json_reply({"object": "list", "data": []}))
        first_page = {
            "object": "list",
            "data": [{"id": m, "object": "model", "owned_by": "x"} for m in MODELS],
            "next_url": f"{elsewhere.url}/page-2",
        }
        api.control.server.route("GET", "/v1/models", json_reply(first_page))
        run = api.probe()
        reached_elsewhere = list(elsewhere.requests)

    assert {v["verdict"] for v in run.document["verdicts"]} == {"up"}
    assert [r.path for r in reached_elsewhere] == ["/page-2"]
    sent = reached_elsewhere[0].headers
    assert not {"authorization", "x-ma-date", "x-ma-session"} & set(sent), sent
    assert SECRET not in json.dumps(sent)


def test_a_token_is_fetched_once_kept_and_fetched_again_when_the_clock_says_it_expired(
    isolated_env: Path, online: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TokenTestFamily.ID_VARIABLE, "client-1")
    monkeypatch.setenv(TokenTestFamily.SECRET_VARIABLE, "client-secret-9d8e7f")
    models = [f"m{i}" for i in range(6)]
    with (
        TokenServer(
            client_id="client-1", client_secret="client-secret-9d8e7f", lifetime_s=600
        ) as tokens,
        FakeTokenOpenAI(tokens=tokens, models=models) as api,
    ):
        monkeypatch.setitem(FAMILIES, TokenTestFamily.name, TokenTestFamily(tokens.url))
        entry = provider(
            "tokened",
            "token-test",
            api.base_url,
            models,
            credentials={"chain": "default"},
            limits={"concurrency": 1},
        )
        path = write_registry(isolated_env, [entry], control_url=online)
        plan = make_plan(
            registry.load(path), Selection(), (ProbeKind.CATALOG, ProbeKind.COMPLETION)
        )

        # The clock moves 4 minutes for each request the API has seen (however often the
        # runner reads it), and a 10-minute token is kept until a minute before it expires:
        # a token serves 3 requests.
        start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
        report = asyncio.run(
            runner.run(plan, clock=lambda: start + timedelta(minutes=4 * len(api.seen)))
        )

    assert {v.verdict.value for v in report.verdicts} == {"up"}
    requests = 1 + len(models)  # the list, then one completion per model
    assert len(api.seen) == requests
    expected = [f"tok-{1 + i // 3}" for i in range(requests)]
    assert api.seen == expected
    assert tokens.issued == list(dict.fromkeys(expected))  # tok-1, tok-2, tok-3


def test_a_profile_is_the_familys_to_read_and_a_missing_one_is_auth_failed(
    isolated_env: Path,
    online: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = Path.home() / TokenTestFamily.CONFIG
    config.parent.mkdir(parents=True)
    config.write_text("[prod]\nclient_id = client-1\nclient_secret = profile-secret-4b2c\n")
    with (
        TokenServer(client_id="client-1", client_secret="profile-secret-4b2c") as tokens,
        FakeTokenOpenAI(tokens=tokens, models=MODELS) as api,
    ):
        monkeypatch.setitem(FAMILIES, TokenTestFamily.name, TokenTestFamily(tokens.url))
        runs = {}
        for profile in ("prod", "staging"):
            entry = provider(
                "tokened", "token-test", api.base_url, MODELS, credentials={"profile": profile}
            )
            write_registry(isolated_env, [entry], control_url=online, kinds=["completion"])
            runs[profile] = probe(capsys)

    assert {v["verdict"] for v in runs["prod"].document["verdicts"]} == {"up"}
    assert tokens.issued == ["tok-1"]
    missing = runs["staging"].result("m1", "completion")
    assert missing["error_class"] == "auth_failed"
    assert "profile 'staging' is not in ~/.token-test/credentials" in missing["detail"]
    assert "profile-secret-4b2c" not in runs["prod"].out + runs["staging"].out
