"""`--format sarif`: SARIF 2.1.0 for code scanning. One result per finding that needs
attention, located at the pin's line in providers.yaml, with a stable rule id per status
and a fingerprint that survives line moves and passing days (the same pin with the same
problem is the same alert)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from modelaudit import __version__
from modelaudit.exitcodes import ExitCode
from modelaudit.gate.decide import Severity
from modelaudit.gate.formats.base import EXIT_MEANING, CheckFormatter
from modelaudit.gate.rules import RULES
from modelaudit.outgoing import json_text

if TYPE_CHECKING:
    from modelaudit.gate.decide import Finding, PinOutcome, Status
    from modelaudit.gate.run import GateReport

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/modelaudit/modelaudit"
FINGERPRINT_KEY = "modelauditPin/v1"
_LEVEL = {
    Severity.FAIL: "error",
    Severity.ERROR: "warning",
    Severity.WARN: "warning",
    Severity.SKIPPED: "note",
}
_RULE_ORDER = list(RULES)


class SarifFormatter(CheckFormatter):
    def render(self, report: GateReport) -> str:
        return json_text(log(report), indent=2, ensure_ascii=False)


FORMAT = SarifFormatter


def log(report: GateReport) -> dict[str, Any]:
    code = report.result.exit_code
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "modelaudit",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(status) for status in _RULE_ORDER],
                    }
                },
                "automationDetails": {"id": "modelaudit/check/"},
                "invocations": [
                    {
                        "executionSuccessful": code in (ExitCode.OK, ExitCode.POLICY),
                        "exitCode": int(code),
                        "exitCodeDescription": EXIT_MEANING.get(code, code.name.lower()),
                    }
                ],
                "results": [
                    _result(report, outcome, finding)
                    for outcome in report.result.outcomes
                    for finding in outcome.findings
                    if finding.severity in _LEVEL
                ],
            }
        ],
    }


def fingerprint(rule_id: str, provider: str, model: str) -> str:
    return hashlib.sha256(f"{rule_id}\0{provider}\0{model}".encode()).hexdigest()


def _rule(status: Status) -> dict[str, Any]:
    rule = RULES[status]
    return {
        "id": rule.id,
        "name": "".join(word.capitalize() for word in rule.id.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.help},
        "help": {"text": rule.help},
        "properties": {"status": status.value},
    }


def _result(report: GateReport, outcome: PinOutcome, finding: Finding) -> dict[str, Any]:
    pin, rule = outcome.pin, RULES[finding.status]
    return {
        "ruleId": rule.id,
        "ruleIndex": _RULE_ORDER.index(finding.status),
        "level": _LEVEL[finding.severity],
        "message": {"text": f"{pin.ref}: {finding.message}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": report.config_label},
                    "region": {"startLine": pin.line},
                },
                "logicalLocations": [{"name": pin.ref, "kind": "member"}],
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(rule.id, pin.provider, pin.model)},
        "properties": {
            "provider": pin.provider,
            "model": pin.model,
            "status": finding.status.value,
            "severity": finding.severity.value,
        },
    }
