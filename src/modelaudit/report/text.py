"""Wording shared by the human formats (table, Markdown, HTML): one way to write an
availability, a latency, a duration or a moment, so the formats read alike."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from modelaudit.risk import words
from modelaudit.risk.stats import percent

ZERO = timedelta(0)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from modelaudit.maintenance import Period
    from modelaudit.report.model import LatencyView, ModelView, Report
    from modelaudit.risk.evidence import DriftSummary
    from modelaudit.risk.portfolio import DrillResult, PinnedOutcome
    from modelaudit.risk.score import FactorScore, RiskScore


when = words.when
duration = words.duration
availability = words.share


def ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.1f} s" if value >= 10_000 else f"{value:.0f} ms"


def latency(view: LatencyView) -> str:
    """`820 / 1900 / 4200 ms n=154`: p50 / p95 / p99; a p99 from too few samples is `-`."""
    if view.n == 0:
        return "no data"
    values = [view.p50, view.p95, view.p99]
    shown = " / ".join("-" if v is None else f"{v:.0f}" for v in values)
    return f"{shown} ms n={view.n}"


def top_factors(risk: RiskScore, count: int = 3) -> list[FactorScore]:
    scoring = [f for f in risk.factors if f.points >= 0.05]
    return sorted(scoring, key=lambda f: -f.points)[:count]


def stage(risk: RiskScore | None) -> str:
    return risk.stage.label if risk else "-"


def factor_summary(risk: RiskScore, count: int = 3) -> str:
    return ", ".join(f"{f.factor.value} {f.points:.0f}" for f in top_factors(risk, count)) or "-"


def errors(model: ModelView, count: int = 3) -> str:
    failing = [(c, n) for c, n in model.error_classes if c.value != "ok"]
    shown = ", ".join(f"{c.value} {n}" for c, n in failing[:count])
    more = len(failing) - count
    return shown + (f", +{more} more" if more > 0 else "") if failing else "-"


def verdict(model: ModelView) -> str:
    last = model.last_verdict
    return "-" if last is None else last.verdict.value


def coverage(drill: DrillResult) -> str:
    if drill.coverage is None:
        return "nothing pinned affected"
    return f"{percent(drill.coverage)} ({drill.covered}/{len(drill.affected)})"


def drill_outcome(outcome: PinnedOutcome) -> tuple[str, str]:
    """`[fallback, what was measured of it]`, or `[NONE, why not and what would fix it]`."""
    if outcome.fallback is not None:
        return outcome.fallback.ref, outcome.fallback.note
    passed = "; ".join(r.text for r in outcome.rejected)
    return "NONE", (f"{passed}. " if passed else "") + f"To fix: {outcome.remedy}"


def uncovered(drill: DrillResult) -> str:
    lost = [o.ref for o in drill.affected if not o.covered]
    return ", ".join(lost) or "-"


MAX_LISTED = 40
"""Events listed in the human formats; the JSON report has them all."""


def drift_text(d: DriftSummary) -> str:
    """`answered as m-2026-11 (was m)`, or for many changes `system_fingerprint changed
    1,000 times among 3 values since ...; now fp_b (was fp_a)`."""
    what = "answered as" if d.kind == "served_model" else "system_fingerprint"
    if d.changes == 1:
        return f"{what} {d.last_after} ({_before(d)})"
    what = "the served model" if d.kind == "served_model" else "system_fingerprint"
    return (
        f"{what} changed {d.changes:,} times among {d.values} values since "
        f"{when(d.first_at)}; now {d.last_after} ({_before(d)})"
    )


def _before(d: DriftSummary) -> str:
    """What the value was; a first answer by another model is compared with the request."""
    if d.last_before is not None:
        return f"was {d.last_before}"
    return f"asked for {d.model}" if d.kind == "served_model" else "first seen"


def changes(report: Report) -> tuple[list[list[str]], int]:
    """Catalog changes and drift, at most MAX_LISTED, newest last; and how many were left
    out: `[at, provider/model, what]` rows."""
    found = [
        (c.at, f"{c.provider}/{c.model}", f"{c.change} in the model list")
        for c in report.catalog_changes
    ]
    found += [(d.last_at, f"{d.provider}/{d.model}", drift_text(d)) for d in report.drift]
    found.sort(key=lambda row: (row[0], row[1]))
    shown = found[-MAX_LISTED:]
    return [[when(at), ref, what] for at, ref, what in shown], len(found) - len(shown)


def incidents(report: Report) -> tuple[list[list[str]], int]:
    """The latest MAX_LISTED incidents, oldest first, and how many were left out:
    `[provider/model, verdict, start, end, duration, runs]` rows."""
    shown = report.incidents[-MAX_LISTED:]
    rows = [
        [
            f"{i.provider}/{i.model}" + (f" in {i.region}" if fleet(report) else ""),
            i.verdict.value,
            when(i.start),
            when(i.end) if i.end else "ongoing",
            duration(i.duration),
            str(i.runs),
        ]
        for i in shown
    ]
    return rows, len(report.incidents) - len(shown)


def downtime(report: Report) -> list[list[str]]:
    """`[provider/model, incidents, downtime in the window, longest, ongoing since]` for
    every model with an incident, the most down first."""
    down = [m for m in report.models if m.downtime]
    down.sort(key=lambda m: (-m.downtime.total if m.downtime else ZERO, m.ref))
    return [
        [
            m.ref,
            str(m.downtime.incidents),
            duration(m.downtime.total),
            duration(m.downtime.longest),
            when(m.downtime.ongoing_since) if m.downtime.ongoing_since else "-",
        ]
        for m in down
        if m.downtime
    ]


def left_out(count: int, what: str) -> str:
    return f"{count:,} earlier {what} in the window: see the JSON report" if count else ""


def drawn(report: Report) -> str:
    """What the timelines cover, and how it relates to the window asked for."""
    span = f"{when(report.drawn.since)} to {when(report.drawn.until)} UTC"
    buckets = f"{duration(report.bucket)} per cell"
    if report.drawn.since > report.window.since:
        return (
            f"Timelines: {span} ({buckets}): the history starts there, inside the "
            f"{report.label} window."
        )
    return f"Timelines: the {report.label} window, {span} ({buckets})."


def headline(report: Report) -> str:
    levels = report.levels
    counts = ", ".join(f"{n} {level.value}" for level, n in levels.items() if n)
    return (
        f"last {report.label} ({when(report.window.since)} to {when(report.window.until)} UTC): "
        f"{len(report.models)} models, {report.attempts:,} attempts; "
        f"risk: {counts or 'none scored'}"
    )


def fleet(report: Report) -> bool:
    """Whether the window holds more than one region's runs: the side-by-side view shows."""
    return len(report.regions) > 1


def regional(report: Report) -> tuple[list[str], list[list[str]]]:
    """Availability per region, side by side: a header (model, then one column per
    region) and a row per model that any region saw, each cell `99.2% up`."""
    header = ["Model", *report.regions]
    rows = []
    for m in report.models:
        if not m.regions:
            continue
        seen = {r.region: r for r in m.regions}
        cells = [m.ref]
        for region in report.regions:
            standing = seen.get(region)
            if standing is None:
                cells.append("-")
                continue
            share = standing.availability
            shown = percent(share.value) if share.value is not None else "n/a"
            last = standing.last_verdict
            cells.append(f"{shown} {last.verdict.value}" if last else shown)
        rows.append(cells)
    return header, rows


def withdrawal_lines(report: Report) -> list[str]:
    return [f"{w.ref}: {w.text}" for w in report.withdrawals]


def maintenance(periods: Sequence[Period]) -> str:
    """`maintenance: 2 windows, 4 h (left out of availability)`; "" without any."""
    if not periods:
        return ""
    from modelaudit.maintenance import total

    count = len(periods)
    return (
        f"maintenance: {count} window{'s' if count != 1 else ''}, {duration(total(periods))} "
        "(left out of availability)"
    )
