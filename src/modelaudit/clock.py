"""Time, in one place: the clock the library reads (`utc_now`, which a caller may replace
by passing its own `now`), and how a moment is written (`iso`, `iso_seconds`).

Timestamps are timezone-aware UTC; written as ISO 8601 with a `Z`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import overload

Clock = Callable[[], datetime]
"""What code that needs the time reads it from: `utc_now`, or a test's fixed clock."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: datetime | None) -> str | None: ...
def iso(moment: datetime | None) -> str | None:
    """UTC with a `Z`, to the millisecond (the JSON documents' timestamps)."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_seconds(moment: datetime) -> str:
    """UTC with a `Z`, to the second (alert messages and their listing)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
