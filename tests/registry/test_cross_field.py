"""Cross-field rules (hosting/server/jurisdiction, a family's base_url/api_version):
every one reported in the same pass as the field errors, each at the key to change."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from modelaudit.errors import ConfigError
from modelaudit.registry import load
from modelaudit.registry.schema import ProviderSpec

AZURE = """\
version: 1
providers:
  - name: azure
    api: azure-openai
    base_url: {base_url}
    api_version: {api_version}
    hosting: vendor
    jurisdiction: US
    models:
      - id: prod-deployment
        weights: closed
"""


def problems_of(tmp: Path, text: str) -> list[str]:
    path = tmp / "providers.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    return caught.value.problems


def test_a_bad_api_version_is_reported_even_when_the_base_url_is_broken(
    isolated_env: Path,
) -> None:
    found = problems_of(isolated_env, AZURE.format(base_url="azure.test", api_version="latest"))

    assert found == [
        f"{isolated_env / 'providers.yaml'}:5:15: providers[0].base_url: `azure.test` is not "
        "an http(s) URL, e.g. https://api.openai.com/v1",
        f"{isolated_env / 'providers.yaml'}:6:18: providers[0].api_version: api_version "
        "`latest` is not YYYY-MM-DD[-preview], e.g. 2024-10-21",
    ]


def test_a_rule_that_needs_a_broken_field_is_not_guessed(isolated_env: Path) -> None:
    # Without a readable base_url, whether the v1 API (which takes no api_version) is meant
    # is unknown: only the base_url itself is reported.
    text = AZURE.format(base_url="azure.test", api_version="null")

    found = problems_of(isolated_env, text)

    assert [line.split(": ")[1] for line in found] == ["providers[0].base_url"]


def test_a_provider_built_in_code_hears_of_every_conflict() -> None:
    with pytest.raises(ValidationError) as caught:
        ProviderSpec.model_validate(
            {
                "name": "p",
                "api": "openai",
                "base_url": "https://llm.test/v1/chat/completions",
                "api_version": "2024-10-21",
                "server": "vllm",
                "hosting": "vendor",
                "models": [{"id": "m", "weights": "open"}],
            }
        )

    message = str(caught.value)
    for field in ("jurisdiction:", "server:", "base_url:", "api_version:"):
        assert field in message
