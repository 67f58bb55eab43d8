"""The known-vendor table: valid entries, each one a provider `config check` accepts, and
the README's vendor list equal to it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modelaudit.registry.schema import ProviderSpec
from modelaudit.registry.vendors import readme_table, table

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"<!-- vendors:begin -->\n(.*?)<!-- vendors:end -->", re.S)


def test_the_readme_lists_the_vendor_table_as_it_is() -> None:
    found = _BLOCK.search(README.read_text(encoding="utf-8"))
    assert found is not None, "README.md lacks the <!-- vendors:begin/end --> block"
    assert found.group(1) == readme_table(), (
        "README.md's vendor list differs from src/modelaudit/registry/vendors.yaml: paste "
        "the output of `python -m modelaudit.registry.vendors` between the markers"
    )


@pytest.mark.parametrize("vendor", table().vendors, ids=lambda v: v.name)
def test_every_vendor_makes_a_valid_provider(vendor: object) -> None:
    from modelaudit.registry.vendors import Vendor

    assert isinstance(vendor, Vendor)
    ProviderSpec.model_validate(
        {
            "name": vendor.name,
            "api": vendor.api,
            "base_url": vendor.base_url or "https://example-resource.openai.azure.com",
            "api_version": "2024-10-21" if vendor.api == "azure-openai" else None,
            "api_key": f"env:{vendor.keys[0]}",
            "hosting": vendor.hosting.value,
            "jurisdiction": vendor.jurisdiction,
            "models": [{"id": "m", "weights": "closed"}],
        }
    )


def test_the_base_url_variable_overrides_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    openai = table().vendor("openai")
    assert openai is not None
    assert openai.resolved_base_url() == "https://api.openai.com/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")
    assert openai.resolved_base_url() == "http://127.0.0.1:9/v1"


def test_the_first_key_variable_set_is_the_one_named(monkeypatch: pytest.MonkeyPatch) -> None:
    gemini = table().vendor("gemini")
    assert gemini is not None
    assert gemini.key_set() is None
    monkeypatch.setenv("GOOGLE_API_KEY", "g-key-value")
    assert gemini.key_set() == "GOOGLE_API_KEY"
    monkeypatch.setenv("GEMINI_API_KEY", "  ")  # set but empty does not count
    assert gemini.key_set() == "GOOGLE_API_KEY"
    monkeypatch.setenv("GEMINI_API_KEY", "g-key-value")
    assert gemini.key_set() == "GEMINI_API_KEY"


def test_default_ports_cover_every_engine_once() -> None:
    ports = table().default_ports()
    assert len(ports) == len(set(ports))
    assert {8000, 8080, 11434, 1234, 30000, 3000} <= set(ports)


def test_the_test_environment_scrubs_every_variable_the_table_names() -> None:
    """A developer's exported key or proxy must never steer a test's `init`/`discover`."""
    from tests.conftest import _SCRUBBED_SUFFIXES

    for vendor in table().vendors:
        for name in (*vendor.keys, vendor.base_url_env):
            assert name.endswith(_SCRUBBED_SUFFIXES), f"{vendor.name}: {name}"
