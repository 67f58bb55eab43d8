"""`drill --format table`: one table per removal."""

from __future__ import annotations

from modelaudit.output.base import Formatter
from modelaudit.report.drill import Drills
from modelaudit.report.formats.table import Part, drill_table, write_parts


class DrillTable(Formatter[Drills]):
    def write_safe(self, value: Drills) -> None:
        tables: list[Part] = [drill_table(result) for result in value.results]
        write_parts(self, tables)


FORMAT = DrillTable
