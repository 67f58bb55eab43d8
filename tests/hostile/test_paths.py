"""Hostile paths, as root, against the real command: no output option replaces a device,
a FIFO or a symbolic link; no lock file is followed; no file read hangs or fills memory;
and a usage or I/O problem is exit 2 with one line, never exit 4 ("a bug").

Device nodes are made with `mknod` in the test's own directory (never the real /dev ones).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import FakeOpenAI
from tests.hostile.measured import MEMORY_LIMIT_MB, Measured, modelaudit
from tests.probe.runs import provider, write_fast_registry

KEY = "sk-proj-CANARYpaths0123456789abcdefXYZ"
MODEL = "m1"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")


def char_device(path: Path, major: int, minor: int) -> Path:
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
    return path


@pytest.fixture
def fake(isolated_env: Path) -> Iterator[FakeOpenAI]:
    with FakeOpenAI(key=KEY, models=[MODEL]) as server:
        entry = provider("acme", "openai", server.base_url, [MODEL], key_env="ACME_KEY")
        entry["models"][0]["pinned"] = True  # for `check`
        write_fast_registry(
            isolated_env, [entry], control_url=server.base_url, kinds=["completion"]
        )
        yield server


def run(*args: str, cwd: Path, **env: str) -> Measured:
    return modelaudit(*args, cwd=cwd, env={**os.environ, "ACME_KEY": KEY, **env})


def assert_usage_error(done: Measured, *words: str) -> None:
    assert done.returncode == 2, done
    assert "internal error" not in done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr, done


# --- output files -----------------------------------------------------------------------------


@needs_root
@pytest.mark.usefixtures("fake")
@pytest.mark.parametrize(
    "args",
    [
        ["probe", "--metrics-file", "{node}", "-f", "json"],
        ["report", "-f", "json", "-o", "{node}"],
        ["check", "-f", "json", "-o", "{node}"],
        ["db", "export", "-o", "{node}"],
    ],
)
def test_an_output_option_never_replaces_a_device(isolated_env: Path, args: list[str]) -> None:
    node = char_device(isolated_env / "null", 1, 3)  # what /dev/null is
    run("probe", "-f", "json", cwd=isolated_env)  # a history to report and export

    done = run(*(a.format(node=node) for a in args), cwd=isolated_env)

    assert done.returncode in (0, 1), done
    assert stat.S_ISCHR(node.lstat().st_mode), "the device was replaced by a regular file"


@pytest.mark.usefixtures("fake")
def test_an_output_option_writes_through_a_symbolic_link_and_keeps_it(isolated_env: Path) -> None:
    real = isolated_env / "published" / "report.json"
    real.parent.mkdir()
    real.write_text("old\n")
    link = isolated_env / "report.json"
    link.symlink_to(real)
    run("probe", "-f", "json", cwd=isolated_env)

    done = run("report", "-f", "json", "-o", str(link), cwd=isolated_env)

    assert done.returncode == 0, done
    assert link.is_symlink()
    assert real.read_text().startswith("{")


@pytest.mark.usefixtures("fake")
def test_a_fifo_nobody_reads_is_a_usage_error_not_a_hang(isolated_env: Path) -> None:
    fifo = isolated_env / "report.fifo"
    os.mkfifo(fifo)
    run("probe", "-f", "json", cwd=isolated_env)

    done = run("report", "-f", "json", "-o", str(fifo), cwd=isolated_env)

    assert_usage_error(done, "a FIFO no process reads")


@needs_root
@pytest.mark.usefixtures("fake")
def test_a_full_stdout_is_an_io_error_exit_2(isolated_env: Path) -> None:
    full = char_device(isolated_env / "full", 1, 7)  # what /dev/full is
    with full.open("wb") as stdout:
        done = subprocess.run(
            [sys.executable, "-m", "modelaudit", "probe", "-f", "json", "--no-store"],
            cwd=isolated_env,
            env={**os.environ, "ACME_KEY": KEY},
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )

    assert done.returncode == 2, done.stderr
    assert "No space left on device" in done.stderr
    assert "internal error" not in done.stderr
    assert "Traceback" not in done.stderr


# --- lock files ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("fake")
def test_the_scheduled_run_lock_never_follows_a_link(isolated_env: Path) -> None:
    precious = isolated_env / "precious.conf"
    precious.write_text("a file the lock's link points at\n")
    (isolated_env / "h.sqlite3.lock").symlink_to(precious)

    done = run("probe", "--exclusive", "--db", "h.sqlite3", "-f", "json", cwd=isolated_env)

    assert_usage_error(done, "h.sqlite3.lock", "not a lock file")
    assert precious.read_text() == "a file the lock's link points at\n"


# --- files read ---------------------------------------------------------------------------------


@needs_root
def test_a_key_file_that_never_ends_is_refused_within_the_memory_limit(
    isolated_env: Path,
) -> None:
    zero = char_device(isolated_env / "key", 1, 5)  # what /dev/zero is
    with FakeOpenAI(key=KEY, models=[MODEL]) as server:
        entry = provider("acme", "openai", server.base_url, [MODEL])
        entry["api_key"] = f"file:{zero}"
        write_fast_registry(
            isolated_env, [entry], control_url=server.base_url, kinds=["completion"]
        )

        done = run("probe", "-f", "json", "--no-store", cwd=isolated_env)

    assert done.peak_mb < MEMORY_LIMIT_MB, done
    (verdict,) = done.document()["verdicts"]
    assert verdict["verdict"] == "skipped"
    assert "is a character device, not a regular file" in verdict["reason"]


def test_a_key_file_that_is_a_fifo_is_refused_not_waited_on(isolated_env: Path) -> None:
    fifo = isolated_env / "key"
    os.mkfifo(fifo)
    with FakeOpenAI(key=KEY, models=[MODEL]) as server:
        entry = provider("acme", "openai", server.base_url, [MODEL])
        entry["api_key"] = "file:key"
        write_fast_registry(
            isolated_env, [entry], control_url=server.base_url, kinds=["completion"]
        )

        done = run("probe", "-f", "json", "--no-store", cwd=isolated_env)

    (verdict,) = done.document()["verdicts"]
    assert "is a FIFO (named pipe), not a regular file" in verdict["reason"]


@pytest.mark.usefixtures("fake")
@pytest.mark.parametrize(
    "content",
    [
        'modelaudit_probe_success{provider="acme"} 1\n',  # labels missing
        'modelaudit_model_verdict{provider="a",model="b",verdict="bogus"} 1\n',
        'modelaudit_probe_latency_seconds_bucket{provider="a",model="b",kind="c",le="x"} 1\n',
        "this is { not the exposition format\n",
        "\udcff".encode("utf-8", "surrogateescape").decode("latin-1") * 10,
    ],
)
def test_a_metrics_file_that_cannot_be_read_back_never_fails_the_run(
    isolated_env: Path, content: str
) -> None:
    prom = isolated_env / "modelaudit.prom"
    prom.write_text(content, encoding="latin-1")

    done = run("probe", "-f", "json", "--metrics-file", str(prom), cwd=isolated_env)

    assert done.returncode == 0, done
    assert "could not be read back" in done.stderr
    assert "modelaudit_probe_success" in prom.read_text()  # written afresh


@pytest.mark.usefixtures("fake")
def test_a_lockfile_nested_a_hundred_thousand_deep_is_a_usage_error(isolated_env: Path) -> None:
    (isolated_env / "modelaudit.lock").write_text("[" * 100_000 + "]" * 100_000)

    done = run("check", "-f", "json", cwd=isolated_env)

    assert_usage_error(done, "modelaudit.lock: not a modelaudit lockfile (nested too deeply)")


# --- arguments ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("fake")
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["db", "prune", "--older-than", "99999999999999d", "--db", "h.db"], "longer than"),
        (["db", "export", "--since", "99999999999999999999w", "--db", "h.db"], "longer than"),
        (["watch", "--every", "99999999999999d", "--count", "1"], "longer than"),
        (["history", "--limit", "99999999999999999999", "--db", "h.db"], "--limit"),
        (["probe", "--config", "loop.yaml"], "symbolic link that cannot be followed"),
        (["history", "--db", "loop.db"], "loop.db"),
        (["report", "-o", "loop.json", "--db", "h.db"], "symbolic link that cannot be followed"),
        (["check", "--lock", "loop.lock"], "symbolic link that cannot be followed"),
    ],
)
def test_a_usage_or_io_problem_is_exit_2_never_4(
    isolated_env: Path, args: list[str], words: str
) -> None:
    run("probe", "-f", "json", "--db", "h.db", cwd=isolated_env)
    for name in ("loop.yaml", "loop.db", "loop.json", "loop.lock"):
        (isolated_env / name).symlink_to(isolated_env / name)

    done = run(*args, cwd=isolated_env)

    assert_usage_error(done, words)


@pytest.mark.usefixtures("fake")
def test_a_metrics_file_that_is_a_fifo_never_hangs_the_run(isolated_env: Path) -> None:
    fifo = isolated_env / "modelaudit.prom"
    os.mkfifo(fifo)

    done = run("probe", "-f", "json", "--metrics-file", str(fifo), cwd=isolated_env)

    assert done.returncode == 0, done
    assert "could not be read back (is a FIFO (named pipe), not a regular file)" in done.stderr
    assert "a FIFO no process reads" in done.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
