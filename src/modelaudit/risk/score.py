"""The business-continuity risk score of one model: a pure function of its evidence.

Each factor turns its evidence into a *badness* between 0 (nothing to worry about) and 1
(as bad as it gets); its *points* are its weight (from `risk.weights` in providers.yaml)
times that badness; the score is the sum of the points, capped at 100, rounded. Every
badness rises with worse evidence and never falls, so worse evidence never lowers the
score (a property test holds the function to it).

    availability      0 while the upper end of the 95% interval meets the SLO; else the
                      failure budget burnt, (1 - high) / (1 - slo): 1x -> 0, 5x or more -> 1;
                      at least 0.75 while the last verdict is `down`
    latency           p95 / SLO p95 - 1, between 0 and 1 (twice the budget -> 1); needs
                      MIN_LATENCY_N samples
    lifecycle         the worst of: gone 1; retirement date passed 1; retirement within the
                      horizon 0.4 rising to 1 on the day; announced beyond it 0.2; vanished
                      from the catalog while answering 0.5; rate-limit ceiling fallen by a
                      share d, d/2; a floating alias 0.25
    control           closed weights 1 (you can lose it); open weights at a vendor or host
                      0.4 (you can move); open weights you host 0 (you hold it)
    substitutability  2+ healthy fallbacks at other providers 0; one 0.2; healthy ones only
                      at the same provider 0.5; fallbacks none of which was seen healthy 0.75;
                      none 1
    regulatory        withdrawn in a region while answering in another (a fleet saw it) 1;
                      a gated provider 1; a jurisdiction other than `home_jurisdiction` 0.5
    concentration     the larger share of pinned models on the same vendor, or in the same
                      jurisdiction
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from modelaudit.risk.stats import percent, proportion

if TYPE_CHECKING:
    from modelaudit.registry.schema import Risk, RiskLevels

MIN_LATENCY_N = 5
"""Fewer successful attempts than this say nothing about a p95."""
BURN_AT_FULL = 5.0
"""Burning the failure budget this many times over is as bad as availability gets."""
DOWN_NOW = 0.75
"""The least availability badness of a model whose last verdict is `down`."""
_MIN_BUDGET = 0.001
"""A 100% SLO still leaves this much failure budget, so the burn rate stays finite."""


class Factor(StrEnum):
    AVAILABILITY = "availability"
    LATENCY = "latency"
    LIFECYCLE = "lifecycle"
    CONTROL = "control"
    SUBSTITUTABILITY = "substitutability"
    REGULATORY = "regulatory"
    CONCENTRATION = "concentration"


class Level(StrEnum):
    LOW = "low"
    ELEVATED = "elevated"
    HIGH = "high"
    CRITICAL = "critical"


class Custody(StrEnum):
    """Who holds the weights, seen from the team that depends on the model."""

    HELD = "held"
    """Open weights you host yourself."""
    MOVABLE = "movable"
    """Open weights at a vendor or third-party host: another host can serve them."""
    LOSABLE = "losable"
    """Closed weights: only the vendor (or its licensees) can serve them."""


@dataclass(frozen=True)
class RiskInputs:
    """Everything the score looks at for one model, already gathered (see `risk.inputs`)."""

    ok: int
    failed: int
    availability_slo: float
    latency_p95_ms: float | None
    latency_n: int
    latency_slo_ms: float
    custody: Custody
    custody_note: str
    today: date
    down: str | None = None
    """Why the model is down now (its last verdict), or None."""
    gone: str | None = None
    """Why the model is gone (e.g. "verdict gone since ..."), or None."""
    retires: date | None = None
    vanished: str | None = None
    """Why the model looks withdrawn from the catalog while it still answers."""
    floating_alias: str | None = None
    """Why the id looks like an alias that can change under you."""
    ratelimit_drop: float = 0.0
    """The largest fall of a rate-limit ceiling in the window, as a share (0.9 = fell 90%)."""
    ratelimit_note: str = ""
    healthy_elsewhere: tuple[str, ...] = ()
    """Fallbacks at other providers seen healthy in the window."""
    healthy_same_provider: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()
    """Fallbacks not seen healthy in the window."""
    gated: bool = False
    withdrawn: str | None = None
    """Where the model is blocked or gone while it answers in another region."""
    jurisdiction: str | None = None
    home_jurisdiction: str | None = None
    vendor: str = ""
    vendor_share: float = 0.0
    jurisdiction_share: float = 0.0
    pinned_total: int = 0


@dataclass(frozen=True)
class FactorScore:
    factor: Factor
    weight: float
    badness: float
    """0 (fine) to 1 (as bad as it gets)."""
    evidence: str

    @property
    def points(self) -> float:
        return self.weight * self.badness


@dataclass(frozen=True)
class RiskScore:
    score: int
    level: Level
    factors: tuple[FactorScore, ...]


def score(inputs: RiskInputs, config: Risk) -> RiskScore:
    weights = config.weights
    factors = (
        FactorScore(Factor.AVAILABILITY, weights.availability, *_availability(inputs)),
        FactorScore(Factor.LATENCY, weights.latency, *_latency(inputs)),
        FactorScore(
            Factor.LIFECYCLE, weights.lifecycle, *_lifecycle(inputs, config.retirement_horizon_days)
        ),
        FactorScore(Factor.CONTROL, weights.control, *_control(inputs)),
        FactorScore(Factor.SUBSTITUTABILITY, weights.substitutability, *_substitutability(inputs)),
        FactorScore(Factor.REGULATORY, weights.regulatory, *_regulatory(inputs)),
        FactorScore(Factor.CONCENTRATION, weights.concentration, *_concentration(inputs)),
    )
    total = min(100, round(sum(f.points for f in factors)))
    return RiskScore(total, level_of(total, config.levels), factors)


def level_of(total: int, levels: RiskLevels) -> Level:
    if total >= levels.critical:
        return Level.CRITICAL
    if total >= levels.high:
        return Level.HIGH
    if total >= levels.elevated:
        return Level.ELEVATED
    return Level.LOW


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def _availability(i: RiskInputs) -> tuple[float, str]:
    badness, evidence = _availability_against_slo(i)
    if i.down is None:
        return badness, evidence
    return max(badness, DOWN_NOW), f"down now, {i.down}; {evidence}"


def _availability_against_slo(i: RiskInputs) -> tuple[float, str]:
    n = i.ok + i.failed
    if n == 0:
        return 0.0, "no success or failure counted in the window (nothing to judge)"
    share = proportion(i.ok, n)
    assert share.value is not None
    assert share.low is not None
    assert share.high is not None
    observed = (
        f"{i.ok}/{n} = {percent(share.value)} "
        f"(95% CI {percent(share.low)}-{percent(share.high)}), SLO {percent(i.availability_slo)}"
    )
    if share.high >= i.availability_slo:
        return 0.0, f"{observed}: not shown to miss it"
    burn = (1 - share.high) / max(1 - i.availability_slo, _MIN_BUDGET)
    badness = _clamp((burn - 1) / (BURN_AT_FULL - 1))
    return badness, f"{observed}: misses it even at the top of the interval ({burn:.1f}x budget)"


def _latency(i: RiskInputs) -> tuple[float, str]:
    if i.latency_p95_ms is None or i.latency_n < MIN_LATENCY_N:
        return 0.0, f"{i.latency_n} timed successes: too few for a p95 (need {MIN_LATENCY_N})"
    ratio = i.latency_p95_ms / i.latency_slo_ms
    observed = f"p95 {i.latency_p95_ms:.0f} ms (n={i.latency_n}), SLO {i.latency_slo_ms:.0f} ms"
    if ratio <= 1:
        return 0.0, f"{observed}: within"
    return _clamp(ratio - 1), f"{observed}: {ratio:.1f}x the budget"


def _lifecycle(i: RiskInputs, horizon_days: int) -> tuple[float, str]:
    findings: list[tuple[float, str]] = []
    if i.gone:
        findings.append((1.0, f"gone: {i.gone}"))
    if i.retires is not None:
        findings.append(_retirement(i.retires, i.today, horizon_days))
    if i.vanished:
        findings.append((0.5, i.vanished))
    if i.ratelimit_drop > 0:
        findings.append((_clamp(i.ratelimit_drop) / 2, i.ratelimit_note))
    if i.floating_alias:
        findings.append((0.25, f"floating alias: {i.floating_alias}"))
    if not findings:
        return 0.0, "no retirement announced, dated id, ceilings steady"
    return max(b for b, _ in findings), "; ".join(text for _, text in findings)


def _retirement(retires: date, today: date, horizon_days: int) -> tuple[float, str]:
    days = (retires - today).days
    if days <= 0:
        return 1.0, f"retired on {retires.isoformat()} (registry `retires`)"
    if days > horizon_days:
        return 0.2, f"retirement announced for {retires.isoformat()}, in {days} days"
    return (
        0.4 + 0.6 * (1 - days / horizon_days),
        f"retires {retires.isoformat()}, in {days} day{'s' if days != 1 else ''}",
    )


_CUSTODY_BADNESS = {Custody.HELD: 0.0, Custody.MOVABLE: 0.4, Custody.LOSABLE: 1.0}


def _control(i: RiskInputs) -> tuple[float, str]:
    return _CUSTODY_BADNESS[i.custody], i.custody_note


def _substitutability(i: RiskInputs) -> tuple[float, str]:
    if len(i.healthy_elsewhere) >= 2:
        return 0.0, f"healthy fallbacks at other providers: {', '.join(i.healthy_elsewhere)}"
    if i.healthy_elsewhere:
        return 0.2, f"one healthy fallback at another provider: {i.healthy_elsewhere[0]}"
    if i.healthy_same_provider:
        return 0.5, (
            "healthy fallbacks only at the same provider: " + ", ".join(i.healthy_same_provider)
        )
    if i.unverified:
        return 0.75, "no fallback seen healthy in the window: " + ", ".join(i.unverified)
    return 1.0, "no fallback declared and no open-weight twin at another provider"


def _regulatory(i: RiskInputs) -> tuple[float, str]:
    if i.withdrawn:
        return 1.0, i.withdrawn
    if i.gated:
        return 1.0, f"government-gated provider (regulatory.gated), jurisdiction {i.jurisdiction}"
    if i.jurisdiction and i.home_jurisdiction and i.jurisdiction != i.home_jurisdiction:
        return 0.5, f"jurisdiction {i.jurisdiction}, outside home {i.home_jurisdiction}"
    if i.jurisdiction is None:
        return 0.0, "self-hosted: no third-party jurisdiction"
    return 0.0, f"jurisdiction {i.jurisdiction}, not gated"


def _concentration(i: RiskInputs) -> tuple[float, str]:
    if i.pinned_total == 0:
        return 0.0, "no pinned models in the registry"
    vendor = f"{percent(i.vendor_share)} of pinned models at {i.vendor}"
    if i.jurisdiction is None:
        return _clamp(i.vendor_share), vendor
    place = f"{percent(i.jurisdiction_share)} in {i.jurisdiction}"
    return _clamp(max(i.vendor_share, i.jurisdiction_share)), f"{vendor}; {place}"
