"""`--format jsonl`: one JSON object per line, written as results complete.

Lines carry a `type`: `result` (as each probe finishes), then `verdict` (one per model) and
a final `run` line, each with `schema_version`. A dry run writes one `planned` line per model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.outgoing import json_text
from modelaudit.probe.document import (
    SCHEMA_VERSION,
    PlannedLine,
    ResultLine,
    RunLine,
    VerdictLine,
    planned_model_json,
    result_json,
    run_json,
    verdict_json,
)
from modelaudit.probe.formats.base import ProbeFormatter

if TYPE_CHECKING:
    from modelaudit.probe.document import ProbeLine
    from modelaudit.probe.plan import Plan
    from modelaudit.probe.result import ProbeResult, RunReport


class JsonLinesFormatter(ProbeFormatter):
    def _line(self, line: ProbeLine) -> None:
        self.text(json_text(line))
        self.out.flush()

    def result(self, result: ProbeResult) -> None:
        self._line(ResultLine(type="result", schema_version=SCHEMA_VERSION, **result_json(result)))

    def write_safe(self, value: RunReport) -> None:
        for verdict in value.verdicts:
            self._line(
                VerdictLine(type="verdict", schema_version=SCHEMA_VERSION, **verdict_json(verdict))
            )
        self._line(RunLine(type="run", schema_version=SCHEMA_VERSION, **run_json(value)))

    def write_plan_safe(self, plan: Plan) -> None:
        for provider_plan in plan.providers:
            for model in provider_plan.models:
                planned = planned_model_json(provider_plan, model.id)
                self._line(PlannedLine(type="planned", schema_version=SCHEMA_VERSION, **planned))


FORMAT = JsonLinesFormatter
