"""Where the history lives (`--db`, `$MODELAUDIT_DB`, the data directory), which backend keeps
it, and the scheduled-run lock, which is the backend's: the commands only say `--db`."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from modelaudit.errors import LockedError, StoreError
from modelaudit.history import Window
from modelaudit.store.backends import locate
from modelaudit.store.recorder import StoreRecorder
from modelaudit.store.sqlite.store import SqliteStore
from modelaudit.vocabulary import ErrorClass, ProbeKind, Verdict
from tests.fakes import FakeOpenAI
from tests.helpers import run_cli

from .cli_support import KEY, KEY_ENV, write_store_registry
from .synthetic import at, attempt, completion, report, result


def test_the_store_is_the_option_then_the_environment_then_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELAUDIT_DB", str(tmp_path / "env.db"))
    assert str(locate(str(tmp_path / "a.db"))) == str(tmp_path / "a.db")
    assert str(locate(None)) == str(tmp_path / "env.db")
    monkeypatch.setenv("MODELAUDIT_DB", "")  # set but empty: not set
    data_home = Path(os.environ["XDG_DATA_HOME"])
    assert str(locate(None)) == str(data_home / "modelaudit" / "history.sqlite3")
    assert str(locate("~/h.db")) == str(Path.home() / "h.db")


@pytest.mark.parametrize("spelling", ["sqlite://{path}", "SQLite://{path}", "{path}"])
def test_a_sqlite_url_names_the_file_its_path_does(tmp_path: Path, spelling: str) -> None:
    path = tmp_path / "h.sqlite3"  # absolute: `sqlite://` + `/tmp/...` is `sqlite:///tmp/...`
    with locate(spelling.format(path=path)).open() as store:
        store.begin_run(at(), None)
        assert store.location == str(path)
    with SqliteStore.open(path, create=False) as store:
        assert store.counts()["runs"] == 1


def test_probe_history_and_db_check_take_a_sqlite_url(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    path = isolated_env / "h.sqlite3"
    url = f"sqlite://{path}"
    with FakeOpenAI(key=KEY, models=["good"]) as fake:
        write_store_registry(isolated_env, fake.base_url, ["good"])
        assert run_cli(["probe", "-f", "json", "--db", url], capsys)[0] == 0

    code, out, _ = run_cli(["history", "-f", "json", "--db", str(path)], capsys)
    assert code == 0
    assert '"status": "complete"' in out
    code, _, err = run_cli(["db", "check", "--db", url], capsys)
    assert code == 0
    assert f"ok: {path}: schema version" in err


@pytest.mark.parametrize("through_env", [False, True])
def test_a_url_no_backend_takes_is_a_usage_error_that_keeps_its_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], through_env: bool
) -> None:
    url = "mysql://probe:hunter2-secret@127.0.0.1:3306/modelaudit"
    if through_env:
        monkeypatch.setenv("MODELAUDIT_DB", url)
    args = ["history"] if through_env else ["history", "--db", url]

    code, out, err = run_cli(args, capsys)

    assert code == 2
    assert "no history store backend for mysql:// URLs (known: sqlite://, postgresql://" in err
    assert ("$MODELAUDIT_DB" if through_env else "--db") in err
    assert "hunter2" not in out + err


def test_an_unreachable_postgresql_store_is_one_line_without_its_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.fakes.http import closed_port

    with closed_port() as port:
        url = f"postgresql://probe:hunter2-secret@127.0.0.1:{port.port}/modelaudit"
        code, out, err = run_cli(["history", "--db", url], capsys)

    assert code == 2  # a server that is not there is an I/O problem, not a damaged database
    assert err.startswith("error: cannot connect to the history database postgresql://probe@")
    assert "Traceback" not in err
    assert "hunter2" not in out + err


def test_a_directory_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "here" / "data"
    folder.mkdir(parents=True)
    # watch reads the registry first now (defaults.region and defaults.store)
    write_store_registry(Path.cwd(), "http://127.0.0.1:9/v1", ["m"])
    for command in (["history"], ["watch", "--every", "1h"]):
        code, _, err = run_cli([*command, "--db", str(folder)], capsys)

        assert code == 2
        assert f"the history database {folder} is a directory: name a file" in err
    assert list(folder.parent.iterdir()) == [folder]  # not even a lock file beside it
    assert list(folder.iterdir()) == []


def test_the_scheduled_run_lock_is_the_stores_whichever_way_it_is_named(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with locate(str(path)).exclusive():
        locked = pytest.raises(LockedError, match="another exclusive modelaudit run")
        with locked, locate(f"sqlite://{path}").exclusive():  # the same store, as a URL
            pass
        assert (tmp_path / "h.sqlite3.lock").exists()
        assert not path.exists()  # the lock needs no open store
    with locate(f"sqlite://{path}").exclusive():
        pass


def test_a_store_failing_mid_run_is_said_once_and_the_rest_goes_unstored(tmp_path: Path) -> None:
    said: list[str] = []
    with SqliteStore.open(tmp_path / "h.sqlite3") as store:
        recorder = StoreRecorder(store, None, said.append)
        recorder.run_id = store.begin_run(at(), None)
        recorder.result(completion("m", at()))
        store.conn.execute(
            "CREATE TEMP TRIGGER full BEFORE INSERT ON main.attempt"
            " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
        recorder.result(completion("m", at(minutes=1)))
        recorder.result(result("m", ProbeKind.STREAM, attempt(at(minutes=2))))
        recorder.finished(report(at(), {"m": Verdict.UP}))
        assert store.counts()["attempts"] == 1

    assert said == [
        f"the history database {tmp_path / 'h.sqlite3'} failed (database or disk is full); "
        "the rest of this run is not stored"
    ]


def test_every_store_failure_is_a_store_error(tmp_path: Path) -> None:
    """The interface's promise: callers never see SQLite's own exceptions."""
    with SqliteStore.open(tmp_path / "h.sqlite3") as store:
        run = store.begin_run(at(), None)
        store.conn.execute("DROP TABLE verdict")  # a damaged database, as far as reads go
        with pytest.raises(StoreError, match="no such table: verdict") as caught:
            store.recent_runs(5)
        assert caught.value.reason == "no such table: verdict"
        with pytest.raises(StoreError, match="no such table"):
            store.history().verdicts(Window(at(hours=-1), datetime.now(UTC)))
        with pytest.raises(StoreError, match="no such table"):
            store.finish_run(run, report(at(), {"m": Verdict.UP}))
        store.add_results(run, [completion("m", at(), ErrorClass.TIMEOUT)])  # untouched
