"""Where a model's traffic could go instead, and the one rule that says when a fallback
may be recommended (the report) or counted (drills).

Candidates are the fallbacks the registry declares for the model, then (for open weights)
the same weights family served by other providers. `options` ranks them by what the
window showed: healthy first, then merely live, then by the lower end of their
availability interval (well evidenced beats lucky), declared before family twins, then by
p95 latency.

The rule (`qualifies`): a fallback is worth moving to only if it answered in its latest
run and ranks lower in risk than the model it would replace. The second half makes advice
acyclic: A -> B and B -> A would need each to rank below the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from modelaudit.risk import words
from modelaudit.risk.stats import percent
from modelaudit.vocabulary import Verdict, Weights

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from datetime import datetime

    from modelaudit.registry.schema import ModelSpec, ProviderSpec, Registry
    from modelaudit.risk.evidence import Evidence, Standing
    from modelaudit.risk.score import RiskScore
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
    """It answered in its latest run, and is not shown to miss its own availability SLO."""
    availability: Proportion
    latency_p95_ms: float | None
    jurisdiction: str | None
    answered_latest: bool = False
    """It answered in its latest run that reached a verdict."""
    last_answered: datetime | None = None
    note: str = ""
    """What was measured, in words: `below its 99% SLO: 96.8% [93.1-98.6%] n=62; last
    answered 12:41`."""

    @property
    def ref(self) -> str:
        return f"{self.provider}/{self.model}"


@dataclass(frozen=True)
class Rejection:
    """A candidate that was not recommended, and why."""

    option: FallbackOption
    why: str

    @property
    def text(self) -> str:
        return f"{self.option.ref} ({self.why})"


@dataclass(frozen=True)
class Choice:
    """The fallback the rule picks for one model, and every candidate it passed over."""

    fallback: FallbackOption | None
    rejected: tuple[Rejection, ...]


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
    for other, twin in registry.open_family(model.family):
        if other.name != provider.name and (other.name, twin.id) not in seen:
            seen.add((other.name, twin.id))
            yield other, twin, "family"


def options(
    registry: Registry, evidence: Evidence, provider: ProviderSpec, model: ModelSpec
) -> tuple[FallbackOption, ...]:
    """Every candidate with what the window showed of it, best first."""
    found = []
    for other, spec, source in candidates(registry, provider, model):
        key = (other.name, spec.id)
        standing = evidence.standing(key)
        slo = registry.slo_for(spec).availability
        history = standing.history
        found.append(
            FallbackOption(
                provider=other.name,
                model=spec.id,
                source=source,
                verified_live=standing.verified_live,
                healthy=standing.healthy(slo),
                availability=standing.availability,
                latency_p95_ms=history.latency.p95 if history else None,
                jurisdiction=other.jurisdiction,
                answered_latest=standing.answered_latest,
                last_answered=standing.last_answered,
                note=measured(standing, slo, evidence.now, _down_since(evidence, key)),
            )
        )
    return tuple(sorted(found, key=_rank))


def measured(
    standing: Standing, slo: float, now: datetime, stopped_since: datetime | None = None
) -> str:
    """What the window showed of a model, in the words a person acts on: `healthy: ...`,
    `below its 99% SLO: 96.8% [93.1-98.6%] n=62; last answered 12:41`, or `not answering:
    down since 09:10; last answered 09:05`."""
    last = standing.last_answered
    answered = (
        f"last answered {words.moment(last, now)}" if last else "not seen answering in the window"
    )
    availability = words.share(standing.availability)
    if standing.answered_latest:
        if standing.meets_slo(slo):
            return f"healthy: {availability}; {answered}"
        return f"below its {percent(slo)} SLO: {availability}; {answered}"
    verdict = standing.last_verdict
    if verdict is None:
        return f"not probed to a verdict in the window; {answered}"
    since = stopped_since or verdict.at
    state = f"{verdict.verdict.value} since {words.moment(since, now)}"
    if verdict.verdict in (Verdict.UP, Verdict.DEGRADED):  # its latest run did not answer
        state = f"{verdict.verdict.value} at {words.moment(verdict.at, now)} without an answer"
    return f"not answering: {state}; {answered}"


def _down_since(evidence: Evidence, key: tuple[str, str]) -> datetime | None:
    ongoing = [i.start for i in evidence.incidents_of(key) if i.end is None]
    return min(ongoing, default=None)


def _rank(option: FallbackOption) -> tuple[bool, bool, bool, float, bool, float, str]:
    return (
        not option.healthy,
        not option.answered_latest,
        not option.verified_live,
        -(option.availability.low or 0.0),
        option.source != "declared",
        option.latency_p95_ms if option.latency_p95_ms is not None else float("inf"),
        option.ref,
    )


def qualifies(option: FallbackOption, own: RiskScore, replacing: RiskScore) -> str | None:
    """None when `option` (whose own risk is `own`) may take the traffic of a model whose
    risk is `replacing`; otherwise why not, in words."""
    if not option.answered_latest:
        return option.note
    if not own.ranks_below(replacing):
        return f"its own risk {own.score} {own.level.value} is not lower than {replacing.score}"
    return None


def choose(
    ranked: Iterable[FallbackOption],
    replacing: RiskScore,
    risk_of: Callable[[FallbackOption], RiskScore],
    usable: Callable[[FallbackOption], bool] = lambda _: True,
) -> Choice:
    """The best candidate that passes `usable` (e.g. survives a drill) and the rule:
    healthy first, then the lowest own risk, then `options`' order."""
    passed: list[tuple[int, FallbackOption]] = []
    rejected = []
    for index, option in enumerate(ranked):
        if not usable(option):
            continue
        why = qualifies(option, risk_of(option), replacing)
        if why is None:
            passed.append((index, option))
        else:
            rejected.append(Rejection(option, why))
    if not passed:
        return Choice(None, tuple(rejected))
    index, best = min(passed, key=lambda p: (not p[1].healthy, risk_of(p[1]).rank, p[0]))
    others = [Rejection(o, _passed_over(o, best)) for i, o in passed if i != index]
    return Choice(best, (*rejected, *others))


def _passed_over(option: FallbackOption, chosen: FallbackOption) -> str:
    return f"qualifies too, after {chosen.ref}: {option.note}"


def remedy(provider: ProviderSpec, model: ModelSpec, rejected: tuple[Rejection, ...]) -> str:
    """What would give a model a fallback when none qualifies."""
    if model.weights is Weights.OPEN and model.family:
        add = (
            f"serve the `{model.family}` weights at another host (the same `family:`), "
            "or declare a fallback under `fallbacks:`"
        )
    elif model.weights is Weights.OPEN:
        add = (
            "name its weights with `family:` and serve them at another host, "
            "or declare a fallback under `fallbacks:`"
        )
    else:
        add = (
            "declare a fallback under `fallbacks:` (another vendor's model, or an "
            "open-weight family served at another host)"
        )
    down = [r.option.ref for r in rejected if not r.option.answered_latest]
    return f"get {', '.join(down)} answering again, or {add}" if down else add
