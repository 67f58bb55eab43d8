"""Output formats of `modelaudit history`: one module each, registered here with one line
(a member: `HistoryFormat.X.formatter(out)` writes `RecentRuns` or a `ModelTimeline`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from modelaudit.output.base import FormatName

if TYPE_CHECKING:
    from modelaudit.store.base import ModelRun, RunSummary


class HistoryFormat(FormatName):
    TABLE = "table"
    JSON = "json", "json_doc"


@dataclass(frozen=True)
class RecentRuns:
    runs: tuple[RunSummary, ...]


@dataclass(frozen=True)
class ModelTimeline:
    provider: str
    model: str
    runs: tuple[ModelRun, ...]


History: TypeAlias = "RecentRuns | ModelTimeline"
