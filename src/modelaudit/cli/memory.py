"""Keeping the garbage collector's work in proportion to what a command does."""

from __future__ import annotations

import gc


def settled() -> None:
    """What the command has built so far (its imports, the registry, the plan) lives until
    it exits: move it out of the collector's sight (`gc.freeze`), so that the full
    collections of a long run walk only what the run itself makes, not a 10,000-model
    registry each time."""
    gc.freeze()
