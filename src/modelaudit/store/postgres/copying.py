"""`db copy` on PostgreSQL: every run out (`copy_out`), a run from another store in
(`copy_in`, one transaction, through the same writes as a live agent's)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from modelaudit.probe.result import ModelVerdict, RunReport
from modelaudit.store.base import CatalogSnapshot, Origin, RunIdentity, StoredRun
from modelaudit.store.postgres import closing, db
from modelaudit.store.postgres.store import (
    ATTEMPT_TEXTS,
    _insert_run,
    from_ms,
    ms,
    store_snapshot,
    stored_rate,
)
from modelaudit.store.rebuild import results_of
from modelaudit.vocabulary import ErrorClass, RunStatus, Verdict

if TYPE_CHECKING:
    from collections.abc import Iterator

    import psycopg

    from modelaudit.store.postgres.store import PostgresStore


def run_identities(store: PostgresStore) -> set[RunIdentity]:
    with store.pool.connection() as conn:
        store.labels.load(conn)
        rows = conn.execute(
            "SELECT started_ms, host, pid, boot_id, process_start, region_id FROM run"
        ).fetchall()
    word = store.labels.words
    return {RunIdentity(from_ms(s), h, p, b, ps, word[r]) for s, h, p, b, ps, r in rows}


def copy_out(store: PostgresStore, skip: set[RunIdentity]) -> Iterator[StoredRun]:
    from modelaudit.store.export import ExportedAttempt

    with store.pool.connection() as conn:
        store.labels.load(conn)
        word = store.labels.words
        runs = conn.execute(
            "SELECT id, started_ms, host, pid, boot_id, process_start, region_id, agent, status,"
            " finished_ms, tool_version, registry_sha256, requests_sent, notes, last_attempt_ms"
            " FROM run ORDER BY started_ms, id"
        ).fetchall()
        for row in runs:
            run_id, started, host, pid, boot, pstart, region, agent, status, finished = row[:10]
            identity = RunIdentity(from_ms(started), host, pid, boot, pstart, word[region])
            if identity in skip:
                continue
            attempts = conn.execute(
                "SELECT a.id, a.run_id, 0, '', t.provider, t.model, a.kind, a.number,"  # noqa: S608 - constants only
                " a.started_ms, a.error_class, a.http_status, modelaudit_ms(a.latency_us),"
                " modelaudit_ms(a.ttft_us), a.failed_phase, modelaudit_ms(a.connect_us),"
                " a.connection_reused, sm.value, fp.value, a.output_tokens, a.tokens_per_s,"
                " modelaudit_ms(a.max_gap_us), a.retry_after_s, rl.value,"
                " d.value FROM attempt a JOIN target t ON t.id = a.target_id"
                f"{ATTEMPT_TEXTS}"
                " WHERE a.run_id = %s AND a.started_ms BETWEEN %s AND %s"
                " ORDER BY a.started_ms, a.id",
                (run_id, started, row[14] if row[14] is not None else finished or 2**62),
            ).fetchall()
            exported = []
            for values in map(list, attempts):
                values[2] = from_ms(started)
                values[6] = word[values[6]]
                values[8] = from_ms(values[8])
                values[9] = word[values[9]]
                values[13] = word[values[13]] if values[13] is not None else None
                values[19] = stored_rate(values[19])
                values[22] = json.loads(values[22]) if values[22] else {}
                values[23] = values[23] or ""
                exported.append(ExportedAttempt._make([*values, word[region], agent]))
            verdicts = conn.execute(
                "SELECT t.provider, t.model, v.verdict, v.error_class, s.value FROM verdict v"
                " JOIN target t ON t.id = v.target_id JOIN string s ON s.id = v.reason_id"
                " WHERE v.run_id = %s ORDER BY t.provider, t.model",
                (run_id,),
            ).fetchall()
            catalogs = conn.execute(
                "SELECT s.provider, s.taken_ms, c.ids FROM catalog_snapshot s"
                " JOIN catalog_set c ON c.id = s.set_id WHERE s.run_id = %s",
                (run_id,),
            ).fetchall()
            yield StoredRun(
                identity=identity,
                origin=Origin(word[region], agent),
                status=RunStatus(status),
                finished_at=from_ms(finished) if finished is not None else None,
                tool_version=row[10],
                registry_sha256=row[11],
                requests_sent=row[12],
                notes=tuple(json.loads(row[13])) if row[13] else (),
                results=results_of(exported),
                verdicts=tuple(
                    ModelVerdict(p, m, Verdict(word[v]), reason, ErrorClass(word[c]) if c else None)
                    for p, m, v, c, reason in verdicts
                ),
                catalogs=tuple(
                    CatalogSnapshot(p, run_id, from_ms(t), frozenset(json.loads(ids)))
                    for p, t, ids in catalogs
                ),
            )


def copy_in(store: PostgresStore, run: StoredRun) -> bool:
    """One transaction: the run (unless its identity is here), its attempts, snapshots,
    verdicts and what they make of the sums and incidents."""
    batch = store._prepare(run.results, run.verdicts)
    region_id = store.label(run.origin.region)

    def action(conn: psycopg.Connection[Any]) -> bool:
        me = run.identity
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_identity_lock(me),))
        there = conn.execute(
            "SELECT 1 FROM run WHERE started_ms = %s AND host = %s AND pid = %s"
            " AND boot_id IS NOT DISTINCT FROM %s AND process_start IS NOT DISTINCT FROM %s"
            " AND region_id = %s",
            (ms(me.started_at), me.host, me.pid, me.boot_id, me.process_start, region_id),
        ).fetchone()
        if there:
            return False
        run_id = _insert_run(
            conn,
            (
                ms(me.started_at),
                None,
                RunStatus.RUNNING.value,
                run.tool_version,
                run.registry_sha256,
                me.pid,
                me.host,
                me.boot_id,
                me.process_start,
                None,
                None,
                region_id,
                run.origin.agent,
            ),
        )
        inconclusive = run.status is RunStatus.INCONCLUSIVE
        if run.results:
            store._write_results(conn, run_id, region_id, inconclusive, list(run.results), batch)
        for snapshot in run.catalogs:
            store_snapshot(conn, run_id, snapshot.provider, ms(snapshot.taken_at), snapshot.ids)
        if run.status is RunStatus.RUNNING or run.finished_at is None:
            return True
        if inconclusive:
            conn.execute("UPDATE run SET status = 'inconclusive' WHERE id = %s", (run_id,))
        report = RunReport(
            started_at=me.started_at,
            finished_at=run.finished_at,
            status=run.status,
            results=(),
            verdicts=run.verdicts,
            requests_sent=run.requests_sent or 0,
            notes=run.notes,
        )
        store._write_finish(conn, run_id, report, batch)
        conn.execute("UPDATE run SET requests_sent = %s WHERE id = %s", (run.requests_sent, run_id))
        return True

    copied = db.write(store.pool, action)
    if copied and run.finished_at is not None:
        closing.close_days(store.pool)
    return copied


def _identity_lock(identity: RunIdentity) -> int:
    import hashlib

    text = f"{identity.started_at.isoformat()}\0{identity.host}\0{identity.pid}"
    return int.from_bytes(
        hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True
    )
