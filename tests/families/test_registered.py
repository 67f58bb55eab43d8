"""The families' registry: every `api` name resolves to its family, and a command imports
only the families its providers use."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from modelaudit.families import FAMILIES


def test_each_registered_name_is_its_familys_name() -> None:
    assert sorted(FAMILIES) == sorted(
        ["openai", "azure-openai", "anthropic", "gemini", "ollama", "bedrock", "vertex"]
    )
    for name in FAMILIES:
        assert name in FAMILIES
        assert FAMILIES[name].name == name
        assert FAMILIES[name] is FAMILIES[name]  # one instance per family
    assert "nonesuch" not in FAMILIES
    assert FAMILIES.get("nonesuch") is None


def test_loading_a_registry_imports_only_the_families_it_uses(tmp_path: Path) -> None:
    registry = tmp_path / "providers.yaml"
    registry.write_text(
        textwrap.dedent(
            """\
            version: 1
            providers:
              - name: local
                api: openai
                base_url: http://127.0.0.1:9/v1
                hosting: self-hosted
                models:
                  - id: m
                    weights: open
            """
        )
    )
    code = (
        "import sys, pathlib\n"
        "from modelaudit.registry.loader import load\n"
        f"load(pathlib.Path({str(registry)!r}))\n"
        "print(sorted(m for m in sys.modules if m.startswith('modelaudit.families.')))\n"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "modelaudit.families.openai" in found.stdout
    for unused in ("bedrock", "vertex", "anthropic", "gemini", "ollama", "azure"):
        assert f"modelaudit.families.{unused}'" not in found.stdout
