"""The interface of a `check` output format, and the words the formats share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.exitcodes import ExitCode
from modelaudit.gate.decide import Severity

if TYPE_CHECKING:
    from collections.abc import Callable

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


class CheckFormatter:
    """Renders a finished check as text; `emit` writes it (and any side output)."""

    def render(self, report: GateReport) -> str:
        """The check as text. `report` has been through `outgoing` (see `emit`)."""
        raise NotImplementedError

    def emit(self, report: GateReport, write: Callable[[str], None]) -> None:
        """Write the check, every string of it redacted and printable first."""
        from modelaudit.outgoing import outgoing

        self.emit_safe(outgoing(report), write)

    def emit_safe(self, report: GateReport, write: Callable[[str], None]) -> None:
        write(self.render(report))


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
