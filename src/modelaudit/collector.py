"""The cyclic garbage collector paused while a large structure of values is built."""

from __future__ import annotations

import contextlib
import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block, the collector left as it was found after it.
    For work whose every value lives to its end: the collector's passes would free nothing
    (reading a 10,000-model registry spent half its time in them)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
