"""Where `modelaudit report` and `modelaudit drill` get their history: the one place that
opens the store, so swapping the store is a change to this file alone."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from modelaudit.errors import StoreError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from modelaudit.store.history import HistoryReader


@contextmanager
def open_history(db: Path | None) -> Iterator[HistoryReader]:
    """The history store at `db` (default: the store's own default path), read-only."""
    # The SQLite store (issue 4) is not on main yet: until it is, there is nothing to read.
    raise StoreError(
        "this build has no history store yet (issue 4): `modelaudit report` and "
        "`modelaudit drill` read the history that `modelaudit probe` records there"
    )
    yield  # pragma: no cover - unreachable until the store lands
