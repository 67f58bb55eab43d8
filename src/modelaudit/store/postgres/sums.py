"""The period sums of the PostgreSQL store: `daily` (kept as attempts are written) and
`rollup` (what `db prune` keeps of an hour). One row per period, model, region and whether
the run was inconclusive; region 0 holds the sums over every region (of `daily`, for the
closed days only: `closing`).

The class counts and the histograms are stored as `encoded` bytes (schema 5: a quarter of
the `integer[]` arrays they were). Writers add to a row with one atomic upsert
(`modelaudit_hist_add` merges the class counts and the histograms), keys in order, so any
number of agents can add to the same rows at once without losing a count or deadlocking.
A row's counts follow `history.counts_as` as it stands when the attempt is written, and
keep every error class, so the rule can be applied again from them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import accumulate
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
    """A flat `[key, count, ...]` array (keys in order, as `pairs` gives) as stored: per
    pair, the key's difference from the one before (from 0 for the first), zigzag, shifted
    left by one with the count's sign in the low bit, then the count's magnitude, each an
    unsigned LEB128 varint (`modelaudit_hist_encode` in SQL writes the same bytes). A
    zero count is left out; nothing left is None (SQL NULL)."""
    if not flat:
        return None
    out = bytearray()
    previous = 0
    for i in range(0, len(flat), 2):
        key, count = flat[i], flat[i + 1]
        if not count:
            continue
        delta = key - previous
        previous = key
        for number in ((((delta << 1) ^ (delta >> 63)) << 1) | (count < 0), abs(count)):
            value = number
            while value >= 0x80:
                out.append(value & 0x7F | 0x80)
                value >>= 7
            out.append(value)
    return bytes(out) or None


_DELTA = tuple(((t >> 1) >> 1) ^ -((t >> 1) & 1) for t in range(128))
"""A one-byte pair head (a positive count's) to its key difference."""
_EVEN = bytes(range(0, 128, 2))


def decoded(data: bytes | None) -> list[int] | None:
    """`encoded`'s bytes back as the flat `[key, count, ...]` array (None for None). A
    report reads tens of thousands of them: when every varint is one byte and every count
    positive (the usual row) the work is done by C loops over the bytes."""
    if not data:
        return None
    heads = data[0::2]
    if data.isascii() and not heads.translate(None, _EVEN):
        flat = [0] * len(data)
        flat[0::2] = accumulate(map(_DELTA.__getitem__, heads))
        flat[1::2] = data[1::2]
        return flat
    return _decoded_slowly(data)


def _decoded_slowly(data: bytes) -> list[int]:
    numbers: list[int] = []
    value = shift = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            numbers.append(value)
            value = shift = 0
    flat: list[int] = []
    key = 0
    for i in range(0, len(numbers), 2):
        head, count = numbers[i], numbers[i + 1]
        zigzag = head >> 1
        key += (zigzag >> 1) ^ -(zigzag & 1)
        flat += (key, -count if head & 1 else count)
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
