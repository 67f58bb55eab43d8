"""A family's authorizer sees the whole request and the clock: it can sign each request
(checked by a loopback fake that recomputes the signature itself) or fetch a short-lived
token and keep it until the clock says it expired; a credential made of several parts is
read part by part; and it goes to the hosts the family names for the provider, never to
another one."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from modelaudit import registry
from modelaudit.families import FAMILIES
from modelaudit.probe import runner
from modelaudit.probe.plan import Selection, make_plan
from modelaudit.vocabulary import ProbeKind
from tests.fakes.http import FakeServer, json_reply
from tests.fakes.signed import FakeSignedOpenAI, FakeTokenOpenAI, TokenServer
from tests.probe.runs import probe, provider, write_registry
from tests.probe.signing import HmacTestFamily, TokenTestFamily

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

MODELS = ["m1", "m2"]
KEY_ID, SECRET = "AKIDTEST", "hmac-test-secret-0f3a9c"
CREDENTIAL_VARIABLES = {"SIGNER_KEY_ID": KEY_ID, "SIGNER_SECRET": SECRET}


def signed_provider(runtime: FakeSignedOpenAI, **extra: Any) -> dict[str, Any]:
    parts = {"key_id": "env:SIGNER_KEY_ID", "secret": "env:SIGNER_SECRET"}
    return provider(
        "signed", "hmac-test", runtime.base_url, MODELS, credentials={"parts": parts}, **extra
    )


@pytest.fixture
def signer_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDENTIAL_VARIABLES.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def split_api(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[FakeSignedOpenAI, FakeSignedOpenAI]]:
    """The runtime host (generations) and the control host (the model list), each checking
    every request's signature with the same secret; `hmac-test` registered for the test."""
    keys = {KEY_ID: SECRET}
    with (
        FakeSignedOpenAI(keys=keys, models=MODELS) as runtime,
        FakeSignedOpenAI(keys=keys, models=MODELS) as control,
    ):
        monkeypatch.setitem(FAMILIES, HmacTestFamily.name, HmacTestFamily(control.base_url))
        yield runtime, control


@pytest.mark.usefixtures("signer_env")
def test_every_request_is_signed_and_each_host_checks_the_signature_itself(
    isolated_env: Path,
    online: str,
    capsys: pytest.CaptureFixture[str],
    split_api: tuple[FakeSignedOpenAI, FakeSignedOpenAI],
) -> None:
    runtime, control = split_api
    kinds = ["catalog", "completion", "stream"]
    write_registry(isolated_env, [signed_provider(runtime)], control_url=online, kinds=kinds)
    run = probe(capsys)

    assert {v["verdict"] for v in run.document["verdicts"]} == {"up"}
    assert (runtime.rejected, control.rejected) == ([], [])
    # The list on the control host, each model's two generations on the runtime host.
    assert [r.method for r in control.verified] == ["GET"]
    assert sorted(r.json()["model"] for r in runtime.verified) == ["m1", "m1", "m2", "m2"]
    assert SECRET not in run.out + run.err


@pytest.mark.usefixtures("signer_env")
def test_a_wrong_secret_is_refused_by_the_server_and_blocks_the_model(
    isolated_env: Path,
    online: str,
    capsys: pytest.CaptureFixture[str],
    split_api: tuple[FakeSignedOpenAI, FakeSignedOpenAI],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime, _ = split_api
    monkeypatch.setenv("SIGNER_SECRET", "not-the-secret-at-all")
    write_registry(isolated_env, [signed_provider(runtime)], control_url=online)
    run = probe(capsys)

    assert {v["verdict"] for v in run.document["verdicts"]} == {"blocked"}
    assert {p for _, p in runtime.rejected} == {"the signature does not match"}
    assert run.result("m1", "completion")["error_class"] == "auth_failed"


@pytest.mark.usefixtures("signer_env")
def test_the_signature_is_dated_by_the_runners_clock(
    isolated_env: Path, online: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
    keys = {KEY_ID: SECRET}
    with (
        FakeSignedOpenAI(keys=keys, models=MODELS, date="20261130T120000Z") as runtime,
        FakeSignedOpenAI(keys=keys, models=MODELS, date="20261130T120000Z") as control,
    ):
        monkeypatch.setitem(FAMILIES, HmacTestFamily.name, HmacTestFamily(control.base_url))
        path = write_registry(isolated_env, [signed_provider(runtime)], control_url=online)
        plan = make_plan(registry.load(path), Selection(), None)
        report = asyncio.run(runner.run(plan, clock=lambda: fixed))

    assert {v.verdict.value for v in report.verdicts} == {"up"}
    assert runtime.rejected == []
    assert {r.headers["x-ma-date"] for r in runtime.verified} == {"20261130T120000Z"}


def test_an_optional_part_is_sent_when_set_and_left_out_when_not(
    isolated_env: Path,
    online: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIGNER_KEY_ID", KEY_ID)
    monkeypatch.setenv("SIGNER_SECRET", SECRET)
    monkeypatch.setenv("SIGNER_SESSION", "session-token-123456")
    keys = {KEY_ID: SECRET}
    with (
        FakeSignedOpenAI(keys=keys, models=MODELS, session="session-token-123456") as runtime,
        FakeSignedOpenAI(keys=keys, models=MODELS, session="session-token-123456") as control,
    ):
        monkeypatch.setitem(FAMILIES, HmacTestFamily.name, HmacTestFamily(control.base_url))
        parts = {
            "key_id": "env:SIGNER_KEY_ID",
            "secret": "env:SIGNER_SECRET",
            "session": "env:SIGNER_SESSION",
        }
        entry = provider(
            "signed", "hmac-test", runtime.base_url, MODELS, credentials={"parts": parts}
        )
        write_registry(isolated_env, [entry], control_url=online, kinds=["completion"])
        with_session = probe(capsys)
        monkeypatch.delenv("SIGNER_SESSION")
        without_session = probe(capsys)

    assert {v["verdict"] for v in with_session.document["verdicts"]} == {"up"}
    # Unset, the optional part is not a missing key: the request goes, the server refuses it.
    assert {v["verdict"] for v in without_session.document["verdicts"]} == {"blocked"}
    assert "session-token-123456" not in with_session.out + with_session.err


def test_a_missing_part_skips_the_provider_and_names_the_variable(
    isolated_env: Path,
    online: str,
    capsys: pytest.CaptureFixture[str],
    split_api: tuple[FakeSignedOpenAI, FakeSignedOpenAI],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime, control = split_api
    monkeypatch.setenv("SIGNER_KEY_ID", KEY_ID)
    write_registry(isolated_env, [signed_provider(runtime)], control_url=online)
    run = probe(capsys)

    verdicts = run.document["verdicts"]
    assert {v["verdict"] for v in verdicts} == {"skipped"}
    assert "SIGNER_SECRET is not set" in verdicts[0]["reason"]
    assert runtime.server.requests == control.server.requests == []


@pytest.mark.usefixtures("signer_env")
def test_the_credential_goes_to_the_providers_hosts_and_never_to_another(
    isolated_env: Path,
    online: str,
    capsys: pytest.CaptureFixture[str],
    split_api: tuple[FakeSignedOpenAI, FakeSignedOpenAI],
) -> None:
    runtime, control = split_api
    with FakeServer() as elsewhere:
        # The control host's list links its next page to another host.
        elsewhere.route("GET", "/page-2", json_reply({"object": "list", "data": []}))
        first_page = {
            "object": "list",
            "data": [{"id": m, "object": "model", "owned_by": "x"} for m in MODELS],
            "next_url": f"{elsewhere.url}/page-2",
        }
        control.server.route("GET", "/v1/models", json_reply(first_page))
        write_registry(isolated_env, [signed_provider(runtime)], control_url=online)
        run = probe(capsys)
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

        # Each request reads the clock once; it moves 4 minutes a read, and a 10-minute
        # token is kept until a minute before it expires: a token serves 3 requests.
        start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
        reads = iter(range(1000))
        report = asyncio.run(
            runner.run(plan, clock=lambda: start + timedelta(minutes=4 * next(reads)))
        )

    assert {v.verdict.value for v in report.verdicts} == {"up"}
    requests = 1 + len(models)  # the list, then one completion per model
    assert len(api.seen) == requests
    expected = [f"tok-{1 + i // 3}" for i in range(requests)]
    assert api.seen == expected
    assert tokens.issued == list(dict.fromkeys(expected))  # tok-1, tok-2, tok-3
