"""`--format json`: the whole run (or a dry run's plan) as one versioned JSON document."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.outgoing import json_chunks, json_text
from modelaudit.probe.document import plan_json, report_json
from modelaudit.probe.formats.base import ProbeFormatter

if TYPE_CHECKING:
    from modelaudit.probe.plan import Plan
    from modelaudit.probe.result import RunReport


class JsonFormatter(ProbeFormatter):
    def emit(self, report: RunReport) -> None:
        """Written as it is built: the results and verdicts one per line (a 10,000-model
        run's document is never held whole, as values or as text)."""
        self.write_chunks(json_chunks(report_json(report), listed=("results", "verdicts")))

    def emit_plan(self, plan: Plan) -> None:
        self.write(json_text(plan_json(plan), indent=2))
