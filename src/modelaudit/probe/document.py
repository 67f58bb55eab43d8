"""The probe's JSON documents: a public, versioned contract (see the README).

A run is one document (`report_json`); a `--dry-run` plan is another (`plan_json`), with
the same `schema_version` and `tool` header. `schema_version` changes only when a field is
removed or changes meaning; new fields are added without bumping it. Every string passes
through the redactor on its way out (`outgoing.json_text`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias

from typing_extensions import TypedDict

from modelaudit.clock import iso
from modelaudit.output.documents import Tool, closed, tool

if TYPE_CHECKING:
    from collections.abc import Callable

    from modelaudit.probe.plan import Cost, Plan, ProviderPlan
    from modelaudit.probe.result import Attempt, ModelVerdict, ProbeResult, RunReport

SCHEMA_VERSION: Literal[1] = 1


@closed
class ControlJson(TypedDict):
    reachable: bool
    target: str
    detail: str


@closed
class RunJson(TypedDict):
    started_at: str
    finished_at: str | None
    status: str
    requests_sent: int
    output_tokens_requested: int
    control: ControlJson | None
    notes: list[str]
    internal_errors: list[str]


@closed
class AttemptJson(TypedDict):
    number: int
    started_at: str
    error_class: str
    http_status: int | None
    latency_ms: float | None
    ttft_ms: float | None
    failed_phase: str | None
    connect_ms: float | None
    connection_reused: bool | None
    retry_after_s: float | None
    detail: str


@closed
class CatalogJson(TypedDict):
    listed: bool
    retires: str | None
    lifecycle: str | None
    note: str | None
    retrieved_by_id: bool
    resolved_id: str | None


@closed
class ResultJson(TypedDict):
    provider: str
    model: str
    kind: str
    error_class: str
    http_status: int | None
    latency_ms: float | None
    ttft_ms: float | None
    attempts: int
    served_model: str | None
    detail: str
    started_at: str
    failed_phase: str | None
    system_fingerprint: str | None
    connect_ms: float | None
    connection_reused: bool | None
    output_tokens: int | None
    tokens_per_s: float | None
    max_gap_ms: float | None
    ratelimit: dict[str, str]
    catalog: CatalogJson | None
    health: str | None
    attempt_log: list[AttemptJson]


@closed
class VerdictJson(TypedDict):
    provider: str
    model: str
    verdict: str
    reason: str
    error_class: str | None


@closed
class ProbeDocument(TypedDict):
    """`probe --format json`: one run."""

    schema_version: Literal[1]
    tool: Tool
    run: RunJson
    results: list[ResultJson]
    verdicts: list[VerdictJson]


@closed
class CostJson(TypedDict):
    requests: int
    output_tokens: int


@closed
class PlannedProviderJson(TypedDict):
    provider: str
    models: list[str]
    kinds: list[str]
    key: Literal["none_needed", "present", "missing"]
    skip_reason: str | None
    worst_case: CostJson


@closed
class PlannedModelJson(TypedDict):
    provider: str
    model: str
    kinds: list[str]
    key: Literal["none_needed", "present", "missing"]
    skip_reason: str | None


@closed
class BudgetJson(TypedDict):
    max_requests: int
    max_output_tokens: int
    output_tokens_per_probe: int


@closed
class PlanJson(TypedDict):
    kinds: list[str]
    providers: list[PlannedProviderJson]
    worst_case: CostJson
    budget: BudgetJson


@closed
class PlanDocument(TypedDict):
    """`probe --dry-run --format json`: what a run would send."""

    schema_version: Literal[1]
    tool: Tool
    plan: PlanJson


@closed
class ResultLine(ResultJson):
    type: Literal["result"]
    schema_version: Literal[1]


@closed
class VerdictLine(VerdictJson):
    type: Literal["verdict"]
    schema_version: Literal[1]


@closed
class RunLine(RunJson):
    type: Literal["run"]
    schema_version: Literal[1]


@closed
class PlannedLine(PlannedModelJson):
    type: Literal["planned"]
    schema_version: Literal[1]


ProbeLine: TypeAlias = ResultLine | VerdictLine | RunLine | PlannedLine
"""`probe --format jsonl`: each line is one of these, told apart by `type`."""


def run_json(report: RunReport) -> RunJson:
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
        "internal_errors": list(report.internal_errors),
    }


def _as_is(text: str) -> str:
    return text


def attempt_json(
    attempt: Attempt, text: Callable[[str], str] = _as_is, started_at: str | None = None
) -> AttemptJson:
    """`text` is applied to each string that may come from outside (see `result_json`);
    `started_at` is the attempt's, written already."""
    return {
        "number": attempt.number,
        "started_at": started_at or iso(attempt.started_at),
        "error_class": attempt.error_class.value,
        "http_status": attempt.http_status,
        "latency_ms": attempt.latency_ms,
        "ttft_ms": attempt.ttft_ms,
        "failed_phase": attempt.failed_phase.value if attempt.failed_phase else None,
        "connect_ms": attempt.connect_ms,
        "connection_reused": attempt.connection_reused,
        "retry_after_s": attempt.retry_after_s,
        "detail": text(attempt.detail),
    }


def result_json(result: ProbeResult, text: Callable[[str], str] = _as_is) -> ResultJson:
    """`text` is applied to each string that may come from outside (a name, a detail, a
    header): `formats.json_doc` passes the redactor's (`outgoing.safe_texts`), and leaves
    the rest, this program's own words (enumerations, timestamps) and numbers, unwalked."""
    final = result.final
    catalog = result.catalog
    started_at = iso(result.started_at)
    first = result.attempts[0]
    return {
        "provider": text(result.provider),
        "model": text(result.model),
        "kind": result.kind.value,
        "error_class": final.error_class.value,
        "http_status": final.http_status,
        "latency_ms": final.latency_ms,
        "ttft_ms": final.ttft_ms,
        "attempts": len(result.attempts),
        "served_model": _text_or_none(final.served_model, text),
        "detail": text(final.detail),
        "started_at": started_at,
        "failed_phase": final.failed_phase.value if final.failed_phase else None,
        "system_fingerprint": _text_or_none(final.system_fingerprint, text),
        "connect_ms": final.connect_ms,
        "connection_reused": final.connection_reused,
        "output_tokens": final.output_tokens,
        "tokens_per_s": final.tokens_per_s,
        "max_gap_ms": final.max_gap_ms,
        "ratelimit": {text(name): text(value) for name, value in final.ratelimit},
        "catalog": (
            {
                "listed": catalog.listed,
                "retires": catalog.retires.isoformat() if catalog.retires else None,
                "lifecycle": _text_or_none(catalog.lifecycle, text),
                "note": _text_or_none(catalog.note, text),
                "retrieved_by_id": catalog.retrieved_by_id,
                "resolved_id": _text_or_none(catalog.resolved_id, text),
            }
            if catalog
            else None
        ),
        "health": result.health.value if result.health else None,
        "attempt_log": [
            attempt_json(a, text, started_at if a is first else None) for a in result.attempts
        ],
    }


def _text_or_none(value: str | None, text: Callable[[str], str]) -> str | None:
    return None if value is None else text(value)


def verdict_json(verdict: ModelVerdict, text: Callable[[str], str] = _as_is) -> VerdictJson:
    """`text` as for `result_json`."""
    return {
        "provider": text(verdict.provider),
        "model": text(verdict.model),
        "verdict": verdict.verdict.value,
        "reason": text(verdict.reason),
        "error_class": verdict.error_class.value if verdict.error_class else None,
    }


def report_json(report: RunReport, *, listed: bool = True) -> ProbeDocument:
    """The run's document; without its results and verdicts when not `listed` (a document
    written as it is built makes them one by one: `formats.json_doc`)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": tool(),
        "run": run_json(report),
        "results": [result_json(r) for r in report.results] if listed else [],
        "verdicts": [verdict_json(v) for v in report.verdicts] if listed else [],
    }


def cost_json(cost: Cost) -> CostJson:
    return {"requests": cost.requests, "output_tokens": cost.output_tokens}


def key_state(provider_plan: ProviderPlan) -> Literal["none_needed", "present", "missing"]:
    """`none_needed`, `present` or `missing` (then `skip_reason` names what to set)."""
    if provider_plan.provider.credential_ref is None:
        return "none_needed"
    return "missing" if provider_plan.skip_reason is not None else "present"


def planned_provider_json(plan: Plan, provider_plan: ProviderPlan) -> PlannedProviderJson:
    return {
        "provider": provider_plan.provider.name,
        "models": [m.id for m in provider_plan.models],
        "kinds": [k.value for k in provider_plan.kinds],
        "key": key_state(provider_plan),
        "skip_reason": provider_plan.skip_reason,
        "worst_case": cost_json(plan.worst_case(provider_plan)),
    }


def planned_model_json(provider_plan: ProviderPlan, model: str) -> PlannedModelJson:
    """One planned model: a `--format jsonl` line of a dry run."""
    return {
        "provider": provider_plan.provider.name,
        "model": model,
        "kinds": [k.value for k in provider_plan.kinds],
        "key": key_state(provider_plan),
        "skip_reason": provider_plan.skip_reason,
    }


def plan_json(plan: Plan) -> PlanDocument:
    """The `--dry-run` document: what a run would send, and its worst case."""
    budget = plan.defaults.budget
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": tool(),
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
