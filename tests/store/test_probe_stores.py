"""`modelaudit probe` records every run in the history database, by default."""

from __future__ import annotations

import hashlib
import json
import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from modelaudit.history import Window
from modelaudit.store.sqlite.store import SqliteStore
from tests.fakes import Behaviour, FakeOpenAI, wait_until
from tests.helpers import run_cli

from .cli_support import (
    KEY,
    KEY_ENV,
    QUICK_COMPLETIONS,
    count,
    half_done,
    rows,
    running,
    write_store_registry,
)


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def probe(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code, _, err = run_cli(["probe", "-f", "json", *args], capsys)
    return code, err


@pytest.mark.usefixtures("keyed")
def test_a_probe_is_stored_in_the_user_data_dir_by_default(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(key=KEY, models=["good", "flaky", "other"]) as fake:
        fake.behave("flaky", [Behaviour.error("server_error"), Behaviour.ok()])
        registry = write_store_registry(isolated_env, fake.base_url, ["good", "flaky"], attempts=2)
        code, _ = probe(capsys=capsys)

    db = Path(os.environ["XDG_DATA_HOME"]) / "modelaudit" / "history.sqlite3"
    assert code == 0
    (run,) = rows(db, "SELECT status, tool_version, registry_sha256, attempts FROM run")
    assert run[:3] == ("complete", "0.1.0", hashlib.sha256(registry.read_bytes()).hexdigest())
    flaky = rows(
        db,
        "SELECT a.number, a.error_class, a.http_status FROM attempt a JOIN target t"
        " ON t.id = a.target_id WHERE t.model = 'flaky' AND a.kind = 'completion'"
        " ORDER BY a.number",
    )
    assert flaky == [(1, "server_error", 500), (2, "ok", 200)]  # the retry is kept too
    verdicts = rows(
        db, "SELECT t.model, v.verdict FROM verdict v JOIN target t ON t.id = v.target_id"
    )
    assert sorted(verdicts) == [("flaky", "up"), ("good", "up")]
    (listed,) = rows(db, "SELECT ids FROM catalog_set")
    assert json.loads(str(listed[0])) == ["flaky", "good", "other"]  # every id, not just ours


@pytest.mark.usefixtures("keyed")
def test_no_store_writes_nothing_and_db_chooses_the_file(
    isolated_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenAI(key=KEY, models=["good"]) as fake:
        write_store_registry(isolated_env, fake.base_url, ["good"])
        assert probe("--no-store", capsys=capsys)[0] == 0
        assert not Path(os.environ["XDG_DATA_HOME"]).exists()
        assert probe("--db", "here.sqlite3", capsys=capsys)[0] == 0
        monkeypatch.setenv("MODELAUDIT_DB", str(isolated_env / "env.sqlite3"))
        assert probe(capsys=capsys)[0] == 0

    assert count(isolated_env / "here.sqlite3", "SELECT count(*) FROM run") == 1
    assert count(isolated_env / "env.sqlite3", "SELECT count(*) FROM run") == 1


@pytest.mark.usefixtures("keyed")
def test_catalog_changes_between_runs_and_when_a_gone_model_last_answered(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = isolated_env / "h.sqlite3"
    with FakeOpenAI(key=KEY, models=["keeper", "retiring"]) as fake:
        write_store_registry(isolated_env, fake.base_url, ["keeper", "retiring"])
        assert probe("--db", str(db), capsys=capsys)[0] == 0
        fake.add_model("newcomer")
        fake.behave("retiring", Behaviour.unlisted())
        code, err = probe("--db", str(db), capsys=capsys)

    assert code == 0
    assert "acme/retiring is gone; it last answered 20" in err
    now = datetime.now(UTC)
    with SqliteStore.open(db) as store:
        changes = store.history().catalog_changes(Window(now - timedelta(days=1), now))
        assert {(c.model, c.change) for c in changes} == {
            ("newcomer", "appeared"),
            ("retiring", "vanished"),
        }


def test_sigterm_mid_run_keeps_what_completed_and_marks_the_run_interrupted(
    isolated_env: Path,
) -> None:
    db = isolated_env / "h.sqlite3"
    log = isolated_env / "probe.log"
    with half_done(isolated_env), running(["probe", "--db", str(db)], isolated_env, log) as process:
        wait_until(lambda: count(db, QUICK_COMPLETIONS) == 1, timeout_s=30)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    assert process.returncode == 130
    assert "Traceback" not in log.read_text()
    (status,) = rows(db, "SELECT status FROM run")
    assert status == ("interrupted",)
    assert count(db, "SELECT count(*) FROM attempt WHERE error_class = 'ok'") >= 2
    verdicts = dict(
        rows(db, "SELECT t.model, v.verdict FROM verdict v JOIN target t ON t.id = v.target_id")
    )
    # `hanging` was listed in the catalog but its completion never finished: it must not be
    # recorded as up (that would close an open incident on a probe that never ran).
    assert verdicts == {"quick": "up", "hanging": "skipped"}
