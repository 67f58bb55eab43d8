"""`--format text` (the default): one line per pin, most severe first, for a CI log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.gate.formats.base import (
    LABELS,
    CheckFormatter,
    mode,
    tally,
    verdict_line,
    worst_first,
)

if TYPE_CHECKING:
    from modelaudit.gate.decide import PinOutcome
    from modelaudit.gate.run import GateReport


class TextFormatter(CheckFormatter):
    def render(self, report: GateReport) -> str:
        return "\n".join(lines(report)) + "\n"


FORMAT = TextFormatter


def lines(report: GateReport) -> list[str]:
    result = report.result
    out = [
        f"modelaudit check: {len(result.outcomes)} pinned model"
        f"{'' if len(result.outcomes) == 1 else 's'} in {report.config_label}, "
        f"as of {result.today.isoformat()} ({mode(report)})"
    ]
    ref_width = max((len(o.pin.ref) for o in result.outcomes), default=0)
    where_width = max((len(_where(report, o)) for o in result.outcomes), default=0)
    indent = " " * (2 + 8 + 1 + ref_width + 2 + where_width + 2)
    for outcome in worst_first(result.outcomes):
        worst = outcome.worst
        message = f"{worst.status.value}: {worst.message}" if worst else outcome.message
        label = LABELS[outcome.severity]
        ref = outcome.pin.ref
        where = _where(report, outcome)
        out.append(f"  {label:<8} {ref:<{ref_width}}  {where:<{where_width}}  {message}")
        out.extend(
            f"{indent}also {f.status.value}: {f.message}"
            for f in outcome.findings
            if f is not worst
        )
    control = report.run.control
    if control is not None and not control.reachable:
        out.append(
            f"note: this machine could not reach the network ({control.detail}); "
            "connection failures are reported as could not tell, never as gone"
        )
    out.extend(f"note: {note}" for note in (*result.notes, *report.run.notes))
    out.append(f"result: {tally(report)}; {verdict_line(report)}")
    return out


def _where(report: GateReport, outcome: PinOutcome) -> str:
    return f"{report.config_label}:{outcome.pin.line}"
