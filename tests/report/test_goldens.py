"""Every format rendered from the fixed week of history, compared byte for byte with its
golden file. Goldens change only with `pytest --update-goldens`, never silently: a missing
golden is a failure too."""

from __future__ import annotations

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
