"""Dated snapshot, floating alias or undated: read from the id's shape and the catalog
around it, for every date style vendors use, never from a list of known ids."""

from __future__ import annotations

from datetime import date

import pytest

from modelaudit.discovery.ids import Conventions, IdKind, read_listing, shape
from modelaudit.families.base import CatalogEntry


@pytest.mark.parametrize(
    ("model_id", "stem", "stamp", "day"),
    [
        ("gpt-4.1-2025-04-14", "gpt-4.1", "2025-04-14", date(2025, 4, 14)),  # OpenAI
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5", "20250929", date(2025, 9, 29)),
        ("claude-3-5-sonnet@20240620", "claude-3-5-sonnet", "20240620", date(2024, 6, 20)),
        ("mistral-large-2411", "mistral-large", "2411", date(2024, 11, 1)),  # year-month
        ("Qwen/Qwen3-235B-A22B-Instruct-2507", "Qwen/Qwen3-235B-A22B-Instruct", "2507", None),
        ("gpt-4-0613", "gpt-4", "0613", None),  # month-day
        ("gpt-4-1106-preview", "gpt-4-preview", "1106", None),
        ("deepseek-ai/DeepSeek-V3-0324", "deepseek-ai/DeepSeek-V3", "0324", None),
        ("gemini-2.5-flash-preview-05-20", "gemini-2.5-flash-preview", "05-20", None),
        ("gemini-2.0-flash-001", "gemini-2.0-flash", "001", None),  # a version stamp
        ("amazon.titan-text-express-v1:0", "amazon.titan-text-express", "v1:0", None),
        ("qwen-plus_2025_01_25", "qwen-plus", "2025-01-25", date(2025, 1, 25)),
    ],
)
def test_dated_and_versioned_ids_are_snapshots(
    model_id: str, stem: str, stamp: str, day: date | None
) -> None:
    found = shape(model_id)
    assert found.kind is IdKind.SNAPSHOT, found.why
    assert (found.stem, found.stamp) == (stem, stamp)
    if day is not None:
        assert found.day == day


@pytest.mark.parametrize(
    ("model_id", "stem"),
    [
        ("mistral-large-latest", "mistral-large"),
        ("chatgpt-4o-latest", "chatgpt-4o"),
        ("llama3:latest", "llama3"),
        ("claude-3-5-sonnet-latest", "claude-3-5-sonnet"),
    ],
)
def test_an_alias_word_makes_an_alias(model_id: str, stem: str) -> None:
    found = shape(model_id)
    assert (found.kind, found.stem) == (IdKind.ALIAS, stem)


@pytest.mark.parametrize(
    "model_id",
    [
        "gpt-4o",
        "qwen3.6:27b",  # an Ollama size tag is not a date
        "llama3-8b-8192",  # a context length is not a date
        "mixtral-8x7b-32768",
        "gpt-oss-120b",
        "claude-3-5-sonnet",  # single-digit version parts are not a month and day
        "smollm2-135m",
        "model-02-30",  # no such day
        "2025-04-14",  # a name that is only a date has no stem to be a snapshot of
    ],
)
def test_ids_without_a_date_are_undated(model_id: str) -> None:
    assert shape(model_id).kind is IdKind.UNDATED


def test_an_id_beside_its_own_dated_snapshots_is_an_alias_over_them_newest_first() -> None:
    found = read_listing(
        [
            CatalogEntry("gpt-4o"),
            CatalogEntry("gpt-4o-2024-05-13"),
            CatalogEntry("gpt-4o-2024-11-20"),
            CatalogEntry("gpt-4o-2024-08-06"),
            CatalogEntry("gpt-4o-mini"),
        ]
    )
    alias = found["gpt-4o"]
    assert alias.kind is IdKind.ALIAS
    assert alias.snapshots == ("gpt-4o-2024-11-20", "gpt-4o-2024-08-06", "gpt-4o-2024-05-13")
    assert alias.pin == "gpt-4o-2024-11-20"
    assert alias.resolves_to is None  # the list does not say which one it points at
    assert found["gpt-4o-mini"].kind is IdKind.UNDATED  # another stem
    assert found["gpt-4o-2024-08-06"].pin == "gpt-4o-2024-08-06"


def test_month_day_snapshots_are_ordered_by_the_catalogs_creation_time() -> None:
    found = read_listing(
        [
            CatalogEntry("gpt-3.5-turbo"),
            CatalogEntry("gpt-3.5-turbo-1106", created=1_698_959_748),
            CatalogEntry("gpt-3.5-turbo-0125", created=1_706_048_358),  # January, a year later
        ]
    )
    assert found["gpt-3.5-turbo"].snapshots == ("gpt-3.5-turbo-0125", "gpt-3.5-turbo-1106")


def test_the_catalog_resolves_aliases_it_names() -> None:
    found = read_listing(
        [
            # Mistral and llama.cpp list an entry's aliases.
            CatalogEntry("mistral-large-2411", aliases=("mistral-large-latest",)),
            CatalogEntry("mistral-large-latest"),
            # OpenRouter names the canonical (dated) id behind a floating one.
            CatalogEntry("vendor/model-x", canonical_id="vendor/model-x-20250522"),
            # Ollama: two tags with one digest are the same weights.
            CatalogEntry("llama3:latest", digest="sha256:aa"),
            CatalogEntry("llama3:8b", digest="sha256:aa"),
        ]
    )
    latest = found["mistral-large-latest"]
    assert (latest.kind, latest.resolves_to, latest.resolved_by) == (
        IdKind.ALIAS,
        "mistral-large-2411",
        "catalog",
    )
    assert found["mistral-large-2411"].aliases == ("mistral-large-latest",)
    routed = found["vendor/model-x"]
    assert (routed.kind, routed.resolves_to) == (IdKind.ALIAS, "vendor/model-x-20250522")
    assert routed.pin == "vendor/model-x"  # the canonical id is not listed: not pinnable
    assert found["llama3:latest"].resolves_to == "llama3:8b"
    assert found["llama3:latest"].pin == "llama3:8b"


def test_a_look_up_that_answers_with_another_id_resolves_an_alias_the_list_leaves_out() -> None:
    found = read_listing(
        [CatalogEntry("claude-sonnet-4-5-20250929")],
        Conventions(lookup_resolves=True),
        {"claude-sonnet-4-5": "claude-sonnet-4-5-20250929", "claude-opus-5": "claude-opus-5"},
    )
    alias = found["claude-sonnet-4-5"]
    assert (alias.kind, alias.resolves_to, alias.resolved_by, alias.pin) == (
        IdKind.ALIAS,
        "claude-sonnet-4-5-20250929",
        "look-up",
        "claude-sonnet-4-5-20250929",
    )
    # Where the look-up resolves aliases, an id it answers with itself is fixed.
    assert found["claude-opus-5"].kind is IdKind.SNAPSHOT


@pytest.mark.parametrize(
    ("undated", "kind"),
    [("snapshot", IdKind.SNAPSHOT), ("alias", IdKind.ALIAS), ("unknown", IdKind.UNDATED)],
)
def test_the_vendors_convention_decides_an_undated_id_nothing_else_explains(
    undated: str, kind: IdKind
) -> None:
    conventions = Conventions(undated=undated)  # type: ignore[arg-type]
    assert (
        read_listing([CatalogEntry("meta-llama/Llama-3.3-70B")], conventions)[
            "meta-llama/Llama-3.3-70B"
        ].kind
        is kind
    )
