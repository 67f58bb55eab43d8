"""`history --format json`: the recent runs, or one model's runs, as a versioned document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias

from typing_extensions import TypedDict

from modelaudit.clock import iso
from modelaudit.outgoing import json_text
from modelaudit.output.base import Formatter
from modelaudit.output.documents import closed
from modelaudit.output.history import History, RecentRuns

if TYPE_CHECKING:
    from modelaudit.store.base import ModelRun, RunSummary

SCHEMA_VERSION: Literal[1] = 1


@closed
class RunJson(TypedDict):
    id: int
    started_at: str
    finished_at: str | None
    status: str
    tool_version: str
    registry_sha256: str | None
    attempts: int
    requests_sent: int | None
    verdicts: dict[str, int]
    notes: list[str]
    region: str
    agent: str


@closed
class ProbeJson(TypedDict):
    kind: str
    error_class: str
    attempts: int
    http_status: int | None
    latency_ms: float | None
    ttft_ms: float | None


@closed
class ModelRunJson(TypedDict):
    run_id: int
    started_at: str
    run_status: str
    verdict: str | None
    reason: str | None
    region: str
    probes: list[ProbeJson]


@closed
class RecentRunsDocument(TypedDict):
    """`history --format json`: the recent runs."""

    schema_version: Literal[1]
    runs: list[RunJson]


@closed
class ModelRunsDocument(TypedDict):
    """`history --model M --format json`: one model's runs."""

    schema_version: Literal[1]
    provider: str
    model: str
    runs: list[ModelRunJson]


HistoryDocument: TypeAlias = RecentRunsDocument | ModelRunsDocument


class HistoryJson(Formatter[History]):
    def write_safe(self, value: History) -> None:
        self.text(json_text(document(value), indent=2))


FORMAT = HistoryJson


def document(history: History) -> HistoryDocument:
    if isinstance(history, RecentRuns):
        return {"schema_version": SCHEMA_VERSION, "runs": [_run_json(r) for r in history.runs]}
    return {
        "schema_version": SCHEMA_VERSION,
        "provider": history.provider,
        "model": history.model,
        "runs": [_model_run_json(r) for r in history.runs],
    }


def _run_json(run: RunSummary) -> RunJson:
    return {
        "id": run.id,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "status": run.status.value,
        "tool_version": run.tool_version,
        "registry_sha256": run.registry_sha256,
        "attempts": run.attempts,
        "requests_sent": run.requests_sent,
        "verdicts": {v.value: n for v, n in sorted(run.verdicts.items())},
        "notes": list(run.notes),
        "region": run.region,
        "agent": run.agent,
    }


def _model_run_json(run: ModelRun) -> ModelRunJson:
    return {
        "run_id": run.run_id,
        "started_at": iso(run.started_at),
        "run_status": run.run_status.value,
        "verdict": run.verdict.value if run.verdict else None,
        "reason": run.reason,
        "region": run.region,
        "probes": [
            {
                "kind": p.kind.value,
                "error_class": p.error_class.value,
                "attempts": p.attempts,
                "http_status": p.http_status,
                "latency_ms": p.latency_ms,
                "ttft_ms": p.ttft_ms,
            }
            for p in run.probes
        ],
    }
