"""The risk scorer: hand-checked cases, and properties that hold for any evidence, any
weights and any levels: worse evidence never lowers the risk; a pinned model down for the
whole window with no fallback outranks every model that answered in its latest run; a
self-hosted open-weight model with a healthy fallback never scores above a closed, gated,
single-vendor model with none."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelaudit.registry.schema import Risk, RiskLevels, RiskWeights
from modelaudit.risk.score import Custody, Factor, Level, RiskInputs, Stage, bands, score

TODAY = date(2026, 12, 1)
DEFAULTS = Risk()


def inputs(**changes: object) -> RiskInputs:
    base = RiskInputs(
        ok=168,
        failed=0,
        availability_slo=0.99,
        latency_p95_ms=800.0,
        latency_n=168,
        latency_slo_ms=10000.0,
        custody=Custody.HELD,
        custody_note="open weights you host",
        today=TODAY,
        healthy_elsewhere=("a/x", "b/y"),
        vendor="local",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def factor(result_inputs: RiskInputs, which: Factor, config: Risk = DEFAULTS) -> float:
    found = next(f for f in score(result_inputs, config).factors if f.factor is which)
    return found.badness


def test_a_healthy_self_hosted_model_with_two_fallbacks_scores_zero() -> None:
    result = score(inputs(), DEFAULTS)

    assert (result.score, result.level) == (0, Level.LOW)
    assert [f.points for f in result.factors] == [0.0] * 7


def test_a_gone_closed_gated_model_without_fallback_is_critical_with_every_reason_shown() -> None:
    result = score(
        inputs(
            ok=98,
            failed=70,
            pinned=True,
            gone="last verdict `gone`: 404 model_not_found",
            custody=Custody.LOSABLE,
            custody_note="closed weights at acme (vendor): you can lose it",
            healthy_elsewhere=(),
            gated=True,
            jurisdiction="US",
        ),
        DEFAULTS,
    )

    assert (result.score, result.level) == (100, Level.CRITICAL)
    evidence = {f.factor: f.evidence for f in result.factors}
    assert "98/168 = 58.3% (95% CI" in evidence[Factor.AVAILABILITY]
    assert evidence[Factor.LIFECYCLE].startswith("gone: last verdict `gone`")
    assert evidence[Factor.SUBSTITUTABILITY].startswith("no fallback declared")
    assert "government-gated" in evidence[Factor.REGULATORY]


def test_the_score_is_the_sum_of_weight_times_badness() -> None:
    # Closed weights (1.0 x 15) and one healthy fallback elsewhere (0.2 x 25).
    result = score(
        inputs(custody=Custody.LOSABLE, healthy_elsewhere=("a/x",)),
        DEFAULTS,
    )

    assert {f.factor: f.points for f in result.factors if f.points} == {
        Factor.CONTROL: 15.0,
        Factor.SUBSTITUTABILITY: 5.0,
    }
    assert result.score == 20


def test_availability_judges_the_top_of_the_interval_not_the_point_estimate() -> None:
    # 197/200 = 98.5% is under a 99% SLO, but the interval reaches 99.5%: not shown to miss.
    assert factor(inputs(ok=197, failed=3), Factor.AVAILABILITY) == 0.0
    # 190/200 = 95%: centre 0.95960/1.01921 = 0.94152, half-width 0.03110, top 0.97262;
    # 1 - 0.97262 = 2.738x the 1% budget; (2.738 - 1) / (5 - 1) = 0.4345.
    badness = factor(inputs(ok=190, failed=10), Factor.AVAILABILITY)
    assert badness == pytest.approx(0.4345, abs=1e-3)


def test_three_failures_out_of_three_are_not_judged_like_three_hundred() -> None:
    few = factor(inputs(ok=0, failed=3), Factor.AVAILABILITY)
    many = factor(inputs(ok=0, failed=300), Factor.AVAILABILITY)

    assert 0 < few <= many == 1.0


def test_a_model_down_now_is_scored_down_even_after_a_good_week() -> None:
    result = score(inputs(ok=160, failed=8, down="since 2026-11-30 22:00 UTC"), DEFAULTS)

    availability = result.factors[0]
    assert availability.badness == 0.75
    assert availability.evidence.startswith("down now, since 2026-11-30 22:00 UTC")


def test_latency_needs_enough_samples_and_scales_to_twice_the_budget() -> None:
    assert factor(inputs(latency_p95_ms=50000.0, latency_n=4), Factor.LATENCY) == 0.0
    assert factor(inputs(latency_p95_ms=15000.0), Factor.LATENCY) == pytest.approx(0.5)
    assert factor(inputs(latency_p95_ms=30000.0), Factor.LATENCY) == 1.0


@pytest.mark.parametrize(
    ("retires", "badness"),
    [
        (TODAY - timedelta(days=1), 1.0),
        (TODAY, 1.0),
        (TODAY + timedelta(days=90), 0.7),
        (TODAY + timedelta(days=180), 0.4),
        (TODAY + timedelta(days=400), 0.2),
    ],
)
def test_a_retirement_counts_more_as_it_nears(retires: date, badness: float) -> None:
    assert factor(inputs(retires=retires), Factor.LIFECYCLE) == pytest.approx(badness)


def test_a_falling_rate_limit_ceiling_is_a_lifecycle_signal() -> None:
    got = score(inputs(ratelimit_drop=0.8, ratelimit_note="fell from 10000 to 2000"), DEFAULTS)

    lifecycle = got.factors[2]
    assert lifecycle.badness == pytest.approx(0.4)
    assert lifecycle.evidence == "fell from 10000 to 2000"


def test_custody_orders_held_movable_losable() -> None:
    held, movable, losable = (
        factor(inputs(custody=c), Factor.CONTROL)
        for c in (Custody.HELD, Custody.MOVABLE, Custody.LOSABLE)
    )
    assert held < movable < losable


def test_weights_of_zero_switch_factors_off() -> None:
    silent = Risk(weights=RiskWeights(control=0, substitutability=0))

    result = score(inputs(custody=Custody.LOSABLE, healthy_elsewhere=()), silent)

    assert result.score == 0


def test_the_stage_bands_share_each_level_out_most_urgent_on_top() -> None:
    assert bands(RiskLevels()) == {
        Stage.BROKEN_NO_FALLBACK: (80, 100),
        Stage.BROKEN: (67, 79),
        Stage.RETIRING_NO_FALLBACK: (55, 66),
        Stage.RETIRING: (46, 54),
        Stage.MISSING_SLO: (38, 45),
        "exposed_elevated": (30, 37),
        Stage.EXPOSED: (0, 29),
    }


DOWN_ALL_WINDOW = {"ok": 0, "failed": 62, "down": "since 2026-12-01 00:00 UTC (connect_failed)"}


def test_a_pinned_model_down_all_window_without_fallback_is_critical_even_if_you_host_it() -> None:
    # The case from the field: a self-hosted open-weight model (held, not gated, alone)
    # scored 38 "elevated" while it had been down all day.
    result = score(inputs(pinned=True, healthy_elsewhere=(), **DOWN_ALL_WINDOW), DEFAULTS)

    assert (result.stage, result.level) == (Stage.BROKEN_NO_FALLBACK, Level.CRITICAL)
    assert result.situation == (
        "down since 2026-12-01 00:00 UTC (connect_failed); pinned, no healthy fallback"
    )


def test_with_a_healthy_fallback_a_broken_pinned_model_is_high() -> None:
    result = score(inputs(pinned=True, healthy_elsewhere=("b/y",), **DOWN_ALL_WINDOW), DEFAULTS)

    assert (result.stage, result.level) == (Stage.BROKEN, Level.HIGH)
    assert result.situation.endswith("; healthy fallback b/y")


def test_blocked_now_is_broken_now() -> None:
    result = score(inputs(pinned=True, healthy_elsewhere=(), blocked="at 12:03 (401)"), DEFAULTS)

    assert (result.stage, result.level) == (Stage.BROKEN_NO_FALLBACK, Level.CRITICAL)


def test_a_model_broken_now_outranks_the_most_exposed_model_that_answers() -> None:
    broken = score(inputs(healthy_elsewhere=("b/y",), **DOWN_ALL_WINDOW), DEFAULTS)
    exposed = score(
        inputs(
            custody=Custody.LOSABLE,
            healthy_elsewhere=(),
            gated=True,
            jurisdiction="CN",
            home_jurisdiction="FR",
            vendor_share=1.0,
            ok=100,
            failed=100,
            latency_p95_ms=90_000.0,
            retires=TODAY + timedelta(days=1),
            pinned=True,
        ),
        DEFAULTS,
    )

    assert exposed.stage is Stage.RETIRING_NO_FALLBACK
    assert broken.rank > exposed.rank
    assert broken.score > exposed.score


def test_retirements_rank_by_nearness_before_anything_else_about_them() -> None:
    soon = score(inputs(pinned=True, healthy_elsewhere=(), retires=TODAY + timedelta(9)), DEFAULTS)
    later = score(
        inputs(
            pinned=True,
            healthy_elsewhere=(),
            retires=TODAY + timedelta(90),
            custody=Custody.LOSABLE,
            gated=True,
            vendor_share=1.0,
        ),
        DEFAULTS,
    )

    assert soon.stage is later.stage is Stage.RETIRING_NO_FALLBACK
    assert soon.level is Level.HIGH
    assert soon.score > later.score


def test_a_retirement_beyond_the_horizon_is_only_exposure() -> None:
    result = score(inputs(retires=TODAY + timedelta(days=400)), DEFAULTS)

    assert result.stage is Stage.EXPOSED


def test_missing_the_slo_outranks_any_exposure_and_stays_below_retirements() -> None:
    missing = score(inputs(ok=150, failed=50), DEFAULTS)
    exposed = score(
        inputs(custody=Custody.LOSABLE, healthy_elsewhere=(), gated=True, vendor_share=1.0),
        DEFAULTS,
    )
    retiring = score(inputs(retires=TODAY + timedelta(days=170)), DEFAULTS)

    assert (missing.stage, exposed.stage, retiring.stage) == (
        Stage.MISSING_SLO,
        Stage.EXPOSED,
        Stage.RETIRING,
    )
    assert retiring.score > missing.score > exposed.score
    assert exposed.level is Level.ELEVATED  # no fallback for a closed, gated model: plan one


def test_an_exposed_model_keeps_its_points_as_its_score_below_elevated() -> None:
    result = score(inputs(custody=Custody.LOSABLE, healthy_elsewhere=("a/x",)), DEFAULTS)

    assert (result.stage, result.score, result.points) == (Stage.EXPOSED, 20, 20.0)


# --- properties ------------------------------------------------------------------------

weights = st.builds(
    RiskWeights,
    **{f.value: st.floats(0, 100, allow_nan=False) for f in Factor},
)


@st.composite
def levels(draw: st.DrawFn) -> RiskLevels:
    """Any rising thresholds, down to bands one score wide."""
    elevated = draw(st.integers(1, 98))
    high = draw(st.integers(elevated + 1, 99))
    return RiskLevels(elevated=elevated, high=high, critical=draw(st.integers(high + 1, 100)))


configs = st.one_of(
    st.just(DEFAULTS),
    st.builds(Risk, weights=weights, levels=levels(), retirement_horizon_days=st.integers(1, 720)),
)
refs = st.lists(st.sampled_from(["p/a", "q/b", "r/c", "s/d"]), max_size=3, unique=True).map(tuple)
shares = st.floats(0, 1, allow_nan=False)


@st.composite
def evidence(draw: st.DrawFn) -> RiskInputs:
    has_p95 = draw(st.booleans())
    return RiskInputs(
        ok=draw(st.integers(0, 500)),
        failed=draw(st.integers(0, 500)),
        availability_slo=draw(st.sampled_from([0.9, 0.95, 0.99, 0.999, 1.0])),
        latency_p95_ms=draw(st.floats(1, 100_000)) if has_p95 else None,
        latency_n=draw(st.integers(0, 500)),
        latency_slo_ms=draw(st.floats(100, 30_000)),
        custody=draw(st.sampled_from(Custody)),
        custody_note="",
        today=TODAY,
        pinned=draw(st.booleans()),
        down=draw(st.sampled_from([None, "since yesterday"])),
        gone=draw(st.sampled_from([None, "404"])),
        blocked=draw(st.sampled_from([None, "401"])),
        retires=draw(st.none() | st.dates(TODAY - timedelta(days=30), TODAY + timedelta(days=900))),
        vanished=draw(st.sampled_from([None, "vanished"])),
        floating_alias=draw(st.sampled_from([None, "alias"])),
        ratelimit_drop=draw(st.sampled_from([0.0, 0.1, 0.5, 0.95])),
        healthy_elsewhere=draw(refs),
        healthy_same_provider=draw(refs),
        unverified=draw(refs),
        gated=draw(st.booleans()),
        jurisdiction=draw(st.sampled_from([None, "US", "FR", "CN"])),
        home_jurisdiction=draw(st.sampled_from([None, "FR"])),
        vendor="v",
        vendor_share=draw(shares),
        jurisdiction_share=draw(shares),
        pinned_total=draw(st.integers(0, 20)),
    )


Worsening = Callable[[RiskInputs, st.DrawFn], RiskInputs]
_CUSTODY_ORDER = [Custody.HELD, Custody.MOVABLE, Custody.LOSABLE]


def _more_failures(i: RiskInputs, draw: st.DrawFn) -> RiskInputs:
    return dataclasses.replace(i, failed=i.failed + draw(st.integers(1, 200)))


def _fewer_successes(i: RiskInputs, draw: st.DrawFn) -> RiskInputs:
    return dataclasses.replace(i, ok=max(0, i.ok - draw(st.integers(1, 200))))


def _slower(i: RiskInputs, draw: st.DrawFn) -> RiskInputs:
    if i.latency_p95_ms is None:
        return i
    return dataclasses.replace(i, latency_p95_ms=i.latency_p95_ms * draw(st.floats(1, 10)))


def _down(i: RiskInputs, _: st.DrawFn) -> RiskInputs:
    return dataclasses.replace(i, down="since now")


def _gone(i: RiskInputs, _: st.DrawFn) -> RiskInputs:
    return dataclasses.replace(i, gone="404")


def _blocked(i: RiskInputs, _: st.DrawFn) -> RiskInputs:
    return dataclasses.replace(i, blocked="401")


def _pinned(i: RiskInputs, _: st.DrawFn) -> RiskInputs:
    """Production now depends on it."""
    return dataclasses.replace(i, pinned=True)


def _retires_sooner(i: RiskInputs, draw: st.DrawFn) -> RiskInputs:
    base = i.retires or TODAY + timedelta(days=5000)
    return dataclasses.replace(i, retires=base - timedelta(days=draw(st.integers(1, 400))))


def _vanished(i: RiskInputs, _: st.DrawFn) -> RiskInputs:
    return dataclasses.replace(i, vanished="vanished")


def _floating(i: RiskInputs, _: st.DrawFn) -> RiskInputs:
    return dataclasses.replace(i, floating_alias="alias")


def _throttled(i: RiskInputs, draw: st.DrawFn) -> RiskInputs:
    return dataclasses.replace(i, ratelimit_drop=draw(st.floats(i.ratelimit_drop, 1)))


def _less_control(i: RiskInputs, draw: st.DrawFn) -> RiskInputs:
    index = _CUSTODY_ORDER.index(i.custody)
    return dataclasses.replace(i, custody=draw(st.sampled_from(_CUSTODY_ORDER[index:])))


def _fallback_fails(i: RiskInputs, draw: st.DrawFn) -> RiskInputs:
    pool = [("elsewhere", r) for r in i.healthy_elsewhere] + [
        ("same", r) for r in i.healthy_same_provider
    ]
    if not pool:
        return dataclasses.replace(i, unverified=i.unverified[1:])  # one fewer candidate
    where, ref = draw(st.sampled_from(pool))
    return dataclasses.replace(
        i,
        healthy_elsewhere=tuple(r for r in i.healthy_elsewhere if (where, r) != ("elsewhere", ref)),
        healthy_same_provider=tuple(
            r for r in i.healthy_same_provider if (where, r) != ("same", ref)
        ),
        unverified=(*i.unverified, ref),
    )


def _gated(i: RiskInputs, _: st.DrawFn) -> RiskInputs:
    return dataclasses.replace(i, gated=True)


def _abroad(i: RiskInputs, _: st.DrawFn) -> RiskInputs:
    return dataclasses.replace(i, jurisdiction="CN", home_jurisdiction="FR")


def _more_concentrated(i: RiskInputs, draw: st.DrawFn) -> RiskInputs:
    return dataclasses.replace(
        i,
        vendor_share=draw(st.floats(i.vendor_share, 1)),
        jurisdiction_share=draw(st.floats(i.jurisdiction_share, 1)),
    )


WORSENINGS: dict[str, Worsening] = {
    f.__name__.lstrip("_"): f
    for f in (
        _more_failures,
        _fewer_successes,
        _slower,
        _down,
        _gone,
        _blocked,
        _pinned,
        _retires_sooner,
        _vanished,
        _floating,
        _throttled,
        _less_control,
        _fallback_fails,
        _gated,
        _abroad,
        _more_concentrated,
    )
}


@pytest.mark.parametrize("worsening", sorted(WORSENINGS))
@settings(max_examples=25, deadline=None)
@given(data=st.data(), base=evidence(), config=configs)
def test_worse_evidence_never_lowers_the_risk(
    worsening: str, data: st.DataObject, base: RiskInputs, config: Risk
) -> None:
    worse = WORSENINGS[worsening](base, data.draw)

    before, after = score(base, config), score(worse, config)

    assert after.score >= before.score
    assert after.rank >= before.rank
    assert after.stage.urgency >= before.stage.urgency
    for old, new in zip(before.factors, after.factors, strict=True):
        assert new.badness >= old.badness, (old, new)


@settings(max_examples=200, deadline=None)
@given(answering=evidence(), down=evidence(), failed=st.integers(1, 500), config=configs)
def test_a_pinned_model_down_all_window_without_fallback_outranks_any_that_answered(
    answering: RiskInputs, down: RiskInputs, failed: int, config: Risk
) -> None:
    answered = dataclasses.replace(answering, down=None, gone=None, blocked=None)
    stranded = dataclasses.replace(
        down,
        ok=0,
        failed=failed,
        down="since the window began",
        pinned=True,
        healthy_elsewhere=(),
        healthy_same_provider=(),
        unverified=(),
    )

    top, other = score(stranded, config), score(answered, config)

    assert top.level is Level.CRITICAL
    assert top.score > other.score
    assert top.rank > other.rank


@settings(max_examples=100, deadline=None)
@given(base=evidence(), config_weights=weights, other_share=shares, fallback=refs.filter(bool))
def test_a_self_hosted_model_with_a_healthy_fallback_never_outscores_a_closed_gated_one(
    base: RiskInputs, config_weights: RiskWeights, other_share: float, fallback: tuple[str, ...]
) -> None:
    config = Risk(weights=config_weights)
    held = dataclasses.replace(
        base,
        custody=Custody.HELD,
        healthy_elsewhere=fallback,
        healthy_same_provider=(),
        unverified=(),
        gated=False,
        jurisdiction=None,
        vendor_share=other_share,
        jurisdiction_share=0.0,
    )
    closed = dataclasses.replace(
        base,
        custody=Custody.LOSABLE,
        healthy_elsewhere=(),
        healthy_same_provider=(),
        unverified=(),
        gated=True,
        jurisdiction="US",
        vendor_share=1.0,  # every pinned model at this one vendor
        jurisdiction_share=1.0,
    )

    assert score(held, config).score <= score(closed, config).score
