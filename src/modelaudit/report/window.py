"""The report's window: `--since 24h|7d|30d` (any whole number of hours or days) back from
"now", and the width of the timeline buckets that suits it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from modelaudit.errors import UsageError
from modelaudit.history import Window

_SINCE = re.compile(r"(?P<count>[1-9][0-9]{0,3})(?P<unit>[hd])")
MAX_SINCE = timedelta(days=366)


def parse_since(text: str) -> timedelta:
    match = _SINCE.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"--since `{text}` is not a duration: write hours or days, e.g. 24h, 7d")
    count = int(match["count"])
    span = timedelta(hours=count) if match["unit"] == "h" else timedelta(days=count)
    if span > MAX_SINCE:
        raise UsageError(f"--since {text} is longer than a year: choose at most 366d")
    return span


def window_ending(now: datetime, span: timedelta) -> Window:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return Window(since=now - span, until=now)


def bucket_for(span: timedelta) -> timedelta:
    """About 24 to 48 buckets per chart: hourly for a day, 6-hourly for a week, daily beyond."""
    if span <= timedelta(days=2):
        return timedelta(hours=1)
    if span <= timedelta(days=10):
        return timedelta(hours=6)
    return timedelta(days=1)


def label(span: timedelta) -> str:
    """24h, 36h, 7d: hours below two days, whole days above."""
    hours = int(span.total_seconds() // 3600)
    return f"{hours // 24}d" if hours >= 48 and hours % 24 == 0 else f"{hours}h"
