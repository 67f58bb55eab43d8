"""The small reads of the commands (`RunLog`): recent runs, one model's runs (`modelaudit
history`), a provider's last catalog."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING

from modelaudit.errors import UsageError
from modelaudit.store.base import CatalogSnapshot, ModelRun, ProbeOutcome, RunSummary
from modelaudit.store.sqlite.db import from_ms
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict

if TYPE_CHECKING:
    import sqlite3


def _regions(regions: frozenset[str]) -> str | None:
    """`regions` bound as a JSON array, or None for every region."""
    return json.dumps(sorted(regions)) if regions else None


def recent_runs(
    conn: sqlite3.Connection, limit: int, regions: frozenset[str] = frozenset()
) -> list[RunSummary]:
    rows = conn.execute(
        "SELECT id, started_ms, finished_ms, status, tool_version, registry_sha256, attempts,"
        " requests_sent, notes, region, agent FROM run WHERE :regions IS NULL"
        " OR region IN (SELECT value FROM json_each(:regions))"
        " ORDER BY started_ms DESC, id DESC LIMIT :limit",
        {"regions": _regions(regions), "limit": limit},
    ).fetchall()
    counts: dict[int, Counter[Verdict]] = {row[0]: Counter() for row in rows}
    for run_id, verdict, n in conn.execute(
        "SELECT run_id, verdict, count(*) FROM verdict WHERE run_id IN"
        " (SELECT value FROM json_each(?)) GROUP BY 1, 2",
        (json.dumps(list(counts)),),
    ):
        counts[run_id][Verdict(verdict)] = n
    return [
        RunSummary(
            id=run_id,
            started_at=from_ms(started),
            finished_at=from_ms(finished) if finished is not None else None,
            status=RunStatus(status),
            tool_version=tool_version,
            registry_sha256=sha,
            attempts=attempts,
            requests_sent=requests,
            verdicts=dict(counts[run_id]),
            notes=tuple(json.loads(notes)) if notes else (),
            region=region,
            agent=agent,
        )
        for run_id, started, finished, status, tool_version, sha, attempts, requests, notes, region, agent in rows  # noqa: E501
    ]


def find_target(conn: sqlite3.Connection, ref: str) -> tuple[int, str, str]:
    """`provider/model` or a model id that only one provider has: (id, provider, model)."""
    rows = conn.execute(
        "SELECT id, provider, model FROM target WHERE provider || '/' || model = ?"
        " UNION SELECT id, provider, model FROM target WHERE model = ?",
        (ref, ref),
    ).fetchall()
    exact = [r for r in rows if f"{r[1]}/{r[2]}" == ref]
    if exact:
        rows = exact
    if not rows:
        raise UsageError(f"--model {ref}: no such model in the history database")
    if len(rows) > 1:
        choices = ", ".join(f"{p}/{m}" for _, p, m in rows)
        raise UsageError(f"--model {ref} is ambiguous: say which one ({choices})")
    target_id, provider, model = rows[0]
    return int(target_id), str(provider), str(model)


# (Joined into SQL below: a constant, never a value; hence their `noqa: S608`.)
_IN_RUN = (
    "a.started_ms BETWEEN r.started_ms AND coalesce(r.last_attempt_ms, r.finished_ms)"
    " AND +a.run_id = r.id"
)
"""An attempt of run `r`, found along the time index within the run's span (every
attempt of a run starts inside it)."""


def model_runs(
    conn: sqlite3.Connection, target_id: int, limit: int, regions: frozenset[str] = frozenset()
) -> list[ModelRun]:
    """The model's last `limit` runs, newest first, with each probe's final attempt."""
    # The model's runs: those with its verdict, and those that ended without any verdict
    # (killed) in whose span it has an attempt; newest first, so LIMIT stops the walk.
    runs = conn.execute(
        "SELECT r.id, r.started_ms, r.status, v.verdict, v.reason, r.region FROM run r"  # noqa: S608
        " LEFT JOIN verdict v ON v.run_id = r.id AND v.target_id = :target"
        " WHERE (v.run_id IS NOT NULL OR (NOT EXISTS (SELECT 1 FROM verdict w"
        "  WHERE w.run_id = r.id) AND EXISTS (SELECT 1 FROM attempt a"
        f"  WHERE {_IN_RUN} AND a.target_id = :target)))"
        " AND (:regions IS NULL OR r.region IN (SELECT value FROM json_each(:regions)))"
        " ORDER BY r.started_ms DESC, r.id DESC LIMIT :limit",
        {"target": target_id, "limit": limit, "regions": _regions(regions)},
    ).fetchall()
    probes = _final_attempts(conn, target_id, [row[0] for row in runs])
    return [
        ModelRun(
            run_id=run_id,
            started_at=from_ms(started),
            run_status=RunStatus(status),
            verdict=Verdict(verdict) if verdict else None,
            reason=reason,
            probes=tuple(sorted(probes.get(run_id, {}).values(), key=_kind_order)),
            region=region,
        )
        for run_id, started, status, verdict, reason, region in runs
    ]


def _final_attempts(
    conn: sqlite3.Connection, target_id: int, run_ids: list[int]
) -> dict[int, dict[str, ProbeOutcome]]:
    rows = conn.execute(
        "SELECT a.run_id, a.kind, a.error_class, a.number, a.http_status, a.latency_ms,"  # noqa: S608
        f" a.ttft_ms FROM run r CROSS JOIN attempt a ON {_IN_RUN} AND a.target_id = ?"
        " WHERE r.id IN (SELECT value FROM json_each(?)) ORDER BY a.run_id, a.kind, a.number",
        (target_id, json.dumps(run_ids)),
    )
    final: dict[int, dict[str, ProbeOutcome]] = {}
    for run_id, kind, error_class, number, status, latency, ttft in rows:
        final.setdefault(run_id, {})[kind] = ProbeOutcome(
            ProbeKind(kind), ErrorClass(error_class), number, status, latency, ttft
        )
    return final


def _kind_order(probe: ProbeOutcome) -> int:
    return list(ProbeKind).index(probe.kind)


def latest_catalog(
    conn: sqlite3.Connection, provider: str, before_ms: int | None
) -> CatalogSnapshot | None:
    row = conn.execute(
        "SELECT s.run_id, s.taken_ms, c.ids FROM catalog_snapshot s"
        " JOIN catalog_set c ON c.id = s.set_id WHERE s.provider = ? AND s.taken_ms < ?"
        " ORDER BY s.taken_ms DESC LIMIT 1",
        (provider, before_ms if before_ms is not None else 2**62),
    ).fetchone()
    if row is None:
        return None
    run_id, taken, ids = row
    return CatalogSnapshot(provider, int(run_id), from_ms(taken), frozenset(json.loads(ids)))
