"""The outcome of a probe run: its exit code (a public contract, see the README) and its
one-line summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.exitcodes import ExitCode
from modelaudit.vocabulary import RunStatus

if TYPE_CHECKING:
    from collections.abc import Collection

    from modelaudit.probe.result import RunReport
    from modelaudit.vocabulary import Verdict


def exit_code(report: RunReport, fail_on: Collection[Verdict] = ()) -> ExitCode:
    """130 interrupted; 4 when probing a provider hit a bug; 1 when a `--fail-on` verdict
    was seen; 3 inconclusive; else 0.

    A definitive finding (a model gone) outranks "this machine is offline" for the rest.
    """
    if report.status is RunStatus.INTERRUPTED:
        return ExitCode.INTERRUPTED
    if report.internal_errors:
        return ExitCode.INTERNAL
    if any(v.verdict in fail_on for v in report.verdicts):
        return ExitCode.POLICY
    if report.status is RunStatus.INCONCLUSIVE:
        return ExitCode.INCONCLUSIVE
    return ExitCode.OK


def summary_line(report: RunReport) -> str:
    """`run complete in 3.2 s: 1 down, 4 up; 9 requests sent`."""
    from collections import Counter

    counts = Counter(v.verdict.value for v in report.verdicts)
    seconds = (report.finished_at - report.started_at).total_seconds()
    tally = ", ".join(f"{n} {word}" for word, n in sorted(counts.items()))
    return (
        f"run {report.status.value} in {seconds:.1f} s: {tally or 'no models'}; "
        f"{report.requests_sent} requests sent"
    )
