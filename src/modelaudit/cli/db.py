"""`modelaudit db`: check, prune and export the history database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelaudit.cli import console
from modelaudit.cli.options import DbOption
from modelaudit.store.export import ExportFormat

if TYPE_CHECKING:
    from rich.progress import Progress

app = typer.Typer(
    help="Check, prune, export and copy the history database.",
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

    from modelaudit.cli.options import duration
    from modelaudit.clock import iso
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

    from modelaudit.cli.options import duration
    from modelaudit.fileio import writing
    from modelaudit.store.backends import locate
    from modelaudit.store.export import jsonl_line, orphaned

    assert output_format is ExportFormat.JSONL
    start = datetime.now(UTC) - duration(since) if since else None
    lines = 0
    orphans = 0
    with locate(db).open(create=False) as store, contextlib.ExitStack() as stack:
        sink = sys.stdout if output is None else stack.enter_context(writing(output))
        for attempt in store.export_attempts(start):
            sink.write(jsonl_line(attempt) + "\n")
            lines += 1
            orphans += orphaned(attempt)
        sink.flush()
    console.info(f"exported {lines} attempts")
    if orphans:
        console.warn(
            f"{orphans} of them belong to a run or a model the database lost (those fields "
            "are null): `modelaudit db check` says what is damaged"
        )
    return 0


@app.command("copy")
def copy(
    source: Annotated[
        str,
        typer.Option(
            "--from", help="The store to copy: a path, sqlite:///PATH or postgresql://..."
        ),
    ],
    target: Annotated[
        str,
        typer.Option("--to", help="The store to copy into (created if need be)."),
    ],
) -> int:
    """Copy a whole history into another store (SQLite to PostgreSQL, or back): resumable
    and idempotent, a run at a time; runs already there are skipped."""
    import sys

    from modelaudit.store.backends import locate

    origin, destination = locate(source), locate(target)
    if str(origin) == str(destination):
        from modelaudit.errors import UsageError

        raise UsageError(f"--from and --to name the same store ({origin})")
    with origin.open(create=False) as reader, destination.open(create=True) as writer:
        there = writer.run_identities()
        todo = len(reader.run_identities() - there)
        copied = skipped = 0
        progress = _progress(todo) if sys.stderr.isatty() else None
        try:
            for run in reader.copy_out(there):
                if writer.copy_in(run):
                    copied += 1
                else:
                    skipped += 1
                if progress is not None:
                    progress.advance(progress.task_ids[0])
        finally:
            if progress is not None:
                progress.stop()
        counts = reader.check().counts
    console.info(
        f"copied {copied} runs from {origin} to {destination}"
        + (f" ({len(there) + skipped} already there)" if there or skipped else "")
    )
    if counts.get("rollups"):
        console.warn(
            f"{counts['rollups']} hourly rows that `db prune` rolled up are not runs and "
            "were not copied"
        )
    return 0


def _progress(total: int) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    progress = Progress(
        "copying runs",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console.err(),
        transient=True,
    )
    progress.add_task("copy", total=total)
    progress.start()
    return progress
