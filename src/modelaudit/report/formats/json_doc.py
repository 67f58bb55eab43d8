"""`--format json`: the report as one versioned JSON document (a public contract, see
docs/report.md). `schema_version` changes only when a field is removed or changes
meaning; new fields are added without bumping it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from modelaudit.probe.document import iso

if TYPE_CHECKING:
    from modelaudit.report.formats.base import RenderOptions
    from modelaudit.report.model import (
        IncidentView,
        LatencyView,
        ModelView,
        Recommendation,
        Report,
    )
    from modelaudit.risk.evidence import CeilingTrend
    from modelaudit.risk.fallbacks import FallbackOption, Rejection
    from modelaudit.risk.portfolio import DrillResult
    from modelaudit.risk.score import RiskScore
    from modelaudit.risk.stats import Proportion

SCHEMA_VERSION = 1


def render(report: Report, options: RenderOptions) -> str:
    return json.dumps(document(report), indent=2, ensure_ascii=False) + "\n"


def document(report: Report) -> dict[str, Any]:
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
        "models": [model_json(m) for m in report.models],
        "recommendations": [recommendation_json(r) for r in report.recommendations],
        "portfolio": {
            "vendors": [drill_json(d) for d in report.portfolio.vendors],
            "jurisdictions": [drill_json(d) for d in report.portfolio.jurisdictions],
        },
        "incidents": [incident_json(i) for i in report.incidents],
        "regions": list(report.regions),
        "withdrawals": [
            {
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
            for w in report.withdrawals
        ],
        "catalog_changes": [
            {"provider": c.provider, "model": c.model, "change": c.change, "at": iso(c.at)}
            for c in report.catalog_changes
        ],
        "drift": [
            {
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
            for d in report.drift
        ],
    }


def proportion_json(share: Proportion) -> dict[str, Any]:
    return {
        "ok": share.ok,
        "n": share.n,
        "value": share.value,
        "ci95": [share.low, share.high] if share.n else None,
    }


def _latency_json(view: LatencyView) -> dict[str, Any]:
    return {
        "n": view.n,
        "p50": view.p50,
        "p95": view.p95,
        "p99": view.p99,
        "p99_hidden": view.p99_hidden,
    }


def risk_json(risk: RiskScore) -> dict[str, Any]:
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


def fallback_json(option: FallbackOption) -> dict[str, Any]:
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


def rejected_json(rejected: tuple[Rejection, ...]) -> list[dict[str, str]]:
    return [{"ref": r.option.ref, "why": r.why} for r in rejected]


def _ceiling_json(trend: CeilingTrend) -> dict[str, Any]:
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


def model_json(m: ModelView) -> dict[str, Any]:
    verdict = m.last_verdict
    planned = (
        {
            "maintenance": [
                {"start": iso(p.start), "end": iso(p.end), "reason": p.reason}
                for p in m.maintenance
            ]
        }
        if m.maintenance
        else {}
    )
    return {
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
                "start": iso(p.start),
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
        **planned,
    }


def recommendation_json(r: Recommendation) -> dict[str, Any]:
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


def drill_json(d: DrillResult) -> dict[str, Any]:
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


def incident_json(i: IncidentView) -> dict[str, Any]:
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
