"""Alerting's memory in SQLite (`AlertLog` of `modelaudit.store.base`): the tables of
migration 9, laid out as `store.alert_rows` says. Every text written is redacted there (a
reason may quote a server that echoed a key)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from modelaudit.alerts.state import AlertOverview, AlertSnapshot, DeliveryState
from modelaudit.redact import redact
from modelaudit.store import alert_rows as rows
from modelaudit.store.sqlite.db import ms, transaction

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable
    from datetime import datetime

    from modelaudit.alerts.state import AlertUpdate, Delivery

# SQL naming `alert_rows` column lists carries `noqa: S608`: values are always bound.


def update(
    conn: sqlite3.Connection, scope: str, decide: Callable[[AlertSnapshot], AlertUpdate]
) -> AlertUpdate:
    with transaction(conn):
        decided = decide(_snapshot(conn, scope))
        _write(conn, decided)
    return decided


def _snapshot(conn: sqlite3.Connection, scope: str) -> AlertSnapshot:
    row = conn.execute("SELECT run_id FROM alert_watermark WHERE scope = ?", (scope,)).fetchone()
    trackers = conn.execute(
        f"SELECT {rows.TRACKER_COLUMNS} FROM alert_tracker WHERE scope = ?",  # noqa: S608
        (scope,),
    )
    marks = conn.execute(f"SELECT {rows.MARK_COLUMNS} FROM alert_mark")  # noqa: S608
    return AlertSnapshot(
        watermark=row[0] if row else 0,
        trackers={t.key: t for t in map(rows.tracker, trackers)},
        marks={m.key: m for m in map(rows.mark, marks)},
    )


def _write(conn: sqlite3.Connection, decided: AlertUpdate) -> None:
    if decided.watermark is not None:
        conn.execute(
            "INSERT INTO alert_watermark VALUES (?, ?) ON CONFLICT (scope) DO UPDATE"
            " SET run_id = max(run_id, excluded.run_id)",
            (decided.scope, decided.watermark),
        )
    conn.executemany(
        f"INSERT OR REPLACE INTO alert_tracker ({rows.TRACKER_COLUMNS})"  # noqa: S608
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        map(rows.tracker_row, decided.trackers),
    )
    conn.executemany(
        "DELETE FROM alert_mark WHERE route = ? AND kind = ? AND provider = ? AND model = ?"
        " AND scope = ?",
        map(rows.mark_key_row, decided.cleared),
    )
    conn.executemany(
        f"INSERT OR REPLACE INTO alert_mark ({rows.MARK_COLUMNS})"  # noqa: S608
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        map(rows.mark_row, decided.marks),
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
    with transaction(conn):
        open_rows = conn.execute(
            f"SELECT {rows.CLAIM_COLUMNS} FROM alert_delivery"  # noqa: S608
            " WHERE state IN ('pending', 'sending') ORDER BY id"
        )
        chosen = rows.claimable(open_rows, limit)
        conn.executemany(
            "UPDATE alert_delivery SET state = 'sending', attempts = attempts + 1,"
            " attempt_ms = ?, pid = ?, host = ?, boot_id = ?, process_start = ? WHERE id = ?",
            [(ms(now), *rows.claimer(), delivery_id) for delivery_id in chosen],
        )
        claimed = [
            rows.delivery(row, repeat=chosen[row[0]])
            for row in conn.execute(
                f"SELECT {rows.DELIVERY_COLUMNS} FROM alert_delivery"  # noqa: S608
                " WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
                (json.dumps(list(chosen)),),
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
    marks = conn.execute(
        f"SELECT {rows.MARK_COLUMNS} FROM alert_mark ORDER BY since_ms, route, provider"  # noqa: S608
    )
    undelivered = conn.execute(
        f"SELECT {rows.DELIVERY_COLUMNS} FROM alert_delivery"  # noqa: S608
        " WHERE state IN ('pending', 'sending') ORDER BY id"
    )
    return AlertOverview(
        tuple(map(rows.mark, marks)),
        tuple(rows.delivery(r, repeat=r[4] == DeliveryState.SENDING.value) for r in undelivered),
    )
