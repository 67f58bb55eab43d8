"""Incidents, recorded as verdicts are written: an incident starts at the first run that
found a model failing (`down` or `gone`) and ends at the next run that found it answering
(`up` or `degraded`); with no such run yet it is open. A model going from down to gone is
one incident (its verdict is the latest failing one), as is an outage the runs in between
could not see.

Runs are taken in start order (then by id). Skipped, inconclusive and blocked verdicts say
nothing about whether the model answers (not probed, this machine offline, our own access
broken): they neither start, continue nor end an incident. Keeping the incidents in their
own table (`incident`, one row each, the open one with no end) makes the report's read a
range of a small table instead of a pass over every verdict of the window.

A run usually finishes after every run that started before it, so its verdicts extend the
model's latest incident. When it does not (two probes running at once, the later one
finishing first), the incidents from that run's start on are worked out again from the
stored verdicts. Either way the rows are exactly what one pass over all verdicts, in start
order, gives: `backfill` (migration 5) is that pass.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from modelaudit.vocabulary import Verdict

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable

INCIDENT_VERDICTS = frozenset({Verdict.DOWN, Verdict.GONE})
NEUTRAL_VERDICTS = frozenset({Verdict.SKIPPED, Verdict.INCONCLUSIVE, Verdict.BLOCKED})
"""Say nothing about whether the model answers (not probed, this machine offline, our
access broken)."""
_VERDICTS = {v.value: v for v in Verdict}


@dataclass(frozen=True)
class Point:
    """A model's verdict in one run."""

    at_ms: int
    """When the run started."""
    run_id: int
    verdict: Verdict


@dataclass(frozen=True)
class Span:
    """One row of `incident`."""

    verdict: Verdict
    """The verdict of its latest failing run."""
    start_ms: int
    start_run: int
    last_ms: int
    """The start of the incident's latest failing run."""
    end_ms: int | None
    """The start of the next run that found the model answering; None while it goes on."""
    runs: int
    """Its failing runs."""


def follow(current: Span | None, points: Iterable[Point]) -> tuple[list[Span], Span | None]:
    """The incidents that `points` (in run order) close, and the one left open, going on
    from `current` (the model's open incident before them)."""
    closed: list[Span] = []
    for point in points:
        if point.verdict in NEUTRAL_VERDICTS:
            continue
        if point.verdict not in INCIDENT_VERDICTS:  # it answered
            if current is not None:
                closed.append(replace(current, end_ms=point.at_ms))
            current = None
        elif current is None:
            current = Span(point.verdict, point.at_ms, point.run_id, point.at_ms, None, 1)
        else:
            current = replace(
                current, verdict=point.verdict, runs=current.runs + 1, last_ms=point.at_ms
            )
    return closed, current


def record(conn: sqlite3.Connection, run_id: int, verdicts: Iterable[tuple[int, Verdict]]) -> None:
    """Fold one run's verdicts (target id, verdict) into the incidents. Call inside the
    write transaction that stores them."""
    started = conn.execute("SELECT started_ms FROM run WHERE id = ?", (run_id,)).fetchone()[0]
    for target_id, verdict in verdicts:
        point = Point(started, run_id, verdict)
        row = conn.execute(
            "SELECT verdict_ms, verdict_run FROM target WHERE id = ?", (target_id,)
        ).fetchone()
        if row[0] is None or (point.at_ms, point.run_id) > (row[0], row[1]):
            _extend(conn, target_id, point)
            conn.execute(
                "UPDATE target SET verdict_ms = ?, verdict_run = ? WHERE id = ?",
                (point.at_ms, point.run_id, target_id),
            )
        else:
            _redo_from(conn, target_id, point.at_ms)


def _extend(conn: sqlite3.Connection, target_id: int, point: Point) -> None:
    """The run is the model's latest: it only touches the open incident, if any."""
    row = conn.execute(
        "SELECT verdict, start_ms, start_run, last_ms, end_ms, runs FROM incident"
        " WHERE target_id = ? ORDER BY start_ms DESC, start_run DESC LIMIT 1",
        (target_id,),
    ).fetchone()
    current = _span(row) if row is not None and row[4] is None else None
    if point.verdict in NEUTRAL_VERDICTS:
        return
    if current is None and point.verdict not in INCIDENT_VERDICTS:
        return  # the usual case: a model that is up stays out of incidents
    closed, still_open = follow(current, [point])
    if current is not None:
        _delete(conn, target_id, current)
    _insert(conn, target_id, [*closed, *([still_open] if still_open else [])])


def _redo_from(conn: sqlite3.Connection, target_id: int, at_ms: int) -> None:
    """A verdict of a run that started before the model's latest: the incidents that
    could involve it (going on, or ended at or after it) are worked out again."""
    starts = [
        row[0]
        for row in conn.execute(
            "SELECT start_ms FROM incident WHERE target_id = ? AND (end_ms IS NULL OR end_ms >= ?)",
            (target_id, at_ms),
        )
    ]
    conn.execute(
        "DELETE FROM incident WHERE target_id = ? AND (end_ms IS NULL OR end_ms >= ?)",
        (target_id, at_ms),
    )
    # Every incident kept ended before `since`, so nothing is open there.
    since = min([at_ms, *starts])
    closed, still_open = follow(None, _points(conn, target_id, since))
    _insert(conn, target_id, [*closed, *([still_open] if still_open else [])])


def _points(conn: sqlite3.Connection, target_id: int, since: int) -> list[Point]:
    rows = conn.execute(
        "SELECT r.started_ms, r.id, v.verdict FROM verdict v JOIN run r ON r.id = v.run_id"
        " WHERE v.target_id = ? AND r.started_ms >= ? ORDER BY r.started_ms, r.id",
        (target_id, since),
    )
    return [Point(at, run_id, _VERDICTS[verdict]) for at, run_id, verdict in rows]


def _span(row: tuple[str, int, int, int, int | None, int]) -> Span:
    verdict, start, start_run, last, end, runs = row
    return Span(_VERDICTS[verdict], start, start_run, last, end, runs)


def _delete(conn: sqlite3.Connection, target_id: int, span: Span) -> None:
    conn.execute(
        "DELETE FROM incident WHERE target_id = ? AND start_ms = ? AND start_run = ?",
        (target_id, span.start_ms, span.start_run),
    )


def _insert(conn: sqlite3.Connection, target_id: int, spans: list[Span]) -> None:
    conn.executemany(
        "INSERT INTO incident (target_id, start_ms, start_run, verdict, last_ms, end_ms, runs)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (target_id, s.start_ms, s.start_run, s.verdict.value, s.last_ms, s.end_ms, s.runs)
            for s in spans
        ],
    )


def backfill(conn: sqlite3.Connection) -> None:
    """Derive the incidents of the verdicts stored before incidents were recorded
    (migration 5): one pass over each model's verdicts in run order."""
    targets = [row[0] for row in conn.execute("SELECT id FROM target ORDER BY id")]
    for target_id in targets:
        points = _points(conn, target_id, since=0)
        closed, still_open = follow(None, points)
        _insert(conn, target_id, [*closed, *([still_open] if still_open else [])])
        if points:
            conn.execute(
                "UPDATE target SET verdict_ms = ?, verdict_run = ? WHERE id = ?",
                (points[-1].at_ms, points[-1].run_id, target_id),
            )
