"""What one probe run says about each pinned model. Pure: a `RunReport` in, one
`Observation` per pin out, ready for `decide`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from modelaudit.vocabulary import ErrorClass, ProbeKind, Verdict

if TYPE_CHECKING:
    from modelaudit.probe.plan import Plan
    from modelaudit.probe.result import ProbeResult, RunReport

# A filtered reply still proves the model generates.
NO_CATALOG_REASON = (
    "this provider has no model list to check for free: `--live` checks it with one completion"
)


@dataclass(frozen=True)
class Observation:
    verdict: Verdict
    """The probe engine's verdict for the model in this run."""
    reason: str
    error_class: ErrorClass | None = None
    listed: bool | None = None
    """What the provider's model list said (None: no list was read)."""
    api_retires: date | None = None
    """The shutdown date the provider's own list gives."""
    lifecycle: str | None = None
    """The list's lifecycle word (`deprecated`, `legacy`, `inactive`...)."""
    served_model: str | None = None
    """The model id a successful completion said served it."""
    live: bool = False
    """A completion was sent (`--live` or `lock`)."""
    answered: bool = False
    """The completion succeeded: the pinned id still generates."""
    elapsed_s: float = 0.0
    """Time spent in this model's requests."""


NOT_PROBED = Observation(Verdict.SKIPPED, "not probed")


def observe(report: RunReport, plan: Plan) -> dict[tuple[str, str], Observation]:
    grouped: dict[tuple[str, str], list[ProbeResult]] = {}
    for result in report.results:
        grouped.setdefault((result.provider, result.model), []).append(result)
    nothing_applies = {
        p.provider.name for p in plan.providers if not p.kinds and p.skip_reason is None
    }
    observations = {}
    for verdict in report.verdicts:
        key = (verdict.provider, verdict.model)
        results = grouped.get(key, [])
        reason = verdict.reason
        if verdict.verdict is Verdict.SKIPPED and not results and key[0] in nothing_applies:
            reason = NO_CATALOG_REASON
        observations[key] = _observation(verdict.verdict, reason, verdict.error_class, results)
    return observations


def _observation(
    verdict: Verdict,
    reason: str,
    error_class: ErrorClass | None,
    results: list[ProbeResult],
) -> Observation:
    catalog = next((r.catalog for r in results if r.catalog is not None), None)
    completion = next((r for r in results if r.kind is ProbeKind.COMPLETION), None)
    answered = completion is not None and completion.error_class.is_success
    served = completion.final.served_model if completion is not None and answered else None
    elapsed_ms = sum(a.latency_ms or 0.0 for r in results for a in r.attempts)
    return Observation(
        verdict=verdict,
        reason=reason,
        error_class=error_class,
        listed=catalog.listed if catalog else None,
        api_retires=catalog.retires if catalog else None,
        lifecycle=catalog.lifecycle if catalog else None,
        served_model=served,
        live=completion is not None,
        answered=answered,
        elapsed_s=round(elapsed_ms / 1000.0, 3),
    )
