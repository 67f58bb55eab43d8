"""Where `modelaudit report` and `modelaudit drill` get their history: the one place that
opens the store and asks it about a window. What it answers goes on as values (`Evidence`):
the risk score and the fallbacks never see the store."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from modelaudit.history import Window
from modelaudit.risk.evidence import Evidence, cadence, last_decisive, summarize_drift

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from datetime import datetime

    from modelaudit.history import ModelKey, Streak, VerdictPoint
    from modelaudit.store.base import HistoryReader

VERDICT_TAIL = timedelta(days=2)
"""Where the last verdicts are looked for first: a month of runs holds hundreds of
thousands of verdicts, and only each model's last one (and its streak) is needed."""


@contextmanager
def open_history(db: str | None, configured: str | None = None) -> Iterator[HistoryReader]:
    """The history at `db` (`--db`, then `$MODELAUDIT_DB`, then `configured`, the
    registry's `defaults.store`, then the user data directory).

    A missing database is a usage error that says to run `modelaudit probe` first; the
    store failing while the report reads (a damaged file) is a StoreError naming it.
    """
    from modelaudit.store.backends import locate

    with locate(db, configured).open(create=False) as store:
        yield store.history()


def read_evidence(reader: HistoryReader, window: Window, now: datetime) -> Evidence:
    """Ask the store everything but the timelines (which only the report draws)."""
    from modelaudit.risk import regions

    models = {(m.provider, m.model): m for m in reader.models(window)}
    tail = _tail(window)
    streaks = reader.streaks(tail)
    regional = regions.standings(reader.regions(window), streaks)
    return Evidence(
        window=window,
        now=now,
        models=models,
        last_verdicts=last_verdicts(reader, window, set(models), streaks),
        cadence=cadence(reader.run_starts(tail)),
        regions=regional,
        withdrawals=tuple(regions.withdrawals(regional)),
        incidents=tuple(reader.incidents(window)),
        catalog_changes=tuple(reader.catalog_changes(window)),
        drift=summarize_drift(reader.drift(window)),
        ratelimits={
            key: tuple(points) for key, points in reader.ratelimit_ceilings(window).items()
        },
    )


def _tail(window: Window) -> Window:
    return Window(
        since=max(window.since, window.until - VERDICT_TAIL),
        until=window.until,
        regions=window.regions,
    )


def last_verdicts(
    reader: HistoryReader,
    window: Window,
    expected: set[ModelKey],
    tail: Sequence[Streak] | None = None,
) -> dict[ModelKey, VerdictPoint]:
    """Each model's last decisive verdict: from the window's last two days (`tail`, when
    the caller read them already: they also give the regions' streaks), and from the
    whole window only for the models probed in it that had none there."""
    found = last_decisive(reader.streaks(_tail(window)) if tail is None else tail)
    missing = frozenset(expected - set(found))
    if _tail(window).since > window.since and missing:
        found = {**last_decisive(reader.streaks(window, missing)), **found}
    return found
