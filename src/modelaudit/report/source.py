"""Where `modelaudit report` and `modelaudit drill` get their history: the one place that
opens the store, so swapping the store is a change to this file alone."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from modelaudit.store.history import HistoryReader


@contextmanager
def open_history(db: Path | None) -> Iterator[HistoryReader]:
    """The history at `db` (`--db`, then `$MODELAUDIT_DB`, then the user data directory).

    A missing database is a usage error that says to run `modelaudit probe` first; SQLite
    failing while the report reads (a damaged file) is a StoreError naming the file.
    """
    from modelaudit.store.db import reported
    from modelaudit.store.sqlite import SqliteStore

    with SqliteStore.open(db, create=False) as store, reported(store.path):
        yield store.history()
