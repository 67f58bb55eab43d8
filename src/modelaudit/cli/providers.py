"""`modelaudit providers`: the registry as a table or JSON."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from modelaudit.cli import console
from modelaudit.cli.options import ConfigOption

if TYPE_CHECKING:
    from modelaudit.registry.schema import Registry


class ListFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def providers(
    config: ConfigOption = None,
    output_format: Annotated[
        ListFormat, typer.Option("--format", "-f", help="table or json.")
    ] = ListFormat.TABLE,
) -> int:
    """List providers and models: hosting, jurisdiction, weights, pins, retirements."""
    from modelaudit import registry

    loaded = registry.load(registry.discover(config))
    if output_format is ListFormat.JSON:
        console.data(_to_json(loaded.registry))
    else:
        console.out().print(_to_table(loaded.registry))
    return 0


def _to_json(reg: Registry) -> str:
    import json

    document = {
        "schema_version": 1,
        "providers": [
            {
                "name": p.name,
                "api": p.api,
                "base_url": p.base_url,
                "api_key": str(p.api_key) if p.api_key else None,
                "credentials": str(p.credentials) if p.credentials else None,
                "hosting": p.hosting.value,
                "server": p.server.value if p.server else None,
                "jurisdiction": p.jurisdiction,
                "gated": p.regulatory.gated,
                "models": [
                    {
                        "id": m.id,
                        "weights": m.weights.value,
                        "license": m.license,
                        "family": m.family,
                        "pinned": m.pinned,
                        "retires": m.retires.isoformat() if m.retires else None,
                        "fallbacks": list(m.fallbacks),
                        "tags": list(m.tags),
                    }
                    for m in p.models
                ],
            }
            for p in reg.providers
        ],
    }
    return json.dumps(document, indent=2)


def _to_table(reg: Registry) -> object:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("provider", "model", "hosting", "jurisdiction", "weights", "pinned", "retires"):
        table.add_column(column, no_wrap=True)
    for p in reg.providers:
        for m in p.models:
            table.add_row(
                p.name,
                m.id,
                p.hosting.value,
                p.jurisdiction or "-",
                m.weights.value,
                "yes" if m.pinned else "",
                m.retires.isoformat() if m.retires else "",
            )
    return table
