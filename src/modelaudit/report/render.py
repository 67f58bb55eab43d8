"""The registration of report formats: a new format is one module in `report/formats/`, one
`ReportFormat` member and one line here."""

from __future__ import annotations

from modelaudit.report.formats import html, json_doc, markdown, table
from modelaudit.report.formats.base import Renderer, RenderOptions, ReportFormat
from modelaudit.report.model import Report

FORMATTERS: dict[ReportFormat, Renderer] = {
    ReportFormat.TABLE: table.render,
    ReportFormat.JSON: json_doc.render,
    ReportFormat.MARKDOWN: markdown.render,
    ReportFormat.HTML: html.render,
}


def render(report: Report, kind: ReportFormat, options: RenderOptions | None = None) -> str:
    return FORMATTERS[kind](report, options or RenderOptions())
