"""`modelaudit history`: the recent runs, or one model's timeline (`--model`)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelaudit.cli import console
from modelaudit.cli.options import DbOption, RegionFilterOption

if TYPE_CHECKING:
    from rich.table import Table

    from modelaudit.store.base import ModelRun, ProbeOutcome, RunSummary

HISTORY_SCHEMA_VERSION = 1


class HistoryFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def history(
    db: DbOption = None,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="One model's runs: provider/model, or a model id."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many runs.")] = 20,
    output_format: Annotated[
        HistoryFormat | None,
        typer.Option("--format", "-f", help="table or json. Default: table on a terminal."),
    ] = None,
    region: RegionFilterOption = None,
) -> int:
    """Show the recent runs, or one model's verdicts and timings run by run."""
    import json

    from modelaudit.fleet import regions_filter
    from modelaudit.store.backends import locate

    regions = regions_filter(region)
    chosen = output_format or (HistoryFormat.TABLE if sys.stdout.isatty() else HistoryFormat.JSON)
    with locate(db).open(create=False) as store:
        if model is None:
            recent = store.recent_runs(limit, regions)
            document: dict[str, Any] = {"runs": [_run_json(r) for r in recent]}
            table = _runs_table(recent) if chosen is HistoryFormat.TABLE else None
        else:
            provider, model_id = store.find_model(model)
            timeline = store.model_runs((provider, model_id), limit, regions)
            document = {
                "provider": provider,
                "model": model_id,
                "runs": [_model_run_json(r) for r in timeline],
            }
            table = _model_table(timeline) if chosen is HistoryFormat.TABLE else None
    if table is not None:
        console.out().print(table)
    else:
        console.data(json.dumps({"schema_version": HISTORY_SCHEMA_VERSION, **document}, indent=2))
    return 0


def _run_json(run: RunSummary) -> dict[str, Any]:
    from modelaudit.probe.document import iso

    return {
        "id": run.id,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "status": run.status.value,
        "tool_version": run.tool_version,
        "registry_sha256": run.registry_sha256,
        "attempts": run.attempts,
        "requests_sent": run.requests_sent,
        "verdicts": {v.value: n for v, n in sorted(run.verdicts.items())},
        "notes": list(run.notes),
        "region": run.region,
        "agent": run.agent,
    }


def _model_run_json(run: ModelRun) -> dict[str, Any]:
    from modelaudit.probe.document import iso

    return {
        "run_id": run.run_id,
        "started_at": iso(run.started_at),
        "run_status": run.run_status.value,
        "verdict": run.verdict.value if run.verdict else None,
        "reason": run.reason,
        "region": run.region,
        "probes": [
            {
                "kind": p.kind.value,
                "error_class": p.error_class.value,
                "attempts": p.attempts,
                "http_status": p.http_status,
                "latency_ms": p.latency_ms,
                "ttft_ms": p.ttft_ms,
            }
            for p in run.probes
        ],
    }


def _table(*columns: str) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column not in ("reason", "verdicts"))
    return table


def _runs_table(recent: list[RunSummary]) -> Table:
    from modelaudit.probe.document import iso

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


def _model_table(timeline: list[ModelRun]) -> Table:
    from rich.text import Text

    from modelaudit.probe.document import iso
    from modelaudit.probe.formats.table import VERDICT_STYLE
    from modelaudit.redact import redact

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
            Text(redact(run.reason or "")),
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
