"""Output formats of `modelaudit history`: one module each, registered here with one line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from modelaudit.output.base import FormatName, Formatter, load

if TYPE_CHECKING:
    from modelaudit.output.base import Options, Writer
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


def formatter(
    kind: HistoryFormat, out: Writer, options: Options | None = None
) -> Formatter[History]:
    made: Formatter[History] = load(__name__, kind)(out, options)
    return made
