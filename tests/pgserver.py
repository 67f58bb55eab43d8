"""A real PostgreSQL server for the store's tests: `$MODELAUDIT_TEST_POSTGRES_URL` when CI
(or a developer) runs one, else a throwaway cluster this session starts on a free
loopback port and stops at its end. Each test gets a database of its own
(`postgres_url`).

Without PostgreSQL's binaries the tests skip, with the reason; with
`MODELAUDIT_REQUIRE_REALSERVERS=1` (CI) they fail instead. Mark such tests
`@pytest.mark.realserver` and `@pytest.mark.xdist_group("postgres")`: one worker, one server.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import free_port

URL_ENV = "MODELAUDIT_TEST_POSTGRES_URL"
READY_S = 60.0


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def _as_owner(argv: list[str], owner: str | None) -> list[str]:
    """initdb and postgres refuse to run as root: run them as `owner` then."""
    return ["runuser", "-u", owner, "--", *argv] if owner else argv


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    """initdb, start on a free loopback port (trust auth, no fsync), yield its URL, stop."""
    bindir = _bindir()
    if bindir is None:
        raise LookupError("PostgreSQL's binaries (initdb, pg_ctl) are not installed")
    owner = "postgres" if os.geteuid() == 0 else None
    with tempfile.TemporaryDirectory(prefix="modelaudit-pg-") as tmp:
        data = Path(tmp) / "data"
        if owner:
            shutil.chown(tmp, owner)
        subprocess.run(
            _as_owner(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                ],
                owner,
            ),
            check=True,
            capture_output=True,
        )
        port = free_port()
        options = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off"
        options += " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        subprocess.run(
            _as_owner(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(Path(tmp) / "log"),
                    "start",
                ],
                owner,
            ),
            check=True,
            capture_output=True,
        )
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        try:
            _wait_ready(url)
            yield url
        finally:
            subprocess.run(
                _as_owner(
                    [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], owner
                ),
                check=False,
                capture_output=True,
            )


def _wait_ready(url: str) -> None:
    import psycopg

    deadline = time.monotonic() + READY_S
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server's `postgres` database."""
    given = os.environ.get(URL_ENV)
    if given:
        yield given
        return
    try:
        with throwaway_cluster() as url:
            yield url
    except (LookupError, subprocess.CalledProcessError, OSError) as exc:
        reason = f"no PostgreSQL server for the store's tests: {exc}"
        if os.environ.get("MODELAUDIT_REQUIRE_REALSERVERS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty database on the server, dropped after the test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
