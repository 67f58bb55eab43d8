"""The raw attempts for `db export`, as `ExportedAttempt`s (the line format is the store's
contract, in `modelaudit.store.export`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from modelaudit.store.export import ExportedAttempt
from modelaudit.store.sqlite.db import from_ms

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator


def attempts(
    conn: sqlite3.Connection,
    since_ms: int | None = None,
    run_id: int | None = None,
    until_ms: int | None = None,
) -> Iterator[ExportedAttempt]:
    """Every raw attempt (of one run), oldest first; read in one snapshot (WAL), so a
    probe writing meanwhile is not half-exported. An attempt whose run or model row a
    damaged database lost is exported too, those fields None."""
    cursor = conn.execute(
        "SELECT a.id, a.run_id, r.started_ms, r.status, t.provider, t.model, a.kind, a.number,"
        " a.started_ms, a.error_class, a.http_status, a.latency_ms, a.ttft_ms, a.failed_phase,"
        " a.connect_ms, a.connection_reused, sm.value, fp.value, a.output_tokens,"
        " a.tokens_per_s, a.max_gap_ms, a.retry_after_s, rl.value, d.value, r.region, r.agent"
        " FROM attempt a LEFT JOIN run r ON r.id = a.run_id"
        " LEFT JOIN target t ON t.id = a.target_id"
        " LEFT JOIN string sm ON sm.id = a.served_model_id"
        " LEFT JOIN string fp ON fp.id = a.fingerprint_id"
        " LEFT JOIN string rl ON rl.id = a.ratelimit_id"
        " LEFT JOIN string d ON d.id = a.detail_id"
        " WHERE a.started_ms >= ? AND a.started_ms <= ? AND (? IS NULL OR +a.run_id = ?)"
        " ORDER BY a.started_ms, a.id",
        (
            since_ms if since_ms is not None else -(2**62),
            until_ms if until_ms is not None else 2**62,
            run_id,
            run_id,
        ),
    )
    for row in cursor:
        values = list(row)
        values[2] = None if values[2] is None else from_ms(values[2])
        values[8] = from_ms(values[8])
        values[15] = None if values[15] is None else bool(values[15])
        values[22] = json.loads(values[22]) if values[22] else {}
        values[23] = values[23] or ""
        values[24:26] = [values[24] or "", values[25] or ""]  # a lost run: no region known
        yield ExportedAttempt._make(values)
