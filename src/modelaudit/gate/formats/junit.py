"""`--format junit`: one testcase per pin, for CI test reporters.

A failing pin (gone, retired, retiring, drifted, a `--fail-on` verdict) is a `<failure>`,
one that could not be checked an `<error>`, a skipped one `<skipped>`. The document is
valid against both the Apache Ant JUnit schema and Jenkins' junit-10 schema: a single
`<testsuite>` root, at most one outcome element per testcase, warnings in the suite's
`<system-out>`.

A pin that passes with a warning (down without `--fail-on down`, retiring with
`--retiring warn`...) is a passing testcase, and the Ant schema lets a testcase hold
nothing else: its warning is carried by a suite property `warning` (one per such pin,
naming the pin and its line), which both schemas allow.
"""

from __future__ import annotations

import re
import socket
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from modelaudit.gate.decide import Severity
from modelaudit.gate.formats import text
from modelaudit.gate.formats.base import CheckFormatter
from modelaudit.gate.rules import rule

if TYPE_CHECKING:
    from modelaudit.gate.decide import PinOutcome
    from modelaudit.gate.run import GateReport

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_ELEMENT = {Severity.FAIL: "failure", Severity.ERROR: "error", Severity.SKIPPED: "skipped"}


class JunitFormatter(CheckFormatter):
    def render(self, report: GateReport) -> str:
        root = suite(report)
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


FORMAT = JunitFormatter


def clean(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def suite(report: GateReport) -> ET.Element:
    result, run = report.result, report.run
    seconds = (run.finished_at - run.started_at).total_seconds()
    root = ET.Element(
        "testsuite",
        {
            "name": "modelaudit check",
            "tests": str(len(result.outcomes)),
            "failures": str(result.count(Severity.FAIL)),
            "errors": str(result.count(Severity.ERROR)),
            "skipped": str(result.count(Severity.SKIPPED)),
            "time": f"{max(seconds, 0.0):.3f}",
            "timestamp": run.started_at.strftime("%Y-%m-%dT%H:%M:%S"),
            "hostname": clean(socket.gethostname() or "localhost"),
        },
    )
    properties = ET.SubElement(root, "properties")
    policy = result.policy
    for name, value in (
        ("config", report.config_label),
        ("lock", report.lock_label if report.lock_present else "(none)"),
        ("today", result.today.isoformat()),
        ("warn_days", str(policy.warn_days)),
        ("retiring", policy.retiring.value),
        ("fail_on", ",".join(sorted(v.value for v in policy.fail_on))),
        ("live", str(policy.live).lower()),
        ("exit_code", str(int(result.exit_code))),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": clean(value)})
    for outcome in result.outcomes:
        if outcome.severity is Severity.WARN and outcome.worst is not None:
            warning = f"{outcome.pin.ref} ({report.config_label}:{outcome.pin.line}): "
            warning += f"{rule(outcome.worst.status).title}: {outcome.worst.message}"
            ET.SubElement(properties, "property", {"name": "warning", "value": clean(warning)})
    for outcome in result.outcomes:
        root.append(testcase(report, outcome))
    ET.SubElement(root, "system-out").text = clean("\n".join(text.lines(report)))
    ET.SubElement(root, "system-err").text = ""
    return root


def testcase(report: GateReport, outcome: PinOutcome) -> ET.Element:
    pin = outcome.pin
    case = ET.Element(
        "testcase",
        {
            "classname": clean(pin.provider),
            "name": clean(pin.model),
            "time": f"{outcome.observation.elapsed_s:.3f}",
        },
    )
    element = _ELEMENT.get(outcome.severity)
    worst = outcome.worst
    if element is None or worst is None:
        return case
    where = f"{report.config_label}:{pin.line}"
    body = "\n".join(f"{f.status.value}: {f.message}" for f in outcome.findings)
    attributes = {"message": clean(f"{rule(worst.status).title}: {worst.message}")}
    if element != "skipped":
        attributes["type"] = worst.status.value
    node = ET.SubElement(case, element, attributes)
    node.text = clean(f"{pin.ref} ({where})\n{body}")
    return case
