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
    import sqlite3

    from modelaudit.errors import StoreError
    from modelaudit.store.check import check as check_store
    from modelaudit.store.db import resolve_path
    from modelaudit.store.sqlite import SqliteStore

    try:
        store = SqliteStore.open(db, create=False)
    except StoreError as exc:  # too damaged to open
        cause = exc.__cause__ if isinstance(exc.__cause__, sqlite3.Error) else exc.message
        raise StoreError(f"{resolve_path(db)} failed its check: {cause}") from None
    with store:
        path = store.path
        try:
            swept = [*store.swept, *store.sweep_stale_runs()]
            report = check_store(store)
        except sqlite3.DatabaseError as exc:  # too damaged to finish checking
            raise StoreError(f"{path} failed its check: {exc}") from None
    if not report.ok:
        for problem in report.problems:
            console.plain(problem)
        raise StoreError(f"{path} failed its check ({len(report.problems)} problem(s))")
    counts = report.counts
    console.info(
        f"ok: {path}: schema version {report.schema_version}, integrity ok; "
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
    from modelaudit.store.db import reported
    from modelaudit.store.prune import prune as prune_store
    from modelaudit.store.sqlite import SqliteStore

    window = duration(older_than)
    with SqliteStore.open(db, create=False) as store, reported(store.path):
        result = prune_store(store.conn, window, datetime.now(UTC))
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
        typer.Option(
            "--output", "-o", help="Write here (atomically) instead of stdout.", dir_okay=False
        ),
    ] = None,
    db: DbOption = None,
) -> int:
    """Export raw attempts as versioned JSON lines, for ClickHouse, BigQuery or PostgreSQL."""
    import contextlib
    import sys
    from datetime import UTC, datetime

    from modelaudit.cli.watch import duration
    from modelaudit.fileio import writing
    from modelaudit.store.db import ms, reported
    from modelaudit.store.export import attempt_lines, orphaned_attempts
    from modelaudit.store.sqlite import SqliteStore

    assert output_format is ExportFormat.JSONL
    since_ms = ms(datetime.now(UTC) - duration(since)) if since else None
    lines = 0
    with (
        SqliteStore.open(db, create=False) as store,
        reported(store.path),
        contextlib.ExitStack() as stack,
    ):
        sink = sys.stdout if output is None else stack.enter_context(writing(output))
        for line in attempt_lines(store.conn, since_ms):
            sink.write(line + "\n")
            lines += 1
        sink.flush()
        orphans = orphaned_attempts(store.conn, since_ms)
    console.info(f"exported {lines} attempts")
    if orphans:
        console.warn(
            f"{orphans} of them belong to a run or a model the database lost (those fields "
            f"are null): `modelaudit db check --db {store.path}` says what is damaged"
        )
    return 0
