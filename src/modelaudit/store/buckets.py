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


def decode_stored(text: str) -> Stored:
    """A stored histogram's JSON, as `from_stored` takes it."""
    found: Stored = json.loads(text)
    return found


def decode(text: str | None) -> Histogram:
    return parsed(json.loads(text)) if text else Counter()


def parsed(found: Stored) -> Histogram:
    if isinstance(found, dict):
        return Counter({int(k): int(v) for k, v in found.items()})
    return Counter(dict(zip(found[::2], found[1::2], strict=True)))


def add_encoded(a: str | None, b: str | None) -> str | None:
    """Two stored histograms added together, stored again (`modelaudit_hist_add` in SQL)."""
    if a is None or b is None:
        return a if b is None else b
    return encode(decode(a) + decode(b))


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


def from_stored(
    stored: Sequence[Stored | str], more: Mapping[int, int] | None = None
) -> Percentiles:
    """Bucketed percentiles of stored histograms (parsed, or their JSON text) and `more`
    added together. One stored array alone, the usual case of a day, is read as it is: it
    is already in bucket order. (Written out: a month's summary adds a few hundred thousand
    buckets, and its timeline asks this of a few hundred thousand days.)"""
    texts = [found for found in stored if isinstance(found, str)]
    parsed: list[Stored] = [found for found in stored if not isinstance(found, str)]
    if texts:  # one parse for them all: a month's summary of a model is 30 of them
        parsed += json.loads("[" + ",".join(texts) + "]")
    if len(parsed) == 1 and not more:
        only = parsed[0]
        if isinstance(only, list):
            if len(only) == 2:  # one bucket: every percentile is its middle
                value = bucket_value(only[0])
                return Percentiles(only[1], value, value, value)
            return _from_buckets(only[::2], only[1::2])
    merged: dict[int, int] = dict(more) if more else {}
    get = merged.get
    for found in parsed:
        if isinstance(found, dict):
            for key, count in found.items():
                merged[int(key)] = get(int(key), 0) + int(count)
            continue
        pairs = iter(found)
        for index, count in zip(pairs, pairs, strict=True):
            merged[index] = get(index, 0) + count
    return from_histogram(merged)


def _from_buckets(indexes: Sequence[int], counts: Iterable[int]) -> Percentiles:
    """`indexes` ascending, each with a positive count. (Written out, the ranks of
    `rank` inline: a month's timeline asks this of hundreds of thousands of days.)"""
    if not indexes:
        return Percentiles(0)
    running = list(itertools.accumulate(counts))
    n = running[-1]
    at = bisect.bisect_left
    return Percentiles(
        n,
        bucket_value(indexes[at(running, (50 * n + 99) // 100)]),
        bucket_value(indexes[at(running, (95 * n + 99) // 100)]),
        bucket_value(indexes[at(running, (99 * n + 99) // 100)]),
    )
