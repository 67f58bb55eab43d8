"""The report's view model: built once from the registry and the history, then rendered by
every format alike, so the table, the JSON, the Markdown and the HTML never disagree.

`build_report` takes "now" as a parameter: the same history and the same now give the
same report, byte for byte (the golden-file tests rely on it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from modelaudit import __version__
from modelaudit.history import Incident, Percentiles
from modelaudit.report.maintenance import leave_out, periods_by_model
from modelaudit.report.source import read_evidence
from modelaudit.report.window import bucket_for, drawn_window, label, window_ending
from modelaudit.risk import fallbacks
from modelaudit.risk.assess import assess
from modelaudit.risk.portfolio import portfolio
from modelaudit.risk.score import Level, Stage
from modelaudit.risk.stats import proportion

if TYPE_CHECKING:
    from datetime import date, datetime

    from modelaudit.history import (
        CatalogChange,
        ModelHistory,
        ModelKey,
        TimelinePoint,
        VerdictPoint,
        Window,
    )
    from modelaudit.maintenance import Period
    from modelaudit.registry.schema import Registry
    from modelaudit.risk.assess import Assessment
    from modelaudit.risk.evidence import CeilingTrend, DriftSummary, Evidence
    from modelaudit.risk.fallbacks import FallbackOption, Rejection
    from modelaudit.risk.portfolio import Portfolio
    from modelaudit.risk.regions import RegionalStanding, Withdrawal
    from modelaudit.risk.score import RiskScore
    from modelaudit.risk.stats import Proportion
    from modelaudit.store.base import HistoryReader
    from modelaudit.vocabulary import ErrorClass, Hosting, Weights

NO_SAMPLE = Percentiles(n=0)
ZERO = timedelta(0)
MIN_P99_N = 100
"""A p99 from fewer samples is mostly the single slowest one: it is not shown."""
ACTION_STAGES = frozenset(
    {Stage.BROKEN_NO_FALLBACK, Stage.BROKEN, Stage.RETIRING_NO_FALLBACK, Stage.RETIRING}
)
"""The stages that get a recommendation: broken now, or will break."""


@dataclass(frozen=True)
class LatencyView:
    n: int
    p50: float | None
    p95: float | None
    p99: float | None
    p99_hidden: bool
    """True when there were samples but fewer than MIN_P99_N."""


def latency_view(p: Percentiles) -> LatencyView:
    hidden = 0 < p.n < MIN_P99_N
    return LatencyView(p.n, p.p50, p.p95, None if hidden else p.p99, hidden)


@dataclass(frozen=True)
class ModelView:
    provider: str
    model: str
    in_registry: bool
    """False for a model the history has but the registry no longer lists (not scored)."""
    pinned: bool
    family: str | None
    weights: Weights | None
    hosting: Hosting | None
    jurisdiction: str | None
    retires: date | None
    slo_availability: float | None
    slo_p95_latency_ms: float | None
    availability: Proportion
    excluded: int
    """Attempts left out of availability: rate limits, our access problems, offline runs."""
    latency: LatencyView
    ttft: LatencyView
    error_classes: tuple[tuple[ErrorClass, int], ...]
    """Most frequent first."""
    last_verdict: VerdictPoint | None
    last_ok: datetime | None
    risk: RiskScore | None
    fallbacks: tuple[FallbackOption, ...]
    ceilings: tuple[CeilingTrend, ...]
    timeline: tuple[TimelinePoint, ...]
    downtime: Downtime | None
    """None when the model had no incident in the window."""
    maintenance: tuple[Period, ...] = ()
    """Its maintenance windows inside the report's window (left out of availability)."""
    regions: tuple[RegionalStanding, ...] = ()
    """Each region's view of the model, side by side (one entry per region seen)."""

    @property
    def ref(self) -> str:
        return f"{self.provider}/{self.model}"


@dataclass(frozen=True)
class IncidentView(Incident):
    duration: timedelta = timedelta(0)
    """To `end`, or to the report's now while it goes on."""


@dataclass(frozen=True)
class Downtime:
    """A model's incidents over the window, in one line."""

    incidents: int
    total: timedelta
    """Down or gone inside the window (an incident that began before it is clipped)."""
    longest: timedelta
    ongoing_since: datetime | None


@dataclass(frozen=True)
class Recommendation:
    """What to do about one model that is broken now or will break (every model at high
    or critical risk is one of them)."""

    provider: str
    model: str
    pinned: bool
    risk: RiskScore
    fallback: FallbackOption | None
    """The fallback the rule picks (`fallbacks.choose`); None when none qualifies."""
    fallback_risk: RiskScore | None
    unverified: tuple[str, ...]
    """Declared or family fallbacks that did not answer in their latest run."""
    rejected: tuple[Rejection, ...] = ()
    """Every candidate not recommended, with why."""
    remedy: str = ""
    """What would fix it, when no fallback qualifies."""
    retires: date | None = None

    @property
    def ref(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def label(self) -> str:
        """`provider/model (pinned)`: pinned models are the ones production depends on."""
        return f"{self.ref} (pinned)" if self.pinned else self.ref

    @property
    def advice(self) -> str:
        option = self.fallback
        if option is None:
            passed = "; ".join(r.text for r in self.rejected)
            head = (
                f"no fallback to move to: {passed}"
                if passed
                else ("no fallback to move to is declared or known")
            )
            return f"{head}. To fix: {self.remedy}"
        when = "now"
        if self.risk.stage in (Stage.RETIRING, Stage.RETIRING_NO_FALLBACK):
            when = f"before {self.retires.isoformat()}" if self.retires else "soon"
        own = self.fallback_risk
        mine = f"; its own risk {own.score} {own.level.value}" if own else ""
        return f"move to {option.ref} {when} ({option.source}, {option.note}{mine})"


@dataclass(frozen=True)
class Report:
    tool_version: str
    generated_at: datetime
    window: Window
    label: str
    bucket: timedelta
    """The width of the timelines' buckets (`window.bucket_for`)."""
    drawn: Window
    """What the timelines cover: from the first attempt in the window to its end."""
    registry_sha256: str | None
    models: tuple[ModelView, ...]
    """Most urgent first."""
    incidents: tuple[IncidentView, ...]
    catalog_changes: tuple[CatalogChange, ...]
    drift: tuple[DriftSummary, ...]
    """Per model and kind, oldest last change first."""
    portfolio: Portfolio
    recommendations: tuple[Recommendation, ...]
    withdrawals: tuple[Withdrawal, ...] = ()
    """Models blocked or gone in one region while answering in another."""
    regions: tuple[str, ...] = ()
    """The regions whose agents' runs the window holds (or the ones asked for)."""

    @property
    def levels(self) -> dict[Level, int]:
        counted = Counter(m.risk.level for m in self.models if m.risk)
        return {level: counted[level] for level in Level}

    @property
    def attempts(self) -> int:
        return sum(m.availability.n + m.excluded for m in self.models)

    @property
    def has_history(self) -> bool:
        return any(m.availability.n or m.excluded for m in self.models)


def build_report(
    registry: Registry,
    reader: HistoryReader,
    *,
    now: datetime,
    span: timedelta,
    registry_sha256: str | None = None,
    tool_version: str = __version__,
    timelines: bool = True,
    regions: frozenset[str] = frozenset(),
) -> Report:
    """`timelines=False` leaves every model's timeline empty, for a format that does not
    draw them (`render.DRAWS_TIMELINES`): a month of them is a sizable read."""
    window = replace(window_ending(now, span), regions=regions)
    planned = periods_by_model(registry, window)
    evidence = leave_out(reader, read_evidence(reader, window, now), planned)
    seen = [m.first_seen for m in evidence.models.values() if m.first_seen is not None]
    charted = drawn_window(window, min(seen, default=None))
    bucket = bucket_for(charted.until - charted.since, evidence.cadence)
    drawn = reader.timelines(charted, bucket) if timelines else {}
    assessments = assess(registry, evidence)
    incidents = _incidents(evidence)
    downtime = _downtime(incidents, window)
    views = [
        replace(
            _registry_model(a, evidence, tuple(drawn.get(a.key, ())), downtime.get(a.key)),
            maintenance=planned.get(a.key, ()),
        )
        for a in assessments.values()
    ]
    views += [
        _unlisted_model(h, evidence, tuple(drawn.get(key, ())), downtime.get(key))
        for key, h in evidence.models.items()
        if key not in assessments
    ]
    return Report(
        tool_version=tool_version,
        generated_at=now,
        window=window,
        label=label(span),
        bucket=bucket,
        drawn=charted,
        registry_sha256=registry_sha256,
        models=tuple(sorted(views, key=_most_urgent_first)),
        incidents=incidents,
        catalog_changes=tuple(sorted(evidence.catalog_changes, key=lambda c: (c.at, c.provider))),
        drift=tuple(sorted(evidence.drift, key=lambda d: (d.last_at, d.provider, d.model))),
        portfolio=portfolio(assessments),
        recommendations=_recommendations(assessments),
        withdrawals=evidence.withdrawals,
        regions=tuple(sorted({r.region for rows in evidence.regions.values() for r in rows})),
    )


def _most_urgent_first(view: ModelView) -> tuple[bool, UrgentKey]:
    if view.risk is None:
        return (True, (0, 0, 0.0, False, view.provider, view.model))
    return (False, _urgent_first(view.risk, view.pinned, view.provider, view.model))


def _error_classes(history: ModelHistory | None) -> tuple[tuple[ErrorClass, int], ...]:
    if history is None:
        return ()
    counted = [(c, n) for c, n in history.error_classes.items() if n]
    return tuple(sorted(counted, key=lambda item: (-item[1], item[0].value)))


def _registry_model(
    a: Assessment,
    evidence: Evidence,
    timeline: tuple[TimelinePoint, ...],
    downtime: Downtime | None,
) -> ModelView:
    history = a.standing.history
    inputs = a.inputs
    return ModelView(
        provider=a.provider.name,
        model=a.model.id,
        in_registry=True,
        pinned=a.model.pinned,
        family=a.model.family,
        weights=a.model.weights,
        hosting=a.provider.hosting,
        jurisdiction=a.provider.jurisdiction,
        retires=a.model.retires,
        slo_availability=inputs.availability_slo,
        slo_p95_latency_ms=inputs.latency_slo_ms,
        availability=a.standing.availability,
        excluded=history.excluded if history else 0,
        latency=latency_view(history.latency if history else NO_SAMPLE),
        ttft=latency_view(history.ttft if history else NO_SAMPLE),
        error_classes=_error_classes(history),
        last_verdict=a.standing.last_verdict,
        last_ok=history.last_ok if history else None,
        risk=a.risk,
        fallbacks=a.fallbacks,
        ceilings=evidence.ceilings(a.key),
        timeline=timeline,
        downtime=downtime,
        regions=evidence.regions.get(a.key, ()),
    )


def _unlisted_model(
    history: ModelHistory,
    evidence: Evidence,
    timeline: tuple[TimelinePoint, ...],
    downtime: Downtime | None,
) -> ModelView:
    key = (history.provider, history.model)
    return ModelView(
        provider=history.provider,
        model=history.model,
        in_registry=False,
        pinned=False,
        family=None,
        weights=None,
        hosting=None,
        jurisdiction=None,
        retires=None,
        slo_availability=None,
        slo_p95_latency_ms=None,
        availability=proportion(history.ok, history.n),
        excluded=history.excluded,
        latency=latency_view(history.latency),
        ttft=latency_view(history.ttft),
        error_classes=_error_classes(history),
        last_verdict=evidence.last_verdicts.get(key),
        last_ok=history.last_ok,
        risk=None,
        fallbacks=(),
        ceilings=evidence.ceilings(key),
        timeline=timeline,
        downtime=downtime,
        regions=evidence.regions.get(key, ()),
    )


def _incidents(evidence: Evidence) -> tuple[IncidentView, ...]:
    views = [
        IncidentView(
            i.provider,
            i.model,
            i.verdict,
            i.start,
            i.end,
            i.runs,
            i.region,
            duration=(i.end or evidence.now) - i.start,
        )
        for i in evidence.incidents
    ]
    stored = {(v.provider, v.model, v.region) for v in views if v.end is None}
    views += [
        IncidentView(
            w.provider,
            w.model,
            w.verdict,
            w.since,
            None,
            w.runs,
            w.region,
            duration=evidence.now - w.since,
        )
        for w in evidence.withdrawals
        if (w.provider, w.model, w.region) not in stored
    ]
    return tuple(sorted(views, key=lambda v: (v.start, v.provider, v.model, v.region)))


def _downtime(incidents: tuple[IncidentView, ...], window: Window) -> dict[ModelKey, Downtime]:
    grouped: dict[ModelKey, list[IncidentView]] = {}
    for incident in incidents:
        grouped.setdefault((incident.provider, incident.model), []).append(incident)
    found = {}
    for key, runs in grouped.items():
        inside = [
            max(min(i.end or window.until, window.until) - max(i.start, window.since), ZERO)
            for i in runs
        ]
        ongoing = [i.start for i in runs if i.end is None]
        found[key] = Downtime(
            incidents=len(runs),
            total=sum(inside, ZERO),
            longest=max(i.duration for i in runs),
            ongoing_since=min(ongoing) if ongoing else None,
        )
    return found


def _recommendations(assessments: dict[ModelKey, Assessment]) -> tuple[Recommendation, ...]:
    found = []
    for a in assessments.values():
        if a.risk.stage not in ACTION_STAGES:
            continue

        def risk_of(option: FallbackOption) -> RiskScore:
            return assessments[(option.provider, option.model)].risk

        choice = fallbacks.choose(a.fallbacks, a.risk, risk_of)
        found.append(
            Recommendation(
                provider=a.provider.name,
                model=a.model.id,
                pinned=a.model.pinned,
                risk=a.risk,
                fallback=choice.fallback,
                fallback_risk=risk_of(choice.fallback) if choice.fallback else None,
                unverified=tuple(o.ref for o in a.fallbacks if not o.answered_latest),
                rejected=choice.rejected,
                remedy=""
                if choice.fallback
                else fallbacks.remedy(a.provider, a.model, choice.rejected),
                retires=a.model.retires,
            )
        )
    return tuple(sorted(found, key=lambda r: _urgent_first(r.risk, r.pinned, r.provider, r.model)))


UrgentKey = tuple[int, int, float, bool, str, str]


def _urgent_first(risk: RiskScore, pinned: bool, provider: str, model: str) -> UrgentKey:
    score, urgency, points = risk.rank
    return (-score, -urgency, -points, not pinned, provider, model)
