"""`--format json`: the check as one versioned JSON document (a public contract).

`schema_version` changes only when a field is removed or changes meaning; fields are
added without bumping it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from typing_extensions import TypedDict

from modelaudit.gate.formats.base import EXIT_MEANING, CheckFormatter
from modelaudit.outgoing import json_text
from modelaudit.output.documents import Tool, closed, tool
from modelaudit.probe.document import RunJson

if TYPE_CHECKING:
    from modelaudit.gate.decide import PinOutcome
    from modelaudit.gate.run import GateReport

SCHEMA_VERSION: Literal[1] = 1


@closed
class LockJson(TypedDict):
    path: str
    present: bool


@closed
class PolicyJson(TypedDict):
    warn_days: int
    retiring: str
    fail_on: list[str]
    allow_skipped: bool
    live: bool


@closed
class FindingJson(TypedDict):
    status: str
    severity: str
    message: str


@closed
class PinJson(TypedDict):
    provider: str
    model: str
    line: int
    severity: str
    status: str
    message: str
    findings: list[FindingJson]
    verdict: str
    verdict_reason: str
    error_class: str | None
    listed: bool | None
    retires: str | None
    retires_source: str | None
    days_left: int | None
    served_model: str | None
    locked_served_model: str | None
    fallbacks: list[str]


@closed
class CheckDocument(TypedDict):
    """`check --format json`."""

    schema_version: Literal[1]
    tool: Tool
    exit_code: int
    exit_meaning: str
    today: str
    config: str
    lock: LockJson
    policy: PolicyJson
    summary: dict[str, int]
    pins: list[PinJson]
    notes: list[str]
    run: RunJson


class JsonFormatter(CheckFormatter):
    def render(self, report: GateReport) -> str:
        return json_text(document(report), indent=2, ensure_ascii=False)


FORMAT = JsonFormatter


def document(report: GateReport) -> CheckDocument:
    from modelaudit.gate.decide import Severity
    from modelaudit.probe.document import run_json

    result = report.result
    policy = result.policy
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": tool(),
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


def pin_json(outcome: PinOutcome) -> PinJson:
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
