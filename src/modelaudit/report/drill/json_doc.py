"""`drill --format json`: the drills as one versioned JSON document."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict

from modelaudit.clock import iso
from modelaudit.outgoing import json_text
from modelaudit.output.base import Formatter
from modelaudit.output.documents import closed
from modelaudit.report.drill import Drills
from modelaudit.report.formats.json_doc import SCHEMA_VERSION, DrillJson, drill_json


@closed
class DrillDocument(TypedDict):
    """`drill --format json`."""

    schema_version: Literal[1]
    kind: Literal["drill"]
    generated_at: str
    drills: list[DrillJson]


class DrillJsonFormat(Formatter[Drills]):
    def write_safe(self, value: Drills) -> None:
        document: DrillDocument = {
            "schema_version": SCHEMA_VERSION,
            "kind": "drill",
            "generated_at": iso(value.generated_at),
            "drills": [drill_json(r) for r in value.results],
        }
        self.text(json_text(document, indent=2))


FORMAT = DrillJsonFormat
