"""The corpus of real response bodies (tests/corpus), replayed on loopback through the real
probe path: each body gets the class and verdict its meaning calls for, and a reason that
names the fix. See tests/corpus_replay.py for the format and the held-out part."""

from __future__ import annotations

import pytest

from tests.corpus_replay import Case, Outcome, load_cases, replay

CASES = load_cases()


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    return replay(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_real_body_gets_the_class_and_verdict_its_meaning_calls_for(
    case: Case, outcomes: dict[str, Outcome]
) -> None:
    got = outcomes[case.id]
    assert (got.error_class, got.verdict) == (case.expected_class, case.expected_verdict), (
        f"{case.source}\n{got.reason}"
    )
    for word in case.reason_words:
        assert word.lower() in got.reason.lower(), got.reason


def test_the_corpus_is_wide() -> None:
    real = [c for c in CASES if not c.synthetic]
    assert len(real) >= 180
    assert len({c.vendor for c in real}) >= 45
    assert all(c.source.startswith("https://") for c in CASES)
    held_out = [c for c in real if c.holdout]
    assert 0.1 <= len(held_out) / len(real) <= 0.3
    assert len([c for c in real if c.batch == "heldout-2"]) >= 30
    assert len([c for c in real if c.batch == "heldout-3"]) >= 29
