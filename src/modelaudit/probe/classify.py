"""The one place that decides error classes.

Everything that can go wrong with a probe ends here as one `ErrorClass`: an exception
(transport), a status with the provider's own error envelope, or an error carried inside a
200 (a stream event, a body). The order follows reference section 9: transport first, then
billing, retirement, region, unknown model, auth, access, overload, rate limit, content
filter, and finally the status alone. Within each rule the status and the envelope's
type/code decide; message text is the last resort and is matched only where the status
makes the reading safe, because wording changes and a wrong `model_not_found` makes a live
model look `gone`.

Judgement calls, each pinned by a test in tests/probe/test_classify.py:

* A 404 without model wording (`{"detail":"Not Found"}`, an HTML 404) is `bad_request`:
  the path is wrong (a mistyped base_url), which says nothing about the model.
* "You exceeded your current quota" is billing (`quota_exhausted`) from OpenAI but a
  per-minute or per-day limit from Gemini (`RESOURCE_EXHAUSTED`, which links its
  rate-limit docs). Only the former is quota; Gemini stays `rate_limited`.
* Any 402 is `quota_exhausted`: Payment Required is only ever sent for billing.
* An error inside a 200 whose envelope names neither a status nor a known type is
  `server_error`: the server itself reported that it failed mid-answer.
* 424 (TGI `generation`, Bedrock `ModelErrorException`) is `server_error`: the model
  failed while generating, whatever the 4xx number says.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from modelaudit.families.base import Generation, ProviderError, StreamFailure
from modelaudit.probe.timing import DeadlineExceeded
from modelaudit.probe.transport import BodyTooLarge, ExchangeFailed, Redirected
from modelaudit.redact import redact
from modelaudit.vocabulary import ErrorClass

MAX_REASON_CHARS = 200

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


# --- responses ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Signals:
    status: int | None
    """The response status, or the one the envelope implies for an error inside a 200."""
    codes: frozenset[str]
    """The envelope's `type` and `code`, lower-cased."""
    message: str
    param: str | None

    def has(self, names: frozenset[str]) -> bool:
        return not self.codes.isdisjoint(names)

    def says(self, *phrases: str) -> bool:
        return any(phrase in self.message for phrase in phrases)

    @property
    def about_a_model(self) -> bool:
        return "model" in self.message and self.param in (None, "model")


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
        "exceeded_current_quota_error",
        "insufficient_balance",
        "arrearage",
        "1113",
    }
)
_QUOTA_WORDS = ("credit balance", "insufficient balance", "insufficient credits", "arrearage")
_DEPRECATED_CODES = frozenset({"model_decommissioned", "model_deprecated"})
_DEPRECATED_WORDS = (
    "has been deprecated",
    "was deprecated",
    "has been decommissioned",
    "has been retired",
    "reached the end of its life",
    "marked by provider as legacy",
)
_REGION_CODES = frozenset({"unsupported_country_region_territory"})
_REGION_WORDS = (
    "user location is not supported",
    "unsupported countries, regions, or territories",
    "country, region, or territory not supported",
)
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
_NOT_FOUND_WORDS = (
    "not found",
    "does not exist",
    "not exist",
    "invalid model",
    "unknown model",
    "not a valid model",
    "model identifier is invalid",
    "no such model",
    "unable to access model",
    "no models loaded",
)
_NOT_FOUND_TYPES = frozenset({"not_found_error", "notfounderror", "not_found"})
# Read as a model signal without the word "model" (OpenRouter: "No endpoints found for X.").
_NOT_FOUND_PHRASES = ("no endpoints found",)
_AUTH_CODES = frozenset(
    {
        "api_key_invalid",
        "invalid_api_key",
        "authentication_error",
        "invalid_authentication_error",
        "auth_error",
        "unauthenticated",
        "unrecognizedclientexception",
        "invalidapikey",
    }
)
_AUTH_WORDS = (
    "api key not valid",
    "invalid api key",
    "incorrect api key",
    "api key expired",
    "api key was reported as leaked",
    "invalid x-api-key",
)
_ACCESS_CODES = frozenset(
    {"permission_error", "permission_denied", "accessdeniedexception", "forbidden"}
)
_OVERLOAD_CODES = frozenset(
    {
        "overloaded_error",
        "engine_overloaded_error",
        "overloaded",
        "modelnotreadyexception",
        "serviceunavailableexception",
    }
)
_OVERLOAD_WORDS = ("overloaded", "high demand", "loading model", "server busy", "slow down")
_RATE_CODES = frozenset(
    {
        "rate_limit_error",
        "rate_limit_exceeded",
        "rate_limited",
        "rate_limit_reached_error",
        "throttling_error",
        "throttlingexception",
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
_FILTER_WORDS = (
    "content exists risk",
    "content management policy",
    "flagged as potentially violating",
    "inappropriate content",
)


def classify_response(status: int | None, error: ProviderError | None) -> ErrorClass:
    """The class of a response. `status=None` (or a 2xx) with an error means the error came
    inside a 200 and is classified exactly like the same error outside one."""
    if error is None:
        if status is None:
            return ErrorClass.PROTOCOL_ERROR
        if 200 <= status < 300:
            return ErrorClass.OK
        error = ProviderError()
    signals = _signals(status, error)
    for rule in _RULES:
        found = rule(signals)
        if found is not None:
            return found
    return _by_status(signals.status)


def classify_generation(generation: Generation) -> ErrorClass:
    """A parsed 200 reply: an in-band error, a filter stop, or a live answer (an empty one
    cut by the length limit included)."""
    if generation.error is not None:
        return classify_response(None, generation.error)
    if generation.filtered:
        return ErrorClass.CONTENT_FILTERED
    return ErrorClass.OK


def classify_stream_failure(failure: StreamFailure) -> ErrorClass:
    """An error event inside a 200 stream, or bytes that broke the wire format."""
    if failure.error is not None:
        return classify_response(None, failure.error)
    return ErrorClass.PROTOCOL_ERROR


def _signals(status: int | None, error: ProviderError) -> _Signals:
    codes = frozenset(
        value.strip().lower() for value in (error.type, error.code) if value and value.strip()
    )
    if status is None or 200 <= status < 300:
        status = error.status or next(
            (_STATUS_OF_TYPE[code] for code in sorted(codes) if code in _STATUS_OF_TYPE), None
        )
    return _Signals(
        status=status,
        codes=codes,
        message=(error.message or "").lower(),
        param=error.param,
    )


def _quota(s: _Signals) -> ErrorClass | None:
    # Gemini words its per-minute limits like OpenAI's billing error, then links its
    # rate-limit docs; only the billing one is quota.
    billing_words = s.says(*_QUOTA_WORDS) or (
        s.says("exceeded your current quota")
        and "resource_exhausted" not in s.codes
        and not s.says("rate-limit", "rate limit", "retry in")
    )
    if s.status == 402 or s.has(_QUOTA_CODES) or billing_words:
        return ErrorClass.QUOTA_EXHAUSTED
    return None


def _deprecated(s: _Signals) -> ErrorClass | None:
    if s.has(_DEPRECATED_CODES):
        return ErrorClass.MODEL_DEPRECATED
    client_side = s.status is None or 400 <= s.status < 500
    if client_side and s.about_a_model and s.says(*_DEPRECATED_WORDS):
        return ErrorClass.MODEL_DEPRECATED
    return None


def _region(s: _Signals) -> ErrorClass | None:
    if s.status == 451 or s.has(_REGION_CODES) or s.says(*_REGION_WORDS):
        return ErrorClass.ACCESS_DENIED
    if "forbidden" in s.codes and s.says("request not allowed"):
        return ErrorClass.ACCESS_DENIED  # Anthropic's edge layer
    return None


def _model_not_found(s: _Signals) -> ErrorClass | None:
    # A 401/403 that names the model is about our entitlement (OpenAI's 403
    # model_not_found "Project ... does not have access to model X"): auth and access decide.
    if s.status in (401, 403):
        return None
    if s.has(_NOT_FOUND_CODES):
        return ErrorClass.MODEL_NOT_FOUND
    if s.status not in (None, 400, 404, 410):
        return None
    if s.says(*_NOT_FOUND_PHRASES) or (s.about_a_model and s.says(*_NOT_FOUND_WORDS)):
        return ErrorClass.MODEL_NOT_FOUND
    # Anthropic's 404 not_found_error just says "model: X".
    if (s.status == 404 or s.has(_NOT_FOUND_TYPES)) and s.about_a_model:
        return ErrorClass.MODEL_NOT_FOUND
    return None


def _auth(s: _Signals) -> ErrorClass | None:
    # Key wording counts only where the status allows a rejected key: a 429 or a 5xx that
    # mentions a key is still a rate limit or a server failure, and worth a retry.
    worded = s.status in (None, 400, 401, 403) and s.says(*_AUTH_WORDS)
    if s.status == 401 or s.has(_AUTH_CODES) or worded:
        return ErrorClass.AUTH_FAILED
    return None


def _access(s: _Signals) -> ErrorClass | None:
    if s.status == 403 or s.has(_ACCESS_CODES):
        return ErrorClass.ACCESS_DENIED
    return None


def _overloaded(s: _Signals) -> ErrorClass | None:
    if s.status == 529 or s.has(_OVERLOAD_CODES):
        return ErrorClass.OVERLOADED
    if s.status in (None, 429, 500, 502, 503) and s.says(*_OVERLOAD_WORDS):
        return ErrorClass.OVERLOADED
    return None


def _rate_limited(s: _Signals) -> ErrorClass | None:
    if s.status == 429 or s.has(_RATE_CODES):
        return ErrorClass.RATE_LIMITED
    if s.status == 413 and s.says("tokens per minute", "rate limit"):
        return ErrorClass.RATE_LIMITED  # Groq: one request larger than the TPM budget
    return None


def _content_filtered(s: _Signals) -> ErrorClass | None:
    if s.has(_FILTER_CODES) or s.says(*_FILTER_WORDS):
        return ErrorClass.CONTENT_FILTERED
    return None


_RULES = (
    _quota,
    _deprecated,
    _region,
    _model_not_found,
    _auth,
    _access,
    _overloaded,
    _rate_limited,
    _content_filtered,
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

    Not retried: anything someone has to fix (auth, access, quota, a missing or retired
    model, a bad request, a content filter, a certificate), and:

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


def reason(error_class: ErrorClass, status: int | None, error: ProviderError | None) -> str:
    """One line a person can act on, at most MAX_REASON_CHARS, e.g.
    `429 rate_limited [rate_limit_exceeded]: "Rate limit reached for requests" (retry
    after 1.2 s)`."""
    head = f"{status} {error_class}" if status is not None else str(error_class)
    if error is None:
        return head
    if error.code and error.code != str(status):
        head += f" [{_one_line(error.code)[:40]}]"
    tail = f" (retry after {error.retry_after_s:g} s)" if error.retry_after_s else ""
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
