"""The registration of report formats: a new format is one module in `report/formats/`, one
`ReportFormat` member and one line here. Each module is imported only when its format is
chosen (an HTML page's SVG charts cost a Markdown report nothing)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from modelaudit.report.formats.base import RenderOptions, ReportFormat

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from modelaudit.report.formats.base import Renderer
    from modelaudit.report.model import Report

    ChunkRenderer = Callable[[Report, RenderOptions], Iterator[str]]
    """A format that writes as it goes: `chunks(report, options)`, each value redacted by
    the format itself (through `outgoing.json_chunks`)."""

FORMATTERS: dict[ReportFormat, str] = {
    ReportFormat.TABLE: "table",
    ReportFormat.JSON: "json_doc",
    ReportFormat.MARKDOWN: "markdown",
    ReportFormat.HTML: "html",
}
"""Each format's module in `modelaudit.report.formats`, which has a `render` function."""
DRAWS_TIMELINES = frozenset({ReportFormat.JSON, ReportFormat.HTML})
"""The formats that show each model's timeline; the others are built without them."""


def renderer(kind: ReportFormat) -> Renderer:
    module = importlib.import_module(f"modelaudit.report.formats.{FORMATTERS[kind]}")
    found: Renderer = module.render
    return found


def render(report: Report, kind: ReportFormat, options: RenderOptions | None = None) -> str:
    """`report` in format `kind`: every string in it redacted and made printable first."""
    return "".join(render_chunks(report, kind, options))


def render_chunks(
    report: Report, kind: ReportFormat, options: RenderOptions | None = None
) -> Iterator[str]:
    """`render`, piece by piece as it is built: a format with a `chunks` function writes
    its document as it goes, redacting each value on the way (a 10,000-model JSON report
    is never held whole); the others render `outgoing(report)` in one piece."""
    module = importlib.import_module(f"modelaudit.report.formats.{FORMATTERS[kind]}")
    chunks: ChunkRenderer | None = getattr(module, "chunks", None)
    if chunks is not None:
        return chunks(report, options or RenderOptions())
    from modelaudit.outgoing import outgoing

    return iter((renderer(kind)(outgoing(report), options or RenderOptions()),))
