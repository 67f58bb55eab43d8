"""The schema, as an ordered list of migrations: `MIGRATIONS[n]` takes a database from
version n to n + 1 (`PRAGMA user_version`). Never edit a released migration; append one.
A migration calls no code that may change later: what migrations 4-6 derive from older rows
is frozen in `backfills`.

`migrate` applies every missing step in ONE write transaction and re-reads the version
under the write lock, so when several processes open a new database at once exactly one
of them migrates and the others find the work done. Each step is logged in
`schema_migration` (which is how a test proves it ran once).

Times are integer milliseconds since the Unix epoch (UTC). Enumerations are stored as
their public string values (`vocabulary.py`). Strings that repeat (details, served model
ids, fingerprints, rate-limit ceilings) are stored once in `string` and referenced.

The attempt indexes are ordered the way the report reads. `attempt_summary` (per model,
kind and error class, then time) gives a month's counts as one ordered scan with no sort,
and first/last times as seeks. `attempt_latency` and `attempt_ttft` hold each model's
completion latencies and stream TTFTs in order, so a percentile is found by counting along
an index (`LIMIT 1 OFFSET k`) instead of sorting, and no sample leaves SQLite (`kind`
is in them only so that they cover the queries: SQLite does not take it from the WHERE).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from modelaudit import __version__
from modelaudit.errors import StoreError
from modelaudit.store.sqlite import backfills
from modelaudit.store.sqlite.db import APPLICATION_ID, check_ours, transaction

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable


def _v1_runs_and_attempts(conn: sqlite3.Connection) -> None:
    _execute_all(
        conn,
        """
        CREATE TABLE schema_migration (
            version INTEGER PRIMARY KEY,
            applied_ms INTEGER NOT NULL,
            tool_version TEXT NOT NULL,
            pid INTEGER NOT NULL
        );
        CREATE TABLE run (
            id INTEGER PRIMARY KEY,
            started_ms INTEGER NOT NULL,
            finished_ms INTEGER,
            status TEXT NOT NULL
                CHECK (status IN ('running', 'complete', 'interrupted', 'inconclusive')),
            tool_version TEXT NOT NULL,
            registry_sha256 TEXT,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            boot_id TEXT,
            process_start TEXT,
            requests_sent INTEGER,
            notes TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_attempt_ms INTEGER
        );
        CREATE INDEX run_started ON run (started_ms);
        CREATE INDEX run_running ON run (status) WHERE status = 'running';
        CREATE TABLE target (
            id INTEGER PRIMARY KEY,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            first_seen_ms INTEGER,
            last_seen_ms INTEGER,
            last_ok_ms INTEGER,
            UNIQUE (provider, model)
        );
        CREATE TABLE string (
            id INTEGER PRIMARY KEY,
            value TEXT NOT NULL UNIQUE
        );
        CREATE TABLE attempt (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES run (id),
            target_id INTEGER NOT NULL REFERENCES target (id),
            kind TEXT NOT NULL,
            number INTEGER NOT NULL,
            started_ms INTEGER NOT NULL,
            error_class TEXT NOT NULL,
            http_status INTEGER,
            latency_ms REAL,
            ttft_ms REAL,
            failed_phase TEXT,
            connect_ms REAL,
            connection_reused INTEGER,
            served_model_id INTEGER REFERENCES string (id),
            fingerprint_id INTEGER REFERENCES string (id),
            output_tokens INTEGER,
            tokens_per_s REAL,
            max_gap_ms REAL,
            retry_after_s REAL,
            ratelimit_id INTEGER REFERENCES string (id),
            detail_id INTEGER REFERENCES string (id)
        );
        CREATE INDEX attempt_started ON attempt (started_ms);
        CREATE INDEX attempt_summary ON attempt (target_id, kind, error_class, started_ms);
        CREATE INDEX attempt_latency ON attempt
            (target_id, error_class, latency_ms, started_ms, kind) WHERE kind = 'completion';
        CREATE INDEX attempt_ttft ON attempt
            (target_id, error_class, ttft_ms, started_ms, kind) WHERE kind = 'stream';
        CREATE TABLE verdict (
            run_id INTEGER NOT NULL REFERENCES run (id),
            target_id INTEGER NOT NULL REFERENCES target (id),
            verdict TEXT NOT NULL,
            error_class TEXT,
            reason TEXT NOT NULL,
            PRIMARY KEY (run_id, target_id)
        ) WITHOUT ROWID;
        CREATE INDEX verdict_target ON verdict (target_id, run_id);
        """,
    )


def _v2_catalog_snapshots(conn: sqlite3.Connection) -> None:
    _execute_all(
        conn,
        """
        CREATE TABLE catalog_set (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            ids TEXT NOT NULL
        );
        CREATE TABLE catalog_snapshot (
            run_id INTEGER NOT NULL REFERENCES run (id),
            provider TEXT NOT NULL,
            taken_ms INTEGER NOT NULL,
            set_id INTEGER NOT NULL REFERENCES catalog_set (id),
            PRIMARY KEY (run_id, provider)
        ) WITHOUT ROWID;
        CREATE INDEX catalog_snapshot_provider ON catalog_snapshot (provider, taken_ms);
        """,
    )


def _v3_hourly_rollups(conn: sqlite3.Connection) -> None:
    _execute_all(
        conn,
        """
        CREATE TABLE rollup (
            target_id INTEGER NOT NULL REFERENCES target (id),
            hour_ms INTEGER NOT NULL,
            kind TEXT NOT NULL,
            error_class TEXT NOT NULL,
            inconclusive INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            first_ms INTEGER NOT NULL,
            last_ms INTEGER NOT NULL,
            latency_hist TEXT,
            ttft_hist TEXT,
            PRIMARY KEY (target_id, hour_ms, kind, error_class, inconclusive)
        ) WITHOUT ROWID;
        CREATE INDEX rollup_hour ON rollup (hour_ms);
        """,
    )


def _v4_change_events(conn: sqlite3.Connection) -> None:
    _execute_all(
        conn,
        """
        ALTER TABLE target ADD COLUMN served_model_id INTEGER REFERENCES string (id);
        ALTER TABLE target ADD COLUMN fingerprint_id INTEGER REFERENCES string (id);
        ALTER TABLE target ADD COLUMN ratelimit_id INTEGER REFERENCES string (id);
        CREATE TABLE target_fingerprint (
            target_id INTEGER NOT NULL REFERENCES target (id),
            fingerprint_id INTEGER NOT NULL REFERENCES string (id),
            first_ms INTEGER NOT NULL,
            PRIMARY KEY (target_id, fingerprint_id)
        ) WITHOUT ROWID;
        CREATE TABLE change_event (
            id INTEGER PRIMARY KEY,
            target_id INTEGER NOT NULL REFERENCES target (id),
            at_ms INTEGER NOT NULL,
            kind TEXT NOT NULL,
            before_id INTEGER REFERENCES string (id),
            after_id INTEGER NOT NULL REFERENCES string (id)
        );
        CREATE INDEX change_event_at ON change_event (kind, at_ms);
        CREATE INDEX change_event_target ON change_event (target_id, kind, at_ms);
        """,
    )
    backfills.change_events(conn)


def _v5_incidents(conn: sqlite3.Connection) -> None:
    _execute_all(
        conn,
        """
        ALTER TABLE target ADD COLUMN verdict_ms INTEGER;
        ALTER TABLE target ADD COLUMN verdict_run INTEGER;
        CREATE TABLE incident (
            target_id INTEGER NOT NULL REFERENCES target (id),
            start_ms INTEGER NOT NULL,
            start_run INTEGER NOT NULL REFERENCES run (id),
            verdict TEXT NOT NULL,
            last_ms INTEGER NOT NULL,
            end_ms INTEGER,
            runs INTEGER NOT NULL,
            PRIMARY KEY (target_id, start_ms, start_run)
        ) WITHOUT ROWID;
        CREATE INDEX incident_last ON incident (last_ms);
        """,
    )
    backfills.incidents(conn)


def _v6_daily_sums(conn: sqlite3.Connection) -> None:
    _execute_all(
        conn,
        """
        CREATE TABLE daily (
            day_ms INTEGER NOT NULL,
            target_id INTEGER NOT NULL REFERENCES target (id),
            kind TEXT NOT NULL,
            error_class TEXT NOT NULL,
            inconclusive INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            first_ms INTEGER NOT NULL,
            last_ms INTEGER NOT NULL,
            latency_hist TEXT,
            ttft_hist TEXT,
            PRIMARY KEY (day_ms, target_id, kind, error_class, inconclusive)
        ) WITHOUT ROWID;
        """,
    )
    backfills.daily_sums(conn)


def _v7_incident_bounds(conn: sqlite3.Connection) -> None:
    """Incidents end at the next run that found the model answering (not at any other
    verdict), and a blocked run neither starts nor ends one: the rows kept by earlier
    versions are worked out again from the stored verdicts."""
    backfills.incident_bounds(conn)


def _v8_regions(conn: sqlite3.Connection) -> None:
    """Fleets: each run records its agent's region and id (before, the host name was both:
    old runs get theirs), and incidents are followed per model and region, from the
    latest verdict of each model in each region (`target_region`; `target.verdict_ms` and
    `verdict_run` are no longer kept)."""
    _execute_all(
        conn,
        """
        ALTER TABLE run ADD COLUMN region TEXT NOT NULL DEFAULT '';
        ALTER TABLE run ADD COLUMN agent TEXT NOT NULL DEFAULT '';
        UPDATE run SET region = host, agent = host;
        CREATE INDEX run_region ON run (region, started_ms);
        ALTER TABLE incident ADD COLUMN region TEXT NOT NULL DEFAULT '';
        UPDATE incident SET region = coalesce((SELECT r.region FROM run r
            WHERE r.id = incident.start_run), '');
        CREATE TABLE target_region (
            target_id INTEGER NOT NULL REFERENCES target (id),
            region TEXT NOT NULL,
            verdict_ms INTEGER NOT NULL,
            verdict_run INTEGER NOT NULL,
            PRIMARY KEY (target_id, region)
        ) WITHOUT ROWID;
        INSERT INTO target_region (target_id, region, verdict_ms, verdict_run)
            SELECT target_id, region, started_ms, run_id FROM (
                SELECT v.target_id, r.region, r.started_ms, v.run_id, row_number() OVER
                    (PARTITION BY v.target_id, r.region ORDER BY r.started_ms DESC, r.id DESC)
                    AS newest
                FROM verdict v JOIN run r ON r.id = v.run_id WHERE r.started_ms >= 0)
            WHERE newest = 1
        """,
    )


def _v9_alert_state(conn: sqlite3.Connection) -> None:
    """Alerting's memory (`modelaudit.alerts.state`): trackers per model and scope, what
    each route was told, the run last applied per scope, and the deliveries (the outbox:
    pending, sending with the claiming process, sent, dropped)."""
    _execute_all(
        conn,
        """
        CREATE TABLE alert_watermark (
            scope TEXT PRIMARY KEY,
            run_id INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE alert_tracker (
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            scope TEXT NOT NULL,
            confirmed TEXT,
            confirmed_ms INTEGER,
            last TEXT,
            last_runs INTEGER NOT NULL,
            last_ms INTEGER,
            bad_runs INTEGER NOT NULL,
            bad_ms INTEGER,
            good_runs INTEGER NOT NULL,
            reason TEXT NOT NULL,
            PRIMARY KEY (scope, provider, model)
        ) WITHOUT ROWID;
        CREATE TABLE alert_mark (
            route TEXT NOT NULL,
            kind TEXT NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            scope TEXT NOT NULL,
            told TEXT NOT NULL,
            since_ms INTEGER NOT NULL,
            sent_ms INTEGER NOT NULL,
            PRIMARY KEY (route, kind, provider, model, scope)
        ) WITHOUT ROWID;
        CREATE TABLE alert_delivery (
            id INTEGER PRIMARY KEY,
            route TEXT NOT NULL,
            target TEXT NOT NULL,
            notice TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'dropped')),
            attempts INTEGER NOT NULL DEFAULT 0,
            created_ms INTEGER NOT NULL,
            attempt_ms INTEGER,
            done_ms INTEGER,
            error TEXT,
            pid INTEGER,
            host TEXT,
            boot_id TEXT,
            process_start TEXT
        );
        CREATE INDEX alert_delivery_open ON alert_delivery (state, id)
            WHERE state IN ('pending', 'sending');
        """,
    )


def _v10_index_diet(conn: sqlite3.Connection) -> None:
    """Reads by model go through the daily sums now (counts from their rows, percentiles
    from their histograms), and a model's runs through the runs, newest first, and each
    run's verdicts by key: the attempt indexes by model, kind and class
    (`attempt_summary`) and by value (`attempt_latency`, `attempt_ttft`), which weighed
    more than the attempts themselves, and the verdicts' by model (`verdict_target`), are
    dropped. An attempt keeps one index, its start time. The freed pages go back to the
    file system (on a database made with incremental auto-vacuum, as this tool makes
    them)."""
    _execute_all(
        conn,
        """
        DROP INDEX IF EXISTS attempt_summary;
        DROP INDEX IF EXISTS attempt_latency;
        DROP INDEX IF EXISTS attempt_ttft;
        DROP INDEX IF EXISTS verdict_target
        """,
    )
    # `incremental_vacuum` frees a page per step; Python steps such a statement once.
    if conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2:
        while conn.execute("PRAGMA freelist_count").fetchone()[0]:
            conn.execute("PRAGMA incremental_vacuum")


def _v11_daily_models(conn: sqlite3.Connection) -> None:
    """Each model's day in one row (`daily_model`), kept beside the daily rows (one per
    kind and error class) as attempts are written: its availability counted, its attempts
    per class, first, last and last successful start, the successes' latency and TTFT
    histograms, and the p50/p95 (TTFT p50) a timeline draws. A month's report of 10,000
    models reads 300,000 of these, not 900,000 daily rows to count and merge."""
    _execute_all(
        conn,
        """
        CREATE TABLE daily_model (
            day_ms INTEGER NOT NULL,
            target_id INTEGER NOT NULL REFERENCES target (id),
            ok INTEGER NOT NULL,
            failed INTEGER NOT NULL,
            excluded INTEGER NOT NULL,
            first_ms INTEGER NOT NULL,
            last_ms INTEGER NOT NULL,
            last_ok_ms INTEGER,
            classes TEXT NOT NULL,
            latency_hist TEXT,
            ttft_hist TEXT,
            latency_p50 REAL,
            latency_p95 REAL,
            ttft_p50 REAL,
            PRIMARY KEY (day_ms, target_id)
        ) WITHOUT ROWID
        """,
    )
    backfills.daily_models(conn)


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _v1_runs_and_attempts,
    _v2_catalog_snapshots,
    _v3_hourly_rollups,
    _v4_change_events,
    _v5_incidents,
    _v6_daily_sums,
    _v7_incident_bounds,
    _v8_regions,
    _v9_alert_state,
    _v10_index_diet,
    _v11_daily_models,
)
LATEST = len(MIGRATIONS)


def _execute_all(conn: sqlite3.Connection, script: str) -> None:
    """Run DDL statements inside the caller's transaction (`executescript` would commit it
    first). The statements hold no `;` inside literals."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def user_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, target: int = LATEST) -> list[int]:
    """Bring the schema to `target`; returns the versions this call applied."""
    if _version_checked(conn) >= target:
        return []
    applied = []
    with transaction(conn):
        current = _version_checked(conn)  # another process may have migrated meanwhile
        if current == 0:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        for version in range(current, target):
            MIGRATIONS[version](conn)
            conn.execute(
                "INSERT INTO schema_migration VALUES (?, ?, ?, ?)",
                (version + 1, round(time.time() * 1000), __version__, os.getpid()),
            )
            applied.append(version + 1)
        conn.execute(f"PRAGMA user_version = {int(target)}")
    return applied


def _version_checked(conn: sqlite3.Connection) -> int:
    check_ours(conn)
    version = user_version(conn)
    if version > LATEST:
        raise StoreError(
            f"the history database has schema version {version}, newer than this "
            f"modelaudit knows ({LATEST}): upgrade modelaudit to use it"
        )
    return version
