"""Gather each registry model's evidence into `RiskInputs` and score it.

The judgement lives in `risk.score` (pure); this module only looks things up: the model's
SLO, who holds its weights, its fallbacks and how they fared, its lifecycle signals, and
the portfolio's concentration of pinned models.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelaudit.risk import fallbacks
from modelaudit.risk.score import Custody, RiskInputs, RiskScore, score
from modelaudit.vocabulary import Hosting, Verdict, Weights

if TYPE_CHECKING:
    from modelaudit.history import ModelKey
    from modelaudit.registry.schema import ModelSpec, ProviderSpec, Registry, Risk
    from modelaudit.risk.evidence import Evidence, Standing
    from modelaudit.risk.fallbacks import FallbackOption

_ALIAS = re.compile(r"(?i)(?:^|[-_:./])latest$")


@dataclass(frozen=True)
class Assessment:
    provider: ProviderSpec
    model: ModelSpec
    standing: Standing
    fallbacks: tuple[FallbackOption, ...]
    """Best first."""
    inputs: RiskInputs
    risk: RiskScore
    config: Risk

    @property
    def key(self) -> ModelKey:
        return (self.provider.name, self.model.id)

    @property
    def ref(self) -> str:
        return f"{self.provider.name}/{self.model.id}"

    def if_lost(self, why: str) -> RiskScore:
        """The risk this model would have if it stopped answering now (a drill's removal):
        broken, so it outranks every model that answered in its latest run."""
        return score(dataclasses.replace(self.inputs, gone=why), self.config)


@dataclass(frozen=True)
class Concentration:
    """How the pinned models spread over vendors and jurisdictions."""

    total: int
    by_vendor: Counter[str]
    by_jurisdiction: Counter[str]

    @classmethod
    def of(cls, registry: Registry) -> Concentration:
        pinned = [(p, m) for p in registry.providers for m in p.models if m.pinned]
        return cls(
            total=len(pinned),
            by_vendor=Counter(p.name for p, _ in pinned),
            by_jurisdiction=Counter(p.jurisdiction for p, _ in pinned if p.jurisdiction),
        )

    def share(self, counter: Counter[str], name: str | None) -> float:
        return counter[name] / self.total if self.total and name else 0.0


def assess(registry: Registry, evidence: Evidence) -> dict[ModelKey, Assessment]:
    concentration = Concentration.of(registry)
    result = {}
    for provider in registry.providers:
        for model in provider.models:
            assessment = assess_one(registry, evidence, provider, model, concentration)
            result[assessment.key] = assessment
    return result


def assess_one(
    registry: Registry,
    evidence: Evidence,
    provider: ProviderSpec,
    model: ModelSpec,
    concentration: Concentration,
) -> Assessment:
    key = (provider.name, model.id)
    standing = evidence.standing(key)
    ranked = fallbacks.options(registry, evidence, provider, model)
    slo = registry.slo_for(model)
    history = standing.history
    inputs = RiskInputs(
        ok=standing.availability.ok,
        failed=standing.availability.n - standing.availability.ok,
        availability_slo=slo.availability,
        latency_p95_ms=history.latency.p95 if history else None,
        latency_n=history.latency.n if history else 0,
        latency_slo_ms=slo.p95_latency_ms,
        custody=custody(provider, model),
        custody_note=_custody_note(provider, model),
        today=evidence.now.date(),
        pinned=model.pinned,
        down=_stopped(evidence, key, standing, Verdict.DOWN),
        gone=_stopped(evidence, key, standing, Verdict.GONE),
        blocked=_stopped(evidence, key, standing, Verdict.BLOCKED),
        retires=model.retires,
        vanished=_vanished(evidence, key, standing),
        floating_alias=_floating(evidence, key, model),
        ratelimit_drop=max((t.drop for t in evidence.ceilings(key) if t.falling), default=0.0),
        ratelimit_note=_ceiling_note(evidence, key),
        healthy_elsewhere=tuple(o.ref for o in ranked if o.healthy and o.provider != provider.name),
        healthy_same_provider=tuple(
            o.ref for o in ranked if o.healthy and o.provider == provider.name
        ),
        unverified=tuple(f"{o.ref} ({o.note})" for o in ranked if not o.healthy),
        gated=provider.regulatory.gated,
        withdrawn=evidence.withdrawn(key),
        jurisdiction=provider.jurisdiction,
        home_jurisdiction=registry.risk.home_jurisdiction,
        vendor=provider.name,
        vendor_share=concentration.share(concentration.by_vendor, provider.name),
        jurisdiction_share=concentration.share(
            concentration.by_jurisdiction, provider.jurisdiction
        ),
        pinned_total=concentration.total,
    )
    risk = score(inputs, registry.risk)
    return Assessment(provider, model, standing, ranked, inputs, risk, registry.risk)


def custody(provider: ProviderSpec, model: ModelSpec) -> Custody:
    if model.weights is Weights.CLOSED:
        return Custody.LOSABLE
    if provider.hosting is Hosting.SELF_HOSTED:
        return Custody.HELD
    return Custody.MOVABLE


def _custody_note(provider: ProviderSpec, model: ModelSpec) -> str:
    where = f"{provider.name} ({provider.hosting.value})"
    match custody(provider, model):
        case Custody.LOSABLE:
            return f"closed weights at {where}: you can lose it"
        case Custody.MOVABLE:
            return f"open weights at {where}: you can move it"
        case Custody.HELD:
            return f"open weights you host ({provider.name}): you hold it"


def _stopped(evidence: Evidence, key: ModelKey, standing: Standing, verdict: Verdict) -> str | None:
    """When the last verdict is `verdict`: since when (the first failing run of its ongoing
    incident, or that last run) and why."""
    last = standing.last_verdict
    if last is None or last.verdict is not verdict:
        return None
    ongoing = [i.start for i in evidence.incidents_of(key) if i.end is None]
    # An incident spans down and gone runs alike; a blocked run only says our access broke.
    since = last.at if verdict is Verdict.BLOCKED else min(ongoing, default=last.at)
    return f"since {since:%Y-%m-%d %H:%M} UTC ({last.reason})"


def _vanished(evidence: Evidence, key: ModelKey, standing: Standing) -> str | None:
    at = evidence.vanished_at(key)
    if at is None or _stopped(evidence, key, standing, Verdict.GONE):
        return None
    return f"vanished from {key[0]}'s model list on {at:%Y-%m-%d}"


def _floating(evidence: Evidence, key: ModelKey, model: ModelSpec) -> str | None:
    if _ALIAS.search(model.id):
        return f"`{model.id}` points at whatever the vendor chooses; pin a dated snapshot"
    served = evidence.served_as(key)
    if served is not None:
        return f"asked for `{model.id}`, answered as `{served}`"
    return None


def _ceiling_note(evidence: Evidence, key: ModelKey) -> str:
    falling = [t for t in evidence.ceilings(key) if t.falling]
    return "; ".join(
        f"rate-limit ceiling {t.header} fell from {t.peak:g} to {t.last:g}" for t in falling
    )
