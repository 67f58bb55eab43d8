"""The report's window: `--since 24h|7d|30d` (whole hours and days, in the one duration
grammar of `modelaudit.durations`) back from "now", and the width of the timeline buckets
that suits it."""

from __future__ import annotations

from datetime import datetime, timedelta

from modelaudit.durations import parse_duration
from modelaudit.errors import UsageError
from modelaudit.history import Window

MAX_SINCE = timedelta(days=366)


def parse_since(text: str) -> timedelta:
    try:
        span = parse_duration(text, units="hd", whole=True)
    except ValueError:
        raise UsageError(
            f"--since `{text}` is not a duration: write hours or days, e.g. 24h, 7d"
        ) from None
    if span > MAX_SINCE:
        raise UsageError(f"--since {text} is longer than a year: choose at most 366d")
    return span


def window_ending(now: datetime, span: timedelta) -> Window:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return Window(since=now - span, until=now)


_MINUTE = timedelta(minutes=1)
BUCKETS = tuple(_MINUTE * n for n in (1, 5, 15, 30, 60, 6 * 60, 24 * 60))
"""The widths a timeline's buckets may have: each divides a day."""
_FITS = (
    (timedelta(minutes=30), _MINUTE),
    (timedelta(hours=2), 5 * _MINUTE),
    (timedelta(hours=6), 15 * _MINUTE),
    (timedelta(hours=12), 30 * _MINUTE),
    (timedelta(days=2), timedelta(hours=1)),
    (timedelta(days=10), timedelta(hours=6)),
)
CADENCE_SLACK = 0.8
"""A bucket may be this much narrower than the time between runs (runs drift a little)."""


def bucket_for(span: timedelta, cadence: timedelta | None = None) -> timedelta:
    """About 24 to 48 buckets over `span` (hourly for a day, 6-hourly for a week, daily
    beyond, minutes for the first hours of a history), never much finer than the runs
    that fill them: hourly runs drawn in 5-minute buckets would be mostly gaps."""
    width = next((w for limit, w in _FITS if span <= limit), BUCKETS[-1])
    if cadence is not None:
        floor = cadence * CADENCE_SLACK
        width = next((w for w in BUCKETS if w >= width and w >= floor), BUCKETS[-1])
    return width


def drawn_window(window: Window, first_seen: datetime | None) -> Window:
    """What the charts cover: from the first attempt in the window (a history younger
    than the window starts later) to its end."""
    if first_seen is None or first_seen <= window.since:
        return window
    return Window(since=min(first_seen, window.until), until=window.until)


def label(span: timedelta) -> str:
    """24h, 36h, 7d: hours below two days, whole days above."""
    hours = int(span.total_seconds() // 3600)
    return f"{hours // 24}d" if hours >= 48 and hours % 24 == 0 else f"{hours}h"
