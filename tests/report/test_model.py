"""The report's view model over the fixed week: what a reader relies on, checked against
numbers worked out by hand from tests/week_history.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from modelaudit.report.model import ModelView, Report, build_report
from modelaudit.risk.score import Factor, Level, Stage
from modelaudit.vocabulary import ErrorClass, Verdict
from tests.memory_history import MemoryHistory
from tests.week_history import NOW, SPAN, registry, week_history


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(registry(), week_history(), now=NOW, span=SPAN)


def model(report: Report, ref: str) -> ModelView:
    return next(m for m in report.models if m.ref == ref)


def test_rate_limited_attempts_count_on_neither_side_of_availability(report: Report) -> None:
    dragon = model(report, "dragon/dragon-v4")

    # 168 hourly runs, every tenth answered 429: 16 excluded, 152 successes, 0 failures.
    assert (dragon.availability.ok, dragon.availability.n, dragon.excluded) == (152, 152, 16)
    assert dragon.availability.value == 1.0
    assert dict(dragon.error_classes)[ErrorClass.RATE_LIMITED] == 16
    assert dragon.risk is not None
    assert dragon.risk.factors[0].points == 0.0


def test_availability_carries_its_sample_and_interval(report: Report) -> None:
    acme = model(report, "acme/acme-large-2026-01-15")

    # 168 runs: 12 rate-limited (excluded), 2 server errors, 154 ok.
    assert (acme.availability.ok, acme.availability.n) == (154, 156)
    assert acme.availability.low == pytest.approx(0.9544, abs=1e-4)
    assert acme.availability.high == pytest.approx(0.9965, abs=1e-4)


def test_three_successes_show_a_wide_interval(report: Report) -> None:
    thin = model(report, "host/qwen-27b")

    assert thin.availability.n == 3
    assert thin.availability.low == pytest.approx(0.4385, abs=1e-4)


def test_p99_is_hidden_below_100_samples_and_shown_above(report: Report) -> None:
    legacy = model(report, "acme/acme-legacy")  # 98 successes
    large = model(report, "acme/acme-large-2026-01-15")  # 154 successes

    assert (legacy.latency.p99, legacy.latency.p99_hidden) == (None, True)
    assert (large.latency.p95, large.latency.p99, large.latency.p99_hidden) == (1900, 4200, False)


def test_models_come_riskiest_first_with_the_unlisted_one_last(report: Report) -> None:
    scores = [m.risk.score for m in report.models if m.risk]

    assert scores == sorted(scores, reverse=True)
    assert report.models[0].ref == "acme/acme-legacy"
    assert report.models[-1].ref == "acme/acme-old"
    assert report.models[-1].in_registry is False
    assert report.models[-1].risk is None


def test_a_gone_pinned_model_with_a_healthy_fallback_is_high_and_says_since_when(
    report: Report,
) -> None:
    legacy = model(report, "acme/acme-legacy")

    assert legacy.risk is not None
    assert (legacy.risk.level, legacy.risk.stage) == (Level.HIGH, Stage.BROKEN)
    assert legacy.risk.situation == (
        "gone since 2026-11-28 08:00 UTC (404 model_not_found: the model does not exist); "
        "healthy fallback acme/acme-large-2026-01-15"
    )
    lifecycle = next(f for f in legacy.risk.factors if f.factor is Factor.LIFECYCLE)
    assert lifecycle.evidence.startswith("gone: since 2026-11-28 08:00 UTC (404 model_not_found")


def test_a_retiring_model_with_a_healthy_fallback_is_elevated(report: Report) -> None:
    mini = model(report, "acme/acme-mini-2025-04-14")

    assert mini.risk is not None
    assert (mini.risk.level, mini.risk.stage) == (Level.ELEVATED, Stage.RETIRING)
    lifecycle = next(f for f in mini.risk.factors if f.factor is Factor.LIFECYCLE)
    assert "retires 2026-12-13, in 12 days" in lifecycle.evidence
    assert "x-ratelimit-limit-requests fell from 10000 to 2000" in lifecycle.evidence
    (falling,) = [t for t in mini.ceilings if t.falling]
    assert (falling.header, falling.peak, falling.last, falling.drop) == (
        "x-ratelimit-limit-requests",
        10000.0,
        2000.0,
        0.8,
    )


def test_a_model_that_answered_as_another_is_a_floating_alias(report: Report) -> None:
    latest = model(report, "bravo/bravo-latest")

    assert latest.risk is not None
    lifecycle = next(f for f in latest.risk.factors if f.factor is Factor.LIFECYCLE)
    assert lifecycle.badness == 0.25


def test_incidents_have_start_end_and_duration(report: Report) -> None:
    found = {(i.provider, i.model): i for i in report.incidents}

    bravo = found[("bravo", "bravo-pro")]
    assert (bravo.verdict, bravo.duration, bravo.runs) == (Verdict.DOWN, timedelta(hours=3), 3)
    legacy = found[("acme", "acme-legacy")]
    assert legacy.end is None
    assert legacy.duration == timedelta(days=2, hours=22)  # to the report's now


def test_models_broken_now_or_retiring_get_their_best_fallback(report: Report) -> None:
    advice = {r.ref: r for r in report.recommendations}

    # Most urgent first: the two broken pinned models, then the retiring one.
    assert list(advice) == [
        "acme/acme-legacy",
        "local/qwen-27b",
        "acme/acme-mini-2025-04-14",
    ]
    legacy = advice["acme/acme-legacy"]
    # Two declared fallbacks: bravo-pro (94.6%, misses its SLO) and acme-large (healthy).
    assert legacy.fallback is not None
    assert legacy.fallback.ref == "acme/acme-large-2026-01-15"
    assert legacy.advice.startswith("move to acme/acme-large-2026-01-15 now (declared, healthy")
    assert advice["acme/acme-mini-2025-04-14"].advice.startswith(
        "move to acme/acme-large-2026-01-15 before 2026-12-13 (declared, healthy: "
        "98.7% [95.4-99.6%] n=156; last answered 05:00; its own risk 32 elevated)"
    )


def test_a_model_without_a_fallback_that_answered_is_told_so_plainly_and_what_would_fix_it() -> (
    None
):
    history = week_history()
    history.model_rows = [m for m in history.model_rows if m.model != "acme-large-2026-01-15"]

    built = build_report(registry(), history, now=NOW, span=SPAN)

    mini = next(r for r in built.recommendations if r.model == "acme-mini-2025-04-14")
    assert mini.fallback is None
    assert mini.advice == (
        "no fallback to move to: acme/acme-large-2026-01-15 (not answering: up at 05:00 "
        "without an answer; not seen answering in the window). To fix: get "
        "acme/acme-large-2026-01-15 answering again, or declare a fallback under "
        "`fallbacks:` (another vendor's model, or an open-weight family served at another "
        "host)"
    )


def test_portfolio_coverage_per_vendor_and_jurisdiction(report: Report) -> None:
    vendors = {d.removal.label: d for d in report.portfolio.vendors}
    places = {d.removal.label: d for d in report.portfolio.jurisdictions}

    # acme's three pinned models fall back to acme (lost with it) or to bravo-pro, which
    # misses its SLO but answered in its latest run: somewhere to go for two of them.
    assert (len(vendors["acme"].affected), vendors["acme"].covered) == (3, 2)
    # dragon-v4's open weights are served, healthy, by `host` in the US.
    assert vendors["dragon"].coverage == 1.0
    assert places["jurisdiction CN"].affected[0].fallback is not None
    assert places["jurisdiction CN"].affected[0].fallback.ref == "host/dragon/dragon-v4"
    assert set(vendors) == {"acme", "bravo", "dragon", "local"}
    assert set(places) == {"jurisdiction US", "jurisdiction FR", "jurisdiction CN"}


def test_an_empty_history_still_reports_every_registry_model_as_no_data() -> None:
    built = build_report(registry(), MemoryHistory(), now=NOW, span=SPAN)

    assert not built.has_history
    assert len(built.models) == 10
    assert all(m.availability.n == 0 and m.availability.value is None for m in built.models)


def test_the_report_asks_the_store_for_its_window_and_now() -> None:
    history = week_history()

    built = build_report(registry(), history, now=NOW, span=timedelta(hours=24))

    assert built.window.until == NOW
    assert built.window.since == NOW - timedelta(hours=24)
    assert built.bucket == timedelta(hours=1)
    assert built.label == "24h"
    assert sorted(set(history.calls)) == sorted(
        {
            "models",
            "regions",
            "timelines",
            "streaks",
            "run_starts",
            "incidents",
            "catalog_changes",
            "drift",
            "ratelimit_ceilings",
        }
    )
    # Only the drift inside the last 24 hours is shown.
    assert built.drift == ()
