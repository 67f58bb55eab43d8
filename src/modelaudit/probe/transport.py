"""One HTTP exchange under per-phase deadlines: the probe's only way to the network.

Every request goes through the run's one `httpx.AsyncClient` (`modelaudit.probe.client`),
whatever transport serves its origin. A per-read timeout alone never stops a server that
trickles one byte every few seconds, so every phase has its own deadline on the monotonic
clock (connect, first byte, first token, stall between chunks, total), enforced here with
asyncio: the transport reports the request's progress through httpx's `trace` extension
(a connection being opened, the request going out), which moves the deadline of the wait
for the response head, and hands back when the bytes moved in `response.extensions`
(`WireTimes`). Each exchange knows whether it opened its connection (and how long the
setup took) or reused one.

Failures come out as `ExchangeFailed` (with whether the response had begun) around one of
httpx's exceptions, a `DeadlineExceeded` or a `BodyTooLarge`, or as `Redirected`:
`modelaudit.probe.classify` reads that one tree.
"""

from __future__ import annotations

import asyncio
import functools
import time
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, cast
from urllib.parse import urlsplit

import httpx

from modelaudit.families.base import OutgoingRequest
from modelaudit.probe.client import DEFAULT_HEADERS
from modelaudit.probe.http1 import FRESH_CONNECTION
from modelaudit.probe.timing import TIMINGS, DeadlineExceeded, WireTimes
from modelaudit.vocabulary import Phase

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from modelaudit.families.base import HttpRequest
    from modelaudit.registry.schema import Timeouts

MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_INFLATED_PIECE = 16 * 1024 * 1024
"""The most one received piece of a compressed body may inflate to (a bound on memory: the
body is capped as a whole, but only after the piece is inflated)."""
_KEEP_HEADERS = ("x-ratelimit-", "anthropic-ratelimit-", "retry-after", "x-should-retry")

Authorize: TypeAlias = "Callable[[OutgoingRequest], Awaitable[Mapping[str, str]]]"
"""Given the request as it will be sent, the headers that carry its credential."""


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


_FAILURES = (httpx.RequestError, DeadlineExceeded, BodyTooLarge)


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
    chunk): the transport stamps each chunk when it arrives, before anything parses it.
    When the exchange opened its connection, the setup (`connect_start` to `connect_end`:
    the handshakes) is added in front. Building and signing the request, waiting for a
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

    def take(self, wire: WireTimes) -> None:
        """The transport's marks of the response head (and of the setup before it)."""
        self.connect_start, self.connect_end = wire.connect_start, wire.connect_end
        self.sent, self.headers = wire.sent, wire.headers


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


async def exchange(
    client: httpx.AsyncClient,
    request: HttpRequest,
    authorize: Authorize | None,
    timeouts: Timeouts,
    consumer: BodyConsumer | None = None,
    *,
    resend: Callable[[], None] | None = None,
) -> Exchange:
    """Send `request`, with the headers `authorize` gives for it; read the whole response
    under deadlines.

    Raises `Redirected`, or `ExchangeFailed` wrapping what went wrong (a `DeadlineExceeded`
    with its phase, `BodyTooLarge`, or what the client raised); `modelaudit.probe.classify`
    turns each into an error class.

    A server may close an idle keep-alive connection just as we reuse it (llama.cpp does
    after a stream, without `Connection: close`). That is not the server failing: the
    request is sent once more, on a fresh connection, and only that exchange is timed. It
    is still one request: the resend gets what is left of `total_s`, and `resend` is called
    first (to take it from the run's budget; what it raises propagates).
    """
    built = await _build(request, authorize)
    deadlines = _Deadlines(timeouts)
    try:
        return await _attempt(client, built, deadlines, consumer, fresh=False)
    except ExchangeFailed as exc:
        if not _stale_connection(exc) or deadlines.spent:
            raise
    if resend is not None:
        resend()
    return await _attempt(client, built, deadlines, consumer, fresh=True)


async def _build(request: HttpRequest, authorize: Authorize | None) -> httpx.Request:
    """The request to send: every header named here (`host` and `content-length`
    included), so the authorizer signs exactly what goes out."""
    url, text, host = _url(request.url)
    body = request.body_bytes() or b""
    headers = {"host": host, **DEFAULT_HEADERS}
    headers.update((name.lower(), value) for name, value in request.headers.items())
    if request.json_body is not None:
        headers["content-type"] = "application/json"
    if body or request.method == "POST":
        headers["content-length"] = str(len(body))
    if authorize is not None:
        outgoing = OutgoingRequest(request.method, text, dict(headers), body)
        headers.update((name.lower(), value) for name, value in (await authorize(outgoing)).items())
    return httpx.Request(request.method, url, headers=list(headers.items()), content=body)


@functools.lru_cache(maxsize=1024)
def _url(text: str) -> tuple[httpx.URL, str, str]:
    """A URL parsed once (a run sends each of a provider's few URLs many times, and httpx's
    parser is written in Python): the URL, as it goes on the wire, and its Host header."""
    url = httpx.URL(text)
    return url, str(url), url.netloc.decode("ascii")


_BROKEN = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


def _stale_connection(exc: ExchangeFailed) -> bool:
    return exc.reused and not exc.response_started and isinstance(exc.__cause__, _BROKEN)


class _Deadlines:
    """Where the wait for the response head must end, and which phase that is: the wait
    for a free connection and its setup get `connect_s + first_byte_s`, the setup alone
    `connect_s`, and the first-byte budget runs from the moment the request goes out (a
    slow setup is the connect phase's business); `total_s` bounds them all, from the
    first attempt on."""

    def __init__(self, timeouts: Timeouts) -> None:
        self.loop = asyncio.get_running_loop()
        self.timeouts = timeouts
        self.start = time.perf_counter()
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

    @property
    def spent(self) -> bool:
        """The total deadline has passed."""
        return self.loop.time() >= self.total_at

    def exceeded(self, phase: Phase | None = None) -> DeadlineExceeded:
        phase = phase or self.phase
        return DeadlineExceeded(phase, _phase_budget(phase, self.timeouts))


class _Progress:
    """Follows the request through the transport's `trace` events, moving the deadline of
    the wait for the response head as it goes."""

    def __init__(self, deadlines: _Deadlines, scope: asyncio.Timeout) -> None:
        self.deadlines = deadlines
        self.scope = scope
        self.opened = False
        """The exchange began opening a connection (it reuses none)."""
        self.sent = False

    async def trace(self, event: str, info: Mapping[str, Any]) -> None:
        if event == "connection.connect_tcp.started":
            self.opened = True
            self.scope.reschedule(self.deadlines.connecting())
        elif event.endswith("send_request_headers.started"):
            self.sent = True  # the last one: a proxy's CONNECT goes first, inside the setup
            self.scope.reschedule(self.deadlines.sent())

    @property
    def connecting(self) -> bool:
        return self.opened and not self.sent


async def _attempt(
    client: httpx.AsyncClient,
    request: httpx.Request,
    deadlines: _Deadlines,
    consumer: BodyConsumer | None,
    *,
    fresh: bool,
) -> Exchange:
    """One exchange: the response head under the wait, connect and first-byte deadlines,
    then the body under its own."""
    timings = Timings(start=deadlines.start)
    response = await _head(client, request, deadlines, fresh=fresh)
    try:
        reader = _Reader(response)
        timings.take(reader.wire)
        headers = _headers(response.headers)
        if 300 <= response.status_code < 400:
            raise Redirected(response.status_code, headers.get("location", "?"))
        reader.decode(headers.get("content-encoding"))
        # Only a 2xx body is the stream; an error reply is read whole and parsed as such.
        streamed = consumer if 200 <= response.status_code < 300 else None
        body = await _body(reader, timings, deadlines.timeouts, streamed)
    except _FAILURES as exc:
        raise ExchangeFailed(exc, response_started=True, reused=timings.reused) from exc
    finally:
        await response.aclose()
    return Exchange(response.status_code, headers, body, timings)


def _headers(headers: httpx.Headers) -> dict[str, str]:
    """Lower-cased names; a repeated header's values joined with ", " (as httpx does)."""
    encoding = headers.encoding
    joined: dict[str, str] = {}
    for name, value in headers.raw:
        key, text = name.decode(encoding).lower(), value.decode(encoding)
        joined[key] = f"{joined[key]}, {text}" if key in joined else text
    return joined


async def _head(
    client: httpx.AsyncClient, request: httpx.Request, deadlines: _Deadlines, *, fresh: bool
) -> httpx.Response:
    """Send `request` and wait for the response head, under `_Deadlines`."""
    try:
        async with asyncio.timeout_at(deadlines.waiting()) as scope:
            progress = _Progress(deadlines, scope)
            request.extensions = {
                **request.extensions,
                "trace": progress.trace,
                FRESH_CONNECTION: fresh,
            }
            return await client.send(request, stream=True)
    except httpx.ConnectTimeout:
        # The kernel or the client gave up on the connection before our deadline did.
        failure: BaseException = deadlines.exceeded(Phase.CONNECT)
        raise ExchangeFailed(failure, response_started=False, reused=False) from failure
    except TimeoutError as exc:
        failure = deadlines.exceeded() if scope.expired() else exc
        if not scope.expired() and progress.connecting:
            failure = deadlines.exceeded(Phase.CONNECT)
        reused = not progress.opened
        raise ExchangeFailed(failure, response_started=False, reused=reused) from failure
    except _FAILURES as exc:
        raise ExchangeFailed(exc, response_started=False, reused=not progress.opened) from exc


class _Reader:
    """A response body's pieces, decoded, each with when it arrived: the transport's mark
    (`WireTimes.arrived`), or now for a transport that gives none (a test's MockTransport,
    whose marks are then taken here)."""

    def __init__(self, response: httpx.Response) -> None:
        wire = response.extensions.get(TIMINGS)
        self.stamped = wire is not None
        self.wire: WireTimes = wire or WireTimes(headers=time.perf_counter())
        if not self.stamped:
            self.wire.sent = self.wire.headers
        self._raw = aiter(cast("httpx.AsyncByteStream", response.stream))
        self._decoder = _Decoder(None)
        self._ended = False

    def decode(self, content_encoding: str | None) -> None:
        self._decoder = _Decoder.for_encoding(content_encoding)

    async def next(self) -> tuple[bytes, float] | None:
        """The next decoded piece and its arrival; None at the body's end."""
        while not self._ended:
            try:
                raw = await anext(self._raw)
            except StopAsyncIteration:
                self._ended = True
                if self.wire.end is None:
                    self.wire.end = time.perf_counter()
                rest = self._decoder.flush()
                return (rest, self.wire.end) if rest else None
            arrived = self.wire.arrived if self.stamped else time.perf_counter()
            data = self._decoder.decode(raw)
            if data:
                return data, arrived if arrived is not None else time.perf_counter()
        return None


class _Decoder:
    """Undoes a `content-encoding` the server applied although the request asked for
    `identity` (gzip and deflate; anything else is a decoding error)."""

    def __init__(self, zlib_state: zlib._Decompress | None) -> None:
        self._zlib = zlib_state

    @classmethod
    def for_encoding(cls, encoding: str | None) -> _Decoder:
        name = (encoding or "identity").strip().lower()
        if name == "identity":
            return cls(None)
        if name in ("gzip", "x-gzip"):
            return cls(zlib.decompressobj(zlib.MAX_WBITS | 16))
        if name == "deflate":
            return cls(zlib.decompressobj())
        raise httpx.DecodingError(f"the body is encoded as {name!r}, which we did not ask for")

    def decode(self, data: bytes) -> bytes:
        if self._zlib is None:
            return data
        try:
            inflated = self._zlib.decompress(data, MAX_INFLATED_PIECE)
        except zlib.error as exc:
            raise httpx.DecodingError(f"the body does not decompress: {exc}") from exc
        if self._zlib.unconsumed_tail:
            limit = MAX_INFLATED_PIECE // 1_048_576
            raise httpx.DecodingError(f"the body inflates to over {limit} MiB")
        return inflated

    def flush(self) -> bytes:
        return b"" if self._zlib is None else self._zlib.flush()


async def _body(
    reader: _Reader, timings: Timings, timeouts: Timeouts, consumer: BodyConsumer | None
) -> bytes:
    """Read the body chunk by chunk under the stall, first-token and total deadlines; feed
    a stream to `consumer` (stopping at its first error), else return the body whole."""
    pieces: list[bytes] = []
    size = 0
    loop = asyncio.get_running_loop()
    phase = Phase.STALL
    try:
        async with asyncio.timeout(None) as deadline:  # moved before each chunk
            while True:
                phase, budget = _next_chunk_budget(
                    timings, timeouts, streaming=consumer is not None
                )
                deadline.reschedule(loop.time() + budget)
                got = await reader.next()
                if got is None:
                    break
                chunk, arrived = got
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise BodyTooLarge
                if consumer is None:
                    pieces.append(chunk)
                    continue
                if consumer.feed(chunk):
                    timings.token(arrived)
                if consumer.failed:
                    timings.end = arrived
                    break
    except TimeoutError:
        raise DeadlineExceeded(phase, _phase_budget(phase, timeouts)) from None
    if timings.end is None:
        timings.end = reader.wire.end
    if consumer is not None:
        consumer.finish()
    return b"".join(pieces)


def _next_chunk_budget(
    timings: Timings, timeouts: Timeouts, *, streaming: bool
) -> tuple[Phase, float]:
    """The tightest deadline that applies to the next chunk, and its phase."""
    now = time.perf_counter()
    phase, budget = Phase.STALL, timeouts.stall_s
    total = timings.start + timeouts.total_s - now
    if total < budget:
        phase, budget = Phase.TOTAL, total
    if streaming and timings.first_token is None:
        first_token = timings.start + timeouts.first_token_s - now
        if first_token < budget:
            phase, budget = Phase.FIRST_TOKEN, first_token
    return phase, max(budget, 0.0)


def _phase_budget(phase: Phase, timeouts: Timeouts) -> float:
    return {
        Phase.STALL: timeouts.stall_s,
        Phase.TOTAL: timeouts.total_s,
        Phase.FIRST_TOKEN: timeouts.first_token_s,
        Phase.CONNECT: timeouts.connect_s,
        Phase.FIRST_BYTE: timeouts.first_byte_s,
    }[phase]
