"""Output formats of `modelaudit probe`: one module each, registered here with one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.output.base import FormatName

if TYPE_CHECKING:
    from modelaudit.output.base import Options, Writer
    from modelaudit.probe.formats.base import ProbeFormatter


class ProbeFormat(FormatName):
    TABLE = "table"
    JSON = "json", "json_doc"
    JSONL = "jsonl"


def formatter(kind: ProbeFormat, out: Writer, options: Options | None = None) -> ProbeFormatter:
    made: ProbeFormatter = kind.formatter(out, options)  # type: ignore[assignment]
    return made
