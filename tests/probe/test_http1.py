"""The probe's own HTTP/1.1 client (`probe.http1`), driven through `transport.exchange` the
way every probe is: against real sockets on loopback, byte for byte where it matters."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import socket
import struct
import threading
import zlib
from typing import TYPE_CHECKING, Literal

import pytest
import trustme

from modelaudit.families.base import HttpRequest
from modelaudit.probe import transport
from modelaudit.probe.classify import classify_exception
from modelaudit.probe.client import make_client, ssl_context
from modelaudit.probe.timing import DeadlineExceeded
from modelaudit.probe.transport import Exchange, ExchangeFailed, exchange
from modelaudit.registry.schema import Timeouts
from modelaudit.vocabulary import ErrorClass, Phase
from tests.fakes import Reply
from tests.fakes.http import FakeServer, closed_port, json_reply
from tests.probe.loopback import serve_once

if TYPE_CHECKING:
    import ssl
    from collections.abc import Callable, Sequence
    from contextlib import AbstractContextManager

PAUSE_S = 0.05
"""A server-side pause between two pieces of a reply: long enough to land in two reads."""


def _fetch(
    urls: Sequence[str],
    *,
    method: Literal["GET", "HEAD"] = "GET",
    timeouts: Timeouts | None = None,
    tls: ssl.SSLContext | None = None,
) -> list[Exchange]:
    """The exchanges of `urls`, one after the other on one client (so a connection is reused)."""

    async def go() -> list[Exchange]:
        mounts = {_origin(urls[0]): tls} if tls is not None else None
        async with make_client(4, 5.0, mounts) as client:
            return [
                await exchange(client, HttpRequest(method, url), None, timeouts or Timeouts())
                for url in urls
            ]

    return asyncio.run(go())


def _failure(url: str, timeouts: Timeouts | None = None) -> ExchangeFailed:
    with pytest.raises(ExchangeFailed) as caught:
        _fetch([url], timeouts=timeouts)
    return caught.value


def _origin(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _reply_with(*pieces: bytes) -> AbstractContextManager[int]:
    """A server that reads one request, then sends `pieces` with a pause between them."""

    def handler(connection: socket.socket, stop: threading.Event) -> None:
        connection.recv(65536)
        for i, piece in enumerate(pieces):
            if i:
                stop.wait(PAUSE_S)
            connection.sendall(piece)
        connection.shutdown(socket.SHUT_WR)
        stop.wait(5)

    return serve_once(handler)


# --- bodies -----------------------------------------------------------------------------


def test_a_head_and_a_chunked_body_split_anywhere_are_put_back_together() -> None:
    pieces = (
        b"HTTP/1.1 200 OK\r\nTransfer-Enc",
        b"oding: chunked\r\nX-RateLimit-Remaining: 7\r\n\r\n5\r\nhel",
        b"lo\r\n6\r\n world\r\n0\r\n\r\n",
    )
    with _reply_with(*pieces) as port:
        (ex,) = _fetch([f"http://127.0.0.1:{port}/"])
    assert (ex.status, ex.body) == (200, b"hello world")
    assert ex.kept_headers() == (("x-ratelimit-remaining", "7"),)
    # Each mark is when the bytes that completed it arrived: the head with the 2nd piece,
    # the end of the body with the 3rd.
    headers_ms, end_ms = ex.timings.ms(ex.timings.headers), ex.timings.ms(ex.timings.end)
    assert headers_ms is not None
    assert end_ms is not None
    assert headers_ms >= PAUSE_S * 1000 * 0.9
    assert end_ms - headers_ms >= PAUSE_S * 1000 * 0.9


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello world",  # ends when the server closes
        b"HTTP/1.0 200 OK\r\n\r\nhello world",
    ],
    ids=["content-length", "close-delimited", "http-1.0"],
)
def test_every_way_a_body_can_end_is_read_to_its_end(reply: bytes) -> None:
    with _reply_with(reply) as port:
        (ex,) = _fetch([f"http://127.0.0.1:{port}/"])
    assert (ex.status, ex.body) == (200, b"hello world")
    assert ex.timings.end is not None


def test_head_and_204_have_no_body_and_keep_the_connection() -> None:
    with FakeServer() as server:
        # A HEAD reply names the length of the body a GET would get, and sends none.
        server.route("HEAD", "/a", Reply(headers={"content-length": "1000"}))
        server.route("GET", "/b", Reply(status=204))
        server.route("GET", "/c", json_reply({"ok": True}))
        head = _fetch([f"{server.url}/a"], method="HEAD")[0]
        replies = _fetch([f"{server.url}/{path}" for path in "bc"])
    assert (head.status, head.body) == (200, b"")
    assert [(ex.status, ex.body) for ex in replies] == [(204, b""), (200, b'{"ok":true}')]
    assert [ex.timings.reused for ex in replies] == [False, True]


def test_a_304_without_a_body_is_reported_like_any_3xx() -> None:
    with FakeServer() as server:
        server.route("GET", "/", Reply(status=304, headers={"content-length": "10"}))
        with pytest.raises(transport.Redirected):
            _fetch([f"{server.url}/"], timeouts=Timeouts(first_byte_s=2, stall_s=2))


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress)],
)
def test_a_compressed_body_is_decoded_though_we_asked_for_identity(
    encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    text = b'{"object":"list","data":[]}' * 50
    with FakeServer() as server:
        body = compress(text)
        server.route("GET", "/", Reply(headers={"content-encoding": encoding}, body=body))
        (ex,) = _fetch([f"{server.url}/"])
    assert ex.body == text
    assert server.requests[0].headers["accept-encoding"] == "identity"


def test_an_encoding_we_cannot_decode_is_a_protocol_error() -> None:
    with FakeServer() as server:
        server.route("GET", "/", Reply(headers={"content-encoding": "br"}, body=b"\x0b\x02\x80"))
        failed = _failure(f"{server.url}/")
    assert "'br'" in str(failed)
    assert classify_exception(failed) is ErrorClass.PROTOCOL_ERROR


def test_a_body_over_the_cap_is_a_protocol_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport, "MAX_BODY_BYTES", 1000)
    with FakeServer() as server:
        server.route("GET", "/", Reply(body=b"x" * 1001))
        failed = _failure(f"{server.url}/")
    assert isinstance(failed.__cause__, transport.BodyTooLarge)
    assert classify_exception(failed) is ErrorClass.PROTOCOL_ERROR


# --- deadlines ---------------------------------------------------------------------------


def test_a_body_that_trickles_slower_than_the_stall_budget_is_stopped() -> None:
    with FakeServer() as server:
        # The head at once, then one byte every half second.
        server.route("GET", "/", Reply(body=b"0123456789", trickle=(1, 0.5)))
        failed = _failure(f"{server.url}/", timeouts=Timeouts(stall_s=0.1))
    assert isinstance(failed.__cause__, DeadlineExceeded)
    assert failed.__cause__.phase is Phase.STALL
    assert failed.response_started
    assert classify_exception(failed) is ErrorClass.TIMEOUT


def test_slow_headers_pass_the_first_byte_deadline() -> None:
    with FakeServer() as server:
        server.route("GET", "/", Reply(delay_s=1.0, body=b"late"))
        failed = _failure(f"{server.url}/", timeouts=Timeouts(first_byte_s=0.1))
    assert isinstance(failed.__cause__, DeadlineExceeded)
    assert failed.__cause__.phase is Phase.FIRST_BYTE
    assert not failed.response_started


# --- connections -------------------------------------------------------------------------


def test_a_keep_alive_connection_the_server_dropped_is_retried_once_on_a_new_one() -> None:
    with FakeServer() as server:
        # The first connection is closed without a word when its second request arrives.
        keep_then_drop = dataclasses.replace(json_reply({"n": 1}), drop_next=True)
        server.route("GET", "/", [keep_then_drop, json_reply({"n": 2})])
        first, second = _fetch([f"{server.url}/", f"{server.url}/"])
    assert (first.body, second.body) == (b'{"n":1}', b'{"n":2}')
    assert server.connections == 2
    assert len(server.requests) == 3  # the dropped one, then its retry
    # Only the retry is timed, on the connection it opened.
    assert not second.timings.reused
    assert second.timings.connect_ms is not None


def test_a_new_connection_s_latency_is_its_setup_plus_the_request_to_the_reply() -> None:
    with _reply_with(b"HTTP/1.1 200 OK\r\n", b"Content-Length: 2\r\n\r\nok") as port:
        (ex,) = _fetch([f"http://127.0.0.1:{port}/"])
    t = ex.timings
    assert t.connect_start is not None
    assert t.connect_end is not None
    assert t.sent is not None
    assert t.end is not None
    # The handshake, then the request out, then the reply's last byte in; what this
    # process did between the handshake and the request is not counted.
    assert t.connect_start < t.connect_end <= t.sent < t.end
    setup_s, exchange_s = t.connect_end - t.connect_start, t.end - t.sent
    assert t.ms(t.end) == pytest.approx((setup_s + exchange_s) * 1000)
    assert exchange_s >= PAUSE_S * 0.9


def test_an_ipv6_literal_is_sent_bracketed_in_the_host_header() -> None:
    seen: list[bytes] = []

    def answer(connection: socket.socket, _: threading.Event) -> None:
        seen.append(connection.recv(65536))
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback on this machine: {exc}")
    with serve_once(answer, host="::1") as port:
        (ex,) = _fetch([f"http://[::1]:{port}/v1/models"])
    assert ex.body == b"ok"
    assert f"\r\nhost: [::1]:{port}\r\n".encode() in seen[0].lower()
    assert seen[0].startswith(b"GET /v1/models HTTP/1.1\r\n")


# --- failures keep their error classes ----------------------------------------------------


def test_a_reply_that_is_not_http_is_a_protocol_error() -> None:
    with _reply_with(b"SSH-2.0-OpenSSH_9.6\r\n\r\n") as port:
        failed = _failure(f"http://127.0.0.1:{port}/")
    assert classify_exception(failed) is ErrorClass.PROTOCOL_ERROR


def test_a_response_head_over_the_size_limit_is_a_protocol_error() -> None:
    huge = b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 200_000 + b"\r\n\r\n"
    with _reply_with(huge) as port:
        failed = _failure(f"http://127.0.0.1:{port}/")
    assert classify_exception(failed) is ErrorClass.PROTOCOL_ERROR


def test_a_refused_connection_is_connect_failed() -> None:
    with closed_port() as closed:
        failed = _failure(f"{closed.url}/")
    assert not failed.reused
    assert classify_exception(failed) is ErrorClass.CONNECT_FAILED


def test_a_close_without_a_reply_or_mid_body_is_a_protocol_error() -> None:
    # As httpx had it: "Server disconnected without sending a response".
    with _reply_with(b"") as port:
        silent = _failure(f"http://127.0.0.1:{port}/")
    with _reply_with(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789") as port:
        cut = _failure(f"http://127.0.0.1:{port}/")
    assert (silent.response_started, cut.response_started) == (False, True)
    assert classify_exception(silent) is ErrorClass.PROTOCOL_ERROR
    assert classify_exception(cut) is ErrorClass.PROTOCOL_ERROR


def test_a_reset_before_the_reply_is_connect_failed() -> None:
    def reset(connection: socket.socket, _: threading.Event) -> None:
        connection.recv(65536)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    with serve_once(reset) as port:
        failed = _failure(f"http://127.0.0.1:{port}/")
    assert classify_exception(failed) is ErrorClass.CONNECT_FAILED


def test_tls_verifies_with_the_providers_bundle_and_fails_without_it() -> None:
    with FakeServer(tls=trustme.CA()) as server:
        server.route("GET", "/", json_reply({"ok": True}))
        assert server.ca_path is not None
        trusted = _fetch([f"{server.url}/", f"{server.url}/"], tls=ssl_context(server.ca_path))
        untrusted = _failure(f"{server.url}/")
    assert [ex.body for ex in trusted] == [b'{"ok":true}'] * 2
    assert [ex.timings.reused for ex in trusted] == [False, True]
    assert classify_exception(untrusted) is ErrorClass.TLS_FAILED


def test_a_cookie_a_server_sets_is_never_sent_back() -> None:
    with FakeServer() as server:
        server.route("GET", "/", Reply(headers={"set-cookie": "session=abc123; Path=/"}))
        _fetch([f"{server.url}/", f"{server.url}/"])
    assert [r.headers.get("cookie") for r in server.requests] == [None, None]
