"""Durations as people write them on a command line: `30s`, `5m`, `12h`, `90d`, `2w`, or
combined, `1h30m`. The one grammar of every duration option (`--every`, `--jitter`,
`--older-than`, `db export --since`, and the report's `--since`, which takes whole hours
and days only)."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
MAX_DAYS = 36_500
"""A hundred years: longer than any window, interval or retention anyone means, and far
inside what dates can count back from today."""


def parse_duration(
    text: str, *, zero: bool = False, units: str = "smhdw", whole: bool = False
) -> timedelta:
    """A positive duration (or zero, if allowed: `0`, `0s`) of at most MAX_DAYS, written in
    `units` only (whole numbers of them, if `whole`); ValueError with the accepted forms
    otherwise."""
    if zero and text.strip() in ("0", "0s"):
        return timedelta(0)
    cleaned = text.strip().lower()
    parts = _PART.findall(cleaned)
    if (
        not cleaned
        or "".join(n + u for n, u in parts) != cleaned
        or any(u not in units or (whole and not n.isdigit()) for n, u in parts)
    ):
        raise ValueError(f"`{text}` is not a duration (e.g. 30s, 5m, 12h, 90d, 2w, 1h30m)")
    seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"`{text}` is not a positive duration")
    if seconds > MAX_DAYS * 86_400:
        raise ValueError(f"`{text}` is longer than {MAX_DAYS:,} days (a hundred years)")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest exact form: 300 s -> `5m`, 5400 s -> `1h30m`."""
    seconds = round(value.total_seconds())
    if seconds <= 0:
        return "0s"
    words = []
    for unit, size in sorted(_UNITS.items(), key=lambda u: -u[1]):
        if unit == "w":
            continue
        count, seconds = divmod(seconds, size)
        if count:
            words.append(f"{count}{unit}")
    return "".join(words)
