"""`modelaudit check`: the CI gate over the pinned models."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelaudit.cli import console
from modelaudit.cli.options import ConfigOption, LockOption
from modelaudit.gate.formats import CheckFormat

if TYPE_CHECKING:
    from modelaudit.probe.runner import Observer
    from modelaudit.vocabulary import Verdict


class RetiringChoice(StrEnum):
    FAIL = "fail"
    WARN = "warn"


def check(
    config: ConfigOption = None,
    lock: LockOption = None,
    output_format: Annotated[
        CheckFormat,
        typer.Option("--format", "-f", help="text, json, junit, github or sarif."),
    ] = CheckFormat.TEXT,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the report to this file (atomically) instead of stdout.",
            dir_okay=False,
        ),
    ] = None,
    warn_days: Annotated[
        int,
        typer.Option("--warn-days", min=0, help="Flag pins that retire within this many days."),
    ] = 30,
    retiring: Annotated[
        RetiringChoice,
        typer.Option(
            "--retiring", help="Whether a pin retiring within --warn-days fails or warns."
        ),
    ] = RetiringChoice.FAIL,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Also fail on these probe verdicts: down, degraded, blocked (comma-separated).",
        ),
    ] = None,
    live: Annotated[
        bool,
        typer.Option(
            "--live", help="Add one cheap completion per pin (checks served-model drift)."
        ),
    ] = False,
    allow_skipped: Annotated[
        bool,
        typer.Option("--allow-skipped", help="Pins that could not be sent (no key) do not exit 3."),
    ] = False,
    today: Annotated[
        str | None,
        typer.Option(
            "--today", help="Judge retirement dates as of YYYY-MM-DD (default: today, UTC)."
        ),
    ] = None,
) -> int:
    """Fail the build when a pinned model is gone, retired, retiring or drifted.

    Exit 0 all clear, 1 a pin needs action, 2 bad usage or config, 3 could not tell.
    """
    from modelaudit import registry
    from modelaudit.gate import lockfile
    from modelaudit.gate import run as gate
    from modelaudit.gate.decide import Policy, Severity
    from modelaudit.gate.formats import formatter

    policy = Policy(
        warn_days=warn_days,
        retiring=Severity.FAIL if retiring is RetiringChoice.FAIL else Severity.WARN,
        fail_on=frozenset(_fail_on(fail_on)),
        allow_skipped=allow_skipped,
        live=live,
    )
    as_of = _today(today)
    loaded = registry.load(registry.discover(config))
    lock_path = lock or lockfile.default_path(loaded.path)
    report = gate.check(loaded, lock_path, policy, as_of, progress())
    if output is None:
        formatter(output_format, sys.stdout, console.options()).write(report)
    else:
        from modelaudit.fileio import writing

        with writing(output) as handle:
            formatter(output_format, handle, console.options()).write(report)
    if output is not None or output_format not in (CheckFormat.TEXT, CheckFormat.GITHUB):
        from modelaudit.gate.formats.base import tally, verdict_line

        console.info(f"modelaudit check: {tally(report)}; {verdict_line(report)}")
    return report.result.exit_code


def _fail_on(value: str | None) -> tuple[Verdict, ...]:
    from modelaudit.cli.probe import parse_verdicts
    from modelaudit.gate.decide import FAIL_ON_CHOICES
    from modelaudit.vocabulary import Verdict

    chosen = []
    for verdict in parse_verdicts(value):
        if verdict is Verdict.GONE:
            continue  # always fails
        if verdict not in FAIL_ON_CHOICES:
            valid = ", ".join(v.value for v in FAIL_ON_CHOICES)
            raise typer.BadParameter(
                f"`{verdict.value}` cannot fail the gate (one of: {valid}; gone always fails)",
                param_hint="--fail-on",
            )
        chosen.append(verdict)
    return tuple(chosen)


def _today(value: str | None) -> date:
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"`{value}` is not a date (write YYYY-MM-DD)", param_hint="--today"
        ) from None


def progress() -> Observer | None:
    """The live progress display, when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None
    from modelaudit.cli.progress import LiveProgress

    return LiveProgress()
