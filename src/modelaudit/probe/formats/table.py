"""`--format table`: one entry per model, for a person at a terminal.

On a wide terminal, one row per model with the reason in the last column. Below
`WIDE_COLUMNS`, a row would leave the reason (the part that says what to do) no room, so
each model takes two lines instead: the facts, then the reason, indented and wrapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelaudit.probe.formats.base import ProbeFormatter
from modelaudit.vocabulary import ProbeKind, Verdict

if TYPE_CHECKING:
    from rich.console import RenderableType

    from modelaudit.probe.plan import Plan
    from modelaudit.probe.result import ModelVerdict, ProbeResult, RunReport

WIDE_COLUMNS = 110
VERDICT_STYLE = {
    Verdict.UP: "green",
    Verdict.DEGRADED: "yellow",
    Verdict.DOWN: "bold red",
    Verdict.GONE: "bold magenta",
    Verdict.BLOCKED: "red",
    Verdict.SKIPPED: "dim",
    Verdict.INCONCLUSIVE: "cyan",
}


class TableFormatter(ProbeFormatter):
    def write_safe(self, value: RunReport) -> None:
        console = self.console()
        console.print(build_table(value, console.width))

    def write_plan_safe(self, plan: Plan) -> None:
        self.console().print(plan_table(plan))


FORMAT = TableFormatter


def plan_table(plan: Plan) -> RenderableType:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for column in ("provider", "models", "kinds", "key", "requests (max)", "output tokens (max)"):
        table.add_column(column, overflow="fold")
    for p in plan.providers:
        cost = plan.worst_case(p)
        table.add_row(
            p.provider.name,
            ", ".join(m.id for m in p.models),
            ", ".join(k.value for k in p.kinds) or "-",
            "none needed" if p.provider.credential_ref is None else (p.skip_reason or "present"),
            str(cost.requests),
            str(cost.output_tokens),
        )
    return table


@dataclass(frozen=True)
class _Row:
    verdict: ModelVerdict
    latency: str
    ttft: str

    @property
    def error_class(self) -> str:
        return self.verdict.error_class.value if self.verdict.error_class else ""


def build_table(report: RunReport, width: int) -> RenderableType:
    rows = _rows(report)
    return _wide(rows) if width >= WIDE_COLUMNS else _stacked(rows)


def _rows(report: RunReport) -> list[_Row]:
    by_model: dict[tuple[str, str], list[ProbeResult]] = {}
    for result in report.results:
        by_model.setdefault((result.provider, result.model), []).append(result)
    rows = []
    for verdict in report.verdicts:
        results = by_model.get((verdict.provider, verdict.model), [])
        completion = next((r for r in results if r.kind is ProbeKind.COMPLETION), None)
        stream = next((r for r in results if r.kind is ProbeKind.STREAM), None)
        # A completion's latency when one ran; else the whole stream's (`--kind stream`).
        timed = completion if completion and completion.final.latency_ms else stream
        rows.append(
            _Row(
                verdict,
                _ms(timed.final.latency_ms if timed else None),
                _ms(stream.final.ttft_ms if stream else None),
            )
        )
    return rows


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.0f} ms"


def _wide(rows: list[_Row]) -> RenderableType:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    timed = any(row.latency or row.ttft for row in rows)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    columns = ["provider", "model", "verdict", "error class"]
    columns += ["latency", "TTFT"] if timed else []
    for column in columns:
        table.add_column(column, no_wrap=True)
    table.add_column("reason", overflow="fold", ratio=1, min_width=30)
    for row in rows:
        v = row.verdict
        cells: list[str | Text] = [
            v.provider,
            v.model,
            Text(v.verdict.value, style=VERDICT_STYLE[v.verdict]),
            row.error_class,
        ]
        cells += [row.latency, row.ttft] if timed else []
        table.add_row(*cells, Text(v.reason))
    return table


def _stacked(rows: list[_Row]) -> RenderableType:
    from rich.console import Group
    from rich.padding import Padding
    from rich.text import Text

    indent = max((len(v.value) for v in Verdict), default=0) + 2
    parts: list[RenderableType] = []
    for row in rows:
        v = row.verdict
        facts = Text(f"{v.verdict.value:<{indent}}", style=VERDICT_STYLE[v.verdict])
        facts.append(f"{v.provider}/{v.model}", style="bold")
        for extra in (row.error_class, row.latency, f"TTFT {row.ttft}" if row.ttft else ""):
            if extra:
                facts.append(f"  {extra}")
        parts.append(facts)
        parts.append(Padding(Text(v.reason, style="dim"), (0, 0, 0, indent)))
    return Group(*parts)
