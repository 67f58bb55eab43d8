"""Percentiles: exact from raw samples, bucketed from the histograms `db prune` keeps.

Both use the nearest-rank definition: the p-th percentile of n sorted samples is the one at
rank ceil(p * n / 100). Histograms have fixed log-spaced buckets, 40 per decade (each about
5.9 % wide); a bucketed percentile is the geometric middle of its bucket, within 3 % of the
exact value. Fixed buckets (not averages) let any set of hours be merged and still answer
p50/p95/p99.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import TYPE_CHECKING

from modelaudit.store.history import Percentiles

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

PER_DECADE = 40
LOWEST_MS = 0.001
QUANTILES = (50, 95, 99)


def rank(p: int, n: int) -> int:
    """The 1-based nearest rank of the p-th percentile among n samples."""
    return max(1, (p * n + 99) // 100)


def bucket_of(value_ms: float) -> int:
    return math.floor(math.log10(max(value_ms, LOWEST_MS)) * PER_DECADE)


def bucket_value(index: int) -> float:
    """The geometric middle of a bucket, in milliseconds."""
    return round(10 ** ((index + 0.5) / PER_DECADE), 3)


Histogram = Counter[int]
"""bucket index -> samples."""


def histogram(values: Iterable[float]) -> Histogram:
    return Counter(bucket_of(v) for v in values)


def encode(hist: Mapping[int, int]) -> str | None:
    """`{"bucket": count}` in bucket order, as stored in the `rollup` table."""
    if not hist:
        return None
    return json.dumps({str(k): hist[k] for k in sorted(hist)}, separators=(",", ":"))


def decode(text: str | None) -> Histogram:
    if not text:
        return Counter()
    return Counter({int(k): int(v) for k, v in json.loads(text).items()})


def from_sorted(values: Sequence[float]) -> Percentiles:
    """Exact percentiles of already sorted samples."""
    n = len(values)
    if n == 0:
        return Percentiles(0)
    p50, p95, p99 = (values[rank(p, n) - 1] for p in QUANTILES)
    return Percentiles(n, p50, p95, p99)


def quantile_of_histogram(hist: Mapping[int, int], p: int) -> float | None:
    n = sum(hist.values())
    if n == 0:
        return None
    wanted, seen = rank(p, n), 0
    for index in sorted(hist):
        seen += hist[index]
        if seen >= wanted:
            return bucket_value(index)
    raise AssertionError("unreachable: the ranks add up to n")


def from_histogram(hist: Mapping[int, int]) -> Percentiles:
    n = sum(hist.values())
    if n == 0:
        return Percentiles(0)
    p50, p95, p99 = (quantile_of_histogram(hist, p) for p in QUANTILES)
    return Percentiles(n, p50, p95, p99)
