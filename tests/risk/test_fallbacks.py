"""The one rule for recommending a fallback (and for counting one in a drill): it answered
in its latest run and ranks lower in risk than the model it replaces. Properties over any
portfolio: advice never points at a riskier model, and never goes in a circle."""

from __future__ import annotations

import dataclasses
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from modelaudit.registry.schema import Risk
from modelaudit.risk.fallbacks import FallbackOption, choose, qualifies
from modelaudit.risk.score import Custody, RiskInputs, RiskScore, score
from modelaudit.risk.stats import proportion
from tests.risk.test_score import DEFAULTS, configs, evidence

BASE = RiskInputs(
    ok=100,
    failed=0,
    availability_slo=0.99,
    latency_p95_ms=None,
    latency_n=0,
    latency_slo_ms=10_000.0,
    custody=Custody.LOSABLE,
    custody_note="",
    today=date(2026, 12, 1),
)


def risk(**changes: object) -> RiskScore:
    return score(dataclasses.replace(BASE, **changes), DEFAULTS)  # type: ignore[arg-type]


def option(ref: str, *, answered: bool, note: str = "seen") -> FallbackOption:
    provider, _, model = ref.partition("/")
    return FallbackOption(
        provider=provider,
        model=model,
        source="declared",
        verified_live=answered,
        healthy=answered,
        availability=proportion(10, 10),
        latency_p95_ms=None,
        jurisdiction=None,
        answered_latest=answered,
        note=note,
    )


def test_a_fallback_that_did_not_answer_its_latest_run_says_what_was_measured() -> None:
    down = option("b/y", answered=False, note="not answering: down since 09:10")
    mine = risk()

    assert qualifies(down, mine, mine) == "not answering: down since 09:10"


def test_a_riskier_fallback_is_never_recommended() -> None:
    safer = risk()
    riskier = risk(ok=10, failed=90)

    assert qualifies(option("b/y", answered=True), riskier, safer) == (
        f"its own risk {riskier.score} elevated is not lower than {safer.score}"
    )
    assert qualifies(option("a/x", answered=True), safer, riskier) is None


@settings(max_examples=150, deadline=None)
@given(
    models=st.lists(evidence(), min_size=2, max_size=6),
    answered=st.lists(st.booleans(), min_size=6, max_size=6),
    edges=st.sets(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=20),
    config=configs,
)
def test_advice_never_points_at_a_riskier_model_nor_goes_in_a_circle(
    models: list[RiskInputs],
    answered: list[bool],
    edges: set[tuple[int, int]],
    config: Risk,
) -> None:
    refs = [f"p{i}/m{i}" for i in range(len(models))]
    risks = {ref: score(m, config) for ref, m in zip(refs, models, strict=True)}
    options = {ref: option(ref, answered=answered[i]) for i, ref in enumerate(refs)}

    def risk_of(o: FallbackOption) -> RiskScore:
        return risks[o.ref]

    advice: dict[str, str] = {}
    for i, ref in enumerate(refs):
        declared = [
            options[refs[b]] for a, b in sorted(edges) if a == i and b < len(refs) and b != i
        ]
        picked = choose(declared, risks[ref], risk_of).fallback
        if picked is not None:
            assert picked.answered_latest
            assert risks[picked.ref].rank < risks[ref].rank
            advice[ref] = picked.ref

    for start in advice:  # following the advice from anywhere always ends
        seen, at = {start}, start
        while at in advice:
            at = advice[at]
            assert at not in seen, f"advice goes in a circle through {at}"
            seen.add(at)


def test_the_healthy_fallback_with_the_lowest_risk_is_chosen() -> None:
    replacing = risk(down="since 09:00", pinned=True)
    calm = risk()
    busy = risk(ok=150, failed=50)
    scores = {"a/calm": calm, "a/busy": busy}
    first, second = option("a/busy", answered=True), option("a/calm", answered=True)

    chosen = choose([first, second], replacing, lambda o: scores[o.ref])

    assert chosen.fallback == second
    (passed,) = chosen.rejected
    assert passed.option == first
    assert passed.why.startswith("qualifies too, after a/calm")
