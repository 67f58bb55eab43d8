"""The thread that writes a probe's batches, so the probe's event loop never waits on the
database: a lock held by another agent, a slow disk or a busy server delays the writes, not
the reading of replies in flight (which would add the wait to the latencies and TTFTs
being measured).

One thread at a time, batches in the order they were handed over; it ends when nothing is
left to write and the next batch starts another. `backlog` counts the results handed over
and not yet committed, and `lag` is how long the oldest of them has waited: the recorder
stops new probes from starting while the writer lags more than a bound (`room`), so what a
kill -9 can lose is the last moments of the run, whatever the pace. A bound in results
instead would also hold back a burst the writer clears at once (a catalog read lists every
model of a provider in one reply).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from modelaudit.probe.result import ProbeResult

Batch = list["ProbeResult"]


class BatchWriter:
    def __init__(self, write: Callable[[Batch], None]) -> None:
        self._write = write
        self._cond = threading.Condition()
        self._queue: deque[tuple[Batch, float]] = deque()
        self._running = False
        self._waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self.backlog = 0
        """Results handed over and not yet written."""
        self.error: Exception | None = None
        """What the last write raised; the batches after it are dropped."""

    def put(self, batch: Batch) -> None:
        """Queue `batch`; returns at once."""
        with self._cond:
            if self.error is not None:
                return
            self._queue.append((batch, time.monotonic()))
            self.backlog += len(batch)
            if not self._running:
                self._running = True
                threading.Thread(
                    target=self._drain_queue, name="modelaudit-store", daemon=True
                ).start()

    def wait(self) -> None:
        """Block until every batch handed over is written (or dropped after a failure)."""
        with self._cond:
            while self._running:
                self._cond.wait()

    def lag(self) -> float:
        """Seconds the oldest batch not yet written has waited; 0 when none waits."""
        with self._cond:
            return self._lag()

    def _lag(self) -> float:
        return time.monotonic() - self._queue[0][1] if self._queue else 0.0

    async def room(self, limit_s: float) -> None:
        """Wait, without blocking the event loop, while the oldest batch not yet written
        has waited `limit_s` or more (woken as each batch is written)."""
        while True:
            with self._cond:
                if not self._queue or self._lag() < limit_s or self.error is not None:
                    return
                event = asyncio.Event()
                self._waiting.append((asyncio.get_running_loop(), event))
            await event.wait()

    def _drain_queue(self) -> None:
        while True:
            with self._cond:
                if not self._queue:
                    self._running = False
                    self._cond.notify_all()
                    return
                batch = self._queue[0][0]
            error: Exception | None = None
            try:
                self._write(batch)
            except Exception as exc:  # noqa: BLE001 - handed to the thread that waits
                error = exc
            with self._cond:
                self._queue.popleft()
                self.backlog -= len(batch)
                if error is not None:
                    self.error = error
                    self._queue.clear()
                    self.backlog = 0
                self._wake()

    def _wake(self) -> None:
        waiting, self._waiting = self._waiting, []
        for loop, event in waiting:
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits
                loop.call_soon_threadsafe(event.set)
