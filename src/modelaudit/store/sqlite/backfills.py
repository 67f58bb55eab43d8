"""What migrations 4 to 7 and 11 derive from the rows stored before them, frozen as
released.

A migration runs once, on a database of any age, possibly years after it was written: it
must never call code that may change later (the served-model rule, the incident rule, the
histogram buckets), or the same old database would migrate to different rows depending on
the version that opens it. So each backfill here is a copy of the code its migration ran
when it was released, with only the standard library beneath it. Never edit it: a change
to what is derived is a new migration. (`tests/store/test_schema.py` checks the imports.)
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite3

# --- migration 4: change events -------------------------------------------------------------


def change_events(conn: sqlite3.Connection) -> None:
    """The served-model, fingerprint and rate-limit events of the attempts stored before
    change events were recorded, and each model's last values."""
    targets = conn.execute("SELECT id, model FROM target ORDER BY id").fetchall()
    for target_id, model in targets:
        rows = conn.execute(
            "SELECT a.started_ms, a.served_model_id, s.value, a.fingerprint_id, a.ratelimit_id"
            " FROM attempt a LEFT JOIN string s ON s.id = a.served_model_id"
            " WHERE a.target_id = ? AND (a.served_model_id IS NOT NULL"
            " OR a.fingerprint_id IS NOT NULL OR a.ratelimit_id IS NOT NULL)"
            " ORDER BY a.started_ms, a.id",
            (target_id,),
        ).fetchall()
        if rows:
            _model_changes(conn, target_id, model, rows)


def _model_changes(
    conn: sqlite3.Connection, target_id: int, model: str, rows: list[tuple[Any, ...]]
) -> None:
    last = conn.execute(
        "SELECT served_model_id, fingerprint_id, ratelimit_id FROM target WHERE id = ?",
        (target_id,),
    ).fetchone()
    served, fingerprint, ratelimit = last
    events: list[tuple[int, int, str, int | None, int]] = []
    for at_ms, served_id, served_name, fingerprint_id, ratelimit_id in rows:
        if served_id is not None and served_id != served:
            if served is not None or not _same_model(model, served_name):
                events.append((target_id, at_ms, "served_model", served, served_id))
            served = served_id
        if fingerprint_id is not None and fingerprint_id != fingerprint:
            first_time = (
                conn.execute(
                    "INSERT OR IGNORE INTO target_fingerprint (target_id, fingerprint_id,"
                    " first_ms) VALUES (?, ?, ?)",
                    (target_id, fingerprint_id, at_ms),
                ).rowcount
                == 1
            )
            if first_time and fingerprint is not None:
                events.append((target_id, at_ms, "fingerprint", fingerprint, fingerprint_id))
            fingerprint = fingerprint_id
        if ratelimit_id is not None and ratelimit_id != ratelimit:
            events.append((target_id, at_ms, "ratelimit", ratelimit, ratelimit_id))
            ratelimit = ratelimit_id
    conn.executemany(
        "INSERT INTO change_event (target_id, at_ms, kind, before_id, after_id)"
        " VALUES (?, ?, ?, ?, ?)",
        events,
    )
    if (served, fingerprint, ratelimit) != tuple(last):
        conn.execute(
            "UPDATE target SET served_model_id = ?, fingerprint_id = ?, ratelimit_id = ?"
            " WHERE id = ?",
            (served, fingerprint, ratelimit, target_id),
        )


def _same_model(requested: str, served: str | None) -> bool:
    """A response naming a dated snapshot of the requested alias still is the model."""
    if served is None:
        return True
    a, b = requested.lower(), served.lower()
    return (
        a == b or b.startswith(a) or a.startswith(b) or a.rsplit("/", 1)[-1] == b.rsplit("/", 1)[-1]
    )


# --- migration 5: incidents -----------------------------------------------------------------

_INCIDENT_VERDICTS = ("down", "gone")
_NEUTRAL_VERDICTS = ("skipped", "inconclusive")


def incidents(conn: sqlite3.Connection) -> None:
    """The incidents of the verdicts stored before incidents were recorded: one pass over
    each model's verdicts in run order, and each model's latest verdict."""
    targets = [row[0] for row in conn.execute("SELECT id FROM target ORDER BY id")]
    for target_id in targets:
        points = conn.execute(
            "SELECT r.started_ms, r.id, v.verdict FROM verdict v JOIN run r ON r.id = v.run_id"
            " WHERE v.target_id = ? AND r.started_ms >= 0 ORDER BY r.started_ms, r.id",
            (target_id,),
        ).fetchall()
        conn.executemany(
            "INSERT INTO incident (target_id, start_ms, start_run, verdict, last_ms, end_ms,"
            " runs) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(target_id, *span) for span in _spans(points)],
        )
        if points:
            conn.execute(
                "UPDATE target SET verdict_ms = ?, verdict_run = ? WHERE id = ?",
                (points[-1][0], points[-1][1], target_id),
            )


def _spans(points: list[tuple[int, int, str]]) -> list[tuple[int, int, str, int, int | None, int]]:
    """(start_ms, start_run, verdict, last_ms, end_ms, runs) of each incident: consecutive
    `down` (or `gone`) runs, ended by the next run with another verdict; skipped and
    inconclusive runs neither continue nor end one."""
    spans: list[tuple[int, int, str, int, int | None, int]] = []
    current: tuple[int, int, str, int, int] | None = None
    for at_ms, run_id, verdict in points:
        if verdict in _NEUTRAL_VERDICTS:
            continue
        if current is not None and verdict == current[2]:
            start, start_run, _, _, runs = current
            current = (start, start_run, verdict, at_ms, runs + 1)
            continue
        if current is not None:
            spans.append((*current[:4], at_ms, current[4]))
            current = None
        if verdict in _INCIDENT_VERDICTS:
            current = (at_ms, run_id, verdict, at_ms, 1)
    if current is not None:
        spans.append((*current[:4], None, current[4]))
    return spans


# --- migration 7: incidents with true bounds -------------------------------------------------

_ANSWERED_VERDICTS = ("up", "degraded")


def incident_bounds(conn: sqlite3.Connection) -> None:
    """The incidents worked out again with the bounds of version 7: from the first run
    that found the model down or gone to the next run that found it answering (up or
    degraded); skipped, inconclusive and blocked runs neither start nor end one."""
    conn.execute("DELETE FROM incident")
    targets = [row[0] for row in conn.execute("SELECT id FROM target ORDER BY id")]
    for target_id in targets:
        points = conn.execute(
            "SELECT r.started_ms, r.id, v.verdict FROM verdict v JOIN run r ON r.id = v.run_id"
            " WHERE v.target_id = ? ORDER BY r.started_ms, r.id",
            (target_id,),
        ).fetchall()
        conn.executemany(
            "INSERT INTO incident (target_id, start_ms, start_run, verdict, last_ms, end_ms,"
            " runs) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(target_id, *span) for span in _bounded_spans(points)],
        )


def _bounded_spans(
    points: list[tuple[int, int, str]],
) -> list[tuple[int, int, str, int, int | None, int]]:
    """(start_ms, start_run, verdict of the latest failing run, last_ms, end_ms, failing
    runs) of each incident."""
    spans: list[tuple[int, int, str, int, int | None, int]] = []
    current: tuple[int, int, str, int, int] | None = None
    for at_ms, run_id, verdict in points:
        if verdict in _ANSWERED_VERDICTS:
            if current is not None:
                spans.append((*current[:4], at_ms, current[4]))
            current = None
        elif verdict in _INCIDENT_VERDICTS:
            start, start_run, _, _, runs = current or (at_ms, run_id, verdict, at_ms, 0)
            current = (start, start_run, verdict, at_ms, runs + 1)
    if current is not None:
        spans.append((*current[:4], None, current[4]))
    return spans


# --- migration 6: daily sums ----------------------------------------------------------------

_DAY_MS = 86_400_000
_PER_DECADE = 40
_LOWEST_MS = 0.001
_Key = tuple[int, int, str, str, int]
"""(target, day start, kind, error class, inconclusive)."""


class _Sum:
    """Attempts of one daily row: how many, first and last start, latency and TTFT
    histograms (bucket index -> samples)."""

    def __init__(
        self,
        attempts: int = 0,
        first: int | None = None,
        last: int | None = None,
        latency: Counter[int] | None = None,
        ttft: Counter[int] | None = None,
    ) -> None:
        self.attempts = attempts
        self.first = first
        self.last = last
        self.latency: Counter[int] = latency if latency is not None else Counter()
        self.ttft: Counter[int] = ttft if ttft is not None else Counter()

    def add(self, started: int, latency: float | None, ttft: float | None) -> None:
        self.attempts += 1
        self.first = started if self.first is None else min(self.first, started)
        self.last = started if self.last is None else max(self.last, started)
        if latency is not None:
            self.latency[_bucket(latency)] += 1
        if ttft is not None:
            self.ttft[_bucket(ttft)] += 1


def daily_sums(conn: sqlite3.Connection) -> None:
    """The daily rows of what was stored before they were kept: the raw attempts, and the
    hours `db prune` had rolled up."""
    sums: dict[_Key, _Sum] = defaultdict(_Sum)
    rows = conn.execute(
        "SELECT a.target_id, a.kind, a.error_class, r.status = 'inconclusive', a.started_ms,"
        " a.latency_ms, a.ttft_ms FROM attempt a JOIN run r ON r.id = a.run_id"
    )
    for target_id, kind, error_class, inconclusive, started, latency, ttft in rows:
        key = (target_id, _day(started), kind, error_class, int(inconclusive))
        sums[key].add(started, latency, ttft)
    for key, found in sums.items():
        _merge_day(conn, key, found)
    hours = conn.execute(
        "SELECT target_id, hour_ms, kind, error_class, inconclusive, attempts, first_ms,"
        " last_ms, latency_hist, ttft_hist FROM rollup"
    ).fetchall()
    for target_id, hour, kind, error_class, inconclusive, n, first, last, lat, ttft in hours:
        key = (target_id, _day(hour), kind, error_class, inconclusive)
        _merge_day(conn, key, _Sum(n, first, last, _decode(lat), _decode(ttft)))


def _merge_day(conn: sqlite3.Connection, key: _Key, found: _Sum) -> None:
    match = "target_id = ? AND day_ms = ? AND kind = ? AND error_class = ? AND inconclusive = ?"
    existing = conn.execute(
        f"SELECT attempts, first_ms, last_ms, latency_hist, ttft_hist FROM daily WHERE {match}",  # noqa: S608
        key,
    ).fetchone()
    if existing is not None:
        attempts, first, last, latency, ttft = existing
        found.attempts += attempts
        found.first = min(first, found.first or first)
        found.last = max(last, found.last or last)
        found.latency.update(_decode(latency))
        found.ttft.update(_decode(ttft))
    conn.execute(
        "INSERT OR REPLACE INTO daily (target_id, day_ms, kind, error_class, inconclusive,"
        " attempts, first_ms, last_ms, latency_hist, ttft_hist)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            *key,
            found.attempts,
            found.first,
            found.last,
            _encode(found.latency),
            _encode(found.ttft),
        ),
    )


def _day(value_ms: int) -> int:
    return value_ms - value_ms % _DAY_MS


def _bucket(value_ms: float) -> int:
    """Fixed log-spaced buckets, 40 per decade."""
    return math.floor(math.log10(max(value_ms, _LOWEST_MS)) * _PER_DECADE)


def _encode(hist: Counter[int]) -> str | None:
    """`[bucket, count, bucket, count, ...]` in bucket order."""
    if not hist:
        return None
    return json.dumps(
        [n for k in sorted(hist) if hist[k] for n in (k, hist[k])], separators=(",", ":")
    )


def _decode(text: str | None) -> Counter[int]:
    """The flat array, or the `{"bucket": count}` object of `rollup` rows of schema 3-5."""
    if not text:
        return Counter()
    found = json.loads(text)
    if isinstance(found, dict):
        return Counter({int(k): int(v) for k, v in found.items()})
    return Counter(dict(zip(found[::2], found[1::2], strict=True)))


# --- migration 11: each model's day ---------------------------------------------------------

_COUNTED_KINDS = frozenset({"completion", "stream", "health"})
_SUCCESSES = frozenset({"ok", "content_filtered"})
_EXCLUDED = frozenset(
    {"rate_limited", "auth_failed", "access_denied", "quota_exhausted", "bad_request"}
)


@dataclass
class _ModelDay:
    ok: int = 0
    failed: int = 0
    excluded: int = 0
    first: int | None = None
    last: int | None = None
    last_ok: int | None = None
    classes: Counter[str] = field(default_factory=Counter)
    latency: Counter[int] = field(default_factory=Counter)
    ttft: Counter[int] = field(default_factory=Counter)


def daily_models(conn: sqlite3.Connection) -> None:
    """Each model's day, from its daily rows: availability counted (generation and health
    probes; successes, failures, and the excluded classes and inconclusive runs apart),
    attempts per class, first, last and last successful start, the successes' latency and
    TTFT histograms and their p50/p95 (TTFT p50)."""
    days: dict[tuple[int, int], _ModelDay] = defaultdict(_ModelDay)
    rows = conn.execute(
        "SELECT day_ms, target_id, kind, error_class, inconclusive, attempts, first_ms,"
        " last_ms, latency_hist, ttft_hist FROM daily"
    )
    for day, target_id, kind, cls, inconclusive, n, first, last, latency, ttft in rows:
        found = days[(day, target_id)]
        found.classes[cls] += n
        found.first = first if found.first is None else min(found.first, first)
        found.last = last if found.last is None else max(found.last, last)
        if kind not in _COUNTED_KINDS:
            continue
        if cls in _SUCCESSES:
            found.last_ok = last if found.last_ok is None else max(found.last_ok, last)
            if kind == "completion":
                found.latency.update(_decode(latency))
            if kind == "stream":
                found.ttft.update(_decode(ttft))
        if inconclusive or cls in _EXCLUDED:
            found.excluded += n
        elif cls in _SUCCESSES:
            found.ok += n
        else:
            found.failed += n
    conn.executemany(
        "INSERT INTO daily_model VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                day,
                target_id,
                d.ok,
                d.failed,
                d.excluded,
                d.first,
                d.last,
                d.last_ok,
                json.dumps(dict(sorted(d.classes.items())), separators=(",", ":")),
                _encode(d.latency),
                _encode(d.ttft),
                _at_rank(d.latency, 50),
                _at_rank(d.latency, 95),
                _at_rank(d.ttft, 50),
            )
            for (day, target_id), d in sorted(days.items())
        ],
    )


def _at_rank(hist: Counter[int], p: int) -> float | None:
    """The middle of the bucket holding the nearest-rank p-th percentile."""
    n = sum(hist.values())
    if not n:
        return None
    rank, running = max(1, (p * n + 99) // 100), 0
    for index in sorted(hist):
        running += hist[index]
        if running >= rank:
            return round(10 ** ((index + 0.5) / _PER_DECADE), 3)
    return None
