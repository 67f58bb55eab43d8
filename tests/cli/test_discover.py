"""`modelaudit discover`: what each provider serves now, from several vendors' loopback fakes
at once (reached through the base-URL variables the vendor table names), without a token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.discovery.vendors import KEYS, vendor_fakes
from tests.fakes import Behaviour, FakeOpenAI, FakeVLLM, Model
from tests.fakes.http import closed_port
from tests.helpers import run_cli

from modelaudit.cli.app import run
from modelaudit.discovery.document import DiscoverDocument

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "discover.schema.json"


def discover(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run_cli(["discover", "-f", "json", *args], capsys)
    return code, json.loads(out) if out.strip() else {}, err


def provider(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in doc["providers"] if p["provider"] == name)


def model(doc: dict[str, Any], name: str, model_id: str) -> dict[str, Any]:
    return next(m for m in provider(doc, name)["models"] if m["id"] == model_id)


def test_every_vendor_whose_key_is_set_is_read_without_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with vendor_fakes(monkeypatch) as fakes:
        code, doc, err = discover(capsys, "--from-env")
        generations = sum(
            1
            for fake in fakes.by_name().values()
            for request in fake.requests
            if request.method == "POST"
        )
    assert code == 0, err
    assert generations == 0
    assert doc["output_tokens_requested"] == 0
    assert {p["provider"] for p in doc["providers"]} == set(KEYS)
    assert all(p["status"] == "listed" for p in doc["providers"])
    assert provider(doc, "openai")["found_by"] == "OPENAI_API_KEY is set"
    # A floating alias beside its dated snapshots, and the one to pin.
    alias = model(doc, "openai", "gpt-4o")
    assert (alias["kind"], alias["pin"]) == ("alias", "gpt-4o-2024-08-06")
    assert alias["snapshots"] == ["gpt-4o-2024-08-06", "gpt-4o-2024-05-13"]
    retiring = model(doc, "openai", "gpt-4-0613")
    assert (retiring["kind"], retiring["retires"]) == ("snapshot", "2026-06-01")
    # Mistral names the alias in its list; OpenRouter names the canonical dated id.
    latest = model(doc, "mistral", "mistral-large-latest")
    assert (latest["resolves_to"], latest["resolved_by"]) == ("mistral-large-2411", "catalog")
    routed = model(doc, "openrouter", "openai/gpt-4o")
    assert routed["resolves_to"] == "openai/gpt-4o-2024-05-13"
    assert model(doc, "openrouter", "qwen/qwen3.6-27b")["weights_id"] == "Qwen/Qwen3.6-27B"
    assert model(doc, "mistral", "mistral-embed")["generates_text"] is False
    # Anthropic's look-up by id resolves aliases: an undated id it answers as itself is fixed.
    opus = model(doc, "anthropic", "claude-opus-5")
    assert (opus["kind"], opus["why"]) == (
        "snapshot",
        "the look-up by id, which resolves aliases here, answers with this same id",
    )
    for key in KEYS.values():
        assert key not in err
        assert key not in json.dumps(doc)


def test_registry_models_the_list_leaves_out_are_looked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with vendor_fakes(monkeypatch) as fakes:
        registry = tmp_path / "providers.yaml"
        registry.write_text(
            "version: 1\nproviders:\n"
            "  - name: anthropic\n    api: anthropic\n"
            f"    base_url: {fakes.anthropic.base_url}\n"
            "    api_key: env:ANTHROPIC_API_KEY\n    hosting: vendor\n    jurisdiction: US\n"
            "    models:\n"
            "      - {id: claude-sonnet-4-5-20250929, weights: closed}\n"
            "      - {id: claude-sonnet-4-5, weights: closed}\n"
            "      - {id: claude-2.1, weights: closed}\n"
        )
        code, doc, err = discover(capsys, "-c", str(registry))
    assert code == 0, err
    statuses = {r["id"]: r for r in provider(doc, "anthropic")["registry_models"]}
    assert statuses["claude-sonnet-4-5-20250929"]["status"] == "listed"
    resolved = statuses["claude-sonnet-4-5"]
    assert (resolved["status"], resolved["resolves_to"]) == (
        "resolves",
        "claude-sonnet-4-5-20250929",
    )
    assert statuses["claude-2.1"]["status"] == "gone"
    assert "1 registry models not listed" not in err  # words for two
    assert "2 registry models not listed" in err
    assert model(doc, "anthropic", "claude-sonnet-4-5-20250929")["in_registry"] is True


def test_models_new_and_gone_since_the_list_a_probe_run_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "history.sqlite3"
    registry = tmp_path / "providers.yaml"
    with FakeOpenAI(key=KEYS["openai"], models=["gpt-a", "gpt-b"]) as fake:
        monkeypatch.setenv("ACME_API_KEY", KEYS["openai"])
        registry.write_text(
            "version: 1\ndefaults:\n  kinds: [catalog]\n"
            f"  control: {{urls: ['{fake.base_url}/models']}}\nproviders:\n"
            f"  - name: acme\n    api: openai\n    base_url: {fake.base_url}\n"
            "    api_key: env:ACME_API_KEY\n    hosting: vendor\n    jurisdiction: US\n"
            "    models:\n      - {id: gpt-a, weights: closed}\n"
        )
        assert run(["probe", "-c", str(registry), "--db", str(db), "-f", "json"]) == 0
        capsys.readouterr()
        fake.add_model("gpt-c")
        fake.behave("gpt-b", Behaviour.unlisted())
        code, doc, err = discover(capsys, "-c", str(registry), "--db", str(db))
    assert code == 0, err
    since = provider(doc, "acme")["since_snapshot"]
    assert (since["appeared"], since["vanished"]) == (["gpt-c"], ["gpt-b"])
    assert model(doc, "acme", "gpt-c")["new"] is True
    assert model(doc, "acme", "gpt-a")["new"] is False
    assert "1 new, 1 gone" in err


def test_nothing_readable_is_inconclusive_not_an_empty_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with closed_port() as port:
        monkeypatch.setenv("OPENAI_API_KEY", KEYS["openai"])
        monkeypatch.setenv("OPENAI_BASE_URL", f"{port.url}/v1")
        code, doc, err = discover(capsys, "--from-env")
    assert code == 3
    assert provider(doc, "openai")["status"] == "failed"
    assert provider(doc, "openai")["error_class"] == "connect_failed"
    assert "openai: failed: connect_failed" in err


def test_a_registry_provider_without_its_key_is_skipped_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = tmp_path / "providers.yaml"
    registry.write_text(
        "version: 1\nproviders:\n  - name: acme\n    api: openai\n"
        "    base_url: https://api.acme.invalid/v1\n    api_key: env:ACME_API_KEY\n"
        "    hosting: vendor\n    jurisdiction: US\n    models:\n      - {id: m, weights: closed}\n"
    )
    code, doc, err = discover(capsys, "-c", str(registry))
    assert code == 3
    assert provider(doc, "acme")["status"] == "skipped"
    assert "ACME_API_KEY is not set" in err


def test_local_servers_join_the_discovery(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeVLLM(models=[Model("qwen3-8b", root="Qwen/Qwen3-8B")]) as vllm, closed_port() as off:
        code, doc, err = discover(capsys, "--local-ports", f"{vllm.server.port},{off.port}")
    assert code == 0, err
    found = doc["providers"][0]
    assert (found["origin"], found["provider"]) == ("local", f"vllm-{vllm.server.port}")
    assert found["models"][0]["weights_id"] == "Qwen/Qwen3-8B"
    states = {p["port"]: p["state"] for p in doc["local_ports"]}
    assert states == {vllm.server.port: "server", off.port: "closed"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no providers.yaml here"),
        (("--from-env",), "nothing to read: no provider matches"),
        (("--local-ports", "80000"), "`80000` is not a TCP port"),
    ],
)
def test_usage_errors_exit_2(
    args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["discover", *args]) == 2
    assert message in capsys.readouterr().err


def test_an_unknown_provider_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with vendor_fakes(monkeypatch):
        assert run(["discover", "--from-env", "--provider", "nope"]) == 2
    assert "--provider nope: no such provider (have: anthropic, groq" in capsys.readouterr().err


def test_the_table_names_aliases_and_what_to_pin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with vendor_fakes(monkeypatch):
        assert run(["discover", "--from-env", "-p", "openai", "-f", "table"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.split()[1:2] == ["gpt-4o"])
    assert "alias" in row
    assert "newest snapshot gpt-4o-2024-08-06 (+1 older)" in row


def test_the_committed_json_schema_is_the_documents() -> None:
    committed = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert committed == DiscoverDocument.model_json_schema(), (
        "docs/schemas/discover.schema.json differs from the model: regenerate it with "
        "`python -m modelaudit.discovery.document`"
    )


def test_server_text_reaches_the_terminal_table_inert(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=KEYS["openai"], models=["evil\x1b[2J\x1b]0;title\x07-model"]) as fake:
        monkeypatch.setenv("OPENAI_API_KEY", KEYS["openai"])
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        assert run(["discover", "--from-env", "-f", "table"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "evil?[2J?]0;title?-model" in out


def test_a_ca_bundle_that_is_not_pem_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    registry = tmp_path / "providers.yaml"
    registry.write_text(
        "version: 1\nproviders:\n  - name: acme\n    api: openai\n"
        "    base_url: https://127.0.0.1:9/v1\n    ca_bundle: ca.pem\n    hosting: self-hosted\n"
        "    models:\n      - {id: m, weights: open}\n"
    )
    assert run(["discover", "-c", str(registry)]) == 2
    err = capsys.readouterr().err
    assert "acme: ca_bundle: cannot load" in err
    assert "Traceback" not in err
