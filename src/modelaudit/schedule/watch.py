"""`modelaudit watch`: probe on a schedule until stopped.

Runs start on slots `every` apart (plus a random delay of up to `jitter`, so many
watchers do not hit a provider in the same second); a run that outlasts its slot skips the
slots it missed rather than overlapping itself. The registry is read again before each run;
if it became invalid, the last good one is kept. A provider failing is a result like any
other; even an unexpected error in one run is reported and the next run goes ahead.
SIGTERM or Ctrl-C ends a run in progress as `interrupted` (what completed is stored) and
the watcher exits 0, unless one of its runs failed on a bug in modelaudit (each such run is
logged as `run N failed`): then it exits 4 when it stops, so a supervisor that restarts it,
or the cron mail that shows its status, does not report a clean run over a logged failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import signal
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelaudit.errors import ConfigError, ModelauditError
from modelaudit.exitcodes import ExitCode

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import timedelta

    from modelaudit.probe.plan import Plan
    from modelaudit.probe.result import RunReport
    from modelaudit.schedule.job import Job
    from modelaudit.vocabulary import Verdict


@dataclass(frozen=True)
class Schedule:
    every: timedelta
    jitter: timedelta
    count: int | None = None
    """Stop after this many runs (None: until stopped)."""


@dataclass(frozen=True)
class Voice:
    """Where the watcher reports (the CLI's console)."""

    info: Callable[[str], None]
    warn: Callable[[str], None]
    error: Callable[[str], None]


def next_slot(previous: float, now: float, every: float) -> float:
    """The first slot after `previous` that is not already past (missed slots are
    skipped, never made up in a burst)."""
    slot = previous + every
    if slot <= now:
        slot += math.ceil((now - slot) / every) * every
        if slot <= now:
            slot += every
    return slot


class Watcher:
    def __init__(
        self,
        plan_source: Callable[[], tuple[Plan, str]],
        schedule: Schedule,
        job: Job,
        fail_on: tuple[Verdict, ...],
        voice: Voice,
    ) -> None:
        self.plan_source = plan_source
        self.schedule = schedule
        self.job = job
        self.fail_on = fail_on
        self.voice = voice
        self.stop = asyncio.Event()
        self.runs = 0
        self.failed_runs = 0
        """Runs that failed on a bug in modelaudit (logged as such): the exit code is 4."""
        self._plan = plan_source()  # a broken registry at start is a usage error
        self._rng = random.Random()  # noqa: S311 - jitter, not security

    async def watch(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop.set)
        every = self.schedule.every.total_seconds()
        slot = time.monotonic()
        while not self.stop.is_set():
            await self._one_run()
            if self.schedule.count is not None and self.runs >= self.schedule.count:
                break
            slot = next_slot(slot, time.monotonic(), every)
            delay = slot - time.monotonic() + self._rng.uniform(0, self.jitter_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=max(0.0, delay))
        return ExitCode.INTERNAL if self.failed_runs else ExitCode.OK

    @property
    def jitter_s(self) -> float:
        return self.schedule.jitter.total_seconds()

    async def _one_run(self) -> None:
        plan, registry_sha256 = self._refresh()
        self.runs += 1
        try:
            report = await self._run(plan, registry_sha256)
            if report is not None:
                await self._after(report)
        except Exception as exc:  # noqa: BLE001 - a bug in one run must not end the watch
            self.failed_runs += 1
            self.job.abandon_run()  # what it stored stays, marked interrupted
            self.voice.error(
                f"run {self.runs} failed: internal error: {type(exc).__name__}: "
                f"{exc} (this is a bug in modelaudit)"
            )

    def _refresh(self) -> tuple[Plan, str]:
        try:
            self._plan = self.plan_source()
        except ConfigError as exc:
            self.voice.warn(
                f"the registry has {len(exc.problems)} problem(s), keeping the last good one: "
                f"{exc.problems[0]}"
            )
        except ModelauditError as exc:
            self.voice.warn(f"{exc.message}; keeping the last good registry")
        return self._plan

    async def _run(self, plan: Plan, registry_sha256: str) -> RunReport | None:
        from modelaudit.probe import runner

        observer = self.job.observer(registry_sha256)
        await asyncio.to_thread(self.job.ping_start)
        task = asyncio.create_task(runner.run(plan, observer))
        stopping = asyncio.create_task(self.stop.wait())
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            task.cancel()  # the runner ends the run as `interrupted`
        stopping.cancel()
        try:
            return await task
        except asyncio.CancelledError:
            self.job.abandon_run()
            return None

    async def _after(self, report: RunReport) -> None:
        from modelaudit.probe import outcome
        from modelaudit.vocabulary import RunStatus

        summary = outcome.summary_line(report)
        self.voice.info(f"run {self.runs}: {summary}")
        if report.internal_errors:
            self.failed_runs += 1
            for line in report.internal_errors:
                self.voice.error(f"run {self.runs} failed for {line}")
        for line in self.job.last_answers(report):
            self.voice.warn(line)
        if report.status is RunStatus.INTERRUPTED and self.stop.is_set():
            # Stopped on purpose: record what was done, but do not report a failure.
            await asyncio.to_thread(self.job.finish, report, None, summary)
            return
        code = outcome.exit_code(report, self.fail_on)
        self.job.stored(report)  # the store's own thread; bounded by the send timeout
        await asyncio.to_thread(self.job.finish, report, code, summary)
