"""The four probe kinds: catalog, completion, stream, health.

Each kind builds its requests through the provider's family, sends them through
`transport.exchange`, lets `classify` name what happened, and retries transient failures
under the run's policy. Every exchange becomes an `Attempt`; nothing is summarized away.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from modelaudit import credentials
from modelaudit.families import FAMILIES
from modelaudit.families.base import (
    CatalogEntry,
    HttpResponse,
    ProviderError,
    StreamEnd,
    StreamFailure,
    StreamMeta,
    StreamToken,
    origin_of,
)
from modelaudit.probe import classify, health, retry
from modelaudit.probe.result import Attempt, CatalogFinding, HealthState, ProbeResult
from modelaudit.probe.timing import DeadlineExceeded
from modelaudit.probe.transport import Authorize, Exchange, ExchangeFailed, Redirected, exchange
from modelaudit.redact import redact, redacted_excerpt
from modelaudit.vocabulary import ErrorClass, Phase, ProbeKind

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from modelaudit.families.base import Authorizer, Clock, Family, HttpRequest, StreamDecoder
    from modelaudit.registry.schema import Defaults, ModelSpec, ProviderSpec

MAX_CATALOG_PAGES = 100
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


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ProbeContext:
    client: httpx.AsyncClient
    defaults: Defaults
    budget: RunBudget
    base_dir: Path
    rng: random.Random = field(default_factory=random.Random)
    clock: Clock = field(default=utc_now)
    """What a family's authorizer reads the time from (signatures, token expiry)."""
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
        started = utc_now()
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
) -> Exchange | Outcome:
    """One exchange with the provider's credential; a failure comes back as its `Outcome`."""
    try:
        authorize = authorization(ctx, provider, request)
        return await exchange(ctx.client, request, authorize, ctx.defaults.timeouts, consumer)
    except LookupError as missing:  # the credential vanished since the run was planned
        return Outcome(ErrorClass.AUTH_FAILED, f"the key could not be read: {missing}")
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
    cause = exc.__cause__ or exc.__context__  # httpcore suppresses the context it maps
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError):
            found = cause
        cause = cause.__cause__ or cause.__context__
    return found


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


def _timed(outcome: Outcome, ex: Exchange) -> Outcome:
    return replace(
        outcome,
        http_status=ex.status,
        latency_ms=ex.timings.ms(ex.timings.end),
        connect_ms=ex.timings.connect_ms,
        reused=ex.timings.reused,
        ratelimit=ex.kept_headers(),
    )


def _not_the_format(what: str, ex: Exchange, problem: ValueError) -> Outcome:
    text = ex.body[:MAX_EXCERPT_BYTES].decode("utf-8", "replace").strip().replace("\n", " ")
    start = redacted_excerpt(text, 60)
    content_type = ex.headers.get("content-type", "no content-type")
    found = classify.read_unusable_body(ex.status, ex.headers, ex.body[:MAX_EXCERPT_BYTES])
    if found.fix:
        detail = f"{ex.status} {found.error_class}: {found.fix} (body starts {start!r})"
    else:
        detail = f"{ex.status} but not a {what} ({content_type}; {problem}; body starts {start!r})"
    return _timed(Outcome(found.error_class, detail, about_target=found.about_target), ex)


# --- catalog -------------------------------------------------------------------------------


async def probe_catalog(
    ctx: ProbeContext, provider: ProviderSpec, models: tuple[ModelSpec, ...]
) -> list[ProbeResult]:
    """One pass over the provider's model list (every page), shared by its models."""
    family = FAMILIES[provider.api]
    listing = await read_catalog(ctx, provider)
    attempts = listing.attempts
    entries = {entry.id: entry for entry in listing.entries}
    listed_ids = tuple(entries)
    results = []
    for model in models:
        if attempts[-1].error_class is not ErrorClass.OK:
            results.append(ProbeResult(provider.name, model.id, ProbeKind.CATALOG, attempts))
            continue
        entry = entries.get(family.catalog_id(provider, model))
        if entry is None:
            results.append(await _retrieve_by_id(ctx, provider, model, attempts, listed_ids))
            continue
        results.append(_catalog_result(provider, model, attempts, entry, listed_ids))
    return results


@dataclass(frozen=True)
class CatalogListing:
    """A provider's whole model list (every page), or the attempts that failed to read it."""

    attempts: tuple[Attempt, ...]
    entries: tuple[CatalogEntry, ...]

    @property
    def ok(self) -> bool:
        return self.attempts[-1].error_class is ErrorClass.OK


async def read_catalog(ctx: ProbeContext, provider: ProviderSpec) -> CatalogListing:
    """Read the model list page by page, retrying like any probe (no tokens are spent)."""
    family = FAMILIES[provider.api]
    first = family.catalog_request(provider)
    assert first is not None, "only providers whose API has a model list are read"
    pager = _Pager(ctx, provider, family, first)
    attempts = await attempt_loop(ctx, pager.send)
    return CatalogListing(attempts, tuple(pager.entries))


def _catalog_result(
    provider: ProviderSpec,
    model: ModelSpec,
    attempts: tuple[Attempt, ...],
    entry: CatalogEntry | None,
    listed_ids: tuple[str, ...],
    why: str = "",
) -> ProbeResult:
    if entry is None:
        final = replace(
            attempts[-1],
            error_class=classify.NOT_LISTED,
            detail=f"not in the catalog ({len(listed_ids)} models listed)"
            + (f"; {why}" if why else ""),
        )
        finding = CatalogFinding(listed=False)
    else:
        finding = CatalogFinding(
            listed=True, retires=entry.retires, lifecycle=entry.lifecycle, note=entry.note
        )
        detail = f"listed ({len(listed_ids)} models)" + _lifecycle_words(finding)
        final = replace(attempts[-1], detail=redact(detail))
    return ProbeResult(
        provider.name,
        model.id,
        ProbeKind.CATALOG,
        (*attempts[:-1], final),
        catalog=finding,
        catalog_ids=listed_ids,
    )


@dataclass(frozen=True)
class ByIdAnswer:
    """What a look-up by id said about one model."""

    attempts: tuple[Attempt, ...]
    outcome: classify.LookUp
    """`found`: the API knows it (`entry`); `gone`: a definitive not-found; `no_lookup`:
    this server does not route the look-up (404 for the route, 405, 501, a refused
    request), so the list's answer stands; `unknown`: anything else (a timeout, a 5xx)."""
    entry: CatalogEntry | None = None


async def look_up_by_id(
    ctx: ProbeContext, provider: ProviderSpec, model: ModelSpec
) -> ByIdAnswer | None:
    """Ask the API about one model by id (no tokens; one request, retried like any probe).
    None when the API has no look-up. Raises BudgetExhausted before sending, when spent."""
    family = FAMILIES[provider.api]
    request = family.retrieve_request(provider, model)
    if request is None:
        return None
    found: list[CatalogEntry] = []

    async def send(variant: int) -> Outcome:
        ctx.budget.take()
        ex = await send_one(ctx, provider, request)
        if isinstance(ex, Outcome):
            return ex
        if not 200 <= ex.status < 300:
            return error_outcome(family, ex)
        try:
            found.append(
                family.parse_retrieve(provider, model, HttpResponse(ex.status, ex.headers, ex.body))
            )
        except ValueError as problem:
            return _not_the_format("model", ex, problem)
        return _timed(Outcome(ErrorClass.OK, "retrieved by id"), ex)

    attempts = await attempt_loop(ctx, send)
    final = attempts[-1]
    outcome = classify.read_lookup(final.error_class, final.http_status)
    return ByIdAnswer(attempts, outcome, found[-1] if outcome == "found" else None)


async def _retrieve_by_id(
    ctx: ProbeContext,
    provider: ProviderSpec,
    model: ModelSpec,
    attempts: tuple[Attempt, ...],
    listed_ids: tuple[str, ...],
) -> ProbeResult:
    """A model the complete list leaves out, asked for by id where the API allows it: an
    alias the API resolves is listed; a 404 from the look-up confirms the absence; a server
    without the look-up (404 route, 405, 501) leaves the list's answer standing; any other
    failure leaves the model's listing unknown, like a list that could not be read."""
    try:
        answer = await look_up_by_id(ctx, provider, model)
    except BudgetExhausted:
        return _catalog_result(
            provider, model, attempts, None, listed_ids, "not retrieved by id: budget spent"
        )
    if answer is None:
        return _catalog_result(provider, model, attempts, None, listed_ids)
    looked_up = answer.attempts
    final = looked_up[-1]
    unlisted = f"not in the catalog ({len(listed_ids)} models listed)"
    finding: CatalogFinding | None = CatalogFinding(listed=False)
    if answer.entry is not None:
        entry = answer.entry
        asked = FAMILIES[provider.api].catalog_id(provider, model)
        finding = CatalogFinding(
            listed=True,
            retires=entry.retires,
            lifecycle=entry.lifecycle,
            note=entry.note,
            retrieved_by_id=True,
            resolved_id=entry.id,
        )
        resolved = f" → `{entry.id}`" if entry.id != asked else ""
        detail = f"listed (retrievable by id: `{asked}`{resolved})" + _lifecycle_words(finding)
        final = replace(final, detail=redact(detail))
    elif answer.outcome == "gone":
        final = replace(final, detail=redact(f"{unlisted}; retrieved by id: {final.detail}"))
    elif answer.outcome == "no_lookup":
        final = replace(
            final,
            error_class=classify.NOT_LISTED,
            detail=redact(f"{unlisted}; no look-up by id here ({final.detail})"),
            about_target=None,
        )
    else:
        finding = None
        final = replace(final, detail=redact(f"{unlisted}; retrieving it by id: {final.detail}"))
    numbered = tuple(
        replace(a, number=len(attempts) + i) for i, a in enumerate((*looked_up[:-1], final), 1)
    )
    return ProbeResult(
        provider.name,
        model.id,
        ProbeKind.CATALOG,
        (*attempts, *numbered),
        catalog=finding,
        catalog_ids=listed_ids,
    )


def _lifecycle_words(finding: CatalogFinding) -> str:
    words = []
    if finding.lifecycle:
        words.append(finding.lifecycle)
    if finding.retires:
        words.append(f"retires {finding.retires.isoformat()}")
    if finding.note:
        words.append(finding.note)
    return f"; {', '.join(words)}" if words else ""


class _Pager:
    """Fetches the list page by page; a retry resumes at the page that failed."""

    def __init__(
        self, ctx: ProbeContext, provider: ProviderSpec, family: Family, first: HttpRequest
    ) -> None:
        self.ctx, self.provider, self.family = ctx, provider, family
        self.pending: HttpRequest | None = first
        self.entries: list[CatalogEntry] = []
        self.pages = 0

    async def send(self, variant: int) -> Outcome:
        total_ms = 0.0
        last: Exchange | None = None
        while self.pending is not None:
            if self.pages >= MAX_CATALOG_PAGES:
                return Outcome(
                    ErrorClass.PROTOCOL_ERROR,
                    f"the model list goes on past {MAX_CATALOG_PAGES} pages",
                )
            outcome, last = await self._page(self.pending)
            if outcome is not None:
                return outcome
            assert last is not None
            total_ms += last.timings.ms(last.timings.end) or 0.0
        assert last is not None
        return replace(
            _timed(Outcome(ErrorClass.OK, f"{len(self.entries)} models listed"), last),
            latency_ms=total_ms,
        )

    async def _page(self, request: HttpRequest) -> tuple[Outcome | None, Exchange | None]:
        self.ctx.budget.take()
        ex = await send_one(self.ctx, self.provider, request)
        if isinstance(ex, Outcome):
            return ex, None
        if not 200 <= ex.status < 300:
            return error_outcome(self.family, ex), ex
        try:
            page = self.family.parse_catalog(
                self.provider, HttpResponse(ex.status, ex.headers, ex.body)
            )
        except ValueError as problem:
            return _not_the_format("model list", ex, problem), ex
        self.entries.extend(page.entries)
        self.pages += 1
        self.pending = page.next_request
        return None, ex


# --- completion ------------------------------------------------------------------------------


async def probe_completion(
    ctx: ProbeContext, provider: ProviderSpec, model: ModelSpec, known_as: tuple[str, ...] = ()
) -> ProbeResult:
    """The cheapest real generation. `known_as`: other names the model answers under in
    this run (the id its look-up by id resolved to)."""
    family = FAMILIES[provider.api]
    max_tokens = ctx.defaults.budget.output_tokens_per_probe
    names = _answers_as(family, model, known_as)

    async def send(variant: int) -> Outcome:
        request = family.completion_request(provider, model, max_tokens, variant)
        ctx.budget.take(max_tokens)
        ex = await send_one(ctx, provider, request)
        if isinstance(ex, Outcome):
            return ex
        if not 200 <= ex.status < 300:
            return error_outcome(family, ex)
        try:
            generation = family.parse_completion(HttpResponse(ex.status, ex.headers, ex.body))
        except ValueError as problem:
            return _not_the_format("completion", ex, problem)
        error_class = classify.classify_generation(generation)
        detail = _generation_detail(error_class, generation.finish_reason, generation.error)
        outcome = Outcome(
            error_class,
            detail,
            provider_error=generation.error,
            served_model=generation.served_model,
            system_fingerprint=generation.system_fingerprint,
            output_tokens=generation.output_tokens,
        )
        return _timed(_checked_served(outcome, model, names), ex)

    attempts = await attempt_loop(ctx, send, _alternative(family))
    return ProbeResult(provider.name, model.id, ProbeKind.COMPLETION, attempts)


def _answers_as(family: Family, model: ModelSpec, known_as: tuple[str, ...]) -> tuple[str, ...]:
    """Every name a reply may carry for `model` besides its id."""
    return (*family.served_names(model), *model.served_as, *known_as)


_ANSWERED = frozenset({ErrorClass.OK, ErrorClass.CONTENT_FILTERED})


def _checked_served(outcome: Outcome, model: ModelSpec, names: tuple[str, ...]) -> Outcome:
    """An answer from another model is not the requested model answering."""
    if outcome.error_class not in _ANSWERED:
        return outcome
    substituted = classify.read_served(model.id, outcome.served_model, names)
    if substituted is None:
        return outcome
    return replace(outcome, error_class=substituted.error_class, detail=substituted.fix or "")


def _alternative(family: Family) -> Callable[[Outcome, int], int | None]:
    def pick(outcome: Outcome, variant: int) -> int | None:
        if outcome.error_class is not ErrorClass.BAD_REQUEST or outcome.provider_error is None:
            return None
        return family.alternative_variant(outcome.provider_error, variant)

    return pick


def _generation_detail(
    error_class: ErrorClass, finish_reason: str | None, error: ProviderError | None
) -> str:
    if error is not None:
        fix = classify.read_response(None, error).fix
        return "error inside a 200: " + classify.reason(error_class, None, error, fix=fix)
    if error_class is ErrorClass.CONTENT_FILTERED:
        return f"answered, but the reply was filtered (finish: {finish_reason or 'blocked'})"
    return f"answered (finish: {finish_reason or 'unknown'})"


# --- stream --------------------------------------------------------------------------------


class StreamCollector:
    """Feeds a family's stream decoder and remembers what the stream said."""

    def __init__(self, decoder: StreamDecoder) -> None:
        self.decoder = decoder
        self.tokens = 0
        self.meta = StreamMeta()
        self.end: StreamEnd | None = None
        self.error: StreamFailure | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def feed(self, chunk: bytes) -> bool:
        return self._take(self.decoder.feed(chunk))

    def finish(self) -> None:
        self._take(self.decoder.close())

    def _take(self, events: list[StreamToken | StreamMeta | StreamEnd | StreamFailure]) -> bool:
        carried_text = False
        for event in events:
            if isinstance(event, StreamToken):
                self.tokens += 1
                carried_text = True
            elif isinstance(event, StreamMeta):
                self.meta = StreamMeta(
                    self.meta.served_model or event.served_model,
                    self.meta.system_fingerprint or event.system_fingerprint,
                )
            elif isinstance(event, StreamEnd):
                self.end = event
            elif self.error is None:
                self.error = event
        return carried_text


async def probe_stream(
    ctx: ProbeContext, provider: ProviderSpec, model: ModelSpec, known_as: tuple[str, ...] = ()
) -> ProbeResult:
    family = FAMILIES[provider.api]
    max_tokens = ctx.defaults.budget.output_tokens_per_probe
    names = _answers_as(family, model, known_as)

    async def send(variant: int) -> Outcome:
        request = family.stream_request(provider, model, max_tokens, variant)
        ctx.budget.take(max_tokens)
        collector = StreamCollector(family.stream_decoder())
        ex = await send_one(ctx, provider, request, collector)
        if isinstance(ex, Outcome):
            return _cut_short(ex, collector)
        if not 200 <= ex.status < 300:
            return error_outcome(family, ex)
        return _checked_served(_stream_outcome(ex, collector), model, names)

    attempts = await attempt_loop(ctx, send, _alternative(family))
    return ProbeResult(provider.name, model.id, ProbeKind.STREAM, attempts)


def _cut_short(outcome: Outcome, collector: StreamCollector) -> Outcome:
    if collector.tokens:
        return replace(outcome, detail=f"{outcome.detail} (after {collector.tokens} tokens)")
    return outcome


def _stream_outcome(ex: Exchange, collector: StreamCollector) -> Outcome:
    t = ex.timings
    tokens = (collector.end.output_tokens if collector.end else None) or collector.tokens
    error_class, detail = _stream_verdict(collector)
    if t.first_token is not None and t.end is not None and tokens > 1 and t.end > t.first_token:
        tokens_per_s: float | None = (tokens - 1) / (t.end - t.first_token)
    else:
        tokens_per_s = None
    gaps = t.token_gaps
    return _timed(
        Outcome(
            error_class,
            detail,
            provider_error=collector.error.error if collector.error else None,
            ttft_ms=t.ms(t.first_token),
            served_model=collector.meta.served_model,
            system_fingerprint=collector.meta.system_fingerprint,
            output_tokens=tokens or None,
            tokens_per_s=tokens_per_s,
            max_gap_ms=max(gaps) * 1000.0 if gaps else None,
        ),
        ex,
    )


def _stream_verdict(collector: StreamCollector) -> tuple[ErrorClass, str]:
    found, error = classify.read_stream(collector.error, collector.end)
    if error is not None:
        return found.error_class, "error event inside the 200 stream: " + classify.reason(
            found.error_class, None, error, fix=found.fix
        )
    if found.signal == "malformed":
        assert collector.error is not None
        return found.error_class, f"malformed stream: {collector.error.malformed}"
    if found.signal == "no-terminator":
        return (
            found.error_class,
            f"the stream ended without its terminator after {collector.tokens} tokens",
        )
    if found.error_class is ErrorClass.CONTENT_FILTERED:
        return found.error_class, "streamed, but the reply was filtered"
    assert collector.end is not None
    finish = collector.end.finish_reason or "unknown"
    return found.error_class, f"streamed {collector.tokens} chunks with text (finish: {finish})"


# --- health ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthProbe:
    attempts: tuple[Attempt, ...]
    state: HealthState | None


async def probe_health(ctx: ProbeContext, provider: ProviderSpec) -> HealthProbe:
    server = provider.server
    assert server is not None, "planning only schedules health for servers"
    request = health.health_request(server, provider.base_url)
    states: list[HealthState | None] = []

    async def send(variant: int) -> Outcome:
        ctx.budget.take()
        ex = await send_one(ctx, provider, request)
        if isinstance(ex, Outcome):
            states.append(None)
            return ex
        state = health.parse_health(server, HttpResponse(ex.status, ex.headers, ex.body))
        states.append(state)
        if state is HealthState.OK:
            return _timed(Outcome(ErrorClass.OK, f"{server} reports healthy"), ex)
        outcome = error_outcome(FAMILIES[provider.api], ex)
        loading = state is HealthState.LOADING
        words = "is loading its model" if loading else "reports unhealthy"
        error_class = classify.health_class(loading, False, outcome.error_class)
        return replace(outcome, error_class=error_class, detail=f"{server} {words} ({ex.status})")

    attempts = await attempt_loop(ctx, send)
    return HealthProbe(attempts, states[-1] if states else None)


def health_results(
    provider: ProviderSpec, models: tuple[ModelSpec, ...], probe: HealthProbe
) -> list[ProbeResult]:
    """The server's health is every model's health on it."""
    return [
        ProbeResult(provider.name, m.id, ProbeKind.HEALTH, probe.attempts, health=probe.state)
        for m in models
    ]
