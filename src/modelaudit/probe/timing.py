"""Deadlines per phase of a request, on the monotonic clock."""

from __future__ import annotations

from modelaudit.vocabulary import Phase


class DeadlineExceeded(Exception):  # noqa: N818 - reads as the event it is
    """A phase of a request outlived its budget. Raised by the runner, classified as timeout."""

    def __init__(self, phase: Phase, budget_s: float) -> None:
        super().__init__(f"no {phase.value.replace('_', ' ')} within {budget_s:g} s")
        self.phase = phase
        self.budget_s = budget_s
