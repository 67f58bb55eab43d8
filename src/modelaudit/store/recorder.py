"""Stores a run as it happens, through the runner's `Observer` hooks: the run row at
`started`, each probe result's attempts in its own short transaction as it completes,
verdicts and the final status at `finished`. A run cut short keeps what completed.

A database that fails mid-run (disk full, a lock held past the busy timeout) does not
stop the probe: the failure is reported once and the rest of the run goes unstored.
"""

from __future__ import annotations

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

    def started(self, plan: Plan, started_at: datetime) -> None:
        self.run_id = self._guard(
            lambda: self.store.begin_run(started_at, self.registry_sha256, self.origin)
        )

    def result(self, result: ProbeResult) -> None:
        run_id = self.run_id
        if run_id is not None:
            self._guard(lambda: self.store.add_results(run_id, (result,)))

    def finished(self, report: RunReport) -> None:
        run_id = self.run_id
        if run_id is not None:
            self._guard(lambda: self.store.finish_run(run_id, report))
            self.closed = True

    def abandon(self) -> None:
        """The process leaves without a report (an error escaped the run)."""
        run_id = self.run_id
        if run_id is not None and not self.closed:
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
