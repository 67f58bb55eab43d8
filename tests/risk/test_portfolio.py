"""Drills and fallbacks over the fixed week: which pinned models keep a fallback when a
vendor or a jurisdiction disappears, and which fallback is best."""

from __future__ import annotations

import pytest

from modelaudit.history import ModelKey
from modelaudit.report.source import read_evidence
from modelaudit.report.window import window_ending
from modelaudit.risk.assess import Assessment, assess
from modelaudit.risk.evidence import Evidence
from modelaudit.risk.fallbacks import choose
from modelaudit.risk.portfolio import Removal, drill
from tests.week_history import NOW, SPAN, registry, week_history


@pytest.fixture(scope="module")
def evidence() -> Evidence:
    return read_evidence(week_history(), window_ending(NOW, SPAN), NOW)


@pytest.fixture(scope="module")
def assessments(evidence: Evidence) -> dict[ModelKey, Assessment]:
    return assess(registry(), evidence)


def test_removing_a_vendor_leaves_only_fallbacks_elsewhere(
    assessments: dict[ModelKey, Assessment],
) -> None:
    result = drill(assessments, Removal(providers=frozenset({"bravo"})))

    (outcome,) = result.affected
    assert outcome.ref == "bravo/bravo-pro"
    assert outcome.fallback is not None
    assert outcome.fallback.ref == "acme/acme-large-2026-01-15"
    assert (result.pinned_total, result.covered, result.coverage) == (6, 1, 1.0)


def test_a_fallback_in_the_removed_jurisdiction_does_not_count(
    assessments: dict[ModelKey, Assessment],
) -> None:
    # dragon-v4 (CN) falls back to its twin at `host` (US): removing both leaves nothing.
    result = drill(assessments, Removal(jurisdictions=frozenset({"CN", "US"})))

    by_ref = {o.ref: o for o in result.affected}
    assert by_ref["dragon/dragon-v4"].fallback is None
    # acme-large and acme-legacy keep bravo-pro (FR); acme-mini's only fallback is at acme.
    assert sorted(o.ref for o in result.affected if o.covered) == [
        "acme/acme-large-2026-01-15",
        "acme/acme-legacy",
    ]
    assert result.coverage == 0.5
    assert result.removal.label == "jurisdiction CN + jurisdiction US"


def test_a_fallback_below_its_slo_that_answered_last_still_covers_and_says_so(
    assessments: dict[ModelKey, Assessment],
) -> None:
    # acme-large's only fallback, bravo-pro, answered 94.6% against a 99% SLO, and answered
    # in its latest run: somewhere to go, with what was measured of it.
    result = drill(assessments, Removal(providers=frozenset({"acme"})))

    large = next(o for o in result.affected if o.model == "acme-large-2026-01-15")
    assert large.fallback is not None
    assert large.fallback.ref == "bravo/bravo-pro"
    assert large.fallback.note == (
        "below its 99% SLO: 94.6% [90.1-97.2%] n=168; last answered 05:00"
    )
    # acme-mini's only fallback is at acme too: nothing survives, and the drill says what
    # would fix it.
    mini = next(o for o in result.affected if o.model == "acme-mini-2025-04-14")
    assert mini.fallback is None
    assert mini.remedy.startswith("declare a fallback under `fallbacks:`")


def test_removing_a_provider_that_serves_no_pinned_model_affects_nothing(
    assessments: dict[ModelKey, Assessment],
) -> None:
    result = drill(assessments, Removal(providers=frozenset({"host"})))

    assert result.affected == ()
    assert result.coverage is None


def test_fallbacks_rank_healthy_before_merely_live_and_declared_before_family(
    assessments: dict[ModelKey, Assessment],
) -> None:
    legacy = assessments[("acme", "acme-legacy")]

    assert [o.ref for o in legacy.fallbacks] == [
        "acme/acme-large-2026-01-15",  # healthy
        "bravo/bravo-pro",  # live, but misses its SLO
    ]
    assert [o.healthy for o in legacy.fallbacks] == [True, False]


def test_open_weights_of_the_same_family_elsewhere_are_fallbacks(
    assessments: dict[ModelKey, Assessment],
) -> None:
    local = assessments[("local", "qwen-27b")]

    (twin,) = local.fallbacks
    assert (twin.ref, twin.source, twin.healthy) == ("host/qwen-27b", "family", True)


def test_a_down_fallback_does_not_qualify_and_the_reason_says_since_when(
    assessments: dict[ModelKey, Assessment],
) -> None:
    host_qwen = assessments[("host", "qwen-27b")]

    (twin,) = host_qwen.fallbacks
    assert twin.ref == "local/qwen-27b"
    assert not twin.answered_latest
    choice = choose(
        host_qwen.fallbacks, host_qwen.risk, lambda o: assessments[(o.provider, o.model)].risk
    )
    assert choice.fallback is None
    (rejection,) = choice.rejected
    assert rejection.why == (
        "not answering: down since 2026-11-29 06:00; last answered 2026-11-29 05:00"
    )
