"""`credentials:` in providers.yaml: a credential of several parts, a profile, or the vendor
SDK's default chain, each accepted only by a family that takes that form; where the
credential is, never what it is (a value is never echoed back)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from tests.helpers import run_cli, write_registry
from tests.probe.signing import HmacTestFamily, TokenTestFamily

from modelaudit import credentials
from modelaudit.cli.app import main
from modelaudit.families import FAMILIES
from modelaudit.families.base import Credential
from modelaudit.registry import load

if TYPE_CHECKING:
    from pathlib import Path

OPENAI = """\
  - name: openai
    api: openai
    base_url: https://api.openai.com/v1
    hosting: vendor
    jurisdiction: US
    models:
      - id: gpt-4o-mini
        weights: closed
"""
SIGNED = OPENAI.replace("name: openai", "name: signed").replace("api: openai", "api: hmac-test")


def registry(provider: str, credential: str) -> str:
    return "version: 1\nproviders:\n" + provider.replace(
        "    hosting:", credential + "    hosting:"
    )


@pytest.fixture(autouse=True)
def test_families(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(FAMILIES, "hmac-test", HmacTestFamily("https://control.example"))
    monkeypatch.setitem(FAMILIES, "token-test", TokenTestFamily("https://token.example"))


def check(isolated_env: Path, capsys: pytest.CaptureFixture[str], text: str) -> tuple[int, str]:
    write_registry(isolated_env, text)
    code, out, err = run_cli(["config", "check"], capsys)
    return code, out + err


PARTS = "    credentials:\n      parts: {key_id: env:SIGNER_KEY_ID, secret: env:SIGNER_SECRET}\n"
TAKES = "it takes `credentials: {parts: {...}}` with key_id, secret, session (optional)"

CASES: dict[str, tuple[str, str]] = {
    "parts for a family that takes one key": (
        registry(OPENAI, PARTS),
        "providers.yaml:7:7: providers[0].credentials: api `openai` does not take credential "
        "parts: it takes `api_key: env:VAR` (or file:PATH)",
    ),
    "one key for a family that takes parts": (
        registry(SIGNED, "    api_key: env:SIGNER_SECRET\n"),
        "providers.yaml:6:14: providers[0].api_key: api `hmac-test` does not take a single key: "
        f"set `credentials` ({TAKES})",
    ),
    "both": (
        registry(SIGNED, "    api_key: env:X\n" + PARTS),
        "providers.yaml:8:7: providers[0].credentials: set `api_key` or `credentials`, not both: "
        "remove one of them",
    ),
    "a part the family does not read": (
        registry(SIGNED, PARTS.replace("secret:", "secrett:")),
        "providers.yaml:7:7: providers[0].credentials: api `hmac-test` has no credential part "
        f"`secrett`: {TAKES}",
    ),
    "a required part left out": (
        registry(SIGNED, "    credentials:\n      parts: {key_id: env:SIGNER_KEY_ID}\n"),
        "providers.yaml:7:7: providers[0].credentials: credential part `secret` is required for "
        f"api `hmac-test`: {TAKES}",
    ),
    "two forms at once": (
        registry(SIGNED, PARTS + "      profile: prod\n"),
        "providers.yaml:7:7: providers[0].credentials: `credentials` takes one of: "
        "`parts: {NAME: env:VAR, ...}` (each part env: or file:), `profile: NAME` (a profile "
        "of the vendor's own configuration), `chain: default` (the vendor SDK's default chain); "
        "exactly one",
    ),
    "a chain other than the default": (
        registry(SIGNED, "    credentials: {chain: mine}\n"),
        "providers.yaml:6:26: providers[0].credentials.chain: `chain` names the vendor SDK's "
        "chain: write `chain: default`",
    ),
    "a profile for a family that reads none": (
        registry(SIGNED, "    credentials: {profile: prod}\n"),
        "providers.yaml:6:18: providers[0].credentials: api `hmac-test` does not read a "
        f"profile: {TAKES}",
    ),
    "not a mapping": (
        registry(SIGNED, "    credentials: env:X\n"),
        "providers.yaml:6:18: providers[0].credentials: `credentials` takes one of: "
        "`parts: {NAME: env:VAR, ...}` (each part env: or file:), `profile: NAME` (a profile "
        "of the vendor's own configuration), `chain: default` (the vendor SDK's default chain)",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_wrong_credential_form_gets_its_message_at_its_line(
    case: str, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, expected = CASES[case]
    code, output = check(isolated_env, capsys, text)
    assert code == 2
    assert [line for line in output.splitlines() if line.startswith("providers.yaml:")] == [
        expected
    ]


def test_a_forms_problem_is_reported_with_the_other_fields_problems(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = registry(OPENAI, PARTS).replace("weights: closed", "weights: shut")
    code, output = check(isolated_env, capsys, text)
    assert code == 2
    assert [
        line.split(": ")[1] for line in output.splitlines() if line.startswith("providers")
    ] == [
        "providers[0].credentials",
        "providers[0].models[0].weights",
    ]


@pytest.mark.parametrize(
    "written",
    [
        "{key_id: env:A, secret: sk-proj-CANARY0123456789abcdefABC}",
        "{key_id: env:A, secret: 31337420}",
        "{key_id: env:A, secret: {source: env, name: 31337420}}",
        "{key_id: env:A, secret: {source: sk-proj-CANARY0123456789abcdefABC, name: x}}",
    ],
)
def test_a_literal_value_in_a_part_is_refused_and_never_echoed(
    written: str, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = check(
        isolated_env, capsys, registry(SIGNED, f"    credentials:\n      parts: {written}\n")
    )
    assert code == 2
    assert "sk-proj-CANARY" not in output
    assert "31337420" not in output
    assert "providers[0].credentials" in output


def test_a_key_in_place_of_the_chain_word_is_never_echoed(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "sk-proj-CANARY0123456789abcdefABCDEF"
    code, output = check(
        isolated_env, capsys, registry(SIGNED, f"    credentials: {{chain: {key}}}\n")
    )
    assert code == 2
    assert key not in output


def test_config_check_and_providers_name_the_parts_never_their_values(
    isolated_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNER_KEY_ID", "AKIDCANARY1234")
    code, output = check(isolated_env, capsys, registry(SIGNED, PARTS))
    assert code == 0
    assert "env:SIGNER_KEY_ID, env:SIGNER_SECRET" in output
    assert "SIGNER_SECRET is not set" in output
    assert "AKIDCANARY1234" not in output

    assert main(["providers", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)["providers"][0]
    assert (listed["api_key"], listed["credentials"]) == (
        None,
        "env:SIGNER_KEY_ID, env:SIGNER_SECRET",
    )


def test_the_parts_are_read_at_send_time_and_an_unset_optional_one_is_left_out(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = PARTS.replace("}\n", ", session: env:SIGNER_SESSION}\n")
    (isolated_env / "providers.yaml").write_text(registry(SIGNED, parts))
    provider = load(isolated_env / "providers.yaml").registry.providers[0]
    monkeypatch.setenv("SIGNER_KEY_ID", "AKIDCANARY1234")
    monkeypatch.setenv("SIGNER_SECRET", "secret-canary-5678")

    credential = credentials.read(provider, isolated_env)

    assert credential == Credential(
        parts={"key_id": "AKIDCANARY1234", "secret": "secret-canary-5678"}
    )
    assert "secret-canary-5678" not in repr(credential)
    assert "AKIDCANARY1234" not in repr(credential)
    monkeypatch.setenv("SIGNER_SESSION", "")  # set, but empty: a broken part, not an unset one
    with pytest.raises(LookupError, match="SIGNER_SESSION is set but empty"):
        credentials.read(provider, isolated_env)


def test_the_default_chain_is_the_familys_to_read(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = registry(
        SIGNED.replace("hmac-test", "token-test"), "    credentials: {chain: default}\n"
    )
    code, output = check(isolated_env, capsys, text)
    assert code == 0
    provider = load(isolated_env / "providers.yaml").registry.providers[0]
    assert credentials.read(provider, isolated_env) == Credential(chain=True)
    assert "chain:default" in output
