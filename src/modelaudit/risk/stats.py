"""The arithmetic of availability: the point estimate and its 95% Wilson score interval.

A bare percentage hides how much evidence stands behind it: 3 successes out of 3 is
"100%" but the interval says 44% to 100%. The report never shows one without the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054
"""The standard normal quantile for a two-sided 95% interval."""


@dataclass(frozen=True)
class Proportion:
    """Successes out of a sample, with its 95% Wilson interval. Empty samples have none."""

    ok: int
    n: int
    value: float | None
    low: float | None
    high: float | None


def wilson(ok: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of `ok` successes in `n` trials (n > 0)."""
    if n <= 0 or not 0 <= ok <= n:
        raise ValueError(f"need 0 <= ok <= n and n > 0, got ok={ok}, n={n}")
    p = ok / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # The bounds are exact at 0 and n; clamp the last ulp of rounding away.
    low = 0.0 if ok == 0 else max(0.0, centre - half)
    high = 1.0 if ok == n else min(1.0, centre + half)
    return low, high


def proportion(ok: int, n: int) -> Proportion:
    if n == 0:
        return Proportion(ok=0, n=0, value=None, low=None, high=None)
    low, high = wilson(ok, n)
    return Proportion(ok=ok, n=n, value=ok / n, low=low, high=high)


def percent(value: float) -> str:
    """A share as 99.5%, 100%, 43.9%: one decimal, and never rounded up to 100%."""
    tenths = round(value * 1000)
    if tenths == 1000 and value < 1:
        tenths = 999
    text = f"{tenths / 10:.1f}".removesuffix(".0")
    return f"{text}%"
