"""A scriptable loopback HTTP/1.1 server for tests.

It works at the raw-socket level so that a test can script misbehaviour byte for byte: slow
headers, a body that trickles, a chunked stream that stalls or is cut without its last chunk, a
TCP reset, a short Content-Length. Keep-alive works (one thread per connection), so a test can
count how many TCP connections a client opened.

    with FakeServer() as server:
        server.route("GET", "/v1/models", json_reply({"data": []}))
        server.route("POST", "/v1/chat/completions", [Reply(status=503), json_reply({...})])
        httpx.get(server.url + "/v1/models")
        assert server.requests[0].path == "/v1/models"

Every pause is an `Event.wait`, so `stop()` never hangs on a handler that is mid-delay, and
every wait in here is bounded. Nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import ssl
import struct
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    import trustme

__all__ = [
    "ClosedPort",
    "FakeServer",
    "HandlerError",
    "Reply",
    "Request",
    "TimingServer",
    "closed_port",
    "html_reply",
    "json_reply",
    "redirect",
    "redirect_handler",
    "self_signed_server",
    "silent_port",
    "sse_reply",
    "text_reply",
    "wait_until",
]

# Bounds on everything that waits, so a broken test fails instead of hanging.
_STOP_JOIN_S = 3.0
_READ_POLL_S = 0.2
_IDLE_KEEPALIVE_S = 120.0
_TLS_HANDSHAKE_S = 5.0
_MAX_HEADER_BYTES = 64 * 1024
_TRUNCATE_MISSING_BYTES = 64
"""How many bytes a truncated fixed-length reply promises but never sends."""

_REASONS: dict[int, str] = {529: "Site is overloaded"}


# --- what the server received and what it sends -----------------------------------------


@dataclass
class Request:
    """One request as the server received it."""

    method: str
    path: str
    """The path without the query string, as sent (not percent-decoded)."""
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Header names are lower-cased; repeated headers are joined with ", "."""
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)
    """Values of the `{name}` segments of the route that matched (percent-decoded)."""
    connection_id: int = 0
    """Which accepted TCP connection carried the request (1, 2, ...)."""
    target: str = ""
    """The request target exactly as sent (path and query, not percent-decoded)."""

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def query_value(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Reply:
    """What to send back, and how to misbehave while sending it."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay_s: float = 0.0
    """Wait this long before the status line (slow headers)."""
    chunks: list[tuple[float, bytes]] | None = None
    """After the headers: (pause before, bytes) each, sent with Transfer-Encoding: chunked."""
    trickle: tuple[int, float] | None = None
    """Send the body (or each chunk) n bytes at a time, pausing s between the pieces."""
    truncate: bool = False
    """After the body/chunks, close without finishing the message: no final 0-chunk, or a
    Content-Length that promises more bytes than are sent."""
    reset: bool = False
    """Abort with a TCP RST (SO_LINGER 0) instead of replying, or after the chunks if any."""
    close_after: bool = False
    """Send `Connection: close` and close the connection after this reply."""
    drop_next: bool = False
    """Keep the connection open (no `Connection: close`), then close it without a word when
    the next request arrives on it: the client sees "Server disconnected without sending a
    response" on a pooled connection. (llama.cpp's server does this now and then after a
    streamed reply.) The dropped request is recorded in `requests`."""


Handler = Callable[[Request], Reply]
RouteTarget = Handler | Reply | Sequence[Reply]


class HandlerError(AssertionError):
    """A route handler raised: the fake is wrong, not the client under test."""


def json_reply(
    obj: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
    *,
    indent: int | None = None,
    separators: tuple[str, str] | None = (",", ":"),
    content_type: str = "application/json",
) -> Reply:
    if indent is not None:
        separators = None
    body = json.dumps(obj, indent=indent, separators=separators, ensure_ascii=False).encode()
    if indent is not None:
        body += b"\n"
    return Reply(
        status=status, headers={"content-type": content_type, **(headers or {})}, body=body
    )


def text_reply(
    text: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    *,
    content_type: str = "text/plain; charset=utf-8",
) -> Reply:
    return Reply(
        status=status, headers={"content-type": content_type, **(headers or {})}, body=text.encode()
    )


def html_reply(html: str, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return text_reply(html, status, headers, content_type="text/html; charset=utf-8")


def sse_reply(
    frames: Sequence[bytes | str],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    gap_s: float = 0.0,
    content_type: str = "text/event-stream; charset=utf-8",
) -> Reply:
    """A chunked reply with one HTTP chunk per frame (frames carry their own separators)."""
    chunks = [
        (0.0 if i == 0 else gap_s, f.encode() if isinstance(f, str) else f)
        for i, f in enumerate(frames)
    ]
    return Reply(
        status=status,
        headers={"content-type": content_type, "cache-control": "no-cache", **(headers or {})},
        chunks=chunks,
    )


def redirect(to: str | FakeServer, status: int = 307, *, path: str = "") -> Reply:
    """A 3xx whose Location is `to` (a URL, or another FakeServer's url + `path`)."""
    location = (to.url + path) if isinstance(to, FakeServer) else to
    return Reply(
        status=status,
        headers={"location": location, "content-type": "text/html; charset=utf-8"},
        body=f'<a href="{location}">moved</a>\n'.encode(),
    )


def redirect_handler(to: FakeServer, status: int = 307) -> Handler:
    """A handler that redirects every request to the same path and query on `to`."""

    def handle(request: Request) -> Reply:
        query = "&".join(f"{k}={v}" for k, values in request.query.items() for v in values)
        return redirect(to, status, path=request.path + (f"?{query}" if query else ""))

    return handle


def wait_until(predicate: Callable[[], bool], timeout_s: float = 5.0, poll_s: float = 0.01) -> None:
    """Poll `predicate` until it is true; AssertionError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        time.sleep(poll_s)


# --- routing ------------------------------------------------------------------------------

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(:path)?\}")


def _compile(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    pos = 0
    for match in _PARAM.finditer(pattern):
        out.append(re.escape(pattern[pos : match.start()]))
        name, greedy = match.group(1), match.group(2)
        out.append(f"(?P<{name}>.+)" if greedy else f"(?P<{name}>[^/]+?)")
        pos = match.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("".join(out))


@dataclass
class _Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    target: RouteTarget
    served: int = 0

    def pick(self) -> Reply | Handler:
        """The reply to serve next, or the handler that will make it (call it unlocked)."""
        target = self.target
        index = self.served
        self.served += 1
        if isinstance(target, Reply) or callable(target):
            return target
        replies = list(target)
        return replies[min(index, len(replies) - 1)]


# --- the server -----------------------------------------------------------------------------


class _ClosedError(Exception):
    """The peer went away, or the server is stopping."""


class _Reader:
    def __init__(self, sock: socket.socket, stopping: threading.Event) -> None:
        self.sock = sock
        self.buf = bytearray()
        self.stopping = stopping

    def _fill(self, idle_limit_s: float) -> None:
        waited = 0.0
        while True:
            if self.stopping.is_set():
                raise _ClosedError
            try:
                data = self.sock.recv(65536)
            except (TimeoutError, ssl.SSLWantReadError):
                waited += _READ_POLL_S
                if waited >= idle_limit_s:
                    raise _ClosedError from None
                continue
            except OSError:
                raise _ClosedError from None
            if not data:
                raise _ClosedError
            self.buf += data
            return

    def read_until(self, sep: bytes, limit: int, idle_limit_s: float) -> bytes:
        while True:
            index = self.buf.find(sep)
            if index >= 0:
                out = bytes(self.buf[: index + len(sep)])
                del self.buf[: index + len(sep)]
                return out
            if len(self.buf) > limit:
                raise _ClosedError
            self._fill(idle_limit_s)

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill(_IDLE_KEEPALIVE_S)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


class FakeServer:
    """A threaded HTTP/1.1 server on 127.0.0.1:<ephemeral port> with scripted routes."""

    def __init__(self, *, tls: trustme.CA | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.requests: list[Request] = []
        self.connections = 0
        """TCP connections accepted so far."""
        self.tls_failures = 0
        """TLS handshakes that failed (e.g. the client did not trust the certificate)."""
        self.errors: list[BaseException] = []
        """Exceptions raised by route handlers (re-raised by `__exit__`)."""
        self.fallback: Handler = _default_fallback
        """What unrouted requests get (a 404 JSON body by default)."""
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._tls_ca = tls
        self._tls_context: ssl.SSLContext | None = None
        self._tmpdir: Path | None = None
        self.ca_path: Path | None = None
        """PEM file of the CA that signed this server's certificate (TLS servers only)."""
        self.port = 0

    # -- lifecycle

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("the server is not started")
        scheme = "https" if self._tls_ca is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def start(self) -> Self:
        if self._listener is not None:
            return self
        if self._tls_ca is not None:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="modelaudit-fake-tls-"))
            self.ca_path = self._tmpdir / "ca.pem"
            self._tls_ca.cert_pem.write_to_path(str(self.ca_path))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls_ca.issue_cert(self.host, "localhost", "127.0.0.1").configure_cert(context)
            self._tls_context = context
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, 0))
        listener.listen(64)
        listener.settimeout(_READ_POLL_S)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"fake-accept-{self.port}", daemon=True
        )
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() on Linux
            with contextlib.suppress(OSError):
                self._listener.close()
        if self._acceptor is not None:
            self._acceptor.join(_STOP_JOIN_S)
        with self._lock:
            sockets = list(self._sockets)
            threads = list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + _STOP_JOIN_S
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if exc is None and self.errors:
            raise HandlerError(f"a route handler raised: {self.errors[0]!r}") from self.errors[0]

    # -- scripting

    def route(self, method: str, path: str, handler: RouteTarget) -> None:
        """Answer `method` (or "*" for any) on `path`: an exact path or a pattern with
        `{name}` segments (`{name:path}` also matches slashes). A list of Replies is served in
        order, then the last one repeats. A later route for the same request wins."""
        if isinstance(handler, Sequence) and not isinstance(handler, Reply) and not handler:
            raise ValueError("an empty list of replies")
        with self._lock:
            self._routes.append(_Route(method.upper(), path, _compile(path), handler))

    def requests_to(self, path: str, method: str | None = None) -> list[Request]:
        return [
            r
            for r in list(self.requests)
            if r.path == path and (method is None or r.method == method)
        ]

    def wait_for_requests(self, count: int, timeout_s: float = 5.0) -> list[Request]:
        wait_until(lambda: len(self.requests) >= count, timeout_s)
        return list(self.requests)

    def client_ssl_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this server's CA (pass it as httpx `verify=`)."""
        if self.ca_path is None:
            raise RuntimeError("not a TLS server")
        return ssl.create_default_context(cafile=str(self.ca_path))

    # -- internals

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            # Like nginx, Go's net/http and uvicorn: a reply written in pieces (head, then
            # body) must not wait for the client's delayed ACK (~40 ms) before its second piece.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                conn_id = self.connections
                self._sockets.add(sock)
            thread = threading.Thread(
                target=self._serve_connection,
                args=(sock, conn_id),
                name=f"fake-conn-{self.port}-{conn_id}",
                daemon=True,
            )
            with self._lock:
                self._threads.add(thread)
            thread.start()

    def _serve_connection(self, raw: socket.socket, conn_id: int) -> None:
        sock = raw
        try:
            if self._tls_context is not None:
                raw.settimeout(_TLS_HANDSHAKE_S)
                try:
                    sock = self._tls_context.wrap_socket(raw, server_side=True)
                except (OSError, ssl.SSLError):
                    with self._lock:
                        self.tls_failures += 1
                    return
                with self._lock:
                    self._sockets.add(sock)
            sock.settimeout(_READ_POLL_S)
            reader = _Reader(sock, self._stopping)
            drop = False
            while not self._stopping.is_set():
                request = self._read_request(reader, conn_id)
                if request is None:
                    return
                if drop:
                    with self._lock:
                        self.requests.append(request)
                    _close_gracefully(sock)
                    return
                state = self._respond(sock, request)
                if state == "close":
                    return
                drop = state == "drop_next"
        finally:
            with self._lock:
                self._sockets.discard(raw)
                self._sockets.discard(sock)
                self._threads.discard(threading.current_thread())
            with contextlib.suppress(OSError):
                sock.close()

    def _read_request(self, reader: _Reader, conn_id: int) -> Request | None:
        try:
            head = reader.read_until(b"\r\n\r\n", _MAX_HEADER_BYTES, _IDLE_KEEPALIVE_S)
        except _ClosedError:
            return None
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            return None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        try:
            if "chunked" in headers.get("transfer-encoding", "").lower():
                body = self._read_chunked(reader)
            else:
                body = reader.read_exact(int(headers.get("content-length", "0") or "0"))
        except (_ClosedError, ValueError):
            return None
        split = urlsplit(target)
        return Request(
            method=method.upper(),
            path=split.path or "/",
            query=parse_qs(split.query, keep_blank_values=True),
            headers=headers,
            body=body,
            connection_id=conn_id,
            target=target,
        )

    @staticmethod
    def _read_chunked(reader: _Reader) -> bytes:
        body = bytearray()
        while True:
            size_line = reader.read_until(b"\r\n", 1024, _IDLE_KEEPALIVE_S)
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                # trailers end with an empty line
                while reader.read_until(b"\r\n", _MAX_HEADER_BYTES, _IDLE_KEEPALIVE_S) != b"\r\n":
                    pass
                return bytes(body)
            body += reader.read_exact(size)
            reader.read_exact(2)

    def _find_route(self, request: Request) -> _Route | None:
        with self._lock:
            routes = list(reversed(self._routes))
        for method in (request.method, "GET") if request.method == "HEAD" else (request.method,):
            for route in routes:
                if route.method not in (method, "*"):
                    continue
                match = route.regex.fullmatch(request.path)
                if match:
                    request.path_params = {k: unquote(v) for k, v in match.groupdict().items()}
                    return route
        return None

    def _respond(
        self, sock: socket.socket, request: Request
    ) -> Literal["keep", "close", "drop_next"]:
        """Send the reply; say what becomes of the connection."""
        route = self._find_route(request)
        with self._lock:
            self.requests.append(request)
            picked = route.pick() if route is not None else self.fallback
        try:
            reply = picked if isinstance(picked, Reply) else picked(request)
        except Exception as exc:
            with self._lock:
                self.errors.append(exc)
            reply = Reply(
                status=500,
                headers={"content-type": "text/plain; charset=utf-8"},
                body=("fake handler error\n" + traceback.format_exc()).encode(),
                close_after=True,
            )
        keep_alive = request.headers.get("connection", "").lower() != "close"
        try:
            if not self._send(sock, request, reply, keep_alive):
                return "close"
        except (OSError, _ClosedError):
            return "close"
        return "drop_next" if reply.drop_next else "keep"

    def _pause(self, seconds: float) -> None:
        if seconds > 0 and self._stopping.wait(seconds):
            raise _ClosedError

    def _send(self, sock: socket.socket, request: Request, reply: Reply, keep_alive: bool) -> bool:
        self._pause(reply.delay_s)
        if reply.reset and reply.chunks is None:
            _reset(sock)
            return False
        chunked = reply.chunks is not None
        close = reply.close_after or not keep_alive or reply.truncate or reply.reset
        headers = _response_headers(reply, chunked=chunked, close=close)
        head = f"HTTP/1.1 {reply.status} {_reason(reply.status)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode("latin-1"))
        no_body = request.method == "HEAD" or reply.status in (204, 304) or reply.status < 200

        if chunked:
            assert reply.chunks is not None
            if not no_body:
                for pause, data in _pieces(reply.chunks, reply.trickle):
                    self._pause(pause)
                    if data:  # an empty chunk would end the message
                        sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            if reply.reset:
                _reset(sock)
                return False
            if reply.truncate:
                _close_gracefully(sock)
                return False
            if not no_body:
                sock.sendall(b"0\r\n\r\n")
        elif not no_body:
            for pause, data in _pieces([(0.0, reply.body)], reply.trickle):
                self._pause(pause)
                sock.sendall(data)
            if reply.truncate:
                _close_gracefully(sock)
                return False
        if close:
            _close_gracefully(sock)
            return False
        return True


def _reason(status: int) -> str:
    if status in _REASONS:
        return _REASONS[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _response_headers(reply: Reply, *, chunked: bool, close: bool) -> dict[str, str]:
    headers = dict(reply.headers)
    lower = {k.lower(): k for k in headers}
    if chunked:
        for name in ("content-length", "transfer-encoding"):
            if name in lower:
                del headers[lower[name]]
        headers["Transfer-Encoding"] = "chunked"
    elif "content-length" not in lower:
        promised = len(reply.body) + (_TRUNCATE_MISSING_BYTES if reply.truncate else 0)
        headers["Content-Length"] = str(promised)
    if close:
        headers["Connection"] = "close"
    if "date" not in lower:
        headers["Date"] = formatdate(usegmt=True)
    return headers


def _pieces(
    chunks: Sequence[tuple[float, bytes]], trickle: tuple[int, float] | None
) -> Iterator[tuple[float, bytes]]:
    if trickle is None:
        yield from chunks
        return
    size, gap = trickle
    if size < 1:
        raise ValueError("trickle needs at least 1 byte per piece")
    for pause, data in chunks:
        if not data:
            yield pause, b""
        for i, start in enumerate(range(0, len(data), size)):
            yield (pause if i == 0 else gap), data[start : start + size]


def _reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the kernel sends a RST instead of a FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _close_gracefully(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)


def _default_fallback(request: Request) -> Reply:
    return json_reply(
        {
            "error": {
                "message": f"no route for {request.method} {request.path} on this fake",
                "type": "fake_not_found",
            }
        },
        status=404,
    )


# --- helpers for other situations -------------------------------------------------------------


def self_signed_server() -> FakeServer:
    """A TLS FakeServer (not started) whose certificate is signed by a fresh, private CA:
    clients that do not trust `server.ca_path` fail the TLS handshake."""
    import trustme

    return FakeServer(tls=trustme.CA())


class ClosedPort:
    """A 127.0.0.1 port where nothing listens: connecting is refused (ECONNREFUSED).

    The port stays bound (without `listen`) while the context is open, so no other process can
    take it in the meantime."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def closed_port() -> ClosedPort:
    return ClosedPort()


class SilentPort:
    """A 127.0.0.1 port that never answers a connection attempt: its listener's queue is
    full and it never accepts, so the kernel drops each new SYN and connecting times out,
    as on a machine whose network does not answer (what a refused port is not: a refusal
    proves the host is there and nothing listens)."""

    def __init__(self, port: int = 0, fill_timeout_s: float = 0.2, max_fillers: int = 16) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(0)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._fillers: list[socket.socket] = []
        for _ in range(max_fillers):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.settimeout(fill_timeout_s)
            self._fillers.append(filler)
            try:
                filler.connect(("127.0.0.1", self.port))
            except OSError:  # timed out: the queue is full, the port is silent now
                return
        self.close()
        raise RuntimeError("could not fill the listen queue of a loopback port")

    def close(self) -> None:
        for sock in (*self._fillers, self._listener):
            sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def silent_port(port: int = 0) -> SilentPort:
    """A silent port; `port` takes a given one over (a stopped server's)."""
    return SilentPort(port)


class TimingServer(FakeServer):
    """A tiny fake for benchmarks: every path answers 200 JSON after `delay_ms` (from the
    query string, else the per-path delay set with `set_delay`, else 0)."""

    def __init__(self, *, default_delay_ms: float = 0.0) -> None:
        super().__init__()
        self.default_delay_ms = default_delay_ms
        self._delays: dict[str, float] = {}
        self.route("*", "/{path:path}", self._handle)
        self.route("*", "/", self._handle)

    def set_delay(self, path: str, delay_ms: float) -> None:
        self._delays[path] = delay_ms

    def _handle(self, request: Request) -> Reply:
        raw = request.query_value("delay_ms")
        delay_ms = (
            float(raw) if raw is not None else self._delays.get(request.path, self.default_delay_ms)
        )
        reply = json_reply({"ok": True, "path": request.path, "delay_ms": delay_ms})
        reply.delay_s = delay_ms / 1000.0
        return reply
