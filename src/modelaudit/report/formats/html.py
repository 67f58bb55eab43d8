"""`--format html`: one self-contained page to forward: no script, no font, no CDN, readable
without JavaScript (sections fold with <details>), with inline SVG charts.

A Content-Security-Policy in the page forbids anything external even if a string slipped
through; every string that came from a provider or the registry is escaped anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelaudit.report import text
from modelaudit.report.formats import svg
from modelaudit.report.formats.base import ReportFormatter
from modelaudit.report.formats.svg import esc
from modelaudit.report.model import ACTION_STAGES
from modelaudit.risk.score import Level
from modelaudit.risk.stats import percent

if TYPE_CHECKING:
    from datetime import datetime

    from modelaudit.report.model import ModelView, Report
    from modelaudit.risk.stats import Proportion

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
:root { color-scheme: light; }
*, *::before, *::after { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; margin: 0 auto; max-width: 1280px; padding: 16px 24px 48px; color: #1b1f23;
  background: #fff; line-height: 1.4; overflow-wrap: break-word; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 1.05em; margin: 1em 0 0.4em; }
summary h3 { margin: 0; display: inline; }
details.more summary h2 { display: inline; border: 0; }
.headline { color: #57606a; margin-top: 0; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 16px 0; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 16px; min-width: 96px; }
.card b { display: block; font-size: 1.8em; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
.scroll { overflow-x: auto; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eaeef2;
  vertical-align: top; }
td.text { overflow-wrap: anywhere; }
.stage { display: block; margin-top: 3px; font-size: 0.85em; color: #57606a;
  white-space: nowrap; }
th { background: #f6f8fa; }
td.num { text-align: right; white-space: nowrap; }
td.nowrap, .nowrap { white-space: nowrap; }
.level { font-weight: 600; padding: 1px 8px; border-radius: 10px; white-space: nowrap;
  color: #fff; }
.level-low { background: #2e7d32; }
.level-elevated { background: #b08800; }
.level-high { background: #d1480f; }
.level-critical { background: #b71c1c; }
.unscored { color: #57606a; }
.muted { color: #57606a; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: 0.92em; background: #f6f8fa; padding: 0 3px; border-radius: 3px; }
code.id .seg { white-space: nowrap; }
details.model { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 12px;
  margin: 10px 0; }
details.model[open] summary { margin-bottom: 8px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px 32px; }
.chart { max-width: 100%; }
.chart h4 { margin: 4px 0; font-size: 0.85em; color: #57606a; font-weight: 600; }
svg { max-width: 100%; height: auto; }
svg text { font-size: 10px; fill: #3d444d; font-family: inherit; }
.legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px;
  vertical-align: middle; }
ul.recs { padding-left: 1.2em; }
ul.recs li { margin: 6px 0; }
footer { margin-top: 40px; color: #57606a; font-size: 0.85em; }
@media (max-width: 720px) {
  body { padding: 12px 12px 32px; }
  h1 { font-size: 1.3em; }
  .scroll { overflow-x: visible; }
  table, thead, tbody, tr, th, td { display: block; width: 100%; }
  thead { display: none; }
  tr { border: 1px solid #d0d7de; border-radius: 6px; margin: 8px 0; padding: 4px 0; }
  td { border: 0; padding: 3px 10px; text-align: left; white-space: normal; }
  td.num, td.nowrap { text-align: left; white-space: normal; }
  td[data-label]::before { content: attr(data-label) ": "; font-weight: 600;
    color: #57606a; }
  td:empty { display: none; }
}
"""


class HtmlFormat(ReportFormatter):
    draws_timelines = True

    def write_safe(self, value: Report) -> None:
        self.text(render(value))


FORMAT = HtmlFormat


FOLD_ABOVE = 200
"""A page of more models than this leads with those that need action (broken now or
retiring, or at high or critical risk), each with its charts, and folds the others into one
closed section of compact rows (a click away, no script): a person does not read 10,000
rows, and 10,000 models' charts make a page of 140 MB."""


def attention(report: Report) -> tuple[list[int], list[int]]:
    """The indexes (in `report.models`) of the models shown in full, and of those folded
    away: all in full up to `FOLD_ABOVE` models; above it, those that need action."""
    everything = list(range(len(report.models)))
    if len(report.models) <= FOLD_ABOVE:
        return everything, []
    urgent = [i for i in everything if _needs_attention(report.models[i])]
    kept = set(urgent)
    return urgent, [i for i in everything if i not in kept]


def _needs_attention(model: ModelView) -> bool:
    risk = model.risk
    return risk is not None and (
        risk.stage in ACTION_STAGES or risk.level in (Level.HIGH, Level.CRITICAL)
    )


def render(report: Report) -> str:
    starts = svg.bucket_starts(report.drawn.since, report.drawn.until, report.bucket)
    ids = Ids(report)
    shown, folded = attention(report)
    body = [
        _header(report),
        _withdrawals(report),
        _recommendations(report, ids),
        _models(report, starts, shown),
        _folded(report, folded),
        _regions(report),
        _continuity(report),
        _incidents(report),
        _changes(report),
        _ceilings(report),
        _details(report, starts, ids, shown),
        f"<footer>modelaudit {esc(report.tool_version)} &middot; generated "
        f"{esc(text.when(report.generated_at))} UTC"
        + (
            f" &middot; registry sha256 <code>{esc(report.registry_sha256[:12])}</code>"
            if report.registry_sha256
            else ""
        )
        + " &middot; risk formula and fields: docs/report.md</footer>",
    ]
    title = f"modelaudit report: last {report.label}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(part for part in body if part)
        + "\n</body>\n</html>\n"
    )


def _level(model: ModelView) -> str:
    if model.risk is None:
        return '<span class="unscored">not in registry</span>'
    level = model.risk.level.value
    return f'<span class="level level-{level}">{model.risk.score} {level}</span>'


@dataclass(frozen=True)
class Cell:
    """One table cell: markup this module built (escaped text, an id, a chart)."""

    markup: str
    css_class: str = ""


def _table(header: list[str], rows: list[list[Cell]], css_class: str = "") -> str:
    """A table that reads as a table on a wide screen and, on a phone, as one card per
    row whose cells carry their column's name (`data-label`)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(_cell(cell, label) for cell, label in zip(row, header, strict=True))
        + "</tr>"
        for row in rows
    )
    attr = f' class="{css_class}"' if css_class else ""
    table = f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def _cell(cell: Cell, label: str) -> str:
    attr = f' class="{cell.css_class}"' if cell.css_class else ""
    return f'<td data-label="{esc(label)}"{attr}>{cell.markup}</td>'


def _td(value: object, css_class: str = "") -> Cell:
    return Cell(esc(value), css_class)


SEGMENT_MAX = 40
"""Longer parts of an id may break inside: a phone's line holds about 40 of them."""


def model_id(ref: str) -> str:
    """`provider/model` as code that wraps only after a `/`, never inside a name: each
    part is kept whole, and a break is offered after every slash."""
    parts = ref.split("/")
    shown = [
        f'<span class="seg">{esc(part)}</span>' if len(part) <= SEGMENT_MAX else esc(part)
        for part in parts
    ]
    return f'<code class="id">{"/<wbr>".join(shown)}</code>'


def _availability(share: Proportion) -> str:
    """`98.7% [95.4-99.6%] n=156`, wrapping before the sample, never inside the interval."""
    head, sep, sample = text.availability(share).rpartition(" n=")
    if not sep:
        return esc(sample)
    return f'<span class="nowrap">{esc(head)}</span> n={esc(sample)}'


_WORD = re.compile(r"[^\s,;()\[\]]+")
"""A word of free text, as far as a `provider/model` reference can reach."""


class Ids:
    """Marks the report's `provider/model` references inside free text as ids, so a
    sentence wraps around them like any id: after a `/`, never inside a name."""

    def __init__(self, report: Report) -> None:
        self._refs = frozenset(m.ref for m in report.models)

    def mark(self, value: str) -> str:
        """`value` escaped, each whole word that is a known reference as an id (a
        sentence's full stop or colon after it stays text)."""
        parts, done = [], 0
        for word in _WORD.finditer(value):
            ref = word.group(0).rstrip(".:")
            if "/" in ref and ref in self._refs:
                end = word.start() + len(ref)
                parts += [esc(value[done : word.start()]), model_id(ref)]
                done = end
        parts.append(esc(value[done:]))
        return "".join(parts)


def _header(report: Report) -> str:
    cards = "".join(
        f'<div class="card"><b>{count}</b><span class="level level-{level.value}">'
        f"{level.value}</span></div>"
        for level, count in report.levels.items()
    )
    empty = (
        f"<p><strong>No probe history in the last {esc(report.label)}</strong>: "
        "run <code>modelaudit probe</code> first.</p>"
        if not report.has_history
        else ""
    )
    return (
        f"<header><h1>Model continuity report: last {esc(report.label)}</h1>"
        f'<p class="headline">{esc(text.headline(report))}</p>'
        f'<div class="cards">{cards}</div>{empty}</header>'
    )


def _recommendations(report: Report, ids: Ids) -> str:
    if not report.recommendations:
        return (
            '<section id="recommendations"><h2>Recommendations</h2>'
            "<p>No model is broken now or retiring.</p></section>"
        )
    items = "".join(
        f'<li><span class="level level-{r.risk.level.value}">{r.risk.score} '
        f"{r.risk.level.value}</span> {model_id(r.ref)}"
        f"{' (pinned)' if r.pinned else ''}: {ids.mark(r.risk.situation)}. "
        f"<strong>{ids.mark(r.advice)}</strong></li>"
        for r in report.recommendations
    )
    return (
        '<section id="recommendations"><h2>Recommendations</h2>'
        '<p class="muted">Broken now first, then what retires soonest.</p>'
        f'<ul class="recs">{items}</ul></section>'
    )


def _models(report: Report, starts: list[datetime], shown: list[int]) -> str:
    rows = [
        [
            Cell(_level(m) + (f'<span class="stage">{esc(text.stage(m.risk))}</span>')),
            Cell(f'<a href="#m{index}">{model_id(m.ref)}</a>'),
            _td("yes" if m.pinned else ""),
            Cell(_availability(m.availability)),
            Cell(svg.availability_timeline(m.ref, m.timeline, starts, width=168, height=14)),
            _td(text.latency(m.latency)),
            _td(text.errors(m)),
            _td(text.verdict(m)),
            _td(text.factor_summary(m.risk) if m.risk else "-"),
        ]
        for index, m in ((i, report.models[i]) for i in shown)
    ]
    legend = (
        '<p class="legend muted">Timeline cells:'
        f'<span style="background:{svg.OK_COLOR}"></span>all ok'
        f'<span style="background:{svg.SOME_FAILED}"></span>some failed'
        f'<span style="background:{svg.MOSTLY_FAILED}"></span>mostly failed'
        f'<span style="background:{svg.ONLY_EXCLUDED}"></span>only rate-limited / our access'
        f'<span style="background:{svg.NO_DATA}"></span>not probed</p>'
    )
    header = [
        "Risk",
        "Model",
        "Pinned",
        "Availability",
        "Timeline",
        "Latency p50 / p95 / p99",
        "Errors",
        "Last verdict",
        "Top factors",
    ]
    title = "Models, most urgent first"
    if len(shown) < len(report.models):
        title = f"{len(shown):,} of {len(report.models):,} models need action, most urgent first"
    return (
        f'<section id="models"><h2>{esc(title)}</h2>'
        f'<p class="muted">{esc(text.drawn(report))}</p>'
        + _table(header, rows)
        + legend
        + "</section>"
    )


def _folded(report: Report, folded: list[int]) -> str:
    """The models a large page does not show in full: one closed section, a compact row
    each (no chart), in the same order of urgency."""
    if not folded:
        return ""
    rows = [
        [
            Cell(_level(m)),
            Cell(model_id(m.ref)),
            _td("yes" if m.pinned else ""),
            Cell(_availability(m.availability)),
            _td(text.latency(m.latency)),
            _td(text.errors(m)),
            _td(text.verdict(m)),
            _td(text.factor_summary(m.risk) if m.risk else "-"),
        ]
        for m in (report.models[i] for i in folded)
    ]
    header = [
        "Risk",
        "Model",
        "Pinned",
        "Availability",
        "Latency p50 / p95 / p99",
        "Errors",
        "Last verdict",
        "Top factors",
    ]
    return (
        f'<section id="more"><details class="more"><summary><h2>{len(folded):,} more models, '
        "most urgent first</h2></summary>"
        '<p class="muted">None is broken, retiring or at high risk; each row is what the '
        "window showed of it.</p>" + _table(header, rows) + "</details></section>"
    )


def _continuity(report: Report) -> str:
    drills = [*report.portfolio.vendors, *report.portfolio.jurisdictions]
    if not drills:
        return ""
    rows = [
        [
            _td(d.removal.label),
            _td(len(d.affected), "num"),
            Cell(f"{svg.coverage_bar(d.coverage)} {esc(text.coverage(d))}"),
            Cell(", ".join(model_id(o.ref) for o in d.affected if not o.covered) or "-"),
        ]
        for d in drills
    ]
    return (
        '<section id="continuity"><h2>Continuity: if it disappeared tomorrow</h2>'
        '<p class="muted">For each vendor and jurisdiction serving a pinned model: the share '
        "of the pinned models it serves that keep a fallback elsewhere that answered in its "
        "latest run.</p>"
        + _table(["Without", "Pinned affected", "Coverage", "Left without a fallback"], rows)
        + "</section>"
    )


def _withdrawals(report: Report) -> str:
    lines = text.withdrawal_lines(report)
    if not lines:
        return ""
    items = "".join(f"<li>{esc(line)}</li>" for line in lines)
    return (
        '<section id="withdrawals"><h2>Withdrawn in a region</h2>'
        f'<ul class="recs">{items}</ul></section>'
    )


def _regions(report: Report) -> str:
    if not text.fleet(report):
        return ""
    header, rows = text.regional(report)
    return (
        '<section id="regions"><h2>Availability by region</h2>'
        + _table(header, [[_td(cell) for cell in row] for row in rows])
        + "</section>"
    )


def _incidents(report: Report) -> str:
    if not report.incidents:
        return ""
    downtime = [_with_id(row) for row in text.downtime(report)]
    rows, hidden = text.incidents(report)
    latest = [_with_id(row) for row in rows]
    return (
        '<section id="incidents"><h2>Incidents</h2>'
        '<p class="muted">From the first run that found a model down or gone to the next '
        "run that found it answering.</p><h3>Downtime by model</h3>"
        + _table(["Model", "Incidents", "Down in the window", "Longest", "Ongoing since"], downtime)
        + "<h3>Latest incidents</h3>"
        + _table(["Model", "Verdict", "Start (UTC)", "End (UTC)", "Duration", "Runs"], latest)
        + (f'<p class="muted">{esc(text.left_out(hidden, "incidents"))}</p>' if hidden else "")
        + "</section>"
    )


def _with_id(row: list[str]) -> list[Cell]:
    """A row of text whose first cell is a `provider/model`."""
    return [Cell(model_id(row[0])), *(_td(cell) for cell in row[1:])]


def _changes(report: Report) -> str:
    rows, hidden = text.changes(report)
    if not rows:
        return ""
    cells = [[_td(row[0]), Cell(model_id(row[1])), _td(row[2], "text")] for row in rows]
    return (
        '<section id="changes"><h2>Catalog changes and served-model drift</h2>'
        + _table(["At (UTC)", "Model", "Change"], cells)
        + (f'<p class="muted">{esc(text.left_out(hidden, "changes"))}</p>' if hidden else "")
        + "</section>"
    )


def _ceilings(report: Report) -> str:
    rows = [
        [
            Cell(model_id(m.ref)),
            _td(t.header, "text"),
            _td(f"{t.peak:g}", "num"),
            _td(f"{t.last:g}", "num"),
            _td(f"{t.drop * 100:.0f}%", "num"),
        ]
        for m in report.models
        for t in m.ceilings
        if t.falling
    ]
    if not rows:
        return ""
    return (
        '<section id="ceilings"><h2>Rate-limit ceilings falling</h2>'
        '<p class="muted">A vendor throttling a model down is a leading indicator of its '
        "withdrawal.</p>" + _table(["Model", "Header", "From", "To", "Fall"], rows) + "</section>"
    )


def _details(report: Report, starts: list[datetime], ids: Ids, shown: list[int]) -> str:
    articles = [_model_detail(index, report.models[index], starts, ids) for index in shown]
    return (
        '<section id="details"><h2>Per model</h2>'
        '<p class="muted">Models above low risk are open; click any other to unfold it.</p>'
        + "".join(articles)
        + "</section>"
    )


def _model_detail(index: int, m: ModelView, starts: list[datetime], ids: Ids) -> str:
    open_attr = " open" if m.risk and m.risk.level is not Level.LOW else ""
    facts = [
        f"pinned: {'yes' if m.pinned else 'no'}",
        f"weights: {m.weights.value}" if m.weights else "",
        f"hosting: {m.hosting.value}" if m.hosting else "",
        f"jurisdiction: {m.jurisdiction}" if m.jurisdiction else "",
        f"family: {m.family}" if m.family else "",
        f"retires: {m.retires.isoformat()}" if m.retires else "",
        f"availability: {text.availability(m.availability)}, {m.excluded} excluded",
        text.maintenance(m.maintenance),
        f"SLO: {percent(m.slo_availability)}, p95 {text.ms(m.slo_p95_latency_ms)}"
        if m.slo_availability is not None
        else "",
        f"TTFT p50/p95/p99: {text.latency(m.ttft)}" if m.ttft.n else "",
        (
            f"incidents: {m.downtime.incidents}, down {text.duration(m.downtime.total)} "
            f"in the window, longest {text.duration(m.downtime.longest)}"
            if m.downtime
            else ""
        ),
    ]
    charts = [
        _chart("Availability timeline", svg.availability_timeline(m.ref, m.timeline, starts)),
        _chart(
            "Latency p50 (blue) and p95 (purple); dashed: SLO p95",
            svg.latency_chart(m.ref, m.timeline, starts, m.slo_p95_latency_ms),
        ),
    ]
    if m.risk:
        charts.append(_chart("Risk factors: points of weight", svg.factor_bars(m.ref, m.risk)))
    parts = [
        f'<details class="model" id="m{index}"{open_attr}><summary>{_level(m)} '
        f"<h3>{model_id(m.ref)}</h3></summary>",
    ]
    if m.risk:
        parts.append(
            f"<p><strong>{esc(m.risk.stage.label)}</strong>: {ids.mark(m.risk.situation)}</p>"
        )
    parts += [
        f'<p class="muted">{esc(" · ".join(f for f in facts if f))}</p>',
        f'<div class="charts">{"".join(charts)}</div>',
    ]
    if m.risk:
        rows = [
            [
                _td(f.factor.value),
                _td(f"{f.points:.1f} / {f.weight:g}", "num"),
                Cell(ids.mark(f.evidence), "text"),
            ]
            for f in m.risk.factors
        ]
        parts.append(_table(["Factor", "Points / weight", "Evidence"], rows))
    if m.fallbacks:
        rows = [
            [
                Cell(model_id(o.ref)),
                _td(o.source),
                _td(o.note, "text"),
                _td(text.ms(o.latency_p95_ms), "num"),
            ]
            for o in m.fallbacks
        ]
        parts.append(
            "<h4>Fallbacks, best first</h4>"
            + _table(["Fallback", "Source", "What was measured", "p95"], rows)
        )
    if m.error_classes:
        classes = ", ".join(f"{c.value} {n}" for c, n in m.error_classes)
        parts.append(f'<p class="muted">Attempts by class: {esc(classes)}</p>')
    if m.last_verdict:
        v = m.last_verdict
        parts.append(
            f'<p class="muted">Last verdict: {esc(v.verdict.value)} at {esc(text.when(v.at))} '
            f"UTC: {esc(v.reason)}</p>"
        )
    parts.append("</details>")
    return "".join(parts)


def _chart(title: str, drawing: str) -> str:
    return f'<div class="chart"><h4>{esc(title)}</h4>{drawing}</div>'
