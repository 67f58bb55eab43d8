"""The scheduled-run lock: exclusive runs never overlap; plain probes never wait."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelaudit.errors import LockedError
from modelaudit.store.sqlite.lock import exclusive, lock_path
from tests.fakes import wait_until
from tests.helpers import run_cli
from tests.store.cli_support import KEY, KEY_ENV, count, half_done, running


def test_the_lock_is_exclusive_and_released_when_its_holder_leaves(tmp_path: Path) -> None:
    path = lock_path(tmp_path / "history.sqlite3")
    locked = pytest.raises(LockedError, match=r"another exclusive modelaudit run \(pid \d+\)")
    with exclusive(path), locked, exclusive(path):
        pass
    with exclusive(path):
        assert path.name == "history.sqlite3.lock"


def test_an_overlapping_exclusive_run_exits_5_at_once_and_plain_probes_do_not_wait(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    db = isolated_env / "h.sqlite3"
    with (
        half_done(isolated_env),
        running(["probe", "--exclusive", "--db", str(db), "-m", "hanging"], isolated_env) as holder,
    ):
        wait_until(lambda: count(db, "SELECT count(*) FROM run") == 1, timeout_s=60)

        second = run_cli(["probe", "--exclusive", "--db", str(db)], capsys)
        plain = run_cli(["probe", "-f", "json", "--db", str(db), "-m", "quick"], capsys)

        assert holder.poll() is None  # still holding the lock all along
    assert second[0] == 5
    assert "another exclusive modelaudit run (pid " in second[2]
    assert "holds" in second[2]
    assert plain[0] == 0, plain[2]
    assert count(db, "SELECT count(*) FROM run") == 2  # the locked-out run never started
