"""The `health` kind: a self-hosted server's own health endpoint, probed once for the
server; its state is every model's on it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from modelaudit.families import FAMILIES
from modelaudit.families.base import (
    HttpResponse,
)
from modelaudit.probe import classify, health
from modelaudit.probe.attempts import (
    Outcome,
    ProbeContext,
    attempt_loop,
    error_outcome,
    send_one,
    timed,
)
from modelaudit.probe.result import Attempt, HealthState, ProbeResult
from modelaudit.vocabulary import ErrorClass, ProbeKind

if TYPE_CHECKING:
    from modelaudit.registry.schema import ModelSpec, ProviderSpec


@dataclass(frozen=True)
class HealthProbe:
    attempts: tuple[Attempt, ...]
    state: HealthState | None


async def probe_health(ctx: ProbeContext, provider: ProviderSpec) -> HealthProbe:
    server = provider.server
    assert server is not None, "planning only schedules health for servers"
    request = health.health_request(server, provider.base_url)
    states: list[HealthState | None] = []

    async def send(variant: int) -> Outcome:
        ctx.budget.take()
        ex = await send_one(ctx, provider, request)
        if isinstance(ex, Outcome):
            states.append(None)
            return ex
        state = health.parse_health(server, HttpResponse(ex.status, ex.headers, ex.body))
        states.append(state)
        if state is HealthState.OK:
            return timed(Outcome(ErrorClass.OK, f"{server} reports healthy"), ex)
        outcome = error_outcome(FAMILIES[provider.api], ex)
        loading = state is HealthState.LOADING
        words = "is loading its model" if loading else "reports unhealthy"
        error_class = classify.health_class(loading, False, outcome.error_class)
        return replace(outcome, error_class=error_class, detail=f"{server} {words} ({ex.status})")

    attempts = await attempt_loop(ctx, send)
    return HealthProbe(attempts, states[-1] if states else None)


def health_results(
    provider: ProviderSpec, models: tuple[ModelSpec, ...], probe: HealthProbe
) -> list[ProbeResult]:
    """The server's health is every model's health on it."""
    return [
        ProbeResult(provider.name, m.id, ProbeKind.HEALTH, probe.attempts, health=probe.state)
        for m in models
    ]


async def probe(
    ctx: ProbeContext, provider: ProviderSpec, models: tuple[ModelSpec, ...]
) -> list[ProbeResult]:
    return health_results(provider, models, await probe_health(ctx, provider))
