"""Stores a run as it happens, through the runner's `Observer` hooks: the run row at
`started`, probe results in batches as they complete, verdicts and the final status at
`finished`. A run cut short keeps what completed.

Results are written in batches: the first result of a batch sets a timer of
`BATCH_WINDOW_S`, and the batch is handed to the writer thread (`store/writer.py`) when
the timer fires or when it holds `BATCH_SIZE` results; the run's end waits for every batch.
Each batch is one short transaction, written in order by that one thread, never on the
event loop: a write that waits for a lock (another agent's, another process's) delays the
history, not the reading of the replies in flight, so it adds nothing to the latencies and
TTFTs measured. A 10,000-model run writes a few hundred transactions instead of 20,000.

Backpressure: while the oldest result not yet written has waited `LAG_LIMIT_S` or more (a
store slower than the probes), new probes wait before they start (`ready`), never a probe in
flight. So what a kill -9 can lose is about the run's last `LAG_LIMIT_S` plus the batch
being collected (`BATCH_WINDOW_S`), whatever the pace, while a burst the writer clears at
once (a catalog read answers for each of a provider's models) holds nothing back; the
results waiting are the run's own, which it keeps for its report anyway. After a kill -9 the
run is found `running` with a dead process by the next command that opens the store, which
marks it `interrupted` and ends it at its last stored attempt: the results after that moment
are the lost batches. Ctrl-C and SIGTERM end the run as `interrupted` and write every result
that completed.

A database that fails mid-run (disk full, a lock held past the busy timeout) does not
stop the probe: the failure is reported once and the rest of the run goes unstored.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, TypeVar

from modelaudit.errors import StoreError
from modelaudit.probe.runner import Observer
from modelaudit.store.writer import BatchWriter

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from modelaudit.probe.plan import Plan
    from modelaudit.probe.result import ProbeResult, RunReport
    from modelaudit.store.base import Origin, RunWriter

T = TypeVar("T")
BATCH_WINDOW_S = 0.05
"""The longest a result waits to be written."""
BATCH_SIZE = 500
"""A batch this large is written at once."""
LAG_LIMIT_S = 1.0
"""How long the oldest result may wait for the writer before new probes wait to start."""


class StoreRecorder(Observer):
    def __init__(
        self,
        store: RunWriter,
        registry_sha256: str | None,
        on_failure: Callable[[str], None],
        origin: Origin | None = None,
    ) -> None:
        self.store = store
        self.origin = origin
        self.registry_sha256 = registry_sha256
        self.on_failure = on_failure
        self.run_id: int | None = None
        self.closed = False
        self.failed = False
        self._batch: list[ProbeResult] = []
        self._timer: asyncio.TimerHandle | None = None
        self._writer = BatchWriter(self._write)

    def started(self, plan: Plan, started_at: datetime) -> None:
        self.run_id = self._guard(
            lambda: self.store.begin_run(started_at, self.registry_sha256, self.origin)
        )

    def result(self, result: ProbeResult) -> None:
        self._settle(wait=False)
        if self.run_id is None or self.failed:
            return
        self._batch.append(result)
        if len(self._batch) >= BATCH_SIZE:
            self.flush()
        elif self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # called outside a run's event loop: nothing to wait for
                self.flush()
                return
            self._timer = loop.call_later(BATCH_WINDOW_S, self.flush)

    async def ready(self) -> None:
        await self._writer.room(LAG_LIMIT_S)

    def flush(self) -> None:
        """Hand the results waiting to the writer thread (one transaction); outside an
        event loop, write them here once the writer is done."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._batch = self._batch, []
        if not batch or self.run_id is None or self.failed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._settle(wait=True)
            self._guard(lambda: self._write(batch))
        else:
            self._writer.put(batch)

    def finished(self, report: RunReport) -> None:
        self.flush()
        self._settle(wait=True)
        run_id = self.run_id
        if run_id is not None:
            self._guard(lambda: self.store.finish_run(run_id, report))
            self.closed = True

    def abandon(self) -> None:
        """The process leaves without a report (an error escaped the run)."""
        run_id = self.run_id
        if run_id is not None and not self.closed:
            self.flush()
            self._settle(wait=True)
            self._guard(lambda: self.store.abandon_run(run_id))
            self.closed = True

    def _write(self, batch: list[ProbeResult]) -> None:
        run_id = self.run_id
        if run_id is not None:
            self.store.add_results(run_id, batch)

    def _settle(self, *, wait: bool) -> None:
        """Report, in the caller's thread, what the writer thread failed with; with
        `wait`, once it has written everything (the store is then the caller's again)."""
        if wait:
            self._writer.wait()
        error, self._writer.error = self._writer.error, None
        if error is None or self.failed:
            return
        if not isinstance(error, StoreError):
            raise error
        self._fail(error)

    def _guard(self, write: Callable[[], T]) -> T | None:
        if self.failed:
            return None
        try:
            return write()
        except StoreError as exc:
            self._fail(exc)
            return None

    def _fail(self, exc: StoreError) -> None:
        self.failed = True
        self.on_failure(
            f"the history database {self.store.location} failed ({exc.reason}); "
            "the rest of this run is not stored"
        )
