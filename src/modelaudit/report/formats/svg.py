"""Inline SVG charts for the HTML report: drawn as text, no script, no external resource.

Each drawing is `Markup` built by `output.markup.html`: every value put into it (a model
id, a date, a number) is escaped unless it is markup already. Numbers are formatted with
fixed precision so the same report renders byte for byte the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit import history
from modelaudit.history import Window
from modelaudit.output.markup import Markup, html, join
from modelaudit.report import text

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime, timedelta

    from modelaudit.history import TimelinePoint
    from modelaudit.risk.score import RiskScore

OK_COLOR = "#2e7d32"
SOME_FAILED = "#f9a825"
MOSTLY_FAILED = "#c62828"
ONLY_EXCLUDED = "#90a4ae"
NO_DATA = "#eceff1"
P50_COLOR = "#1565c0"
P95_COLOR = "#6a1b9a"
SLO_COLOR = "#c62828"


def _n(value: float) -> str:
    """A coordinate: one decimal, no trailing zero."""
    return f"{value:.1f}".removesuffix(".0")


def _drawing(width: int, height: int, label: str, css_class: str, parts: list[Markup]) -> Markup:
    return html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="{}" width="{}" height="{}" '
        'viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        css_class,
        width,
        height,
        width,
        height,
        label,
        join(parts),
    )


def bucket_starts(since: datetime, until: datetime, bucket: timedelta) -> list[datetime]:
    """Where the store's timeline points start (`history.bucket_starts`)."""
    return history.bucket_starts(Window(since, until), bucket)


def bucket_color(point: TimelinePoint | None) -> str:
    if point is None or point.ok + point.failed + point.excluded == 0:
        return NO_DATA
    if point.ok + point.failed == 0:
        return ONLY_EXCLUDED
    failed_share = point.failed / (point.ok + point.failed)
    if failed_share == 0:
        return OK_COLOR
    return SOME_FAILED if failed_share <= 0.5 else MOSTLY_FAILED


def _bucket_title(start: datetime, point: TimelinePoint | None) -> str:
    if point is None:
        return f"{text.when(start)} UTC: not probed"
    return (
        f"{text.when(start)} UTC: {point.ok} ok, {point.failed} failed, "
        f"{point.excluded} excluded (rate-limited or our access)"
    )


def availability_timeline(
    model: str,
    points: Sequence[TimelinePoint],
    starts: Sequence[datetime],
    width: int = 600,
    height: int = 22,
) -> Markup:
    """One cell per bucket: green all ok, amber some failed, red mostly failed, grey only
    excluded attempts, pale when not probed."""
    by_start = {p.start: p for p in points}
    cell = width / max(len(starts), 1)
    cell_width = _n(max(cell - 1, 1))
    cells = []
    for index, start in enumerate(starts):
        point = by_start.get(start)
        cells.append(
            html(
                '<rect x="{}" y="0" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
                _n(index * cell),
                cell_width,
                height,
                bucket_color(point),
                _bucket_title(start, point),
            )
        )
    return _drawing(width, height, f"availability timeline of {model}", "timeline", cells)


def _segments(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Runs of consecutive known values (a gap breaks the line)."""
    runs: list[list[tuple[int, float]]] = []
    current: list[tuple[int, float]] = []
    for index, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((index, value))
    if current:
        runs.append(current)
    return runs


def latency_chart(
    model: str,
    points: Sequence[TimelinePoint],
    starts: Sequence[datetime],
    slo_ms: float | None,
    width: int = 600,
    height: int = 140,
) -> Markup:
    """p50 and p95 completion latency per bucket, with the SLO's p95 budget as a dashed line."""
    by_start = {p.start: p for p in points}
    p50 = [by_start[s].latency_p50 if s in by_start else None for s in starts]
    p95 = [by_start[s].latency_p95 if s in by_start else None for s in starts]
    known = [v for v in (*p50, *p95) if v is not None]
    top = max([*known, 1.0]) * 1.15
    # An SLO far above the data would flatten the lines: it is then named, not drawn.
    slo_drawn = slo_ms is not None and slo_ms <= top * 2
    if slo_drawn and slo_ms is not None:
        top = max(top, slo_ms * 1.1)
    left, right, pad_top, bottom = 48, 8, 8, 18
    plot_w, plot_h = width - left - right, height - pad_top - bottom
    step = plot_w / max(len(starts) - 1, 1)

    def x(index: int) -> str:
        return _n(left + index * step)

    def y(value: float) -> str:
        return _n(pad_top + plot_h * (1 - value / top))

    axis = _n(pad_top + plot_h)
    parts = [
        html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#90a4ae"/>',
            left,
            axis,
            width - right,
            axis,
        ),
        html(
            '<text x="{}" y="{}" text-anchor="end">{}</text>', left - 4, pad_top + 8, text.ms(top)
        ),
        html('<text x="{}" y="{}" text-anchor="end">0</text>', left - 4, axis),
    ]
    if starts:
        parts.append(
            html(
                '<text x="{}" y="{}">{}</text><text x="{}" y="{}" text-anchor="end">{}</text>',
                left,
                height - 4,
                text.when(starts[0]),
                width - right,
                height - 4,
                text.when(starts[-1]),
            )
        )
    if slo_drawn and slo_ms is not None:
        parts.append(
            html(
                '<line class="slo" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" '
                'stroke-dasharray="4 3"><title>SLO p95 {}</title></line>',
                left,
                y(slo_ms),
                width - right,
                y(slo_ms),
                SLO_COLOR,
                text.ms(slo_ms),
            )
        )
    elif slo_ms is not None:
        parts.append(
            html(
                '<text x="{}" y="{}" text-anchor="end">SLO p95 {}: above the chart</text>',
                width - right,
                pad_top + 8,
                text.ms(slo_ms),
            )
        )
    for values, color, name in ((p95, P95_COLOR, "p95"), (p50, P50_COLOR, "p50")):
        for run in _segments(values):
            if len(run) == 1:
                i, v = run[0]
                parts.append(html('<circle cx="{}" cy="{}" r="2" fill="{}"/>', x(i), y(v), color))
            else:
                parts.append(
                    html(
                        '<polyline class="{}" points="{}" fill="none" stroke="{}" '
                        'stroke-width="1.5"><title>{}</title></polyline>',
                        name,
                        " ".join(f"{x(i)},{y(v)}" for i, v in run),
                        color,
                        name,
                    )
                )
    if not known:
        parts.append(
            html(
                '<text x="{}" y="{}" text-anchor="middle">no successful attempt to time</text>',
                _n(left + plot_w / 2),
                _n(pad_top + plot_h / 2),
            )
        )
    label = f"latency p50 and p95 over time of {model}"
    return _drawing(width, height, label, "latency", parts)


def factor_bars(model: str, risk: RiskScore, width: int = 420) -> Markup:
    """One bar per factor: the grey track is its weight, the fill its points."""
    row, label_w, value_w = 18, 120, 70
    scale_max = max([f.weight for f in risk.factors] + [1.0])
    bar_w = width - label_w - value_w
    height = row * len(risk.factors) + 4
    parts = []
    for index, f in enumerate(risk.factors):
        top = index * row + 2
        parts.append(
            html(
                '<text x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="12" fill="#eceff1"/>'
                '<rect class="points" x="{}" y="{}" width="{}" height="12" fill="{}">'
                "<title>{}</title></rect>"
                '<text x="{}" y="{}">{}</text>',
                label_w - 6,
                top + 12,
                f.factor.value,
                label_w,
                top + 2,
                _n(bar_w * f.weight / scale_max),
                label_w,
                top + 2,
                _n(bar_w * f.points / scale_max),
                _factor_color(f.badness),
                f.evidence,
                _n(label_w + bar_w + 6),
                top + 12,
                f"{f.points:.1f} / {f.weight:g}",
            )
        )
    return _drawing(width, height, f"risk factors of {model}", "factors", parts)


def _factor_color(badness: float) -> str:
    if badness >= 0.75:
        return MOSTLY_FAILED
    if badness >= 0.4:
        return "#ef6c00"
    return SOME_FAILED if badness > 0 else OK_COLOR


def coverage_bar(coverage: float | None, width: int = 120, height: int = 12) -> Markup:
    label = "nothing pinned affected" if coverage is None else f"coverage {coverage:.0%}"
    bar = '<rect x="0" y="0" width="{}" height="{}" fill="{}"/>'
    parts = [html(bar, width, height, "#eceff1")]
    if coverage is not None:
        color = OK_COLOR if coverage >= 1 else (SOME_FAILED if coverage >= 0.5 else MOSTLY_FAILED)
        parts.append(html(bar, _n(width * coverage), height, color))
    return _drawing(width, height, label, "coverage", parts)
