"""Wording shared by the human formats (table, Markdown, HTML): one way to write an
availability, a latency, a duration or a moment, so the formats read alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.risk.stats import percent

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from modelaudit.report.model import LatencyView, ModelView, Report
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


def changes(report: Report) -> list[tuple[datetime, str, str]]:
    """Catalog changes and served-model drift, oldest first: (at, provider/model, what)."""
    found = [
        (c.at, f"{c.provider}/{c.model}", f"{c.change} in the model list")
        for c in report.catalog_changes
    ]
    for d in report.drift:
        what = "answered as" if d.kind == "served_model" else "system_fingerprint"
        found.append((d.at, f"{d.provider}/{d.model}", f"{what}: {d.before} → {d.after}"))
    return sorted(found, key=lambda row: (row[0], row[1]))


def headline(report: Report) -> str:
    levels = report.levels
    counts = ", ".join(f"{n} {level.value}" for level, n in levels.items() if n)
    return (
        f"last {report.label} ({when(report.window.since)} to {when(report.window.until)} UTC): "
        f"{len(report.models)} models, {report.attempts:,} attempts; "
        f"risk: {counts or 'none scored'}"
    )
