"""Drills: "if this vendor (or every provider in this jurisdiction) disappeared tomorrow,
which pinned models keep a healthy fallback?", answered from stored history alone.

A pinned model is *affected* when a removed provider serves it, and *covered* when one of
its fallbacks is at a provider that survives and passes the same rule the report's
recommendations follow (`fallbacks.qualifies`): it answered in its latest run and ranks
lower in risk than the model would once lost (a lost model is broken, so any fallback that
answered qualifies). Continuity coverage is covered / affected (None when nothing pinned
is affected).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelaudit.risk import fallbacks

if TYPE_CHECKING:
    from collections.abc import Mapping

    from modelaudit.history import ModelKey
    from modelaudit.registry.schema import ProviderSpec
    from modelaudit.risk.assess import Assessment
    from modelaudit.risk.fallbacks import FallbackOption, Rejection


@dataclass(frozen=True)
class Removal:
    providers: frozenset[str] = frozenset()
    jurisdictions: frozenset[str] = frozenset()

    def removes(self, provider: ProviderSpec) -> bool:
        return provider.name in self.providers or provider.jurisdiction in self.jurisdictions

    def removes_name(self, provider: str, jurisdiction: str | None) -> bool:
        return provider in self.providers or jurisdiction in self.jurisdictions

    @property
    def label(self) -> str:
        parts = [
            *sorted(self.providers),
            *(f"jurisdiction {j}" for j in sorted(self.jurisdictions)),
        ]
        return " + ".join(parts) or "nothing"


@dataclass(frozen=True)
class PinnedOutcome:
    provider: str
    model: str
    fallback: FallbackOption | None
    """The best surviving fallback that qualifies (`fallbacks.qualifies`)."""
    others: tuple[str, ...]
    """Surviving fallbacks that do not qualify (not answering in their latest run)."""
    rejected: tuple[Rejection, ...] = ()
    """Every surviving candidate not chosen, with why."""
    remedy: str = ""
    """What would give it a fallback, when none qualifies."""

    @property
    def ref(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def covered(self) -> bool:
        return self.fallback is not None


@dataclass(frozen=True)
class DrillResult:
    removal: Removal
    pinned_total: int
    affected: tuple[PinnedOutcome, ...]

    @property
    def covered(self) -> int:
        return sum(1 for o in self.affected if o.covered)

    @property
    def coverage(self) -> float | None:
        return self.covered / len(self.affected) if self.affected else None


@dataclass(frozen=True)
class Portfolio:
    vendors: tuple[DrillResult, ...]
    jurisdictions: tuple[DrillResult, ...]


def drill(assessments: Mapping[ModelKey, Assessment], removal: Removal) -> DrillResult:
    affected = []
    pinned = [a for a in assessments.values() if a.model.pinned]
    for assessment in pinned:
        if not removal.removes(assessment.provider):
            continue

        def survives(option: FallbackOption) -> bool:
            return not removal.removes_name(option.provider, option.jurisdiction)

        choice = fallbacks.choose(
            assessment.fallbacks,
            assessment.if_lost(f"removed by the drill without {removal.label}"),
            lambda o: assessments[(o.provider, o.model)].risk,
            survives,
        )
        failing = tuple(r for r in choice.rejected if not r.option.answered_latest)
        affected.append(
            PinnedOutcome(
                assessment.provider.name,
                assessment.model.id,
                choice.fallback,
                tuple(r.option.ref for r in failing),
                choice.rejected,
                ""
                if choice.fallback
                else fallbacks.remedy(assessment.provider, assessment.model, choice.rejected),
            )
        )
    return DrillResult(removal, len(pinned), tuple(affected))


def portfolio(assessments: Mapping[ModelKey, Assessment]) -> Portfolio:
    """One drill per provider and per jurisdiction that serves a pinned model."""
    pinned = [a.provider for a in assessments.values() if a.model.pinned]
    vendors = sorted({p.name for p in pinned})
    places = sorted({p.jurisdiction for p in pinned if p.jurisdiction})
    return Portfolio(
        vendors=tuple(drill(assessments, Removal(providers=frozenset({v}))) for v in vendors),
        jurisdictions=tuple(
            drill(assessments, Removal(jurisdictions=frozenset({j}))) for j in places
        ),
    )
