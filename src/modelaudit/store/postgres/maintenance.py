"""`db check`, `db prune` and `db export` on PostgreSQL."""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

from modelaudit.store.base import CheckReport, PruneResult
from modelaudit.store.export import ExportedAttempt
from modelaudit.store.postgres import db, sums
from modelaudit.store.postgres.migrations import LATEST, schema_version
from modelaudit.store.postgres.store import ATTEMPT_TEXTS, from_ms, ms, stored_rate

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime, timedelta

    from modelaudit.store.postgres.store import PostgresStore

TABLES = (
    "run",
    "attempt",
    "verdict",
    "target",
    "target_region",
    "target_state",
    "incident",
    "string",
    "attempt_extra",
    "label",
    "catalog_set",
    "catalog_snapshot",
    "target_fingerprint",
    "change_event",
    "daily",
    "daily_closed",
    "rollup",
    "store_meta",
    "schema_migration",
)
_ORPHANS = (
    (
        "attempt",
        "run",
        "SELECT count(*) FROM attempt a LEFT JOIN run r ON r.id = a.run_id WHERE r.id IS NULL",
    ),
    (
        "attempt",
        "attempt_extra",
        "SELECT count(*) FROM attempt a LEFT JOIN attempt_extra x ON x.id = a.extra_id"
        " WHERE a.extra_id IS NOT NULL AND x.id IS NULL",
    ),
    (
        "verdict",
        "string",
        "SELECT count(*) FROM verdict v LEFT JOIN string s"
        " ON s.id = v.reason_id WHERE s.id IS NULL",
    ),
    (
        "daily",
        "label",
        "SELECT count(*) FROM daily d LEFT JOIN label l ON l.id = d.region_id"
        " WHERE d.region_id <> 0 AND l.id IS NULL",
    ),
)


def check(store: PostgresStore) -> CheckReport:
    """Schema version, the references the schema cannot enforce, counts and size. (The
    server keeps its own pages whole: `amcheck` is the DBA's tool for that.)"""
    with store.pool.connection() as conn:
        version = schema_version(conn) or 0
        problems = [] if version == LATEST else [f"schema version {version}, expected {LATEST}"]
        for table, parent, sql in _ORPHANS:
            row = conn.execute(sql).fetchone()
            if row and row[0]:
                problems.append(f"{row[0]} row(s) of {table} point to a missing {parent} row")
        counts: dict[str, int] = {}
        if not problems:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM run), (SELECT count(*) FROM attempt),"
                " (SELECT count(*) FROM verdict), (SELECT count(*) FROM target),"
                " (SELECT count(*) FROM catalog_snapshot), (SELECT count(*) FROM rollup)"
            ).fetchone()
            names = ("runs", "attempts", "verdicts", "models", "catalog_snapshots", "rollups")
            counts = dict(zip(names, map(int, row or ()), strict=True))
        size = conn.execute(
            "SELECT sum(pg_total_relation_size(to_regclass(t))) FROM unnest(%s::text[]) AS t",
            (list(TABLES),),
        ).fetchone()
    return CheckReport(version, tuple(problems), counts, int(size[0] or 0) if size else 0)


def prune(store: PostgresStore, older_than: timedelta, now: datetime) -> PruneResult:
    """Roll attempts older than the cutoff up into hourly `rollup` rows, an hour per
    transaction (an interrupted prune leaves whole hours done)."""
    cutoff = ms(now - older_than)
    cutoff -= cutoff % sums.HOUR_MS
    attempts = hours = 0
    while True:
        with store.pool.connection() as conn:
            row = conn.execute("SELECT min(started_ms) FROM attempt").fetchone()
        oldest = row[0] if row else None
        if oldest is None or oldest >= cutoff:
            break
        hour = oldest - oldest % sums.HOUR_MS
        done, written = db.write(store.pool, functools.partial(_roll_up, store, hour))
        attempts, hours = attempts + done, hours + written
    return PruneResult(from_ms(cutoff), attempts, hours)


def _roll_up(store: PostgresStore, hour: int, conn: Any) -> tuple[int, int]:
    rows = conn.execute(
        "DELETE FROM attempt a USING run r WHERE r.id = a.run_id"
        " AND a.started_ms >= %s AND a.started_ms < %s RETURNING a.target_id, r.region_id,"
        " a.kind, a.error_class, a.started_ms, modelaudit_ms(a.latency_us),"
        " modelaudit_ms(a.ttft_us),"
        " r.status = 'inconclusive'",
        (hour, hour + sums.HOUR_MS),
    ).fetchall()
    word = store.labels.words
    store.labels.load(conn)
    grouped: dict[sums.Key, sums.Sum] = {}
    for inconclusive in (False, True):
        samples = [
            sums.Sample(t, region, word[k], word[c], c, s, lat, ttft)
            for t, region, k, c, s, lat, ttft, flag in rows
            if flag is inconclusive
        ]
        grouped.update(sums.grouped(samples, sums.HOUR_MS, inconclusive=inconclusive))
    sums.add(conn, "rollup", grouped)
    return len(rows), len(grouped)


def export_attempts(store: PostgresStore, since_ms: int | None) -> Iterator[ExportedAttempt]:
    """Every raw attempt, oldest first, in one snapshot (REPEATABLE READ), streamed through
    a server-side cursor."""
    word = store.labels.words
    with store.pool.connection() as conn:
        store.labels.load(conn)
    with store.pool.connection() as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with conn.cursor(name="modelaudit_export") as cursor:
            cursor.execute(
                "SELECT a.id, a.run_id, r.started_ms, r.status, t.provider, t.model, a.kind,"  # noqa: S608 - constants only
                " a.number, a.started_ms, a.error_class, a.http_status,"
                " modelaudit_ms(a.latency_us), modelaudit_ms(a.ttft_us), a.failed_phase,"
                " modelaudit_ms(a.connect_us), a.connection_reused, sm.value, fp.value,"
                " a.output_tokens, a.tokens_per_s, modelaudit_ms(a.max_gap_us), a.retry_after_s,"
                " rl.value, d.value, r.region_id, r.agent"
                " FROM attempt a JOIN run r ON r.id = a.run_id JOIN target t ON t.id = a.target_id"
                f"{ATTEMPT_TEXTS}"
                " WHERE a.started_ms >= %s ORDER BY a.started_ms, a.id",
                (since_ms if since_ms is not None else -(2**62),),
            )
            for row in cursor:
                values = list(row)
                values[2] = from_ms(values[2])
                values[6] = word[values[6]]
                values[8] = from_ms(values[8])
                values[9] = word[values[9]]
                values[13] = word[values[13]] if values[13] is not None else None
                values[19] = stored_rate(values[19])
                values[22] = json.loads(values[22]) if values[22] else {}
                values[23] = values[23] or ""
                values[24] = word[values[24]]
                yield ExportedAttempt._make(values)
