"""Percentiles: exact from raw samples, bucketed from the histograms `db prune` keeps.

Both use the nearest-rank definition: the p-th percentile of n sorted samples is the one at
rank ceil(p * n / 100). Histograms have fixed log-spaced buckets, 40 per decade (each about
5.9 % wide); a bucketed percentile is the geometric middle of its bucket, within 3 % of the
exact value. Fixed buckets (not averages) let any set of hours be merged and still answer
p50/p95/p99.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import math
from collections import Counter
from typing import TYPE_CHECKING

from modelaudit.history import Percentiles

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


@functools.cache
def bucket_value(index: int) -> float:
    """The geometric middle of a bucket, in milliseconds."""
    return round(10 ** ((index + 0.5) / PER_DECADE), 3)


Histogram = Counter[int]
"""bucket index -> samples."""


def histogram(values: Iterable[float]) -> Histogram:
    return Counter(bucket_of(v) for v in values)


def encode(hist: Mapping[int, int]) -> str | None:
    """`[bucket, count, bucket, count, ...]` in bucket order, as stored in the `rollup` and
    `daily` tables (a flat array: the quickest to read back)."""
    if not hist:
        return None
    return json.dumps(
        [n for k in sorted(hist) if hist[k] for n in (k, hist[k])], separators=(",", ":")
    )


Stored = list[int] | dict[str, int]
"""A stored histogram as JSON gives it back: the array, or the `{"bucket": count}` object
that `rollup` rows written before schema 6 hold."""


def decode(text: str | None) -> Histogram:
    return parsed(json.loads(text)) if text else Counter()


def parsed(found: Stored) -> Histogram:
    if isinstance(found, dict):
        return Counter({int(k): int(v) for k, v in found.items()})
    return Counter(dict(zip(found[::2], found[1::2], strict=True)))


def from_sorted(values: Sequence[float]) -> Percentiles:
    """Exact percentiles of already sorted samples."""
    n = len(values)
    if n == 0:
        return Percentiles(0)
    p50, p95, p99 = (values[rank(p, n) - 1] for p in QUANTILES)
    return Percentiles(n, p50, p95, p99)


def from_histogram(hist: Mapping[int, int]) -> Percentiles:
    """Bucketed percentiles: each is the bucket where the running count reaches its rank."""
    indexes = sorted(index for index, count in hist.items() if count)
    return _from_buckets(indexes, [hist[index] for index in indexes])


def from_stored(stored: Sequence[Stored], more: Mapping[int, int] | None = None) -> Percentiles:
    """Bucketed percentiles of stored histograms (and `more`) added together. One stored
    array alone, the usual case of a day, is read as it is: it is already in bucket order."""
    if len(stored) == 1 and not more and isinstance(stored[0], list):
        return _from_buckets(stored[0][::2], stored[0][1::2])
    merged: Histogram = Counter(more)
    for found in stored:
        merged.update(parsed(found))
    return from_histogram(merged)


def _from_buckets(indexes: Sequence[int], counts: Iterable[int]) -> Percentiles:
    """`indexes` ascending, each with a positive count. (Written out: a month's timeline
    asks this of some 12,000 histograms.)"""
    if not indexes:
        return Percentiles(0)
    running = list(itertools.accumulate(counts))
    n = running[-1]
    at = bisect.bisect_left
    return Percentiles(
        n,
        bucket_value(indexes[at(running, rank(50, n))]),
        bucket_value(indexes[at(running, rank(95, n))]),
        bucket_value(indexes[at(running, rank(99, n))]),
    )
