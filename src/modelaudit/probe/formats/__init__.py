"""Output formats of `modelaudit probe`: one module each, registered here with one line."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelaudit.probe.formats.base import ProbeFormatter


class ProbeFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"


def formatter(kind: ProbeFormat) -> ProbeFormatter:
    from modelaudit.probe.formats import json_doc, jsonl, table

    formatters: dict[ProbeFormat, type[ProbeFormatter]] = {
        ProbeFormat.TABLE: table.TableFormatter,
        ProbeFormat.JSON: json_doc.JsonFormatter,
        ProbeFormat.JSONL: jsonl.JsonLinesFormatter,
    }
    return formatters[kind]()
