"""`--format jsonl`: one JSON object per line, written as results complete.

Lines carry a `type`: `result` (as each probe finishes), then `verdict` (one per model) and
a final `run` line, each with `schema_version`. A dry run writes one `planned` line per model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelaudit.outgoing import json_text
from modelaudit.probe.document import (
    SCHEMA_VERSION,
    planned_model_json,
    result_json,
    run_json,
    verdict_json,
)
from modelaudit.probe.formats.base import ProbeFormatter

if TYPE_CHECKING:
    from modelaudit.probe.plan import Plan
    from modelaudit.probe.result import ProbeResult, RunReport


class JsonLinesFormatter(ProbeFormatter):
    def _line(self, kind: str, body: dict[str, Any]) -> None:
        self.text(json_text({"type": kind, "schema_version": SCHEMA_VERSION, **body}))
        self.out.flush()

    def result(self, result: ProbeResult) -> None:
        self._line("result", result_json(result))

    def write_safe(self, value: RunReport) -> None:
        for verdict in value.verdicts:
            self._line("verdict", verdict_json(verdict))
        self._line("run", run_json(value))

    def write_plan_safe(self, plan: Plan) -> None:
        for provider_plan in plan.providers:
            for model in provider_plan.models:
                self._line("planned", planned_model_json(provider_plan, model.id))


FORMAT = JsonLinesFormatter
