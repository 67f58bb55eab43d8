"""Alerting's memory in SQLite (`AlertLog` of `modelaudit.store.base`): the tables of
migration 7. Every text written passes through `redact` (a reason may quote a server that
echoed a key)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelaudit.alerts.state import (
    AlertOverview,
    AlertSnapshot,
    Delivery,
    DeliveryState,
    Kind,
    Notice,
    RouteMark,
    Tracker,
)
from modelaudit.redact import redact
from modelaudit.store import liveness
from modelaudit.store.sqlite.db import from_ms, ms, transaction

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable
    from datetime import datetime

    from modelaudit.alerts.state import AlertUpdate

_TRACKER_COLUMNS = (
    "provider, model, scope, confirmed, confirmed_ms, last, last_runs, last_ms, bad_runs,"
    " bad_ms, good_runs, reason"
)
_DELIVERY_COLUMNS = "id, route, target, notice, state, attempts, created_ms, error"


def update(
    conn: sqlite3.Connection, scope: str, decide: Callable[[AlertSnapshot], AlertUpdate]
) -> AlertUpdate:
    with transaction(conn):
        decided = decide(_snapshot(conn, scope))
        _write(conn, decided)
    return decided


def _snapshot(conn: sqlite3.Connection, scope: str) -> AlertSnapshot:
    row = conn.execute("SELECT run_id FROM alert_watermark WHERE scope = ?", (scope,)).fetchone()
    trackers = {
        t.key: t
        for t in map(
            _tracker,
            conn.execute(
                f"SELECT {_TRACKER_COLUMNS} FROM alert_tracker WHERE scope = ?",  # noqa: S608
                (scope,),
            ),
        )
    }
    marks = {m.key: m for m in map(_mark, conn.execute("SELECT * FROM alert_mark"))}
    return AlertSnapshot(watermark=row[0] if row else 0, trackers=trackers, marks=marks)


def _write(conn: sqlite3.Connection, decided: AlertUpdate) -> None:
    if decided.watermark is not None:
        conn.execute(
            "INSERT INTO alert_watermark VALUES (?, ?) ON CONFLICT (scope) DO UPDATE"
            " SET run_id = max(run_id, excluded.run_id)",
            (decided.scope, decided.watermark),
        )
    conn.executemany(
        f"INSERT OR REPLACE INTO alert_tracker ({_TRACKER_COLUMNS})"  # noqa: S608
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                t.provider,
                t.model,
                t.scope,
                t.confirmed,
                _ms(t.confirmed_since),
                t.last,
                t.last_runs,
                _ms(t.last_since),
                t.bad_runs,
                _ms(t.bad_since),
                t.good_runs,
                redact(t.reason) if t.reason else "",
            )
            for t in decided.trackers
        ],
    )
    conn.executemany(
        "DELETE FROM alert_mark WHERE route = ? AND kind = ? AND provider = ? AND model = ?"
        " AND scope = ?",
        [(r, k.value, p, m, s) for r, k, p, m, s in decided.cleared],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO alert_mark VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                m.route,
                m.kind.value,
                m.provider,
                m.model,
                m.scope,
                redact(m.told),
                ms(m.since),
                ms(m.sent_at),
            )
            for m in decided.marks
        ],
    )
    conn.executemany(
        "INSERT INTO alert_delivery (route, target, notice, state, created_ms)"
        " VALUES (?, ?, ?, 'pending', ?)",
        [
            (d.route, d.target, redact(d.notice.to_json()), ms(d.notice.created_at))
            for d in decided.deliveries
        ],
    )


def claim(conn: sqlite3.Connection, limit: int, now: datetime) -> list[Delivery]:
    me = liveness.current()
    with transaction(conn):
        rows = conn.execute(
            "SELECT id, state, pid, host, boot_id, process_start FROM alert_delivery"
            " WHERE state IN ('pending', 'sending') ORDER BY id"
        ).fetchall()
        chosen: dict[int, bool] = {}
        for delivery_id, state, pid, host, boot_id, start in rows:
            if len(chosen) >= limit:
                break
            if state == DeliveryState.PENDING.value:
                chosen[delivery_id] = False
            elif liveness.is_stale(liveness.ProcessIdentity(pid, host, boot_id, start), me):
                chosen[delivery_id] = True
        conn.executemany(
            "UPDATE alert_delivery SET state = 'sending', attempts = attempts + 1,"
            " attempt_ms = ?, pid = ?, host = ?, boot_id = ?, process_start = ? WHERE id = ?",
            [
                (ms(now), me.pid, me.host, me.boot_id, me.process_start, delivery_id)
                for delivery_id in chosen
            ],
        )
        claimed = [
            _delivery(row, repeat=chosen[row[0]])
            for row in conn.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM alert_delivery"  # noqa: S608
                " WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
                (_json_ids(chosen),),
            )
        ]
    return claimed


def settle(
    conn: sqlite3.Connection, delivery_id: int, *, sent: bool, error: str | None, at: datetime
) -> None:
    with transaction(conn):
        conn.execute(
            "UPDATE alert_delivery SET state = ?, done_ms = ?, error = ?, pid = NULL,"
            " host = NULL, boot_id = NULL, process_start = NULL WHERE id = ?",
            (
                DeliveryState.SENT.value if sent else DeliveryState.PENDING.value,
                ms(at) if sent else None,
                redact(error) if error else None,
                delivery_id,
            ),
        )


def drop(conn: sqlite3.Connection, delivery_id: int, reason: str, at: datetime) -> None:
    with transaction(conn):
        conn.execute(
            "UPDATE alert_delivery SET state = 'dropped', done_ms = ?, error = ? WHERE id = ?",
            (ms(at), redact(reason), delivery_id),
        )


def overview(conn: sqlite3.Connection) -> AlertOverview:
    marks = tuple(
        map(_mark, conn.execute("SELECT * FROM alert_mark ORDER BY since_ms, route, provider"))
    )
    undelivered = tuple(
        _delivery(row, repeat=row[4] == DeliveryState.SENDING.value)
        for row in conn.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM alert_delivery"  # noqa: S608
            " WHERE state IN ('pending', 'sending') ORDER BY id"
        )
    )
    return AlertOverview(marks, undelivered)


def _tracker(row: Any) -> Tracker:
    """A row in `_TRACKER_COLUMNS` order (the columns' types are the fields')."""
    (provider, model, scope, confirmed, confirmed_ms, last, last_runs, last_ms, bad_runs) = row[:9]
    bad_ms, good_runs, reason = row[9:]
    return Tracker(
        provider,
        model,
        scope,
        confirmed,
        _at(confirmed_ms),
        last,
        last_runs,
        _at(last_ms),
        bad_runs,
        _at(bad_ms),
        good_runs,
        reason,
    )


def _mark(row: tuple[object, ...]) -> RouteMark:
    route, kind, provider, model, scope, told, since_ms, sent_ms = row
    return RouteMark(
        route=str(route),
        kind=Kind(str(kind)),
        provider=str(provider),
        model=str(model),
        scope=str(scope),
        told=str(told),
        since=from_ms(int(str(since_ms))),
        sent_at=from_ms(int(str(sent_ms))),
    )


def _delivery(row: tuple[object, ...], *, repeat: bool) -> Delivery:
    delivery_id, route, target, notice, state, attempts, created_ms, error = row
    return Delivery(
        id=int(str(delivery_id)),
        route=str(route),
        target=str(target),
        notice=Notice.from_json(str(notice)),
        state=DeliveryState(str(state)),
        attempts=int(str(attempts)),
        created_at=from_ms(int(str(created_ms))),
        last_error=None if error is None else str(error),
        repeat=repeat,
    )


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else ms(moment)


def _at(value: int | None) -> datetime | None:
    return None if value is None else from_ms(value)


def _json_ids(ids: dict[int, bool]) -> str:
    return "[" + ",".join(str(i) for i in ids) + "]"
