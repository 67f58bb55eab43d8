"""Words shared by the risk evidence and every human report format: one way to write a
measured availability and a moment, so what the scorer says and what the report shows
read alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.risk.stats import percent

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from modelaudit.risk.stats import Proportion


def share(measured: Proportion) -> str:
    """`98.7% [96.1-99.6%] n=156`: the 95% interval and the sample, never a bare share."""
    if measured.value is None or measured.low is None or measured.high is None:
        return "no data"
    interval = f"{percent(measured.low).removesuffix('%')}-{percent(measured.high)}"
    return f"{percent(measured.value)} [{interval}] n={measured.n}"


def when(moment: datetime | None) -> str:
    """`2026-12-01 06:00` (UTC, to the minute), or `-`."""
    # isoformat is several times faster than strftime, which a month of events notices.
    return "-" if moment is None else moment.isoformat(sep=" ", timespec="minutes")[:16]


def moment(at: datetime, now: datetime) -> str:
    """`12:41` on the day of `now`, else `2026-11-29 12:41` (UTC)."""
    return when(at)[11:] if at.date() == now.date() else when(at)


def duration(span: timedelta) -> str:
    """`50 s` under a minute, `12 min`, `3 h 5 min`, `2 d 4 h`: never `0 min` for an
    outage that a run saw."""
    seconds = max(0, int(span.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
