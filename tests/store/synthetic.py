"""Probe results made by hand, for tests of the store that need no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from modelaudit.probe.result import Attempt, ModelVerdict, ProbeResult, RunReport
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def at(minutes: float = 0, hours: float = 0, days: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, hours=hours, days=days)


def attempt(
    started: datetime,
    error_class: ErrorClass = ErrorClass.OK,
    number: int = 1,
    **fields: Any,
) -> Attempt:
    if "latency_ms" not in fields and error_class is ErrorClass.OK:
        fields["latency_ms"] = 500.0
    return Attempt(number, started, error_class, **fields)


def result(
    model: str,
    kind: ProbeKind,
    *attempts: Attempt,
    provider: str = "acme",
    **fields: Any,
) -> ProbeResult:
    return ProbeResult(provider, model, kind, attempts, **fields)


def completion(
    model: str, started: datetime, error_class: ErrorClass = ErrorClass.OK, **fields: Any
) -> ProbeResult:
    provider = fields.pop("provider", "acme")
    return result(
        model, ProbeKind.COMPLETION, attempt(started, error_class, **fields), provider=provider
    )


def report(
    started: datetime,
    verdicts: dict[str, Verdict],
    status: RunStatus = RunStatus.COMPLETE,
    provider: str = "acme",
) -> RunReport:
    return RunReport(
        started_at=started,
        finished_at=started + timedelta(seconds=30),
        status=status,
        results=(),
        verdicts=tuple(
            ModelVerdict(provider, model, verdict, f"{model} is {verdict.value}")
            for model, verdict in verdicts.items()
        ),
    )
