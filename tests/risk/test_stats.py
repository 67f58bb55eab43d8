"""Availability arithmetic against hand-computed values: the Wilson interval, and shares
that never round up to 100%."""

from __future__ import annotations

import pytest

from modelaudit.history import counts_as
from modelaudit.risk.stats import percent, proportion, wilson
from modelaudit.vocabulary import ErrorClass

Z2 = 1.959963984540054**2


@pytest.mark.parametrize(
    ("ok", "n", "low", "high"),
    [
        # 3/3: low = 1 / (1 + z^2/3); the top is exactly 1.
        (3, 3, 1 / (1 + Z2 / 3), 1.0),
        # 0/3 mirrors it.
        (0, 3, 0.0, 1 - 1 / (1 + Z2 / 3)),
        # 1/2: centre 0.5, half-width z*sqrt(1/8 + z^2/16) / (1 + z^2/2).
        (1, 2, 0.5 - 1.96 * (0.125 + Z2 / 16) ** 0.5 / (1 + Z2 / 2), 0.9055),
        # 98/100: the textbook example, [0.9300, 0.9945].
        (98, 100, 0.9300, 0.9945),
    ],
)
def test_wilson_interval_matches_hand_computed_bounds(
    ok: int, n: int, low: float, high: float
) -> None:
    got_low, got_high = wilson(ok, n)
    assert got_low == pytest.approx(low, abs=1e-4)
    assert got_high == pytest.approx(high, abs=1e-4)


def test_three_successes_never_read_as_a_bare_100_percent() -> None:
    share = proportion(3, 3)

    assert share.value == 1.0
    assert share.low is not None
    assert percent(share.low) == "43.9%"


def test_an_empty_sample_has_no_availability_rather_than_zero_or_one() -> None:
    share = proportion(0, 0)

    assert (share.value, share.low, share.high) == (None, None, None)


def test_wilson_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="0 <= ok <= n"):
        wilson(4, 3)


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.0, "100%"), (0.9996, "99.9%"), (0.995, "99.5%"), (0.5, "50%"), (0.16666, "16.7%")],
)
def test_percent_keeps_one_decimal_and_never_rounds_up_to_100(value: float, text: str) -> None:
    assert percent(value) == text


def test_rate_limits_and_our_own_access_problems_count_on_neither_side() -> None:
    excluded = {
        ErrorClass.RATE_LIMITED,
        ErrorClass.AUTH_FAILED,
        ErrorClass.ACCESS_DENIED,
        ErrorClass.QUOTA_EXHAUSTED,
        ErrorClass.BAD_REQUEST,
    }
    assert {c for c in ErrorClass if counts_as(c) == "excluded"} == excluded
    assert {c for c in ErrorClass if counts_as(c) == "ok"} == {
        ErrorClass.OK,
        ErrorClass.CONTENT_FILTERED,
    }
