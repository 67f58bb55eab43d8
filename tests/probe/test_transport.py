"""`transport.exchange` over any httpx transport: where a socket adds nothing, an
`httpx.MockTransport` stands in for the server. The authorizer sees the request exactly as
it goes out; a redirect is never followed; a request that found its keep-alive connection
closed is sent once more on a fresh one; and `classify` reads the one exception tree,
whatever raised it."""

from __future__ import annotations

import asyncio
import errno
import gzip
import socket
import ssl
from typing import TYPE_CHECKING

import httpx
import pytest

from modelaudit.families.base import HttpRequest, OutgoingRequest
from modelaudit.probe import transport
from modelaudit.probe.classify import classify_exception
from modelaudit.probe.http1 import FRESH_CONNECTION
from modelaudit.probe.transport import Exchange, ExchangeFailed, Redirected, exchange
from modelaudit.registry.schema import Timeouts
from modelaudit.vocabulary import ErrorClass

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping

    from modelaudit.probe.transport import Authorize

URL = "https://api.example/v1/chat/completions?api-version=2024-10-21"
REQUEST = HttpRequest("POST", URL, headers={"X-Title": "audit"}, json_body={"model": "m"})


def _exchange(
    handler: Callable[[httpx.Request], httpx.Response],
    request: HttpRequest = REQUEST,
    authorize: Authorize | None = None,
) -> Exchange:
    async def go() -> Exchange:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await exchange(client, request, authorize, Timeouts())

    return asyncio.run(go())


def _failure(handler: Callable[[httpx.Request], httpx.Response]) -> BaseException:
    with pytest.raises((ExchangeFailed, Redirected)) as caught:
        _exchange(handler)
    return caught.value


def test_the_authorizer_signs_exactly_what_goes_out() -> None:
    seen: list[OutgoingRequest] = []
    sent: list[httpx.Request] = []

    async def authorize(request: OutgoingRequest) -> Mapping[str, str]:
        seen.append(request)
        return {"Authorization": "Sig abc"}

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"ok": True})

    ex = _exchange(handler, authorize=authorize)

    (outgoing,), (wire,) = seen, sent
    assert ex.status == 200
    assert (outgoing.method, outgoing.url, outgoing.body) == ("POST", URL, b'{"model":"m"}')
    assert outgoing.headers == {
        "host": "api.example",
        "user-agent": "modelaudit",
        "accept": "*/*",
        "accept-encoding": "identity",
        "x-title": "audit",
        "content-type": "application/json",
        "content-length": "13",
    }
    # What went out is what was signed, plus the signature.
    assert {k.decode(): v.decode() for k, v in wire.headers.raw} == {
        **outgoing.headers,
        "authorization": "Sig abc",
    }
    assert (str(wire.url), wire.content) == (outgoing.url, outgoing.body)


def test_a_request_without_a_credential_carries_none() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    _exchange(handler, HttpRequest("GET", "http://127.0.0.1:9/health"))
    assert "authorization" not in sent[0].headers
    assert "content-length" not in sent[0].headers  # a GET carries no body


def test_a_redirect_is_reported_and_never_followed() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(307, headers={"location": "https://user:pw@elsewhere.example:8443/x"})

    failure = _failure(handler)
    assert isinstance(failure, Redirected)
    assert str(failure) == "redirected (307) to elsewhere.example:8443: not followed"
    assert calls == [URL]
    assert classify_exception(failure) is ErrorClass.PROTOCOL_ERROR


def test_a_compressed_body_is_decoded_whatever_the_transport() -> None:
    body = b'{"object":"list","data":[]}' * 20

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-encoding": "gzip"}, content=gzip.compress(body)
        )

    assert _exchange(handler).body == body


def test_a_body_over_the_cap_is_a_protocol_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport, "MAX_BODY_BYTES", 100)
    failure = _failure(lambda request: httpx.Response(200, content=b"x" * 101))
    assert isinstance(failure, ExchangeFailed)
    assert failure.response_started
    assert isinstance(failure.__cause__, transport.BodyTooLarge)
    assert classify_exception(failure) is ErrorClass.PROTOCOL_ERROR


def test_a_request_that_found_its_connection_closed_is_sent_once_more_on_a_fresh_one() -> None:
    fresh: list[bool] = []

    def handler(request: httpx.Request) -> httpx.Response:
        fresh.append(bool(request.extensions.get(FRESH_CONNECTION)))
        if len(fresh) == 1:  # the pooled connection was closed under the request
            raise httpx.RemoteProtocolError("Server disconnected without sending a response")
        return httpx.Response(200, json={"n": 2})

    assert _exchange(handler).body == b'{"n":2}'
    assert fresh == [False, True]


class _CutStream(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"object":'
        raise httpx.ReadError("Connection reset by peer")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), ErrorClass.CONNECT_FAILED),
        (httpx.Response(200, stream=_CutStream()), ErrorClass.PROTOCOL_ERROR),
    ],
    ids=["refused", "cut-mid-body"],
)
def test_any_other_failure_is_sent_once(
    reply: httpx.Response | httpx.HTTPError, expected: ErrorClass
) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if isinstance(reply, httpx.HTTPError):
            raise reply
        return reply

    failure = _failure(handler)
    assert len(calls) == 1
    assert classify_exception(failure) is expected


def _raised(exc: BaseException, cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise exc from inner
    except BaseException as outer:
        return outer


@pytest.mark.parametrize(
    ("raised", "started", "expected"),
    [
        (
            _raised(
                httpx.ConnectError("x"),
                ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
            ),
            False,
            ErrorClass.CONNECT_FAILED,
        ),
        (
            _raised(httpx.ConnectError("x"), OSError(errno.ENETUNREACH, "Network is unreachable")),
            False,
            ErrorClass.CONNECT_FAILED,
        ),
        (
            _raised(
                httpx.ConnectError("x"),
                socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            ),
            False,
            ErrorClass.DNS_FAILED,
        ),
        (
            _raised(
                httpx.ConnectError("x"),
                ssl.SSLCertVerificationError(1, "certificate verify failed"),
            ),
            False,
            ErrorClass.TLS_FAILED,
        ),
        (httpx.ConnectTimeout("timed out"), False, ErrorClass.TIMEOUT),
        (
            _raised(httpx.ReadError("x"), ConnectionResetError(errno.ECONNRESET, "reset")),
            False,
            ErrorClass.CONNECT_FAILED,
        ),
        (
            _raised(httpx.ReadError("x"), ConnectionResetError(errno.ECONNRESET, "reset")),
            True,
            ErrorClass.PROTOCOL_ERROR,
        ),
        (httpx.RemoteProtocolError("peer closed connection"), True, ErrorClass.PROTOCOL_ERROR),
        (httpx.DecodingError("Error -3 while decompressing"), True, ErrorClass.PROTOCOL_ERROR),
        (httpx.ProxyError("407 Proxy Authentication Required"), False, ErrorClass.CONNECT_FAILED),
    ],
    ids=[
        "refused",
        "unreachable",
        "dns",
        "tls",
        "connect-timeout",
        "reset-before-the-response",
        "reset-mid-body",
        "cut-short",
        "undecodable",
        "proxy",
    ],
)
def test_classify_reads_the_one_tree_whatever_raised_it(
    raised: BaseException, started: bool, expected: ErrorClass
) -> None:
    wrapped = _raised(ExchangeFailed(raised, response_started=started, reused=False), raised)
    assert classify_exception(wrapped) is expected
