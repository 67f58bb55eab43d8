"""`history --format table`: one row per run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.clock import iso
from modelaudit.output.base import Formatter
from modelaudit.output.history import History, RecentRuns

if TYPE_CHECKING:
    from rich.table import Table

    from modelaudit.store.base import ModelRun, ProbeOutcome, RunSummary


class HistoryTable(Formatter[History]):
    def write_safe(self, value: History) -> None:
        if isinstance(value, RecentRuns):
            self.console().print(_runs_table(value.runs))
        else:
            self.console().print(_model_table(value.runs))


FORMAT = HistoryTable


def _table(*columns: str) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column not in ("reason", "verdicts"))
    return table


def _runs_table(recent: tuple[RunSummary, ...]) -> Table:
    table = _table(
        "run", "started", "region", "took", "status", "verdicts", "attempts", "version", "registry"
    )
    for run in recent:
        took = (
            f"{(run.finished_at - run.started_at).total_seconds():.1f} s" if run.finished_at else ""
        )
        verdicts = ", ".join(f"{n} {v.value}" for v, n in sorted(run.verdicts.items()))
        table.add_row(
            str(run.id),
            iso(run.started_at),
            run.region,
            took,
            run.status.value,
            verdicts,
            str(run.attempts),
            run.tool_version,
            (run.registry_sha256 or "")[:12],
        )
    return table


def _model_table(timeline: tuple[ModelRun, ...]) -> Table:
    from rich.text import Text

    from modelaudit.probe.formats.table import VERDICT_STYLE

    table = _table("run", "started", "region", "verdict", "probes", "reason")
    for run in timeline:
        verdict = (
            Text(run.verdict.value, style=VERDICT_STYLE[run.verdict])
            if run.verdict
            else Text(f"({run.run_status.value})", style="dim")
        )
        table.add_row(
            str(run.run_id),
            iso(run.started_at),
            run.region,
            verdict,
            "; ".join(_probe_words(p) for p in run.probes),
            Text(run.reason or ""),
        )
    return table


def _probe_words(probe: ProbeOutcome) -> str:
    words = f"{probe.kind.value} {probe.error_class.value}"
    if probe.http_status is not None and probe.error_class.value != "ok":
        words += f" ({probe.http_status})"
    if probe.ttft_ms is not None:
        words += f" TTFT {probe.ttft_ms:.0f} ms"
    elif probe.latency_ms is not None:
        words += f" {probe.latency_ms:.0f} ms"
    if probe.attempts > 1:
        words += f" after {probe.attempts} attempts"
    return words
