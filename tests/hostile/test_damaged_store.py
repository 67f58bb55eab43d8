"""A history database `db check` flags (rows pointing at a run or a model it lost) is still
reported and exported: `report` failed with KeyError (exit 4) and `db export` silently
left the orphaned attempts out."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from tests.fakes import Behaviour, FakeOpenAI
from tests.hostile.measured import modelaudit
from tests.probe.runs import provider, write_fast_registry

KEY = "sk-proj-CANARYdamaged0123456789abcdefXY"


def test_a_database_that_lost_rows_is_still_reported_and_exported_whole(
    isolated_env: Path,
) -> None:
    env = {**os.environ, "ACME_KEY": KEY}
    with FakeOpenAI(key=KEY, models=["m1", "m2"]) as fake:
        fake.behave("m2", Behaviour.error("server_error"))
        write_fast_registry(
            isolated_env,
            [provider("acme", "openai", fake.base_url, ["m1", "m2"], key_env="ACME_KEY")],
            control_url=fake.base_url,
            retry={"attempts": 1},
        )
        for _ in range(2):
            assert modelaudit("probe", "--db", "h.db", cwd=isolated_env, env=env).returncode == 0
    with sqlite3.connect(isolated_env / "h.db") as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("DELETE FROM target WHERE model = 'm2'")
        conn.execute("DELETE FROM run WHERE id = 1")
    attempts = sqlite3.connect(isolated_env / "h.db").execute("SELECT count(*) FROM attempt")

    checked = modelaudit("db", "check", "--db", "h.db", cwd=isolated_env, env=env)
    report = modelaudit("report", "-f", "json", "--db", "h.db", cwd=isolated_env, env=env)
    export = modelaudit("db", "export", "--db", "h.db", cwd=isolated_env, env=env)

    assert checked.returncode == 4  # a damaged history database, as documented
    assert report.returncode == 0, report
    models = {(m["provider"], m["model"]) for m in report.document()["models"]}
    assert ("acme", "m1") in models
    assert ("(unknown)", "target #2") in models
    lines = export.lines()
    assert export.returncode == 0, export
    assert len(lines) == attempts.fetchone()[0]
    assert any(line["provider"] is None for line in lines)
    assert any(line["run_started_at"] is None for line in lines)
    assert "belong to a run or a model the database lost" in export.stderr
    assert json.loads(export.stdout.splitlines()[0])["schema_version"] == 1


def test_a_database_that_cannot_be_written_is_an_io_problem_not_damage(tmp_path: Path) -> None:
    import pytest

    from modelaudit.errors import StoreError, StoreUnavailable
    from modelaudit.store.sqlite.db import reported

    conn = sqlite3.connect(tmp_path / "h.db")
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.execute("PRAGMA max_page_count = 2")  # SQLite's own "database or disk is full"
    with pytest.raises(StoreUnavailable) as full, reported(tmp_path / "h.db"):
        conn.execute("INSERT INTO t VALUES (zeroblob(100000))")
    assert full.value.exit_code == 2
    assert "cannot be used: database or disk is full" in full.value.message

    (tmp_path / "bad.db").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    damaged = sqlite3.connect(tmp_path / "bad.db")
    with pytest.raises(StoreError) as broken, reported(tmp_path / "bad.db"):
        damaged.execute("SELECT * FROM sqlite_master").fetchall()
    assert broken.value.exit_code == 4  # a damaged history database, as documented


def test_a_history_path_that_is_not_a_file_is_a_usage_error(isolated_env: Path) -> None:
    os.mkfifo(isolated_env / "h.db")

    done = modelaudit("history", "--db", "h.db", cwd=isolated_env)

    assert done.returncode == 2, done
    assert "not a history database" in done.stderr
