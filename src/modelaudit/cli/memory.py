"""Keeping the garbage collector's work in proportion to what a command does."""

from __future__ import annotations

import contextlib
import gc
from typing import TYPE_CHECKING

from modelaudit.collector import paused

if TYPE_CHECKING:
    from collections.abc import Iterator


def settled() -> None:
    """What the command has built so far (its imports, the registry, the plan) lives until
    it exits: move it out of the collector's sight (`gc.freeze`), so that the full
    collections of a long run walk only what the run itself makes, not a 10,000-model
    registry each time."""
    gc.freeze()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """For a command that builds one large structure of values and exits (a report): what
    is built so far is frozen, and the cyclic collector rests while the rest is built. Its
    passes over a month of 10,000 models (hundreds of thousands of fresh lists, tuples and
    values, none of them garbage) took as long as the reading itself. What the block made
    is frozen too before the collector resumes: its first pass after the pause would walk
    all of it (a month of 10,000 models: 800,000 objects), for nothing."""
    gc.freeze()
    try:
        with paused():
            yield
    finally:
        gc.freeze()
