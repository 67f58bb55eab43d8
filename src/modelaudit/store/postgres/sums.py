"""The period sums of the PostgreSQL store: `daily` (kept as attempts are written) and
`rollup` (what `db prune` keeps of an hour). One row per period, model, region and whether
the run was inconclusive; region 0 holds the sums over every region (of `daily`, for the
closed days only: `closing`).

The class counts and the histograms are stored as `encoded` bytes (schema 6: a quarter of
the `integer[]` arrays they were). Writers add to a row with one atomic upsert
(`modelaudit_hist_add` merges the class counts and the histograms), keys in order, so any
number of agents can add to the same rows at once without losing a count or deadlocking.
A row's counts follow `history.counts_as` as it stands when the attempt is written, and
keep every error class, so the rule can be applied again from them.
"""

from __future__ import annotations

import itertools
import struct
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from modelaudit.history import AVAILABILITY_KINDS, SUCCESS_CLASSES, counts_as
from modelaudit.store import buckets
from modelaudit.vocabulary import ErrorClass, ProbeKind

if TYPE_CHECKING:
    from collections.abc import Container, Iterable

    import psycopg

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
ALL_REGIONS = 0
"""The region id of the rows summed over every region."""
_AVAILABILITY = frozenset(k.value for k in AVAILABILITY_KINDS)
_SUCCESS = frozenset(c.value for c in SUCCESS_CLASSES)
_COUNTED = {c.value: counts_as(c) for c in ErrorClass}


@dataclass(frozen=True)
class Sample:
    """What a period row needs of one attempt."""

    target_id: int
    region_id: int
    kind: str
    error_class: str
    class_id: int
    started_ms: int
    latency_ms: float | None
    ttft_ms: float | None


@dataclass
class Sum:
    attempts: int = 0
    ok: int = 0
    failed: int = 0
    excluded: int = 0
    first: int | None = None
    last: int | None = None
    last_ok: int | None = None
    classes: Counter[int] = field(default_factory=Counter)
    latency: Counter[int] = field(default_factory=Counter)
    ttft: Counter[int] = field(default_factory=Counter)

    def add(self, s: Sample, *, inconclusive: bool) -> None:
        self.attempts += 1
        self.first = s.started_ms if self.first is None else min(self.first, s.started_ms)
        self.last = s.started_ms if self.last is None else max(self.last, s.started_ms)
        self.classes[s.class_id] += 1
        success = s.error_class in _SUCCESS
        if s.kind in _AVAILABILITY:
            counted = "excluded" if inconclusive else _COUNTED[s.error_class]
            setattr(self, counted, getattr(self, counted) + 1)
            if success:
                self.last_ok = max(self.last_ok or s.started_ms, s.started_ms)
        if not success:
            return
        if s.kind == ProbeKind.COMPLETION.value and s.latency_ms is not None:
            self.latency[buckets.bucket_of(s.latency_ms)] += 1
        if s.kind == ProbeKind.STREAM.value and s.ttft_ms is not None:
            self.ttft[buckets.bucket_of(s.ttft_ms)] += 1

    def add_row(
        self,
        counts: tuple[int, int, int, int],
        times: tuple[int, int, int | None],
        arrays: tuple[list[int] | None, list[int] | None, list[int] | None],
    ) -> None:
        """Add a stored row: its attempts, ok, failed and excluded; its first, last and
        last successful start; its class counts and histograms (`[key, count, ...]`)."""
        self.attempts += counts[0]
        self.ok += counts[1]
        self.failed += counts[2]
        self.excluded += counts[3]
        first, last, last_ok = times
        self.first = first if self.first is None else min(self.first, first)
        self.last = last if self.last is None else max(self.last, last)
        if last_ok is not None:
            self.last_ok = last_ok if self.last_ok is None else max(self.last_ok, last_ok)
        for counter, flat in zip((self.classes, self.latency, self.ttft), arrays, strict=True):
            if flat:
                get = counter.get  # dict's: twice as quick as a Counter's += on a new key
                pairs = iter(flat)
                for key, count in zip(pairs, pairs, strict=True):
                    counter[key] = get(key, 0) + count

    def negated(self) -> Sum:
        """The same attempts to take out of a row (they move to another)."""
        return Sum(
            -self.attempts,
            -self.ok,
            -self.failed,
            -self.excluded,
            self.first,
            self.last,
            None,
            Counter({k: -v for k, v in self.classes.items()}),
            Counter({k: -v for k, v in self.latency.items()}),
            Counter({k: -v for k, v in self.ttft.items()}),
        )


Key = tuple[int, int, int, bool]
"""(period start, region id, target id, inconclusive): the primary key's order."""


def grouped(
    samples: Iterable[Sample],
    width_ms: int,
    *,
    inconclusive: bool,
    summed: Container[int] | None = None,
) -> dict[Key, Sum]:
    """The samples' sums per period, model and region, and over every region for the
    periods in `summed` (None: every period)."""
    sums: dict[Key, Sum] = defaultdict(Sum)
    for s in samples:
        period = s.started_ms - s.started_ms % width_ms
        sums[(period, s.region_id, s.target_id, inconclusive)].add(s, inconclusive=inconclusive)
        if summed is None or period in summed:
            key = (period, ALL_REGIONS, s.target_id, inconclusive)
            sums[key].add(s, inconclusive=inconclusive)
    return sums


def pairs(hist: Counter[int]) -> list[int] | None:
    """A counter as the flat array `[key, count, ...]` in key order."""
    flat = [n for k in sorted(hist) if hist[k] for n in (k, hist[k])]
    return flat or None


def encoded(flat: list[int] | None) -> bytes | None:
    """A flat `[key, count, ...]` array (keys in ascending order, as `pairs` gives) as
    stored, big-endian: a head byte (bits 0-1: each count's width, 1, 2 or 4 bytes; bit 2:
    counts signed, only in a writer's input that takes attempts out of a row; bit 3: each
    key difference's width, 1 or 2 bytes), the first key (2 bytes, signed), the
    differences of the others from the key before, then the counts. Zero counts are left
    out; nothing left is None (SQL NULL). `modelaudit_hist_encode` in SQL writes the same
    bytes; fixed widths per row let a reader unpack a row in one C call."""
    if not flat:
        return None
    pairs_kept = [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2) if flat[i + 1]]
    if not pairs_kept:
        return None
    keys = [key for key, _ in pairs_kept]
    counts = [count for _, count in pairs_kept]
    deltas = [b - a for a, b in itertools.pairwise(keys)]
    low, high = min(counts), max(counts)
    if low < 0:
        width = 0 if low >= -128 and high <= 127 else 1 if low >= -32768 and high <= 32767 else 2
    else:
        width = 0 if high <= 255 else 1 if high <= 65535 else 2
    wide = max(deltas, default=0) > 255
    head = width | (4 if low < 0 else 0) | (8 if wide else 0)
    return bytes([head]) + struct.pack(_layout(head, len(keys)), keys[0], *deltas, *counts)


def _layout(head: int, n: int) -> str:
    count = ("bhi" if head & 4 else "BHI")[head & 3]
    return f">h{n - 1}{'H' if head & 8 else 'B'}{n}{count}"


def decoded(data: bytes | None) -> list[int] | None:
    """`encoded`'s bytes back as the flat `[key, count, ...]` array (None for None)."""
    if not data:
        return None
    head = data[0]
    step = 2 if head & 8 else 1
    n = (len(data) - 3 + step) // (step + (1, 2, 4, 4)[head & 3])
    values = struct.unpack_from(_layout(head, n), data, 1)
    flat = [0] * (2 * n)
    flat[0::2] = itertools.accumulate(values[:n])
    flat[1::2] = values[n:]
    return flat


def stored(hist: Counter[int]) -> bytes | None:
    """A counter as stored in a period row."""
    return encoded(pairs(hist))


def add(
    conn: psycopg.Connection[Any], table: Literal["daily", "rollup"], sums: dict[Key, Sum]
) -> None:
    """Add `sums` to the table's rows, in key order; rows left with no attempt go."""
    if not sums:
        return
    period = "day_ms" if table == "daily" else "hour_ms"
    rows = [
        (
            *key,
            s.attempts,
            s.ok,
            s.failed,
            s.excluded,
            s.first,
            s.last,
            s.last_ok,
            stored(s.classes),
            stored(s.latency),
            stored(s.ttft),
        )
        for key, s in sorted(sums.items())
    ]
    with conn.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({period}, region_id, target_id, inconclusive, attempts, ok,"  # noqa: S608
            " failed, excluded, first_ms, last_ms, last_ok_ms, classes, latency, ttft)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            f" ON CONFLICT ({period}, region_id, target_id, inconclusive) DO UPDATE SET"
            f" attempts = {table}.attempts + excluded.attempts,"
            f" ok = {table}.ok + excluded.ok, failed = {table}.failed + excluded.failed,"
            f" excluded = {table}.excluded + excluded.excluded,"
            f" first_ms = least({table}.first_ms, excluded.first_ms),"
            f" last_ms = greatest({table}.last_ms, excluded.last_ms),"
            f" last_ok_ms = greatest({table}.last_ok_ms, excluded.last_ok_ms),"
            f" classes = modelaudit_hist_add({table}.classes, excluded.classes),"
            f" latency = modelaudit_hist_add({table}.latency, excluded.latency),"
            f" ttft = modelaudit_hist_add({table}.ttft, excluded.ttft)",
            rows,
        )
    emptied = [key for key, s in sorted(sums.items()) if s.attempts < 0]
    if emptied:
        with conn.cursor() as cursor:
            cursor.executemany(
                f"DELETE FROM {table} WHERE {period} = %s AND region_id = %s"  # noqa: S608
                " AND target_id = %s AND inconclusive = %s AND attempts <= 0",
                emptied,
            )
