"""`--format table`: the report for a person at a terminal, most urgent models first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.report import text
from modelaudit.report.formats.base import ReportFormatter
from modelaudit.risk.score import Level

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table
    from rich.text import Text

    from modelaudit.report.model import Report
    from modelaudit.risk.portfolio import DrillResult

LEVEL_STYLE = {
    Level.LOW: "green",
    Level.ELEVATED: "yellow",
    Level.HIGH: "bold red",
    Level.CRITICAL: "bold magenta",
}


class TableFormat(ReportFormatter):
    def write_safe(self, value: Report) -> None:
        console = self.console()
        for part in renderables(value):
            console.print(part)


FORMAT = TableFormat


def _table(title: str, *columns: str, keep: int = 0) -> Table:
    """`keep`: how many leading columns never wrap (names a person greps for)."""
    from rich import box
    from rich.table import Table

    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
    )
    for index, column in enumerate(columns):
        table.add_column(column, overflow="fold", no_wrap=index < keep)
    return table


def _row(table: Table, *cells: str | Text) -> None:
    """Add a row, redacting each cell before rich wraps it (a key cut in two by a line
    break would slip past a redaction of the finished text)."""
    from rich.text import Text

    from modelaudit.redact import redact

    table.add_row(*(c if isinstance(c, Text) else Text(redact(c)) for c in cells))


def renderables(report: Report) -> list[RenderableType]:
    from rich.text import Text

    parts: list[RenderableType | None] = [Text(f"modelaudit report: {text.headline(report)}")]
    if not report.has_history:
        parts.append(Text(f"no probe history in the last {report.label}: run `modelaudit probe`"))
    parts += [*_withdrawals(report), _models(report), _recommendations(report)]
    parts += [_why(report), _portfolio(report), _regions(report)]
    parts.append(_service(report))
    parts += [*_incidents(report), *_changes(report), _ceilings(report)]
    return [p for p in parts if p is not None]


def _models(report: Report) -> Table:
    from rich.text import Text

    table = _table(
        "Models, most urgent first",
        "risk",
        "stage",
        "model",
        "pinned",
        "availability [95% CI]",
        "last verdict",
        "top factors",
        keep=1,
    )
    for m in report.models:
        risk = (
            Text(f"{m.risk.score} {m.risk.level.value}", style=LEVEL_STYLE[m.risk.level])
            if m.risk
            else Text("not in registry")
        )
        _row(
            table,
            risk,
            text.stage(m.risk),
            m.ref,
            "yes" if m.pinned else "",
            text.availability(m.availability),
            text.verdict(m),
            text.factor_summary(m.risk) if m.risk else "-",
        )
    return table


def _service(report: Report) -> Table:
    table = _table(
        "Latency (successes, ms) and errors",
        "model",
        "latency p50/p95/p99",
        "TTFT p50/p95/p99",
        "errors (all attempts)",
    )
    for m in report.models:
        _row(table, m.ref, text.latency(m.latency), text.latency(m.ttft), text.errors(m))
    return table


def _recommendations(report: Report) -> Table | None:
    if not report.recommendations:
        return None
    table = _table(
        "Recommendations (broken now or retiring, most urgent first)", "model", "risk", "advice"
    )
    for r in report.recommendations:
        _row(table, r.label, f"{r.risk.score} {r.risk.level.value}", r.advice)
    return table


def _why(report: Report) -> Table | None:
    scored = [m for m in report.models if m.risk and m.risk.level is not Level.LOW]
    if not scored:
        return None
    table = _table(
        "Why: the factors of every model above low risk", "model", "factor", "points", "evidence"
    )
    for m in scored:
        assert m.risk is not None
        _row(table, m.ref, "stage", m.risk.stage.label, m.risk.situation)
        for f in text.top_factors(m.risk, count=7):
            _row(table, "", f.factor.value, f"{f.points:.1f}/{f.weight:g}", f.evidence)
    return table


def _portfolio(report: Report) -> Table | None:
    drills = [*report.portfolio.vendors, *report.portfolio.jurisdictions]
    if not drills:
        return None
    table = _table(
        "Continuity: if it disappeared tomorrow",
        "without",
        "pinned affected",
        "coverage",
        "left without a fallback",
    )
    for d in drills:
        _row(table, d.removal.label, str(len(d.affected)), text.coverage(d), text.uncovered(d))
    return table


def drill_table(result: DrillResult) -> Table:
    """`modelaudit drill`: each affected pinned model and where it would go."""
    table = _table(
        f"Without {result.removal.label}: {text.coverage(result)} of affected pinned models "
        "keep a fallback that answered in its latest run",
        "pinned model",
        "fallback",
        "what was measured / what would fix it",
    )
    for o in result.affected:
        _row(table, o.ref, *text.drill_outcome(o))
    return table


INCIDENT_COLUMNS = ("model", "verdict", "start (UTC)", "end (UTC)", "duration", "runs")


def _withdrawals(report: Report) -> list[RenderableType]:
    from rich.text import Text

    return [Text(f"Withdrawn in a region: {line}") for line in text.withdrawal_lines(report)]


def _regions(report: Report) -> Table | None:
    if not text.fleet(report):
        return None
    header, rows = text.regional(report)
    table = _table("Availability by region (last verdict)", *header, keep=1)
    for row in rows:
        _row(table, *row)
    return table


DOWNTIME_COLUMNS = ("model", "incidents", "down in the window", "longest", "ongoing since")


def _incidents(report: Report) -> list[RenderableType]:
    from rich.text import Text

    if not report.incidents:
        return []
    downtime = _table("Downtime by model (down or gone)", *DOWNTIME_COLUMNS)
    for row in text.downtime(report):
        _row(downtime, *row)
    rows, hidden = text.incidents(report)
    latest = _table("Latest incidents", *INCIDENT_COLUMNS)
    for row in rows:
        _row(latest, *row)
    parts: list[RenderableType] = [downtime, latest]
    if hidden:
        parts.append(Text(text.left_out(hidden, "incidents")))
    return parts


def _changes(report: Report) -> list[RenderableType]:
    from rich.text import Text

    rows, hidden = text.changes(report)
    if not rows:
        return []
    table = _table("Catalog changes and served-model drift", "at (UTC)", "model", "change")
    for row in rows:
        _row(table, *row)
    return [table, Text(text.left_out(hidden, "changes"))] if hidden else [table]


def _ceilings(report: Report) -> Table | None:
    falling = [(m, t) for m in report.models for t in m.ceilings if t.falling]
    if not falling:
        return None
    table = _table(
        "Rate-limit ceilings falling (throttled before withdrawal?)",
        "model",
        "header",
        "from",
        "to",
        "fall",
    )
    for m, t in falling:
        _row(table, m.ref, t.header, f"{t.peak:g}", f"{t.last:g}", f"{t.drop * 100:.0f}%")
    return table
