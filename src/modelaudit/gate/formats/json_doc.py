"""`--format json`: the check as one versioned JSON document (a public contract).

`schema_version` changes only when a field is removed or changes meaning; fields are
added without bumping it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelaudit import __version__
from modelaudit.gate.formats.base import EXIT_MEANING, CheckFormatter
from modelaudit.outgoing import json_text

if TYPE_CHECKING:
    from modelaudit.gate.decide import PinOutcome
    from modelaudit.gate.run import GateReport

SCHEMA_VERSION = 1


class JsonFormatter(CheckFormatter):
    def render(self, report: GateReport) -> str:
        return json_text(document(report), indent=2, ensure_ascii=False)


FORMAT = JsonFormatter


def document(report: GateReport) -> dict[str, Any]:
    from modelaudit.gate.decide import Severity
    from modelaudit.probe.document import run_json

    result = report.result
    policy = result.policy
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "modelaudit", "version": __version__},
        "exit_code": int(result.exit_code),
        "exit_meaning": EXIT_MEANING.get(result.exit_code, result.exit_code.name.lower()),
        "today": result.today.isoformat(),
        "config": report.config_label,
        "lock": {"path": report.lock_label, "present": report.lock_present},
        "policy": {
            "warn_days": policy.warn_days,
            "retiring": policy.retiring.value,
            "fail_on": sorted(v.value for v in policy.fail_on),
            "allow_skipped": policy.allow_skipped,
            "live": policy.live,
        },
        "summary": {s.value: result.count(s) for s in Severity},
        "pins": [pin_json(o) for o in result.outcomes],
        "notes": list(result.notes),
        "run": run_json(report.run),
    }


def pin_json(outcome: PinOutcome) -> dict[str, Any]:
    pin, seen, locked = outcome.pin, outcome.observation, outcome.locked
    return {
        "provider": pin.provider,
        "model": pin.model,
        "line": pin.line,
        "severity": outcome.severity.value,
        "status": outcome.status.value,
        "message": outcome.message,
        "findings": [
            {"status": f.status.value, "severity": f.severity.value, "message": f.message}
            for f in outcome.findings
        ],
        "verdict": seen.verdict.value,
        "verdict_reason": seen.reason,
        "error_class": seen.error_class.value if seen.error_class else None,
        "listed": seen.listed,
        "retires": outcome.retires.isoformat() if outcome.retires else None,
        "retires_source": outcome.retires_source,
        "days_left": outcome.days_left,
        "served_model": seen.served_model,
        "locked_served_model": locked.served_model if locked else None,
        "fallbacks": list(pin.fallbacks),
    }
