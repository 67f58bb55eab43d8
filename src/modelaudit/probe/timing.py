"""Deadlines per phase of a request, on the monotonic clock."""

from __future__ import annotations

from dataclasses import dataclass

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


TIMINGS = "timings"
"""The `response.extensions` key under which a transport hands back its `WireTimes`."""


@dataclass
class WireTimes:
    """When an exchange's bytes moved, on the `time.perf_counter` clock: what a transport
    hands back in `response.extensions["timings"]`, filled in as the exchange goes.

    `modelaudit.probe.http1` stamps each at the wire (the `connect` call, the handshake
    seen done, the request's bytes handed to the kernel, each chunk handed over by the
    event loop before anything parses it); a proxied origin's transport stamps them as
    httpcore reports them (`modelaudit.probe.client`)."""

    connect_start: float | None = None
    """When this exchange began opening its connection; None when it reused one."""
    connect_end: float | None = None
    """When that connection was ready to carry the request (TCP, then TLS, handshakes done)."""
    sent: float | None = None
    """When the request's first bytes were handed to the kernel."""
    headers: float | None = None
    """When the bytes that completed the response head arrived."""
    arrived: float | None = None
    """When the body chunk the response stream yielded last arrived."""
    end: float | None = None
    """When the body's last byte arrived (once the body was read to its end)."""
