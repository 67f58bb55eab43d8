"""Running `modelaudit` against a loopback fake and reading what it stored."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from tests.fakes import Behaviour, FakeOpenAI
from tests.helpers import write_registry

KEY = "sk-proj-CANARYstore0123456789abcdefKEY"
KEY_ENV = "ACME_API_KEY"


def write_store_registry(
    directory: Path,
    base_url: str,
    models: Sequence[str],
    *,
    kinds: Sequence[str] = ("catalog", "completion"),
    attempts: int = 1,
    total_s: float = 20.0,
    control_url: str | None = None,
    extra_providers: str = "",
) -> Path:
    """A providers.yaml with one openai-family provider `acme` at `base_url`. The control
    check (run when a probe fails to connect) asks `control_url`, by default the fake
    itself: any answer means "this machine is online"; nothing leaves 127.0.0.1."""
    listed = "\n".join(f"      - {{id: {m}, weights: closed}}" for m in models)
    text = textwrap.dedent(
        f"""\
        version: 1
        defaults:
          kinds: [{", ".join(kinds)}]
          retry: {{attempts: {attempts}, backoff_s: 0}}
          timeouts: {{connect_s: 2, first_byte_s: {total_s}, first_token_s: {total_s},
                     stall_s: {total_s}, total_s: {total_s}}}
          control: {{urls: ["{control_url or base_url}"], timeout_s: 2}}
        providers:
          - name: acme
            api: openai
            base_url: {base_url}
            api_key: env:{KEY_ENV}
            hosting: vendor
            jurisdiction: US
            models:
        """
    )
    return write_registry(directory, text + listed + "\n" + extra_providers)


def env(**extra: str) -> dict[str, str]:
    """The (already isolated) environment, with the key and `extra`."""
    return {**os.environ, KEY_ENV: KEY, **extra}


def modelaudit(
    args: Sequence[str], cwd: Path, environment: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelaudit", *args],
        cwd=cwd,
        env=environment or env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def spawn(
    args: Sequence[str],
    cwd: Path,
    stderr: IO[bytes] | int | None = None,
    environment: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`modelaudit ARGS` in the background; what it prints goes to files in `cwd` (stderr
    to `stderr` when given), never to a device node."""
    with (cwd / "spawned.out").open("ab") as out, (cwd / "spawned.err").open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "modelaudit", *args],
            cwd=cwd,
            env=environment or env(),
            stdout=out,
            stderr=err if stderr is None else stderr,
        )


@contextlib.contextmanager
def running(
    args: Sequence[str], cwd: Path, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`modelaudit ARGS` in the background (stderr to `log`), killed on the way out if it
    is still running."""
    with log.open("wb") if log else contextlib.nullcontext(None) as sink:
        process = spawn(args, cwd, stderr=sink)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


QUICK_COMPLETIONS = (
    "SELECT count(*) FROM attempt a JOIN target t ON t.id = a.target_id"
    " WHERE t.model = 'quick' AND a.kind = 'completion'"
)
"""How many completions of `quick` are stored: 1 once a half-done run has got that far."""


@contextlib.contextmanager
def half_done(directory: Path) -> Iterator[FakeOpenAI]:
    """A fake serving `quick` and `hanging` (which never answers), with its registry: a run
    against it stores `quick` and stays in progress."""
    with FakeOpenAI(key=KEY, models=["quick", "hanging"]) as fake:
        fake.behave("hanging", Behaviour.slow_headers(120))
        write_store_registry(directory, fake.base_url, ["quick", "hanging"], total_s=300)
        yield fake


def rows(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Read the database as another process would (a fresh connection)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def count(db: Path, sql: str, *params: object) -> int:
    if not db.exists():
        return 0
    try:
        return int(rows(db, sql, *params)[0][0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def lock_is_free(db: Path) -> bool:
    """Whether the scheduled-run lock of `db` can be taken right now."""
    import fcntl

    fd = os.open(db.with_name(db.name + ".lock"), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True
