"""Many processes, one database: concurrent probes, and a probe killed with SIGKILL."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from modelaudit.store.sqlite.migrations import LATEST
from tests.fakes import Behaviour, FakeOpenAI, wait_until
from tests.helpers import run_cli

from .cli_support import (
    KEY,
    QUICK_COMPLETIONS,
    count,
    half_done,
    lock_is_free,
    rows,
    running,
    spawn,
    write_store_registry,
)

PROCESSES = 20


def test_twenty_concurrent_probes_share_one_new_database(isolated_env: Path) -> None:
    db = isolated_env / "shared.sqlite3"
    models = ["alpha", "beta", "gamma"]
    with FakeOpenAI(key=KEY, models=models) as fake:
        fake.behave("gamma", Behaviour.error("server_error"))
        write_store_registry(isolated_env, fake.base_url, models)
        logs = [isolated_env / f"probe{i}.log" for i in range(PROCESSES)]
        processes = []
        for log in logs:
            with log.open("wb") as sink:
                processes.append(spawn(["probe", "--db", str(db)], isolated_env, stderr=sink))
        codes = [p.wait(timeout=240) for p in processes]

    errors = "\n".join(log.read_text() for log in logs)
    assert codes == [0] * PROCESSES, errors
    assert "locked" not in errors
    assert "Traceback" not in errors
    # Each run: 3 catalog + 3 completion attempts, 3 verdicts; nothing lost.
    assert rows(db, "SELECT count(*), min(status), max(status) FROM run") == [
        (PROCESSES, "complete", "complete")
    ]
    assert count(db, "SELECT count(*) FROM attempt") == PROCESSES * 6
    assert count(db, "SELECT count(*) FROM verdict") == PROCESSES * 3
    assert count(db, "SELECT count(DISTINCT run_id) FROM catalog_snapshot") == PROCESSES
    assert rows(db, "SELECT version, count(*) FROM schema_migration GROUP BY 1") == [
        (v, 1) for v in range(1, LATEST + 1)
    ]
    assert count(db, "SELECT count(*) FROM target") == 3


def test_kill_9_mid_run_leaves_a_sound_database_an_interrupted_run_and_a_free_lock(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = isolated_env / "h.sqlite3"
    with half_done(isolated_env):
        with running(["probe", "--exclusive", "--db", str(db)], isolated_env) as process:
            wait_until(lambda: count(db, QUICK_COMPLETIONS) == 1, timeout_s=60)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)

        assert rows(db, "SELECT status FROM run") == [("running",)]
        code, _, err = run_cli(["db", "check", "--db", str(db)], capsys)
        assert code == 0, err
        assert "integrity ok" in err
        assert "marked 1 run(s) whose process had died as interrupted" in err
        assert rows(db, "SELECT status FROM run") == [("interrupted",)]
        assert count(db, QUICK_COMPLETIONS) == 1
        assert count(db, "SELECT count(*) FROM attempt WHERE error_class = 'ok'") == 3
        assert lock_is_free(db)
        _, history, _ = run_cli(["history", "--db", str(db), "-f", "json"], capsys)
        assert '"status": "interrupted"' in history


def test_a_running_run_of_a_live_process_is_left_alone(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = isolated_env / "h.sqlite3"
    with half_done(isolated_env), running(["probe", "--db", str(db)], isolated_env) as process:
        wait_until(lambda: count(db, QUICK_COMPLETIONS) == 1, timeout_s=60)
        code, _, err = run_cli(["db", "check", "--db", str(db)], capsys)
        assert code == 0, err
        assert rows(db, "SELECT status FROM run") == [("running",)]
        assert process.poll() is None
