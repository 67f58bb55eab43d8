"""`providers --format table`: one row per model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.outgoing import safe_text
from modelaudit.output.base import Formatter

if TYPE_CHECKING:
    from modelaudit.registry.schema import Registry


class ProvidersTable(Formatter["Registry"]):
    def write_safe(self, value: Registry) -> None:
        from rich import box
        from rich.table import Table

        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        columns = ("provider", "model", "hosting", "jurisdiction", "weights", "pinned", "retires")
        for column in columns:
            table.add_column(column, no_wrap=True)
        for p in value.providers:
            for m in p.models:
                table.add_row(
                    p.name,
                    safe_text(m.id),
                    p.hosting.value,
                    p.jurisdiction or "-",
                    m.weights.value,
                    "yes" if m.pinned else "",
                    m.retires.isoformat() if m.retires else "",
                )
        self.console().print(table)


FORMAT = ProvidersTable
