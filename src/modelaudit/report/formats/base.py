"""What every report format shares: the format names and the options a renderer takes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelaudit.report.model import Report


class ReportFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


@dataclass(frozen=True)
class RenderOptions:
    width: int = 120
    """Table only: the terminal's width."""
    color: bool = False
    """Table only: ANSI colours, for a terminal that shows them."""


Renderer = Callable[["Report", RenderOptions], str]
"""A format: the whole report as text."""

SUFFIXES = {".json": ReportFormat.JSON, ".md": ReportFormat.MARKDOWN, ".html": ReportFormat.HTML}
"""`-o FILE` picks the format from the suffix when `--format` is not given."""
