"""`--format table`: one row per model, for a person at a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.probe.formats.base import ProbeFormatter
from modelaudit.vocabulary import ProbeKind, Verdict

if TYPE_CHECKING:
    from rich.table import Table

    from modelaudit.probe.result import ProbeResult, RunReport

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
    def emit(self, report: RunReport) -> None:
        from modelaudit.cli.console import out

        out().print(build_table(report))


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.0f} ms"


def build_table(report: RunReport) -> Table:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from modelaudit.redact import redact

    by_model: dict[tuple[str, str], list[ProbeResult]] = {}
    for result in report.results:
        by_model.setdefault((result.provider, result.model), []).append(result)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for column in ("provider", "model", "verdict", "error class", "latency", "TTFT", "reason"):
        table.add_column(column, overflow="fold", no_wrap=column != "reason")
    for verdict in report.verdicts:
        results = by_model.get((verdict.provider, verdict.model), [])
        completion = next((r for r in results if r.kind is ProbeKind.COMPLETION), None)
        stream = next((r for r in results if r.kind is ProbeKind.STREAM), None)
        table.add_row(
            verdict.provider,
            verdict.model,
            Text(verdict.verdict.value, style=VERDICT_STYLE[verdict.verdict]),
            verdict.error_class.value if verdict.error_class else "",
            _ms(completion.final.latency_ms if completion else None),
            _ms(stream.final.ttft_ms if stream else None),
            Text(redact(verdict.reason)),
        )
    return table
