"""Whatever a catalog or a config names a model, the written registry reads back as exactly
that id, and nothing a server sends can break out of a comment into the YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelaudit import registry
from modelaudit.scaffold.draft import Draft, DraftModel, DraftProvider, comment_text
from modelaudit.scaffold.render import render, scalar
from modelaudit.vocabulary import Hosting, Weights

AWKWARD_IDS = [
    "yes",
    "null",
    "1:30",
    "2025-04-14",
    "0x10",
    "1e3",
    "a: b",
    "a #b",
    "#x",
    "- x",
    "[x]",
    "{x}",
    "*alias",
    "&anchor",
    "!tag",
    "%directive",
    "'quoted'",
    '"double"',
    "trailing ",
    " leading",
    "tab\there",
    "line\nbreak",
    "sep\u2028arator",
    "ünïcode",
    "qwen3.6:27b",
    "accounts/fireworks/models/kimi-k2p6",
    "anthropic.claude-3-5-sonnet-20241022-v2:0",
]


def one_model_registry(model_id: str, comment: str = "") -> str:
    provider = DraftProvider(
        name="acme",
        api="openai",
        base_url="http://127.0.0.1:9/v1",
        hosting=Hosting.SELF_HOSTED,
        comments=[comment] if comment else [],
        models=[
            DraftModel(id=model_id, weights=Weights.OPEN, comments=[comment] if comment else [])
        ],
    )
    return render(Draft(providers=[provider], header=[comment] if comment else []))


def loads_back(text: str, tmp_path: Path) -> str:
    path = tmp_path / "providers.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = registry.load(path).registry
    assert [p.name for p in loaded.providers] == ["acme"]
    return loaded.providers[0].models[0].id


@pytest.mark.parametrize("model_id", AWKWARD_IDS)
def test_an_awkward_id_reads_back_as_itself(model_id: str, tmp_path: Path) -> None:
    assert loads_back(one_model_registry(model_id), tmp_path) == model_id


@settings(max_examples=60, deadline=None)
@given(
    model_id=st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s),
    said=st.text(max_size=80),
)
def test_any_id_and_any_server_text_in_a_comment_read_back(
    model_id: str, said: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp_path = tmp_path_factory.mktemp("render")
    text = one_model_registry(model_id, f"the model list says: {said}")
    assert loads_back(text, tmp_path) == model_id


def test_a_comment_is_one_printable_line() -> None:
    assert comment_text("a\nversion: 2\u2028b\x1b[2J") == "a?version: 2?b?[2J"
    assert len(comment_text("x" * 5000)) <= 400


def test_plain_scalars_stay_plain_where_yaml_reads_them_back() -> None:
    assert scalar("gpt-4.1-2025-04-14") == "gpt-4.1-2025-04-14"
    assert scalar("qwen3.6:27b") == "qwen3.6:27b"
    assert scalar("2025-04-14") == '"2025-04-14"'
    assert scalar("yes") == '"yes"'
