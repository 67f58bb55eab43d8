"""`db export --format jsonl`: every raw attempt as one flat JSON object per line, for
loading into ClickHouse (`JSONEachRow`), BigQuery (`NEWLINE_DELIMITED_JSON`) or PostgreSQL.

The line schema is a public contract, versioned by `schema_version`: fields are added,
never renamed or removed, without a bump. Attempts that `db prune` rolled up are not raw
any more and are not exported.

Imported by the CLI at start-up (for `ExportFormat`): keep it light.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from modelaudit.outgoing import json_text
from modelaudit.probe.document import iso

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator

EXPORT_SCHEMA_VERSION = 1


class ExportFormat(StrEnum):
    JSONL = "jsonl"


FIELDS = (
    "schema_version",
    "attempt_id",
    "run_id",
    "run_started_at",
    "run_status",
    "provider",
    "model",
    "kind",
    "attempt",
    "started_at",
    "error_class",
    "http_status",
    "latency_ms",
    "ttft_ms",
    "failed_phase",
    "connect_ms",
    "connection_reused",
    "served_model",
    "system_fingerprint",
    "output_tokens",
    "tokens_per_s",
    "max_gap_ms",
    "retry_after_s",
    "ratelimit",
    "detail",
)
"""The keys of every line, in order (the README documents each one)."""


def attempt_lines(conn: sqlite3.Connection, since_ms: int | None = None) -> Iterator[str]:
    """One JSON line per raw attempt, oldest first; read in one snapshot (WAL), so a probe
    writing meanwhile is not half-exported. On a damaged database (`db check` flags it), an
    attempt whose run or model row is gone is still exported, those fields null."""
    cursor = conn.execute(
        "SELECT a.id, a.run_id, r.started_ms, r.status, t.provider, t.model, a.kind, a.number,"
        " a.started_ms, a.error_class, a.http_status, a.latency_ms, a.ttft_ms, a.failed_phase,"
        " a.connect_ms, a.connection_reused, sm.value, fp.value, a.output_tokens,"
        " a.tokens_per_s, a.max_gap_ms, a.retry_after_s, rl.value, d.value"
        " FROM attempt a LEFT JOIN run r ON r.id = a.run_id"
        " LEFT JOIN target t ON t.id = a.target_id"
        " LEFT JOIN string sm ON sm.id = a.served_model_id"
        " LEFT JOIN string fp ON fp.id = a.fingerprint_id"
        " LEFT JOIN string rl ON rl.id = a.ratelimit_id"
        " LEFT JOIN string d ON d.id = a.detail_id"
        " WHERE a.started_ms >= ? ORDER BY a.started_ms, a.id",
        (since_ms if since_ms is not None else -(2**62),),
    )
    for row in cursor:
        yield json_text(_line(row), ensure_ascii=False)


def orphaned_attempts(conn: sqlite3.Connection, since_ms: int | None = None) -> int:
    """Attempts whose run or model row the database lost (exported with those fields null)."""
    row = conn.execute(
        "SELECT count(*) FROM attempt a WHERE a.started_ms >= ?"
        " AND (NOT EXISTS (SELECT 1 FROM run r WHERE r.id = a.run_id)"
        " OR NOT EXISTS (SELECT 1 FROM target t WHERE t.id = a.target_id))",
        (since_ms if since_ms is not None else -(2**62),),
    ).fetchone()
    return int(row[0])


def _line(row: tuple[Any, ...]) -> dict[str, Any]:
    from modelaudit.store.db import from_ms

    values = list(row)
    values[2] = None if values[2] is None else iso(from_ms(values[2]))
    values[8] = iso(from_ms(values[8]))
    values[15] = None if values[15] is None else bool(values[15])
    values[22] = json.loads(values[22]) if values[22] else {}
    values[23] = values[23] or ""
    return dict(zip(FIELDS, (EXPORT_SCHEMA_VERSION, *values), strict=True))
