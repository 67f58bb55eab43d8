"""The only module that touches sockets: one HTTP exchange under per-phase deadlines.

httpx's own read timeout applies to each socket read, so a server that trickles one byte
every few seconds never trips it. Here every phase has its own deadline on the monotonic
clock (connect, first byte, first token, stall between chunks, total), enforced with
asyncio, and httpx's connection trace tells a fresh connection (and its setup time) from
a reused one.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import httpx

from modelaudit.probe.timing import DeadlineExceeded
from modelaudit.vocabulary import Phase

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping
    from pathlib import Path

    from modelaudit.families.base import HttpRequest
    from modelaudit.registry.schema import Timeouts

MAX_BODY_BYTES = 16 * 1024 * 1024
USER_AGENT = "modelaudit"
_KEEP_HEADERS = ("x-ratelimit-", "anthropic-ratelimit-", "retry-after", "x-should-retry")


class BodyTooLarge(Exception):  # noqa: N818 - reads as the event it is
    def __init__(self) -> None:
        super().__init__(f"the response body is over {MAX_BODY_BYTES // 1_048_576} MiB")


class Redirected(Exception):  # noqa: N818 - reads as the event it is
    """A 3xx: never followed, so a key can never be carried to another host."""

    def __init__(self, status: int, location: str) -> None:
        parts = urlsplit(location)
        # Host and port only: a Location may carry someone's user:password@.
        target = parts.hostname or "an unparseable location"
        if parts.port:
            target += f":{parts.port}"
        super().__init__(f"redirected ({status}) to {target}: not followed")
        self.status = status
        self.location = location


class ExchangeFailed(Exception):  # noqa: N818 - wraps the failure, says when it happened
    """A transport failure, with whether the response had begun when it happened (a reset
    before the headers is a connection failure; one mid-body is a truncated response)."""

    def __init__(self, cause: BaseException, *, response_started: bool, reused: bool) -> None:
        super().__init__(str(cause) or type(cause).__name__)
        self.response_started = response_started
        self.reused = reused
        """The request went out on a pooled connection (no new connection was opened)."""


_FAILURES = (httpx.HTTPError, OSError, ssl.SSLError, DeadlineExceeded, BodyTooLarge)


class BodyConsumer(Protocol):
    """Receives a 2xx stream chunk by chunk, as it arrives."""

    @property
    def failed(self) -> bool:
        """True once the stream reported an error: nothing after it matters, stop reading.
        (After a normal terminator the body is read to its end, so the connection can be
        reused.)"""
        ...

    def feed(self, chunk: bytes) -> bool:
        """Take the next chunk; True when it carried text (a token)."""
        ...

    def finish(self) -> None:
        """The body ended normally."""
        ...


@dataclass
class Timings:
    """Marks on the monotonic clock, in seconds; filled in as the exchange goes.

    Latency and time to first token count from `sent`, when the request reached the wire
    (the connection attempt, or its first bytes on a reused connection), to the last byte
    of the body: building the request and the pool's bookkeeping before, and closing the
    response after, are this process's own CPU time, not the provider's (on a busy
    machine, a few ms). The total deadline counts from `start`, before all of it.
    """

    start: float
    sent: float | None = None
    connect_start: float | None = None
    connect_end: float | None = None
    headers: float | None = None
    first_token: float | None = None
    end: float | None = None
    token_gaps: list[float] = field(default_factory=list)
    _last_token: float | None = None
    on_request_sent: Callable[[], None] | None = None
    """Called when the request's headers start going out (connection ready)."""

    @property
    def reused(self) -> bool:
        return self.connect_start is None

    def ms(self, mark: float | None) -> float | None:
        origin = self.start if self.sent is None else self.sent
        return None if mark is None else (mark - origin) * 1000.0

    @property
    def connect_ms(self) -> float | None:
        if self.connect_start is None or self.connect_end is None:
            return None
        return (self.connect_end - self.connect_start) * 1000.0

    def token(self, now: float) -> None:
        if self.first_token is None:
            self.first_token = now
        elif self._last_token is not None:
            self.token_gaps.append(now - self._last_token)
        self._last_token = now

    async def trace(self, event: str, info: Mapping[str, Any]) -> None:
        now = time.perf_counter()
        if self.sent is None:  # httpcore traces from the connection on, not the pool
            self.sent = now
        if event == "connection.connect_tcp.started":
            self.connect_start = now
        elif event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self.connect_end = now
        elif event.endswith("send_request_headers.started") and self.on_request_sent:
            self.on_request_sent()
        elif event == "http11.receive_response_body.complete":
            self.end = now


@dataclass(frozen=True)
class Exchange:
    status: int
    headers: Mapping[str, str]
    """Lower-cased names."""
    body: bytes
    """The whole body (empty when a stream consumer took it)."""
    timings: Timings

    def kept_headers(self) -> tuple[tuple[str, str], ...]:
        """Rate-limit and retry headers, sorted: what the store keeps of a response."""
        return tuple(sorted((k, v) for k, v in self.headers.items() if k.startswith(_KEEP_HEADERS)))


def ssl_context(ca_bundle: Path | None = None) -> ssl.SSLContext:
    """Verification on; `SSL_CERT_FILE`/`SSL_CERT_DIR` honoured; a provider's bundle added."""
    context = httpx.create_ssl_context(trust_env=True)
    if ca_bundle is not None:
        context.load_verify_locations(cafile=str(ca_bundle))
    return context


def make_client(
    total_connections: int,
    connect_s: float,
    mounts: Mapping[str, ssl.SSLContext] | None = None,
    pools: Mapping[str, int] | None = None,
) -> httpx.AsyncClient:
    """One client for the run: connections are pooled and reused across probes.

    `mounts` maps a URL prefix (`scheme://host:port`) to the TLS context of a provider with
    its own CA bundle; `pools` maps a prefix to the connections its own pool may hold.
    Each prefix gets a pool of its own: httpcore checks every connection of a pool on each
    request and response, so one shared pool of a hundred connections costs milliseconds
    of CPU per request, while pools sized to one provider's cap stay small. When the
    environment names a proxy, `pools` is ignored: a transport of its own would bypass it.
    """
    default_tls = ssl_context()
    own_pools = {} if _proxy_configured() else dict(pools or {})
    transports = {
        prefix: httpx.AsyncHTTPTransport(
            verify=(mounts or {}).get(prefix, default_tls),
            limits=_limits(own_pools.get(prefix, total_connections)),
        )
        for prefix in {**(mounts or {}), **own_pools}
    }
    return httpx.AsyncClient(
        verify=default_tls,
        limits=_limits(total_connections),
        follow_redirects=False,
        # httpx bounds the connection setup; every later deadline is enforced here.
        timeout=httpx.Timeout(None, connect=connect_s),
        trust_env=True,
        headers={"user-agent": USER_AGENT},
        mounts=transports,
    )


def _proxy_configured() -> bool:
    """Whether httpx would send some requests through a proxy (`HTTPS_PROXY` and friends)."""
    from urllib.request import getproxies

    return any(getproxies().get(scheme) for scheme in ("http", "https", "all"))


def _limits(connections: int) -> httpx.Limits:
    return httpx.Limits(max_connections=connections, max_keepalive_connections=connections)


def same_host(url: str, base_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(base_url)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


async def exchange(
    client: httpx.AsyncClient,
    request: HttpRequest,
    auth: Mapping[str, str],
    timeouts: Timeouts,
    consumer: BodyConsumer | None = None,
) -> Exchange:
    """Send `request` with `auth` headers added; read the whole response under deadlines.

    A server may close an idle keep-alive connection just as we reuse it (llama.cpp does
    after a stream, without `Connection: close`). That is not the server failing: the
    request is sent once more, on a fresh connection, and only that exchange is timed.
    """
    try:
        return await _exchange_once(client, request, auth, timeouts, consumer)
    except ExchangeFailed as exc:
        if not _stale_connection(exc):
            raise
    return await _exchange_once(client, request, auth, timeouts, consumer)


def _stale_connection(exc: ExchangeFailed) -> bool:
    broken = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
    return exc.reused and not exc.response_started and isinstance(exc.__cause__, broken)


async def _exchange_once(
    client: httpx.AsyncClient,
    request: HttpRequest,
    auth: Mapping[str, str],
    timeouts: Timeouts,
    consumer: BodyConsumer | None,
) -> Exchange:
    """Raises `Redirected`, or `ExchangeFailed` wrapping what went wrong (a `DeadlineExceeded`
    with its phase, `BodyTooLarge`, or whatever httpx raised); `modelaudit.probe.classify`
    turns each into an error class.
    """
    timings = Timings(start=time.perf_counter())
    built = client.build_request(
        request.method,
        request.url,
        headers={**request.headers, **auth},
        content=request.body_bytes(),
        extensions={"trace": timings.trace},
    )
    if request.json_body is not None:
        built.headers["content-type"] = "application/json"
    try:
        response = await _headers(client, built, timings, timeouts)
    except _FAILURES as exc:
        raise ExchangeFailed(exc, response_started=False, reused=timings.reused) from exc
    try:
        if 300 <= response.status_code < 400:
            raise Redirected(response.status_code, response.headers.get("location", "?"))
        # Only a 2xx body is the stream; an error reply is read whole and parsed as such.
        body = await _body(response, timings, timeouts, consumer if response.is_success else None)
    except _FAILURES as exc:
        raise ExchangeFailed(exc, response_started=True, reused=timings.reused) from exc
    finally:
        await response.aclose()
    headers = {k.lower(): v for k, v in response.headers.items()}
    return Exchange(response.status_code, headers, body, timings)


async def _headers(
    client: httpx.AsyncClient, built: httpx.Request, timings: Timings, timeouts: Timeouts
) -> httpx.Response:
    """Send and wait for the response headers. The first-byte budget runs from the moment
    the request goes out (a slow connection setup is the connect phase's business)."""
    loop = asyncio.get_running_loop()
    total_deadline = loop.time() + timeouts.total_s
    binding = [Phase.FIRST_BYTE]

    def deadline_from(start: float) -> float:
        first_byte = start + timeouts.first_byte_s
        binding[0] = Phase.FIRST_BYTE if first_byte < total_deadline else Phase.TOTAL
        return min(first_byte, total_deadline)

    try:
        async with asyncio.timeout(deadline_from(loop.time() + timeouts.connect_s)) as scope:
            timings.on_request_sent = lambda: scope.reschedule(deadline_from(loop.time()))
            response = await client.send(built, stream=True)
    except httpx.ConnectTimeout:
        raise DeadlineExceeded(Phase.CONNECT, timeouts.connect_s) from None
    except TimeoutError:
        if timings.connect_start is not None and timings.connect_end is None:
            raise DeadlineExceeded(Phase.CONNECT, timeouts.connect_s) from None
        raise DeadlineExceeded(binding[0], _phase_budget(binding[0], timeouts)) from None
    finally:
        timings.on_request_sent = None
    timings.headers = time.perf_counter()
    if timings.connect_start is not None and timings.connect_end is None:
        timings.connect_end = timings.headers
    return response


async def _body(
    response: httpx.Response,
    timings: Timings,
    timeouts: Timeouts,
    consumer: BodyConsumer | None,
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    stream = response.aiter_bytes()
    while True:
        phase, budget = _next_chunk_budget(timings, timeouts, streaming=consumer is not None)
        try:
            async with asyncio.timeout(budget):
                chunk = await _next(stream)
        except TimeoutError:
            raise DeadlineExceeded(phase, _phase_budget(phase, timeouts)) from None
        if chunk is None:
            break
        now = time.perf_counter()
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        if consumer is None:
            chunks.append(chunk)
        else:
            if consumer.feed(chunk):
                timings.token(now)
            if consumer.failed:
                break
    if timings.end is None:  # stopped early: httpcore did not read the body to its end
        timings.end = time.perf_counter()
    if consumer is not None:
        consumer.finish()
    return b"".join(chunks)


async def _next(stream: AsyncIterator[bytes]) -> bytes | None:
    try:
        return await anext(stream)
    except StopAsyncIteration:
        return None


def _next_chunk_budget(
    timings: Timings, timeouts: Timeouts, *, streaming: bool
) -> tuple[Phase, float]:
    """The tightest deadline that applies to the next chunk, and its phase."""
    now = time.perf_counter()
    options = [
        (Phase.STALL, timeouts.stall_s),
        (Phase.TOTAL, timings.start + timeouts.total_s - now),
    ]
    if streaming and timings.first_token is None:
        options.append((Phase.FIRST_TOKEN, timings.start + timeouts.first_token_s - now))
    phase, budget = min(options, key=lambda option: option[1])
    return phase, max(budget, 0.0)


def _phase_budget(phase: Phase, timeouts: Timeouts) -> float:
    return {
        Phase.STALL: timeouts.stall_s,
        Phase.TOTAL: timeouts.total_s,
        Phase.FIRST_TOKEN: timeouts.first_token_s,
        Phase.CONNECT: timeouts.connect_s,
        Phase.FIRST_BYTE: timeouts.first_byte_s,
    }[phase]
