"""The rows of alerting's tables as every backend lays them out (migration 9 in SQLite,
2 in PostgreSQL), and the one rule for which deliveries a process may claim: the backends
differ only in their SQL dialect."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelaudit.alerts.state import Delivery, DeliveryState, Kind, Notice, RouteMark, Tracker
from modelaudit.redact import redact
from modelaudit.store import liveness

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from modelaudit.alerts.state import MarkKey

TRACKER_COLUMNS = (
    "provider, model, scope, confirmed, confirmed_ms, last, last_runs, last_ms, bad_runs,"
    " bad_ms, good_runs, reason"
)
MARK_COLUMNS = "route, kind, provider, model, scope, told, since_ms, sent_ms"
DELIVERY_COLUMNS = "id, route, target, notice, state, attempts, created_ms, error"
CLAIM_COLUMNS = "id, state, pid, host, boot_id, process_start"


def tracker_row(t: Tracker) -> tuple[Any, ...]:
    return (
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


def tracker(row: Any) -> Tracker:
    """A row in `TRACKER_COLUMNS` order."""
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


def mark_row(m: RouteMark) -> tuple[Any, ...]:
    return (
        m.route,
        m.kind.value,
        m.provider,
        m.model,
        m.scope,
        redact(m.told),
        _ms(m.since),
        _ms(m.sent_at),
    )


def mark_key_row(key: MarkKey) -> tuple[str, ...]:
    route, kind, provider, model, scope = key
    return (route, kind.value, provider, model, scope)


def mark(row: Any) -> RouteMark:
    """A row in `MARK_COLUMNS` order."""
    route, kind, provider, model, scope, told, since_ms, sent_ms = row
    return RouteMark(
        route, Kind(kind), provider, model, scope, told, _from_ms(since_ms), _from_ms(sent_ms)
    )


def delivery(row: Any, *, repeat: bool) -> Delivery:
    """A row in `DELIVERY_COLUMNS` order."""
    delivery_id, route, target, notice, state, attempts, created_ms, error = row
    return Delivery(
        id=int(delivery_id),
        route=route,
        target=target,
        notice=Notice.from_json(notice),
        state=DeliveryState(state),
        attempts=int(attempts),
        created_at=_from_ms(created_ms),
        last_error=error,
        repeat=repeat,
    )


def claimable(rows: Iterable[Any], limit: int) -> dict[int, bool]:
    """Of rows in `CLAIM_COLUMNS` order (pending or sending, oldest first), the ids this
    process may claim, each with whether it is a possible repeat: every pending one, and
    every sending one whose claiming process is gone."""
    me = liveness.current()
    chosen: dict[int, bool] = {}
    for delivery_id, state, pid, host, boot_id, start in rows:
        if len(chosen) >= limit:
            break
        if state == DeliveryState.PENDING.value:
            chosen[int(delivery_id)] = False
        elif liveness.is_stale(liveness.ProcessIdentity(pid, host, boot_id, start), me):
            chosen[int(delivery_id)] = True
    return chosen


def claimer() -> tuple[Any, ...]:
    me = liveness.current()
    return (me.pid, me.host, me.boot_id, me.process_start)


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else round(moment.timestamp() * 1000)


def _at(value: int | None) -> datetime | None:
    return None if value is None else _from_ms(value)


def _from_ms(value: int) -> datetime:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(value / 1000, UTC)
