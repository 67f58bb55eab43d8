"""Output formats of `modelaudit report`: one module each, registered here with one line.
Each module is imported only when its format is chosen (an HTML page's SVG charts cost a
Markdown report nothing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.output.base import FormatName

if TYPE_CHECKING:
    from modelaudit.report.formats.base import ReportFormatter


class ReportFormat(FormatName):
    TABLE = "table"
    JSON = "json", "json_doc"
    MARKDOWN = "markdown"
    HTML = "html"


def formatter_class(kind: ReportFormat) -> type[ReportFormatter]:
    found: type[ReportFormatter] = kind.formatter_class()  # type: ignore[assignment]
    return found
