"""Incidents, recorded as verdicts are written: an incident starts at the first run that
found a model failing (`down` or `gone`) and ends at the next run that found it answering
(`up` or `degraded`); with no such run yet it is open. A model going from down to gone is
one incident (its verdict is the latest failing one), as is an outage the runs in between
could not see.

Runs are taken in start order (then by id). Skipped, inconclusive and blocked verdicts say
nothing about whether the model answers (not probed, this machine offline, our own access
broken): they neither start, continue nor end an incident. Keeping the incidents in their
own table (`incident`, one row each, the open one with no end) makes the report's read a
range of a small table instead of a pass over every verdict of the window.

This module is the rule (`follow`), shared by the store backends; each keeps the rows in
its own way (SQLite: `modelaudit.store.sqlite.incidents`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from modelaudit.vocabulary import INCIDENT_VERDICTS, NEUTRAL_VERDICTS, Verdict

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["INCIDENT_VERDICTS", "NEUTRAL_VERDICTS"]  # `Verdict.is_incident`, `.is_neutral`


@dataclass(frozen=True)
class Point:
    """A model's verdict in one run."""

    at_ms: int
    """When the run started."""
    run_id: int
    verdict: Verdict


@dataclass(frozen=True)
class Span:
    """One row of `incident`."""

    verdict: Verdict
    """The verdict of its latest failing run."""
    start_ms: int
    start_run: int
    last_ms: int
    """The start of the incident's latest failing run."""
    end_ms: int | None
    """The start of the next run that found the model answering; None while it goes on."""
    runs: int
    """Its failing runs."""


def follow(current: Span | None, points: Iterable[Point]) -> tuple[list[Span], Span | None]:
    """The incidents that `points` (in run order) close, and the one left open, going on
    from `current` (the model's open incident before them)."""
    closed: list[Span] = []
    for point in points:
        if point.verdict in NEUTRAL_VERDICTS:
            continue
        if point.verdict not in INCIDENT_VERDICTS:  # it answered
            if current is not None:
                closed.append(replace(current, end_ms=point.at_ms))
            current = None
        elif current is None:
            current = Span(point.verdict, point.at_ms, point.run_id, point.at_ms, None, 1)
        else:
            current = replace(
                current, verdict=point.verdict, runs=current.runs + 1, last_ms=point.at_ms
            )
    return closed, current
