"""`modelaudit report`: business-continuity risk per model over a window of stored history,
as a terminal table, JSON, Markdown or a self-contained HTML page."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelaudit.cli import console
from modelaudit.cli.options import ConfigOption, DbOption, RegionFilterOption, SinceOption
from modelaudit.report.formats import ReportFormat
from modelaudit.report.formats.base import SUFFIXES

if TYPE_CHECKING:
    from modelaudit.report.model import Report


def report(
    config: ConfigOption = None,
    db: DbOption = None,
    since: SinceOption = "7d",
    output_format: Annotated[
        ReportFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="table, json, markdown or html. Default: from the -o suffix (.json, .md, "
            ".html), else table on a terminal and json when piped.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to this file (atomically) instead of stdout.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    region: RegionFilterOption = None,
) -> int:
    """Which models you could lose, how badly it would hurt, and where you would go instead."""
    from datetime import UTC, datetime

    from modelaudit import fleet, registry
    from modelaudit.cli.memory import collector_paused
    from modelaudit.report.formats import formatter_class
    from modelaudit.report.model import build_report
    from modelaudit.report.source import open_history
    from modelaudit.report.window import parse_since

    span = parse_since(since)
    chosen = choose_format(output_format, output)
    formatter = formatter_class(chosen)
    # One pause from the registry to the last byte written: everything made on the way lives
    # to the end. Resumed in between, the collector's first pass walked the whole built
    # report (a month of 10,000 models: a quarter of a second) and freed nothing.
    with collector_paused():
        loaded = registry.load(registry.discover(config))
        regions = fleet.regions_filter(region)
        configured = fleet.store_address(loaded.registry.defaults.store, loaded.path.parent)
        with open_history(db, configured) as reader:
            built = build_report(
                loaded.registry,
                reader,
                now=datetime.now(UTC),
                span=span,
                registry_sha256=loaded.sha256,
                timelines=formatter.draws_timelines,
                regions=regions,
            )
        options = console.laid_out(color=_wants_color(chosen, output))
        if output is not None:
            from modelaudit.fileio import writing

            with writing(output, make_parents=True) as handle:
                formatter(handle, options).write(built)
            console.info(f"wrote the {chosen.value} report to {output}")
        else:
            formatter(sys.stdout, options).write(built)
    _summarize(built)
    return 0


def choose_format(chosen: ReportFormat | None, output: Path | None) -> ReportFormat:
    if chosen is not None:
        return chosen
    if output is not None:
        suffix = output.suffix.lower()
        return SUFFIXES.get(".html" if suffix == ".htm" else suffix, ReportFormat.TABLE)
    return ReportFormat.TABLE if sys.stdout.isatty() else ReportFormat.JSON


def _wants_color(chosen: ReportFormat, output: Path | None) -> bool:
    return (
        chosen is ReportFormat.TABLE
        and output is None
        and sys.stdout.isatty()
        and "NO_COLOR" not in os.environ
    )


def _summarize(built: Report) -> None:
    if not built.has_history:
        console.warn(
            f"no probe history in the last {built.label}: run `modelaudit probe` "
            "(on a schedule, see docs/report.md) and report again"
        )
        return
    for line in built.withdrawals:
        console.warn(f"{line.ref}: {line.text}")
    urgent = [r.ref for r in built.recommendations]
    if urgent:
        console.info(f"{len(urgent)} broken now or retiring: {', '.join(urgent)}")
