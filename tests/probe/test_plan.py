"""Planning: problems it can see before anything is sent are the registry's, with their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelaudit.cli.app import run

REGISTRY = """\
version: 1
providers:
  - name: local
    api: openai
    base_url: https://127.0.0.1:9/v1
    hosting: self-hosted
    ca_bundle: {ca_bundle}
    models:
      - {{id: qwen, weights: open}}
"""


@pytest.mark.parametrize(
    ("content", "why"),
    [(None, "does not exist"), ("not a certificate\n", "not a PEM file")],
)
@pytest.mark.parametrize("args", [["-f", "json"], ["--dry-run"]])
def test_a_ca_bundle_that_cannot_be_loaded_is_a_registry_problem(
    isolated_env: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    why: str,
    args: list[str],
) -> None:
    if content is not None:
        (isolated_env / "corp-ca.pem").write_text(content)
    (isolated_env / "providers.yaml").write_text(REGISTRY.format(ca_bundle="corp-ca.pem"))

    code = run(["probe", *args])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith("providers.yaml:7:16: providers[0].ca_bundle: cannot load corp-ca.pem")
    assert why in err
    assert "internal error" not in err
