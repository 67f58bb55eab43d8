"""Every format rendered from the fixed week of history, compared with its golden file:
the HTML page by its structure (elements, attributes, text, as a browser reads them: how a
character is escaped or where a line breaks between tags does not matter), the others byte
for byte. Goldens change only with `pytest --update-goldens`, never silently: a missing
golden is a failure too."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from modelaudit.output.base import Options
from modelaudit.report.formats import ReportFormat
from modelaudit.report.model import Report, build_report
from modelaudit.report.render import render
from tests.week_history import NOW, SPAN, registry, week_history

GOLDENS = Path(__file__).parent / "goldens"
SUFFIX = {
    ReportFormat.TABLE: "txt",
    ReportFormat.JSON: "json",
    ReportFormat.MARKDOWN: "md",
    ReportFormat.HTML: "html",
}


def week_report() -> Report:
    return build_report(
        registry(),
        week_history(),
        now=NOW,
        span=SPAN,
        registry_sha256="0" * 64,
        tool_version="0.0.0-golden",
    )


class _Structure(HTMLParser):
    """An HTML page as a list of events: a tag with its attributes (sorted), a piece of
    text with its whitespace collapsed (blank text between tags dropped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[str, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("<", tag, *(f"{k}={v}" for k, v in sorted(attrs))))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("/", tag))

    def handle_data(self, data: str) -> None:
        text = re.sub(r"\s+", " ", data).strip()
        if text:
            self.events.append(("text", text))

    def handle_decl(self, decl: str) -> None:
        self.events.append(("!", decl.lower()))


def html_structure(page: str) -> list[tuple[str, ...]]:
    parser = _Structure()
    parser.feed(page)
    parser.close()
    return parser.events


def same_page(actual: str, expected: str, name: str) -> None:
    got, wanted = html_structure(actual), html_structure(expected)
    for index, (a, b) in enumerate(zip(got, wanted, strict=False)):
        assert a == b, (
            f"{name} differs at element {index}: {a} instead of {b} (after "
            f"{wanted[max(0, index - 3) : index]}): if intended, pytest --update-goldens"
        )
    assert len(got) == len(wanted), f"{name}: {len(got)} elements instead of {len(wanted)}"


def check_golden(name: str, actual: str, update: bool) -> None:
    path = GOLDENS / name
    if update:
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(
            f"no golden file {path.name}: review the output, then run pytest --update-goldens"
        )
    expected = path.read_text(encoding="utf-8")
    if name.endswith(".html"):
        same_page(actual, expected, path.name)
        return
    assert actual == expected, (
        f"{path.name} differs: if the change is intended, pytest --update-goldens"
    )


@pytest.mark.parametrize("kind", list(ReportFormat))
def test_each_format_matches_its_golden_file(kind: ReportFormat, update_goldens: bool) -> None:
    rendered = render(week_report(), kind, Options(width=140, color=False))

    check_golden(f"week.{SUFFIX[kind]}", rendered, update_goldens)


def test_the_same_history_and_now_render_the_same_bytes() -> None:
    first = render(week_report(), ReportFormat.HTML)
    second = render(week_report(), ReportFormat.HTML)

    assert first == second


def test_every_format_has_a_golden() -> None:
    assert {p.name for p in GOLDENS.iterdir()} >= {f"week.{s}" for s in SUFFIX.values()}


def test_the_html_golden_is_compared_by_structure_not_bytes() -> None:
    page = '<p class="a" id="x">Tom &amp; Jerry\n  <b>&#39;hi&#39;</b></p>'
    same_page(page, "<p id='x' class='a'>Tom &#38; Jerry <b>'hi'</b></p>", "sample")
    with pytest.raises(AssertionError, match="differs at element"):
        same_page(page, '<p class="a" id="x">Tom &amp; Jerry <i>hi</i></p>', "sample")
