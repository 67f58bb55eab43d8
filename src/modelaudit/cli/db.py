"""`modelaudit db`: check, prune and export the history database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelaudit.cli import console
from modelaudit.cli.options import DbOption
from modelaudit.store.export import ExportFormat

app = typer.Typer(
    help="Check, prune and export the history database.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.command("check")
def check(db: DbOption = None) -> int:
    """Check the database's integrity and schema version; close runs whose process died."""
    from modelaudit.errors import StoreError
    from modelaudit.store.backends import locate

    location = locate(db)
    try:
        with location.open(create=False) as store:
            swept = [*store.swept, *store.sweep_stale_runs()]
            report = store.check()
    except StoreError as exc:  # too damaged to open, or to finish checking
        raise StoreError(f"{location} failed its check: {exc.reason}") from None
    if not report.ok:
        for problem in report.problems:
            console.plain(problem)
        raise StoreError(f"{location} failed its check ({len(report.problems)} problem(s))")
    counts = report.counts
    console.info(
        f"ok: {location}: schema version {report.schema_version}, integrity ok; "
        f"{counts['runs']} runs, {counts['attempts']} attempts, {counts['models']} models, "
        f"{counts['rollups']} hourly rollups; {report.size_bytes / 1_048_576:.1f} MiB"
    )
    if swept:
        console.info(f"marked {len(swept)} run(s) whose process had died as interrupted")
    return 0


@app.command("prune")
def prune(
    older_than: Annotated[
        str,
        typer.Option("--older-than", help="Roll up raw attempts older than this, e.g. 90d."),
    ],
    db: DbOption = None,
) -> int:
    """Roll raw attempts older than a window up into hourly aggregates (percentiles stay)."""
    from datetime import UTC, datetime

    from modelaudit.cli.watch import duration
    from modelaudit.probe.document import iso
    from modelaudit.store.backends import locate

    window = duration(older_than)
    with locate(db).open(create=False) as store:
        result = store.prune(window, datetime.now(UTC))
    console.info(
        f"rolled {result.attempts} attempts from before {iso(result.cutoff)} up into "
        f"{result.hours} hourly rows"
    )
    return 0


@app.command("export")
def export(
    output_format: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="jsonl: one attempt per line.")
    ] = ExportFormat.JSONL,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only attempts from the last ..., e.g. 30d. Default: all."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here instead of stdout.", dir_okay=False),
    ] = None,
    db: DbOption = None,
) -> int:
    """Export raw attempts as versioned JSON lines, for ClickHouse, BigQuery or PostgreSQL."""
    import contextlib
    import sys
    from datetime import UTC, datetime

    from modelaudit.cli.watch import duration
    from modelaudit.redact import redact
    from modelaudit.store.backends import locate
    from modelaudit.store.export import jsonl_line

    assert output_format is ExportFormat.JSONL
    start = datetime.now(UTC) - duration(since) if since else None
    lines = 0
    with locate(db).open(create=False) as store, contextlib.ExitStack() as stack:
        sink = sys.stdout if output is None else stack.enter_context(output.open("w"))
        for attempt in store.export_attempts(start):
            sink.write(redact(jsonl_line(attempt)) + "\n")
            lines += 1
        sink.flush()
    console.info(f"exported {lines} attempts")
    return 0
