"""The raw FakeServer: keep-alive, scripted timing, broken framing, resets, TLS, redirects."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from tests.fakes.http import (
    FakeServer,
    HandlerError,
    Reply,
    Request,
    TimingServer,
    closed_port,
    json_reply,
    redirect,
    redirect_handler,
    self_signed_server,
    sse_reply,
    wait_until,
)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


def test_keep_alive_reuses_one_connection(server: FakeServer) -> None:
    server.route("GET", "/a", json_reply({"n": 1}))
    with httpx.Client(base_url=server.url) as client:
        for _ in range(5):
            assert client.get("/a").json() == {"n": 1}
    assert server.connections == 1
    assert {r.connection_id for r in server.requests} == {1}


def test_close_after_forces_a_new_connection(server: FakeServer) -> None:
    server.route("GET", "/a", Reply(body=b"x", close_after=True))
    with httpx.Client(base_url=server.url) as client:
        for _ in range(3):
            response = client.get("/a")
            assert response.headers["connection"] == "close"
    assert server.connections == 3


def test_request_is_recorded_with_query_headers_and_body(server: FakeServer) -> None:
    server.route("POST", "/x", Reply(status=204))
    httpx.post(
        f"{server.url}/x?a=1&a=2&b=",
        json={"k": "v"},
        headers={"X-Custom": "yes"},
    )
    request = server.requests[0]
    assert request.method == "POST"
    assert request.path == "/x"
    assert request.query == {"a": ["1", "2"], "b": [""]}
    assert request.headers["x-custom"] == "yes"
    assert request.json() == {"k": "v"}


def test_chunked_request_body_is_read(server: FakeServer) -> None:
    server.route("POST", "/up", lambda r: json_reply({"got": r.body.decode()}))

    def parts() -> object:
        yield b"hello "
        yield b"world"

    response = httpx.post(f"{server.url}/up", content=parts())  # type: ignore[arg-type]
    assert response.json() == {"got": "hello world"}


def test_patterns_lists_and_later_routes(server: FakeServer) -> None:
    server.route("GET", "/m/{model:path}", lambda r: json_reply(r.path_params))
    server.route("GET", "/g/{model}:generate", lambda r: json_reply(r.path_params))
    server.route("GET", "/seq", [Reply(status=503), Reply(status=429), Reply(status=200)])
    server.route("GET", "/over", Reply(status=500))
    server.route("GET", "/over", Reply(status=201))
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/m/meta-llama/Llama-3%2B1").json() == {"model": "meta-llama/Llama-3+1"}
        assert client.get("/g/gemini-2.5-flash:generate").json() == {"model": "gemini-2.5-flash"}
        assert [client.get("/seq").status_code for _ in range(4)] == [503, 429, 200, 200]
        assert client.get("/over").status_code == 201
        assert client.head("/over").status_code == 201


def test_unrouted_is_a_json_404(server: FakeServer) -> None:
    response = httpx.get(f"{server.url}/nothing")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "fake_not_found"


def test_slow_headers(server: FakeServer) -> None:
    server.route("GET", "/slow", Reply(body=b"late", delay_s=0.3))
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{server.url}/slow", timeout=httpx.Timeout(5, read=0.1))
    started = time.perf_counter()
    assert httpx.get(f"{server.url}/slow").text == "late"
    assert time.perf_counter() - started >= 0.3


def test_trickle_takes_the_expected_time(server: FakeServer) -> None:
    server.route("GET", "/t", Reply(body=b"0123456789", trickle=(1, 0.02)))
    received: list[bytes] = []
    started = time.perf_counter()
    with httpx.stream("GET", f"{server.url}/t") as response:
        received.extend(response.iter_raw())
    elapsed = time.perf_counter() - started
    assert b"".join(received) == b"0123456789"
    assert elapsed >= 9 * 0.02  # nine pauses between ten one-byte pieces
    assert elapsed < 2.0
    assert len(received) > 1


def test_chunked_stream_with_pauses(server: FakeServer) -> None:
    server.route("GET", "/s", sse_reply(["data: 1\n\n", "data: 2\n\n"], gap_s=0.2))
    times: list[float] = []
    started = time.perf_counter()
    with httpx.stream("GET", f"{server.url}/s") as response:
        assert response.headers["transfer-encoding"] == "chunked"
        for line in response.iter_lines():
            if line:
                times.append(time.perf_counter() - started)
    assert len(times) == 2
    assert times[1] - times[0] >= 0.15


def test_truncated_fixed_length_body(server: FakeServer) -> None:
    server.route("GET", "/t", Reply(body=b'{"partial":', truncate=True))
    with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|expected"):
        httpx.get(f"{server.url}/t")


def test_truncated_chunked_stream(server: FakeServer) -> None:
    server.route("GET", "/t", Reply(chunks=[(0, b"data: 1\n\n")], truncate=True))
    lines: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream("GET", f"{server.url}/t") as r:
        lines.extend(r.iter_lines())
    assert "data: 1" in lines


@pytest.mark.parametrize("chunks", [None, [(0.0, b"data: 1\n\n")]])
def test_reset_is_a_read_error(
    server: FakeServer, chunks: list[tuple[float, bytes]] | None
) -> None:
    server.route("GET", "/r", Reply(chunks=chunks, reset=True))
    with pytest.raises(httpx.ReadError):
        httpx.get(f"{server.url}/r")


def test_closed_port_refuses() -> None:
    with closed_port() as port, pytest.raises(httpx.ConnectError):
        httpx.get(port.url, timeout=2)


def test_closed_port_is_really_refused_at_socket_level() -> None:
    with closed_port() as port, socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port.port)) != 0


def test_tls_with_the_ca_and_without() -> None:
    with self_signed_server() as server:
        server.route("GET", "/", json_reply({"ok": True}))
        assert server.url.startswith("https://127.0.0.1:")
        assert server.ca_path is not None
        assert server.ca_path.read_text().startswith("-----BEGIN")
        ok = httpx.get(f"{server.url}/", verify=server.client_ssl_context())
        assert ok.json() == {"ok": True}
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{server.url}/")
        wait_until(lambda: server.tls_failures >= 1)
        ca_path = server.ca_path
    assert not ca_path.exists()


def test_redirect_to_another_server() -> None:
    with FakeServer() as origin, FakeServer() as other:
        other.route("GET", "/v1/models", json_reply({"data": []}))
        origin.route("GET", "/v1/models", redirect_handler(other))
        origin.route("GET", "/fixed", redirect(other, 302, path="/v1/models"))
        first = httpx.get(f"{origin.url}/v1/models?x=1")
        assert first.status_code == 307
        assert first.headers["location"] == f"{other.url}/v1/models?x=1"
        assert httpx.get(f"{origin.url}/fixed").headers["location"] == f"{other.url}/v1/models"
        followed = httpx.get(f"{origin.url}/v1/models", follow_redirects=True)
        assert followed.json() == {"data": []}
        assert followed.url.port == other.port


def test_stop_does_not_hang_while_a_handler_waits() -> None:
    server = FakeServer().start()
    server.route("GET", "/slow", Reply(body=b"x", delay_s=60))
    errors: list[BaseException] = []

    def call() -> None:
        try:
            httpx.get(f"{server.url}/slow", timeout=30)
        except httpx.HTTPError as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    server.wait_for_requests(1)
    started = time.perf_counter()
    server.stop()
    assert time.perf_counter() - started < 2.0
    thread.join(5)
    assert not thread.is_alive()
    assert errors


def test_stop_with_an_idle_keep_alive_connection_is_quick() -> None:
    server = FakeServer().start()
    server.route("GET", "/", Reply(body=b"x"))
    client = httpx.Client()
    client.get(f"{server.url}/")
    started = time.perf_counter()
    server.stop()
    client.close()
    assert time.perf_counter() - started < 2.0


def test_a_raising_handler_is_reported() -> None:
    def broken(request: Request) -> Reply:
        raise ValueError("bug in the fake")

    server = FakeServer().start()
    server.route("GET", "/", broken)
    assert httpx.get(f"{server.url}/").status_code == 500
    with pytest.raises(HandlerError, match="bug in the fake"):
        server.__exit__(None, None, None)


def test_timing_server_delays(http: httpx.Client) -> None:
    with TimingServer() as server:
        server.set_delay("/slow", 150)
        started = time.perf_counter()
        assert http.get(f"{server.url}/fast").json()["delay_ms"] == 0
        fast = time.perf_counter() - started
        started = time.perf_counter()
        assert http.get(f"{server.url}/slow").json()["delay_ms"] == 150
        assert time.perf_counter() - started >= 0.15
        started = time.perf_counter()
        assert http.get(f"{server.url}/any?delay_ms=100").json()["delay_ms"] == 100
        assert time.perf_counter() - started >= 0.1
        assert fast < 0.15


def test_drop_next_fails_the_next_request_on_the_pooled_connection(server: FakeServer) -> None:
    server.route("GET", "/a", [Reply(body=b"first", drop_next=True), Reply(body=b"again")])
    with httpx.Client(trust_env=False) as client:
        assert client.get(f"{server.url}/a").text == "first"
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            client.get(f"{server.url}/a")
        assert client.get(f"{server.url}/a").text == "again"  # a fresh connection works
    assert len(server.requests) == 3
    assert server.connections == 2
