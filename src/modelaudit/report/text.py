"""Wording shared by the human formats (table, Markdown, HTML): one way to write an
availability, a latency, a duration or a moment, so the formats read alike."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from modelaudit.risk.stats import percent

ZERO = timedelta(0)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from modelaudit.maintenance import Period
    from modelaudit.report.model import LatencyView, ModelView, Report
    from modelaudit.risk.evidence import DriftSummary
    from modelaudit.risk.portfolio import DrillResult
    from modelaudit.risk.score import FactorScore, RiskScore
    from modelaudit.risk.stats import Proportion


def when(moment: datetime | None) -> str:
    # isoformat is several times faster than strftime, which a month of events notices.
    return "-" if moment is None else moment.isoformat(sep=" ", timespec="minutes")[:16]


def duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def availability(share: Proportion) -> str:
    """`98.7% [96.1-99.6%] n=156`: the 95% interval and the sample, never a bare share."""
    if share.value is None or share.low is None or share.high is None:
        return "no data"
    interval = f"{percent(share.low).removesuffix('%')}-{percent(share.high)}"
    return f"{percent(share.value)} [{interval}] n={share.n}"


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
            f"{i.provider}/{i.model}",
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


def headline(report: Report) -> str:
    levels = report.levels
    counts = ", ".join(f"{n} {level.value}" for level, n in levels.items() if n)
    return (
        f"last {report.label} ({when(report.window.since)} to {when(report.window.until)} UTC): "
        f"{len(report.models)} models, {report.attempts:,} attempts; "
        f"risk: {counts or 'none scored'}"
    )


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
