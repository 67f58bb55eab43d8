"""Deciding what to tell whom after a run: a pure function of what the store remembers
(`AlertSnapshot`), what the run found (`RunFacts`) and the registry (`Subjects`).

Verdicts, as Gatus handles an endpoint's checks: a failing verdict (`down`, `degraded`,
`gone`, `blocked`) is confirmed after `failure_threshold` consecutive runs found a failing
verdict (per verdict: 2 for down and degraded, 1 for gone and blocked), a change between
two failing verdicts after that many runs of the new one, and a recovery after
`success_threshold` consecutive `up` runs. `inconclusive` and `skipped` runs, and runs
inside a model's maintenance window, are not decisive: they neither open nor close an
alert, nor break a streak. Each route hears a confirmed change once (its `RouteMark`
remembers what it was told), and hears a recovery only of an alert it heard.

Retirements within a route's `retiring_within_days` are told once a day (UTC) until they
are dealt with (the model leaves the registry or its date moves away). A risk level is
told when it rises to the route's `risk_level` or above, when it changes while there, and
when it falls below. A model withdrawn in some regions while answering in others is told
when the split appears or changes, and when it ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from modelaudit.alerts.state import (
    MAX_STREAK,
    AlertSnapshot,
    AlertUpdate,
    Change,
    Kind,
    MarkKey,
    NewDelivery,
    Notice,
    RouteMark,
    Tracker,
)
from modelaudit.maintenance import covering, windows_of
from modelaudit.registry.alerting import AlertEvent
from modelaudit.vocabulary import ANSWERING_VERDICTS, Verdict

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from datetime import date

    from modelaudit.history import ModelKey
    from modelaudit.registry.alerting import Alerts, MaintenanceWindow, Route
    from modelaudit.registry.schema import Registry

FAILING = frozenset({Verdict.DOWN, Verdict.DEGRADED, Verdict.GONE, Verdict.BLOCKED})
LOST = frozenset({Verdict.GONE, Verdict.BLOCKED})
RISK_ORDER = ("low", "elevated", "high", "critical")


@dataclass(frozen=True)
class Subject:
    """What the registry says of one model, for alerting."""

    provider: str
    model: str
    pinned: bool = False
    tags: frozenset[str] = frozenset()
    fallbacks: tuple[str, ...] = ()
    retires: date | None = None
    maintenance: tuple[MaintenanceWindow, ...] = ()

    @property
    def key(self) -> ModelKey:
        return (self.provider, self.model)

    @property
    def ref(self) -> str:
        return f"{self.provider}/{self.model}"


def subjects_of(registry: Registry) -> dict[ModelKey, Subject]:
    return {
        (p.name, m.id): Subject(
            p.name,
            m.id,
            pinned=m.pinned,
            tags=frozenset(m.tags),
            fallbacks=m.fallbacks,
            retires=m.retires,
            maintenance=windows_of(p, m),
        )
        for p in registry.providers
        for m in p.models
    }


@dataclass(frozen=True)
class Observed:
    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class RunFacts:
    """What one stored run found, and what else is known now."""

    run_id: int
    started_at: datetime
    verdicts: Mapping[ModelKey, Observed]
    now: datetime
    scope: str = ""
    last_ok: Mapping[ModelKey, datetime] = field(default_factory=dict)
    """When each failing model last answered, from the history."""
    catalog_retires: Mapping[ModelKey, date] = field(default_factory=dict)
    """Retirement dates the providers' model lists announce."""
    risk: Mapping[ModelKey, tuple[str, int]] | None = None
    """Each model's risk level and score, when a route listens for risk."""
    regions: Mapping[ModelKey, Mapping[str, Verdict]] | None = None
    """Each model's latest verdict per region, when the store has regions."""


def evaluate(
    snapshot: AlertSnapshot, facts: RunFacts, alerts: Alerts, subjects: Mapping[ModelKey, Subject]
) -> AlertUpdate:
    """What to remember and whom to tell after `facts`' run."""
    work = _Work(snapshot, facts, alerts, subjects)
    if facts.run_id > snapshot.watermark:
        work.verdicts()
        work.regions()
        work.risk()
    work.retirements()
    return AlertUpdate(
        scope=facts.scope,
        watermark=max(facts.run_id, snapshot.watermark),
        trackers=tuple(work.trackers.values()),
        marks=tuple(work.marks.values()),
        cleared=tuple(work.cleared),
        deliveries=tuple(work.deliveries),
    )


def matches(route: Route, subject: Subject) -> bool:
    wanted = route.filter
    if wanted.providers and subject.provider not in wanted.providers:
        return False
    if wanted.models and not {subject.ref, subject.model} & set(wanted.models):
        return False
    if wanted.tags and not subject.tags & set(wanted.tags):
        return False
    return wanted.pinned is None or wanted.pinned == subject.pinned


def streak_cap(alerts: Alerts) -> int:
    """Streaks are counted up to the largest threshold: beyond it a count changes nothing,
    so a model that stays up does not rewrite its tracker on every run."""
    limits = alerts.failure_threshold
    return min(
        MAX_STREAK,
        max(limits.down, limits.degraded, limits.gone, limits.blocked, alerts.success_threshold),
    )


def step(tracker: Tracker, seen: Observed, at: datetime, alerts: Alerts) -> Tracker:
    """The tracker after one decisive verdict."""
    verdict = seen.verdict
    cap = streak_cap(alerts)
    same = tracker.last == verdict.value
    steady = same and verdict is Verdict.UP and tracker.confirmed == verdict.value
    if steady and tracker.good_runs >= cap and tracker.last_runs >= cap:
        return tracker  # nothing left to count
    last_runs = min(tracker.last_runs + 1, cap) if same else 1
    last_since = tracker.last_since if same and tracker.last_since else at
    if verdict is Verdict.UP:
        good = min(tracker.good_runs + 1, cap)
        moved = replace(
            tracker,
            last=verdict.value,
            last_runs=last_runs,
            last_since=last_since,
            bad_runs=0,
            bad_since=None,
            good_runs=good,
        )
        if tracker.confirmed is None or (
            tracker.confirmed != Verdict.UP.value and good >= alerts.success_threshold
        ):
            return replace(moved, confirmed=verdict.value, confirmed_since=last_since)
        return moved
    bad = min(tracker.bad_runs + 1, cap)
    bad_since = tracker.bad_since or at
    moved = replace(
        tracker,
        last=verdict.value,
        last_runs=last_runs,
        last_since=last_since,
        bad_runs=bad,
        bad_since=bad_since,
        good_runs=0,
        reason=seen.reason,
    )
    needed = getattr(alerts.failure_threshold, verdict.value)
    opening = tracker.confirmed in (None, Verdict.UP.value) and bad >= needed
    changing = tracker.confirmed not in (None, Verdict.UP.value, verdict.value)
    if opening:
        return replace(moved, confirmed=verdict.value, confirmed_since=bad_since)
    if changing and last_runs >= needed:
        return replace(moved, confirmed=verdict.value, confirmed_since=last_since)
    return moved


class _Work:
    """One evaluation's accumulating results."""

    def __init__(
        self,
        snapshot: AlertSnapshot,
        facts: RunFacts,
        alerts: Alerts,
        subjects: Mapping[ModelKey, Subject],
    ) -> None:
        self.snapshot = snapshot
        self.facts = facts
        self.alerts = alerts
        self.subjects = subjects
        self.trackers: dict[tuple[str, str, str], Tracker] = {}
        self.marks: dict[MarkKey, RouteMark] = {}
        self.cleared: list[MarkKey] = []
        self.deliveries: list[NewDelivery] = []
        self._maintenance: dict[ModelKey, bool] = {}

    # --- verdicts ---------------------------------------------------------------------------

    def verdicts(self) -> None:
        facts = self.facts
        for key, seen in facts.verdicts.items():
            if seen.verdict.undecided or self.in_maintenance(key):
                continue
            before = self.snapshot.trackers.get((*key, facts.scope)) or Tracker(
                key[0], key[1], facts.scope
            )
            after = step(before, seen, facts.started_at, self.alerts)
            if after != before:
                self.trackers[after.key] = after
            if after.confirmed != before.confirmed:
                self._told_verdict(self.subject(key), before, after)

    def _told_verdict(self, subject: Subject, before: Tracker, after: Tracker) -> None:
        assert after.confirmed is not None
        verdict = Verdict(after.confirmed)
        for name, route in self.routes(subject):
            key: MarkKey = (name, Kind.VERDICT, subject.provider, subject.model, self.facts.scope)
            mark = self.mark(key)
            if verdict is Verdict.UP:
                if mark is None:
                    continue
                self.clear(key)
                if route.wants(AlertEvent.RECOVERED):
                    self.tell(name, route, self.notice(subject, Change.RECOVERED, "up", mark))
                continue
            wanted = route.wants(AlertEvent(verdict.value)) or (
                verdict in LOST and subject.pinned and route.wants(AlertEvent.PINNED_LOST)
            )
            if not wanted or (mark is not None and mark.told == verdict.value):
                continue
            change = Change.OPENED if mark is None else Change.CHANGED
            previous = mark.told if mark else (before.confirmed or "")
            since = after.confirmed_since or self.facts.started_at
            notice = replace(
                self.notice(subject, change, verdict.value),
                previous=previous,
                reason=after.reason,
                since=since,
                last_ok=self.facts.last_ok.get(subject.key),
                fallbacks=self.fallbacks(subject),
            )
            self.set_mark(key, verdict.value, since if mark is None else mark.since)
            self.tell(name, route, notice)

    def fallbacks(self, subject: Subject) -> tuple[str, ...]:
        """The subject's fallbacks answering now: in this run, else as last seen."""
        healthy = []
        for ref in subject.fallbacks:
            provider, _, model = ref.partition("/")
            seen = self.facts.verdicts.get((provider, model))
            if seen is not None and seen.verdict.answering:
                healthy.append(f"{ref} ({seen.verdict.value})")
                continue
            tracker = self.trackers.get((provider, model, self.facts.scope)) or (
                self.snapshot.trackers.get((provider, model, self.facts.scope))
            )
            if seen is None and tracker is not None and tracker.last in ANSWERING_VERDICTS:
                healthy.append(f"{ref} ({tracker.last}, last run that probed it)")
        return tuple(healthy)

    # --- retirements -----------------------------------------------------------------------

    def retirements(self) -> None:
        listening = [
            (name, route)
            for name, route in self.alerts.routes.items()
            if route.wants(AlertEvent.RETIRING)
        ]
        if not listening:
            return
        today = self.facts.now.astimezone(UTC).date()
        due: set[MarkKey] = set()
        for subject in self.subjects.values():
            retires = self.retires(subject)
            if retires is None or self.in_maintenance(subject.key):
                continue
            days_left = (retires - today).days
            for name, route in listening:
                if days_left > route.retiring_within_days or not matches(route, subject):
                    continue
                key: MarkKey = (name, Kind.RETIRING, subject.provider, subject.model, "")
                due.add(key)
                mark = self.mark(key)
                told_today = mark is not None and mark.sent_at.astimezone(UTC).date() == today
                if told_today and mark is not None and mark.told == retires.isoformat():
                    continue
                self.set_mark(key, retires.isoformat(), mark.since if mark else self.facts.now)
                notice = replace(
                    self.notice(subject, Change.RETIRING, retires.isoformat()),
                    days_left=days_left,
                    fallbacks=self.fallbacks(subject),
                )
                self.tell(name, route, notice)
        for key, mark in self.snapshot.marks.items():
            if mark.kind is Kind.RETIRING and key not in due and key[0] in dict(listening):
                self.clear(key)

    def retires(self, subject: Subject) -> date | None:
        dates = [d for d in (subject.retires, self.facts.catalog_retires.get(subject.key)) if d]
        return min(dates) if dates else None

    # --- regions -----------------------------------------------------------------------------

    def regions(self) -> None:
        found = self.facts.regions
        if found is None:
            return
        for name, route in self.alerts.routes.items():
            if not route.wants(AlertEvent.REGION_WITHDRAWN):
                continue
            for key, by_region in found.items():
                subject = self.subject(key)
                if not matches(route, subject) or self.in_maintenance(key):
                    continue
                self._told_regions(name, route, subject, by_region)

    def _told_regions(
        self, name: str, route: Route, subject: Subject, by_region: Mapping[str, Verdict]
    ) -> None:
        withdrawn = tuple(sorted(r for r, v in by_region.items() if v in LOST))
        answering = tuple(sorted(r for r, v in by_region.items() if v.answering))
        key: MarkKey = (name, Kind.REGION, subject.provider, subject.model, "")
        mark = self.mark(key)
        split = ",".join(withdrawn) if withdrawn and answering else ""
        if split and (mark is None or mark.told != split):
            self.set_mark(key, split, mark.since if mark else self.facts.started_at)
            notice = self.notice(subject, Change.WITHDRAWN, split)
            self.tell(name, route, replace(notice, regions=withdrawn, answering=answering))
        elif not split and mark is not None and not withdrawn:
            self.clear(key)
            notice = self.notice(subject, Change.RESTORED, "", mark)
            restored = tuple(mark.told.split(","))
            self.tell(name, route, replace(notice, regions=restored, answering=answering))

    # --- risk --------------------------------------------------------------------------------

    def risk(self) -> None:
        found = self.facts.risk
        if found is None:
            return
        for name, route in self.alerts.routes.items():
            if not route.wants(AlertEvent.RISK):
                continue
            floor = RISK_ORDER.index(route.risk_level)
            for key, (level, score) in found.items():
                subject = self.subject(key)
                if not matches(route, subject) or self.in_maintenance(key):
                    continue
                mark_key: MarkKey = (name, Kind.RISK, subject.provider, subject.model, "")
                mark = self.mark(mark_key)
                above = RISK_ORDER.index(level) >= floor
                if above and (mark is None or mark.told != level):
                    self.set_mark(mark_key, level, mark.since if mark else self.facts.now)
                    notice = self.notice(subject, Change.RISK, level)
                    previous = mark.told if mark else ""
                    self.tell(name, route, replace(notice, score=score, previous=previous))
                elif not above and mark is not None:
                    self.clear(mark_key)
                    notice = self.notice(subject, Change.RISK_EASED, level, mark)
                    self.tell(name, route, replace(notice, score=score))

    # --- shared ------------------------------------------------------------------------------

    def subject(self, key: ModelKey) -> Subject:
        return self.subjects.get(key) or Subject(*key)

    def routes(self, subject: Subject) -> Iterator[tuple[str, Route]]:
        for name, route in self.alerts.routes.items():
            if matches(route, subject):
                yield name, route

    def in_maintenance(self, key: ModelKey) -> bool:
        if key not in self._maintenance:
            windows = self.subject(key).maintenance
            self._maintenance[key] = covering(windows, self.facts.started_at) is not None
        return self._maintenance[key]

    def mark(self, key: MarkKey) -> RouteMark | None:
        if key in self.cleared:
            return None
        return self.marks.get(key) or self.snapshot.marks.get(key)

    def set_mark(self, key: MarkKey, told: str, since: datetime) -> None:
        route, kind, provider, model, scope = key
        self.marks[key] = RouteMark(
            route, kind, provider, model, scope, told, since, self.facts.now
        )
        if key in self.cleared:
            self.cleared.remove(key)

    def clear(self, key: MarkKey) -> None:
        self.marks.pop(key, None)
        if key in self.snapshot.marks and key not in self.cleared:
            self.cleared.append(key)

    def notice(
        self, subject: Subject, change: Change, value: str, mark: RouteMark | None = None
    ) -> Notice:
        return Notice(
            change=change,
            provider=subject.provider,
            model=subject.model,
            created_at=self.facts.now,
            scope=self.facts.scope,
            value=value,
            previous=mark.told if mark else "",
            since=mark.since if mark else None,
            pinned=subject.pinned,
            run_id=self.facts.run_id,
        )

    def tell(self, name: str, route: Route, notice: Notice) -> None:
        self.deliveries.extend(NewDelivery(name, str(url), notice) for url in route.urls)
