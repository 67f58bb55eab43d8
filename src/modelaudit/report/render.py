"""A report as text in one of its formats (`formats/`), for callers that want a string:
the served page, tests. The CLI writes through the formatter itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.output.base import Options, rendered
from modelaudit.report.formats import ReportFormat, formatter_class

if TYPE_CHECKING:
    from modelaudit.report.model import Report

PLAIN = Options(width=120, color=False)
"""A report laid out for no terminal in particular."""


def draws_timelines(kind: ReportFormat) -> bool:
    return formatter_class(kind).draws_timelines


def render(report: Report, kind: ReportFormat, options: Options | None = None) -> str:
    """`report` in format `kind`: every string in it redacted and made printable first."""
    return rendered(formatter_class(kind), report, options or PLAIN)
