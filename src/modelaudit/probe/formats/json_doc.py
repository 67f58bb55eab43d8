"""`--format json`: the whole run (or a dry run's plan) as one versioned JSON document."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.outgoing import json_text
from modelaudit.probe.document import plan_json, report_json
from modelaudit.probe.formats.base import ProbeFormatter

if TYPE_CHECKING:
    from modelaudit.probe.plan import Plan
    from modelaudit.probe.result import RunReport


class JsonFormatter(ProbeFormatter):
    def write_safe(self, value: RunReport) -> None:
        self.text(json_text(report_json(value), indent=2))

    def write_plan_safe(self, plan: Plan) -> None:
        self.text(json_text(plan_json(plan), indent=2))


FORMAT = JsonFormatter
