"""The HTML report laid out by headless Chromium at a desktop width (1400 px) and a phone's
(400 px), read from the page itself (element boxes, not pixels): nothing sticks out of
the viewport or scrolls sideways, no text overflows its box, and model ids wrap only
after a `/`, never inside a name. A screenshot at each width is taken too (kept beside the
test's temp files) and must not be blank.

Needs the `chromium` binary; see tests/report/conftest.py.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from modelaudit.history import ModelHistory, Percentiles, VerdictPoint
from modelaudit.report.formats.base import ReportFormat
from modelaudit.report.model import build_report
from modelaudit.report.render import render
from modelaudit.vocabulary import ErrorClass, Verdict
from tests.report.cdp import Browser, Page
from tests.report.test_html_in_browser import png_pixels
from tests.scenarios import DOWN, OK, Scenario, always, from_run
from tests.week_history import NOW, REGISTRY_YAML, SPAN, at, registry, week_history

pytestmark = [
    pytest.mark.realserver,
    pytest.mark.skipif(sys.platform == "win32", reason="the DevTools pipe needs POSIX fds"),
]

WIDTHS = (1400, 400)
LONG_IDS = (
    "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
    "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8",
)
LONG_REASON = "upstream said " + "x" * 160 + " (no spaces to break at)"

LAYOUT = """
(() => {
  for (const d of document.querySelectorAll('details')) d.open = true;
  const root = document.documentElement;
  const width = root.clientWidth;
  const name = el => {
    const cls = typeof el.className === 'string' && el.className ? '.' + el.className : '';
    const text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 50);
    return `${el.tagName.toLowerCase()}${cls} "${text}"`;
  };
  const outside = [], overflowing = [], scrolling = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.left < -0.5 || box.right > width + 0.5) {
      outside.push(`${name(el)}: ${box.left.toFixed(1)}..${box.right.toFixed(1)}`);
    }
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      const style = getComputedStyle(el).overflowX;
      (style === 'visible' ? overflowing : scrolling).push(
        `${name(el)}: ${el.scrollWidth} > ${el.clientWidth}`);
    }
  }
  const breaks = [], wrapped = [];
  const range = document.createRange();
  for (const code of document.querySelectorAll('code.id')) {
    let top = null, last = null, lines = 1;
    const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.length; i++) {
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rects = range.getClientRects();
        if (!rects.length) continue;
        if (top !== null && rects[0].top > top + 2) {
          lines += 1;
          if (last !== '/') breaks.push(`${code.textContent} broke after ${JSON.stringify(last)}`);
        }
        top = rects[0].top;
        last = node.data[i];
      }
    }
    if (lines > 1) wrapped.push(code.textContent);
  }
  return JSON.stringify({
    width, pageWidth: root.scrollWidth, outside, overflowing, scrolling, breaks, wrapped,
    ids: document.querySelectorAll('code.id').length,
    cards: [...document.querySelectorAll('tbody tr')].filter(
      tr => getComputedStyle(tr).display === 'block').length,
  });
})()
"""


@dataclass(frozen=True)
class Layout:
    width: int
    page_width: int
    outside: list[str]
    overflowing: list[str]
    scrolling: list[str]
    breaks: list[str]
    wrapped: list[str]
    ids: int
    cards: int


def week_page() -> str:
    """The fixed week, with the long ids of hosts of open weights and a reason with a
    word longer than a phone's screen."""
    extra = "  - name: together\n    api: openai\n    base_url: https://together.test/v1\n"
    extra += "    hosting: third-party\n    jurisdiction: US\n    models:\n"
    extra += "".join(f"      - id: {i}\n        weights: open\n" for i in LONG_IDS)
    history = week_history()
    for model_id in LONG_IDS:
        history.model_rows.append(
            ModelHistory(
                provider="together",
                model=model_id,
                ok=160,
                failed=8,
                excluded=0,
                latency=Percentiles(n=160, p50=900.0, p95=2100.0, p99=4000.0),
                ttft=Percentiles(n=0),
                error_classes={ErrorClass.OK: 160, ErrorClass.SERVER_ERROR: 8},
                last_ok=at(167),
            )
        )
        history.verdict_rows[("together", model_id)] = [
            VerdictPoint(run_id=168, at=at(167), verdict=Verdict.DOWN, reason=LONG_REASON)
        ]
    built = build_report(registry(REGISTRY_YAML + extra), history, now=NOW, span=SPAN)
    return render(built, ReportFormat.HTML)


def first_day_page(directory: Path) -> str:
    """Two hours of history in a 24-hour report, through the real store."""
    registry_yaml = (
        "version: 1\nproviders:\n"
        "  - name: local\n    api: openai\n    base_url: http://127.0.0.1:8080/v1\n"
        "    hosting: self-hosted\n    models:\n"
        "      - id: smollm2-135m\n        weights: open\n        pinned: true\n"
        "  - name: litellm\n    api: openai\n    base_url: http://127.0.0.1:4000/v1\n"
        "    hosting: self-hosted\n    models:\n"
        f"      - id: {LONG_IDS[0]}\n        weights: open\n"
    )
    report = Scenario(
        registry_yaml,
        {"local/smollm2-135m": from_run(20, DOWN), f"litellm/{LONG_IDS[0]}": always(OK)},
        runs=24,
        every=timedelta(minutes=5),
    ).report(directory)
    return render(report, ReportFormat.HTML)


def lay_out(chromium: str, page: Path, profile: Path, shots: Path) -> dict[int, Layout]:
    found = {}
    with Browser(chromium, profile) as browser:
        for width in WIDTHS:
            tab = Page(browser, width, 900)
            tab.open(page.as_uri())
            measured: dict[str, Any] = json.loads(tab.evaluate(LAYOUT))
            measured["page_width"] = measured.pop("pageWidth")
            found[width] = Layout(**measured)
            shot = tab.screenshot()
            (shots / f"{page.stem}-{width}.png").write_bytes(shot)
            _, _, greys = png_pixels(shot)
            assert len(set(greys)) > 20, f"the screenshot at {width} px is blank"
            assert tab.console() == [], tab.console()
    return found


@pytest.fixture(params=["week", "first-day"])
def page(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / f"{request.param}.html"
    html = week_page() if request.param == "week" else first_day_page(tmp_path)
    path.write_text(html, encoding="utf-8")
    return path


def test_nothing_overflows_at_a_desktop_width_or_a_phones(
    chromium: str, page: Path, tmp_path: Path
) -> None:
    layouts = lay_out(chromium, page, tmp_path / "profile", tmp_path)

    for width, layout in layouts.items():
        assert layout.width == width
        assert layout.page_width <= width, f"the page scrolls sideways at {width} px"
        assert layout.outside == [], (width, layout.outside[:5])
        assert layout.overflowing == [], (width, layout.overflowing[:5])
        assert layout.scrolling == [], (width, layout.scrolling[:5])
        assert layout.breaks == [], (width, layout.breaks[:5])
        assert layout.ids > 0
    desktop, phone = layouts[1400], layouts[400]
    assert desktop.cards == 0  # tables are tables on a desktop
    assert phone.cards > 0  # and cards on a phone
    assert phone.wrapped, "some long id had to wrap at 400 px: the test would prove nothing"
