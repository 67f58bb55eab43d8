"""Alerting's memory in PostgreSQL (`AlertLog` of `modelaudit.store.base`): the tables of
migration 2, laid out as `store.alert_rows` says. An evaluation holds a transaction-scoped
advisory lock, so agents evaluating at once take turns (as SQLite's write lock makes them);
claims lock their rows and skip those another agent is claiming."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelaudit.alerts.state import AlertOverview, AlertSnapshot, DeliveryState
from modelaudit.redact import redact
from modelaudit.store import alert_rows as rows
from modelaudit.store.postgres import db

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import psycopg
    from psycopg_pool import ConnectionPool

    from modelaudit.alerts.state import AlertUpdate, Delivery

ALERT_LOCK = 0x6D61_7564_0000_0003
"""The advisory lock an evaluation holds ("maud" and 3)."""

# SQL naming `alert_rows` column lists carries `noqa: S608`: values are always bound.


def update(
    pool: ConnectionPool[Any], scope: str, decide: Callable[[AlertSnapshot], AlertUpdate]
) -> AlertUpdate:
    def action(conn: psycopg.Connection[Any]) -> AlertUpdate:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (ALERT_LOCK,))
        decided = decide(_snapshot(conn, scope))
        _write(conn, decided)
        return decided

    return db.write(pool, action)


def _snapshot(conn: psycopg.Connection[Any], scope: str) -> AlertSnapshot:
    row = conn.execute("SELECT run_id FROM alert_watermark WHERE scope = %s", (scope,)).fetchone()
    trackers = conn.execute(
        f"SELECT {rows.TRACKER_COLUMNS} FROM alert_tracker WHERE scope = %s",  # noqa: S608
        (scope,),
    ).fetchall()
    marks = conn.execute(f"SELECT {rows.MARK_COLUMNS} FROM alert_mark").fetchall()  # noqa: S608
    return AlertSnapshot(
        watermark=int(row[0]) if row else 0,
        trackers={t.key: t for t in map(rows.tracker, trackers)},
        marks={m.key: m for m in map(rows.mark, marks)},
    )


def _write(conn: psycopg.Connection[Any], decided: AlertUpdate) -> None:
    if decided.watermark is not None:
        conn.execute(
            "INSERT INTO alert_watermark VALUES (%s, %s) ON CONFLICT (scope) DO UPDATE"
            " SET run_id = greatest(alert_watermark.run_id, excluded.run_id)",
            (decided.scope, decided.watermark),
        )
    with conn.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO alert_tracker ({rows.TRACKER_COLUMNS})"  # noqa: S608
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (scope, provider, model) DO UPDATE SET confirmed = excluded.confirmed,"
            " confirmed_ms = excluded.confirmed_ms, last = excluded.last,"
            " last_runs = excluded.last_runs, last_ms = excluded.last_ms,"
            " bad_runs = excluded.bad_runs, bad_ms = excluded.bad_ms,"
            " good_runs = excluded.good_runs, reason = excluded.reason",
            list(map(rows.tracker_row, decided.trackers)),
        )
        cursor.executemany(
            "DELETE FROM alert_mark WHERE route = %s AND kind = %s AND provider = %s"
            " AND model = %s AND scope = %s",
            list(map(rows.mark_key_row, decided.cleared)),
        )
        cursor.executemany(
            f"INSERT INTO alert_mark ({rows.MARK_COLUMNS})"  # noqa: S608
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (route, kind, provider, model, scope) DO UPDATE"
            " SET told = excluded.told, since_ms = excluded.since_ms, sent_ms = excluded.sent_ms",
            list(map(rows.mark_row, decided.marks)),
        )
        cursor.executemany(
            "INSERT INTO alert_delivery (route, target, notice, state, created_ms)"
            " VALUES (%s, %s, %s, 'pending', %s)",
            [
                (d.route, d.target, redact(d.notice.to_json()), _ms(d.notice.created_at))
                for d in decided.deliveries
            ],
        )


def claim(pool: ConnectionPool[Any], limit: int, now: datetime) -> list[Delivery]:
    def action(conn: psycopg.Connection[Any]) -> list[Delivery]:
        # Only the rows this claim may take are locked (another agent skips them and
        # takes the next ones): the oldest pending ones, and every one being sent, whose
        # claimer may have died.
        locked = [
            conn.execute(
                f"SELECT {rows.CLAIM_COLUMNS} FROM alert_delivery WHERE state = %s"  # noqa: S608
                " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                (state, size),
            ).fetchall()
            for state, size in (("sending", None), ("pending", limit))
        ]
        open_rows = sorted(locked[0] + locked[1], key=lambda row: int(row[0]))
        chosen = rows.claimable(open_rows, limit)
        if not chosen:
            return []
        conn.execute(
            "UPDATE alert_delivery SET state = 'sending', attempts = attempts + 1,"
            " attempt_ms = %s, pid = %s, host = %s, boot_id = %s, process_start = %s"
            " WHERE id = ANY(%s)",
            (_ms(now), *rows.claimer(), list(chosen)),
        )
        claimed = conn.execute(
            f"SELECT {rows.DELIVERY_COLUMNS} FROM alert_delivery"  # noqa: S608
            " WHERE id = ANY(%s) ORDER BY id",
            (list(chosen),),
        ).fetchall()
        return [rows.delivery(row, repeat=chosen[int(row[0])]) for row in claimed]

    return db.write(pool, action)


def settle(
    pool: ConnectionPool[Any], delivery_id: int, *, sent: bool, error: str | None, at: datetime
) -> None:
    db.write(
        pool,
        lambda conn: conn.execute(
            "UPDATE alert_delivery SET state = %s, done_ms = %s, error = %s, pid = NULL,"
            " host = NULL, boot_id = NULL, process_start = NULL WHERE id = %s",
            (
                DeliveryState.SENT.value if sent else DeliveryState.PENDING.value,
                _ms(at) if sent else None,
                redact(error) if error else None,
                delivery_id,
            ),
        ),
    )


def drop(pool: ConnectionPool[Any], delivery_id: int, reason: str, at: datetime) -> None:
    db.write(
        pool,
        lambda conn: conn.execute(
            "UPDATE alert_delivery SET state = 'dropped', done_ms = %s, error = %s WHERE id = %s",
            (_ms(at), redact(reason), delivery_id),
        ),
    )


def overview(pool: ConnectionPool[Any]) -> AlertOverview:
    with pool.connection() as conn:
        marks = conn.execute(
            f"SELECT {rows.MARK_COLUMNS} FROM alert_mark"  # noqa: S608
            " ORDER BY since_ms, route, provider"
        ).fetchall()
        undelivered = conn.execute(
            f"SELECT {rows.DELIVERY_COLUMNS} FROM alert_delivery"  # noqa: S608
            " WHERE state IN ('pending', 'sending') ORDER BY id"
        ).fetchall()
    return AlertOverview(
        tuple(map(rows.mark, marks)),
        tuple(rows.delivery(r, repeat=r[4] == DeliveryState.SENDING.value) for r in undelivered),
    )


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)
