"""The results a one-run command keeps to its end, moved out of the collector's sight as
they accumulate (see `cli.memory`)."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from modelaudit.probe.runner import Observer

if TYPE_CHECKING:
    from modelaudit.probe.result import ProbeResult

SETTLE_EVERY = 1000
"""Results between two settlings: each costs about a millisecond (a young collection)."""


class Settler(Observer):
    """Every `SETTLE_EVERY` results, collect the young generations and freeze what is left.

    A run keeps every result (and its attempts) to its end, for its report: to the cyclic
    collector they are a growing heap it walks again at each full collection, one every
    quarter of growth (a 10,000-model run had seven, 0.35 s, each stalling the event loop
    with replies waiting). Frozen, they are walked no more. The young collection first frees
    the fresh garbage (a request's cycles) so that little but kept values is frozen; what
    garbage had already reached the old generation stays until the process exits, which for
    a one-run command (`probe`, `check`) is at the run's end. Not for a daemon (`watch`),
    whose runs follow each other in one process."""

    def __init__(self, every: int = SETTLE_EVERY) -> None:
        self.every = every
        self.seen = 0

    def result(self, result: ProbeResult) -> None:
        self.seen += 1
        if self.seen % self.every == 0:
            gc.collect(1)
            gc.freeze()
