"""Many processes, one database: concurrent probes, and a probe killed with SIGKILL."""

from __future__ import annotations

import signal
from pathlib import Path

from modelaudit.store.migrations import LATEST
from tests.fakes import Behaviour, FakeOpenAI, wait_until

from .cli_support import (
    KEY,
    QUICK_COMPLETIONS,
    count,
    half_done,
    lock_is_free,
    modelaudit,
    rows,
    running,
    spawn,
    write_registry,
)

PROCESSES = 20


def test_twenty_concurrent_probes_share_one_new_database(isolated_env: Path) -> None:
    db = isolated_env / "shared.sqlite3"
    models = ["alpha", "beta", "gamma"]
    with FakeOpenAI(key=KEY, models=models) as fake:
        fake.behave("gamma", Behaviour.error("server_error"))
        write_registry(isolated_env, fake.base_url, models)
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
    isolated_env: Path,
) -> None:
    db = isolated_env / "h.sqlite3"
    with half_done(isolated_env):
        with running(["probe", "--exclusive", "--db", str(db)], isolated_env) as process:
            wait_until(lambda: count(db, QUICK_COMPLETIONS) == 1, timeout_s=60)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)

        assert rows(db, "SELECT status FROM run") == [("running",)]
        checked = modelaudit(["db", "check", "--db", str(db)], isolated_env)
        assert checked.returncode == 0, checked.stderr
        assert "integrity ok" in checked.stderr
        assert "marked 1 run(s) whose process had died as interrupted" in checked.stderr
        assert rows(db, "SELECT status FROM run") == [("interrupted",)]
        assert count(db, QUICK_COMPLETIONS) == 1
        assert count(db, "SELECT count(*) FROM attempt WHERE error_class = 'ok'") == 3
        assert lock_is_free(db)
        history = modelaudit(["history", "--db", str(db), "-f", "json"], isolated_env)
        assert '"status": "interrupted"' in history.stdout


def test_a_running_run_of_a_live_process_is_left_alone(isolated_env: Path) -> None:
    db = isolated_env / "h.sqlite3"
    with half_done(isolated_env), running(["probe", "--db", str(db)], isolated_env) as process:
        wait_until(lambda: count(db, QUICK_COMPLETIONS) == 1, timeout_s=60)
        checked = modelaudit(["db", "check", "--db", str(db)], isolated_env)
        assert checked.returncode == 0, checked.stderr
        assert rows(db, "SELECT status FROM run") == [("running",)]
        assert process.poll() is None
