"""`drill --format json`: the drills as one versioned JSON document."""

from __future__ import annotations

from modelaudit.clock import iso
from modelaudit.outgoing import json_text
from modelaudit.output.base import Formatter
from modelaudit.report.drill import Drills
from modelaudit.report.formats.json_doc import SCHEMA_VERSION, drill_json


class DrillJson(Formatter[Drills]):
    def write_safe(self, value: Drills) -> None:
        document = {
            "schema_version": SCHEMA_VERSION,
            "kind": "drill",
            "generated_at": iso(value.generated_at),
            "drills": [drill_json(r) for r in value.results],
        }
        self.text(json_text(document, indent=2))


FORMAT = DrillJson
