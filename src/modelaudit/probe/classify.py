"""The one place that decides error classes.

Everything a probe meets ends here as one `ErrorClass` (with, where it helps, what to fix):
an exception (transport), a response with the provider's error envelope, an error inside a
200 (a stream event, a body), a body that is not the API's, a generation another model
answered, a health endpoint's state, a look-up by id. Nothing else in the probe maps a
response to a class.

A response is read as signals, strongest first (docs/signals.md is the table):

1. the status, and the status the body itself states for an error inside a 200;
2. the provider's structured code, type, status and `google.rpc` details (`ErrorInfo.reason`,
   `QuotaFailure` quota ids and values, `RetryInfo`);
3. rate-limit and reset headers (`retry-after`, `retry-after-ms`, `x-ratelimit-reset-*`,
   `anthropic-ratelimit-*-reset`, OpenRouter's `X-RateLimit-Reset` inside the body);
4. then the meaning of the message, through a documented table of phrases (`SIGNALS`).

The rules run in this order, the first that applies decides: billing, account state,
region or tier, model lifecycle, other endpoint, wrong route, unknown model, credentials,
access, capacity, limits (rate or quota), content filter, provider-side failure, and
finally the status alone.
Message phrases count only where the status makes the reading safe: a wrong
`model_not_found` makes a live model look `gone`.

Judgement calls, each pinned by tests (tests/probe/test_classify.py, tests/corpus):

* A limit is a quota (`quota_exhausted`, never cleared by waiting) when its value is 0 for
  this model, when the server's own hint or reset is an hour or more away, or when its
  window is a day, a month, a billing cycle or a session and no shorter hint is given; a
  per-minute limit worded as "quota" or "credit limit" is a rate limit.
* Google's `RESOURCE_EXHAUSTED` words every limit like a billing problem ("check your plan
  and billing details"): for it, only the structure (quota ids, limit 0, hints) decides.
* A 404 or 405 with no error envelope of an API (an HTML page, a bare text, FastAPI's
  `{"detail":"Not Found"}`, llama.cpp's "File Not Found") is the route, not the model:
  `bad_request`, with a reason that says to check `base_url`, `api` and `api_version`.
* An HTML page answering 2xx where JSON was expected (a captive portal, a login page)
  says nothing about the provider: `bad_request`, and the run's control check decides
  whether this machine is behind a portal.
* Any 402 is `quota_exhausted`: Payment Required is only ever sent for billing.
* An error inside a 200 whose envelope names neither a status nor a known type is
  `server_error`: the server itself reported that it failed mid-answer.
* 424 (TGI `generation`, Bedrock `ModelErrorException`) is `server_error`.
* A generation answered by another model (`model_substituted`) is not the requested model
  answering; a dated snapshot, a version, a `-latest` alias, a name the look-up by id
  resolved, Azure's declared `base_model` or a model's `served_as` are the same model.
"""

from __future__ import annotations

import ipaddress
import math
import re
import socket
import ssl
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

import httpx

from modelaudit.families.base import (
    Generation,
    ProviderError,
    StreamEnd,
    StreamFailure,
)
from modelaudit.families.envelopes import MAX_HINT_S
from modelaudit.probe.http1 import Refused
from modelaudit.probe.timing import DeadlineExceeded
from modelaudit.probe.transport import BodyTooLarge, ExchangeFailed, Redirected
from modelaudit.redact import redact
from modelaudit.vocabulary import ErrorClass

MAX_REASON_CHARS = 200
LONG_WAIT_S = 3600.0
"""A limit that lifts this far away (or later) will not clear by waiting: a quota."""


@dataclass(frozen=True)
class Finding:
    """What a failure or a response says: its class, and what to do about it."""

    error_class: ErrorClass
    fix: str | None = None
    """A few words a person can act on ("billing: add credits or a payment method")."""
    signal: str | None = None
    """The name of the signal that decided, from `SIGNALS` or a structured rule."""
    retry_after_s: float | None = None
    """The server's retry hint (headers first, then the body), when it gave one."""
    about_target: bool | None = None
    """True: the failure proves something about the target itself (a refusal by a host on
    this machine or network); False: it says nothing about the target (a portal page), so
    the run's control check decides; None: as the class says (see `verdict`)."""


# --- exceptions -----------------------------------------------------------------------

_DNS_WORDS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated with hostname",
    "getaddrinfo failed",
    "name resolution",
)
_TLS_WORDS = ("certificate_verify_failed", "certificate verify failed", "[ssl")
_PROTOCOL_ERRORS = (
    httpx.ProtocolError,  # garbage, a message cut short, no response (Remote/LocalProtocolError)
    httpx.DecodingError,
    httpx.TooManyRedirects,
)


def classify_exception(exc: BaseException, *, response_started: bool | None = None) -> ErrorClass:
    """The class of a failure that produced no usable response.

    Reads one tree, whatever transport served the request: httpx's exceptions (the probe's
    own HTTP/1.1 transport raises them as httpx's does, each from the OS or TLS error
    underneath), wrapped by `transport.ExchangeFailed`, or the exchange's own
    `DeadlineExceeded`, `BodyTooLarge` and `Redirected`. `response_started` tells a
    connection reset before the response (connect_failed) from one in the middle of the
    body (protocol_error); when unknown, httpx's read error counts as the latter and a bare
    OSError as the former."""
    chain = list(_exception_chain(exc))
    if any(isinstance(e, Redirected | BodyTooLarge) for e in chain):
        return ErrorClass.PROTOCOL_ERROR  # the answer was not one we can use
    if response_started is None:
        started = next((e for e in chain if isinstance(e, ExchangeFailed)), None)
        response_started = started.response_started if started else None
    if any(isinstance(e, DeadlineExceeded | httpx.TimeoutException | TimeoutError) for e in chain):
        return ErrorClass.TIMEOUT
    if any(isinstance(e, socket.gaierror) for e in chain) or _mentions(chain, _DNS_WORDS):
        return ErrorClass.DNS_FAILED
    if any(isinstance(e, ssl.SSLError) for e in chain) or _mentions(chain, _TLS_WORDS):
        return ErrorClass.TLS_FAILED
    if any(isinstance(e, _PROTOCOL_ERRORS) for e in chain):
        return ErrorClass.PROTOCOL_ERROR
    if any(isinstance(e, httpx.ReadError) for e in chain):
        return ErrorClass.CONNECT_FAILED if response_started is False else ErrorClass.PROTOCOL_ERROR
    status_error = next((e for e in chain if isinstance(e, httpx.HTTPStatusError)), None)
    if status_error is not None:
        return classify_response(status_error.response.status_code, None)
    # Refused, reset, unreachable (ENETUNREACH, EHOSTUNREACH), proxy and other httpx errors.
    if any(isinstance(e, OSError) for e in chain):
        return ErrorClass.PROTOCOL_ERROR if response_started else ErrorClass.CONNECT_FAILED
    if any(isinstance(e, httpx.HTTPError) for e in chain):
        return ErrorClass.CONNECT_FAILED
    return ErrorClass.PROTOCOL_ERROR


def read_exception(exc: BaseException) -> Finding:
    """`classify_exception`, and whether the failure proves the target is down: a TCP
    refusal from a loopback, private or link-local address means the host answered and
    nothing listens, whether or not this machine reaches the internet."""
    error_class = classify_exception(exc)
    refused = refused_locally(exc)
    if error_class is ErrorClass.CONNECT_FAILED and refused is not None:
        where = ", ".join(refused.addresses)
        fix = f"nothing listens on port {refused.port} of {where}: start the server"
        return Finding(error_class, fix=fix, signal="local-refusal", about_target=True)
    return Finding(error_class)


def refused_locally(exc: BaseException) -> Refused | None:
    """The refusal in `exc`'s chain when every address that refused is on this machine or
    its network (loopback, private, link-local, unique-local), else None."""
    refused = next((e for e in _exception_chain(exc) if isinstance(e, Refused)), None)
    if refused is None or not refused.addresses:
        return None
    return refused if all(is_local_address(a) for a in refused.addresses) else None


def is_local_address(address: str) -> bool:
    """Loopback, private (RFC 1918, IPv6 unique-local) or link-local."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def _mentions(chain: list[BaseException], words: tuple[str, ...]) -> bool:
    return any(word in str(e).lower() for e in chain for word in words)


# --- retry hints and resets: the one parser --------------------------------------------


def retry_after_s(
    headers: Mapping[str, str], body_hint_s: float | None = None, now: datetime | None = None
) -> float | None:
    """The server's retry hint in seconds: `retry-after-ms`, then `retry-after` (seconds or
    an HTTP date), then the hint carried in the body. A value that is not a finite number,
    is negative or lies more than a year away is no hint; a date in the past is 0."""
    millis = _seconds(headers.get("retry-after-ms"))
    if millis is not None and _bounded(millis / 1000.0) is not None:
        return _bounded(millis / 1000.0)
    value = headers.get("retry-after")
    if value is not None:
        seconds = _seconds(value)
        if seconds is None:
            seconds = _until(_http_date(value), now)
        if _bounded(seconds) is not None:
            return _bounded(seconds)
    return _bounded(body_hint_s)


def limit_resets_in_s(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """When the exhausted rate limit lifts, from the reset headers: the longest reset among
    the limits whose `remaining` is 0 (or of all of them when none says). OpenAI and Groq
    send durations (`6m0s`, `12ms`), Anthropic RFC 3339 times, OpenRouter epoch milliseconds."""
    resets: dict[str, float] = {}
    for name, value in headers.items():
        key = name.lower()
        if "ratelimit" not in key or "reset" not in key:
            continue
        seconds = _reset_seconds(value, now)
        if seconds is not None:
            resets[key] = seconds
    if not resets:
        return None
    exhausted = [
        seconds
        for key, seconds in resets.items()
        if headers.get(key.replace("reset", "remaining"), "").strip() == "0"
    ]
    return max(exhausted or resets.values())


def _reset_seconds(value: str, now: datetime | None) -> float | None:
    text = value.strip()
    duration = _go_duration(text)
    if duration is not None:
        return _bounded(duration)
    number = _seconds(text)
    if number is not None:
        if number > 1e12:  # epoch milliseconds
            return _fresh(number / 1000.0 - _now(now).timestamp())
        if number > 1e9:  # epoch seconds
            return _fresh(number - _now(now).timestamp())
        return _bounded(number)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return _fresh((when - _now(now)).total_seconds())


STALE_RESET_S = 60.0
"""A reset instant further than this in the past says nothing about now: the vendor's
clock is off, or the body was relayed (OpenRouter copies its upstream's headers into the
body) or replayed. Closer than this, it is clock skew: the limit has just lifted."""


def _fresh(seconds: float) -> float | None:
    if seconds < -STALE_RESET_S:
        return None
    return _bounded(seconds)


_GO_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|h|m|s))+$")
_GO_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _go_duration(text: str) -> float | None:
    if not _GO_DURATION.match(text):
        return None
    return sum(float(n) * _UNIT_S[u] for n, u in _GO_PART.findall(text))


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _http_date(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None


def _until(when: datetime | None, now: datetime | None) -> float | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - _now(now)).total_seconds(), 0.0)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _bounded(seconds: float | None) -> float | None:
    if seconds is None or not math.isfinite(seconds):
        return None
    if seconds > MAX_HINT_S:
        return None
    return max(seconds, 0.0)


# --- the table of message signals ------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    """A meaning carried by the message text: the phrases that say it (lower-case), the
    class it gives, what to fix, and who was seen sending it (for docs/signals.md)."""

    name: str
    error_class: ErrorClass
    phrases: tuple[str, ...]
    fix: str
    seen_from: tuple[str, ...]

    def said_by(self, text: str) -> bool:
        return any(phrase in text for phrase in self.phrases)


BILLING = Signal(
    "billing",
    ErrorClass.QUOTA_EXHAUSTED,
    (
        "billing details",
        "credit balance",
        "insufficient balance",
        "balance is insufficient",
        "insufficient credits",
        "insufficient account funds",
        "insufficient funds",
        "out of credits",
        "any credits",
        "more credits",
        "add credits",
        "purchase credits",
        "credit limit",
        "payment required",
        "payment method",
        "top up",
        "recharge",
        "arrear",
        "good standing",
        "paid balance",
        "余额不足",
        "欠费",
        "充值",
    ),
    "billing: add credits or fix the payment method",
    ("OpenAI", "Anthropic", "xAI", "DeepSeek", "Moonshot", "OpenRouter", "Together",
     "DashScope", "Zhipu", "SiliconFlow", "Xiaomi MiMo", "one-api/new-api"),
)  # fmt: skip
SPEND_LIMIT = Signal(
    "spend-limit",
    ErrorClass.QUOTA_EXHAUSTED,
    (
        "usage limit",
        "spending limit",
        "spend limit",
        "monthly limit",
        "regain access on",
        "upgrade for higher limits",
        "upgrade your plan",
        "upgrade to continue",
        "need a grok subscription",
        "requires a paid",
        "extra usage is required",
    ),
    "a usage or spending limit is reached: raise it, or wait for the period to reset",
    ("Anthropic", "xAI", "Ollama Cloud", "Kimi", "Kiro"),
)
QUOTA_SPENT = Signal(
    "quota-spent",
    ErrorClass.QUOTA_EXHAUSTED,
    ("exhausted", "exceeded", "used up", "replenished", "out of call volume"),
    "the account's quota is spent: raise it, or wait for it to be replenished",
    ("Azure API Management",),
)
"""A quota said to be spent (the message names the quota and one of these words), on a
4xx that is not a rate limit's (Azure API Management's quota policy answers 403 "Out of
call volume quota"): what was refused is our allowance, not our access. On a 429 the
limits rule reads the same words with their window."""
ACCOUNT_STATE = Signal(
    "account-state",
    ErrorClass.ACCESS_DENIED,
    (
        "organization has been disabled",
        "organization has been restricted",
        "organization is disabled",
        "account has been disabled",
        "account is disabled",
        "account has been suspended",
        "account is suspended",
        "account has been deactivated",
        "has been banned",
        "access terminated",
        "organization_restricted",
        "reach out to support if you believe",
    ),
    "account disabled or restricted: contact the vendor's support",
    ("Anthropic", "Groq", "OpenAI", "Kimi"),
)
ACCESS_POLICY = Signal(
    "access-policy",
    ErrorClass.ACCESS_DENIED,
    ("no allowed providers", "permits only", "not in your allowed", "provider you have enabled",
     "providers you have enabled"),
    "the account's provider or model restrictions exclude it: change them",
    ("OpenRouter", "OpenCode Zen", "Hugging Face router"),
)  # fmt: skip
ENTITLEMENT = Signal(
    "entitlement",
    ErrorClass.ACCESS_DENIED,
    ("has not activated", "not activated the model", "activate the model",
     "model is not enabled for", "not enabled for your account", "not been enabled for your",
     "is not allowed to use"),
    "the model is not activated for this account: enable it in the vendor's console",
    ("Volcengine Ark", "Vertex AI"),
)  # fmt: skip
"""The model exists but this account has not switched it on. Vendors send it as a 404 that
names the model (Volcengine's `ModelNotOpen`): read before the unknown-model rule, it is
our access, never `gone`."""
VERIFICATION = Signal(
    "verification",
    ErrorClass.ACCESS_DENIED,
    ("must be verified", "verify organization", "organization verification"),
    "the organization must be verified for this model: verify it in the vendor's console",
    ("OpenAI",),
)
REGION = Signal(
    "region",
    ErrorClass.ACCESS_DENIED,
    (
        "user location is not supported",
        "unsupported countries, regions, or territories",
        "country, region, or territory not supported",
        "not available in your country",
        "not available in your region",
        "not supported in your region",
        "not available in your location",
        "unsupported_country_region_territory",
        "regionerror",
    ),
    "not served from this location (country, region or tier)",
    ("OpenAI", "Anthropic", "Gemini", "Bedrock", "OpenCode Zen", "one-api/new-api"),
)
DEPRECATED = Signal(
    "lifecycle",
    ErrorClass.MODEL_DEPRECATED,
    (
        "has been deprecated",
        "was deprecated",
        "has been decommissioned",
        "has been retired",
        "reached the end of its life",
        "marked by provider as legacy",
    ),
    "the model is retired: move to its replacement",
    ("OpenAI", "Gemini", "Groq", "Bedrock"),
)
WITHDRAWN = Signal(
    "withdrawn",
    ErrorClass.MODEL_DEPRECATED,
    ("model disabled", "model is disabled", "model has been disabled", "taken offline",
     "model is offline", "已下线"),
    "the vendor took the model offline: move to its replacement",
    ("SiliconFlow",),
)  # fmt: skip
"""A model the vendor switched off for everyone (SiliconFlow's 403 `30003` "Model
disabled." for models it retired): read before the access rule, which a 403 would reach.
Switched off for this key or account only ("disabled for this API key") is our access."""
WRONG_ROUTE = Signal(
    "wrong-route",
    ErrorClass.BAD_REQUEST,
    (
        "no handler found on route",
        "check your url",
        "invalid url",
        "unknown url",
        "page not found",
        "route not found",
        "no route",
        "endpoint not found",
        "cannot post",
        "cannot get",
        "method not allowed",
        "the requested url was not found",
        "unexpected endpoint",
    ),
    "no such route here: check base_url, api and api_version",
    ("xAI", "OpenAI", "FastAPI servers (vLLM, SGLang)", "llama.cpp", "Azure", "nginx", "LM Studio"),
)
OTHER_ENDPOINT = Signal(
    "other-endpoint",
    ErrorClass.BAD_REQUEST,
    (
        "only supported in v1/responses",
        "not supported in the v1/chat/completions",
        "not supported in v1/chat/completions",
        "not supported in the v1/completions",
        "please use /v1/responses",
    ),
    "the model is served on another endpoint of this API: set its `endpoint` "
    "(e.g. `endpoint: responses`)",
    ("OpenAI", "sub2api"),
)
_GENERIC_NOT_FOUND = frozenset(
    {"not found", "file not found", "resource not found", "404 not found", "404", "not_found"}
)
"""Whole messages that name no resource: a framework's answer for an unknown path."""
MODEL_NOT_FOUND = Signal(
    "unknown-model",
    ErrorClass.MODEL_NOT_FOUND,
    (
        "not found",
        "does not exist",
        "not exist",
        "invalid model",
        "unknown model",
        "not a valid model",
        "model identifier is invalid",
        "no such model",
        "unable to access model",
        "unable to access non-serverless model",
        "no models loaded",
        "no 'model_name'",
    ),
    "no such model here: check the id against the catalog",
    ("OpenAI", "Anthropic", "Gemini", "Mistral", "DeepSeek", "xAI", "Perplexity", "Together",
     "vLLM", "SGLang", "Ollama", "LM Studio", "Triton", "LiteLLM", "NVIDIA NIM"),
)  # fmt: skip
NO_ENDPOINTS = Signal(
    "no-endpoints",
    ErrorClass.MODEL_NOT_FOUND,
    ("no endpoints found",),
    "no host serves this model any more",
    ("OpenRouter",),
)
CREDENTIALS = Signal(
    "credentials",
    ErrorClass.AUTH_FAILED,
    (
        "api key not valid",
        "invalid api key",
        "incorrect api key",
        "api key expired",
        "api key was reported as leaked",
        "invalid x-api-key",
        "security token included in the request is invalid",
        "security token included in the request is expired",
        "authorization failed",
        "invalid authentication",
        "invalid token",
        "unauthorized",
    ),
    "the key was refused: check it",
    ("OpenAI", "Gemini", "Anthropic", "Bedrock", "NVIDIA NIM", "Mistral", "Moonshot",
     "one-api/new-api"),
)  # fmt: skip
CAPACITY = Signal(
    "capacity",
    ErrorClass.OVERLOADED,
    (
        "overloaded",
        "high demand",
        "no capacity",
        "capacity exceeded",
        "capacity exhausted",
        "at capacity",
        "insufficient capacity",
        "server busy",
        "too busy",
        "model busy",
        "model is busy",
        "slow down",
        "reset reason: overflow",
        "no deployments available",
        "no healthy deployment",
        "no available deployment",
    ),
    "the provider has no capacity for this model right now",
    ("Anthropic", "OpenAI", "Gemini", "Gemini Code Assist", "Mistral", "Moonshot", "Ollama",
     "TGI", "Envoy", "DeepInfra", "LiteLLM"),
)  # fmt: skip
LOADING = Signal(
    "loading",
    ErrorClass.OVERLOADED,
    ("currently loading", "is loading", "loading model", "model is not ready", "warming up"),
    "the model is loading (a cold start)",
    ("Hugging Face", "llama.cpp", "Bedrock"),
)
LOAD_FAILED = Signal(
    "load-failed",
    ErrorClass.SERVER_ERROR,
    ("error loading model", "failed to load model", "could not load model", "unable to load model",
     "requires more system memory"),
    "the server could not load the model (memory, files, backend): check its logs",
    ("Ollama", "LocalAI"),
)  # fmt: skip
"""A model that failed to load is not a model that is loading: waiting will not bring it.
Read before `loading`, whose phrases ("loading model") its messages contain."""
FILTER = Signal(
    "content-filter",
    ErrorClass.CONTENT_FILTERED,
    (
        "content exists risk",
        "content management policy",
        "flagged as potentially violating",
        "inappropriate content",
        "considered high risk",
    ),
    "the reply was filtered: the model answered",
    ("Azure", "DeepSeek", "DashScope", "Zhipu", "Moonshot"),
)
PROVIDER_SIDE = Signal(
    "provider-side",
    ErrorClass.SERVER_ERROR,
    ("degraded function", "cannot be invoked", "temporarily unavailable", "service unavailable"),
    "the provider's side of this model is failing",
    ("NVIDIA NIM",),
)
CONTEXT_OVERFLOW = Signal(
    "context-overflow",
    ErrorClass.BAD_REQUEST,
    (
        "context size has been exceeded",
        "exceeds the available context size",
        "exceed context window",
        "maximum context length",
        "context_length_exceeded",
    ),
    "the probe's few tokens do not fit the served context window: raise the server's context size",
    ("llama.cpp", "llama-cpp-python", "vLLM", "OpenAI"),
)
SHORT_WINDOW = Signal(
    "short-window",
    ErrorClass.RATE_LIMITED,
    (
        "per minute",
        "per-minute",
        "per second",
        "requests per min",
        "tokens per min",
        "(rpm)",
        "(tpm)",
        " rpm",
        " tpm",
        "concurrency",
        "concurrent",
        "max request",
        "too many requests",
    ),
    "a per-minute limit: it clears by itself",
    ("OpenAI", "Groq", "Cerebras", "Moonshot", "Anthropic", "Bedrock"),
)
LONG_WINDOW = Signal(
    "long-window",
    ErrorClass.QUOTA_EXHAUSTED,
    (
        "per day",
        "per-day",
        "per month",
        "per-month",
        "daily",
        "monthly",
        "(tpd)",
        "(rpd)",
        "limit_rpd",
        "billing cycle",
        "this period",
        "session usage",
    ),
    "a daily or monthly limit is spent: it resets with its period",
    ("OpenRouter", "Gitlawb OpenGateway", "Groq", "Ollama Cloud", "xAI"),
)
SIGNALS: tuple[Signal, ...] = (
    BILLING,
    SPEND_LIMIT,
    QUOTA_SPENT,
    ACCOUNT_STATE,
    ACCESS_POLICY,
    ENTITLEMENT,
    VERIFICATION,
    REGION,
    DEPRECATED,
    WITHDRAWN,
    OTHER_ENDPOINT,
    WRONG_ROUTE,
    MODEL_NOT_FOUND,
    NO_ENDPOINTS,
    CREDENTIALS,
    LOAD_FAILED,
    CAPACITY,
    LOADING,
    SHORT_WINDOW,
    LONG_WINDOW,
    FILTER,
    PROVIDER_SIDE,
    CONTEXT_OVERFLOW,
)
"""Every message signal, in the order the rules consult them (docs/signals.md)."""

# --- structured codes ------------------------------------------------------------------

# Types that imply a status when an error arrives inside a 200 without one: Anthropic's
# error types and Google's canonical codes, plus OpenAI-style server errors.
_STATUS_OF_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
    "invalid_argument": 400,
    "failed_precondition": 400,
    "unauthenticated": 401,
    "permission_denied": 403,
    "not_found": 404,
    "resource_exhausted": 429,
    "internal": 500,
    "unavailable": 503,
    "deadline_exceeded": 504,
    "server_error": 500,
    "internal_server_error": 500,
}
_QUOTA_CODES = frozenset(
    {
        "insufficient_quota",
        "billing_error",
        "billing_not_active",
        "exceeded_current_quota_error",
        "insufficient_balance",
        "insufficient_credits",
        "insufficient_user_quota",
        "credit_limit",
        "arrearage",
        "1113",
    }
)
_BILLING_CODE_WORDS = frozenset({"balance", "credit", "credits", "billing", "arrearage", "payment"})
"""Words that make a code about money wherever they sit in it (Google's ErrorInfo reason
`INSUFFICIENT_G1_CREDITS_BALANCE`): a code naming the balance is billing, even on a 429."""
_CODE_WORD = re.compile(r"[a-z]+")
_DEPRECATED_CODES = frozenset({"model_decommissioned", "model_deprecated"})
_REGION_CODES = frozenset({"unsupported_country_region_territory", "regionerror"})
_ACCOUNT_CODES = frozenset(
    {"organization_restricted", "account_deactivated", "consumer_suspended"}
)  # Google: CONSUMER_SUSPENDED is the project (or key) suspended, not a typo'd key
_NOT_FOUND_CODES = frozenset(
    {
        "model_not_found",
        "deploymentnotfound",
        "invalid_model",
        "model_not_available",
        "dedicated_endpoint_not_running",
        "resource_not_found_error",
        "1211",
    }
)
_NOT_FOUND_TYPES = frozenset({"not_found_error", "notfounderror", "not_found"})
_AUTH_CODES = frozenset(
    {
        "api_key_invalid",
        "invalid_api_key",
        "authentication_error",
        "invalid_authentication_error",
        "incorrect_api_key_error",
        "auth_error",
        "unauthenticated",
        "unrecognizedclientexception",
        # AWS's other signature and token failures (every SigV4 service, Bedrock included)
        "invalidsignatureexception",
        "incompletesignatureexception",
        "missingauthenticationtokenexception",
        "expiredtokenexception",
        "invalidclienttokenid",
        "signaturedoesnotmatch",
        "invalidapikey",
    }
)
_ACCESS_CODES = frozenset(
    {"permission_error", "permission_denied", "accessdeniedexception", "forbidden"}
)
_OVERLOAD_CODES = frozenset(
    {
        "overloaded_error",
        "engine_overloaded_error",
        "overloaded",
        "model_capacity_exhausted",
        "modelnotreadyexception",
        "serviceunavailableexception",
    }
)
_RATE_CODES = frozenset(
    {
        "rate_limit_error",
        "rate_limit_exceeded",
        "rate_limited",
        "rate_limit_reached_error",
        "ratelimitexceeded",
        "throttling_error",
        "throttlingexception",
        "too_many_requests_error",
        "resource_exhausted",
        "1300",
        "1302",
        "1305",
    }
)
_FILTER_CODES = frozenset(
    {
        "content_filter",
        "content_policy_violation",
        "responsibleaipolicyviolation",
        "data_inspection_failed",
        "1301",
    }
)
_API_VERSION = re.compile(r"api[ _-]?version")
_LIMIT_ZERO = re.compile(r"\blimit[:=]?\s*0(?![\d.])")
_SHORT_QUOTA_IDS = ("perminute", "persecond")
_LONG_QUOTA_IDS = ("perday", "permonth")


# --- responses ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Signals:
    status: int | None
    """The response status, or the one the envelope implies for an error inside a 200."""
    codes: frozenset[str]
    """The envelope's `type` and `code` (Google's `status` and `ErrorInfo.reason`), lower-cased."""
    text: str
    """The message, lower-cased."""
    error: ProviderError
    retry_after_s: float | None
    resets_in_s: float | None

    def has(self, names: frozenset[str]) -> bool:
        return not self.codes.isdisjoint(names)

    def says(self, signal: Signal) -> bool:
        return signal.said_by(self.text)

    @property
    def client_side(self) -> bool:
        return self.status is None or 400 <= self.status < 500

    @property
    def names_no_other_param(self) -> bool:
        # LiteLLM writes a Python None as the string "None"
        return self.error.param in (None, "", "None", "null", "model")

    @property
    def about_a_model(self) -> bool:
        return "model" in self.text and self.names_no_other_param

    @property
    def no_envelope(self) -> bool:
        return self.error.form in ("html", "text", "empty")

    def found(self, signal: Signal) -> Finding:
        return Finding(signal.error_class, signal.fix, signal.name, self.retry_after_s)

    def plain(self, error_class: ErrorClass, fix: str | None = None) -> Finding:
        return Finding(error_class, fix, None, self.retry_after_s)


def read_response(
    status: int | None,
    error: ProviderError | None,
    headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Finding:
    """What a response means. `status=None` (or a 2xx) with an error means the error came
    inside a 200 and is read exactly like the same error outside one."""
    if error is None:
        if status is None:
            return Finding(ErrorClass.PROTOCOL_ERROR)
        if 200 <= status < 300:
            return Finding(ErrorClass.OK)
        error = ProviderError(form="empty")
    signals = _signals(status, error, headers or {}, now)
    for rule in _RULES:
        found = rule(signals)
        if found is not None:
            return found
    return signals.plain(_by_status(signals.status))


def classify_response(
    status: int | None,
    error: ProviderError | None,
    headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> ErrorClass:
    """The class alone of `read_response`."""
    return read_response(status, error, headers, now).error_class


def _signals(
    status: int | None, error: ProviderError, headers: Mapping[str, str], now: datetime | None
) -> _Signals:
    codes = frozenset(
        value.strip().lower() for value in (error.type, error.code) if value and value.strip()
    )
    if status is None or 200 <= status < 300:
        status = error.status or next(
            (_STATUS_OF_TYPE[code] for code in sorted(codes) if code in _STATUS_OF_TYPE), None
        )
    merged = {**dict(error.reported_headers), **{k.lower(): v for k, v in headers.items()}}
    return _Signals(
        status=status,
        codes=codes,
        text=(error.message or "").lower(),
        error=error,
        retry_after_s=retry_after_s(merged, error.retry_after_s, now),
        resets_in_s=limit_resets_in_s(merged, now),
    )


def _billing(s: _Signals) -> Finding | None:
    if s.status == 402 or s.has(_QUOTA_CODES) or _billing_code(s.codes):
        return s.found(BILLING)
    if _limit_shaped(s):
        return None  # a limit's own words: the limits rule reads them with its window
    for signal in (BILLING, SPEND_LIMIT):
        if s.says(signal):
            return s.found(signal)
    if s.client_side and "quota" in s.text and s.says(QUOTA_SPENT):
        return s.found(QUOTA_SPENT)
    return None


def _billing_code(codes: frozenset[str]) -> bool:
    return any(not _BILLING_CODE_WORDS.isdisjoint(_CODE_WORD.findall(code)) for code in codes)


def _account(s: _Signals) -> Finding | None:
    if s.has(_ACCOUNT_CODES):
        return s.found(ACCOUNT_STATE)
    if not s.client_side:
        return None
    for signal in (ACCOUNT_STATE, ACCESS_POLICY, ENTITLEMENT, VERIFICATION):
        if s.says(signal):
            return s.found(signal)
    return None


def _region(s: _Signals) -> Finding | None:
    if s.status == 451 or s.has(_REGION_CODES) or s.says(REGION):
        return s.found(REGION)
    if "forbidden" in s.codes and "request not allowed" in s.text:
        return s.found(REGION)  # Anthropic's edge layer
    return None


def _lifecycle(s: _Signals) -> Finding | None:
    if s.has(_DEPRECATED_CODES):
        return s.found(DEPRECATED)
    if not (s.client_side and s.about_a_model):
        return None
    if s.says(DEPRECATED):
        return s.found(DEPRECATED)
    if s.says(WITHDRAWN) and not any(words in s.text for words in _OUR_SCOPE):
        return s.found(WITHDRAWN)
    return None


_OUR_SCOPE = ("for your", "for this", "your account", "your organization", "your project")


def _other_endpoint(s: _Signals) -> Finding | None:
    """The model exists, on another endpoint of the API (OpenAI's 404 "This model is only
    supported in v1/responses and not in v1/chat/completions."): not `gone`."""
    if s.client_side and s.says(OTHER_ENDPOINT):
        return s.found(OTHER_ENDPOINT)
    return None


def _wrong_route(s: _Signals) -> Finding | None:
    """A 404 or 405 for the route itself: no envelope, or a framework's bare "Not Found";
    or a route error inside a 200 (LM Studio answers an unknown route "200 anyway")."""
    if s.about_a_model or s.has(_NOT_FOUND_CODES):
        return None
    if s.status is None and s.says(WRONG_ROUTE):
        return s.found(WRONG_ROUTE)
    if s.status not in (404, 405):
        return None
    message = s.text.strip().rstrip(".!")
    if s.no_envelope or message in _GENERIC_NOT_FOUND or s.says(WRONG_ROUTE) or not message:
        return s.found(WRONG_ROUTE)
    return None


def _model_not_found(s: _Signals) -> Finding | None:
    # A 401/403 that names the model is about our entitlement (OpenAI's 403
    # model_not_found "Project ... does not have access to model X"): auth and access decide.
    if s.status in (401, 403):
        return None
    if s.has(_NOT_FOUND_CODES):
        return s.found(MODEL_NOT_FOUND)
    # A 422 (validation) saying what the request named does not exist: a generation names
    # one resource, its model (Replicate calls it a version), unless it is the API version.
    named_model = s.names_no_other_param and not _API_VERSION.search(s.text)
    if s.status == 422 and named_model and s.says(MODEL_NOT_FOUND):
        return s.found(MODEL_NOT_FOUND)
    if s.status not in (None, 400, 404, 410):
        return None
    if s.says(NO_ENDPOINTS):
        return s.found(NO_ENDPOINTS)
    if s.about_a_model and s.says(MODEL_NOT_FOUND):
        return s.found(MODEL_NOT_FOUND)
    # A 404 with the API's own envelope naming something specific (Anthropic's "model: X",
    # NVIDIA's "Function '...': Not found for account '...'"): the one resource a
    # generation names is its model.
    if s.status == 404 and not s.no_envelope and s.text:
        return s.found(MODEL_NOT_FOUND)
    if s.has(_NOT_FOUND_TYPES) and s.about_a_model:
        return s.found(MODEL_NOT_FOUND)
    return None


def _credentials(s: _Signals) -> Finding | None:
    # Key wording counts only where the status allows a rejected key: a 429 or a 5xx that
    # mentions a key is still a rate limit or a server failure, and worth a retry.
    worded = s.status in (None, 400, 401, 403) and s.says(CREDENTIALS)
    if s.status == 401 or s.has(_AUTH_CODES) or worded:
        return s.found(CREDENTIALS)
    return None


def _access(s: _Signals) -> Finding | None:
    if s.status == 403 or s.has(_ACCESS_CODES):
        return s.plain(ErrorClass.ACCESS_DENIED, "no access to this model with this key")
    return None


def _capacity(s: _Signals) -> Finding | None:
    if s.status == 529 or s.has(_OVERLOAD_CODES):
        return s.found(CAPACITY)
    if s.status in (None, 429, 500, 502, 503, 504):
        # A 429 is a limit whatever it says: a server refusing to load one more model now
        # is at capacity, not down.
        if s.status != 429 and s.says(LOAD_FAILED):
            return s.found(LOAD_FAILED)
        for signal in (LOADING, CAPACITY):
            if s.says(signal):
                return s.found(signal)
    return None


def _limit_shaped(s: _Signals) -> bool:
    return s.status == 429 or s.has(_RATE_CODES)


def _limits(s: _Signals) -> Finding | None:
    """A rate limit, or a quota that waiting will not clear (see the module's notes)."""
    if not _limit_shaped(s):
        if s.status == 413 and ("tokens per minute" in s.text or "rate limit" in s.text):
            return s.plain(ErrorClass.RATE_LIMITED)  # Groq: larger than the TPM budget
        return None
    quota_ids = " ".join(s.error.quota_ids).lower()
    if "0" in s.error.quota_values or _LIMIT_ZERO.search(s.text):
        fix = "no quota at all for this model on this key or tier: enable billing or ask for one"
        return Finding(ErrorClass.QUOTA_EXHAUSTED, fix, "limit-zero", s.retry_after_s)
    wait = max((v for v in (s.retry_after_s, s.resets_in_s) if v is not None), default=None)
    if wait is not None and wait >= LONG_WAIT_S:
        fix = f"the limit lifts in {_hours(wait)}: raise it, or wait"
        return Finding(ErrorClass.QUOTA_EXHAUSTED, fix, "long-wait", s.retry_after_s)
    if wait is not None:
        return s.plain(ErrorClass.RATE_LIMITED)
    if any(q in quota_ids for q in _LONG_QUOTA_IDS):
        return s.found(LONG_WINDOW)
    if any(q in quota_ids for q in _SHORT_QUOTA_IDS) or s.says(SHORT_WINDOW):
        return s.plain(ErrorClass.RATE_LIMITED)
    if s.says(LONG_WINDOW):
        return s.found(LONG_WINDOW)
    # Google words every limit like a billing problem: only its structure decides.
    if "resource_exhausted" not in s.codes:
        for signal in (BILLING, SPEND_LIMIT):
            if s.says(signal):
                return s.found(signal)
    return s.plain(ErrorClass.RATE_LIMITED)


def _content_filtered(s: _Signals) -> Finding | None:
    if s.has(_FILTER_CODES) or s.says(FILTER):
        return s.found(FILTER)
    return None


def _provider_side(s: _Signals) -> Finding | None:
    """A client status carrying a provider-side failure (NVIDIA's 400 "DEGRADED function");
    never a 429, which is a limit whatever it says."""
    if s.client_side and s.status != 429 and s.says(PROVIDER_SIDE):
        return s.found(PROVIDER_SIDE)
    return None


def _context_overflow(s: _Signals) -> Finding | None:
    """A server error (or an error inside a 200) saying the request outgrew the context:
    the server works and refused this request (llama.cpp answers the same overflow with a
    400 or a 500). A 4xx is a refused request by its status already."""
    if s.status in (None, 500) and s.says(CONTEXT_OVERFLOW):
        return s.found(CONTEXT_OVERFLOW)
    return None


_RULES = (
    _billing,
    _account,
    _region,
    _lifecycle,
    _other_endpoint,
    _wrong_route,
    _model_not_found,
    _credentials,
    _access,
    _capacity,
    _limits,
    _content_filtered,
    _provider_side,
    _context_overflow,
)


def _by_status(status: int | None) -> ErrorClass:
    if status is None:
        return ErrorClass.SERVER_ERROR  # the server reported a failure inside a 200
    if status == 408:
        return ErrorClass.TIMEOUT
    if status == 424 or status >= 500:
        return ErrorClass.SERVER_ERROR
    if 400 <= status < 500:
        return ErrorClass.BAD_REQUEST
    return ErrorClass.PROTOCOL_ERROR  # an error on a 1xx/2xx/3xx: not HTTP as we know it


def _hours(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days"
    return f"{seconds / 3600:.1f} h"


# --- answers that are not the API's -----------------------------------------------------


_PORTAL_FIX = (
    "an HTML page answered where the API was expected: check base_url (a portal or login?)"
)
NOT_THE_API_FIXES = (WRONG_ROUTE.fix, _PORTAL_FIX)
"""The words of a reason that says the answer did not come from the API at all."""


def read_unusable_body(status: int, headers: Mapping[str, str], body: bytes) -> Finding:
    """A 2xx whose body is not the format asked for. An HTML page (a captive portal, a
    login page, a web UI at `base_url`) is not the provider: whether this machine is
    behind a portal is the control check's to say. Anything else is a broken answer."""
    start = body[:64].lstrip().lower()
    page = "html" in headers.get("content-type", "").lower() or start.startswith(
        (b"<!doctype", b"<html", b"<head", b"<body")
    )
    if 200 <= status < 300 and page:
        return Finding(ErrorClass.BAD_REQUEST, _PORTAL_FIX, "portal", about_target=False)
    return Finding(ErrorClass.PROTOCOL_ERROR)


# --- generations ----------------------------------------------------------------------


def classify_generation(generation: Generation) -> ErrorClass:
    """A parsed 200 reply: an in-band error, a filter stop, or a live answer (an empty one
    cut by the length limit included)."""
    if generation.error is not None:
        return classify_response(None, generation.error)
    if generation.filtered:
        return ErrorClass.CONTENT_FILTERED
    return ErrorClass.OK


def read_stream(
    error: StreamFailure | None, end: StreamEnd | None, *, said_nothing: bool = False
) -> tuple[Finding, ProviderError | None]:
    """What a 200 stream said: its error event, broken framing, a missing terminator, a
    filter stop, nothing but its terminator (`said_nothing`: no chunk, model or finish; a
    live model says one of these), or a live answer."""
    if error is not None:
        if error.error is not None:
            return read_response(None, error.error), error.error
        return Finding(ErrorClass.PROTOCOL_ERROR, signal="malformed"), None
    if end is None:
        return Finding(ErrorClass.PROTOCOL_ERROR, signal="no-terminator"), None
    if end.filtered:
        return Finding(ErrorClass.CONTENT_FILTERED), None
    if said_nothing:
        return Finding(ErrorClass.PROTOCOL_ERROR, signal="empty-stream"), None
    return Finding(ErrorClass.OK), None


def classify_stream_failure(failure: StreamFailure) -> ErrorClass:
    """An error event inside a 200 stream, or bytes that broke the wire format."""
    return read_stream(failure, None)[0].error_class


_ROUTERS = re.compile(r"(^|/)(auto|[\w.-]*router[\w.-]*)$")
_NOISE_TOKENS = frozenset({"latest", "models", "model"})
_TOKEN_SPLIT = re.compile(r"[\s/:@._-]+")


def same_model(requested: str, served: str | None, also: Iterable[str] = ()) -> bool:
    """Whether a reply naming `served` comes from the model asked for as `requested`: the
    same name, a dated snapshot or version of it (`gpt-4o` → `gpt-4o-2024-08-06`,
    `claude-3-5-sonnet-latest` → `claude-3-5-sonnet-20241022`, `llama3` → `llama3:latest`),
    a file of it (`qwen2.5-7b` → `/models/qwen2.5-7b-instruct-q4_k_m.gguf`), or one of the
    names in `also` (a name the look-up by id resolved, a declared `base_model` or
    `served_as`; `*` means any). A router's id (`openrouter/auto`) answers as any model."""
    if served is None:
        return True
    names = [requested, *also]
    if "*" in names or _ROUTERS.search(requested.lower()):
        return True
    names += [n.rsplit("/", 1)[-1] for n in names if "/" in n]  # `org/model` as `model`
    got = _tokens(served)
    for name in names:
        if name.lower() == served.lower():
            return True
        want = _tokens(name)
        if want and got and (want <= got or (got <= want and _named(got))):
            return True
    return False


def _tokens(name: str) -> frozenset[str]:
    return frozenset(t for t in _TOKEN_SPLIT.split(name.lower()) if t and t not in _NOISE_TOKENS)


def _named(tokens: frozenset[str]) -> bool:
    """Holds a word, not only numbers or sizes: `7b` alone names no model."""
    return any(sum(c.isalpha() for c in t) >= 2 for t in tokens)


def read_served(requested: str, served: str | None, also: Iterable[str] = ()) -> Finding | None:
    """None when the reply is the requested model's (see `same_model`); otherwise the
    substitution, naming who answered."""
    if same_model(requested, served, also):
        return None
    fix = (
        f"answered by `{served}`, not `{requested}`: the server serves another model under "
        "this name (load it, or set `served_as` if this is a declared alias)"
    )
    return Finding(ErrorClass.MODEL_SUBSTITUTED, fix, "substitution")


# --- catalogs, health and look-ups --------------------------------------------------------

NOT_LISTED = ErrorClass.MODEL_NOT_FOUND
"""A model a complete model list leaves out (and no look-up by id finds)."""


def health_class(loading: bool, healthy: bool, response_class: ErrorClass) -> ErrorClass:
    """A server's own health endpoint: loading its model is `overloaded` (it will answer
    soon); unhealthy is the response's class, or `server_error` for a 2xx that says so."""
    if healthy:
        return ErrorClass.OK
    if loading:
        return ErrorClass.OVERLOADED
    return ErrorClass.SERVER_ERROR if response_class is ErrorClass.OK else response_class


LookUp = Literal["found", "gone", "no_lookup", "unknown"]
"""What a look-up by id (`GET /v1/models/{id}`) says about a model the list leaves out:
`found`: the API knows it; `gone`: the API itself says it is not there; `no_lookup`: this
server has no such look-up (404 for the route, 405, 501, a refused request), so the list's
answer stands; `unknown`: the look-up failed for another reason (a timeout, a 5xx)."""

_NO_LOOKUP_STATUSES = frozenset({404, 405, 501})


def read_lookup(error_class: ErrorClass, status: int | None) -> LookUp:
    if error_class is ErrorClass.OK:
        return "found"
    if error_class.is_gone:
        return "gone"
    if error_class is ErrorClass.BAD_REQUEST or status in _NO_LOOKUP_STATUSES:
        return "no_lookup"
    return "unknown"


# --- retry policy ---------------------------------------------------------------------

_TRANSIENT = frozenset(
    {
        ErrorClass.RATE_LIMITED,
        ErrorClass.OVERLOADED,
        ErrorClass.SERVER_ERROR,
        ErrorClass.TIMEOUT,
        ErrorClass.CONNECT_FAILED,
        ErrorClass.PROTOCOL_ERROR,
    }
)


def is_transient(error_class: ErrorClass, status: int | None) -> bool:
    """Whether another attempt (after backoff) may succeed.

    Retried: rate_limited, overloaded, server_error, timeout, connect_failed (a reset or
    refused connection; a self-hosted server may be starting) and protocol_error (a body
    cut short or garbled by a proxy).

    Not retried: anything someone has to fix (auth, access, quota, a missing, retired or
    substituted model, a bad request, a content filter, a certificate), and:

    * dns_failed: the resolver already retried before it answered, and a negative answer
      is cached, so an immediate retry sees the same failure. A typo'd host never resolves;
      an offline machine is the run's control check's business.
    * a 413 rate_limited (Groq: one request larger than the whole tokens-per-minute
      budget): the same request can never fit.
    """
    if error_class is ErrorClass.RATE_LIMITED and status == 413:
        return False
    return error_class in _TRANSIENT


# --- words for people -----------------------------------------------------------------


def reason(
    error_class: ErrorClass,
    status: int | None,
    error: ProviderError | None,
    *,
    fix: str | None = None,
    retry_after_s: float | None = None,
) -> str:
    """One line a person can act on, at most MAX_REASON_CHARS, e.g.
    `429 rate_limited [rate_limit_exceeded]: "Rate limit reached for requests" (retry
    after 1.2 s)`; what to fix, when a signal says it, comes before the provider's words."""
    head = f"{status} {error_class}" if status is not None else str(error_class)
    hint = retry_after_s if retry_after_s is not None else (error.retry_after_s if error else None)
    tail = f" (retry after {hint:g} s)" if hint else ""
    if error is not None and error.code and error.code != str(status):
        head += f" [{_one_line(error.code)[:40]}]"
    if fix:
        head += f": {fix}"
    if error is None:
        return (head + tail)[:MAX_REASON_CHARS]
    detail = error.message or (error.type if error.type != error.code else None)
    if not detail:
        return (head + tail)[:MAX_REASON_CHARS]
    room = MAX_REASON_CHARS - len(head) - len(tail) - len(': ""')
    quoted = _shorten(_one_line(detail), max(room, 10))
    return f'{head}: "{quoted}"{tail}'[:MAX_REASON_CHARS]


def exception_reason(exc: BaseException) -> str:
    """The one-line reason for a failure that produced no response."""
    error_class = classify_exception(exc)
    detail = _one_line(str(exc)) or type(exc).__name__
    return _shorten(f"{error_class}: {type(exc).__name__}: {detail}", MAX_REASON_CHARS)


def _one_line(value: str) -> str:
    return redact(" ".join(value.split()))


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"
