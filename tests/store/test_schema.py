"""The history database's schema: what a fresh database looks like, and that a database
left at any earlier version migrates to exactly that, keeping its rows."""

from __future__ import annotations

import ast
import os
import sqlite3
import stat
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from modelaudit.errors import StoreError, UsageError
from modelaudit.store.sqlite import backfills
from modelaudit.store.sqlite.db import APPLICATION_ID, connect
from modelaudit.store.sqlite.migrations import LATEST, MIGRATIONS, migrate, user_version
from modelaudit.store.sqlite.store import SqliteStore

from .synthetic import T0

SUMMED = [
    "kind",
    "error_class",
    "inconclusive",
    "attempts",
    "first_ms",
    "last_ms",
    "latency_hist",
    "ttft_hist",
]
"""The columns of the tables that sum attempts over a period (`periods`)."""
EXPECTED_TABLES = {
    "schema_migration": ["version", "applied_ms", "tool_version", "pid"],
    "run": [
        "id",
        "started_ms",
        "finished_ms",
        "status",
        "tool_version",
        "registry_sha256",
        "pid",
        "host",
        "boot_id",
        "process_start",
        "requests_sent",
        "notes",
        "attempts",
        "last_attempt_ms",
        "region",
        "agent",
    ],
    "target": [
        "id",
        "provider",
        "model",
        "first_seen_ms",
        "last_seen_ms",
        "last_ok_ms",
        "served_model_id",
        "fingerprint_id",
        "ratelimit_id",
        "verdict_ms",
        "verdict_run",
    ],
    "string": ["id", "value"],
    "attempt": [
        "id",
        "run_id",
        "target_id",
        "kind",
        "number",
        "started_ms",
        "error_class",
        "http_status",
        "latency_ms",
        "ttft_ms",
        "failed_phase",
        "connect_ms",
        "connection_reused",
        "served_model_id",
        "fingerprint_id",
        "output_tokens",
        "tokens_per_s",
        "max_gap_ms",
        "retry_after_s",
        "ratelimit_id",
        "detail_id",
    ],
    "verdict": ["run_id", "target_id", "verdict", "error_class", "reason"],
    "catalog_set": ["id", "sha256", "ids"],
    "catalog_snapshot": ["run_id", "provider", "taken_ms", "set_id"],
    "rollup": ["target_id", "hour_ms", *SUMMED],
    "target_fingerprint": ["target_id", "fingerprint_id", "first_ms"],
    "change_event": ["id", "target_id", "at_ms", "kind", "before_id", "after_id"],
    "incident": [
        "target_id",
        "start_ms",
        "start_run",
        "verdict",
        "last_ms",
        "end_ms",
        "runs",
        "region",
    ],
    "daily": ["day_ms", "target_id", *SUMMED],
    "target_region": ["target_id", "region", "verdict_ms", "verdict_run"],
    "daily_model": [
        "day_ms",
        "target_id",
        "ok",
        "failed",
        "excluded",
        "first_ms",
        "last_ms",
        "last_ok_ms",
        "classes",
        "latency_hist",
        "ttft_hist",
        "latency_p50",
        "latency_p95",
        "ttft_p50",
    ],
    "alert_watermark": ["scope", "run_id"],
    "alert_tracker": [
        "provider",
        "model",
        "scope",
        "confirmed",
        "confirmed_ms",
        "last",
        "last_runs",
        "last_ms",
        "bad_runs",
        "bad_ms",
        "good_runs",
        "reason",
    ],
    "alert_mark": [
        "route",
        "kind",
        "provider",
        "model",
        "scope",
        "told",
        "since_ms",
        "sent_ms",
    ],
    "alert_delivery": [
        "id",
        "route",
        "target",
        "notice",
        "state",
        "attempts",
        "created_ms",
        "attempt_ms",
        "done_ms",
        "error",
        "pid",
        "host",
        "boot_id",
        "process_start",
    ],
}
EXPECTED_INDEXES = {
    "run_started": ["started_ms"],
    "run_running": ["status"],
    "attempt_started": ["started_ms"],
    "catalog_snapshot_provider": ["provider", "taken_ms"],
    "rollup_hour": ["hour_ms"],
    "change_event_at": ["kind", "at_ms"],
    "change_event_target": ["target_id", "kind", "at_ms"],
    "incident_last": ["last_ms"],
    "run_region": ["region", "started_ms"],
    "alert_delivery_open": ["state", "id"],
}


def schema(conn: sqlite3.Connection) -> dict[str, Any]:
    """Tables (columns with type, NOT NULL, primary key) and named indexes, as SQLite
    reports them: the same for a migrated and a fresh database, however each got there."""
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    indexes = conn.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).fetchall()
    return {
        "tables": {
            t: [(c[1], c[2], c[3], c[5]) for c in conn.execute(f"PRAGMA table_info({t})")]
            for t in sorted(tables)
        },
        "indexes": {
            name: (
                table,
                [c[2] for c in conn.execute(f"PRAGMA index_info({name})")],
                " ".join(sql.split()),
            )
            for name, table, sql in sorted(indexes)
        },
    }


def test_a_new_database_has_the_schema_the_reads_rely_on(tmp_path: Path) -> None:
    with SqliteStore.open(tmp_path / "h.sqlite3") as store:
        found = schema(store.conn)
        assert user_version(store.conn) == LATEST == 11
        assert store.conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental

    assert {t: [c[0] for c in cols] for t, cols in found["tables"].items()} == EXPECTED_TABLES
    assert {name: cols for name, (_, cols, _) in found["indexes"].items()} == EXPECTED_INDEXES
    assert "WHERE status = 'running'" in found["indexes"]["run_running"][2]


HOUR = 3_600_000


def _seed(conn: sqlite3.Connection, version: int) -> None:
    """Rows a database at `version` could hold, written as that version's code would:
    runs an hour apart (up, down, down, then an inconclusive run), three answers of the
    first, a connection failure in the last."""
    t = int(T0.timestamp() * 1000)
    if version >= 1:
        conn.executemany(
            "INSERT INTO run (id, started_ms, finished_ms, status, tool_version, pid, host,"
            " last_attempt_ms) VALUES (?, ?, ?, ?, '0.1.0', 1, 'h', ?)",
            [
                (1, t, t + 1000, "complete", t + 2),
                (2, t + HOUR, t + HOUR + 1000, "complete", None),
                (3, t + 2 * HOUR, t + 2 * HOUR + 1000, "complete", None),
                (4, t + 3 * HOUR, t + 3 * HOUR + 1000, "inconclusive", t + 3 * HOUR),
            ],
        )
        conn.execute("INSERT INTO target (id, provider, model) VALUES (1, 'acme', 'm')")
        conn.executemany(
            "INSERT INTO string (id, value) VALUES (?, ?)",
            [(1, "answered"), (2, "m-2025"), (3, "m-2026"), (4, "fp_a"), (5, "fp_b")],
        )
        conn.executemany(
            "INSERT INTO attempt (run_id, target_id, kind, number, started_ms, error_class,"
            " latency_ms, detail_id, served_model_id, fingerprint_id)"
            " VALUES (1, 1, 'completion', ?, ?, 'ok', 512.5, 1, ?, ?)",
            [(1, t, 2, 4), (2, t + 1, 3, 5), (3, t + 2, 3, 4)],
        )
        conn.execute(
            "INSERT INTO attempt (run_id, target_id, kind, number, started_ms, error_class)"
            " VALUES (4, 1, 'completion', 1, ?, 'connect_failed')",
            (t + 3 * HOUR,),
        )
        conn.executemany(
            "INSERT INTO verdict VALUES (?, 1, ?, NULL, 'seen')",
            [(1, "up"), (2, "down"), (3, "down"), (4, "inconclusive")],
        )
    if version >= 2:
        conn.execute("INSERT INTO catalog_set VALUES (1, 'abc', '[\"m\"]')")
        conn.execute("INSERT INTO catalog_snapshot VALUES (1, 'acme', ?, 1)", (t,))
    if version >= 3:  # an hour of the day before, rolled up by `db prune`
        conn.execute(
            "INSERT INTO rollup VALUES (1, ?, 'completion', 'ok', 0, 2, ?, ?, '{\"108\":2}', NULL)",
            (t - HOUR, t - HOUR, t - HOUR + 5),
        )
    if version >= 4:
        conn.execute("UPDATE target SET served_model_id = 3, fingerprint_id = 4 WHERE id = 1")
        conn.executemany("INSERT INTO target_fingerprint VALUES (1, ?, ?)", [(4, t), (5, t + 1)])
        conn.executemany(
            "INSERT INTO change_event (target_id, at_ms, kind, before_id, after_id)"
            " VALUES (1, ?, ?, ?, ?)",
            [(t + 1, "served_model", 2, 3), (t + 1, "fingerprint", 4, 5)],
        )
    if version >= 5:
        conn.execute(
            "UPDATE target SET verdict_ms = ?, verdict_run = 4 WHERE id = 1", (t + 3 * HOUR,)
        )
        conn.execute(
            "INSERT INTO incident (target_id, start_ms, start_run, verdict, last_ms, end_ms, runs)"
            " VALUES (1, ?, 2, 'down', ?, NULL, 2)",
            (t + HOUR, t + 2 * HOUR),
        )
    if version >= 8:  # regions: the host's name, as migration 8 gives old runs
        conn.execute("UPDATE run SET region = 'h', agent = 'h'")
        conn.execute("UPDATE incident SET region = 'h'")
        conn.execute("INSERT INTO target_region VALUES (1, 'h', ?, 4)", (t + 3 * HOUR,))
    if version >= 6:
        day = t - t % 86_400_000
        conn.executemany(
            "INSERT INTO daily VALUES (?, 1, 'completion', ?, ?, ?, ?, ?, ?, NULL)",
            [
                (day - 86_400_000, "ok", 0, 2, t - HOUR, t - HOUR + 5, "[108,2]"),
                (day, "connect_failed", 1, 1, t + 3 * HOUR, t + 3 * HOUR, None),
                (day, "ok", 0, 3, t, t + 2, "[108,3]"),
            ],
        )


@pytest.mark.parametrize("version", range(LATEST))
def test_a_database_at_any_earlier_version_migrates_to_the_same_schema_and_keeps_its_rows(
    tmp_path: Path, version: int
) -> None:
    fresh_path, old_path = tmp_path / "fresh.sqlite3", tmp_path / "old.sqlite3"
    with SqliteStore.open(fresh_path) as fresh:
        expected = schema(fresh.conn)
    conn = connect(old_path, create=True)
    assert migrate(conn, target=version) == list(range(1, version + 1))
    _seed(conn, version)
    conn.close()

    with SqliteStore.open(old_path) as store:
        assert schema(store.conn) == expected
        logged = store.conn.execute("SELECT version FROM schema_migration ORDER BY 1").fetchall()
        assert [v for (v,) in logged] == list(range(1, LATEST + 1))
        if version >= 1:
            rows = store.conn.execute(
                "SELECT kind, error_class, latency_ms FROM attempt WHERE run_id = 1"
            ).fetchall()
            assert rows == [("completion", "ok", 512.5)] * 3
            assert store.counts()["verdicts"] == 4
            # Migration 4 derived the change events of the attempts already stored.
            events = store.conn.execute(
                "SELECT kind, before_id, after_id FROM change_event ORDER BY id"
            ).fetchall()
            assert events == [("served_model", 2, 3), ("fingerprint", 4, 5)]
            # Migration 5 the incidents of the verdicts: down from the second run on.
            t = int(T0.timestamp() * 1000)
            # (Migration 7 put them in the region of their runs, the host's name before.)
            assert store.conn.execute("SELECT * FROM incident").fetchall() == [
                (1, t + HOUR, 2, "down", t + 2 * HOUR, None, 2, "h")
            ]
            assert store.conn.execute("SELECT * FROM target_region").fetchall() == [
                (1, "h", t + 3 * HOUR, 4)
            ]
            assert store.conn.execute("SELECT DISTINCT region, agent FROM run").fetchall() == [
                ("h", "h")
            ]
            # Migration 6 the daily sums: the attempts by day, the inconclusive run's apart,
            # and the hour rolled up the day before.
            days = store.conn.execute("SELECT * FROM daily ORDER BY day_ms, error_class").fetchall()
            rolled = [(t - 86_400_000, 1, "completion", "ok", 0, 2, t - HOUR, t - HOUR + 5)]
            assert [row[:8] for row in days] == [
                *(rolled if version >= 3 else []),
                (t, 1, "completion", "connect_failed", 1, 1, t + 3 * HOUR, t + 3 * HOUR),
                (t, 1, "completion", "ok", 0, 3, t, t + 2),
            ]
            assert [row[8:] for row in days] == [
                *([("[108,2]", None)] if version >= 3 else []),
                (None, None),
                ("[108,3]", None),
            ]
            # Migration 11 each model's day, from the daily rows: the inconclusive run's
            # attempt excluded, the successes' histogram and its percentiles.
            middle = round(10 ** (108.5 / 40), 3)
            rolled_up = ('{"ok":2}', "[108,2]", None, middle, middle, None)
            today = ('{"connect_failed":1,"ok":3}', "[108,3]", None, middle, middle, None)
            assert store.conn.execute("SELECT * FROM daily_model ORDER BY day_ms").fetchall() == [
                *(
                    [(t - 86_400_000, 1, 2, 0, 0, t - HOUR, t - HOUR + 5, t - HOUR + 5, *rolled_up)]
                    if version >= 3
                    else []
                ),
                (t, 1, 3, 0, 1, t, t + 3 * HOUR, t + 2, *today),
            ]


def test_every_migration_from_version_0_one_at_a_time_gives_a_fresh_databases_schema(
    tmp_path: Path,
) -> None:
    with SqliteStore.open(tmp_path / "fresh.sqlite3") as fresh:
        expected = schema(fresh.conn)
    conn = connect(tmp_path / "stepped.sqlite3", create=True)
    try:
        for version in range(LATEST):
            assert user_version(conn) == version
            assert migrate(conn, target=version + 1) == [version + 1]
        assert schema(conn) == expected
    finally:
        conn.close()


def _imported(module: ModuleType) -> set[str]:
    tree = ast.parse(Path(str(module.__file__)).read_text())
    found = {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    found |= {
        f"{node.module}.{a.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module != "__future__"
        for a in node.names
    }
    return found


def test_migrations_call_no_code_that_may_change_later() -> None:
    """What migrations 4-6 derive is frozen in `backfills`, on the standard library alone;
    of modelaudit, the migrations use only the runner's own plumbing."""
    from modelaudit.store.sqlite import migrations

    assert {m.split(".")[0] for m in _imported(backfills)} <= sys.stdlib_module_names
    plumbing = ("modelaudit.__version__", "modelaudit.errors.", "modelaudit.store.sqlite.db.")
    assert {
        m
        for m in _imported(migrations)
        if m.startswith("modelaudit") and not m.startswith(plumbing)
    } == {"modelaudit.store.sqlite.backfills"}


def test_every_migration_is_a_function_of_its_own() -> None:
    names = [m.__name__ for m in MIGRATIONS]
    assert names == sorted(set(names), key=names.index)
    assert all(name.startswith(f"_v{i + 1}_") for i, name in enumerate(names))


def test_the_file_is_private_and_so_is_a_directory_it_creates(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "history.sqlite3"
    old = os.umask(0o022)
    try:
        with SqliteStore.open(path) as store:
            store.begin_run(T0, None)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for sidecar in path.parent.glob("history.sqlite3-*"):
        assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600, sidecar


def test_a_database_from_a_newer_modelaudit_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    SqliteStore.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()

    with pytest.raises(StoreError, match=f"schema version {LATEST + 1}, newer"):
        SqliteStore.open(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a database at all, just text\n" * 200, "not a usable history database"),
        (None, "not a modelaudit history database"),
    ],
)
def test_a_file_that_is_not_ours_is_refused(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "other.db"
    if content is None:
        other = sqlite3.connect(path)
        other.execute("CREATE TABLE notes (x)")
        other.commit()
        other.close()
    else:
        path.write_bytes(content)
    before = path.read_bytes()

    with pytest.raises(StoreError, match=message):
        SqliteStore.open(path)
    assert path.read_bytes() == before


def test_reading_commands_do_not_create_a_database(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no history database at"):
        SqliteStore.open(tmp_path / "missing.sqlite3", create=False)
    assert not (tmp_path / "missing.sqlite3").exists()


def test_version_7_works_out_the_incidents_an_older_version_kept_again(tmp_path: Path) -> None:
    # Version 6 ended an incident at any other verdict: down then gone were two incidents,
    # and a blocked run ended the second. The true bounds: one outage, from the first
    # failing run to the run that found the model answering again.
    t, path = int(T0.timestamp() * 1000), tmp_path / "v6.sqlite3"
    conn = connect(path, create=True)
    migrate(conn, target=6)
    verdicts = ["up", "down", "gone", "blocked", "up"]
    conn.executemany(
        "INSERT INTO run (id, started_ms, finished_ms, status, tool_version, pid, host)"
        " VALUES (?, ?, ?, 'complete', '0.1.0', 1, 'h')",
        [(n + 1, t + n * HOUR, t + n * HOUR + 1000) for n in range(len(verdicts))],
    )
    conn.execute("INSERT INTO target (id, provider, model) VALUES (1, 'acme', 'm')")
    conn.executemany(
        "INSERT INTO verdict VALUES (?, 1, ?, NULL, 'seen')",
        [(n + 1, v) for n, v in enumerate(verdicts)],
    )
    conn.executemany(
        "INSERT INTO incident VALUES (1, ?, ?, ?, ?, ?, 1)",
        [
            (t + HOUR, 2, "down", t + HOUR, t + 2 * HOUR),
            (t + 2 * HOUR, 3, "gone", t + 2 * HOUR, t + 3 * HOUR),
        ],
    )
    conn.commit()
    conn.close()

    with SqliteStore.open(path) as store:
        rows = store.conn.execute("SELECT * FROM incident").fetchall()

    # (migration 8 then puts the incident in the region of its runs, the host's name before)
    assert rows == [(1, t + HOUR, 2, "gone", t + 2 * HOUR, t + 4 * HOUR, 2, "h")]
