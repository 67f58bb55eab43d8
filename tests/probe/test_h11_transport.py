"""The probe's HTTP/1.1 client is a plain httpx transport: any `httpx.AsyncClient` can use it,
it hands back when the bytes moved in `response.extensions["timings"]`, tells httpx's
`trace` callback each step with httpcore's names, honours httpx's `timeout` extension, and
raises the most specific httpx exception, from the OS, TLS or h11 error underneath."""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
import struct
import threading
import time
from typing import TYPE_CHECKING, Any

import h11
import httpx
import pytest
import trustme

from modelaudit.probe.client import ssl_context
from modelaudit.probe.http1 import FRESH_CONNECTION, H11Transport
from modelaudit.probe.timing import TIMINGS, WireTimes
from tests.fakes.http import FakeServer, Reply, closed_port, json_reply
from tests.probe.loopback import Handler, serve_once

if TYPE_CHECKING:
    from collections.abc import Mapping

PAUSE_S = 0.05


def _client(limit: int = 4, **options: Any) -> httpx.AsyncClient:
    transport = H11Transport(default_limit=limit, default_tls=ssl_context)
    return httpx.AsyncClient(transport=transport, **options)


def test_any_httpx_client_can_use_it_and_reuses_its_connection() -> None:
    with FakeServer() as server:
        server.route("GET", "/a", json_reply({"n": 1}, headers={"x-ratelimit-remaining": "7"}))

        async def go() -> list[httpx.Response]:
            async with _client() as client:
                return [await client.get(f"{server.url}/a") for _ in range(2)]

        first, second = asyncio.run(go())
    assert (first.status_code, first.json(), second.json()) == (200, {"n": 1}, {"n": 1})
    assert first.headers["X-RateLimit-Remaining"] == "7"
    assert first.http_version == "HTTP/1.1"
    assert server.connections == 1


def test_the_wire_marks_come_back_in_the_extensions_in_order() -> None:
    tails_sent: list[float] = []  # when the server began sending each body's second half

    def reply(connection: socket.socket, stop: threading.Event) -> None:
        for _ in range(2):
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab")
            stop.wait(PAUSE_S)
            tails_sent.append(time.perf_counter())
            connection.sendall(b"cd")
        stop.wait(5)

    async def go(port: int) -> list[tuple[WireTimes, list[float]]]:
        marks = []
        async with _client() as client:
            for _ in range(2):
                async with client.stream("GET", f"http://127.0.0.1:{port}/") as response:
                    wire = response.extensions[TIMINGS]
                    arrivals = []
                    async for _ in response.aiter_raw():
                        arrivals.append(wire.arrived)
                    marks.append((wire, arrivals))
        return marks

    with serve_once(reply) as port:
        (new, new_arrivals), (reused, reused_arrivals) = asyncio.run(go(port))
    assert new.connect_start is not None
    assert new.connect_end is not None
    assert new.sent is not None
    assert new.headers is not None
    assert new.end is not None
    assert new.connect_start <= new.connect_end <= new.sent <= new.headers
    assert new_arrivals[0] == new.headers  # the head and the first bytes came together
    # Each chunk is stamped on arrival: never before the server sent it (a lower bound on
    # the gap would also hold the client's scheduling to account, which load delays).
    assert new_arrivals[0] <= new_arrivals[1]
    assert tails_sent[0] <= new_arrivals[1]
    assert new.end == new_arrivals[1]
    assert (reused.connect_start, reused.connect_end) == (None, None)
    assert len(reused_arrivals) == 2


def test_the_trace_callback_hears_each_step_with_httpcores_names() -> None:
    heard: list[str] = []

    async def trace(event: str, info: Mapping[str, Any]) -> None:
        heard.append(event)

    with FakeServer() as server:
        server.route("GET", "/", json_reply({}))

        async def go() -> None:
            async with _client() as client:
                for _ in range(2):
                    await client.get(f"{server.url}/", extensions={"trace": trace})

        asyncio.run(go())
    assert heard == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
        "http11.send_request_headers.started",
        "http11.send_request_headers.started",  # the second request reuses the connection
    ]


def test_a_fresh_connection_is_opened_when_asked() -> None:
    with FakeServer() as server:
        server.route("GET", "/", json_reply({}))

        async def go() -> None:
            async with _client() as client:
                await client.get(f"{server.url}/")
                await client.get(f"{server.url}/", extensions={FRESH_CONNECTION: True})

        asyncio.run(go())
    assert server.connections == 2


# --- exceptions: the most specific httpx one, raised from what happened ------------------------


def _failure(url: str, **options: Any) -> httpx.HTTPError:
    async def go() -> None:
        async with _client(**options) as client, client.stream("GET", url) as response:
            await response.aread()

    with pytest.raises(httpx.HTTPError) as caught:
        asyncio.run(go())
    return caught.value


def test_a_refused_connection_is_a_connect_error_with_the_os_words() -> None:
    with closed_port() as closed:
        failure = _failure(f"{closed.url}/")
    assert type(failure) is httpx.ConnectError
    assert isinstance(failure.__cause__, ConnectionRefusedError)
    assert str(failure).startswith(f"[Errno {errno.ECONNREFUSED}] ")


def test_an_untrusted_certificate_is_a_connect_error_from_the_tls_error() -> None:
    with FakeServer(tls=trustme.CA()) as server:
        server.route("GET", "/", json_reply({}))
        failure = _failure(f"{server.url}/")
    assert type(failure) is httpx.ConnectError
    assert isinstance(failure.__cause__, ssl.SSLCertVerificationError)


def _garbage(connection: socket.socket, _: threading.Event) -> None:
    connection.recv(65536)
    connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")


def _reset_mid_body(connection: socket.socket, _: threading.Event) -> None:
    connection.recv(65536)
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@pytest.mark.parametrize(
    ("server", "raised", "cause"),
    [
        (_garbage, httpx.RemoteProtocolError, h11.RemoteProtocolError),
        (_reset_mid_body, httpx.ReadError, ConnectionResetError),
    ],
    ids=["not-http", "reset-mid-body"],
)
def test_what_the_server_did_is_the_cause_of_httpxs_exception(
    server: Handler, raised: type[httpx.HTTPError], cause: type[BaseException]
) -> None:
    with serve_once(server) as port:
        failure = _failure(f"http://127.0.0.1:{port}/")
    assert type(failure) is raised
    assert isinstance(failure.__cause__, cause)


def test_httpx_timeouts_are_honoured() -> None:
    def silent(connection: socket.socket, stop: threading.Event) -> None:
        stop.wait(5)

    with serve_once(silent) as port:
        failure = _failure(f"http://127.0.0.1:{port}/", timeout=httpx.Timeout(0.1))
    assert type(failure) is httpx.ReadTimeout


def test_a_wait_for_a_free_connection_past_the_pool_timeout_is_a_pool_timeout() -> None:
    with FakeServer() as server:
        server.route("GET", "/", Reply(body=b"x" * 10, trickle=(1, 0.1)))

        async def go() -> None:
            timeout = httpx.Timeout(5.0, pool=0.05)
            async with (
                _client(limit=1, timeout=timeout) as client,
                client.stream("GET", f"{server.url}/"),  # holds the one slot
            ):
                await client.get(f"{server.url}/")

        with pytest.raises(httpx.PoolTimeout):
            asyncio.run(go())
