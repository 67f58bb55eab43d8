"""`db copy` out of SQLite: every run with what it stored (`copy_in` is the store's)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from modelaudit.probe.result import ModelVerdict
from modelaudit.store.base import CatalogSnapshot, Origin, RunIdentity, StoredRun
from modelaudit.store.rebuild import results_of
from modelaudit.store.sqlite.db import from_ms
from modelaudit.store.sqlite.export import attempts
from modelaudit.vocabulary import ErrorClass, RunStatus, Verdict

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator


def copy_out(conn: sqlite3.Connection, skip: set[RunIdentity]) -> Iterator[StoredRun]:
    runs = conn.execute(
        "SELECT id, started_ms, host, pid, boot_id, process_start, region, agent, status,"
        " finished_ms, tool_version, registry_sha256, requests_sent, notes, last_attempt_ms"
        " FROM run ORDER BY started_ms, id"
    ).fetchall()
    for row in runs:
        run_id, started, host, pid, boot, start, region, agent, status, finished = row[:10]
        identity = RunIdentity(from_ms(started), host, pid, boot, start, region)
        if identity in skip:
            continue
        verdicts = conn.execute(
            "SELECT t.provider, t.model, v.verdict, v.error_class, v.reason FROM verdict v"
            " JOIN target t ON t.id = v.target_id WHERE v.run_id = ? ORDER BY 1, 2",
            (run_id,),
        ).fetchall()
        catalogs = conn.execute(
            "SELECT s.provider, s.taken_ms, c.ids FROM catalog_snapshot s"
            " JOIN catalog_set c ON c.id = s.set_id WHERE s.run_id = ?",
            (run_id,),
        ).fetchall()
        yield StoredRun(
            identity=identity,
            origin=Origin(region, agent),
            status=RunStatus(status),
            finished_at=from_ms(finished) if finished is not None else None,
            tool_version=row[10],
            registry_sha256=row[11],
            requests_sent=row[12],
            notes=tuple(json.loads(row[13])) if row[13] else (),
            results=results_of(
                attempts(conn, started, run_id, row[14] if row[14] is not None else finished)
            ),
            verdicts=tuple(
                ModelVerdict(p, m, Verdict(v), reason, ErrorClass(c) if c else None)
                for p, m, v, c, reason in verdicts
            ),
            catalogs=tuple(
                CatalogSnapshot(p, run_id, from_ms(t), frozenset(json.loads(ids)))
                for p, t, ids in catalogs
            ),
        )
