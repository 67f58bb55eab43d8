"""The probe's JSON documents: a public, versioned contract (see the README).

A run is one document (`report_json`); a `--dry-run` plan is another (`plan_json`), with
the same `schema_version` and `tool` header. `schema_version` changes only when a field is
removed or changes meaning; new fields are added without bumping it. Every string passes
through the redactor on its way out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelaudit import __version__

if TYPE_CHECKING:
    from datetime import datetime

    from modelaudit.probe.plan import Cost, Plan, ProviderPlan
    from modelaudit.probe.result import Attempt, ModelVerdict, ProbeResult, RunReport

SCHEMA_VERSION = 1


def iso(moment: datetime | None) -> str | None:
    """UTC with a `Z`, to the millisecond."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run_json(report: RunReport) -> dict[str, Any]:
    return {
        "started_at": iso(report.started_at),
        "finished_at": iso(report.finished_at),
        "status": report.status.value,
        "requests_sent": report.requests_sent,
        "output_tokens_requested": report.output_tokens_requested,
        "control": (
            {
                "reachable": report.control.reachable,
                "target": report.control.target,
                "detail": report.control.detail,
            }
            if report.control
            else None
        ),
        "notes": list(report.notes),
    }


def attempt_json(attempt: Attempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "started_at": iso(attempt.started_at),
        "error_class": attempt.error_class.value,
        "http_status": attempt.http_status,
        "latency_ms": attempt.latency_ms,
        "ttft_ms": attempt.ttft_ms,
        "failed_phase": attempt.failed_phase.value if attempt.failed_phase else None,
        "connect_ms": attempt.connect_ms,
        "connection_reused": attempt.connection_reused,
        "retry_after_s": attempt.retry_after_s,
        "detail": attempt.detail,
    }


def result_json(result: ProbeResult) -> dict[str, Any]:
    final = result.final
    catalog = result.catalog
    return {
        "provider": result.provider,
        "model": result.model,
        "kind": result.kind.value,
        "error_class": final.error_class.value,
        "http_status": final.http_status,
        "latency_ms": final.latency_ms,
        "ttft_ms": final.ttft_ms,
        "attempts": len(result.attempts),
        "served_model": final.served_model,
        "detail": final.detail,
        "started_at": iso(result.started_at),
        "failed_phase": final.failed_phase.value if final.failed_phase else None,
        "system_fingerprint": final.system_fingerprint,
        "connect_ms": final.connect_ms,
        "connection_reused": final.connection_reused,
        "output_tokens": final.output_tokens,
        "tokens_per_s": final.tokens_per_s,
        "max_gap_ms": final.max_gap_ms,
        "ratelimit": dict(final.ratelimit),
        "catalog": (
            {
                "listed": catalog.listed,
                "retires": catalog.retires.isoformat() if catalog.retires else None,
                "lifecycle": catalog.lifecycle,
                "note": catalog.note,
                "retrieved_by_id": catalog.retrieved_by_id,
                "resolved_id": catalog.resolved_id,
            }
            if catalog
            else None
        ),
        "health": result.health.value if result.health else None,
        "attempt_log": [attempt_json(a) for a in result.attempts],
    }


def verdict_json(verdict: ModelVerdict) -> dict[str, Any]:
    return {
        "provider": verdict.provider,
        "model": verdict.model,
        "verdict": verdict.verdict.value,
        "reason": verdict.reason,
        "error_class": verdict.error_class.value if verdict.error_class else None,
    }


def _tool() -> dict[str, Any]:
    return {"name": "modelaudit", "version": __version__}


def report_json(report: RunReport) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": _tool(),
        "run": run_json(report),
        "results": [result_json(r) for r in report.results],
        "verdicts": [verdict_json(v) for v in report.verdicts],
    }


def cost_json(cost: Cost) -> dict[str, Any]:
    return {"requests": cost.requests, "output_tokens": cost.output_tokens}


def key_state(provider_plan: ProviderPlan) -> str:
    """`none_needed`, `present` or `missing` (then `skip_reason` names what to set)."""
    if provider_plan.provider.credential_ref is None:
        return "none_needed"
    return "missing" if provider_plan.skip_reason is not None else "present"


def planned_provider_json(plan: Plan, provider_plan: ProviderPlan) -> dict[str, Any]:
    return {
        "provider": provider_plan.provider.name,
        "models": [m.id for m in provider_plan.models],
        "kinds": [k.value for k in provider_plan.kinds],
        "key": key_state(provider_plan),
        "skip_reason": provider_plan.skip_reason,
        "worst_case": cost_json(plan.worst_case(provider_plan)),
    }


def planned_model_json(provider_plan: ProviderPlan, model: str) -> dict[str, Any]:
    """One planned model: a `--format jsonl` line of a dry run."""
    return {
        "provider": provider_plan.provider.name,
        "model": model,
        "kinds": [k.value for k in provider_plan.kinds],
        "key": key_state(provider_plan),
        "skip_reason": provider_plan.skip_reason,
    }


def plan_json(plan: Plan) -> dict[str, Any]:
    """The `--dry-run` document: what a run would send, and its worst case."""
    budget = plan.defaults.budget
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": _tool(),
        "plan": {
            "kinds": [k.value for k in plan.kinds],
            "providers": [planned_provider_json(plan, p) for p in plan.providers],
            "worst_case": cost_json(plan.total_worst_case()),
            "budget": {
                "max_requests": budget.max_requests,
                "max_output_tokens": budget.max_output_tokens,
                "output_tokens_per_probe": budget.output_tokens_per_probe,
            },
        },
    }
