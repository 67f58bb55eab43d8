"""Deadlines per phase of a request, on the monotonic clock."""

from __future__ import annotations

from modelaudit.vocabulary import Phase

_WHAT_HAPPENED = {
    Phase.CONNECT: "could not connect within {budget} s",
    Phase.FIRST_BYTE: "no response headers within {budget} s",
    Phase.FIRST_TOKEN: "no first token within {budget} s",
    Phase.STALL: "the response stalled for more than {budget} s between chunks",
    Phase.TOTAL: "the request did not complete within {budget} s",
}
"""Each phase's deadline, told as what the server failed to do (the detail a person reads)."""


class DeadlineExceeded(Exception):  # noqa: N818 - reads as the event it is
    """A phase of a request outlived its budget. Raised by the runner, classified as timeout.

    The message names the `defaults.timeouts` setting to raise: "no response headers
    within 10 s (first_byte_s)"."""

    def __init__(self, phase: Phase, budget_s: float) -> None:
        what = _WHAT_HAPPENED[phase].format(budget=f"{budget_s:g}")
        super().__init__(f"{what} ({phase.value}_s)")
        self.phase = phase
        self.budget_s = budget_s
