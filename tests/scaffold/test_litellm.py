"""`init --from-litellm`: LiteLLM's own documentation configs (`litellm_configs/`, each
citing its page) become a registry that checks as written; what cannot be mapped is
reported with its line and the reason, never guessed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelaudit.cli.app import run

CONFIGS = Path(__file__).parent / "litellm_configs"


def imported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: Path | str
) -> tuple[dict[str, Any], str, Path]:
    source = config if isinstance(config, Path) else CONFIGS / config
    target = tmp_path / "providers.yaml"
    code = run(["init", "--from-litellm", str(source), "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert run(["config", "check", "-c", str(target)]) == 0, capsys.readouterr().err
    assert run(["probe", "--dry-run", "-c", str(target), "-f", "json"]) == 0
    json.loads(capsys.readouterr().out)
    document = yaml.safe_load(target.read_text(encoding="utf-8"))
    return document, err, target


def providers(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in document["providers"]}


def models(document: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in providers(document)[name]["models"]}


def test_the_quick_start_maps_what_it_can_and_says_why_not_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document, err, _ = imported(tmp_path, capsys, "configs_quick_start.yaml")
    # openai/ at a 0.0.0.0 api_base: an OpenAI-compatible server of your own.
    local = providers(document)["local"]
    assert (local["api"], local["base_url"], local["hosting"]) == (
        "openai",
        "http://0.0.0.0:4000/v1",
        "self-hosted",
    )
    assert "api_key" not in local  # `api_key: none`
    assert models(document, "local")["facebook/opt-125m"]["tags"] == ["vllm-models"]
    where = str(CONFIGS / "configs_quick_start.yaml")
    azure = "azure/gpt-4o-eu (model_name `gpt-4o`): not imported: an Azure deployment needs"
    assert f"{where}:7: {azure} api_version" in err
    bedrock = "bedrock/anthropic.claude-instant-v1 (model_name `bedrock-claude-v1`)"
    assert f"{where}:13: {bedrock}: not imported: AWS Bedrock has no api family" in err
    assert "not imported: a wildcard route" in err


def test_azure_deployments_map_once_the_api_version_is_known(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AZURE_API_VERSION", "2024-10-21")
    document, _, _ = imported(tmp_path, capsys, "configs_quick_start.yaml")
    azure = {n: p for n, p in providers(document).items() if p["api"] == "azure-openai"}
    assert sorted(azure) == [
        "azure-openai-my-endpoint-canada-berri992",
        "azure-openai-my-endpoint-europe-berri-992",
    ]
    europe = azure["azure-openai-my-endpoint-europe-berri-992"]
    assert europe["base_url"] == "https://my-endpoint-europe-berri-992.openai.azure.com"
    assert europe["api_key"] == "env:AZURE_API_KEY_EU"
    assert europe["api_version"] == "2024-10-21"
    assert models(document, "azure-openai-my-endpoint-europe-berri-992")["gpt-4o-eu"]["tags"] == [
        "gpt-4o"
    ]


def test_router_fallbacks_become_fallbacks_between_the_models_behind_the_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document, err, _ = imported(tmp_path, capsys, "reliability_fallbacks.yaml")
    openai = models(document, "openai")["gpt-4"]
    claude = models(document, "anthropic")["claude-3-opus-20240229"]
    assert openai["fallbacks"] == ["anthropic/claude-3-opus-20240229"]
    # `my-specific-model-id` is a model_info id: the deployment it names.
    assert claude["fallbacks"] == ["openai/gpt-4"]
    assert providers(document)["openai"]["api_key"] == "env:OPENAI_API_KEY"  # LiteLLM's default
    assert providers(document)["anthropic"]["api_key"] == "env:ANTHROPIC_API_KEY"
    assert "api_base comes from AZURE_API_BASE, which is not set here" in err
    assert "context_window_fallbacks not imported" in err


def test_an_api_base_from_the_environment_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AZURE_API_BASE", "https://acme.openai.azure.com/")
    monkeypatch.setenv("AZURE_API_VERSION", "2024-10-21")
    document, _, _ = imported(tmp_path, capsys, "reliability_fallbacks.yaml")
    azure = providers(document)["azure-openai"]
    assert azure["base_url"] == "https://acme.openai.azure.com"
    assert set(models(document, "azure-openai")) == {"chatgpt-v-2"}
    # model_name `gpt-4` is now two deployments: both fall back to Claude.
    assert models(document, "azure-openai")["chatgpt-v-2"]["fallbacks"] == [
        "anthropic/claude-3-opus-20240229"
    ]


def test_literal_keys_are_never_copied_and_bad_values_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document, err, target = imported(tmp_path, capsys, "providers_mix.yaml")
    text = target.read_text()
    assert "sk-123" not in text
    assert "eyJ0eXAiOiJ" not in text
    assert "the config holds a literal api_key: not copied" in text
    assert providers(document)["openai"]["api_key"] == "env:OPENAI_API_KEY"
    assert providers(document)["groq"]["api_key"] == "env:GROQ_API_KEY"
    vllm = providers(document)["vllm"]
    assert (vllm["server"], vllm["hosting"], vllm["base_url"]) == (
        "vllm",
        "self-hosted",
        "https://hosted-vllm-api.co",
    )
    assert models(document, "vllm")["facebook/opt-125m"]["fallbacks"] == [
        "groq/llama3-8b-8192",
        "azure-openai/chatgpt-v-2",
    ]
    assert "`your_ollama_api_base` is not an http(s) URL" in err
    assert "fallback `no-such-group` of `openai-gpt-4o`: not imported" in err


def test_a_public_host_modelaudit_does_not_know_is_written_commented_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: awan\n    litellm_params:\n      model: openai/Meta-Llama-3-8B-Instruct\n"
        "      api_key: os.environ/OTHER_AWANLLM_API_KEY\n      api_base: https://api.awanllm.com/v1\n"
        "  - model_name: groq-llama\n    litellm_params:\n      model: groq/llama3-8b-8192\n"
        "router_settings:\n  fallbacks: [{groq-llama: [awan]}]\n"
    )
    document, err, target = imported(tmp_path, capsys, config)
    assert list(providers(document)) == ["groq"]  # the other one is a comment
    assert "fallbacks" not in models(document, "groq")["llama3-8b-8192"]
    text = target.read_text()
    # Uncommented (each `# ` removed), the block is a provider at the right indentation.
    assert "\n  # - name: awanllm\n" in text
    assert "\n  #   base_url: https://api.awanllm.com/v1\n" in text
    assert "api.awanllm.com is a public host modelaudit does not know" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("general_settings: {}\n", "not a LiteLLM config: no `model_list`"),
        ("model_list: [\n", ":2:1:"),
        (
            "model_list:\n  - model_name: a\n    litellm_params: {model: 'vertex_ai/gemini-pro'}\n",
            "nothing to write",
        ),
    ],
)
def test_a_config_that_cannot_be_imported_is_a_usage_error(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "litellm.yaml"
    config.write_text(text)
    assert run(["init", "--from-litellm", str(config), "-o", str(tmp_path / "out.yaml")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "out.yaml").exists()


def test_credentials_from_the_credential_list_are_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "litellm.yaml"
    config.write_text(
        "model_list:\n  - model_name: fast\n    litellm_params:\n"
        "      model: together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo\n"
        "      litellm_credential_name: together\n"
        "credential_list:\n  - credential_name: together\n"
        "    credential_values:\n      api_key: os.environ/TOGETHER_TEAM_KEY\n"
    )
    document, _, _ = imported(tmp_path, capsys, config)
    together = providers(document)["together"]
    assert together["api_key"] == "env:TOGETHER_TEAM_KEY"
    assert set(models(document, "together")) == {"meta-llama/Llama-3.3-70B-Instruct-Turbo"}


def test_a_router_named_in_the_config_keeps_every_model_it_routes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Routers are narrowed only when `init` reads their whole catalog, never in an import."""
    config = tmp_path / "litellm.yaml"
    config.write_text(
        "model_list:\n  - model_name: claude\n    litellm_params:\n"
        "      model: openrouter/anthropic/claude-3.5-sonnet\n"
        "      api_key: os.environ/OPENROUTER_API_KEY\n"
    )
    document, _, _ = imported(tmp_path, capsys, config)
    assert set(models(document, "openrouter")) == {"anthropic/claude-3.5-sonnet"}
