"""A lean HTTP/1.1 client for the probe path: h11 on an asyncio protocol, a keep-alive pool
per origin. `transport` drives it under its deadlines; nothing else uses it.

Why not httpx here: httpx, httpcore and anyio cost about 2.7 ms of CPU per request (a run
of a thousand probes was CPU-bound on it), and a response was timed when its task woke
up. Here every chunk is stamped (`time.perf_counter`) the moment the event loop hands it
over (`data_received`), so the marks are the wire's, not the loop's backlog, and the
parsing after that is ours, not the provider's.

Failures are the ones `classify` knows: `OSError` (refused, reset, unreachable),
`socket.gaierror`, `ssl.SSLError`, and `h11.RemoteProtocolError` for a response that is not
HTTP/1.1, is cut short, or never began.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import time
import zlib
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast
from urllib.parse import quote, urlsplit

import h11

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable, Mapping

KEEPALIVE_S = 5.0
"""An idle connection older than this is closed rather than reused (httpx's default):
servers drop idle connections after a few seconds, and reusing one just as it goes is a
needless retry."""
MAX_HEAD_BYTES = 100 * 1024
"""The largest response head accepted (httpcore's limit)."""
MAX_INFLATED_PIECE = 16 * 1024 * 1024
"""The most one received piece of a compressed body may inflate to (a bound on memory: the
caller caps the body as a whole, but only after it got the piece)."""
_PAUSE_READING_AT = 1024 * 1024
_RESUME_READING_AT = 256 * 1024
_HAPPY_EYEBALLS_S = 0.25
"""Try the next address of a host if one has not connected by then (RFC 8305, anyio's)."""
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


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

    @property
    def authority(self) -> str:
        """The Host header: the port only when it is not the scheme's own."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def target(url: str) -> str:
    """The request target (path and query), with anything HTTP forbids in it escaped."""
    parts = urlsplit(url)
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    return f"{path}?{quote(parts.query, safe=_QUERY_SAFE)}" if parts.query else path


@dataclass(frozen=True)
class Head:
    status: int
    headers: Mapping[str, str]
    """Lower-cased names; a repeated header's values joined with ", "."""
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
        self._decoder: _Decoder | None = None
        self._ended = False
        self.idle_since = 0.0
        self.ended_at: float | None = None
        """When the last byte of the response arrived (once the body was read whole)."""

    def usable(self, idle_after: float) -> bool:
        """Still open, silent, and idle since `idle_after` or later."""
        return self._wire.quiet and self.idle_since >= idle_after

    async def send(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes | None
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
                headers = _headers(event.headers)
                self._decoder = _Decoder.for_encoding(headers.get("content-encoding"))
                return Head(event.status_code, headers, self._arrived)
            if not isinstance(event, h11.InformationalResponse):
                unexpected = type(event).__name__
                raise h11.RemoteProtocolError(f"unexpected {unexpected} before a response")

    async def chunk(self) -> tuple[bytes, float] | None:
        """The next piece of the body (decoded) and when it arrived; None at its end."""
        assert self._decoder is not None, "read the head first"
        while not self._ended:
            event = await self._next_event()
            if isinstance(event, h11.EndOfMessage):
                self._ended = True
                self.ended_at = self._arrived
                rest = self._decoder.flush()
                return (rest, self._arrived) if rest else None
            if not isinstance(event, h11.Data):
                raise h11.RemoteProtocolError(f"unexpected {type(event).__name__} in a body")
            data = self._decoder.decode(event.data)
            if data:
                return data, self._arrived
        return None

    @property
    def reusable(self) -> bool:
        """The exchange finished cleanly and neither side asked to close."""
        states = (self._h11.our_state, self._h11.their_state)
        return states == (h11.DONE, h11.DONE) and self._wire.quiet

    def recycle(self) -> None:
        self._h11.start_next_cycle()
        self._decoder = None
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


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("ascii")
        text = _text(value)
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


class _Decoder:
    """Undoes a `content-encoding` the server applied although the request asked for
    `identity` (gzip and deflate; anything else is a protocol error)."""

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
        raise h11.RemoteProtocolError(f"the body is encoded as {name!r}, which we did not ask for")

    def decode(self, data: bytes | bytearray) -> bytes:
        if self._zlib is None:
            return bytes(data)
        try:
            inflated = self._zlib.decompress(data, MAX_INFLATED_PIECE)
        except zlib.error as exc:
            raise h11.RemoteProtocolError(f"the body does not decompress: {exc}") from exc
        if self._zlib.unconsumed_tail:
            limit = MAX_INFLATED_PIECE // 1_048_576
            raise h11.RemoteProtocolError(f"the body inflates to over {limit} MiB")
        return inflated

    def flush(self) -> bytes:
        return b"" if self._zlib is None else self._zlib.flush()


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
