"""The closed vocabularies shared by every layer: probe kinds, error classes, verdicts,
and the categories every layer decides by (a generation kind, a success, a gone model, an
incident), each as a property of its member, decided here once.

Their string values are a public contract (JSON output, the database, the README):
add members, never rename them.
"""

from __future__ import annotations

from enum import StrEnum


class ProbeKind(StrEnum):
    CATALOG = "catalog"
    """Is the model listed by the provider's model-list endpoint? Spends no tokens."""
    COMPLETION = "completion"
    """The cheapest real generation."""
    STREAM = "stream"
    """A streamed generation: time to first token, inter-token gaps, tokens/s."""
    HEALTH = "health"
    """A self-hosted server's own health or readiness endpoint."""

    @property
    def generates(self) -> bool:
        """A real generation (spends output tokens): completion, stream."""
        return self in _GENERATION_KINDS

    @property
    def counts_for_availability(self) -> bool:
        """Its attempts count in a model's availability: generations and health (a listing
        says a model exists, not that it answers)."""
        return self in _AVAILABILITY_KINDS


class ErrorClass(StrEnum):
    OK = "ok"
    MODEL_NOT_FOUND = "model_not_found"
    MODEL_DEPRECATED = "model_deprecated"
    AUTH_FAILED = "auth_failed"
    ACCESS_DENIED = "access_denied"
    QUOTA_EXHAUSTED = "quota_exhausted"
    RATE_LIMITED = "rate_limited"
    OVERLOADED = "overloaded"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    CONNECT_FAILED = "connect_failed"
    DNS_FAILED = "dns_failed"
    TLS_FAILED = "tls_failed"
    PROTOCOL_ERROR = "protocol_error"
    BAD_REQUEST = "bad_request"
    CONTENT_FILTERED = "content_filtered"
    MODEL_SUBSTITUTED = "model_substituted"
    """A generation was answered by another model than the one asked for (a server that
    answers any name with the model it has loaded): the requested model does not answer."""

    @property
    def is_success(self) -> bool:
        """The model answered: ok, or answered with its reply filtered."""
        return self in _SUCCESS_CLASSES

    @property
    def is_gone(self) -> bool:
        """Says the requested model is not there (any more): not found, deprecated, or
        answered by another model; the only classes that can make a model `gone`."""
        return self in _GONE_CLASSES


class Verdict(StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    GONE = "gone"
    BLOCKED = "blocked"
    SKIPPED = "skipped"
    INCONCLUSIVE = "inconclusive"

    @property
    def answering(self) -> bool:
        """The model answered in this run: up or degraded."""
        return self in ANSWERING_VERDICTS

    @property
    def undecided(self) -> bool:
        """The run could not tell (skipped, inconclusive): it says nothing of the model."""
        return self in _UNDECIDED

    @property
    def is_incident(self) -> bool:
        """Starts (or continues) an incident: down, gone."""
        return self in INCIDENT_VERDICTS

    @property
    def is_neutral(self) -> bool:
        """Neither starts nor ends an incident: undecided, or our access broke (blocked)."""
        return self in NEUTRAL_VERDICTS


class Hosting(StrEnum):
    VENDOR = "vendor"
    THIRD_PARTY = "third-party"
    SELF_HOSTED = "self-hosted"


class Weights(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ServerEngine(StrEnum):
    VLLM = "vllm"
    SGLANG = "sglang"
    LLAMACPP = "llamacpp"
    TGI = "tgi"
    OLLAMA = "ollama"
    LMSTUDIO = "lmstudio"
    LOCALAI = "localai"
    TRITON = "triton"


class Phase(StrEnum):
    """Where in a request a deadline was hit."""

    CONNECT = "connect"
    """DNS, TCP and TLS: no connection."""
    FIRST_BYTE = "first_byte"
    """Connected and sent, but no response headers."""
    FIRST_TOKEN = "first_token"  # noqa: S105 - a phase name, not a password
    """A stream started, but no token (text or reasoning) arrived."""
    STALL = "stall"
    """A stream or body stopped moving between chunks."""
    TOTAL = "total"
    """The whole request outlived its deadline (a server trickling bytes)."""


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    INTERRUPTED = "interrupted"
    INCONCLUSIVE = "inconclusive"


_GENERATION_KINDS = frozenset({ProbeKind.COMPLETION, ProbeKind.STREAM})
_AVAILABILITY_KINDS = frozenset({*_GENERATION_KINDS, ProbeKind.HEALTH})
GENERATION_KINDS = tuple(k for k in ProbeKind if k.generates)
"""In the order a plan runs them."""
AVAILABILITY_KINDS = _AVAILABILITY_KINDS

_SUCCESS_CLASSES = frozenset({ErrorClass.OK, ErrorClass.CONTENT_FILTERED})
_GONE_CLASSES = frozenset(
    {ErrorClass.MODEL_NOT_FOUND, ErrorClass.MODEL_DEPRECATED, ErrorClass.MODEL_SUBSTITUTED}
)
SUCCESS_CLASSES = _SUCCESS_CLASSES
GONE_CLASSES = _GONE_CLASSES

ANSWERING_VERDICTS = frozenset({Verdict.UP, Verdict.DEGRADED})
_UNDECIDED = frozenset({Verdict.SKIPPED, Verdict.INCONCLUSIVE})
INCIDENT_VERDICTS = frozenset({Verdict.DOWN, Verdict.GONE})
NEUTRAL_VERDICTS = frozenset({*_UNDECIDED, Verdict.BLOCKED})
