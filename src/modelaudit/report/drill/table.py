"""`drill --format table`: one table per removal."""

from __future__ import annotations

from modelaudit.output.base import Formatter
from modelaudit.report.drill import Drills
from modelaudit.report.formats.table import drill_table


class DrillTable(Formatter[Drills]):
    def write_safe(self, value: Drills) -> None:
        console = self.console()
        for result in value.results:
            console.print(drill_table(result))


FORMAT = DrillTable
