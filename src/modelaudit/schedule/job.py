"""What a run does besides printing its output: store itself in the history database, write
the metrics file, ping the dead-man's switch. Shared by `probe` (one run) and `watch` (a
run per tick), so both behave the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from modelaudit.probe.runner import Observer
from modelaudit.vocabulary import RunStatus, Verdict

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from types import TracebackType

    from modelaudit.alerts.service import Alerting
    from modelaudit.metrics.prometheus import MetricsState
    from modelaudit.probe.result import RunReport
    from modelaudit.registry.loader import LoadedRegistry
    from modelaudit.schedule.ping import Pinger
    from modelaudit.schedule.serve import Published
    from modelaudit.store.backends import StoreLocation
    from modelaudit.store.base import Origin, Store
    from modelaudit.store.recorder import StoreRecorder

LOST = frozenset({Verdict.GONE, Verdict.DOWN})


@dataclass(frozen=True)
class JobOptions:
    store: StoreLocation | None = None
    """Where to record the runs; None records nothing (`--no-store`)."""
    metrics_file: Path | None = None
    ping_url: str | None = None
    origin: Origin | None = None
    """The agent's region and id, stamped on its runs and metrics (None: the host name)."""
    alerts: bool = True
    """Evaluate the registry's `alerts:` after each stored run (`--no-alerts`: False)."""


class Job:
    """Open for the life of the command (a context manager); `run()` gives each run its
    observer and `finish()` its side effects."""

    def __init__(
        self,
        options: JobOptions,
        warn: Callable[[str], None],
        info: Callable[[str], None] | None = None,
    ) -> None:
        from modelaudit.schedule.ping import Pinger

        self.options = options
        self.warn = warn
        self.info = info or warn
        self.pinger: Pinger | None = Pinger(options.ping_url, warn) if options.ping_url else None
        self.store: Store | None = None
        self.recorder: StoreRecorder | None = None
        self.metrics: MetricsState | None = None
        self.registry: LoadedRegistry | None = None
        """The registry of the next run (alert routes, maintenance windows)."""
        self.alerting: Alerting | None = None
        self.published: Published | None = None
        """What `watch --serve` shows, refreshed after each run."""

    def __enter__(self) -> Job:
        if self.options.store is not None:
            self.store = self.options.store.open()
            if self.options.alerts:
                from modelaudit.alerts.service import Alerting

                self.alerting = Alerting(self.store, self.warn, self.info)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.recorder is not None:
            self.recorder.abandon()  # a no-op once the run closed itself
        if self.store is not None:
            self.store.close()

    def observer(self, registry_sha256: str) -> Observer:
        """The observer of the next run: it stores the run as it goes (or nothing)."""
        if self.store is None:
            return Observer()
        from modelaudit.store.recorder import StoreRecorder

        self.recorder = StoreRecorder(self.store, registry_sha256, self.warn, self.options.origin)
        return self.recorder

    def ping_start(self) -> None:
        if self.pinger is not None:
            self.pinger.start()

    def abandon_run(self) -> None:
        """The run ended without a report: mark it interrupted now."""
        if self.recorder is not None:
            self.recorder.abandon()

    def finish(self, report: RunReport, exit_code: int | None, summary: str) -> None:
        """After the run: metrics, then the ping (so a ping never claims more than is
        written). No ping without an exit code (a watcher stopped on purpose)."""
        path = self.options.metrics_file
        if path is not None and self.metrics is None:
            from modelaudit.metrics.prometheus import read_textfile

            self.metrics, problem = read_textfile(path)  # carry on the last run's counters
            if problem is not None:
                self.warn(
                    f"the metrics file {path} could not be read back ({problem}): "
                    "its counters start afresh"
                )
        if self.metrics is not None:
            self.metrics.region = self.options.origin.region if self.options.origin else ""
            self.metrics.record(report)
        if path is not None and self.metrics is not None:
            self._write_metrics(path, self.metrics)
        if self.pinger is not None and exit_code is not None:
            self.pinger.finish(exit_code, summary)

    def stored(self, report: RunReport) -> None:
        """Once the run is stored, in the thread that owns the store: tell the alert routes
        what it changed, and refresh what `watch --serve` shows. A run stopped on purpose
        does neither (its verdicts are partial, and the exit must be quick)."""
        if report.status is RunStatus.INTERRUPTED:
            return
        self._alert(report)
        if self.published is not None and self.store is not None and self.registry is not None:
            self.published.refresh(self.registry.registry, self.store, self.warn)

    def _alert(self, report: RunReport) -> None:
        recorder, loaded = self.recorder, self.registry
        if self.alerting is None or loaded is None or loaded.registry.alerts is None:
            return
        if recorder is None or recorder.run_id is None or recorder.failed:
            self.warn("alerts were not evaluated: this run is not in the history store")
            return
        self.alerting.after_run(
            loaded.registry, loaded.path.parent, report, recorder.run_id, self._scope()
        )

    def _scope(self) -> str:
        """The region alerts follow this agent's verdicts in: its region when one was set,
        "" for a machine probing alone (whose region is just its host name)."""
        import socket

        origin = self.options.origin
        if origin is None or origin.region == (socket.gethostname() or "localhost"):
            return ""
        return origin.region

    def _write_metrics(self, path: Path, metrics: MetricsState) -> None:
        from modelaudit.fileio import FileError
        from modelaudit.metrics.prometheus import write_textfile

        try:
            write_textfile(path, metrics)
        except FileError as exc:
            self.warn(f"could not write the metrics file: {exc.message}")

    def last_answers(self, report: RunReport) -> list[str]:
        """For models found gone or down: when they last answered, from the history."""
        if self.store is None:
            return []
        lines = []
        for verdict in report.verdicts:
            if verdict.verdict not in LOST:
                continue
            when = self.store.last_ok(verdict.provider, verdict.model, before=report.started_at)
            if when is not None:
                lines.append(
                    f"{verdict.provider}/{verdict.model} is {verdict.verdict.value}; "
                    f"it last answered {_ago(when, report.started_at)}"
                )
        return lines


def _ago(when: datetime, now: datetime) -> str:
    from modelaudit.clock import iso

    days = (now - when).total_seconds() / 86400
    span = f"{days:.0f} days ago" if days >= 2 else f"{days * 24:.0f} hours ago"
    return f"{iso(when.astimezone(UTC))} ({span})"
