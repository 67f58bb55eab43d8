"""One parametrised fixture for the store tests that hold for every backend: the same test
against SQLite and against a real PostgreSQL server (`tests/pgserver.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=[pytest.mark.realserver, pytest.mark.xdist_group("postgres")],
    ),
]


@pytest.fixture(params=BACKENDS)
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh store is: an SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "history.sqlite3")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def second_location(request: pytest.FixtureRequest, tmp_path: Path, location: str) -> str:
    """Another store of the other kind (for `db copy`)."""
    if location.startswith("postgresql://"):
        return str(tmp_path / "other.sqlite3")
    return str(request.getfixturevalue("postgres_url"))
