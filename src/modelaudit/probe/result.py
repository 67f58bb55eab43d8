"""The values a probe run produces: frozen, free of secrets, and the same for every consumer
(the table, the JSON document, the store, the report, the gate).

An `Attempt` is one HTTP exchange; a `ProbeResult` is one kind of probe of one model, with
every attempt it took; a `ModelVerdict` is the run's conclusion about one model.

What a server said (a detail, a served model, a header, a catalog's note) is bounded and
printable the moment it becomes part of one of these values (`untrusted.outside`): nothing
downstream (the store, a report, a terminal) ever holds a 5 MB model id or an escape
sequence, and no retry hint is NaN or infinite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from modelaudit.untrusted import (
    MAX_DETAIL_CHARS,
    MAX_HEADERS,
    MAX_ID_CHARS,
    MAX_NOTE_CHARS,
    outside,
    outside_or_none,
)
from modelaudit.vocabulary import ErrorClass, Phase, ProbeKind, RunStatus, Verdict

MAX_REASON_CHARS = 2 * MAX_DETAIL_CHARS
"""A verdict's reason quotes the detail of a probe or two."""


def _bound(value: object, name: str, text: str | None, limit: int) -> None:
    """Set the (frozen) field `name` to `text` made bounded and printable."""
    object.__setattr__(value, name, outside_or_none(text, limit))


@dataclass(frozen=True)
class Attempt:
    number: int
    """1-based: attempt 2 is the first retry."""
    started_at: datetime
    """Timezone-aware UTC."""
    error_class: ErrorClass
    http_status: int | None = None
    latency_ms: float | None = None
    """From when the request went out (its connection attempt, or its first bytes on a
    reused connection) to the last byte of the response (monotonic clock)."""
    ttft_ms: float | None = None
    """Streams only: from the same start to the first non-empty text or reasoning delta."""
    failed_phase: Phase | None = None
    """Which deadline was hit, for timeouts."""
    connect_ms: float | None = None
    """Connection setup (DNS, TCP, TLS) when this attempt opened a new connection."""
    connection_reused: bool | None = None
    served_model: str | None = None
    """The model id the response says served it."""
    system_fingerprint: str | None = None
    output_tokens: int | None = None
    tokens_per_s: float | None = None
    """Streams: output tokens per second after the first token."""
    max_gap_ms: float | None = None
    """Streams: the longest pause between two chunks with text."""
    retry_after_s: float | None = None
    """The server's retry hint (header or body), if it gave one."""
    ratelimit: tuple[tuple[str, str], ...] = ()
    """Rate-limit headers seen (`x-ratelimit-*`, `anthropic-ratelimit-*`), sorted by name."""
    detail: str = ""
    """One redacted line: what happened, in words a person can act on."""
    about_target: bool | None = None
    """What the failure proves about the target: True for a refusal by a host on this
    machine or network (nothing listens: definitive), False for one that says nothing about
    it (a portal page), None when its class says (a connection-level failure says nothing;
    any HTTP answer from the API says something). Decides whether the control check may
    turn it `inconclusive`; not stored."""

    def __post_init__(self) -> None:
        _bound(self, "detail", self.detail, MAX_DETAIL_CHARS)
        _bound(self, "served_model", self.served_model, MAX_ID_CHARS)
        _bound(self, "system_fingerprint", self.system_fingerprint, MAX_ID_CHARS)
        headers = tuple(
            (outside(name, MAX_ID_CHARS), outside(value, MAX_ID_CHARS))
            for name, value in self.ratelimit[:MAX_HEADERS]
        )
        object.__setattr__(self, "ratelimit", headers)
        if self.retry_after_s is not None and not math.isfinite(self.retry_after_s):
            object.__setattr__(self, "retry_after_s", None)


@dataclass(frozen=True)
class CatalogFinding:
    listed: bool
    retires: date | None = None
    """The shutdown or deprecation date the provider's list gives."""
    lifecycle: str | None = None
    note: str | None = None
    retrieved_by_id: bool = False
    """Absent from the list but found by the API's look-up by id (an alias the list leaves
    out, such as Anthropic's `claude-sonnet-4-5`): listed all the same."""
    resolved_id: str | None = None
    """The id the look-up answered with (`claude-sonnet-4-5-20250929`), when it names one."""

    def __post_init__(self) -> None:
        _bound(self, "lifecycle", self.lifecycle, MAX_NOTE_CHARS)
        _bound(self, "note", self.note, MAX_NOTE_CHARS)
        _bound(self, "resolved_id", self.resolved_id, MAX_ID_CHARS)


class HealthState(StrEnum):
    OK = "ok"
    LOADING = "loading"
    """The server is up but still loading its model (llama.cpp's 503 "Loading model")."""
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True)
class ProbeResult:
    provider: str
    model: str
    kind: ProbeKind
    attempts: tuple[Attempt, ...]
    catalog: CatalogFinding | None = None
    """catalog probes: what the list said about this model."""
    health: HealthState | None = None
    """health probes: what the server's own endpoint said."""
    catalog_ids: tuple[str, ...] | None = None
    """catalog probes that read the whole model list: every id it returned (the same tuple
    for each of the provider's models), so the store can tell which models appeared or
    vanished between runs. None when the list could not be read."""

    def __post_init__(self) -> None:
        if not self.attempts:
            raise ValueError("a ProbeResult needs at least one attempt")

    @property
    def final(self) -> Attempt:
        return self.attempts[-1]

    @property
    def error_class(self) -> ErrorClass:
        return self.final.error_class

    @property
    def ok(self) -> bool:
        return self.final.error_class is ErrorClass.OK

    @property
    def started_at(self) -> datetime:
        return self.attempts[0].started_at


@dataclass(frozen=True)
class ModelVerdict:
    provider: str
    model: str
    verdict: Verdict
    reason: str
    """One line a person can act on; names the variable to set for `skipped`."""
    error_class: ErrorClass | None = None
    """The error class that decided the verdict, when one did."""

    def __post_init__(self) -> None:
        _bound(self, "reason", self.reason, MAX_REASON_CHARS)


@dataclass(frozen=True)
class ControlCheck:
    """Whether this machine could reach the outside when every provider failed to connect."""

    reachable: bool
    target: str
    detail: str


@dataclass(frozen=True)
class RunReport:
    started_at: datetime
    finished_at: datetime
    status: RunStatus
    results: tuple[ProbeResult, ...]
    verdicts: tuple[ModelVerdict, ...]
    control: ControlCheck | None = None
    requests_sent: int = 0
    output_tokens_requested: int = 0
    notes: tuple[str, ...] = field(default=())
    """Run-level remarks (budget exhausted, connection reuse...)."""
    internal_errors: tuple[str, ...] = field(default=())
    """Providers whose probing failed on a bug in modelaudit, one line each: their models
    are inconclusive, every other provider's verdicts stand, and the run exits 4."""
