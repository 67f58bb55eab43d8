"""The small reads of the commands on PostgreSQL (`RunLog`): recent runs and one model's
runs (`modelaudit history`)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from modelaudit.store.base import ModelRun, ProbeOutcome, RunSummary
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict

if TYPE_CHECKING:
    import psycopg

    from modelaudit.store.postgres.labels import Labels

RUN_PAGE = 200
"""Runs looked at per query while looking for a model's last runs."""


def _at(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def recent_runs(
    conn: psycopg.Connection[Any], labels: Labels, limit: int, regions: list[int] | None
) -> list[RunSummary]:
    rows = conn.execute(
        "SELECT id, started_ms, finished_ms, status, tool_version, registry_sha256, attempts,"
        " requests_sent, notes, region_id, agent FROM run"
        " WHERE %(all)s OR region_id = ANY(%(regions)s)"
        " ORDER BY started_ms DESC, id DESC LIMIT %(limit)s",
        {"all": regions is None, "regions": regions or [], "limit": limit},
    ).fetchall()
    counts: dict[int, Counter[Verdict]] = {row[0]: Counter() for row in rows}
    for run_id, verdict, n in conn.execute(
        "SELECT run_id, verdict, count(*) FROM verdict WHERE run_id = ANY(%s) GROUP BY 1, 2",
        (list(counts),),
    ):
        counts[run_id][Verdict(labels.word(verdict, conn))] = n
    return [
        RunSummary(
            id=run_id,
            started_at=_at(started),
            finished_at=_at(finished) if finished is not None else None,
            status=RunStatus(status),
            tool_version=tool_version,
            registry_sha256=sha,
            attempts=attempts,
            requests_sent=requests,
            verdicts=dict(counts[run_id]),
            notes=tuple(json.loads(notes)) if notes else (),
            region=labels.word(region, conn),
            agent=agent,
        )
        for run_id, started, finished, status, tool_version, sha, attempts, requests, notes, region, agent in rows  # noqa: E501
    ]


def model_runs(
    conn: psycopg.Connection[Any],
    labels: Labels,
    target_id: int,
    limit: int,
    regions: list[int] | None,
) -> list[ModelRun]:
    """The model's last `limit` runs, newest first: runs that judged it (a verdict), and
    runs cut short after probing it (attempts in the run's span), looked for a page of runs
    at a time from the newest."""
    found: list[tuple[Any, ...]] = []
    before = (2**62, 2**31)
    while len(found) < limit:
        page = conn.execute(
            "SELECT id, started_ms, status, last_attempt_ms, finished_ms, region_id FROM run"
            " WHERE (started_ms, id) < (%(ms)s, %(id)s)"
            " AND (%(all)s OR region_id = ANY(%(regions)s))"
            " ORDER BY started_ms DESC, id DESC LIMIT %(page)s",
            {
                "ms": before[0],
                "id": before[1],
                "all": regions is None,
                "regions": regions or [],
                "page": RUN_PAGE,
            },
        ).fetchall()
        if not page:
            break
        probed = _probed(conn, target_id, page)
        found += [row for row in page if row[0] in probed]
        before = (page[-1][1], page[-1][0])
    found = found[:limit]
    verdicts = {
        row[0]: (labels.word(row[1], conn), row[2])
        for row in conn.execute(
            "SELECT v.run_id, v.verdict, s.value FROM verdict v JOIN string s ON s.id = v.reason_id"
            " WHERE v.target_id = %s AND v.run_id = ANY(%s)",
            (target_id, [row[0] for row in found]),
        )
    }
    probes = _final_attempts(conn, labels, target_id, found)
    return [
        ModelRun(
            run_id=run_id,
            started_at=_at(started),
            run_status=RunStatus(status),
            verdict=Verdict(verdicts[run_id][0]) if run_id in verdicts else None,
            reason=verdicts[run_id][1] if run_id in verdicts else None,
            probes=tuple(
                sorted(probes.get(run_id, {}).values(), key=lambda p: list(ProbeKind).index(p.kind))
            ),
            region=labels.word(region, conn),
        )
        for run_id, started, status, _, _, region in found
    ]


def _probed(conn: psycopg.Connection[Any], target_id: int, page: list[tuple[Any, ...]]) -> set[int]:
    ids = [row[0] for row in page]
    judged = {
        row[0]
        for row in conn.execute(
            "SELECT run_id FROM verdict WHERE target_id = %s AND run_id = ANY(%s)",
            (target_id, ids),
        )
    }
    unjudged = [row for row in page if row[0] not in judged and row[2] != "complete"]
    for run_id, started, _, last, finished, _ in unjudged:
        hit = conn.execute(
            "SELECT 1 FROM attempt WHERE run_id = %s AND target_id = %s"
            " AND started_ms BETWEEN %s AND %s LIMIT 1",
            (run_id, target_id, started, last or finished or 2**62),
        ).fetchone()
        if hit:
            judged.add(run_id)
    return judged


def _final_attempts(
    conn: psycopg.Connection[Any], labels: Labels, target_id: int, runs: list[tuple[Any, ...]]
) -> dict[int, dict[str, ProbeOutcome]]:
    final: dict[int, dict[str, ProbeOutcome]] = {}
    for run_id, started, _, last, finished, _ in runs:
        rows = conn.execute(
            "SELECT kind, error_class, number, http_status, modelaudit_ms(latency_us),"
            " modelaudit_ms(ttft_us) FROM attempt"
            " WHERE run_id = %s AND target_id = %s AND started_ms BETWEEN %s AND %s"
            " ORDER BY kind, number",
            (run_id, target_id, started, last or finished or 2**62),
        )
        for kind, error_class, number, status, latency, ttft in rows:
            word = labels.word(kind, conn)
            final.setdefault(run_id, {})[word] = ProbeOutcome(
                ProbeKind(word),
                ErrorClass(labels.word(error_class, conn)),
                number,
                status,
                latency,
                ttft,
            )
    return final
