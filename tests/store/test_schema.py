"""The history database's schema: what a fresh database looks like, and that a database
left at any earlier version migrates to exactly that, keeping its rows."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from modelaudit.errors import StoreError, UsageError
from modelaudit.store.db import APPLICATION_ID, connect
from modelaudit.store.migrations import LATEST, MIGRATIONS, migrate, user_version
from modelaudit.store.sqlite import SqliteStore

from .synthetic import T0

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
    "rollup": [
        "target_id",
        "hour_ms",
        "kind",
        "error_class",
        "inconclusive",
        "attempts",
        "first_ms",
        "last_ms",
        "latency_hist",
        "ttft_hist",
    ],
    "target_fingerprint": ["target_id", "fingerprint_id", "first_ms"],
    "change_event": ["id", "target_id", "at_ms", "kind", "before_id", "after_id"],
}
EXPECTED_INDEXES = {
    "run_started": ["started_ms"],
    "run_running": ["status"],
    "attempt_started": ["started_ms"],
    "attempt_summary": ["target_id", "kind", "error_class", "started_ms"],
    "attempt_latency": ["target_id", "error_class", "latency_ms", "started_ms", "kind"],
    "attempt_ttft": ["target_id", "error_class", "ttft_ms", "started_ms", "kind"],
    "verdict_target": ["target_id", "run_id"],
    "catalog_snapshot_provider": ["provider", "taken_ms"],
    "rollup_hour": ["hour_ms"],
    "change_event_at": ["kind", "at_ms"],
    "change_event_target": ["target_id", "kind", "at_ms"],
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
        assert user_version(store.conn) == LATEST == 4
        assert store.conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental

    assert {t: [c[0] for c in cols] for t, cols in found["tables"].items()} == EXPECTED_TABLES
    assert {name: cols for name, (_, cols, _) in found["indexes"].items()} == EXPECTED_INDEXES
    assert "WHERE status = 'running'" in found["indexes"]["run_running"][2]
    assert found["indexes"]["attempt_latency"][2].endswith("WHERE kind = 'completion'")
    assert found["indexes"]["attempt_ttft"][2].endswith("WHERE kind = 'stream'")


def _seed(conn: sqlite3.Connection, version: int) -> None:
    """Rows a database at `version` could hold, written as that version's code would."""
    t = int(T0.timestamp() * 1000)
    if version >= 1:
        conn.execute(
            "INSERT INTO run (id, started_ms, finished_ms, status, tool_version, pid, host)"
            " VALUES (1, ?, ?, 'complete', '0.1.0', 1, 'h')",
            (t, t + 1000),
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
        conn.execute("INSERT INTO verdict VALUES (1, 1, 'up', NULL, 'completion 512 ms')")
    if version >= 2:
        conn.execute("INSERT INTO catalog_set VALUES (1, 'abc', '[\"m\"]')")
        conn.execute("INSERT INTO catalog_snapshot VALUES (1, 'acme', ?, 1)", (t,))


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
            assert store.counts()["verdicts"] == 1
            # Migration 4 derived the change events of the attempts already stored.
            events = store.conn.execute(
                "SELECT kind, before_id, after_id FROM change_event ORDER BY id"
            ).fetchall()
            assert events == [("served_model", 2, 3), ("fingerprint", 4, 5)]


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


def test_the_path_comes_from_the_option_then_the_environment_then_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelaudit.store.db import resolve_path

    assert resolve_path(tmp_path / "a.db") == tmp_path / "a.db"
    monkeypatch.setenv("MODELAUDIT_DB", str(tmp_path / "env.db"))
    assert resolve_path(None) == tmp_path / "env.db"
    monkeypatch.delenv("MODELAUDIT_DB")
    data_home = Path(os.environ["XDG_DATA_HOME"])
    assert resolve_path(None) == data_home / "modelaudit" / "history.sqlite3"


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
