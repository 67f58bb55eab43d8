"""The interface of a probe output format."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.output.base import Formatter
from modelaudit.probe.runner import Observer

if TYPE_CHECKING:
    from modelaudit.probe.plan import Plan
    from modelaudit.probe.result import RunReport


class ProbeFormatter(Formatter["RunReport"], Observer):
    """Writes a run: as it goes (as an `Observer`) and/or at its end (`write`)."""

    def write_plan(self, plan: Plan) -> None:
        """Write what a `--dry-run` would send (nothing is sent)."""
        from modelaudit.outgoing import outgoing

        self.write_plan_safe(outgoing(plan))
        self.out.flush()

    def write_safe(self, value: RunReport) -> None:
        """Write the final output for the finished run."""

    def write_plan_safe(self, plan: Plan) -> None:
        raise NotImplementedError
