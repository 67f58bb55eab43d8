"""`--since`: hours or days back from now, with chart buckets to match."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from modelaudit.errors import UsageError
from modelaudit.report.window import bucket_for, label, parse_since, window_ending


@pytest.mark.parametrize(
    ("text", "span", "bucket", "shown"),
    [
        ("24h", timedelta(hours=24), timedelta(hours=1), "24h"),
        ("7d", timedelta(days=7), timedelta(hours=6), "7d"),
        ("30d", timedelta(days=30), timedelta(days=1), "30d"),
        ("36h", timedelta(hours=36), timedelta(hours=1), "36h"),
    ],
)
def test_since_reads_hours_and_days(
    text: str, span: timedelta, bucket: timedelta, shown: str
) -> None:
    assert parse_since(text) == span
    assert bucket_for(span) == bucket
    assert label(span) == shown


@pytest.mark.parametrize("text", ["", "7", "7w", "-1d", "0h", "1.5d", "d7", "400d"])
def test_anything_else_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="--since"):
        parse_since(text)


def test_the_window_ends_at_now() -> None:
    now = datetime(2026, 12, 1, 6, tzinfo=UTC)

    window = window_ending(now, timedelta(days=7))

    assert (window.since, window.until) == (datetime(2026, 11, 24, 6, tzinfo=UTC), now)


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        window_ending(datetime(2026, 12, 1, 6), timedelta(days=1))
