"""Incidents, recorded as verdicts are written: a model's consecutive runs that found it
`down` (or `gone`), from the first such run to the next run with another verdict.

Runs are taken in start order (then by id). Skipped and inconclusive verdicts say nothing
about the model: they neither continue nor end an incident. Keeping the incidents in their
own table (`incident`, one row each, the open one with no end) makes the report's read a
range of a small table instead of a pass over every verdict of the window.

This module is the rule (`follow`), shared by the store backends; each keeps the rows in
its own way (SQLite: `modelaudit.store.sqlite.incidents`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from modelaudit.vocabulary import Verdict

if TYPE_CHECKING:
    from collections.abc import Iterable

INCIDENT_VERDICTS = frozenset({Verdict.DOWN, Verdict.GONE})
NEUTRAL_VERDICTS = frozenset({Verdict.SKIPPED, Verdict.INCONCLUSIVE})
"""Say nothing about the model (not probed, or this machine offline)."""


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
    start_ms: int
    start_run: int
    last_ms: int
    """The start of the incident's last run with its verdict."""
    end_ms: int | None
    """The start of the next run with another verdict; None while it goes on."""
    runs: int


def follow(current: Span | None, points: Iterable[Point]) -> tuple[list[Span], Span | None]:
    """The incidents that `points` (in run order) close, and the one left open, going on
    from `current` (the model's open incident before them)."""
    closed: list[Span] = []
    for point in points:
        if point.verdict in NEUTRAL_VERDICTS:
            continue
        if current is not None and point.verdict is current.verdict:
            current = replace(current, runs=current.runs + 1, last_ms=point.at_ms)
            continue
        if current is not None:
            closed.append(replace(current, end_ms=point.at_ms))
            current = None
        if point.verdict in INCIDENT_VERDICTS:
            current = Span(point.verdict, point.at_ms, point.run_id, point.at_ms, None, 1)
    return closed, current
