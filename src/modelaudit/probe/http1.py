"""The probe's own HTTP/1.1 client, as an httpx transport: h11 on an asyncio protocol, a
keep-alive pool per origin. Every request of a run goes through one `httpx.AsyncClient`
(`modelaudit.probe.client`); an origin reached directly is served here.

Why not httpcore here: httpcore and anyio cost about 2.7 ms of CPU per request (a run of a
thousand probes was CPU-bound on it), and a response was timed when its task woke up.
Here every chunk is stamped (`time.perf_counter`) the moment the event loop hands it over
(`data_received`), so the marks are the wire's, not the loop's backlog, and the parsing
after that is ours, not the provider's. The marks go back in
`response.extensions["timings"]` (`WireTimes`); the request's progress is reported through
httpx's `trace` extension, with httpcore's event names, so a caller follows both
transports alike.

Failures are httpx's exceptions, the most specific that fits, each raised from the error
underneath (so the OS's errno and words stay in the chain): `ConnectError` (refused,
unreachable, a name that does not resolve, a TLS handshake that fails), `ConnectTimeout`,
`WriteError`, `ReadError` (a reset), `RemoteProtocolError` (a response that is not
HTTP/1.1, is cut short, or never began), `LocalProtocolError`, and the timeouts of httpx's
`timeout` extension (`PoolTimeout`, `ReadTimeout`, `WriteTimeout`) when a caller sets them.
Redirects are never followed (that is the client's business, and it does not).
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, cast
from urllib.parse import urlsplit

import h11
import httpx

from modelaudit.probe.timing import TIMINGS, WireTimes

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

KEEPALIVE_S = 5.0
"""An idle connection older than this is closed rather than reused (httpx's default):
servers drop idle connections after a few seconds, and reusing one just as it goes is a
needless retry."""
MAX_HEAD_BYTES = 100 * 1024
"""The largest response head accepted (httpcore's limit)."""
FRESH_CONNECTION = "modelaudit.fresh_connection"
"""A request extension: True sends the request on a new connection, closing the origin's
idle ones (one was just closed under a request, and the others have been idle as long)."""
_PAUSE_READING_AT = 1024 * 1024
_RESUME_READING_AT = 256 * 1024
_HAPPY_EYEBALLS_S = 0.25
"""Try the next address of a host if one has not connected by then (RFC 8305, anyio's)."""
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or (443 if scheme == "https" else 80)
        return cls(scheme, (parts.hostname or "").lower(), port)

    @classmethod
    def of_url(cls, url: httpx.URL) -> Origin:
        return cls(url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 80))

    @property
    def authority(self) -> str:
        """The Host header: the port only when it is not the scheme's own."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class Head:
    status: int
    headers: list[tuple[bytes, bytes]]
    reason: bytes
    at: float
    """When the bytes that completed the head arrived."""


class _Wire(asyncio.Protocol):
    """The bytes a connection received, each with the moment it arrived."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._chunks: deque[tuple[bytes, float]] = deque()
        self._buffered = 0
        self._reading_paused = False
        self._closed = False
        self._error: Exception | None = None
        self._readable: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        self._chunks.append((data, time.perf_counter()))
        self._buffered += len(data)
        if self._buffered > _PAUSE_READING_AT and not self._reading_paused:
            self._reading_paused = True
            assert self.transport is not None
            self.transport.pause_reading()
        _wake(self._readable)

    def eof_received(self) -> None:
        self._closed = True
        _wake(self._readable)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._error = self._error or exc
        _wake(self._readable)
        _wake(self._writable)

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        _wake(self._writable)
        self._writable = None

    @property
    def quiet(self) -> bool:
        """Open, and nothing arrived unasked: safe to send a request on."""
        return not self._closed and not self._chunks

    async def drain(self) -> None:
        """Wait while the kernel's send buffer is full."""
        if self._writable is not None:
            await self._writable
        if self._error is not None:
            raise self._error

    async def receive(self) -> tuple[bytes, float]:
        """The next bytes and when they arrived; b"" once the peer closed its side."""
        while not self._chunks:
            if self._closed:
                if self._error is not None:
                    raise self._error
                return b"", time.perf_counter()
            self._readable = asyncio.get_running_loop().create_future()
            try:
                await self._readable
            finally:
                self._readable = None
        data, at = self._chunks.popleft()
        self._buffered -= len(data)
        if self._reading_paused and self._buffered < _RESUME_READING_AT:
            self._reading_paused = False
            assert self.transport is not None
            self.transport.resume_reading()
        return data, at


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class Connection:
    """One keep-alive connection: a request out, its response in, then maybe another."""

    def __init__(self, wire: _Wire, attempted_at: float, ready_at: float) -> None:
        self._wire = wire
        self.attempted_at = attempted_at
        """When the connection attempt began (see `connect`)."""
        self.ready_at = ready_at
        """When the connection was ready to carry a request (see `connect`)."""
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
        self._arrived = 0.0
        self._answered = False
        """Some bytes of the current response arrived."""
        self._ended = False
        self.idle_since = 0.0
        self.ended_at: float | None = None
        """When the last byte of the response arrived (once the body was read whole)."""

    def usable(self, idle_after: float) -> bool:
        """Still open, silent, and idle since `idle_after` or later."""
        return self._wire.quiet and self.idle_since >= idle_after

    async def send(
        self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> float:
        """Send a request; returns when its bytes were handed to the kernel."""
        self._answered = False
        out = self._h11.send(h11.Request(method=method, target=target, headers=headers))
        assert out is not None
        if body:
            out += self._h11.send(h11.Data(data=body)) or b""
        out += self._h11.send(h11.EndOfMessage()) or b""
        assert self._wire.transport is not None
        if self._wire.transport.is_closing():
            raise ConnectionResetError("the connection was closed before the request was sent")
        sent_at = time.perf_counter()
        self._wire.transport.write(out)
        await self._wire.drain()
        return sent_at

    async def head(self) -> Head:
        """The response's status and headers (informational 1xx responses skipped)."""
        while True:
            event = await self._next_event()
            if isinstance(event, h11.Response):
                headers = event.headers.raw_items()
                return Head(event.status_code, headers, event.reason, self._arrived)
            if not isinstance(event, h11.InformationalResponse):
                unexpected = type(event).__name__
                raise h11.RemoteProtocolError(f"unexpected {unexpected} before a response")

    async def chunk(self) -> tuple[bytes, float] | None:
        """The next piece of the body, as sent, and when it arrived; None at its end."""
        while not self._ended:
            event = await self._next_event()
            if isinstance(event, h11.EndOfMessage):
                self._ended = True
                self.ended_at = self._arrived
                return None
            if not isinstance(event, h11.Data):
                raise h11.RemoteProtocolError(f"unexpected {type(event).__name__} in a body")
            if event.data:
                return bytes(event.data), self._arrived
        return None

    @property
    def reusable(self) -> bool:
        """The exchange finished cleanly and neither side asked to close."""
        states = (self._h11.our_state, self._h11.their_state)
        return states == (h11.DONE, h11.DONE) and self._wire.quiet

    def recycle(self) -> None:
        self._h11.start_next_cycle()
        self._ended = False
        self.ended_at = None
        self.idle_since = time.perf_counter()

    def close(self) -> None:
        transport = self._wire.transport
        if transport is None:
            return
        if transport.get_extra_info("sslcontext") is not None:
            # A TLS close waits for the peer's close_notify (up to 30 s) and would outlive
            # the run's event loop, leaking the socket; the exchange is over, so just drop it.
            transport.abort()
        else:
            transport.close()

    async def _next_event(self) -> h11.Event:
        while True:
            event = self._h11.next_event()
            if event is not h11.NEED_DATA:
                assert event is not h11.PAUSED
                return cast("h11.Event", event)
            data, self._arrived = await self._wire.receive()
            if not data and not self._answered:
                raise h11.RemoteProtocolError("the server closed the connection without a response")
            self._answered = True
            self._h11.receive_data(data)


class Refused(ConnectionRefusedError):  # noqa: N818 - reads as the event it is
    """Every address of the origin refused the connection: a TCP RST, so the host answered
    and nothing listens on the port. `addresses` are the ones that refused."""

    def __init__(self, addresses: tuple[str, ...], port: int) -> None:
        where = ", ".join(f"{a}:{port}" if ":" not in a else f"[{a}]:{port}" for a in addresses)
        super().__init__(errno.ECONNREFUSED, f"Connection refused by {where}")
        self.addresses = addresses
        self.port = port


_REFUSAL_CHECK_S = 1.0
"""How long naming the addresses that refused a host name may take (a failure path only)."""


async def connect(origin: Origin, tls: ssl.SSLContext | None) -> Connection:
    """A new connection (TCP, then TLS when `tls` is given, verifying `origin.host`).

    `attempted_at` is when the attempt began: the `connect` system call for an address
    literal, the start of resolving the name otherwise. `ready_at` is when it could carry a
    request: for plain TCP to an address literal, the moment the event loop saw the socket
    writable (the handshake done), before asyncio builds its transport; otherwise when
    asyncio handed the connection over (after the TLS handshake, if any)."""
    loop = asyncio.get_running_loop()
    server_hostname = origin.host if tls is not None else None
    if _is_address(origin.host) and not isinstance(loop, _NO_READINESS_LOOPS):
        sock, attempted_at, ready_at = await _connect_socket(loop, origin.host, origin.port)
        try:
            _, wire = await loop.create_connection(
                _Wire, sock=sock, ssl=tls, server_hostname=server_hostname
            )
        except BaseException:
            sock.close()
            raise
        if tls is not None:
            ready_at = time.perf_counter()
        return Connection(wire, attempted_at, ready_at)
    attempted_at = time.perf_counter()
    try:
        _, wire = await loop.create_connection(
            _Wire,
            origin.host,
            origin.port,
            ssl=tls,
            server_hostname=server_hostname,
            happy_eyeballs_delay=_HAPPY_EYEBALLS_S,
        )
    except OSError as exc:
        if isinstance(exc, socket.gaierror | TimeoutError):
            raise
        refused = await _refusing_addresses(loop, origin)
        if refused is not None:
            raise refused from exc
        raise
    return Connection(wire, attempted_at, time.perf_counter())


async def _refusing_addresses(loop: asyncio.AbstractEventLoop, origin: Origin) -> Refused | None:
    """After a host name failed to connect: `Refused` when every address it resolves to
    refuses a connection now, else None. asyncio's error for several addresses only says
    "Multiple exceptions", so each address is tried once more, on its own, without TLS (a
    refusal is instant; anything slower counts as not refused)."""
    if isinstance(loop, _NO_READINESS_LOOPS):
        return None
    try:
        async with asyncio.timeout(_REFUSAL_CHECK_S):
            infos = await loop.getaddrinfo(origin.host, origin.port, type=socket.SOCK_STREAM)
            addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
            for address in addresses:
                try:
                    sock, _, _ = await _connect_socket(loop, address, origin.port)
                except ConnectionRefusedError:
                    continue
                sock.close()
                return None
    except (OSError, TimeoutError):
        return None
    return Refused(addresses, origin.port) if addresses else None


async def _connect_socket(
    loop: asyncio.AbstractEventLoop, address: str, port: int
) -> tuple[socket.socket, float, float]:
    """A TCP socket connected to an address literal, with the moments the `connect` call
    began and the handshake was seen done (what asyncio's `sock_connect` does, stamped)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        attempted_at = time.perf_counter()
        try:
            sock.connect((address, port))
        except ConnectionRefusedError:
            raise Refused((address,), port) from None
        except (BlockingIOError, InterruptedError):
            ready_at = await _writable(loop, sock)
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error == errno.ECONNREFUSED:
                raise Refused((address,), port) from None
            if error:
                # OSError picks the subclass (ConnectionResetError...) from the errno.
                raise OSError(error, f"Connect call failed {(address, port)}") from None
        else:
            ready_at = time.perf_counter()
    except BaseException:
        sock.close()
        raise
    return sock, attempted_at, ready_at


async def _writable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> float:
    """When the event loop saw `sock` writable (a connection attempt ended, well or not)."""
    fd = sock.fileno()
    seen: asyncio.Future[float] = loop.create_future()

    def stamp() -> None:
        if not seen.done():
            seen.set_result(time.perf_counter())

    loop.add_writer(fd, stamp)
    try:
        return await seen
    finally:
        loop.remove_writer(fd)


_NO_READINESS_LOOPS: tuple[type, ...] = tuple(
    loop for loop in [getattr(asyncio, "ProactorEventLoop", None)] if loop is not None
)
"""Windows' default loop cannot watch a socket for writability (`add_writer`): there an
address literal is connected like a host name, by `create_connection`."""


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class Pool:
    """The connections to one origin: at most `limit` exchanges at once, each on an idle
    connection when one is still good, else on a new one; so never more than `limit`
    connections either."""

    def __init__(self, origin: Origin, limit: int, tls: ssl.SSLContext | None) -> None:
        self.origin = origin
        self.tls = tls
        self._slots = asyncio.Semaphore(limit)
        self._idle: list[Connection] = []

    async def acquire(self) -> None:
        """Wait for a free slot; every `acquire` is followed by one `release`."""
        await self._slots.acquire()

    def idle(self, *, fresh: bool = False) -> Connection | None:
        """The most recently used idle connection that is still good, or None (open a new
        one with `connect`). `fresh` closes every idle connection instead: one was just
        closed under us, and the others have been idle as long."""
        oldest_usable = time.perf_counter() - KEEPALIVE_S
        while self._idle:
            connection = self._idle.pop()
            if not fresh and connection.usable(oldest_usable):
                return connection
            connection.close()
        return None

    async def connect(self) -> Connection:
        return await connect(self.origin, self.tls)

    def release(self, connection: Connection | None, *, reusable: bool) -> None:
        if connection is not None:
            if reusable and connection.reusable:
                connection.recycle()
                self._idle.append(connection)
            else:
                connection.close()
        self._slots.release()

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


Trace: TypeAlias = "Callable[[str, Mapping[str, Any]], Awaitable[None]]"
"""httpx's `trace` request extension: told each step of the exchange, by httpcore's names."""
_T = TypeVar("_T")


class H11Transport(httpx.AsyncBaseTransport):
    """Every origin reached directly: a `Pool` per origin (scheme, host, port), of
    `limits[origin]` connections (else `default_limit`), verifying TLS with `tls[origin]`
    (else the context `default_tls()` makes, once)."""

    def __init__(
        self,
        *,
        default_limit: int,
        default_tls: Callable[[], ssl.SSLContext],
        limits: Mapping[Origin, int] | None = None,
        tls: Mapping[Origin, ssl.SSLContext] | None = None,
    ) -> None:
        self._default_limit = default_limit
        self._default_tls = default_tls
        self._limits = dict(limits or {})
        self._tls = dict(tls or {})
        self._pools: dict[tuple[bytes, bytes, int | None], Pool] = {}

    def _pool(self, url: httpx.URL) -> Pool:
        key = (url.raw_scheme, url.raw_host, url.port)
        pool = self._pools.get(key)
        if pool is None:
            origin = Origin.of_url(url)
            tls = None
            if origin.scheme == "https":
                tls = self._tls.get(origin) or self._default_tls()
            limit = self._limits.get(origin, self._default_limit)
            pool = self._pools[key] = Pool(origin, limit, tls)
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pool = self._pool(request.url)
        extensions = request.extensions
        timeout: Mapping[str, float | None] = extensions.get("timeout", {})
        trace: Trace | None = extensions.get("trace")
        body = await request.aread()
        wire = WireTimes()
        with _ON_POOL:
            await _within(timeout.get("pool"), pool.acquire())
        connection: Connection | None = None
        try:
            connection = pool.idle(fresh=bool(extensions.get(FRESH_CONNECTION)))
            if connection is None:
                connection = await _open(pool, wire, trace, timeout.get("connect"))
            if trace is not None:
                await trace("http11.send_request_headers.started", {"request": request})
            with _ON_WRITE:
                send = connection.send(
                    request.method.encode(), request.url.raw_path, request.headers.raw, body
                )
                wire.sent = await _within(timeout.get("write"), send)
            with _ON_READ:
                head = await _within(timeout.get("read"), connection.head())
        except BaseException:
            pool.release(connection, reusable=False)
            raise
        wire.headers = head.at
        return httpx.Response(
            head.status,
            headers=head.headers,
            stream=_Body(pool, connection, wire, timeout.get("read")),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason, TIMINGS: wire},
        )

    async def aclose(self) -> None:
        for pool in self._pools.values():
            pool.close()
        await asyncio.sleep(0)  # let the closed transports say goodbye


async def _open(
    pool: Pool, wire: WireTimes, trace: Trace | None, timeout_s: float | None
) -> Connection:
    """A new connection of `pool`, its setup stamped in `wire`."""
    if trace is not None:
        await trace("connection.connect_tcp.started", {"host": pool.origin.host})
    with _ON_CONNECT:
        connection = await _within(timeout_s, pool.connect())
    wire.connect_start, wire.connect_end = connection.attempted_at, connection.ready_at
    if trace is not None:
        await trace("connection.connect_tcp.complete", {"host": pool.origin.host})
    return connection


class _Body(httpx.AsyncByteStream):
    """A response body as it arrives, each chunk's arrival stamped in `WireTimes.arrived`
    before it is yielded; closing it hands the connection back to its pool (to be reused
    when the body was read to its end)."""

    def __init__(
        self, pool: Pool, connection: Connection, wire: WireTimes, read_s: float | None
    ) -> None:
        self._pool = pool
        self._connection: Connection | None = connection
        self._wire = wire
        self._read_s = read_s
        self._ended = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self._connection is None:
            raise StopAsyncIteration
        with _ON_READ:
            chunk = await _within(self._read_s, self._connection.chunk())
        if chunk is None:
            self._ended = True
            self._wire.end = self._connection.ended_at
            raise StopAsyncIteration
        data, self._wire.arrived = chunk
        return data

    async def aclose(self) -> None:
        if self._connection is not None:
            self._pool.release(self._connection, reusable=self._ended)
            self._connection = None


def _within(timeout_s: float | None, step: Awaitable[_T]) -> Awaitable[_T]:
    """`step`, under httpx's per-operation timeout when one is set."""
    return step if timeout_s is None else _timed(timeout_s, step)


async def _timed(timeout_s: float, step: Awaitable[_T]) -> _T:
    async with asyncio.timeout(timeout_s):
        return await step


class _Raising:
    """Maps what goes wrong inside to the most specific httpx exception, raised from it: a
    timeout (a deadline of httpx's `timeout` extension, or the kernel's ETIMEDOUT) to
    `timeout`, any other OS error (refused, reset, unreachable, a name that does not
    resolve, a failed TLS handshake) to `failure`, and h11's protocol errors to httpx's."""

    def __init__(
        self, timeout: type[httpx.TimeoutException], failure: type[httpx.TransportError] | None
    ) -> None:
        self._timeout = timeout
        self._failure = failure

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if exc is None:
            return
        if isinstance(exc, TimeoutError):
            raise self._timeout(str(exc) or "timed out") from exc
        if isinstance(exc, OSError) and self._failure is not None:
            raise self._failure(str(exc) or type(exc).__name__) from exc
        if isinstance(exc, h11.RemoteProtocolError):
            raise httpx.RemoteProtocolError(str(exc)) from exc
        if isinstance(exc, h11.LocalProtocolError):
            raise httpx.LocalProtocolError(str(exc)) from exc


_ON_POOL = _Raising(httpx.PoolTimeout, None)
_ON_CONNECT = _Raising(httpx.ConnectTimeout, httpx.ConnectError)
_ON_WRITE = _Raising(httpx.WriteTimeout, httpx.WriteError)
_ON_READ = _Raising(httpx.ReadTimeout, httpx.ReadError)
