"""What every report format shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from modelaudit.output.base import Formatter
from modelaudit.report.formats import ReportFormat

if TYPE_CHECKING:
    from modelaudit.report.model import Report

__all__ = ["SUFFIXES", "ReportFormat", "ReportFormatter"]


class ReportFormatter(Formatter["Report"]):
    draws_timelines: ClassVar[bool] = False
    """Whether the format shows each model's timeline (the report is built without them
    for the others)."""

    def write_safe(self, value: Report) -> None:
        raise NotImplementedError


SUFFIXES = {".json": ReportFormat.JSON, ".md": ReportFormat.MARKDOWN, ".html": ReportFormat.HTML}
"""`-o FILE` picks the format from the suffix when `--format` is not given."""
