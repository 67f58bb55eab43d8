"""Where the history lives and which backend keeps it: `--db`, then `$MODELAUDIT_DB`, then
an SQLite file in the user data directory.

A location is a file path (SQLite) or a URL whose scheme names a backend
(`sqlite:///var/lib/modelaudit/history.sqlite3`). Each backend is one package under
`store/`, registered below with one line; its module is imported only when a location
names it, so naming none costs nothing at start-up.
"""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from modelaudit.errors import UsageError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from modelaudit.store.base import Backend, Origin, Store

DB_ENV = "MODELAUDIT_DB"
DB_NAME = "history.sqlite3"


@dataclass(frozen=True)
class Registration:
    schemes: tuple[str, ...]
    """The URL schemes that name the backend (`sqlite` for `sqlite://...`)."""
    module: str
    """The module whose `BACKEND` implements `modelaudit.store.base.Backend`."""
    paths: bool = False
    """Whether a plain file path names this backend."""


BACKENDS = (
    Registration(("sqlite",), "modelaudit.store.sqlite.backend", paths=True),
    Registration(("postgresql", "postgres"), "modelaudit.store.postgres.backend"),
)

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+)://")
"""Two characters at least: `C://x` is a Windows path, not a URL."""


@dataclass(frozen=True)
class StoreLocation:
    """A resolved `--db`: which backend, and the address it is given."""

    registration: Registration
    address: str

    @property
    def backend(self) -> Backend:
        return cast("Backend", importlib.import_module(self.registration.module).BACKEND)

    def open(self, *, create: bool = True) -> Store:
        return self.backend.open(self.address, create=create)

    def exclusive(self, origin: Origin | None = None) -> AbstractContextManager[None]:
        """The lock of scheduled runs writing to this store (`watch`, `probe --exclusive`),
        of the agent `origin` where the backend is shared by a fleet."""
        return self.backend.exclusive(self.address, origin)

    def __str__(self) -> str:
        return self.backend.describe(self.address)


def locate(option: str | None, configured: str | None = None) -> StoreLocation:
    """`--db`, then `$MODELAUDIT_DB`, then `configured` (`defaults.store` of the registry,
    for the commands that read one), then the user data directory."""
    text = option if option is not None else os.environ.get(DB_ENV) or None
    source = "--db" if option is not None else f"${DB_ENV}"
    if text is None and configured:
        text, source = configured, "defaults.store"
    if text is None:
        return StoreLocation(_for_paths(), str(default_path()))
    found = _SCHEME.match(text)
    if found is None:
        return StoreLocation(_for_paths(), text)
    scheme = found.group(1).lower()
    for registration in BACKENDS:
        if scheme in registration.schemes:
            return StoreLocation(registration, text)
    known = ", ".join(f"{s}://" for r in BACKENDS for s in r.schemes)
    raise UsageError(
        f"{source}: no history store backend for {scheme}:// URLs (known: {known}, or a file path)"
    )


def default_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("modelaudit", appauthor=False) / DB_NAME


def _for_paths() -> Registration:
    return next(r for r in BACKENDS if r.paths)
