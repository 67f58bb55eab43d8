"""Inline SVG charts for the HTML report: drawn as text, no script, no external resource.

Every label that came from outside (a model id, a header) is escaped by the caller's
`esc`; numbers are formatted with fixed precision so the same report renders byte for
byte the same.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from modelaudit import history
from modelaudit.history import Window
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


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def _n(value: float) -> str:
    """A coordinate: one decimal, no trailing zero."""
    return f"{value:.1f}".removesuffix(".0")


def _open(width: int, height: int, label: str, css_class: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(label)}">'
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
) -> str:
    """One cell per bucket: green all ok, amber some failed, red mostly failed, grey only
    excluded attempts, pale when not probed."""
    by_start = {p.start: p for p in points}
    cell = width / max(len(starts), 1)
    parts = [_open(width, height, f"availability timeline of {model}", "timeline")]
    for index, start in enumerate(starts):
        point = by_start.get(start)
        parts.append(
            f'<rect x="{_n(index * cell)}" y="0" width="{_n(max(cell - 1, 1))}" '
            f'height="{height}" fill="{bucket_color(point)}">'
            f"<title>{esc(_bucket_title(start, point))}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


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
) -> str:
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

    parts = [
        _open(width, height, f"latency p50 and p95 over time of {model}", "latency"),
        f'<line x1="{left}" y1="{_n(pad_top + plot_h)}" x2="{width - right}" '
        f'y2="{_n(pad_top + plot_h)}" stroke="#90a4ae"/>',
        f'<text x="{left - 4}" y="{pad_top + 8}" text-anchor="end">{esc(text.ms(top))}</text>',
        f'<text x="{left - 4}" y="{_n(pad_top + plot_h)}" text-anchor="end">0</text>',
    ]
    if starts:
        parts.append(
            f'<text x="{left}" y="{height - 4}">{esc(text.when(starts[0]))}</text>'
            f'<text x="{width - right}" y="{height - 4}" text-anchor="end">'
            f"{esc(text.when(starts[-1]))}</text>"
        )
    if slo_drawn and slo_ms is not None:
        parts.append(
            f'<line class="slo" x1="{left}" y1="{y(slo_ms)}" x2="{width - right}" '
            f'y2="{y(slo_ms)}" stroke="{SLO_COLOR}" stroke-dasharray="4 3">'
            f"<title>SLO p95 {esc(text.ms(slo_ms))}</title></line>"
        )
    elif slo_ms is not None:
        parts.append(
            f'<text x="{width - right}" y="{pad_top + 8}" text-anchor="end">'
            f"SLO p95 {esc(text.ms(slo_ms))}: above the chart</text>"
        )
    for values, color, name in ((p95, P95_COLOR, "p95"), (p50, P50_COLOR, "p50")):
        for run in _segments(values):
            coords = " ".join(f"{x(i)},{y(v)}" for i, v in run)
            shape = "polyline" if len(run) > 1 else "circle"
            if shape == "circle":
                i, v = run[0]
                parts.append(f'<circle cx="{x(i)}" cy="{y(v)}" r="2" fill="{color}"/>')
            else:
                parts.append(
                    f'<polyline class="{name}" points="{coords}" fill="none" '
                    f'stroke="{color}" stroke-width="1.5"><title>{name}</title></polyline>'
                )
    if not known:
        parts.append(
            f'<text x="{_n(left + plot_w / 2)}" y="{_n(pad_top + plot_h / 2)}" '
            'text-anchor="middle">no successful attempt to time</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def factor_bars(model: str, risk: RiskScore, width: int = 420) -> str:
    """One bar per factor: the grey track is its weight, the fill its points."""
    row, label_w, value_w = 18, 120, 70
    scale_max = max([f.weight for f in risk.factors] + [1.0])
    bar_w = width - label_w - value_w
    height = row * len(risk.factors) + 4
    parts = [_open(width, height, f"risk factors of {model}", "factors")]
    for index, f in enumerate(risk.factors):
        top = index * row + 2
        track = bar_w * f.weight / scale_max
        fill = bar_w * f.points / scale_max
        parts.append(
            f'<text x="{label_w - 6}" y="{top + 12}" text-anchor="end">{esc(f.factor.value)}</text>'
            f'<rect x="{label_w}" y="{top + 2}" width="{_n(track)}" height="12" fill="#eceff1"/>'
            f'<rect class="points" x="{label_w}" y="{top + 2}" width="{_n(fill)}" height="12" '
            f'fill="{_factor_color(f.badness)}"><title>{esc(f.evidence)}</title></rect>'
            f'<text x="{_n(label_w + bar_w + 6)}" y="{top + 12}">'
            f"{f.points:.1f} / {f.weight:g}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _factor_color(badness: float) -> str:
    if badness >= 0.75:
        return MOSTLY_FAILED
    if badness >= 0.4:
        return "#ef6c00"
    return SOME_FAILED if badness > 0 else OK_COLOR


def coverage_bar(coverage: float | None, width: int = 120, height: int = 12) -> str:
    label = "nothing pinned affected" if coverage is None else f"coverage {coverage:.0%}"
    parts = [_open(width, height, label, "coverage")]
    parts.append(f'<rect x="0" y="0" width="{width}" height="{height}" fill="#eceff1"/>')
    if coverage is not None:
        color = OK_COLOR if coverage >= 1 else (SOME_FAILED if coverage >= 0.5 else MOSTLY_FAILED)
        parts.append(
            f'<rect x="0" y="0" width="{_n(width * coverage)}" height="{height}" fill="{color}"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
