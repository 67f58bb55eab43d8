"""Where a model's traffic could go instead, ranked by what the window showed.

Candidates are the fallbacks the registry declares for the model, then (for open weights)
the same weights family served by other providers. They are ranked: healthy in the window
first, then merely live, then by the lower end of their availability interval (well
evidenced beats lucky), declared before family twins, then by p95 latency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from modelaudit.vocabulary import Weights

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from modelaudit.registry.schema import ModelSpec, ProviderSpec, Registry
    from modelaudit.risk.evidence import Evidence
    from modelaudit.risk.stats import Proportion

Source = Literal["declared", "family"]


@dataclass(frozen=True)
class FallbackOption:
    provider: str
    model: str
    source: Source
    """`declared` in the model's `fallbacks`, or the same open-weights `family` elsewhere."""
    verified_live: bool
    """It answered in the window and its last verdict was up or degraded."""
    healthy: bool
    """Live, and not shown to miss its own availability SLO."""
    availability: Proportion
    latency_p95_ms: float | None
    jurisdiction: str | None

    @property
    def ref(self) -> str:
        return f"{self.provider}/{self.model}"


def candidates(
    registry: Registry, provider: ProviderSpec, model: ModelSpec
) -> Iterator[tuple[ProviderSpec, ModelSpec, Source]]:
    seen = {(provider.name, model.id)}
    for ref in model.fallbacks:
        found = registry.resolve(ref)
        if found is not None and (found[0].name, found[1].id) not in seen:
            seen.add((found[0].name, found[1].id))
            yield found[0], found[1], "declared"
    if model.family is None or model.weights is not Weights.OPEN:
        return
    for other in registry.providers:
        if other.name == provider.name:
            continue
        for twin in other.models:
            same = twin.family == model.family and twin.weights is Weights.OPEN
            if same and (other.name, twin.id) not in seen:
                seen.add((other.name, twin.id))
                yield other, twin, "family"


def options(
    registry: Registry, evidence: Evidence, provider: ProviderSpec, model: ModelSpec
) -> tuple[FallbackOption, ...]:
    """Every candidate with what the window showed of it, best first."""
    found = []
    for other, spec, source in candidates(registry, provider, model):
        standing = evidence.standing((other.name, spec.id))
        history = standing.history
        found.append(
            FallbackOption(
                provider=other.name,
                model=spec.id,
                source=source,
                verified_live=standing.verified_live,
                healthy=standing.healthy(registry.slo_for(spec).availability),
                availability=standing.availability,
                latency_p95_ms=history.latency.p95 if history else None,
                jurisdiction=other.jurisdiction,
            )
        )
    return tuple(sorted(found, key=_rank))


def _rank(option: FallbackOption) -> tuple[bool, bool, float, bool, float, str]:
    return (
        not option.healthy,
        not option.verified_live,
        -(option.availability.low or 0.0),
        option.source != "declared",
        option.latency_p95_ms if option.latency_p95_ms is not None else float("inf"),
        option.ref,
    )


def best(
    ranked: tuple[FallbackOption, ...],
    usable: Callable[[FallbackOption], bool] = lambda _: True,
) -> FallbackOption | None:
    """The best option that was verified live and passes `usable` (e.g. survives a drill)."""
    return next((o for o in ranked if o.verified_live and usable(o)), None)
