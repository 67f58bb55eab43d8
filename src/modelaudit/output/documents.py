"""The JSON documents modelaudit writes, and their published schemas.

Each document is a type pydantic reads (a `TypedDict` checked by mypy against the code
that builds it, or a `BaseModel`); its JSON Schema is committed under `docs/schemas/`, and
`tests/test_schemas.py` fails when the two differ, so a changed contract shows up in
review. After a deliberate change, regenerate them:

    python -m modelaudit.output.documents

The versioning rule, the same for every document: each carries `schema_version` (an
integer, 1 today). New fields are added without changing it; it goes up only when a
field is removed, renamed or changes meaning, and the README says so. A reader should
ignore fields it does not know.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict

from modelaudit import __version__

SCHEMA_VERSION: Literal[1] = 1
"""The version every document carries today (each may move on its own, by the rule)."""

DOCUMENTS: dict[str, str] = {
    "probe": "modelaudit.probe.document:ProbeDocument",
    "probe-plan": "modelaudit.probe.document:PlanDocument",
    "probe-line": "modelaudit.probe.document:ProbeLine",
    "check": "modelaudit.gate.formats.json_doc:CheckDocument",
    "report": "modelaudit.report.formats.json_doc:ReportDocument",
    "drill": "modelaudit.report.drill.json_doc:DrillDocument",
    "history": "modelaudit.output.history.json_doc:HistoryDocument",
    "providers": "modelaudit.output.providers.json_doc:ProvidersDocument",
    "alerts": "modelaudit.alerts.formats.json_doc:AlertsDocument",
    "discover": "modelaudit.discovery.document:DiscoverDocument",
    "export-line": "modelaudit.store.export:ExportLine",
    "lockfile": "modelaudit.gate.lockfile:LockDocument",
}
"""Each document's name (its schema is `docs/schemas/<name>.schema.json`) and type."""


closed = with_config(ConfigDict(extra="forbid"))
"""A document's type declares every key it may have (`additionalProperties: false`)."""


@closed
class Tool(TypedDict):
    name: Literal["modelaudit"]
    version: str


def tool() -> Tool:
    return {"name": "modelaudit", "version": __version__}


def document_type(name: str) -> Any:
    module, _, attribute = DOCUMENTS[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of document `name`, as pydantic derives it from its type."""
    from pydantic import TypeAdapter

    found: dict[str, Any] = TypeAdapter(document_type(name)).json_schema()
    return found


def schema_text(name: str) -> str:
    return json.dumps(schema(name), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    folder = Path(__file__).resolve().parents[3] / "docs" / "schemas"
    for name in DOCUMENTS:
        (folder / f"{name}.schema.json").write_text(schema_text(name), encoding="utf-8")


if __name__ == "__main__":
    main()
