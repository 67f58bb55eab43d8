"""Maintenance windows as periods of time: pure functions that the alerts (no alert inside
a window) and the report (windows marked, and left out of availability) both call.

A weekly window repeats on its `days` from `start` to `end` (times of day in its time zone;
an `end` at or before `start` runs past midnight into the next day). A one-off window runs
from `start` to `end`; a time written without an offset is in the window's time zone.
Periods come back in UTC, half-open [start, end), merged where they overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from modelaudit.registry.alerting import WEEKDAYS

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from modelaudit.registry.alerting import MaintenanceWindow
    from modelaudit.registry.schema import ModelSpec, ProviderSpec

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    reason: str | None = None


def windows_of(provider: ProviderSpec, model: ModelSpec) -> tuple[MaintenanceWindow, ...]:
    """A model's windows: its provider's and its own."""
    return (*provider.maintenance, *model.maintenance)


def periods(windows: Sequence[MaintenanceWindow], since: datetime, until: datetime) -> list[Period]:
    """The periods of `windows` that overlap [since, until), clipped to it, merged, oldest
    first."""
    found = sorted(
        (p for w in windows for p in _occurrences(w, since, until)), key=lambda p: p.start
    )
    merged: list[Period] = []
    for period in found:
        start, end = max(period.start, since), min(period.end, until)
        if start >= end:
            continue
        if merged and start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Period(last.start, max(last.end, end), last.reason or period.reason)
        else:
            merged.append(Period(start, end, period.reason))
    return merged


def covering(windows: Sequence[MaintenanceWindow], moment: datetime) -> Period | None:
    """The window `moment` falls in, if any."""
    if not windows:
        return None
    found = periods(windows, moment, moment + timedelta(microseconds=1))
    return found[0] if found else None


def total(found: Iterable[Period]) -> timedelta:
    return sum((p.end - p.start for p in found), timedelta(0))


def _occurrences(window: MaintenanceWindow, since: datetime, until: datetime) -> list[Period]:
    zone = _zone(window.timezone)
    if window.days is None:
        assert isinstance(window.start, datetime)
        assert isinstance(window.end, datetime)
        return [Period(_utc(window.start, zone), _utc(window.end, zone), window.reason)]
    assert isinstance(window.start, str)
    assert isinstance(window.end, str)
    days = {WEEKDAYS.index(d) for d in window.days}
    start_at, start_carry = _clock(window.start)
    end_at, end_carry = _clock(window.end)
    out = []
    day = since.astimezone(zone).date() - _DAY * 2  # a window may start the day before
    last = until.astimezone(zone).date()
    while day <= last:
        if day.weekday() in days:
            begin = _utc(datetime.combine(day + start_carry, start_at), zone)
            finish = _utc(datetime.combine(day + end_carry, end_at), zone)
            if finish <= begin:
                finish = _utc(datetime.combine(day + end_carry + _DAY, end_at), zone)
            out.append(Period(begin, finish, window.reason))
        day += _DAY
    return out


def _clock(text: str) -> tuple[time, timedelta]:
    """`HH:MM` as a time of day, and `24:00` as midnight of the next day."""
    hours, minutes = (int(part) for part in text.split(":"))
    if hours == 24:
        return time(0, 0), _DAY
    return time(hours, minutes), timedelta(0)


def _utc(moment: datetime, zone: ZoneInfo) -> datetime:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
    return aware.astimezone(UTC)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
