"""`db export --format jsonl`: every raw attempt as one flat JSON object per line, for
loading into ClickHouse (`JSONEachRow`), BigQuery (`NEWLINE_DELIMITED_JSON`) or PostgreSQL.

The line schema is a public contract, versioned by `schema_version`: fields are added,
never renamed or removed, without a bump. Attempts that `db prune` rolled up are not raw
any more and are not exported.

Imported by the CLI at start-up (for `ExportFormat`): keep it light.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from typing_extensions import TypedDict

from modelaudit.clock import iso
from modelaudit.outgoing import json_text
from modelaudit.output.documents import closed

if TYPE_CHECKING:
    from datetime import datetime

EXPORT_SCHEMA_VERSION: Literal[1] = 1


class ExportFormat(StrEnum):
    JSONL = "jsonl"


class ExportedAttempt(NamedTuple):
    """One raw attempt as a store hands it over (`Maintenance.export_attempts`): the keys
    of a line after `schema_version`, in order. On a damaged database (`db check` flags
    it), an attempt whose run or model row was lost is still handed over, those fields
    None."""

    attempt_id: int
    run_id: int
    run_started_at: datetime | None
    run_status: str | None
    provider: str | None
    model: str | None
    kind: str
    attempt: int
    started_at: datetime
    error_class: str
    http_status: int | None
    latency_ms: float | None
    ttft_ms: float | None
    failed_phase: str | None
    connect_ms: float | None
    connection_reused: bool | None
    served_model: str | None
    system_fingerprint: str | None
    output_tokens: int | None
    tokens_per_s: float | None
    max_gap_ms: float | None
    retry_after_s: float | None
    ratelimit: dict[str, str]
    detail: str
    region: str = ""
    """The region of the agent that ran the attempt (added in schema_version 1, last)."""
    agent: str = ""


FIELDS = ("schema_version", *ExportedAttempt._fields)
"""The keys of every line, in order (the README documents each one)."""


@closed
class ExportLine(TypedDict):
    """One line of `db export`: an `ExportedAttempt`, its times written as text (built
    from the tuple's fields in `jsonl_line`; `tests/test_schemas.py` holds the two
    together)."""

    schema_version: Literal[1]
    attempt_id: int
    run_id: int
    run_started_at: str | None
    run_status: str | None
    provider: str | None
    model: str | None
    kind: str
    attempt: int
    started_at: str
    error_class: str
    http_status: int | None
    latency_ms: float | None
    ttft_ms: float | None
    failed_phase: str | None
    connect_ms: float | None
    connection_reused: bool | None
    served_model: str | None
    system_fingerprint: str | None
    output_tokens: int | None
    tokens_per_s: float | None
    max_gap_ms: float | None
    retry_after_s: float | None
    ratelimit: dict[str, str]
    detail: str
    region: str
    agent: str


def jsonl_line(attempt: ExportedAttempt) -> str:
    """The attempt as one JSON line, its strings redacted (`outgoing.json_text`)."""
    line: dict[str, Any] = {"schema_version": EXPORT_SCHEMA_VERSION, **attempt._asdict()}
    line["run_started_at"] = iso(attempt.run_started_at)
    line["started_at"] = iso(attempt.started_at)
    return json_text(line, ensure_ascii=False)


def orphaned(attempt: ExportedAttempt) -> bool:
    """Its run or its model row was lost (a damaged database)."""
    return attempt.run_started_at is None or attempt.provider is None
