"""The live progress display on stderr, shown only when stderr is a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.probe.runner import Observer

if TYPE_CHECKING:
    from datetime import datetime

    from rich.progress import Progress, TaskID

    from modelaudit.probe.plan import Plan
    from modelaudit.probe.result import ModelVerdict, RunReport


class LiveProgress(Observer):
    """A progress bar, with a line per model as each one finishes."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def started(self, plan: Plan, started_at: datetime) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        from modelaudit.cli.console import err

        self._progress = Progress(
            TextColumn("probing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("models"),
            console=err(),
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task("probe", total=plan.model_count)

    def model_done(self, provisional: ModelVerdict) -> None:
        from rich.text import Text

        from modelaudit.outgoing import safe_text
        from modelaudit.probe.formats.table import VERDICT_STYLE

        if self._progress is None or self._task is None:
            return
        line = Text(f"{provisional.verdict.value:<12}", style=VERDICT_STYLE[provisional.verdict])
        line.append(safe_text(f" {provisional.provider}/{provisional.model}  "))
        line.append(safe_text(provisional.reason), style="dim")
        self._progress.console.print(line, soft_wrap=True, overflow="ellipsis", no_wrap=True)
        self._progress.advance(self._task)

    def finished(self, report: RunReport) -> None:
        if self._progress is not None:
            self._progress.stop()
