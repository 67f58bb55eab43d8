"""`--format json`: the whole run (or a dry run's plan) as one versioned JSON document."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.outgoing import json_chunks, json_text, safe_texts
from modelaudit.probe.document import plan_json, report_json, result_json, verdict_json
from modelaudit.probe.formats.base import ProbeFormatter

if TYPE_CHECKING:
    from modelaudit.probe.plan import Plan
    from modelaudit.probe.result import RunReport


class JsonFormatter(ProbeFormatter):
    def write(self, value: RunReport) -> None:
        """Written as it is built, every value made safe item by item on the way: the
        results and verdicts one per line (a 10,000-model run's document is never held
        whole, as values or as text)."""
        self.write_safe(value)
        self.out.flush()

    def write_safe(self, value: RunReport) -> None:
        # The results and verdicts become dictionaries whose strings from outside (names,
        # details, headers) are made safe as they are put in (`safe_texts`), and whose other
        # strings are this module's own words: much cheaper than walking every value.
        text = safe_texts()
        made = {
            "results": (result_json(r, text) for r in value.results),
            "verdicts": (verdict_json(v, text) for v in value.verdicts),
        }
        head = {**report_json(value, listed=False), **made}
        for chunk in json_chunks(head, listed=tuple(made), walked=tuple(made)):
            self.out.write(chunk)

    def write_plan_safe(self, plan: Plan) -> None:
        self.text(json_text(plan_json(plan), indent=2))


FORMAT = JsonFormatter
