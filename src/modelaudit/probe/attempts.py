"""What every probe kind does with its requests: the attempt loop, and the shared pieces.

A kind (`probe/kinds/`) builds its requests through the provider's family and sends them
here (`send_one`, through `transport.exchange`); `classify` names what happened, and
`attempt_loop` retries transient failures under the run's policy. Every exchange becomes an
`Attempt`; nothing is summarized away.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

import httpx

from modelaudit import credentials
from modelaudit.clock import Clock, utc_now
from modelaudit.families import FAMILIES
from modelaudit.families.base import (
    CredentialUnreachable,
    HttpResponse,
    ProviderError,
    origin_of,
)
from modelaudit.probe import classify, retry
from modelaudit.probe.result import Attempt
from modelaudit.probe.timing import DeadlineExceeded
from modelaudit.probe.transport import Authorize, Exchange, ExchangeFailed, Redirected, exchange
from modelaudit.redact import redact, redacted_excerpt
from modelaudit.vocabulary import ErrorClass, Phase

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from modelaudit.families.base import Authorizer, Family, HttpRequest
    from modelaudit.probe.kinds.generation import StreamCollector
    from modelaudit.registry.schema import Defaults, ProviderSpec, Timeouts

MAX_EXCERPT_BYTES = 16384
"""Of a body that is not the API's format, only the start is decoded (then redacted, cut)."""
# What a transport failure looks like from here; anything else is a bug and propagates.
TRANSPORT_ERRORS = (ExchangeFailed, Redirected)


class BudgetExhausted(Exception):  # noqa: N818 - reads as the event it is
    def __init__(self, what: str) -> None:
        super().__init__(f"the run's {what} budget is spent")


@dataclass
class RunBudget:
    """Per-run caps, checked before anything is sent."""

    max_requests: int
    max_output_tokens: int
    requests: int = 0
    output_tokens: int = 0

    def take(self, output_tokens: int = 0) -> None:
        if self.requests + 1 > self.max_requests:
            raise BudgetExhausted("request")
        if self.output_tokens + output_tokens > self.max_output_tokens:
            raise BudgetExhausted("output-token")
        self.requests += 1
        self.output_tokens += output_tokens


@dataclass
class ProbeContext:
    client: httpx.AsyncClient
    defaults: Defaults
    budget: RunBudget
    base_dir: Path
    rng: random.Random = field(default_factory=random.Random)
    clock: Clock = field(default=utc_now)
    """What each attempt's start is read from, and families that sign or fetch tokens read
    the time from (a test's fixed clock)."""
    authorizers: dict[str, Authorizer] = field(default_factory=dict)
    """Each provider's, made on its first request and kept for the run."""
    hosts: dict[str, frozenset[tuple[str, str, int]]] = field(default_factory=dict)
    """Each provider's hosts (`Family.hosts`), as (scheme, host, port)."""

    def authorizer(self, provider: ProviderSpec) -> Authorizer:
        if provider.name not in self.authorizers:
            self.authorizers[provider.name] = FAMILIES[provider.api].authorizer(provider)
        return self.authorizers[provider.name]

    def bound_to(self, provider: ProviderSpec, url: str) -> bool:
        """Whether `url` is on one of `provider`'s own hosts."""
        if provider.name not in self.hosts:
            hosts = FAMILIES[provider.api].hosts(provider)
            self.hosts[provider.name] = frozenset(origin_of(host) for host in hosts)
        return origin_of(url) in self.hosts[provider.name]


@dataclass(frozen=True)
class Outcome:
    """What one exchange said, before deciding whether to try again."""

    error_class: ErrorClass
    detail: str
    http_status: int | None = None
    phase: Phase | None = None
    provider_error: ProviderError | None = None
    retry_after_s: float | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    connect_ms: float | None = None
    reused: bool | None = None
    served_model: str | None = None
    system_fingerprint: str | None = None
    output_tokens: int | None = None
    tokens_per_s: float | None = None
    max_gap_ms: float | None = None
    ratelimit: tuple[tuple[str, str], ...] = ()
    about_target: bool | None = None

    def attempt(self, number: int, started_at: datetime) -> Attempt:
        return Attempt(
            number=number,
            started_at=started_at,
            error_class=self.error_class,
            http_status=self.http_status,
            latency_ms=_round(self.latency_ms),
            ttft_ms=_round(self.ttft_ms),
            failed_phase=self.phase,
            connect_ms=_round(self.connect_ms),
            connection_reused=self.reused,
            served_model=self.served_model,
            system_fingerprint=self.system_fingerprint,
            output_tokens=self.output_tokens,
            tokens_per_s=_round(self.tokens_per_s),
            max_gap_ms=_round(self.max_gap_ms),
            retry_after_s=self.retry_after_s,
            ratelimit=self.ratelimit,
            detail=redact(self.detail),
            about_target=self.about_target,
        )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


# --- the attempt loop ------------------------------------------------------------------


async def attempt_loop(
    ctx: ProbeContext,
    send: Callable[[int], Awaitable[Outcome]],
    alternative: Callable[[Outcome, int], int | None] | None = None,
) -> tuple[Attempt, ...]:
    """Send until success, a definitive failure, or the retry policy says stop.

    `send(variant)` performs one exchange. A 400 that names an unsupported parameter is
    retried once with the family's alternative variant; transient failures are retried
    with backoff (or the server's own `retry-after` when it fits the budget).
    """
    policy = ctx.defaults.retry
    attempts: list[Attempt] = []
    variant, switched, retries = 0, False, 0
    while True:
        started = ctx.clock()
        try:
            outcome = await send(variant)
        except BudgetExhausted:
            if not attempts:
                raise
            break  # keep what was learned; the run's notes say the budget ran out
        attempts.append(outcome.attempt(len(attempts) + 1, started))
        if outcome.error_class is ErrorClass.OK:
            break
        alt = alternative(outcome, variant) if alternative and not switched else None
        if alt is not None:
            variant, switched = alt, True
            continue
        if not classify.is_transient(outcome.error_class, outcome.http_status):
            break
        if retries + 1 >= policy.attempts:
            break
        wait = retry.next_wait(policy, retries + 1, outcome.retry_after_s, ctx.rng)
        if wait is None:
            break
        retries += 1
        await asyncio.sleep(wait.seconds)
    return tuple(attempts)


# --- shared pieces -----------------------------------------------------------------------


def authorization(
    ctx: ProbeContext, provider: ProviderSpec, request: HttpRequest
) -> Authorize | None:
    """What adds the provider's credential to `request`, the credential read now; None for
    a request that needs none or goes to a host that is not one of the provider's own
    (`Family.hosts`): a credential never leaves for another host. Raises LookupError when
    the credential cannot be read."""
    if not request.authenticated or provider.credential_ref is None:
        return None
    if not ctx.bound_to(provider, request.url):
        return None
    credential = credentials.read(provider, ctx.base_dir)
    assert credential is not None, "a provider with a credential reference reads one"
    authorizer = ctx.authorizer(provider)
    return lambda outgoing: authorizer.headers(outgoing, credential, ctx.clock)


async def send_one(
    ctx: ProbeContext,
    provider: ProviderSpec,
    request: HttpRequest,
    consumer: StreamCollector | None = None,
    *,
    output_tokens: int = 0,
    timeouts: Timeouts | None = None,
) -> Exchange | Outcome:
    """One exchange with the provider's credential; a failure comes back as its `Outcome`.

    The request (asking for `output_tokens`) was taken from the run's budget by the caller;
    the transport sends it once more on a fresh connection when a keep-alive one was closed
    under it, and that resend is taken from the budget too."""
    try:
        authorize = authorization(ctx, provider, request)
        return await exchange(
            ctx.client,
            request,
            authorize,
            timeouts or ctx.defaults.timeouts,
            consumer,
            resend=lambda: ctx.budget.take(output_tokens),
        )
    except LookupError as missing:  # the credential vanished since the run was planned
        return Outcome(ErrorClass.AUTH_FAILED, f"the key could not be read: {missing}")
    except CredentialUnreachable as unreachable:  # a token endpoint, not the provider
        cause = httpx.ConnectError(str(unreachable))
        return failure(ExchangeFailed(cause, response_started=False, reused=False))
    except TRANSPORT_ERRORS as exc:
        return failure(exc)


def failure(exc: BaseException) -> Outcome:
    """What a transport failure says: its class, the phase whose deadline passed, a line
    naming the underlying error, and whether it proves the target down."""
    finding = classify.read_exception(exc)
    inner = exc.__cause__ if isinstance(exc, ExchangeFailed) and exc.__cause__ else exc
    phase = inner.phase if isinstance(inner, DeadlineExceeded) else None
    detail = _exception_detail(inner)
    if finding.fix:
        detail = f"{detail}; {finding.fix}"
    return Outcome(finding.error_class, detail, phase=phase, about_target=finding.about_target)


def _exception_detail(exc: BaseException) -> str:
    text: str = str(exc) or type(exc).__name__
    cause = _root_cause(exc)
    if cause is not exc and str(cause) and str(cause) not in text:
        text = f"{text}: {cause}"
    if isinstance(exc, httpx.ConnectError) and not str(exc):
        text = "connection failed"
    first_line = text.splitlines()[0] if text.strip() else type(exc).__name__
    return redacted_excerpt(first_line, 300)


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost OSError of the chain (else `exc`): httpx says "All connection attempts
    failed" for a refused port and an unreachable network alike; the OSError at the bottom
    says which, and where. (Other causes, such as anyio's cancel scopes, say nothing.)"""
    found, seen = exc, {id(exc)}
    cause = _next_cause(exc)
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError):
            found = cause
        cause = _next_cause(cause)
    return found


def _next_cause(exc: BaseException) -> BaseException | None:
    """What `exc` was raised from; its context only when not suppressed (`raise ... from
    None` says the error being handled is not the story: a refusal seen after a non-blocking
    connect's EINPROGRESS is a refusal, nothing more)."""
    if exc.__cause__ is not None:
        return exc.__cause__
    return None if exc.__suppress_context__ else exc.__context__


def error_outcome(family: Family, ex: Exchange) -> Outcome:
    response = HttpResponse(ex.status, ex.headers, ex.body)
    error = family.parse_error(response)
    found = classify.read_response(ex.status, error, ex.headers)
    detail = classify.reason(
        found.error_class, ex.status, error, fix=found.fix, retry_after_s=found.retry_after_s
    )
    return Outcome(
        found.error_class,
        detail,
        http_status=ex.status,
        provider_error=error,
        retry_after_s=found.retry_after_s,
        latency_ms=ex.timings.ms(ex.timings.end),
        connect_ms=ex.timings.connect_ms,
        reused=ex.timings.reused,
        ratelimit=ex.kept_headers(),
        about_target=found.about_target,
    )


def timed(outcome: Outcome, ex: Exchange) -> Outcome:
    return replace(
        outcome,
        http_status=ex.status,
        latency_ms=ex.timings.ms(ex.timings.end),
        connect_ms=ex.timings.connect_ms,
        reused=ex.timings.reused,
        ratelimit=ex.kept_headers(),
    )


def not_the_format(what: str, ex: Exchange, problem: ValueError) -> Outcome:
    text = ex.body[:MAX_EXCERPT_BYTES].decode("utf-8", "replace").strip().replace("\n", " ")
    start = redacted_excerpt(text, 60)
    content_type = ex.headers.get("content-type", "no content-type")
    found = classify.read_unusable_body(ex.status, ex.headers, ex.body[:MAX_EXCERPT_BYTES])
    if found.fix:
        detail = f"{ex.status} {found.error_class}: {found.fix} (body starts {start!r})"
    else:
        detail = f"{ex.status} but not a {what} ({content_type}; {problem}; body starts {start!r})"
    return timed(Outcome(found.error_class, detail, about_target=found.about_target), ex)
