"""`--format table`: the report for a person at a terminal, most urgent models first.

Tables are laid out by `modelaudit.textgrid` (rich's layout, at a few microseconds a row:
a 10,000-model report is three tables of 10,000 rows). Every cell is redacted before it is
wrapped: a key cut in two by a line break would slip past a redaction of the finished text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelaudit import textgrid
from modelaudit.output.base import Formatter
from modelaudit.report import text
from modelaudit.report.formats.base import ReportFormatter
from modelaudit.risk.score import Level
from modelaudit.textgrid import Cell

if TYPE_CHECKING:
    from modelaudit.report.model import Report
    from modelaudit.risk.portfolio import DrillResult

LEVEL_STYLE = {
    Level.LOW: "green",
    Level.ELEVATED: "yellow",
    Level.HIGH: "bold red",
    Level.CRITICAL: "bold magenta",
}


@dataclass
class Grid:
    """A table being filled: its title, columns and rows of cells."""

    title: str
    columns: tuple[str, ...]
    keep: int = 0
    """How many leading columns never wrap (names a person greps for)."""
    rows: list[list[Cell]] = field(default_factory=list)

    def row(self, *cells: str | Cell) -> None:
        from modelaudit.redact import redact

        self.rows.append(
            [
                Cell(redact(c.text), c.style) if isinstance(c, Cell) else Cell(redact(c))
                for c in cells
            ]
        )


@dataclass(frozen=True)
class Line:
    """A paragraph of text, wrapped to the terminal's width."""

    text: str


Part = Grid | Line


class TableFormat(ReportFormatter):
    def write_safe(self, value: Report) -> None:
        write_parts(self, parts(value))


FORMAT = TableFormat


def write_parts(formatter: Formatter[Any], found: list[Part]) -> None:
    """Lay `found` out for the formatter's writer: its width and colours as rich would
    give them (a terminal's, $COLUMNS, 80; colour on a terminal that shows it)."""
    console = formatter.console()
    color = console.color_system is not None and not console.no_color
    formatter.out.write(to_text(found, console.width, color=color))


def to_text(found: list[Part], width: int, *, color: bool = False) -> str:
    from modelaudit.redact import redact

    out = []
    for part in found:
        if isinstance(part, Grid):
            out.append(
                textgrid.render(
                    part.columns, part.rows, width, title=part.title, keep=part.keep, color=color
                )
            )
        else:
            out.append(textgrid.paragraph(redact(part.text), width))
    return "".join(out)


def _table(title: str, *columns: str, keep: int = 0) -> Grid:
    return Grid(title, columns, keep)


def _row(table: Grid, *cells: str | Cell) -> None:
    table.row(*cells)


def parts(report: Report) -> list[Part]:
    found: list[Part | None] = [Line(f"modelaudit report: {text.headline(report)}")]
    if not report.has_history:
        found.append(Line(f"no probe history in the last {report.label}: run `modelaudit probe`"))
    found += [*_withdrawals(report), _models(report), _recommendations(report)]
    found += [_why(report), _portfolio(report), _regions(report)]
    found.append(_service(report))
    found += [*_incidents(report), *_changes(report), _ceilings(report)]
    return [p for p in found if p is not None]


def _models(report: Report) -> Grid:
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
            Cell(f"{m.risk.score} {m.risk.level.value}", LEVEL_STYLE[m.risk.level])
            if m.risk
            else Cell("not in registry")
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


def _service(report: Report) -> Grid:
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


def _recommendations(report: Report) -> Grid | None:
    if not report.recommendations:
        return None
    table = _table(
        "Recommendations (broken now or retiring, most urgent first)", "model", "risk", "advice"
    )
    for r in report.recommendations:
        _row(table, r.label, f"{r.risk.score} {r.risk.level.value}", r.advice)
    return table


def _why(report: Report) -> Grid | None:
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


def _portfolio(report: Report) -> Grid | None:
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


def drill_table(result: DrillResult) -> Grid:
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


def _withdrawals(report: Report) -> list[Part]:
    return [Line(f"Withdrawn in a region: {line}") for line in text.withdrawal_lines(report)]


def _regions(report: Report) -> Grid | None:
    if not text.fleet(report):
        return None
    header, rows = text.regional(report)
    table = _table("Availability by region (last verdict)", *header, keep=1)
    for row in rows:
        _row(table, *row)
    return table


DOWNTIME_COLUMNS = ("model", "incidents", "down in the window", "longest", "ongoing since")


def _incidents(report: Report) -> list[Part]:
    if not report.incidents:
        return []
    downtime = _table("Downtime by model (down or gone)", *DOWNTIME_COLUMNS)
    for row in text.downtime(report):
        _row(downtime, *row)
    rows, hidden = text.incidents(report)
    latest = _table("Latest incidents", *INCIDENT_COLUMNS)
    for row in rows:
        _row(latest, *row)
    found: list[Part] = [downtime, latest]
    if hidden:
        found.append(Line(text.left_out(hidden, "incidents")))
    return found


def _changes(report: Report) -> list[Part]:
    rows, hidden = text.changes(report)
    if not rows:
        return []
    table = _table("Catalog changes and served-model drift", "at (UTC)", "model", "change")
    for row in rows:
        _row(table, *row)
    return [table, Line(text.left_out(hidden, "changes"))] if hidden else [table]


def _ceilings(report: Report) -> Grid | None:
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
