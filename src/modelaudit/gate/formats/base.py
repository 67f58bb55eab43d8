"""The interface of a `check` output format, and the words the formats share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.exitcodes import ExitCode
from modelaudit.gate.decide import Severity
from modelaudit.output.base import Formatter

if TYPE_CHECKING:
    from modelaudit.gate.decide import PinOutcome
    from modelaudit.gate.run import GateReport

EXIT_MEANING = {
    ExitCode.OK: "no pinned model needs attention",
    ExitCode.POLICY: "a pinned model is gone, retired, retiring, drifted or failing",
    ExitCode.INCONCLUSIVE: "could not tell: no definitive answer for some pinned model",
    ExitCode.INTERRUPTED: "interrupted before every pinned model was checked",
}

LABELS = {
    Severity.PASS: "ok",
    Severity.WARN: "warn",
    Severity.SKIPPED: "skipped",
    Severity.ERROR: "unknown",
    Severity.FAIL: "FAIL",
}
"""One word per severity, for a person reading a log."""

WORST_FIRST = (Severity.FAIL, Severity.ERROR, Severity.SKIPPED, Severity.WARN, Severity.PASS)


class CheckFormatter(Formatter["GateReport"]):
    """Writes a finished check (and any side output of its format)."""

    def render(self, report: GateReport) -> str:
        """The check as text. `report` has been through `outgoing` (see `write`)."""
        raise NotImplementedError

    def write_safe(self, value: GateReport) -> None:
        self.text(self.render(value))


def worst_first(outcomes: tuple[PinOutcome, ...]) -> list[PinOutcome]:
    """Most severe first; the registry's order within a severity."""
    return sorted(outcomes, key=lambda o: WORST_FIRST.index(o.severity))


def tally(report: GateReport) -> str:
    result = report.result
    words = {
        Severity.FAIL: "failing",
        Severity.ERROR: "could not tell",
        Severity.SKIPPED: "skipped",
        Severity.WARN: "with warnings",
        Severity.PASS: "ok",
    }
    parts = [f"{result.count(s)} {words[s]}" for s in WORST_FIRST if result.count(s)]
    return ", ".join(parts) or "no pinned models"


def verdict_line(report: GateReport) -> str:
    code = report.result.exit_code
    return f"exit {int(code)}: {EXIT_MEANING.get(code, code.name.lower())}"


def mode(report: GateReport) -> str:
    return (
        "live: catalog and one completion per pin"
        if report.result.policy.live
        else "catalog only: no tokens spent"
    )
