"""Pins come from `pinned: true`, carry their own line of providers.yaml, and a hash of
their entry that changes when (and only when) what is pinned changes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from modelaudit.gate.pins import pins_of
from modelaudit.registry import load
from tests.gate.registries import ACME_LARGE_LINE, COMMENTED, OTHER_BIG_LINE, write


def test_only_pinned_models_in_registry_order_with_their_own_lines(isolated_env: Path) -> None:
    pins = pins_of(load(write(isolated_env)))

    assert [(p.ref, p.line, p.retires, p.fallbacks) for p in pins] == [
        ("acme/acme-large", ACME_LARGE_LINE, None, ("other/big",)),
        ("other/big", OTHER_BIG_LINE, date(2027, 1, 31), ()),
    ]
    lines = COMMENTED.splitlines()
    assert lines[ACME_LARGE_LINE - 1].strip() == "- id: acme-large"
    assert lines[OTHER_BIG_LINE - 1].strip() == "- id: big"


def test_the_entry_hash_follows_what_is_pinned_not_where_the_key_is(isolated_env: Path) -> None:
    def hashes(text: str) -> list[str]:
        return [p.entry_sha256 for p in pins_of(load(write(isolated_env, text)))]

    base = hashes(COMMENTED)
    moved_key = hashes(COMMENTED.replace("env:ACME_API_KEY", "env:ACME_KEY_2"))
    new_comment = hashes(COMMENTED.replace("# The vendor we depend on.", "# Changed."))
    new_date = hashes(COMMENTED.replace("2027-01-31", "2027-02-28"))
    new_host = hashes(COMMENTED.replace("api.acme.invalid", "eu.acme.invalid"))

    assert moved_key == base
    assert new_comment == base
    assert new_date[0] == base[0]
    assert new_date[1] != base[1]
    assert new_host[0] != base[0]
    assert new_host[1] == base[1]
