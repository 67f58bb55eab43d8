"""`--format github`: workflow-command annotations on the pins' own lines of
providers.yaml, the text report for the log, and a Markdown table appended to
`$GITHUB_STEP_SUMMARY` when it is set.

GitHub shows at most 10 annotations of a kind per step, so at most 10 are written, most
severe first; when more pins need attention the tenth says how many more.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from modelaudit.gate.decide import Severity
from modelaudit.gate.formats import text
from modelaudit.gate.formats.base import (
    LABELS,
    CheckFormatter,
    mode,
    tally,
    verdict_line,
    worst_first,
)
from modelaudit.gate.rules import rule

if TYPE_CHECKING:
    from collections.abc import Callable

    from modelaudit.gate.decide import PinOutcome
    from modelaudit.gate.run import GateReport

MAX_ANNOTATIONS = 10
SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
_COMMAND = {
    Severity.FAIL: "error",
    Severity.ERROR: "warning",
    Severity.SKIPPED: "warning",
    Severity.WARN: "warning",
}
_ICON = {
    Severity.FAIL: "❌",
    Severity.ERROR: "❓",
    Severity.SKIPPED: "⏭️",
    Severity.WARN: "⚠️",
    Severity.PASS: "✅",
}


class GithubFormatter(CheckFormatter):
    def render(self, report: GateReport) -> str:
        return "\n".join([*annotation_lines(report), *text.lines(report)]) + "\n"

    def write_safe(self, value: GateReport) -> None:
        self.text(self.render(value))
        summary = os.environ.get(SUMMARY_ENV)
        if summary:
            append_step_summary(summary, value, self.options.warn)


FORMAT = GithubFormatter


def append_step_summary(path: str, report: GateReport, warn: Callable[[str], None]) -> None:
    """The summary is a courtesy: a path it cannot be written to costs a warning, never
    the verdict or the exit code the build relies on."""
    from pathlib import Path

    from modelaudit.fileio import FileError, append_text

    try:
        append_text(Path(path), step_summary(report))
    except FileError as exc:
        warn(f"${SUMMARY_ENV}: cannot append the step summary: {exc.message}")


def escape_data(value: str) -> str:
    """The message of a workflow command."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A `key=value` property of a workflow command (file, line, title)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation_lines(report: GateReport) -> list[str]:
    flagged = [o for o in worst_first(report.result.outcomes) if o.severity in _COMMAND]
    if len(flagged) > MAX_ANNOTATIONS:
        more = len(flagged) - (MAX_ANNOTATIONS - 1)
        shown = [annotation(report, o) for o in flagged[: MAX_ANNOTATIONS - 1]]
        notice = f"{more} more pinned models need attention: see the job log or step summary"
        return [*shown, f"::notice title={escape_property('modelaudit check')}::{notice}"]
    return [annotation(report, o) for o in flagged]


def annotation(report: GateReport, outcome: PinOutcome) -> str:
    worst = outcome.worst
    assert worst is not None, "only pins with findings are annotated"
    properties = ",".join(
        (
            f"file={escape_property(report.config_label)}",
            f"line={outcome.pin.line}",
            f"title={escape_property(f'{rule(worst.status).title}: {outcome.pin.ref}')}",
        )
    )
    message = "\n".join(
        [f"{worst.message}"]
        + [f"also {f.status.value}: {f.message}" for f in outcome.findings if f is not worst]
    )
    return f"::{_COMMAND[outcome.severity]} {properties}::{escape_data(message)}"


_CODE_SPAN = re.compile(r"`([^`\r\n]+)`")
"""A pair of backticks on one line: a reason's `ACME_API_KEY` or `retires:`."""


def markdown_cell(value: str) -> str:
    """Text for a cell of the summary's table: paired backticks stay code spans (shown as
    code, as the reasons mean them), everything else is text that cannot format itself
    or inject HTML."""
    parts, done = [], 0
    for span in _CODE_SPAN.finditer(value):
        parts.append(_plain_cell(value[done : span.start()]))
        # Inside a code span nothing is markup; only a table's `|` must still be escaped.
        parts.append("`" + span.group(1).replace("|", "\\|") + "`")
        done = span.end()
    parts.append(_plain_cell(value[done:]))
    return "".join(parts)


def _plain_cell(value: str) -> str:
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = escaped.replace("|", "\\|").replace("`", "\\`")
    return escaped.replace("\r\n", "<br>").replace("\n", "<br>").replace("\r", "<br>")


def when(days_left: int) -> str:
    if days_left == 0:
        return "today"
    unit = "day" if abs(days_left) == 1 else "days"
    return f"in {days_left} {unit}" if days_left > 0 else f"{-days_left} {unit} ago"


def step_summary(report: GateReport) -> str:
    result = report.result
    rows = [
        f"### modelaudit check: {markdown_cell(verdict_line(report))}",
        "",
        f"{markdown_cell(tally(report))}; {len(result.outcomes)} pinned models in "
        f"{markdown_cell(report.config_label)} as of {result.today.isoformat()} "
        f"({markdown_cell(mode(report))}).",
        "",
        "| Result | Pinned model | Status | Retires | Where | Detail |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for outcome in worst_first(result.outcomes):
        retires = ""
        if outcome.retires is not None:
            retires = f"{outcome.retires.isoformat()} ({when(outcome.days_left or 0)})"
        detail = "<br>".join(
            markdown_cell(f"{f.status.value}: {f.message}") for f in outcome.findings
        ) or markdown_cell(outcome.message)
        rows.append(
            f"| {_ICON[outcome.severity]} {LABELS[outcome.severity]} "
            f"| {markdown_cell(outcome.pin.ref)} "
            f"| {outcome.status.value} "
            f"| {retires} "
            f"| {markdown_cell(report.config_label)}:{outcome.pin.line} "
            f"| {detail} |"
        )
    notes = [f"- {markdown_cell(note)}" for note in result.notes]
    return "\n".join([*rows, "", *notes, ""]) + "\n"
