"""Situations an SRE meets, each a history written through the real store and reported:
the level and the order of the models at the top, and what the report advises.

What is broken now comes first, then what will break soonest, then what misses its SLO,
then what is merely exposed; a fallback is advised only if it answered in its latest run
and ranks lower than the model it replaces.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from modelaudit.report.formats.base import ReportFormat
from modelaudit.report.model import ModelView, Recommendation, Report
from modelaudit.report.render import render
from modelaudit.risk.score import Level, Stage
from modelaudit.vocabulary import Verdict
from tests.scenarios import (
    BLOCKED,
    DOWN,
    ERROR,
    GONE,
    NOW,
    OK,
    RATE_LIMITED,
    SLOW,
    Scenario,
    always,
    at_runs,
    from_run,
)

TODAY = NOW.date()


def registry(*providers: str) -> str:
    return "version: 1\nproviders:\n" + "".join(providers)


def provider(
    name: str,
    models: str,
    *,
    hosting: str = "vendor",
    jurisdiction: str | None = "US",
    gated: bool = False,
) -> str:
    lines = [
        f"  - name: {name}",
        "    api: openai",
        f"    base_url: https://{name}.test/v1"
        if hosting != "self-hosted"
        else "    base_url: http://127.0.0.1:8080/v1",
        f"    hosting: {hosting}",
    ]
    if jurisdiction:
        lines.append(f"    jurisdiction: {jurisdiction}")
    if gated:
        lines.append("    regulatory:\n      gated: true")
    return "\n".join(lines) + "\n    models:\n" + models


def model(
    model_id: str,
    *,
    weights: str = "closed",
    pinned: bool = False,
    fallbacks: tuple[str, ...] = (),
    family: str | None = None,
    retires: date | None = None,
) -> str:
    lines = [f"      - id: {model_id}", f"        weights: {weights}"]
    if pinned:
        lines.append("        pinned: true")
    if family:
        lines.append(f"        family: {family}")
    if retires:
        lines.append(f"        retires: {retires.isoformat()}")
    if fallbacks:
        lines.append(f"        fallbacks: [{', '.join(fallbacks)}]")
    return "\n".join(lines) + "\n"


def top(report: Report, count: int) -> list[tuple[str, Level, Stage]]:
    return [
        (m.ref, m.risk.level, m.risk.stage) for m in report.models[:count] if m.risk is not None
    ]


def view(report: Report, ref: str) -> ModelView:
    return next(m for m in report.models if m.ref == ref)


def advice(report: Report) -> dict[str, Recommendation]:
    return {r.ref: r for r in report.recommendations}


# --- broken now -------------------------------------------------------------------------


def test_pinned_down_all_day_no_fallback(tmp_path: Path) -> None:
    # The field report: llama.cpp pinned and stopped for the whole day, a second backend
    # answering every run. The stopped one must lead, critical, and say what would fix it.
    report = Scenario(
        registry(
            provider(
                "local",
                model("smollm2-135m", weights="open", pinned=True, family="smollm2-135m"),
                hosting="self-hosted",
                jurisdiction=None,
            ),
            provider("acme", model("acme-chat-2026-01-01")),
        ),
        {"local/smollm2-135m": always(DOWN), "acme/acme-chat-2026-01-01": always(OK)},
    ).report(tmp_path)

    assert top(report, 2) == [
        ("local/smollm2-135m", Level.CRITICAL, Stage.BROKEN_NO_FALLBACK),
        ("acme/acme-chat-2026-01-01", Level.ELEVATED, Stage.EXPOSED),
    ]
    (rec,) = report.recommendations
    assert rec.ref == "local/smollm2-135m"
    assert rec.advice == (
        "no fallback to move to is declared or known. To fix: serve the `smollm2-135m` "
        "weights at another host (the same `family:`), or declare a fallback under "
        "`fallbacks:`"
    )
    assert rec.risk.situation.startswith("down since 2026-11-30 12:45 UTC (connect_failed")


def test_pinned_down_for_the_last_hour_with_a_healthy_fallback(tmp_path: Path) -> None:
    report = Scenario(
        registry(
            provider("acme", model("acme-large-2026-01-15", pinned=True, fallbacks=("bravo/b1",))),
            provider("bravo", model("b1"), jurisdiction="FR"),
        ),
        {"acme/acme-large-2026-01-15": from_run(46, ERROR), "bravo/b1": always(OK)},
    ).report(tmp_path)

    assert top(report, 2) == [
        ("acme/acme-large-2026-01-15", Level.HIGH, Stage.BROKEN),
        ("bravo/b1", Level.ELEVATED, Stage.EXPOSED),
    ]
    rec = advice(report)["acme/acme-large-2026-01-15"]
    assert rec.advice.startswith(
        "move to bravo/b1 now (declared, healthy: 100% [92.6-100%] n=48; last answered 12:15"
    )
    assert rec.risk.situation.startswith("down since 2026-12-01 11:45 UTC (500 server_error")


def test_pinned_key_revoked_is_broken_now_and_told_to_move(tmp_path: Path) -> None:
    # Our access broke, not the model: availability leaves the 401s out, but production
    # cannot call it either.
    report = Scenario(
        registry(
            provider("acme", model("acme-large-2026-01-15", pinned=True, fallbacks=("bravo/b1",))),
            provider("bravo", model("b1"), jurisdiction="FR"),
        ),
        {"acme/acme-large-2026-01-15": from_run(40, BLOCKED), "bravo/b1": always(OK)},
    ).report(tmp_path)

    large = view(report, "acme/acme-large-2026-01-15")
    assert large.risk is not None
    assert (large.risk.level, large.risk.stage) == (Level.HIGH, Stage.BROKEN)
    assert large.availability.n == 40  # the blocked runs are on neither side
    assert report.incidents == ()  # a blocked run starts no outage of the model
    assert advice(report)["acme/acme-large-2026-01-15"].advice.startswith("move to bravo/b1 now")


def test_fallback_that_answered_minutes_ago_after_a_short_outage(tmp_path: Path) -> None:
    # The fallback failed 3 times in 62 runs: 95.2%, below its 99% SLO, yet it answered in
    # its latest run. The pinned model down now has no healthy fallback (critical), and
    # the advice names the fallback with what was measured, not "not seen healthy".
    report = Scenario(
        registry(
            provider("acme", model("acme-large-2026-01-15", pinned=True, fallbacks=("bravo/b1",))),
            provider("bravo", model("b1"), jurisdiction="FR"),
        ),
        {
            "acme/acme-large-2026-01-15": from_run(58, DOWN),
            "bravo/b1": at_runs({20, 21, 22}, ERROR),
        },
        runs=62,
        every=timedelta(minutes=20),
    ).report(tmp_path)

    assert top(report, 1) == [
        ("acme/acme-large-2026-01-15", Level.CRITICAL, Stage.BROKEN_NO_FALLBACK)
    ]
    rec = advice(report)["acme/acme-large-2026-01-15"]
    assert rec.fallback is not None
    assert rec.advice == (
        "move to bravo/b1 now (declared, below its 99% SLO: 95.2% [86.7-98.3%] n=62; "
        "last answered 12:25; its own risk 39 elevated)"
    )
    assert not rec.advice.count("not seen")


def test_nothing_pinned_local_server_down_second_backend_up(tmp_path: Path) -> None:
    # A new user's first day: nothing pinned. What is broken still comes first.
    report = Scenario(
        registry(
            provider(
                "local",
                model("smollm2-135m", weights="open"),
                hosting="self-hosted",
                jurisdiction=None,
            ),
            provider(
                "litellm",
                model("smollm2-135m", weights="open"),
                hosting="self-hosted",
                jurisdiction=None,
            ),
        ),
        {"local/smollm2-135m": from_run(30, DOWN), "litellm/smollm2-135m": always(OK)},
    ).report(tmp_path)

    assert top(report, 2) == [
        ("local/smollm2-135m", Level.HIGH, Stage.BROKEN),
        ("litellm/smollm2-135m", Level.LOW, Stage.EXPOSED),
    ]
    assert advice(report)["local/smollm2-135m"].advice.endswith(
        "To fix: name its weights with `family:` and serve them at another host, "
        "or declare a fallback under `fallbacks:`"
    )


def test_down_then_gone_is_one_outage_until_it_answers_again(tmp_path: Path) -> None:
    report = Scenario(
        registry(
            provider(
                "acme",
                model("acme-mini", pinned=True, fallbacks=("acme/acme-big",)) + model("acme-big"),
            )
        ),
        {
            "acme/acme-mini": lambda n: DOWN if 10 <= n < 12 else GONE if 12 <= n < 14 else OK,
            "acme/acme-big": always(OK),
        },
    ).report(tmp_path)

    (incident,) = report.incidents
    assert (incident.verdict, incident.runs) == (Verdict.GONE, 4)
    assert incident.duration == timedelta(hours=2)  # runs 10 to 14, 30 minutes apart
    assert view(report, "acme/acme-mini").risk.stage is not Stage.BROKEN  # type: ignore[union-attr]
    assert report.recommendations == ()


# --- will break -------------------------------------------------------------------------


def test_retiring_in_9_days_fallback_healthy(tmp_path: Path) -> None:
    retires = TODAY + timedelta(days=9)
    report = Scenario(
        registry(
            provider(
                "acme",
                model(
                    "acme-mini-2025-04-14", pinned=True, retires=retires, fallbacks=("bravo/b1",)
                ),
            ),
            provider("bravo", model("b1"), jurisdiction="FR"),
        ),
        {"acme/acme-mini-2025-04-14": always(OK), "bravo/b1": always(OK)},
    ).report(tmp_path)

    assert top(report, 2) == [
        ("acme/acme-mini-2025-04-14", Level.ELEVATED, Stage.RETIRING),
        ("bravo/b1", Level.ELEVATED, Stage.EXPOSED),
    ]
    assert advice(report)["acme/acme-mini-2025-04-14"].advice.startswith(
        "move to bravo/b1 before 2026-12-10 (declared, healthy: 100% [92.6-100%] n=48"
    )


def test_retiring_in_9_days_no_fallback_outranks_a_flapping_model(tmp_path: Path) -> None:
    retires = TODAY + timedelta(days=9)
    report = Scenario(
        registry(
            provider(
                "acme",
                model("acme-mini-2025-04-14", pinned=True, retires=retires)
                + model("acme-flaky", pinned=True),
                gated=True,
            ),
        ),
        {
            "acme/acme-mini-2025-04-14": always(OK),
            "acme/acme-flaky": lambda n: ERROR if n % 4 == 0 and n < 44 else OK,
        },
    ).report(tmp_path)

    assert top(report, 2) == [
        ("acme/acme-mini-2025-04-14", Level.HIGH, Stage.RETIRING_NO_FALLBACK),
        ("acme/acme-flaky", Level.ELEVATED, Stage.MISSING_SLO),
    ]
    rec = advice(report)["acme/acme-mini-2025-04-14"]
    assert rec.fallback is None
    assert rec.advice == (
        "no fallback to move to is declared or known. To fix: declare a fallback under "
        "`fallbacks:` (another vendor's model, or an open-weight family served at another "
        "host)"
    )


def test_mutual_fallbacks_both_retiring_never_advise_a_circle(tmp_path: Path) -> None:
    # A retires sooner than B and each names the other: A may move to B; B must not be
    # told to move to A, which ranks higher.
    report = Scenario(
        registry(
            provider(
                "acme",
                model("a", pinned=True, retires=TODAY + timedelta(30), fallbacks=("bravo/b",)),
            ),
            provider(
                "bravo",
                model("b", pinned=True, retires=TODAY + timedelta(60), fallbacks=("acme/a",)),
                jurisdiction="FR",
            ),
        ),
        {"acme/a": always(OK), "bravo/b": always(OK)},
    ).report(tmp_path)

    assert top(report, 2) == [
        ("acme/a", Level.ELEVATED, Stage.RETIRING),
        ("bravo/b", Level.ELEVATED, Stage.RETIRING),
    ]
    found = advice(report)
    assert list(found) == ["acme/a", "bravo/b"]
    assert found["acme/a"].advice.startswith("move to bravo/b before 2026-12-31 (declared")
    assert found["bravo/b"].fallback is None
    assert found["bravo/b"].advice.startswith("no fallback to move to: acme/a (its own risk ")
    assert "is not lower than" in found["bravo/b"].advice


def test_vanished_from_the_model_list_while_still_answering(tmp_path: Path) -> None:
    report = Scenario(
        registry(provider("acme", model("acme-old-0613", pinned=True) + model("acme-new"))),
        {"acme/acme-old-0613": always(OK), "acme/acme-new": always(OK)},
        catalogs={"acme": lambda n: ("acme-old-0613", "acme-new") if n < 40 else ("acme-new",)},
    ).report(tmp_path)

    old = view(report, "acme/acme-old-0613")
    assert old.risk is not None
    assert (old.risk.level, old.risk.stage) == (Level.HIGH, Stage.RETIRING_NO_FALLBACK)
    assert old.risk.situation.startswith("vanished from acme's model list on 2026-12-01")
    assert report.models[0].ref == "acme/acme-old-0613"


def test_retired_date_passed_but_still_answering_leads_the_retiring(tmp_path: Path) -> None:
    report = Scenario(
        registry(
            provider(
                "acme",
                model("acme-past", pinned=True, retires=TODAY - timedelta(days=2))
                + model("acme-soon", pinned=True, retires=TODAY + timedelta(days=20)),
            )
        ),
        {"acme/acme-past": always(OK), "acme/acme-soon": always(OK)},
    ).report(tmp_path)

    assert top(report, 2) == [
        ("acme/acme-past", Level.HIGH, Stage.RETIRING_NO_FALLBACK),
        ("acme/acme-soon", Level.HIGH, Stage.RETIRING_NO_FALLBACK),
    ]
    assert view(report, "acme/acme-past").risk.score == 66  # type: ignore[union-attr]


# --- might break ------------------------------------------------------------------------


def test_open_weights_at_three_hosts_are_low_and_need_nothing(tmp_path: Path) -> None:
    qwen = "Qwen/Qwen3-32B"
    report = Scenario(
        registry(
            provider(
                "local",
                model(qwen, weights="open", pinned=True, family="qwen3-32b"),
                hosting="self-hosted",
                jurisdiction=None,
            ),
            provider(
                "together", model(qwen, weights="open", family="qwen3-32b"), hosting="third-party"
            ),
            provider(
                "deepinfra",
                model(qwen, weights="open", family="qwen3-32b"),
                hosting="third-party",
                jurisdiction="DE",
            ),
        ),
        {f"{p}/{qwen}": always(OK) for p in ("local", "together", "deepinfra")},
    ).report(tmp_path)

    assert {m.risk.level for m in report.models if m.risk} == {Level.LOW}
    assert report.models[0].risk.stage is Stage.EXPOSED  # type: ignore[union-attr]
    assert report.recommendations == ()
    covered = {d.removal.label: d.coverage for d in report.portfolio.vendors}
    assert covered == {"local": 1.0}


def test_a_rate_limited_model_is_not_an_outage(tmp_path: Path) -> None:
    report = Scenario(
        registry(
            provider(
                "acme",
                model("acme-large", pinned=True, fallbacks=("acme/acme-b",)) + model("acme-b"),
            )
        ),
        {"acme/acme-large": at_runs(range(40, 48), RATE_LIMITED), "acme/acme-b": always(OK)},
    ).report(tmp_path)

    large = view(report, "acme/acme-large")
    assert large.risk is not None
    assert large.risk.stage is Stage.EXPOSED
    assert (large.availability.ok, large.availability.n, large.excluded) == (40, 40, 8)
    assert report.incidents == ()
    assert report.recommendations == ()


def test_slow_model_misses_its_latency_slo_above_an_exposed_one(tmp_path: Path) -> None:
    report = Scenario(
        registry(
            provider(
                "acme",
                model("acme-slow", fallbacks=("bravo/b1",)) + model("acme-fast", pinned=True),
                gated=True,
            ),
            provider("bravo", model("b1"), jurisdiction="FR"),
        ),
        {"acme/acme-slow": always(SLOW), "acme/acme-fast": always(OK), "bravo/b1": always(OK)},
    ).report(tmp_path)

    assert top(report, 2) == [
        ("acme/acme-slow", Level.ELEVATED, Stage.MISSING_SLO),
        ("acme/acme-fast", Level.ELEVATED, Stage.EXPOSED),
    ]
    assert report.recommendations == ()


def test_server_stopped_for_40_seconds_reads_in_seconds_in_every_format(tmp_path: Path) -> None:
    # Runs every 20 s for an hour; the server stopped and two runs saw it.
    report = Scenario(
        registry(
            provider(
                "local",
                model("smollm2-135m", weights="open", pinned=True),
                hosting="self-hosted",
                jurisdiction=None,
            )
        ),
        {"local/smollm2-135m": at_runs({100, 101}, DOWN)},
        runs=180,
        every=timedelta(seconds=20),
        span=timedelta(hours=1),
    ).report(tmp_path)

    (incident,) = report.incidents
    assert (incident.duration, incident.runs, incident.end is not None) == (
        timedelta(seconds=40),
        2,
        True,
    )
    local = view(report, "local/smollm2-135m")
    assert local.risk is not None
    assert local.risk.stage is Stage.EXPOSED  # it answers again
    for kind in (ReportFormat.TABLE, ReportFormat.MARKDOWN, ReportFormat.HTML):
        shown = render(report, kind)
        assert "40 s" in shown, kind
        assert "0 min" not in shown, kind
    assert '"duration_s": 40' in render(report, ReportFormat.JSON)


def test_an_offline_hour_is_no_outage(tmp_path: Path) -> None:
    report = Scenario(
        registry(
            provider("acme", model("acme-large", pinned=True, fallbacks=("acme/b",)) + model("b"))
        ),
        {"acme/acme-large": always(OK), "acme/b": always(OK)},
        offline_runs=frozenset({45, 46, 47}),
    ).report(tmp_path)

    large = view(report, "acme/acme-large")
    assert large.risk is not None
    assert (large.risk.level, large.risk.stage) == (Level.ELEVATED, Stage.EXPOSED)
    assert large.last_verdict is not None
    assert large.last_verdict.verdict is Verdict.UP  # the inconclusive runs are passed over
    assert report.incidents == ()


def test_first_day_charts_start_where_the_history_starts(tmp_path: Path) -> None:
    # Two hours of 5-minute runs, reported over 24 hours: the charts cover the two hours
    # in 5-minute cells, and say so, instead of a day with one cell at its right edge.
    report = Scenario(
        registry(provider("acme", model("acme-large"))),
        {"acme/acme-large": always(OK)},
        runs=24,
        every=timedelta(minutes=5),
    ).report(tmp_path)

    first = NOW - 24 * timedelta(minutes=5) + timedelta(seconds=6)  # its first attempt
    assert report.drawn.since == first
    assert report.window.since == NOW - timedelta(days=1)
    assert report.bucket == timedelta(minutes=5)
    (acme,) = report.models
    assert len(acme.timeline) == 24
    assert "the history starts there, inside the 24h window" in render(report, ReportFormat.HTML)


@pytest.mark.parametrize("kind", list(ReportFormat))
def test_every_format_of_a_scenario_renders(kind: ReportFormat, tmp_path: Path) -> None:
    report = Scenario(
        registry(provider("acme", model("acme-large", pinned=True))),
        {"acme/acme-large": from_run(47, DOWN)},
    ).report(tmp_path)

    assert "acme-large" in render(report, kind)
