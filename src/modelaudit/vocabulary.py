"""The closed vocabularies shared by every layer: probe kinds, error classes, verdicts.

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


class Verdict(StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    GONE = "gone"
    BLOCKED = "blocked"
    SKIPPED = "skipped"
    INCONCLUSIVE = "inconclusive"


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
