"""The Markdown report fits a GitHub step summary (1 MiB) however long the history: the
long lists are cut, the riskiest models and the newest events kept, and the cut is said."""

from __future__ import annotations

from modelaudit.history import DriftEvent, Incident, ModelHistory, Percentiles
from modelaudit.report.formats import ReportFormat
from modelaudit.report.formats.markdown import MAX_BYTES, render
from modelaudit.report.model import Report, build_report
from modelaudit.vocabulary import ErrorClass, Verdict
from tests.memory_history import MemoryHistory
from tests.week_history import NOW, SPAN, at, registry, week_history


def huge_report(models: int = 4000, events: int = 1) -> Report:
    history = MemoryHistory()
    for index in range(models):
        name = f"model-{index:05d}-" + "x" * 40
        history.model_rows.append(
            ModelHistory(
                provider="bulk",
                model=name,
                ok=100 + index % 50,
                failed=index % 7,
                excluded=index % 3,
                latency=Percentiles(n=100, p50=500.0, p95=900.0, p99=1500.0),
                ttft=Percentiles(n=0),
                error_classes={ErrorClass.OK: 100, ErrorClass.TIMEOUT: index % 7},
            )
        )
        for event in range(events):
            history.incident_rows.append(
                Incident("bulk", name, Verdict.DOWN, at(event), at(event + 1), 1)
            )
            history.drift_rows.append(
                DriftEvent("bulk", name, at(event), "fingerprint", f"fp_{event}", f"fp_{event + 1}")
            )
    return build_report(registry(), history, now=NOW, span=SPAN)


def test_a_huge_history_renders_under_one_mebibyte_and_says_what_it_cut() -> None:
    report = huge_report()

    document = render(report)

    assert len(document.encode()) <= MAX_BYTES < 1024 * 1024
    assert "rows left out to fit GitHub's size limit" in document
    # The riskiest models are kept; the recommendations and coverage are whole.
    assert document.index("## Recommendations") < document.index("## Models")
    assert "## Continuity coverage" in document
    assert document.rstrip().endswith("</sub>")


def test_cut_lists_keep_the_newest_events() -> None:
    report = huge_report(models=100, events=30)

    document = render(report, max_bytes=30_000)

    assert len(document.encode()) <= 30_000
    incidents = document.split("## Latest incidents")[1].split("##")[0]
    assert "2026-11-25 11:00" in incidents  # the last incident hour (run 29)
    assert "2026-11-24 06:00 |" not in incidents  # the first ones were cut
    assert "2,960 earlier incidents in the window: see the JSON report" in incidents


def test_a_normal_week_is_rendered_whole() -> None:
    report = build_report(registry(), week_history(), now=NOW, span=SPAN)

    document = render(report)

    assert "left out" not in document
    assert len(document.encode()) < 20_000  # fits a PR comment (65,536 characters) too


def test_the_registry_entry_point_uses_the_same_limit() -> None:
    from modelaudit.report.render import render as render_any

    document = render_any(huge_report(), ReportFormat.MARKDOWN)

    assert len(document.encode()) <= MAX_BYTES
