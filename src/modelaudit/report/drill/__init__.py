"""Output formats of `modelaudit drill`: one module each, registered here with one line
(a member: `DrillFormat.X.formatter(out)` writes `Drills`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelaudit.output.base import FormatName

if TYPE_CHECKING:
    from datetime import datetime

    from modelaudit.risk.portfolio import DrillResult


class DrillFormat(FormatName):
    TABLE = "table"
    JSON = "json", "json_doc"


@dataclass(frozen=True)
class Drills:
    """What a drill found, as written."""

    results: tuple[DrillResult, ...]
    generated_at: datetime
