"""Stores a run as it happens, through the runner's `Observer` hooks: the run row at
`started`, probe results in batches as they complete, verdicts and the final status at
`finished`. A run cut short keeps what completed.

Results are written in batches: the first result of a batch sets a timer of
`BATCH_WINDOW_S`, and the batch is written when the timer fires, when it holds
`BATCH_SIZE` results, or when the run ends, whichever comes first. Each batch is one short
transaction, taken between two steps of the event loop, never across network I/O (a
10,000-model run writes a few hundred transactions instead of 20,000). What a kill -9
can lose is the batch not yet written: at most `BATCH_WINDOW_S` of results. The run is
then found `running` with a dead process by the next command that opens the store, which
marks it `interrupted` and ends it at its last stored attempt: the results after that
moment are the lost batch.

A database that fails mid-run (disk full, a lock held past the busy timeout) does not
stop the probe: the failure is reported once and the rest of the run goes unstored.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, TypeVar

from modelaudit.errors import StoreError
from modelaudit.probe.runner import Observer

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

    def started(self, plan: Plan, started_at: datetime) -> None:
        self.run_id = self._guard(
            lambda: self.store.begin_run(started_at, self.registry_sha256, self.origin)
        )

    def result(self, result: ProbeResult) -> None:
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

    def flush(self) -> None:
        """Write the results waiting, in one transaction."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._batch = self._batch, []
        run_id = self.run_id
        if batch and run_id is not None:
            self._guard(lambda: self.store.add_results(run_id, batch))

    def finished(self, report: RunReport) -> None:
        self.flush()
        run_id = self.run_id
        if run_id is not None:
            self._guard(lambda: self.store.finish_run(run_id, report))
            self.closed = True

    def abandon(self) -> None:
        """The process leaves without a report (an error escaped the run)."""
        run_id = self.run_id
        if run_id is not None and not self.closed:
            self.flush()
            self._guard(lambda: self.store.abandon_run(run_id))
            self.closed = True

    def _guard(self, write: Callable[[], T]) -> T | None:
        if self.failed:
            return None
        try:
            return write()
        except StoreError as exc:
            self.failed = True
            self.on_failure(
                f"the history database {self.store.location} failed ({exc.reason}); "
                "the rest of this run is not stored"
            )
            return None
