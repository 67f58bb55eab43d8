"""The SQL functions the writers' upserts call (`db.connect` registers them on every
connection): adding stored histograms and per-class counts, and a histogram's bucketed
percentile, so a batch's sums are added to the stored rows in one statement.

Each is a pure function of text, and remembers its last answers: one upsert asks for the
same sum three times (the column, then its p50 and p95), and a fleet's models mostly
store the same few texts (`{"ok":1}` plus `{"ok":1}`), so most calls are a look-up."""

from __future__ import annotations

import functools
import json

from modelaudit.history import Percentiles
from modelaudit.store import buckets

_REMEMBERED = 4096


@functools.lru_cache(maxsize=_REMEMBERED)
def hist_add(a: str | None, b: str | None) -> str | None:
    """`modelaudit_hist_add`: two stored histograms added together."""
    return buckets.add_encoded(a, b)


def hist_rank(hist: str | None, p: int) -> float | None:
    """`modelaudit_hist_rank`: the bucketed p-th percentile of a stored histogram."""
    found = _percentiles(hist) if hist else None
    if found is None or not found.n:
        return None
    return {50: found.p50, 95: found.p95, 99: found.p99}[p]


@functools.lru_cache(maxsize=_REMEMBERED)
def _percentiles(hist: str) -> Percentiles:
    return buckets.from_stored([buckets.decode_stored(hist)])


@functools.lru_cache(maxsize=_REMEMBERED)
def classes_add(a: str | None, b: str | None) -> str:
    """`modelaudit_classes_add`: two `{"class": attempts}` objects added together."""
    merged: dict[str, int] = json.loads(a) if a else {}
    for cls, n in (json.loads(b) if b else {}).items():
        merged[cls] = merged.get(cls, 0) + n
    return json.dumps(dict(sorted(merged.items())), separators=(",", ":"))
