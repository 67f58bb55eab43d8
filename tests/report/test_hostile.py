"""Strings that came from a provider (model ids, reasons, served-model names, headers) are
data, never markup: escaped in HTML and Markdown, and redacted on their way out."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

from modelaudit.fileio import write_text
from modelaudit.history import (
    DriftEvent,
    Incident,
    ModelHistory,
    Percentiles,
    RegionHistory,
    VerdictPoint,
)
from modelaudit.report.formats import html as html_format
from modelaudit.report.formats.base import ReportFormat
from modelaudit.report.model import Report, build_report
from modelaudit.report.render import render
from modelaudit.vocabulary import ErrorClass, Verdict
from tests.week_history import NOW, SPAN, at, registry, week_history

HOSTILE_ID = '<script>alert("id")</script>\'"><img src=x onerror=alert(1)>|`**x**`'
HOSTILE_REASON = (
    '</td><script>alert("reason")</script> & "quoted" \'single\' | [link](http://evil.test)'
)
KEY = "sk-proj-CANARYcanary0123456789abcdefXYZ"


def hostile_report() -> Report:
    history = week_history()
    key = ("acme", HOSTILE_ID)
    history.model_rows.append(
        ModelHistory(
            provider="acme",
            model=HOSTILE_ID,
            ok=1,
            failed=2,
            excluded=0,
            latency=Percentiles(n=1, p50=10.0, p95=10.0, p99=10.0),
            ttft=Percentiles(n=0),
            error_classes={ErrorClass.OK: 1, ErrorClass.SERVER_ERROR: 2},
        )
    )
    history.verdict_rows[key] = [
        VerdictPoint(run_id=1, at=at(160), verdict=Verdict.DOWN, reason=HOSTILE_REASON + KEY)
    ]
    history.incident_rows.append(Incident("acme", HOSTILE_ID, Verdict.DOWN, at(160), None, 8))
    history.drift_rows.append(
        DriftEvent("acme", HOSTILE_ID, at(161), "served_model", HOSTILE_ID, HOSTILE_REASON + KEY)
    )
    return build_report(registry(), history, now=NOW, span=SPAN)


HOSTILE_PROVIDER = 'evil"><script>alert("provider")</script></style><style>*{}'
HOSTILE_REGION = 'eu"></td><script>alert("region")</script></style>'
HOSTILE_STRINGS = (HOSTILE_ID, HOSTILE_PROVIDER, HOSTILE_REGION, HOSTILE_REASON)

# Every element and attribute the page is made of: anything else came from a string.
PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "footer", "section"}
PAGE_TAGS |= {"h1", "h2", "h3", "h4", "p", "div", "span", "b", "strong", "code", "wbr", "a"}
PAGE_TAGS |= {"ul", "li", "table", "thead", "tbody", "tr", "th", "td", "details", "summary"}
PAGE_TAGS |= {"svg", "rect", "line", "text", "polyline", "circle"}


class _Parsed(HTMLParser):
    """What a browser makes of a page: its elements, attribute values and text, with every
    character reference decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)


def parsed(page: str) -> _Parsed:
    parser = _Parsed()
    parser.feed(page)
    parser.close()
    return parser


def hostile_everywhere() -> Report:
    """The hostile report, plus a provider name and a region name that try to break out:
    each string lands in text, in attributes (`aria-label`, `data-label`) and in SVG
    titles."""
    history = week_history()
    history.model_rows.append(
        ModelHistory(
            provider=HOSTILE_PROVIDER,
            model="m",
            ok=1,
            failed=0,
            excluded=0,
            latency=Percentiles(n=1, p50=10.0, p95=10.0, p99=10.0),
            ttft=Percentiles(n=0),
            error_classes={ErrorClass.OK: 1},
        )
    )
    history.region_rows.append(RegionHistory(HOSTILE_PROVIDER, "m", HOSTILE_REGION, 1, 0, 0))
    history.region_rows.append(RegionHistory("acme", HOSTILE_ID, "us", 1, 2, 0))
    report = hostile_report()
    extra = build_report(registry(), history, now=NOW, span=SPAN)
    return replace(report, models=(*report.models, *extra.models[-1:]), regions=extra.regions)


def test_html_escapes_every_string_in_every_place_it_lands() -> None:
    page = parsed(render(hostile_everywhere(), ReportFormat.HTML))

    # No element, attribute or style sheet came from a string...
    assert set(page.tags) <= PAGE_TAGS, set(page.tags) - PAGE_TAGS
    assert page.tags.count("style") == 1
    assert "".join(page.styles) == html_format.STYLE
    assert not [name for name, _ in page.attributes if name.startswith("on")]
    # ...and each string reads whole, as text and inside attribute values (a `"` closed no
    # attribute, a `</td>` or `</style>` closed no element).
    text = "".join(page.text)
    values = [value for _, value in page.attributes]
    for hostile in (HOSTILE_ID, HOSTILE_PROVIDER):
        assert hostile in text, hostile
        assert any(f"of {hostile}/" in v or f"of acme/{hostile}" in v for v in values), hostile
    assert HOSTILE_REASON in text
    assert HOSTILE_REGION in values  # a column's data-label
    assert HOSTILE_REGION in text  # its heading


def test_html_references_nothing_outside_the_file() -> None:
    page = render(hostile_report(), ReportFormat.HTML)

    assert not re.search(r"<(script|link|iframe|object|embed|img)\b", page, re.IGNORECASE)
    assert not re.search(r"(src|href)\s*=\s*\"(?!#)", page)  # only in-page anchors
    assert "url(" not in page
    assert "@import" not in page
    assert "default-src 'none'" in page


def test_markdown_escapes_every_provider_string() -> None:
    document = render(hostile_report(), ReportFormat.MARKDOWN)

    assert "<script" not in document.lower()
    assert "<img" not in document.lower()
    assert "[link](" not in document  # brackets escaped: no live link
    # A `|` in an id or a reason splits no cell: every row has its table's column count.
    for table in re.split(r"\n\n", document):
        rows = [line for line in table.splitlines() if line.startswith("|")]
        counts = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
        assert len(counts) <= 1, table


def test_json_keeps_the_strings_as_data() -> None:
    document = json.loads(render(hostile_report(), ReportFormat.JSON))

    ids = [m["model"] for m in document["models"]]
    assert HOSTILE_ID in ids


def test_a_key_echoed_in_a_reason_is_redacted_in_every_written_report(isolated_env: Path) -> None:
    report = hostile_report()
    # What the store said reaches the report's value; every format redacts it on the way out.
    assert any(v.last_verdict and KEY in v.last_verdict.reason for v in report.models)

    for kind in ReportFormat:
        path = isolated_env / f"report.{kind.value}"
        write_text(path, render(report, kind))

        written = path.read_text()
        assert KEY not in written, kind
        assert "REDACTED" in written, kind  # Markdown escapes the mask's brackets


def test_the_hostile_model_is_still_reported_not_dropped() -> None:
    report = hostile_report()

    hostile = next(m for m in report.models if m.model == HOSTILE_ID)
    assert hostile.in_registry is False
    assert replace(hostile, timeline=()).availability.n == 3
