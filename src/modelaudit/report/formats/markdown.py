"""`--format markdown`: GitHub-flavoured Markdown for a PR comment or a step summary.

GitHub caps a step summary at 1 MiB, so the document is held under MAX_BYTES: when the
whole of it would not fit, the long lists are cut (the least risky models, the oldest
events) and each cut says how many rows it left out. Every string is escaped, so a model
id or a reason cannot inject Markdown or HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modelaudit.report import text
from modelaudit.report.formats.base import ReportFormatter
from modelaudit.risk.score import Level

if TYPE_CHECKING:
    from collections.abc import Sequence

    from modelaudit.report.model import Report

MAX_BYTES = 1_000_000
"""Under GitHub's 1 MiB (1,048,576 bytes) step-summary limit, with room to spare."""
LEVEL_MARK = {
    Level.LOW: "🟢",
    Level.ELEVATED: "🟡",
    Level.HIGH: "🟠",
    Level.CRITICAL: "🔴",
}
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        **{c: "\\" + c for c in "\\`*_[]|#~!"},
        **dict.fromkeys("\n\r\t\x0c\x0b", " "),
    }
)


def md(value: object) -> str:
    """Text safe in a Markdown table cell: no HTML, no formatting, no line breaks."""
    return str(value).translate(_ESCAPES)


@dataclass(frozen=True)
class _Section:
    """A heading, a table, and which end of it survives a cut."""

    heading: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    newest_last: bool = False
    """The rows run oldest first: a cut keeps the last ones."""
    cuttable: bool = True
    folded: bool = False
    """Inside a <details> block (long and secondary)."""
    note: str = ""
    """A line under the table (rows the human formats never list)."""
    _lines: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    def line(self, index: int) -> str:
        """Row `index` as an escaped table line, built once however often the cut is tried."""
        found = self._lines.get(index)
        if found is None:
            found = "| " + " | ".join(md(c) for c in self.rows[index]) + " |"
            self._lines[index] = found
        return found


class MarkdownFormat(ReportFormatter):
    def write_safe(self, value: Report) -> None:
        self.text(render(value))


FORMAT = MarkdownFormat


def render(report: Report, max_bytes: int = MAX_BYTES) -> str:
    """The whole report if it fits in `max_bytes`; else its long lists cut until it does."""
    sections = _sections(report)
    document = _document(report, sections, None)
    limit = max((len(s.rows) for s in sections), default=0)
    while len(document.encode()) > max_bytes and limit > 0:
        limit //= 2
        document = _document(report, sections, limit)
    if len(document.encode()) > max_bytes:  # the fixed parts alone are too big
        cut = document.encode()[: max_bytes - 64].decode(errors="ignore")
        document = cut + "\n\n_(truncated to fit GitHub's size limit)_\n"
    return document


def _document(report: Report, sections: list[_Section], limit: int | None) -> str:
    parts = [f"# modelaudit report: last {md(report.label)}", md(text.headline(report))]
    if not report.has_history:
        parts.append(
            f"**No probe history in the last {md(report.label)}**: run `modelaudit probe`."
        )
    withdrawn = text.withdrawal_lines(report)
    if withdrawn:
        parts.append(
            "## Withdrawn in a region\n\n" + "\n".join(f"- **{md(line)}**" for line in withdrawn)
        )
    parts.append(_recommendations(report))
    parts += [_section(s, limit) for s in sections]
    parts.append(
        f"<sub>modelaudit {md(report.tool_version)}, "
        f"generated {text.when(report.generated_at)} UTC</sub>"
    )
    return "\n\n".join(parts) + "\n"


def _section(section: _Section, limit: int | None) -> str:
    shown = range(len(section.rows))
    if limit is not None and section.cuttable and len(shown) > limit:
        shown = shown[len(shown) - limit :] if section.newest_last else shown[:limit]
    lines = ["| " + " | ".join(section.header) + " |", "|" + "---|" * len(section.header)]
    lines += [section.line(index) for index in shown]
    if len(shown) < len(section.rows):
        which = "oldest" if section.newest_last else "last"
        lines.append(
            f"\n_{len(section.rows) - len(shown)} {which} rows left out to fit GitHub's size "
            "limit: see the JSON or HTML report._"
        )
    if section.note:
        lines.append(f"\n_{md(section.note)}_")
    table = "\n".join(lines)
    if section.folded:
        return f"<details><summary>{section.heading}</summary>\n\n{table}\n\n</details>"
    return f"## {section.heading}\n\n{table}"


def _risk(score: int, level: Level) -> str:
    return f"{LEVEL_MARK[level]} {score} {level.value}"


def _recommendations(report: Report) -> str:
    if not report.recommendations:
        return "## Recommendations\n\nNo model is broken now or retiring."
    items = [
        f"- **{md(r.label)}** ({md(_risk(r.risk.score, r.risk.level))}): "
        f"{md(r.risk.situation)}. **{md(r.advice)}**"
        for r in report.recommendations
    ]
    return "## Recommendations\n\n" + "\n".join(items)


def _sections(report: Report) -> list[_Section]:
    sections = []
    if text.fleet(report):
        header, rows = text.regional(report)
        sections.append(_Section("Availability by region (last verdict)", header, rows))
    sections += [
        _Section(
            "Models, most urgent first",
            [
                "Risk",
                "Stage",
                "Model",
                "Pinned",
                "Availability [95% CI]",
                "Last verdict",
                "Top factors",
            ],
            [
                [
                    _risk(m.risk.score, m.risk.level) if m.risk else "not in registry",
                    text.stage(m.risk),
                    m.ref,
                    "yes" if m.pinned else "",
                    text.availability(m.availability),
                    text.verdict(m),
                    text.factor_summary(m.risk) if m.risk else "-",
                ]
                for m in report.models
            ],
        ),
        _Section(
            "Latency (successes, ms) and errors",
            ["Model", "Latency p50 / p95 / p99", "TTFT p50 / p95 / p99", "Errors (all attempts)"],
            [
                [m.ref, text.latency(m.latency), text.latency(m.ttft), text.errors(m)]
                for m in report.models
            ],
            folded=True,
        ),
    ]
    drills = [*report.portfolio.vendors, *report.portfolio.jurisdictions]
    if drills:
        sections.append(
            _Section(
                "Continuity coverage",
                [
                    "If this disappeared",
                    "Pinned affected",
                    "Coverage",
                    "Left without a fallback",
                ],
                [
                    [d.removal.label, len(d.affected), text.coverage(d), text.uncovered(d)]
                    for d in drills
                ],
                cuttable=False,
            )
        )
    if report.incidents:
        rows, hidden = text.incidents(report)
        sections += [
            _Section(
                "Downtime by model",
                ["Model", "Incidents", "Down in the window", "Longest", "Ongoing since"],
                text.downtime(report),
            ),
            _Section(
                "Latest incidents",
                ["Model", "Verdict", "Start (UTC)", "End (UTC)", "Duration", "Runs"],
                rows,
                newest_last=True,
                note=text.left_out(hidden, "incidents"),
            ),
        ]
    changes, hidden = text.changes(report)
    if changes:
        sections.append(
            _Section(
                "Catalog changes and served-model drift",
                ["At (UTC)", "Model", "Change"],
                changes,
                newest_last=True,
                note=text.left_out(hidden, "changes"),
            )
        )
    falling = [
        [m.ref, t.header, f"{t.peak:g}", f"{t.last:g}", f"{t.drop * 100:.0f}%"]
        for m in report.models
        for t in m.ceilings
        if t.falling
    ]
    if falling:
        sections.append(
            _Section(
                "Rate-limit ceilings falling", ["Model", "Header", "From", "To", "Fall"], falling
            )
        )
    why = [
        row
        for m in report.models
        if m.risk and m.risk.level is not Level.LOW
        for row in [
            [m.ref, "stage", m.risk.stage.label, m.risk.situation],
            *(
                ["", f.factor.value, f"{f.points:.1f} / {f.weight:g}", f.evidence]
                for f in text.top_factors(m.risk, count=7)
            ),
        ]
    ]
    if why:
        sections.append(
            _Section(
                "Why: the factors of every model above low risk",
                ["Model", "Factor", "Points / weight", "Evidence"],
                why,
                folded=True,
            )
        )
    return sections
