"""Retry waits: the server's own hint wins when it fits the budget; otherwise SDK-style backoff."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from modelaudit.probe.classify import retry_after_s
from modelaudit.probe.retry import next_wait
from modelaudit.registry.schema import Retry

POLICY = Retry(attempts=3, backoff_s=0.5, max_backoff_s=8.0, max_retry_after_s=20.0)


def test_retry_after_ms_takes_precedence_over_seconds() -> None:
    assert retry_after_s({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5


def test_retry_after_in_seconds() -> None:
    assert retry_after_s({"retry-after": "2"}) == 2.0


def test_retry_after_as_an_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    seconds = retry_after_s({"retry-after": format_datetime(when, usegmt=True)})
    assert seconds is not None
    assert 28.0 <= seconds <= 30.0


def test_a_date_in_the_past_means_now() -> None:
    assert retry_after_s({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after": "NaN"},
        {"retry-after": "inf"},
        {"retry-after": "-inf"},
        {"retry-after-ms": "nan"},
        {"retry-after": "1e300"},
        {"retry-after-ms": "1e300"},
        {"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"},
    ],
)
def test_non_finite_and_absurd_hints_are_no_hint(headers: dict[str, str]) -> None:
    assert retry_after_s(headers) is None
    assert retry_after_s(headers, body_hint_s=3.0) == 3.0


def test_a_negative_hint_means_now() -> None:
    assert retry_after_s({"retry-after": "-5"}) == 0.0


def test_the_clock_is_a_parameter() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_s({"retry-after": "Thu, 01 Jan 2026 01:00:00 GMT"}, now=now) == 3600.0


def test_a_body_hint_is_used_when_no_header_gives_one() -> None:
    assert retry_after_s({}, body_hint_s=26.0) == 26.0
    assert retry_after_s({"retry-after": "garbage"}, body_hint_s=4.0) == 4.0


def test_a_hint_that_fits_the_budget_is_honoured() -> None:
    wait = next_wait(POLICY, 1, 2.0)
    assert wait is not None
    assert (wait.seconds, wait.honoured_hint) == (2.0, True)


def test_a_hint_beyond_the_budget_means_give_up_rather_than_hammer() -> None:
    assert next_wait(POLICY, 1, 3600.0) is None


@pytest.mark.parametrize(("retry_number", "base"), [(1, 0.5), (2, 1.0), (3, 2.0), (6, 8.0)])
def test_backoff_doubles_up_to_the_cap_with_downward_jitter(retry_number: int, base: float) -> None:
    rng = random.Random(7)
    waits = [next_wait(POLICY, retry_number, None, rng) for _ in range(200)]
    seconds = [w.seconds for w in waits if w is not None]
    assert len(seconds) == 200
    assert all(0.75 * base <= s <= base for s in seconds)
    assert max(seconds) - min(seconds) > 0.1 * base  # jittered, not fixed
