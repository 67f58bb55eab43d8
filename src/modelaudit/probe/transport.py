"""One HTTP exchange under per-phase deadlines: the probe's only way to the network.

Sockets are touched here and in `http1`, the lean HTTP/1.1 client this module drives for
every origin reached directly; an origin the environment sends through a proxy goes
through httpx instead (so does the control check). A per-read timeout alone never stops a
server that trickles one byte every few seconds, so every phase has its own deadline on
the monotonic clock (connect, first byte, first token, stall between chunks, total),
enforced with asyncio, and each exchange knows whether it opened its connection (and how
long the setup took) or reused one.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias
from urllib.parse import urlsplit

import h11
import httpx

from modelaudit.probe.http1 import Connection, Origin, Pool, target
from modelaudit.probe.timing import DeadlineExceeded
from modelaudit.vocabulary import Phase

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from pathlib import Path

    from modelaudit.families.base import HttpRequest
    from modelaudit.registry.schema import Timeouts

MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_CA_BUNDLE_BYTES = 4 * 1024 * 1024
"""A system's whole CA bundle is a few hundred KiB."""
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
Chunks: TypeAlias = "Callable[[], Awaitable[tuple[bytes, float] | None]]"
"""The next chunk of a body and when it arrived; None at its end."""


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

    Latency and time to first token count from `sent`, when the request's first bytes were
    handed to the kernel, to the arrival of the body's last byte (of the first token's
    chunk): `http1` stamps each chunk when the event loop hands it over, before anything
    parses it. When the exchange opened its connection, the setup (`connect_start` to
    `connect_end`: the handshakes) is added in front. Building the request, waiting for a
    free connection, the event loop's work between the connection being ready and the
    request going out, parsing and closing: all this process's own CPU time, not the
    provider's, and not counted. The total deadline counts from `start`, before all of it.
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
        return None if mark is None else (mark - self._origin) * 1000.0

    @property
    def _origin(self) -> float:
        """`sent`, moved back by the connection setup when there was one."""
        if self.sent is None:
            return self.start
        if self.connect_start is None or self.connect_end is None:
            return self.sent
        return self.sent - (self.connect_end - self.connect_start)

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
        """httpcore's trace callback (the httpx path, behind a proxy)."""
        now = time.perf_counter()
        if event == "connection.connect_tcp.started":
            self.connect_start = now
        elif event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self.connect_end = now
        elif event.endswith("send_request_headers.started"):
            self.sent = now  # the last one: a proxy's CONNECT goes first, inside the setup
            if self.on_request_sent:
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
        from modelaudit.fileio import read_bytes

        # Read by fileio (a regular file, capped): OpenSSL would read a FIFO or a device
        # without end. PEM is text; anything else is handed over as DER.
        data = read_bytes(ca_bundle, MAX_CA_BUNDLE_BYTES)
        try:
            context.load_verify_locations(cadata=data.decode("ascii"))
        except UnicodeDecodeError:
            context.load_verify_locations(cadata=data)
    context.set_alpn_protocols(["http/1.1"])
    return context


class Client:
    """One run's connections, pooled and reused across probes.

    Each origin (scheme, host, port) gets a pool of its own: `pools` maps a URL prefix
    (`scheme://host:port`) to the connections its pool may hold (else `total_connections`),
    and `mounts` maps a prefix to the TLS context of a provider with its own CA bundle (else
    the default one). An origin the environment sends through a proxy (`HTTPS_PROXY` and
    friends, unless `NO_PROXY` names it) is reached through httpx, which speaks to proxies;
    the control check uses that httpx client too.
    """

    def __init__(
        self,
        total_connections: int,
        connect_s: float,
        mounts: Mapping[str, ssl.SSLContext] | None = None,
        pools: Mapping[str, int] | None = None,
    ) -> None:
        self._total = total_connections
        self._connect_s = connect_s
        self._mounts = dict(mounts or {})
        self._tls = {Origin.of(prefix): context for prefix, context in self._mounts.items()}
        self._limits = {Origin.of(prefix): limit for prefix, limit in (pools or {}).items()}
        self._pools: dict[Origin, Pool | None] = {}
        self._default_tls: ssl.SSLContext | None = None
        self._httpx: httpx.AsyncClient | None = None

    def pool(self, url: str) -> Pool | None:
        """The pool of `url`'s origin; None when the environment names a proxy for it."""
        origin = Origin.of(url)
        if origin not in self._pools:
            direct = _proxy_url(origin) is None
            self._pools[origin] = self._new_pool(origin) if direct else None
        return self._pools[origin]

    def _new_pool(self, origin: Origin) -> Pool:
        tls = None
        if origin.scheme == "https":
            tls = self._tls.get(origin) or self._default_context()
        return Pool(origin, self._limits.get(origin, self._total), tls)

    def _default_context(self) -> ssl.SSLContext:
        if self._default_tls is None:
            self._default_tls = ssl_context()
        return self._default_tls

    @property
    def httpx(self) -> httpx.AsyncClient:
        """The httpx client for proxied origins and the control check (made on first use)."""
        if self._httpx is None:
            transports = {
                prefix: httpx.AsyncHTTPTransport(
                    verify=context,
                    limits=_limits(self._total),
                    proxy=_proxy_url(Origin.of(prefix)),
                )
                for prefix, context in self._mounts.items()
            }
            self._httpx = httpx.AsyncClient(
                verify=self._default_context(),
                limits=_limits(self._total),
                follow_redirects=False,
                # httpx bounds the connection setup; every later deadline is enforced here.
                timeout=httpx.Timeout(None, connect=self._connect_s),
                trust_env=True,
                headers={"user-agent": USER_AGENT},
                mounts=transports,
            )
        return self._httpx

    async def aclose(self) -> None:
        for pool in self._pools.values():
            if pool is not None:
                pool.close()
        if self._httpx is not None:
            await self._httpx.aclose()
        await asyncio.sleep(0)  # let the closed transports say goodbye

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def make_client(
    total_connections: int,
    connect_s: float,
    mounts: Mapping[str, ssl.SSLContext] | None = None,
    pools: Mapping[str, int] | None = None,
) -> Client:
    """One client for the run (see `Client`)."""
    return Client(total_connections, connect_s, mounts, pools)


def _proxy_url(origin: Origin) -> str | None:
    """The proxy the environment names for `origin`, as httpx would read it (the platform's
    proxy settings, `NO_PROXY` by urllib's rules), or None."""
    from urllib.request import getproxies, proxy_bypass

    proxies = getproxies()
    proxy = proxies.get(origin.scheme) or proxies.get("all")
    if not proxy or proxy_bypass(origin.authority):
        return None
    return proxy


def _limits(connections: int) -> httpx.Limits:
    return httpx.Limits(max_connections=connections, max_keepalive_connections=connections)


def same_host(url: str, base_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(base_url)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


async def exchange(
    client: Client,
    request: HttpRequest,
    auth: Mapping[str, str],
    timeouts: Timeouts,
    consumer: BodyConsumer | None = None,
    *,
    resend: Callable[[], None] | None = None,
) -> Exchange:
    """Send `request` with `auth` headers added; read the whole response under deadlines.

    Raises `Redirected`, or `ExchangeFailed` wrapping what went wrong (a `DeadlineExceeded`
    with its phase, `BodyTooLarge`, or what the HTTP client raised); `modelaudit.probe.classify`
    turns each into an error class.

    A server may close an idle keep-alive connection just as we reuse it (llama.cpp does
    after a stream, without `Connection: close`). That is not the server failing: the
    request is sent once more, on a fresh connection, and only that exchange is timed. It is
    still one request: the resend gets what is left of `total_s`, and `resend` is called
    first (to take it from the run's budget; what it raises propagates).
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    pool = client.pool(request.url)
    try:
        if pool is None:
            return await _through_httpx(client.httpx, request, auth, timeouts, consumer)
        return await _direct(pool, request, auth, timeouts, consumer, fresh=False)
    except ExchangeFailed as exc:
        if not _stale_connection(exc):
            raise
        left = timeouts.total_s - (loop.time() - started)
        if left <= 0:
            raise
    if resend is not None:
        resend()
    timeouts = timeouts.model_copy(update={"total_s": left})
    if pool is None:
        return await _through_httpx(client.httpx, request, auth, timeouts, consumer)
    return await _direct(pool, request, auth, timeouts, consumer, fresh=True)


_BROKEN = (
    h11.RemoteProtocolError,
    ConnectionError,
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
)


def _stale_connection(exc: ExchangeFailed) -> bool:
    return exc.reused and not exc.response_started and isinstance(exc.__cause__, _BROKEN)


class _Deadlines:
    """Where the wait for the response head must end, and which phase that is: the wait
    for a free connection and its setup get `connect_s + first_byte_s`, the setup alone
    `connect_s`, and the first-byte budget runs from the moment the request goes out (a
    slow setup is the connect phase's business); `total_s` bounds them all."""

    def __init__(self, timeouts: Timeouts) -> None:
        self.loop = asyncio.get_running_loop()
        self.timeouts = timeouts
        self.total_at = self.loop.time() + timeouts.total_s
        self.phase = Phase.FIRST_BYTE

    def waiting(self) -> float:
        budget = self.timeouts.connect_s + self.timeouts.first_byte_s
        return self._until(self.loop.time() + budget, Phase.FIRST_BYTE)

    def connecting(self) -> float:
        return self._until(self.loop.time() + self.timeouts.connect_s, Phase.CONNECT)

    def sent(self) -> float:
        return self._until(self.loop.time() + self.timeouts.first_byte_s, Phase.FIRST_BYTE)

    def _until(self, when: float, phase: Phase) -> float:
        self.phase = phase if when < self.total_at else Phase.TOTAL
        return min(when, self.total_at)

    def exceeded(self, phase: Phase | None = None) -> DeadlineExceeded:
        phase = phase or self.phase
        return DeadlineExceeded(phase, _phase_budget(phase, self.timeouts))


_DIRECT_FAILURES = (OSError, h11.ProtocolError, DeadlineExceeded, BodyTooLarge)


async def _direct(
    pool: Pool,
    request: HttpRequest,
    auth: Mapping[str, str],
    timeouts: Timeouts,
    consumer: BodyConsumer | None,
    *,
    fresh: bool,
) -> Exchange:
    """One exchange on a pooled `http1` connection (a new one when `fresh`)."""
    timings = Timings(start=time.perf_counter())
    body = request.body_bytes()
    headers = _request_headers(pool.origin, request, auth, body)
    deadlines = _Deadlines(timeouts)
    connection: Connection | None = None
    finished = acquired = False
    try:
        try:
            async with asyncio.timeout_at(deadlines.waiting()) as scope:
                await pool.acquire()
                acquired = True
                connection = pool.idle(fresh=fresh)
                if connection is None:
                    timings.connect_start = time.perf_counter()  # the connect phase began
                    scope.reschedule(deadlines.connecting())
                    connection = await pool.connect()
                    timings.connect_start = connection.attempted_at
                    timings.connect_end = connection.ready_at
                scope.reschedule(deadlines.sent())
                timings.sent = await connection.send(
                    request.method, target(request.url), headers, body
                )
                head = await connection.head()
        except TimeoutError as exc:
            failure: BaseException = exc
            if scope.expired():
                failure = deadlines.exceeded()
            elif timings.connect_start is not None and timings.connect_end is None:
                failure = deadlines.exceeded(Phase.CONNECT)  # the kernel gave up first
            reused = timings.reused
            raise ExchangeFailed(failure, response_started=False, reused=reused) from failure
        except _DIRECT_FAILURES as exc:
            raise ExchangeFailed(exc, response_started=False, reused=timings.reused) from exc
        timings.headers = head.at
        try:
            if 300 <= head.status < 400:
                raise Redirected(head.status, head.headers.get("location", "?"))
            chunks = _chunks_of(connection, timings)
            streamed = consumer if 200 <= head.status < 300 else None
            content = await _body(chunks, timings, timeouts, streamed)
        except _DIRECT_FAILURES as exc:
            raise ExchangeFailed(exc, response_started=True, reused=timings.reused) from exc
        finished = True
    finally:
        if acquired:
            pool.release(connection, reusable=finished)
    return Exchange(head.status, head.headers, content, timings)


def _request_headers(
    origin: Origin, request: HttpRequest, auth: Mapping[str, str], body: bytes | None
) -> list[tuple[str, str]]:
    """What httpx would send, but `accept-encoding: identity`: a compressed stream may be
    held back by the compressor, which would delay the first token."""
    headers = {
        "host": origin.authority,
        "accept": "*/*",
        "accept-encoding": "identity",
        "user-agent": USER_AGENT,
    }
    headers.update((name.lower(), value) for name, value in {**request.headers, **auth}.items())
    if request.json_body is not None:
        headers["content-type"] = "application/json"
    if body is not None:
        headers["content-length"] = str(len(body))
    return list(headers.items())


def _chunks_of(connection: Connection, timings: Timings) -> Chunks:
    async def next_chunk() -> tuple[bytes, float] | None:
        chunk = await connection.chunk()
        if chunk is None:
            timings.end = connection.ended_at
        return chunk

    return next_chunk


async def _through_httpx(
    client: httpx.AsyncClient,
    request: HttpRequest,
    auth: Mapping[str, str],
    timeouts: Timeouts,
    consumer: BodyConsumer | None,
) -> Exchange:
    """One exchange through httpx (an origin behind a proxy), timed from its trace."""
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
        response = await _httpx_headers(client, built, timings, timeouts)
    except _FAILURES as exc:
        raise ExchangeFailed(exc, response_started=False, reused=timings.reused) from exc
    try:
        if 300 <= response.status_code < 400:
            raise Redirected(response.status_code, response.headers.get("location", "?"))
        # Only a 2xx body is the stream; an error reply is read whole and parsed as such.
        streamed = consumer if response.is_success else None
        body = await _body(_httpx_chunks(response), timings, timeouts, streamed)
    except _FAILURES as exc:
        raise ExchangeFailed(exc, response_started=True, reused=timings.reused) from exc
    finally:
        await response.aclose()
    headers = {k.lower(): v for k, v in response.headers.items()}
    return Exchange(response.status_code, headers, body, timings)


async def _httpx_headers(
    client: httpx.AsyncClient, built: httpx.Request, timings: Timings, timeouts: Timeouts
) -> httpx.Response:
    """Send and wait for the response headers, under `_Deadlines`."""
    deadlines = _Deadlines(timeouts)
    try:
        async with asyncio.timeout_at(deadlines.waiting()) as scope:
            timings.on_request_sent = lambda: scope.reschedule(deadlines.sent())
            response = await client.send(built, stream=True)
    except httpx.ConnectTimeout:
        raise deadlines.exceeded(Phase.CONNECT) from None
    except TimeoutError:
        if timings.connect_start is not None and timings.connect_end is None:
            raise deadlines.exceeded(Phase.CONNECT) from None
        raise deadlines.exceeded() from None
    finally:
        timings.on_request_sent = None
    timings.headers = time.perf_counter()
    if timings.connect_start is not None and timings.connect_end is None:
        timings.connect_end = timings.headers
    return response


def _httpx_chunks(response: httpx.Response) -> Chunks:
    stream = response.aiter_bytes()

    async def next_chunk() -> tuple[bytes, float] | None:
        try:
            chunk = await anext(stream)
        except StopAsyncIteration:
            return None
        return chunk, time.perf_counter()

    return next_chunk


async def _body(
    next_chunk: Chunks,
    timings: Timings,
    timeouts: Timeouts,
    consumer: BodyConsumer | None,
) -> bytes:
    """Read the body chunk by chunk under the stall, first-token and total deadlines; feed
    a stream to `consumer` (stopping at its first error), else return the body whole."""
    chunks: list[bytes] = []
    size = 0
    while True:
        phase, budget = _next_chunk_budget(timings, timeouts, streaming=consumer is not None)
        try:
            async with asyncio.timeout(budget):
                got = await next_chunk()
        except TimeoutError:
            raise DeadlineExceeded(phase, _phase_budget(phase, timeouts)) from None
        if got is None:
            break
        chunk, arrived = got
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        if consumer is None:
            chunks.append(chunk)
            continue
        if consumer.feed(chunk):
            timings.token(arrived)
        if consumer.failed:
            timings.end = arrived
            break
    if timings.end is None:
        timings.end = time.perf_counter()
    if consumer is not None:
        consumer.finish()
    return b"".join(chunks)


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
