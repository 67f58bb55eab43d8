"""Output formats of `modelaudit drill`: one module each, registered here with one line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelaudit.output.base import FormatName, Formatter, load

if TYPE_CHECKING:
    from datetime import datetime

    from modelaudit.output.base import Options, Writer
    from modelaudit.risk.portfolio import DrillResult


class DrillFormat(FormatName):
    TABLE = "table"
    JSON = "json", "json_doc"


@dataclass(frozen=True)
class Drills:
    """What a drill found, as written."""

    results: tuple[DrillResult, ...]
    generated_at: datetime


def formatter(kind: DrillFormat, out: Writer, options: Options | None = None) -> Formatter[Drills]:
    made: Formatter[Drills] = load(__name__, kind)(out, options)
    return made
