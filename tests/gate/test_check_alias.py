"""`modelaudit check` (catalog only, the CI default) with a pinned Anthropic alias: the list
leaves aliases out, `GET /v1/models/{alias}` resolves them. The build passes while the alias
resolves, and fails once the model behind it is removed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import FakeAnthropic, Model
from tests.helpers import run_cli

KEY = "sk-ant-api03-GATEaliasKEY0123456789abcdef"
ALIAS, DATED = "claude-sonnet-4-5", "claude-sonnet-4-5-20250929"
REGISTRY = """\
version: 1
defaults:
  retry: {{attempts: 2, backoff_s: 0, max_backoff_s: 0, max_retry_after_s: 1}}
  control: {{urls: ["{base_url}/"], timeout_s: 1}}
providers:
  - name: anthropic
    api: anthropic
    base_url: {base_url}
    api_key: env:ANTHROPIC_API_KEY
    hosting: vendor
    jurisdiction: US
    models:
      - id: {alias}
        weights: closed
        pinned: true
"""


@pytest.fixture
def anthropic(monkeypatch: pytest.MonkeyPatch, isolated_env: Path) -> Iterator[FakeAnthropic]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    models = [Model(DATED), Model(ALIAS, served_as=DATED, listed=False)]
    with FakeAnthropic(key=KEY, models=models) as fake:
        text = REGISTRY.format(base_url=fake.base_url, alias=ALIAS)
        (isolated_env / "providers.yaml").write_text(text, encoding="utf-8")
        yield fake


def test_a_pinned_alias_the_list_leaves_out_passes(
    anthropic: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(["check", "--today", "2026-11-29"], capsys)

    assert result.code == 0, result.out
    assert f"ok       anthropic/{ALIAS}" in result.out
    assert "gone" not in result.out
    assert [r.path for r in anthropic.requests] == ["/v1/models", f"/v1/models/{ALIAS}"]
    assert not anthropic.generation_requests(), "catalog only: no tokens"


def test_the_alias_fails_the_build_once_its_model_is_removed(
    anthropic: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    anthropic.remove_model(DATED)

    result = run_cli(["check", "--today", "2026-11-29"], capsys)

    assert result.code == 1
    assert f"anthropic/{ALIAS}" in result.out
    assert "gone: catalog: not in the catalog (0 models listed); retrieved by id: 404" in (
        result.out
    )
