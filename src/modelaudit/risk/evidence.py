"""What the history says about a window, read once and held as values: the evidence the
risk score, the fallbacks, the drills and the report all judge from.

Nothing here decides how an attempt counts (that is `modelaudit.history`); this
module only summarises what the store answered, model by model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

from modelaudit.risk.stats import Proportion, proportion

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import datetime

    from modelaudit.history import (
        CatalogChange,
        DriftEvent,
        Incident,
        ModelHistory,
        ModelKey,
        RateLimitPoint,
        Streak,
        VerdictPoint,
        Window,
    )
    from modelaudit.risk.regions import RegionalStanding, Withdrawal

RATELIMIT_MIN_DROP = 0.1
"""A rate-limit ceiling must fall by at least this share to count as throttling."""


@dataclass(frozen=True)
class CeilingTrend:
    """One rate-limit header of one model over the window."""

    header: str
    first: float
    peak: float
    last: float
    first_at: datetime
    last_at: datetime

    @property
    def drop(self) -> float:
        """How far the ceiling fell from its peak, as a share (0 when it did not)."""
        return 0.0 if self.peak <= 0 else max(0.0, 1 - self.last / self.peak)

    @property
    def falling(self) -> bool:
        return self.drop >= RATELIMIT_MIN_DROP


@dataclass(frozen=True)
class Standing:
    """Where one model stands at the end of the window."""

    availability: Proportion
    last_verdict: VerdictPoint | None
    """The last run that reached a verdict (skipped and inconclusive runs passed over)."""
    history: ModelHistory | None

    @property
    def verified_live(self) -> bool:
        """It answered in the window, and its last verdict does not say it stopped."""
        if self.availability.ok == 0:
            return False
        return self.last_verdict is None or self.last_verdict.verdict.answering

    @property
    def answered_latest(self) -> bool:
        """It answered in its latest run that reached a verdict: that verdict is up or
        degraded and a generation or health attempt of that run succeeded (a run
        rate-limited to the end is degraded, but did not answer)."""
        if not self.verified_live:
            return False
        last, history = self.last_verdict, self.history
        if last is None or history is None:
            return True
        return history.last_ok is not None and history.last_ok >= last.at

    @property
    def last_answered(self) -> datetime | None:
        return self.history.last_ok if self.history else None

    def meets_slo(self, slo_availability: float) -> bool:
        """The evidence does not show it missing its availability SLO."""
        high = self.availability.high
        return high is not None and high >= slo_availability

    def healthy(self, slo_availability: float) -> bool:
        """It answered in its latest run, and the evidence does not show it missing its SLO."""
        return self.answered_latest and self.meets_slo(slo_availability)


@dataclass(frozen=True)
class DriftSummary:
    """The drift of one kind seen for one model over the window, in one line: a vendor
    whose backends each report their own `system_fingerprint` changes it on most requests,
    and a month of that is a summary, not a list."""

    provider: str
    model: str
    kind: Literal["served_model", "fingerprint"]
    changes: int
    values: int
    """How many different values were seen (before and after the changes)."""
    first_at: datetime
    last_at: datetime
    last_before: str | None
    last_after: str | None


@dataclass(frozen=True)
class Evidence:
    window: Window
    now: datetime
    models: Mapping[ModelKey, ModelHistory] = field(default_factory=dict)
    last_verdicts: Mapping[ModelKey, VerdictPoint] = field(default_factory=dict)
    """Per model, the last run of the window that reached a verdict (skipped and
    inconclusive runs passed over)."""
    incidents: tuple[Incident, ...] = ()
    catalog_changes: tuple[CatalogChange, ...] = ()
    drift: tuple[DriftSummary, ...] = ()
    ratelimits: Mapping[ModelKey, tuple[RateLimitPoint, ...]] = field(default_factory=dict)
    cadence: timedelta | None = None
    """The usual time between two runs, as the window's last days show (None with fewer
    than two runs): a chart's bucket is never finer than this."""
    regions: Mapping[ModelKey, tuple[RegionalStanding, ...]] = field(default_factory=dict)
    """Per model, each region's availability and last verdict (a fleet's side-by-side)."""
    withdrawals: tuple[Withdrawal, ...] = ()
    """Models blocked or gone in a region while answering in another."""
    _incidents_of: dict[ModelKey, list[Incident]] = field(init=False, repr=False, compare=False)
    _changes_of: dict[ModelKey, list[CatalogChange]] = field(init=False, repr=False, compare=False)
    _served_as: dict[ModelKey, str | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Indexed once: a report looks each model up, and a month may hold many events.
        object.__setattr__(self, "_incidents_of", _by_model(self.incidents))
        object.__setattr__(self, "_changes_of", _by_model(self.catalog_changes))
        served = {
            (d.provider, d.model): d.last_after for d in self.drift if d.kind == "served_model"
        }
        object.__setattr__(self, "_served_as", served)

    def withdrawn(self, key: ModelKey) -> str | None:
        """Where the model is withdrawn while it answers elsewhere, in words."""
        found = [w.text for w in self.withdrawals if (w.provider, w.model) == key]
        return "; ".join(found) or None

    def incidents_of(self, key: ModelKey) -> list[Incident]:
        return self._incidents_of.get(key, [])

    def standing(self, key: ModelKey) -> Standing:
        history = self.models.get(key)
        last = self.last_verdicts.get(key)
        if history is None:
            return Standing(proportion(0, 0), last, None)
        return Standing(proportion(history.ok, history.n), last, history)

    def vanished_at(self, key: ModelKey) -> datetime | None:
        """When the model left its provider's list, if the last change seen was leaving."""
        changes = self._changes_of.get(key)
        if not changes:
            return None
        last = max(changes, key=lambda c: c.at)
        return last.at if last.change == "vanished" else None

    def served_as(self, key: ModelKey) -> str | None:
        """The last model id the responses named instead of the one asked for."""
        return self._served_as.get(key)

    def ceilings(self, key: ModelKey) -> tuple[CeilingTrend, ...]:
        by_header: dict[str, list[RateLimitPoint]] = {}
        for point in self.ratelimits.get(key, ()):
            by_header.setdefault(point.header, []).append(point)
        trends = []
        for header, points in sorted(by_header.items()):
            points.sort(key=lambda p: p.at)
            trends.append(
                CeilingTrend(
                    header=header,
                    first=points[0].limit,
                    peak=max(p.limit for p in points),
                    last=points[-1].limit,
                    first_at=points[0].at,
                    last_at=points[-1].at,
                )
            )
        return tuple(trends)


class _Keyed(Protocol):
    @property
    def provider(self) -> str: ...
    @property
    def model(self) -> str: ...


_K = TypeVar("_K", bound=_Keyed)


def _by_model(items: tuple[_K, ...]) -> dict[ModelKey, list[_K]]:
    grouped: dict[ModelKey, list[_K]] = {}
    for item in items:
        grouped.setdefault((item.provider, item.model), []).append(item)
    return grouped


def cadence(starts: Sequence[datetime]) -> timedelta | None:
    """The median time between consecutive runs that started at `starts` (oldest first)."""
    gaps = sorted(b - a for a, b in pairwise(sorted(set(starts))))
    return gaps[len(gaps) // 2] if gaps else None


def last_decisive(streaks: Iterable[Streak]) -> dict[ModelKey, VerdictPoint]:
    """Each model's last verdict that is neither skipped nor inconclusive, whatever the
    region."""
    found: dict[ModelKey, VerdictPoint] = {}
    for streak in streaks:
        key, point = (streak.provider, streak.model), streak.last
        if key not in found or (point.at, point.run_id) > (found[key].at, found[key].run_id):
            found[key] = point
    return found


def summarize_drift(events: Iterable[DriftEvent]) -> tuple[DriftSummary, ...]:
    grouped: dict[tuple[str, str, str], list[DriftEvent]] = {}
    for event in events:
        grouped.setdefault((event.provider, event.model, event.kind), []).append(event)
    summaries = []
    for (provider, model, _), found in sorted(grouped.items()):
        found.sort(key=lambda e: e.at)
        values = {e.before for e in found} | {e.after for e in found}
        summaries.append(
            DriftSummary(
                provider=provider,
                model=model,
                kind=found[0].kind,
                changes=len(found),
                values=len(values - {None}),
                first_at=found[0].at,
                last_at=found[-1].at,
                last_before=found[-1].before,
                last_after=found[-1].after,
            )
        )
    return tuple(summaries)
