"""`discover --format table`: the models listed, then registry models not listed and
models gone since the stored list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.discovery.document import DiscoverDocument
from modelaudit.output.base import Formatter

if TYPE_CHECKING:
    from rich.table import Table

    from modelaudit.discovery.document import ListedModel


class DiscoverTables(Formatter[DiscoverDocument]):
    def write_safe(self, value: DiscoverDocument) -> None:
        console = self.console()
        for table in tables(value):
            console.print(table)


FORMAT = DiscoverTables


def tables(doc: DiscoverDocument) -> list[Table]:
    from rich import box
    from rich.table import Table

    def new_table(*columns: str) -> Table:
        made = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for column in columns:
            made.add_column(column, no_wrap=column in ("provider", "kind"))
        return made

    models = new_table("provider", "model", "kind", "points at", "lifecycle", "retires", "note")
    for p in doc.providers:
        for m in p.models:
            models.add_row(
                *map(
                    _cell,
                    (
                        p.provider,
                        m.id,
                        m.kind,
                        _points_at(m),
                        m.lifecycle or "",
                        m.retires or "",
                        _note(m.in_registry, m.new),
                    ),
                )
            )
    missing = new_table("provider", "registry model", "status", "detail")
    vanished = new_table("provider", "model", "gone since the list stored at")
    for p in doc.providers:
        for r in p.registry_models:
            if r.status != "listed":
                missing.add_row(*map(_cell, (p.provider, r.id, r.status, r.detail)))
        if p.since_snapshot is not None:
            for model_id in p.since_snapshot.vanished:
                vanished.add_row(*map(_cell, (p.provider, model_id, p.since_snapshot.taken_at)))
    return [models, *(extra for extra in (missing, vanished) if extra.row_count)]


def _cell(text: str) -> str:
    """Server-supplied text for the terminal: redacted, and control characters (escape
    sequences, line breaks) shown as `?`, never interpreted."""
    from modelaudit.redact import redact

    return "".join(c if c.isprintable() else "?" for c in redact(text))


def _points_at(m: ListedModel) -> str:
    if m.resolves_to:
        return f"→ {m.resolves_to}"
    if m.snapshots:
        more = f" (+{len(m.snapshots) - 1} older)" if len(m.snapshots) > 1 else ""
        return f"newest snapshot {m.snapshots[0]}{more}"
    if m.superseded_by:
        return f"newer snapshot: {m.superseded_by}"
    return ""


def _note(in_registry: bool, new: bool | None) -> str:
    words = []
    if in_registry:
        words.append("in registry")
    if new:
        words.append("new")
    return ", ".join(words)
