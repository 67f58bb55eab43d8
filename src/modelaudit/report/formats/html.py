"""`--format html`: one self-contained page to forward: no script, no font, no CDN, readable
without JavaScript (sections fold with <details>), with inline SVG charts.

The page is `Markup` built by `output.markup.html` and `join`: every value put into it is
escaped unless it is markup already, so a string from a provider, the registry or the
history is text wherever it lands (element, attribute, SVG title). A
Content-Security-Policy in the page forbids anything external even so.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from modelaudit.output.markup import Markup, Template, html, join
from modelaudit.report import text
from modelaudit.report.formats import svg
from modelaudit.report.formats.base import ReportFormatter
from modelaudit.report.model import ACTION_STAGES
from modelaudit.risk.score import Level
from modelaudit.risk.stats import percent

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from modelaudit.report.model import ModelView, Report
    from modelaudit.risk.stats import Proportion

CSP = Markup("default-src 'none'; style-src 'unsafe-inline'; img-src data:")

STYLE = Markup("""
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
""")


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


def render(report: Report) -> Markup:
    starts = svg.bucket_starts(report.drawn.since, report.drawn.until, report.bucket)
    ids = Ids(report)
    shown, folded = attention(report)
    sections = [
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
        _footer(report),
    ]
    head = html(
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta http-equiv="Content-Security-Policy" content="{}">\n'
        "<title>{}</title>\n<style>{}</style>\n</head>\n<body>",
        CSP,
        f"modelaudit report: last {report.label}",
        STYLE,
    )
    # One join for the whole page: a 10,000-model page is 9 MB, each copy of it counts.
    tail = Markup("</body>\n</html>\n")
    return join([head, *(part for part in sections if part), tail], "\n")


def _footer(report: Report) -> Markup:
    registry = (
        html(" &middot; registry sha256 <code>{}</code>", report.registry_sha256[:12])
        if report.registry_sha256
        else ""
    )
    return html(
        "<footer>modelaudit {} &middot; generated {} UTC{} &middot; risk formula and fields: "
        "docs/report.md</footer>",
        report.tool_version,
        text.when(report.generated_at),
        registry,
    )


def _level(model: ModelView) -> Markup:
    if model.risk is None:
        return Markup('<span class="unscored">not in registry</span>')
    return _badge(model.risk.level, model.risk.score)


@functools.cache
def _badge(level: Level, score: int) -> Markup:
    """A risk badge: a few hundred distinct ones on a page of 10,000 models."""
    return html('<span class="level level-{}">{} {}</span>', level.value, score, level.value)


Column = str | tuple[str, str]
"""A table's column: its name, or its name and the class of its cells (`num`, `text`)."""


def _table(columns: Sequence[Column], rows: Iterable[Sequence[object]]) -> Markup:
    """A table that reads as a table on a wide screen and, on a phone, as one card per
    row whose cells carry their column's name (`data-label`). A cell is markup, or a
    value shown as text."""
    named = [(column, "") if isinstance(column, str) else column for column in columns]
    row = _row(named)
    return html(
        '<div class="scroll"><table><thead><tr>{}</tr></thead><tbody>{}</tbody></table></div>',
        join(html("<th>{}</th>", name) for name, _ in named),
        join(row(*cells) for cells in rows),
    )


def _row(columns: list[tuple[str, str]]) -> Template:
    """One row of the table as a template, its labels escaped once for every row."""
    opening = [
        html('<td data-label="{}" class="{}">', name, css)
        if css
        else html('<td data-label="{}">', name)
        for name, css in columns
    ]
    closing = Markup("</td>")
    return Template(
        Markup("<tr>") + opening[0],
        *(closing + cell for cell in opening[1:]),
        Markup("</td></tr>"),
    )


SEGMENT_MAX = 40
"""Longer parts of an id may break inside: a phone's line holds about 40 of them."""


def model_id(ref: str) -> Markup:
    """`provider/model` as code that wraps only after a `/`, never inside a name: each
    part is kept whole, and a break is offered after every slash."""
    parts = ref.split("/")
    if len(parts) == 2 and len(parts[0]) <= SEGMENT_MAX and len(parts[1]) <= SEGMENT_MAX:
        return html(  # most ids: the provider's name and a short model's
            '<code class="id"><span class="seg">{}</span>/<wbr><span class="seg">{}</span></code>',
            *parts,
        )
    shown = (
        html('<span class="seg">{}</span>', part) if len(part) <= SEGMENT_MAX else part
        for part in parts
    )
    return html('<code class="id">{}</code>', join(shown, "/<wbr>"))


def _availability(share: Proportion) -> Markup:
    """`98.7% [95.4-99.6%] n=156`, wrapping before the sample, never inside the interval."""
    head, sep, sample = text.availability(share).rpartition(" n=")
    if not sep:
        return html("{}", sample)
    return html('<span class="nowrap">{}</span> n={}', head, sample)


_WORD = re.compile(r"[^\s,;()\[\]]+")
"""A word of free text, as far as a `provider/model` reference can reach."""


class Ids:
    """Marks the report's `provider/model` references inside free text as ids, so a
    sentence wraps around them like any id: after a `/`, never inside a name."""

    def __init__(self, report: Report) -> None:
        self._refs = frozenset(m.ref for m in report.models)

    def mark(self, value: str) -> Markup:
        """`value` escaped, each whole word that is a known reference as an id (a
        sentence's full stop or colon after it stays text)."""
        parts: list[Markup | str] = []
        done = 0
        for word in _WORD.finditer(value):
            ref = word.group(0).rstrip(".:")
            if "/" in ref and ref in self._refs:
                end = word.start() + len(ref)
                parts += [value[done : word.start()], model_id(ref)]
                done = end
        parts.append(value[done:])
        return join(parts)


def _header(report: Report) -> Markup:
    cards = join(
        html(
            '<div class="card"><b>{}</b><span class="level level-{}">{}</span></div>',
            count,
            level.value,
            level.value,
        )
        for level, count in report.levels.items()
    )
    empty = (
        html(
            "<p><strong>No probe history in the last {}</strong>: "
            "run <code>modelaudit probe</code> first.</p>",
            report.label,
        )
        if not report.has_history
        else ""
    )
    return html(
        "<header><h1>Model continuity report: last {}</h1>"
        '<p class="headline">{}</p><div class="cards">{}</div>{}</header>',
        report.label,
        text.headline(report),
        cards,
        empty,
    )


def _recommendations(report: Report, ids: Ids) -> Markup:
    if not report.recommendations:
        return Markup(
            '<section id="recommendations"><h2>Recommendations</h2>'
            "<p>No model is broken now or retiring.</p></section>"
        )
    items = join(
        html(
            '<li><span class="level level-{}">{} {}</span> {}{}: {}. <strong>{}</strong></li>',
            r.risk.level.value,
            r.risk.score,
            r.risk.level.value,
            model_id(r.ref),
            " (pinned)" if r.pinned else "",
            ids.mark(r.risk.situation),
            ids.mark(r.advice),
        )
        for r in report.recommendations
    )
    return html(
        '<section id="recommendations"><h2>Recommendations</h2>'
        '<p class="muted">Broken now first, then what retires soonest.</p>'
        '<ul class="recs">{}</ul></section>',
        items,
    )


def _models(report: Report, starts: list[datetime], shown: list[int]) -> Markup:
    rows = [
        [
            html('{}<span class="stage">{}</span>', _level(m), text.stage(m.risk)),
            html('<a href="#m{}">{}</a>', index, model_id(m.ref)),
            "yes" if m.pinned else "",
            _availability(m.availability),
            svg.availability_timeline(m.ref, m.timeline, starts, width=168, height=14),
            text.latency(m.latency),
            text.errors(m),
            text.verdict(m),
            text.factor_summary(m.risk) if m.risk else "-",
        ]
        for index, m in ((i, report.models[i]) for i in shown)
    ]
    swatch = '<span style="background:{}"></span>{}'
    legend = html(
        '<p class="legend muted">Timeline cells:{}</p>',
        join(
            html(swatch, color, meaning)
            for color, meaning in (
                (svg.OK_COLOR, "all ok"),
                (svg.SOME_FAILED, "some failed"),
                (svg.MOSTLY_FAILED, "mostly failed"),
                (svg.ONLY_EXCLUDED, "only rate-limited / our access"),
                (svg.NO_DATA, "not probed"),
            )
        ),
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
    return html(
        '<section id="models"><h2>{}</h2><p class="muted">{}</p>{}{}</section>',
        title,
        text.drawn(report),
        _table(header, rows),
        legend,
    )


def _folded(report: Report, folded: list[int]) -> Markup | str:
    """The models a large page does not show in full: one closed section, a compact row
    each (no chart), in the same order of urgency."""
    if not folded:
        return ""
    rows = [
        [
            _level(m),
            model_id(m.ref),
            "yes" if m.pinned else "",
            _availability(m.availability),
            text.latency(m.latency),
            text.errors(m),
            text.verdict(m),
            text.factor_summary(m.risk) if m.risk else "-",
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
    return html(
        '<section id="more"><details class="more"><summary><h2>{} more models, '
        "most urgent first</h2></summary>"
        '<p class="muted">None is broken, retiring or at high risk; each row is what the '
        "window showed of it.</p>{}</details></section>",
        f"{len(folded):,}",
        _table(header, rows),
    )


def _continuity(report: Report) -> Markup | str:
    drills = [*report.portfolio.vendors, *report.portfolio.jurisdictions]
    if not drills:
        return ""
    rows = [
        [
            d.removal.label,
            len(d.affected),
            html("{} {}", svg.coverage_bar(d.coverage), text.coverage(d)),
            join((model_id(o.ref) for o in d.affected if not o.covered), ", ") or html("-"),
        ]
        for d in drills
    ]
    return html(
        '<section id="continuity"><h2>Continuity: if it disappeared tomorrow</h2>'
        '<p class="muted">For each vendor and jurisdiction serving a pinned model: the share '
        "of the pinned models it serves that keep a fallback elsewhere that answered in its "
        "latest run.</p>{}</section>",
        _table(
            ["Without", ("Pinned affected", "num"), "Coverage", "Left without a fallback"], rows
        ),
    )


def _withdrawals(report: Report) -> Markup | str:
    lines = text.withdrawal_lines(report)
    if not lines:
        return ""
    return html(
        '<section id="withdrawals"><h2>Withdrawn in a region</h2>'
        '<ul class="recs">{}</ul></section>',
        join(html("<li>{}</li>", line) for line in lines),
    )


def _regions(report: Report) -> Markup | str:
    if not text.fleet(report):
        return ""
    header, rows = text.regional(report)
    return html(
        '<section id="regions"><h2>Availability by region</h2>{}</section>',
        _table(header, rows),
    )


def _left_out(hidden: int, what: str) -> Markup | str:
    return html('<p class="muted">{}</p>', text.left_out(hidden, what)) if hidden else ""


def _incidents(report: Report) -> Markup | str:
    if not report.incidents:
        return ""
    downtime = [_with_id(row) for row in text.downtime(report)]
    rows, hidden = text.incidents(report)
    latest = [_with_id(row) for row in rows]
    return html(
        '<section id="incidents"><h2>Incidents</h2>'
        '<p class="muted">From the first run that found a model down or gone to the next '
        "run that found it answering.</p><h3>Downtime by model</h3>{}"
        "<h3>Latest incidents</h3>{}{}</section>",
        _table(["Model", "Incidents", "Down in the window", "Longest", "Ongoing since"], downtime),
        _table(["Model", "Verdict", "Start (UTC)", "End (UTC)", "Duration", "Runs"], latest),
        _left_out(hidden, "incidents"),
    )


def _with_id(row: list[str]) -> list[object]:
    """A row of text whose first cell is a `provider/model`."""
    return [model_id(row[0]), *row[1:]]


def _changes(report: Report) -> Markup | str:
    rows, hidden = text.changes(report)
    if not rows:
        return ""
    cells = [[row[0], model_id(row[1]), row[2]] for row in rows]
    return html(
        '<section id="changes"><h2>Catalog changes and served-model drift</h2>{}{}</section>',
        _table(["At (UTC)", "Model", ("Change", "text")], cells),
        _left_out(hidden, "changes"),
    )


def _ceilings(report: Report) -> Markup | str:
    rows = [
        [
            model_id(m.ref),
            t.header,
            f"{t.peak:g}",
            f"{t.last:g}",
            f"{t.drop * 100:.0f}%",
        ]
        for m in report.models
        for t in m.ceilings
        if t.falling
    ]
    if not rows:
        return ""
    return html(
        '<section id="ceilings"><h2>Rate-limit ceilings falling</h2>'
        '<p class="muted">A vendor throttling a model down is a leading indicator of its '
        "withdrawal.</p>{}</section>",
        _table(
            ["Model", ("Header", "text"), ("From", "num"), ("To", "num"), ("Fall", "num")], rows
        ),
    )


def _details(report: Report, starts: list[datetime], ids: Ids, shown: list[int]) -> Markup:
    return html(
        '<section id="details"><h2>Per model</h2>'
        '<p class="muted">Models above low risk are open; click any other to unfold it.</p>'
        "{}</section>",
        join(_model_detail(index, report.models[index], starts, ids) for index in shown),
    )


def _model_detail(index: int, m: ModelView, starts: list[datetime], ids: Ids) -> Markup:
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
        html(
            '<details class="model" id="m{}"{}><summary>{} <h3>{}</h3></summary>',
            index,
            Markup(" open") if m.risk and m.risk.level is not Level.LOW else "",
            _level(m),
            model_id(m.ref),
        )
    ]
    if m.risk:
        parts.append(
            html("<p><strong>{}</strong>: {}</p>", m.risk.stage.label, ids.mark(m.risk.situation))
        )
    parts += [
        html('<p class="muted">{}</p>', " · ".join(f for f in facts if f)),
        html('<div class="charts">{}</div>', join(charts)),
    ]
    if m.risk:
        rows = [
            [
                f.factor.value,
                f"{f.points:.1f} / {f.weight:g}",
                ids.mark(f.evidence),
            ]
            for f in m.risk.factors
        ]
        parts.append(_table(["Factor", ("Points / weight", "num"), ("Evidence", "text")], rows))
    if m.fallbacks:
        rows = [
            [
                model_id(o.ref),
                o.source,
                o.note,
                text.ms(o.latency_p95_ms),
            ]
            for o in m.fallbacks
        ]
        parts.append(
            html(
                "<h4>Fallbacks, best first</h4>{}",
                _table(["Fallback", "Source", ("What was measured", "text"), ("p95", "num")], rows),
            )
        )
    if m.error_classes:
        classes = ", ".join(f"{c.value} {n}" for c, n in m.error_classes)
        parts.append(html('<p class="muted">Attempts by class: {}</p>', classes))
    if m.last_verdict:
        v = m.last_verdict
        parts.append(
            html(
                '<p class="muted">Last verdict: {} at {} UTC: {}</p>',
                v.verdict.value,
                text.when(v.at),
                v.reason,
            )
        )
    parts.append(Markup("</details>"))
    return join(parts)


def _chart(title: str, drawing: Markup) -> Markup:
    return html('<div class="chart"><h4>{}</h4>{}</div>', title, drawing)
