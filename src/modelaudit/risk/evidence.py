"""What the history says about a window, read once and held as values: the evidence the
risk score, the fallbacks, the drills and the report all judge from.

Nothing here decides how an attempt counts (that is `modelaudit.store.history`); this
module only summarises what the store answered, model by model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from modelaudit.risk.stats import Proportion, proportion
from modelaudit.vocabulary import Verdict

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from modelaudit.store.history import (
        CatalogChange,
        DriftEvent,
        HistoryReader,
        Incident,
        ModelHistory,
        ModelKey,
        RateLimitPoint,
        VerdictPoint,
        Window,
    )

RATELIMIT_MIN_DROP = 0.1
"""A rate-limit ceiling must fall by at least this share to count as throttling."""
_UNDECIDED = frozenset({Verdict.SKIPPED, Verdict.INCONCLUSIVE})
_LIVE = frozenset({Verdict.UP, Verdict.DEGRADED})


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
        return self.last_verdict is None or self.last_verdict.verdict in _LIVE

    def healthy(self, slo_availability: float) -> bool:
        """Live, and the evidence does not show it missing its SLO."""
        high = self.availability.high
        return self.verified_live and high is not None and high >= slo_availability


@dataclass(frozen=True)
class Evidence:
    window: Window
    now: datetime
    models: Mapping[ModelKey, ModelHistory] = field(default_factory=dict)
    verdicts: Mapping[ModelKey, tuple[VerdictPoint, ...]] = field(default_factory=dict)
    incidents: tuple[Incident, ...] = ()
    catalog_changes: tuple[CatalogChange, ...] = ()
    drift: tuple[DriftEvent, ...] = ()
    ratelimits: Mapping[ModelKey, tuple[RateLimitPoint, ...]] = field(default_factory=dict)
    _incidents_of: dict[ModelKey, list[Incident]] = field(init=False, repr=False, compare=False)
    _changes_of: dict[ModelKey, list[CatalogChange]] = field(init=False, repr=False, compare=False)
    _drift_of: dict[ModelKey, list[DriftEvent]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Indexed once: a report looks each model up, and a month may hold many events.
        object.__setattr__(self, "_incidents_of", _by_model(self.incidents))
        object.__setattr__(self, "_changes_of", _by_model(self.catalog_changes))
        object.__setattr__(self, "_drift_of", _by_model(self.drift))

    def incidents_of(self, key: ModelKey) -> list[Incident]:
        return self._incidents_of.get(key, [])

    def standing(self, key: ModelKey) -> Standing:
        history = self.models.get(key)
        if history is None:
            return Standing(proportion(0, 0), self.last_verdict(key), None)
        return Standing(proportion(history.ok, history.n), self.last_verdict(key), history)

    def last_verdict(self, key: ModelKey) -> VerdictPoint | None:
        decided = [v for v in self.verdicts.get(key, ()) if v.verdict not in _UNDECIDED]
        return decided[-1] if decided else None

    def vanished_at(self, key: ModelKey) -> datetime | None:
        """When the model left its provider's list, if the last change seen was leaving."""
        changes = self._changes_of.get(key)
        if not changes:
            return None
        last = max(changes, key=lambda c: c.at)
        return last.at if last.change == "vanished" else None

    def served_as(self, key: ModelKey) -> str | None:
        """The last model id the responses named instead of the one asked for."""
        events = [d for d in self._drift_of.get(key, ()) if d.kind == "served_model"]
        return max(events, key=lambda d: d.at).after if events else None

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


def read_evidence(reader: HistoryReader, window: Window, now: datetime) -> Evidence:
    """Ask the store everything but the timelines (which only the report draws)."""
    return Evidence(
        window=window,
        now=now,
        models={(m.provider, m.model): m for m in reader.models(window)},
        verdicts={key: tuple(points) for key, points in reader.verdicts(window).items()},
        incidents=tuple(reader.incidents(window)),
        catalog_changes=tuple(reader.catalog_changes(window)),
        drift=tuple(reader.drift(window)),
        ratelimits={
            key: tuple(points) for key, points in reader.ratelimit_ceilings(window).items()
        },
    )
