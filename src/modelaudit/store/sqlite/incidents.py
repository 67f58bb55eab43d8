"""The `incident` rows of the SQLite store, kept as verdicts are written (the rule is
`modelaudit.store.incidents.follow`), per model and region: the runs of one region's
agents are one sequence (a model answering in one region and blocked in another is two
stories, not one that flips on every run).

A run usually finishes after every run that started before it, so its verdicts extend the
model's latest incident. When it does not (two probes running at once, the later one
finishing first), the incidents from that run's start on are worked out again from the
stored verdicts. Either way the rows are exactly what one pass over all verdicts, in start
order, gives (what migration 5 did for the verdicts stored before it).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from modelaudit.store.incidents import INCIDENT_VERDICTS, NEUTRAL_VERDICTS, Point, Span, follow
from modelaudit.vocabulary import Verdict

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable

_VERDICTS = {v.value: v for v in Verdict}


def record(conn: sqlite3.Connection, run_id: int, verdicts: Iterable[tuple[int, Verdict]]) -> None:
    """Fold one run's verdicts (target id, verdict) into the incidents. Call inside the
    write transaction that stores them."""
    started, region = conn.execute(
        "SELECT started_ms, region FROM run WHERE id = ?", (run_id,)
    ).fetchone()
    verdicts = list(verdicts)
    latest, with_incidents = _known(conn, region, [target_id for target_id, _ in verdicts])
    for target_id, verdict in verdicts:
        point = Point(started, run_id, verdict)
        row = latest.get(target_id)
        if row is None or (point.at_ms, point.run_id) > row:
            # Without an incident in the region, only an incident verdict can open one.
            if target_id in with_incidents or verdict in INCIDENT_VERDICTS:
                _extend(conn, target_id, region, point)
                with_incidents.add(target_id)
            latest[target_id] = (point.at_ms, point.run_id)
        else:
            _redo_from(conn, target_id, region, point.at_ms)
            with_incidents.add(target_id)
    # Read above only as `latest`: written once, after the run's verdicts.
    conn.executemany(
        "INSERT OR REPLACE INTO target_region VALUES (?, ?, ?, ?)",
        [
            (target_id, region, *latest[target_id])
            for target_id in dict.fromkeys(t for t, _ in verdicts)
            if latest[target_id][1] == run_id
        ],
    )


def _known(
    conn: sqlite3.Connection, region: str, target_ids: list[int]
) -> tuple[dict[int, tuple[int, int]], set[int]]:
    """For the models of `target_ids` in `region`: their latest verdict's (start, run), and
    those with an incident row; read once for a run's verdicts, not twice for each."""
    ids = json.dumps(target_ids)
    latest = {
        target_id: (at_ms, run)
        for target_id, at_ms, run in conn.execute(
            "SELECT target_id, verdict_ms, verdict_run FROM target_region"
            " WHERE region = ? AND target_id IN (SELECT value FROM json_each(?))",
            (region, ids),
        )
    }
    with_incidents = {
        target_id
        for (target_id,) in conn.execute(
            "SELECT DISTINCT target_id FROM incident"
            " WHERE region = ? AND target_id IN (SELECT value FROM json_each(?))",
            (region, ids),
        )
    }
    return latest, with_incidents


def _extend(conn: sqlite3.Connection, target_id: int, region: str, point: Point) -> None:
    """The run is the model's latest in its region: it only touches the open incident."""
    row = conn.execute(
        "SELECT verdict, start_ms, start_run, last_ms, end_ms, runs FROM incident"
        " WHERE target_id = ? AND region = ? ORDER BY start_ms DESC, start_run DESC LIMIT 1",
        (target_id, region),
    ).fetchone()
    current = _span(row) if row is not None and row[4] is None else None
    if point.verdict in NEUTRAL_VERDICTS:
        return
    if current is None and point.verdict not in INCIDENT_VERDICTS:
        return  # the usual case: a model that is up stays out of incidents
    closed, still_open = follow(current, [point])
    if current is not None:
        _delete(conn, target_id, current)
    _insert(conn, target_id, region, [*closed, *([still_open] if still_open else [])])


def _redo_from(conn: sqlite3.Connection, target_id: int, region: str, at_ms: int) -> None:
    """A verdict of a run that started before the model's latest in its region: the
    incidents that could involve it (going on, or ended at or after it) are worked out
    again."""
    match = "target_id = ? AND region = ? AND (end_ms IS NULL OR end_ms >= ?)"
    starts = [
        row[0]
        for row in conn.execute(
            f"SELECT start_ms FROM incident WHERE {match}",  # noqa: S608
            (target_id, region, at_ms),
        )
    ]
    conn.execute(f"DELETE FROM incident WHERE {match}", (target_id, region, at_ms))  # noqa: S608
    # Every incident kept ended before `since`, so nothing is open there.
    since = min([at_ms, *starts])
    closed, still_open = follow(None, _points(conn, target_id, region, since))
    _insert(conn, target_id, region, [*closed, *([still_open] if still_open else [])])


def _points(conn: sqlite3.Connection, target_id: int, region: str, since: int) -> list[Point]:
    rows = conn.execute(
        "SELECT r.started_ms, r.id, v.verdict FROM verdict v JOIN run r ON r.id = v.run_id"
        " WHERE v.target_id = ? AND r.region = ? AND r.started_ms >= ?"
        " ORDER BY r.started_ms, r.id",
        (target_id, region, since),
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


def _insert(conn: sqlite3.Connection, target_id: int, region: str, spans: list[Span]) -> None:
    conn.executemany(
        "INSERT INTO incident (target_id, start_ms, start_run, verdict, last_ms, end_ms, runs,"
        " region) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                target_id,
                s.start_ms,
                s.start_run,
                s.verdict.value,
                s.last_ms,
                s.end_ms,
                s.runs,
                region,
            )
            for s in spans
        ],
    )
