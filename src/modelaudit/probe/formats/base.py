"""The interface of a probe output format."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.probe.runner import Observer

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from modelaudit.probe.plan import Plan
    from modelaudit.probe.result import RunReport


class ProbeFormatter(Observer):
    """Writes data to stdout: as the run goes (as an `Observer`) and/or at its end."""

    def __init__(self, write: Callable[[str], None] | None = None) -> None:
        from modelaudit.cli.console import data, data_chunks

        self.write = write or data
        self.write_chunks: Callable[[Iterable[str]], None] = (
            (lambda chunks: write("".join(chunks))) if write else data_chunks
        )
        """A document written as it is built (to stdout), or joined for a given `write`."""

    def emit(self, report: RunReport) -> None:
        """Write the final output for the finished run."""

    def emit_plan(self, plan: Plan) -> None:
        """Write what a `--dry-run` would send (nothing is sent)."""
        raise NotImplementedError
