"""Several vendors at once on loopback: each fake reached through the base-URL variable
the vendor table names, with its key in the table's key variable."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from modelaudit.registry.vendors import table
from tests.fakes import (
    FakeAnthropic,
    FakeGroq,
    FakeMistral,
    FakeOpenAI,
    FakeOpenRouter,
    Model,
)
from tests.fakes.base import FamilyFake

KEYS = {
    "openai": "sk-proj-DISCOVERopenai0123456789abcd",
    "anthropic": "sk-ant-api03-DISCOVERanthropic0123456789",
    "mistral": "mistral-DISCOVER-0123456789abcdefgh",
    "groq": "gsk_DISCOVERgroq0123456789abcdefghij",
    "openrouter": "sk-or-v1-DISCOVERopenrouter0123456789",
}


@dataclass
class Vendors:
    openai: FakeOpenAI
    anthropic: FakeAnthropic
    mistral: FakeMistral
    groq: FakeGroq
    openrouter: FakeOpenRouter

    def by_name(self) -> dict[str, FamilyFake]:
        return {name: getattr(self, name) for name in KEYS}


def point_at(monkeypatch: pytest.MonkeyPatch, name: str, fake: FamilyFake) -> None:
    """Export the vendor's key and point its base-URL variable at the fake."""
    vendor = table().vendor(name)
    assert vendor is not None
    monkeypatch.setenv(vendor.keys[0], KEYS[name])
    monkeypatch.setenv(vendor.base_url_env, fake.base_url)


@contextlib.contextmanager
def vendor_fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Vendors]:
    with (
        FakeOpenAI(
            key=KEYS["openai"],
            models=[
                "gpt-4o",
                Model("gpt-4o-2024-05-13", created=1_715_367_049),
                Model("gpt-4o-2024-08-06", created=1_722_814_719),
                Model("gpt-4-0613", shutdown_date="2026-06-01"),
                "text-embedding-3-small",
                "gpt-6.2-sol",
            ],
        ) as openai,
        FakeAnthropic(
            key=KEYS["anthropic"],
            models=[
                "claude-sonnet-4-5-20250929",
                Model("claude-sonnet-4-5", served_as="claude-sonnet-4-5-20250929", listed=False),
                "claude-opus-5",  # undated: Anthropic's look-up by id says what it is
            ],
        ) as anthropic,
        FakeMistral(
            key=KEYS["mistral"],
            models=[
                Model("mistral-large-2411", aliases=["mistral-large-latest"]),
                "mistral-large-latest",
                Model("mistral-embed", capabilities={"completion_chat": False}),
            ],
        ) as mistral,
        FakeGroq(
            key=KEYS["groq"],
            models=["qwen/qwen3.6-27b", "openai/gpt-oss-120b", "whisper-large-v3"],
        ) as groq,
        FakeOpenRouter(
            key=KEYS["openrouter"],
            models=[
                Model("qwen/qwen3.6-27b", hugging_face_id="Qwen/Qwen3.6-27B"),
                Model("openai/gpt-4o", canonical_slug="openai/gpt-4o-2024-05-13"),
                Model("anthropic/claude-x", hugging_face_id=""),
            ],
        ) as openrouter,
    ):
        vendors = Vendors(openai, anthropic, mistral, groq, openrouter)
        for name, fake in vendors.by_name().items():
            point_at(monkeypatch, name, fake)
        yield vendors
