"""The business-continuity risk score of one model: a pure function of its evidence.

The score ranks by what to do first, as an SRE triages: what is broken now, then what
will break soonest, then what misses its SLO, then what is merely exposed. Each model is
put on one *stage* of that ladder; the stage fixes the band its score falls in (and so
its level), and inside the band the evidence that put it there orders it:

    broken_no_fallback    pinned, down/gone/blocked now, no healthy fallback   critical
    broken                down/gone/blocked now (a healthy fallback, or not pinned)  high
    retiring_no_fallback  pinned, retiring (date passed or within the horizon) or
                          vanished from its provider's list, no healthy fallback   high
    retiring              the same, with a healthy fallback or not pinned       elevated
    missing_slo           answering, but availability or latency misses its SLO elevated
    exposed               everything else: low, or elevated by its factor points

Every stage's band lies above the next one's, so a model broken now always outranks
one that answered in its latest run, whatever the weights.

The seven *factors* are as before: each turns its evidence into a badness between 0
(nothing to worry about) and 1 (as bad as it gets); its points are its weight (from
`risk.weights` in providers.yaml) times that badness. The points order the models within
the broken stages and decide the score of an exposed model (its sum, below `elevated`,
is the score itself). Every badness rises with worse evidence and never falls, and a
worse stage is never a lower band, so worse evidence never lowers the score (a property
test holds the function to it).

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
                      at the same provider 0.5; fallbacks none of which is healthy 0.75;
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


class Stage(StrEnum):
    """Where a model stands on the ladder of what to do first (see the module's docstring)."""

    BROKEN_NO_FALLBACK = "broken_no_fallback"
    BROKEN = "broken"
    RETIRING_NO_FALLBACK = "retiring_no_fallback"
    RETIRING = "retiring"
    MISSING_SLO = "missing_slo"
    EXPOSED = "exposed"

    @property
    def label(self) -> str:
        """A few words for a table cell."""
        return _STAGE_LABELS[self]

    @property
    def urgency(self) -> int:
        """5 for the most urgent stage down to 0: a larger number is dealt with first."""
        return len(_STAGES) - 1 - _STAGES.index(self)


_STAGES = tuple(Stage)
_STAGE_LABELS = {
    Stage.BROKEN_NO_FALLBACK: "broken, no fallback",
    Stage.BROKEN: "broken now",
    Stage.RETIRING_NO_FALLBACK: "retiring, no fallback",
    Stage.RETIRING: "retiring",
    Stage.MISSING_SLO: "missing its SLO",
    Stage.EXPOSED: "exposed",
}


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
    pinned: bool = False
    """Production depends on this exact id (`pinned: true`)."""
    down: str | None = None
    """Why the model is down now (its last verdict), or None."""
    gone: str | None = None
    """Why the model is gone (e.g. "verdict gone since ..."), or None."""
    blocked: str | None = None
    """Why our access to the model is blocked now (auth, access, quota), or None."""
    retires: date | None = None
    vanished: str | None = None
    """Why the model looks withdrawn from the catalog while it still answers."""
    floating_alias: str | None = None
    """Why the id looks like an alias that can change under you."""
    ratelimit_drop: float = 0.0
    """The largest fall of a rate-limit ceiling in the window, as a share (0.9 = fell 90%)."""
    ratelimit_note: str = ""
    healthy_elsewhere: tuple[str, ...] = ()
    """Fallbacks at other providers that are healthy: they answered in their latest run and
    are not shown to miss their SLO."""
    healthy_same_provider: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()
    """Fallbacks that are not healthy, each with what was measured of it."""
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
    stage: Stage = Stage.EXPOSED
    situation: str = ""
    """Why the model is on its stage, in one line."""

    @property
    def points(self) -> float:
        """The factors' points added up (capped at 100): the order within a stage."""
        return min(100.0, sum(f.points for f in self.factors))

    @property
    def rank(self) -> tuple[int, int, float]:
        """What sorts models by what to do first: a larger rank is dealt with first.
        The score decides; the stage and the points settle ties (narrow custom levels can
        squeeze two stages into one score)."""
        return (self.score, self.stage.urgency, self.points)

    def ranks_below(self, other: RiskScore) -> bool:
        return self.rank < other.rank


def score(inputs: RiskInputs, config: Risk) -> RiskScore:
    factors = score_factors(inputs, config)
    stage, situation = stage_of(inputs, factors, config.retirement_horizon_days)
    total = _place(stage, factors, config.levels)
    return RiskScore(total, level_of(total, config.levels), factors, stage, situation)


def score_factors(inputs: RiskInputs, config: Risk) -> tuple[FactorScore, ...]:
    weights = config.weights
    return (
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


def has_healthy_fallback(i: RiskInputs) -> bool:
    return bool(i.healthy_elsewhere or i.healthy_same_provider)


def broken_now(i: RiskInputs) -> str | None:
    """Why the model is broken now (down, gone or blocked in its latest decisive run)."""
    if i.gone:
        return f"gone {i.gone}"
    if i.down:
        return f"down {i.down}"
    if i.blocked:
        return f"blocked {i.blocked}"
    return None


def breaking(i: RiskInputs, horizon_days: int) -> str | None:
    """Why the model will stop answering soon: a retirement passed or within the horizon,
    or its provider's model list dropping it while it still answers."""
    reasons = []
    if i.retires is not None and (i.retires - i.today).days <= horizon_days:
        reasons.append(_retirement(i.retires, i.today, horizon_days)[1])
    if i.vanished:
        reasons.append(i.vanished)
    return "; ".join(reasons) or None


def stage_of(
    i: RiskInputs, factors: tuple[FactorScore, ...], horizon_days: int
) -> tuple[Stage, str]:
    uncovered = i.pinned and not has_healthy_fallback(i)
    cover = _cover(i)
    if (broken := broken_now(i)) is not None:
        stage = Stage.BROKEN_NO_FALLBACK if uncovered else Stage.BROKEN
        return stage, f"{broken}; {cover}"
    if (ending := breaking(i, horizon_days)) is not None:
        stage = Stage.RETIRING_NO_FALLBACK if uncovered else Stage.RETIRING
        return stage, f"{ending}; {cover}"
    missing = [f.factor.value for f in factors if f.factor in _SLO_FACTORS and f.badness > 0]
    if missing:
        return Stage.MISSING_SLO, f"answering, but misses its {' and '.join(missing)} SLO"
    return Stage.EXPOSED, "answering, nothing announced: exposure only"


def _cover(i: RiskInputs) -> str:
    healthy = (*i.healthy_elsewhere, *i.healthy_same_provider)
    if healthy:
        return f"healthy fallback {healthy[0]}"
    return "pinned, no healthy fallback" if i.pinned else "not pinned, no healthy fallback"


_SLO_FACTORS = frozenset({Factor.AVAILABILITY, Factor.LATENCY})
_EXPOSED_ELEVATED = "exposed_elevated"
"""The bottom slice of the elevated band: exposed models whose points reach `elevated`."""


def bands(levels: RiskLevels) -> dict[Stage | str, tuple[int, int]]:
    """Each stage's integer score band, [low, high], every band above the next stage's.
    A level holding several stages is shared out evenly, the more urgent one on top."""
    found: dict[Stage | str, tuple[int, int]] = {Stage.BROKEN_NO_FALLBACK: (levels.critical, 100)}
    found.update(
        zip(
            (Stage.BROKEN, Stage.RETIRING_NO_FALLBACK),
            _split(levels.high, levels.critical - 1, 2),
            strict=True,
        )
    )
    found.update(
        zip(
            (Stage.RETIRING, Stage.MISSING_SLO, _EXPOSED_ELEVATED),
            _split(levels.elevated, levels.high - 1, 3),
            strict=True,
        )
    )
    found[Stage.EXPOSED] = (0, levels.elevated - 1)
    return found


def _split(low: int, high: int, parts: int) -> list[tuple[int, int]]:
    """[low, high] cut into `parts` consecutive ranges, the top one first; a range too
    narrow to share gives some parts the same single score."""
    size = high - low + 1
    cuts = [low + size * k // parts for k in range(parts + 1)]
    ranges = [(cuts[k], max(cuts[k], cuts[k + 1] - 1)) for k in range(parts)]
    return [(min(a, high), min(b, high)) for a, b in reversed(ranges)]


def _place(stage: Stage, factors: tuple[FactorScore, ...], levels: RiskLevels) -> int:
    """The score: the stage's band, and the position inside it that the evidence gives."""
    found = bands(levels)
    points = min(100.0, sum(f.points for f in factors))
    if stage is Stage.EXPOSED:
        if points < levels.elevated:
            return min(round(points), levels.elevated - 1)
        low, high = found[_EXPOSED_ELEVATED]
        return low + round((high - low) * (points - levels.elevated) / (100 - levels.elevated))
    low, high = found[stage]
    return low + round((high - low) * _position(stage, factors, points))


def _position(stage: Stage, factors: tuple[FactorScore, ...], points: float) -> float:
    """0 to 1 within the stage: how bad the outage is for the broken stages (all points),
    how near the end for the retiring ones (the lifecycle badness: nearness), how far off
    its SLO for missing_slo."""
    badness = {f.factor: f.badness for f in factors}
    if stage in (Stage.RETIRING_NO_FALLBACK, Stage.RETIRING):
        return badness[Factor.LIFECYCLE]
    if stage is Stage.MISSING_SLO:
        return max(badness[Factor.AVAILABILITY], badness[Factor.LATENCY])
    return points / 100


def level_of(total: int, levels: RiskLevels) -> Level:
    """The level a score falls in. The bands make it the stage's level: critical for
    broken_no_fallback, high for broken and retiring_no_fallback, and so on."""
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
        return 0.75, "no healthy fallback: " + "; ".join(i.unverified)
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
