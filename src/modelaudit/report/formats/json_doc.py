"""`--format json`: the report as one versioned JSON document (a public contract, see
docs/report.md). `schema_version` changes only when a field is removed or changes
meaning; new fields are added without bumping it."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Literal, NotRequired

from typing_extensions import TypedDict

from modelaudit.clock import iso
from modelaudit.outgoing import json_chunks, outgoing_each
from modelaudit.output.documents import Tool, closed
from modelaudit.report.formats.base import ReportFormatter

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from datetime import datetime

    from modelaudit.history import CatalogChange
    from modelaudit.report.model import (
        IncidentView,
        LatencyView,
        ModelView,
        Recommendation,
        Report,
    )
    from modelaudit.risk.evidence import CeilingTrend, DriftSummary
    from modelaudit.risk.fallbacks import FallbackOption, Rejection
    from modelaudit.risk.portfolio import DrillResult
    from modelaudit.risk.regions import Withdrawal
    from modelaudit.risk.score import RiskScore
    from modelaudit.risk.stats import Proportion

SCHEMA_VERSION: Literal[1] = 1


@closed
class WindowJson(TypedDict):
    since: str
    until: str
    label: str
    bucket_s: int
    timeline_since: str


@closed
class SummaryJson(TypedDict):
    models: int
    attempts: int
    levels: dict[str, int]


@closed
class ProportionJson(TypedDict):
    ok: int
    n: int
    value: float | None
    ci95: list[float | None] | None


@closed
class AvailabilityJson(ProportionJson):
    excluded: int


@closed
class LatencyJson(TypedDict):
    n: int
    p50: float | None
    p95: float | None
    p99: float | None
    p99_hidden: bool


@closed
class FactorJson(TypedDict):
    name: str
    weight: float
    badness: float
    points: float
    evidence: str


@closed
class RiskJson(TypedDict):
    score: int
    level: str
    stage: str
    situation: str
    points: float
    factors: list[FactorJson]


@closed
class FallbackJson(TypedDict):
    ref: str
    source: str
    verified_live: bool
    healthy: bool
    availability: ProportionJson
    latency_p95_ms: float | None
    answered_latest: bool
    last_answered: str | None
    note: str


@closed
class RejectedJson(TypedDict):
    ref: str
    why: str


@closed
class CeilingJson(TypedDict):
    header: str
    first: float
    peak: float
    last: float
    first_at: str
    last_at: str
    drop: float
    falling: bool


@closed
class LastVerdictJson(TypedDict):
    verdict: str
    at: str
    reason: str


@closed
class DowntimeJson(TypedDict):
    incidents: int
    total_s: int
    longest_s: int
    ongoing_since: str | None


@closed
class TimelinePointJson(TypedDict):
    start: str
    ok: int
    failed: int
    excluded: int
    latency_p50: float | None
    latency_p95: float | None
    ttft_p50: float | None


@closed
class ModelRegionJson(TypedDict):
    region: str
    availability: AvailabilityJson
    last_verdict: LastVerdictJson | None
    since: str | None


@closed
class MaintenanceJson(TypedDict):
    start: str
    end: str
    reason: str | None


@closed
class SloJson(TypedDict):
    availability: float | None
    p95_latency_ms: float | None


@closed
class ModelJson(TypedDict):
    provider: str
    model: str
    in_registry: bool
    pinned: bool
    family: str | None
    weights: str | None
    hosting: str | None
    jurisdiction: str | None
    retires: str | None
    slo: SloJson
    availability: AvailabilityJson
    latency_ms: LatencyJson
    ttft_ms: LatencyJson
    error_classes: dict[str, int]
    last_verdict: LastVerdictJson | None
    last_ok: str | None
    risk: RiskJson | None
    fallbacks: list[FallbackJson]
    ratelimit_ceilings: list[CeilingJson]
    downtime: DowntimeJson | None
    timeline: list[TimelinePointJson]
    regions: list[ModelRegionJson]
    maintenance: NotRequired[list[MaintenanceJson]]
    """Only for a model with maintenance windows in the report's window."""


@closed
class RecommendationJson(TypedDict):
    provider: str
    model: str
    pinned: bool
    score: int
    level: str
    fallback: FallbackJson | None
    fallback_score: int | None
    unverified: list[str]
    advice: str
    stage: str
    situation: str
    rejected: list[RejectedJson]
    remedy: str | None


@closed
class WithoutJson(TypedDict):
    providers: list[str]
    jurisdictions: list[str]


@closed
class DrillModelJson(TypedDict):
    provider: str
    model: str
    covered: bool
    fallback: str | None
    unverified: list[str]
    fallback_note: str | None
    rejected: list[RejectedJson]
    remedy: str | None


@closed
class DrillJson(TypedDict):
    without: WithoutJson
    pinned: int
    affected: int
    covered: int
    coverage: float | None
    models: list[DrillModelJson]


@closed
class PortfolioJson(TypedDict):
    vendors: list[DrillJson]
    jurisdictions: list[DrillJson]


@closed
class IncidentJson(TypedDict):
    provider: str
    model: str
    verdict: str
    start: str
    end: str | None
    ongoing: bool
    duration_s: int
    runs: int
    region: str


@closed
class WithdrawalJson(TypedDict):
    provider: str
    model: str
    region: str
    verdict: str
    since: str
    runs: int
    answering_in: list[str]
    reason: str
    finding: str


@closed
class CatalogChangeJson(TypedDict):
    provider: str
    model: str
    change: str
    at: str


@closed
class DriftJson(TypedDict):
    provider: str
    model: str
    kind: str
    changes: int
    values: int
    first_at: str
    last_at: str
    last_before: str | None
    last_after: str | None


@closed
class ReportDocument(TypedDict):
    """`report --format json`."""

    schema_version: Literal[1]
    kind: Literal["report"]
    tool: Tool
    generated_at: str
    window: WindowJson
    registry_sha256: str | None
    summary: SummaryJson
    models: list[ModelJson]
    recommendations: list[RecommendationJson]
    portfolio: PortfolioJson
    incidents: list[IncidentJson]
    regions: list[str]
    withdrawals: list[WithdrawalJson]
    catalog_changes: list[CatalogChangeJson]
    drift: list[DriftJson]


LISTED = frozenset(
    {"models", "recommendations", "incidents", "withdrawals", "catalog_changes", "drift"}
)
"""The document's lists that grow with the registry and the history: each item on a line
of its own, written as it is made (`outgoing.json_chunks`)."""
WALKED = frozenset({"models"})
"""Of those, the lists made from values walked through `outgoing` first: a model's view
(whose timeline points hold no text, and are passed over by type) walks faster than the
dictionaries made of it."""


class JsonFormat(ReportFormatter):
    draws_timelines = True

    def write(self, value: Report) -> None:
        """Written as it is built, every value made safe item by item on the way rather
        than the whole report first: a 10,000-model report is never held whole, as text or
        as values."""
        self.write_safe(value)
        self.out.flush()

    def write_safe(self, value: Report) -> None:
        for chunk in chunks(value):
            self.out.write(chunk)


FORMAT = JsonFormat


def chunks(report: Report) -> Iterator[str]:
    """The document as it is written: its head, and its `LISTED` items made one by one."""
    made: dict[str, Iterable[object]] = {
        "models": (model_json(m) for m in outgoing_each(report.models)),
        "recommendations": (recommendation_json(r) for r in report.recommendations),
        "incidents": (incident_json(i) for i in report.incidents),
        "withdrawals": (withdrawal_json(w) for w in report.withdrawals),
        "catalog_changes": (catalog_change_json(c) for c in report.catalog_changes),
        "drift": (drift_json(d) for d in report.drift),
    }
    head = {**document(report, listed=False), **made}
    return json_chunks(head, listed=LISTED, walked=WALKED, ensure_ascii=False)


def document(report: Report, *, listed: bool = True) -> ReportDocument:
    """The whole document; without the items of its `LISTED` lists when not `listed`."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "report",
        "tool": {"name": "modelaudit", "version": report.tool_version},
        "generated_at": iso(report.generated_at),
        "window": {
            "since": iso(report.window.since),
            "until": iso(report.window.until),
            "label": report.label,
            "bucket_s": int(report.bucket.total_seconds()),
            "timeline_since": iso(report.drawn.since),
        },
        "registry_sha256": report.registry_sha256,
        "summary": {
            "models": len(report.models),
            "attempts": report.attempts,
            "levels": {level.value: count for level, count in report.levels.items()},
        },
        "models": [model_json(m) for m in report.models] if listed else [],
        "recommendations": (
            [recommendation_json(r) for r in report.recommendations] if listed else []
        ),
        "portfolio": {
            "vendors": [drill_json(d) for d in report.portfolio.vendors],
            "jurisdictions": [drill_json(d) for d in report.portfolio.jurisdictions],
        },
        "incidents": [incident_json(i) for i in report.incidents] if listed else [],
        "regions": list(report.regions),
        "withdrawals": [withdrawal_json(w) for w in report.withdrawals] if listed else [],
        "catalog_changes": (
            [catalog_change_json(c) for c in report.catalog_changes] if listed else []
        ),
        "drift": [drift_json(d) for d in report.drift] if listed else [],
    }


def withdrawal_json(w: Withdrawal) -> WithdrawalJson:
    return {
        "provider": w.provider,
        "model": w.model,
        "region": w.region,
        "verdict": w.verdict.value,
        "since": iso(w.since),
        "runs": w.runs,
        "answering_in": list(w.answering_in),
        "reason": w.reason,
        "finding": w.text,
    }


def catalog_change_json(c: CatalogChange) -> CatalogChangeJson:
    return {"provider": c.provider, "model": c.model, "change": c.change, "at": iso(c.at)}


def drift_json(d: DriftSummary) -> DriftJson:
    return {
        "provider": d.provider,
        "model": d.model,
        "kind": d.kind,
        "changes": d.changes,
        "values": d.values,
        "first_at": iso(d.first_at),
        "last_at": iso(d.last_at),
        "last_before": d.last_before,
        "last_after": d.last_after,
    }


def proportion_json(share: Proportion) -> ProportionJson:
    return {
        "ok": share.ok,
        "n": share.n,
        "value": share.value,
        "ci95": [share.low, share.high] if share.n else None,
    }


def _latency_json(view: LatencyView) -> LatencyJson:
    return {
        "n": view.n,
        "p50": view.p50,
        "p95": view.p95,
        "p99": view.p99,
        "p99_hidden": view.p99_hidden,
    }


def risk_json(risk: RiskScore) -> RiskJson:
    return {
        "score": risk.score,
        "level": risk.level.value,
        "stage": risk.stage.value,
        "situation": risk.situation,
        "points": round(risk.points, 2),
        "factors": [
            {
                "name": f.factor.value,
                "weight": f.weight,
                "badness": round(f.badness, 4),
                "points": round(f.points, 2),
                "evidence": f.evidence,
            }
            for f in risk.factors
        ],
    }


def fallback_json(option: FallbackOption) -> FallbackJson:
    return {
        "ref": option.ref,
        "source": option.source,
        "verified_live": option.verified_live,
        "healthy": option.healthy,
        "availability": proportion_json(option.availability),
        "latency_p95_ms": option.latency_p95_ms,
        "answered_latest": option.answered_latest,
        "last_answered": iso(option.last_answered),
        "note": option.note,
    }


def rejected_json(rejected: tuple[Rejection, ...]) -> list[RejectedJson]:
    return [{"ref": r.option.ref, "why": r.why} for r in rejected]


def _ceiling_json(trend: CeilingTrend) -> CeilingJson:
    return {
        "header": trend.header,
        "first": trend.first,
        "peak": trend.peak,
        "last": trend.last,
        "first_at": iso(trend.first_at),
        "last_at": iso(trend.last_at),
        "drop": round(trend.drop, 4),
        "falling": trend.falling,
    }


@functools.lru_cache(maxsize=4096)
def _bucket_start(moment: datetime) -> str:
    """A timeline bucket's start as text: every model's timeline shares the same few dozen
    starts, and a 10,000-model report writes 300,000 of them."""
    return iso(moment)


def model_json(m: ModelView) -> ModelJson:
    verdict = m.last_verdict
    found: ModelJson = {
        "provider": m.provider,
        "model": m.model,
        "in_registry": m.in_registry,
        "pinned": m.pinned,
        "family": m.family,
        "weights": m.weights.value if m.weights else None,
        "hosting": m.hosting.value if m.hosting else None,
        "jurisdiction": m.jurisdiction,
        "retires": m.retires.isoformat() if m.retires else None,
        "slo": {"availability": m.slo_availability, "p95_latency_ms": m.slo_p95_latency_ms},
        "availability": {**proportion_json(m.availability), "excluded": m.excluded},
        "latency_ms": _latency_json(m.latency),
        "ttft_ms": _latency_json(m.ttft),
        "error_classes": {c.value: n for c, n in m.error_classes},
        "last_verdict": (
            {"verdict": verdict.verdict.value, "at": iso(verdict.at), "reason": verdict.reason}
            if verdict
            else None
        ),
        "last_ok": iso(m.last_ok),
        "risk": risk_json(m.risk) if m.risk else None,
        "fallbacks": [fallback_json(o) for o in m.fallbacks],
        "ratelimit_ceilings": [_ceiling_json(t) for t in m.ceilings],
        "downtime": (
            {
                "incidents": m.downtime.incidents,
                "total_s": int(m.downtime.total.total_seconds()),
                "longest_s": int(m.downtime.longest.total_seconds()),
                "ongoing_since": iso(m.downtime.ongoing_since),
            }
            if m.downtime
            else None
        ),
        "timeline": [
            {
                "start": _bucket_start(p.start),
                "ok": p.ok,
                "failed": p.failed,
                "excluded": p.excluded,
                "latency_p50": p.latency_p50,
                "latency_p95": p.latency_p95,
                "ttft_p50": p.ttft_p50,
            }
            for p in m.timeline
        ],
        "regions": [
            {
                "region": r.region,
                "availability": {**proportion_json(r.availability), "excluded": r.excluded},
                "last_verdict": (
                    {
                        "verdict": r.last_verdict.verdict.value,
                        "at": iso(r.last_verdict.at),
                        "reason": r.last_verdict.reason,
                    }
                    if r.last_verdict
                    else None
                ),
                "since": iso(r.since),
            }
            for r in m.regions
        ],
    }
    if m.maintenance:
        found["maintenance"] = [
            {"start": iso(p.start), "end": iso(p.end), "reason": p.reason} for p in m.maintenance
        ]
    return found


def recommendation_json(r: Recommendation) -> RecommendationJson:
    return {
        "provider": r.provider,
        "model": r.model,
        "pinned": r.pinned,
        "score": r.risk.score,
        "level": r.risk.level.value,
        "fallback": fallback_json(r.fallback) if r.fallback else None,
        "fallback_score": r.fallback_risk.score if r.fallback_risk else None,
        "unverified": list(r.unverified),
        "advice": r.advice,
        "stage": r.risk.stage.value,
        "situation": r.risk.situation,
        "rejected": rejected_json(r.rejected),
        "remedy": r.remedy or None,
    }


def drill_json(d: DrillResult) -> DrillJson:
    return {
        "without": {
            "providers": sorted(d.removal.providers),
            "jurisdictions": sorted(d.removal.jurisdictions),
        },
        "pinned": d.pinned_total,
        "affected": len(d.affected),
        "covered": d.covered,
        "coverage": d.coverage,
        "models": [
            {
                "provider": o.provider,
                "model": o.model,
                "covered": o.covered,
                "fallback": o.fallback.ref if o.fallback else None,
                "unverified": list(o.others),
                "fallback_note": o.fallback.note if o.fallback else None,
                "rejected": rejected_json(o.rejected),
                "remedy": o.remedy or None,
            }
            for o in d.affected
        ],
    }


def incident_json(i: IncidentView) -> IncidentJson:
    return {
        "provider": i.provider,
        "model": i.model,
        "verdict": i.verdict.value,
        "start": iso(i.start),
        "end": iso(i.end),
        "ongoing": i.end is None,
        "duration_s": int(i.duration.total_seconds()),
        "runs": i.runs,
        "region": i.region,
    }
