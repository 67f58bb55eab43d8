"""A `HistoryReader` over hand-built values, for testing the report and the drills without
the SQLite store. It answers what it was given, filtered to the window asked for, the way
the protocol documents; it computes nothing (the store's arithmetic is the store's)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from modelaudit.history import (
    CatalogChange,
    DriftEvent,
    Incident,
    ModelHistory,
    ModelKey,
    RateLimitPoint,
    RegionHistory,
    Streak,
    TimelinePoint,
    VerdictPoint,
    Window,
    bucket_start,
    streaks_of,
)
from modelaudit.store.base import HistoryReader


def _inside(at: datetime, window: Window) -> bool:
    return window.since <= at <= window.until


@dataclass
class MemoryHistory:
    model_rows: list[ModelHistory] = field(default_factory=list)
    timeline_rows: dict[ModelKey, list[TimelinePoint]] = field(default_factory=dict)
    verdict_rows: dict[ModelKey, list[VerdictPoint]] = field(default_factory=dict)
    incident_rows: list[Incident] = field(default_factory=list)
    catalog_rows: list[CatalogChange] = field(default_factory=list)
    drift_rows: list[DriftEvent] = field(default_factory=list)
    ratelimit_rows: dict[ModelKey, list[RateLimitPoint]] = field(default_factory=dict)
    region_rows: list[RegionHistory] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    """The methods called, in order: tests check what was asked."""

    def models(self, window: Window) -> list[ModelHistory]:
        self.calls.append("models")
        return list(self.model_rows)

    def timelines(self, window: Window, bucket: timedelta) -> dict[ModelKey, list[TimelinePoint]]:
        self.calls.append("timelines")
        first = bucket_start(window.since, bucket)
        return {
            key: [p for p in points if first <= p.start < window.until]
            for key, points in self.timeline_rows.items()
        }

    def verdicts(self, window: Window) -> dict[ModelKey, list[VerdictPoint]]:
        self.calls.append("verdicts")
        return {
            key: [p for p in points if _inside(p.at, window)]
            for key, points in self.verdict_rows.items()
        }

    def streaks(self, window: Window, models: frozenset[ModelKey] = frozenset()) -> list[Streak]:
        self.calls.append("streaks")
        return streaks_of(
            (key, p)
            for key, points in self.verdict_rows.items()
            if not models or key in models
            for p in points
            if _inside(p.at, window)
        )

    def run_starts(self, window: Window) -> list[datetime]:
        self.calls.append("run_starts")
        return sorted(
            {p.at for points in self.verdict_rows.values() for p in points if _inside(p.at, window)}
        )

    def incidents(self, window: Window) -> list[Incident]:
        self.calls.append("incidents")
        return [i for i in self.incident_rows if i.end is None or i.end >= window.since]

    def catalog_changes(self, window: Window) -> list[CatalogChange]:
        self.calls.append("catalog_changes")
        return [c for c in self.catalog_rows if _inside(c.at, window)]

    def drift(self, window: Window) -> list[DriftEvent]:
        self.calls.append("drift")
        return [d for d in self.drift_rows if _inside(d.at, window)]

    def ratelimit_ceilings(self, window: Window) -> dict[ModelKey, list[RateLimitPoint]]:
        self.calls.append("ratelimit_ceilings")
        return {
            key: [p for p in points if _inside(p.at, window)]
            for key, points in self.ratelimit_rows.items()
        }

    def regions(self, window: Window) -> list[RegionHistory]:
        self.calls.append("regions")
        return list(self.region_rows)


def _conforms(reader: HistoryReader) -> HistoryReader:
    return reader


_conforms(MemoryHistory())  # mypy checks MemoryHistory against the protocol here
