"""Probe results rebuilt from stored attempts, for `db copy`: what one store read back is
written into another through the same path as a live run (`Maintenance.copy_in`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.probe.result import Attempt, ProbeResult
from modelaudit.vocabulary import ErrorClass, Phase, ProbeKind

if TYPE_CHECKING:
    from collections.abc import Iterable

    from modelaudit.store.export import ExportedAttempt


def attempt_of(row: ExportedAttempt) -> Attempt:
    return Attempt(
        number=row.attempt,
        started_at=row.started_at,
        error_class=ErrorClass(row.error_class),
        http_status=row.http_status,
        latency_ms=row.latency_ms,
        ttft_ms=row.ttft_ms,
        failed_phase=Phase(row.failed_phase) if row.failed_phase else None,
        connect_ms=row.connect_ms,
        connection_reused=row.connection_reused,
        served_model=row.served_model,
        system_fingerprint=row.system_fingerprint,
        output_tokens=row.output_tokens,
        tokens_per_s=row.tokens_per_s,
        max_gap_ms=row.max_gap_ms,
        retry_after_s=row.retry_after_s,
        ratelimit=tuple(sorted(row.ratelimit.items())),
        detail=row.detail,
    )


def results_of(rows: Iterable[ExportedAttempt]) -> tuple[ProbeResult, ...]:
    """One result per model and kind, its attempts in the order they were numbered, in
    the order their first attempts started. Rows of a model a damaged database lost (no
    provider, no model) are left out: there is no model to give them to."""
    grouped: dict[tuple[str, str, str], list[ExportedAttempt]] = {}
    for row in rows:
        if row.provider is not None and row.model is not None:
            grouped.setdefault((row.provider, row.model, row.kind), []).append(row)
    results = [
        ProbeResult(
            provider,
            model,
            ProbeKind(kind),
            tuple(attempt_of(r) for r in sorted(found, key=lambda r: (r.attempt, r.started_at))),
        )
        for (provider, model, kind), found in grouped.items()
    ]
    return tuple(sorted(results, key=lambda r: r.started_at))
