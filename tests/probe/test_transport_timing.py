"""Latency is the provider's time: from when the request goes out on the wire to the last
byte of the body, without the time it waited for a pooled connection before that."""

from __future__ import annotations

import asyncio

import pytest

from modelaudit.families.base import HttpRequest
from modelaudit.probe.client import make_client
from modelaudit.probe.transport import Exchange, exchange
from modelaudit.registry.schema import Timeouts
from tests.fakes import Reply, TimingServer

DELAY_MS = 200.0
SLACK_MS = 150.0
"""Generous for a busy machine, and still well short of a second delay."""


async def _exchange(url: str, connections: int, count: int) -> list[Exchange]:
    async with make_client(connections, 5.0) as client:
        request = HttpRequest(method="GET", url=url)
        return list(
            await asyncio.gather(
                *(exchange(client, request, None, Timeouts()) for _ in range(count))
            )
        )


def test_a_wait_for_a_pooled_connection_is_not_latency() -> None:
    with TimingServer(default_delay_ms=DELAY_MS) as server:
        # One connection for two requests: the second waits a whole delay for it.
        first, second = asyncio.run(_exchange(f"{server.url}/slow", 1, 2))
    for ex in (first, second):
        latency = ex.timings.ms(ex.timings.end)
        assert latency is not None
        assert DELAY_MS <= latency < DELAY_MS + SLACK_MS


def test_latency_runs_to_the_last_byte_of_the_body() -> None:
    with TimingServer() as server:
        body = b'{"ok": true, "padding": "' + b"x" * 40 + b'"}'
        # Headers at once, then the body 10 bytes every 40 ms: about 200 ms to its end.
        server.route("GET", "/trickle", Reply(body=body, trickle=(10, 0.04)))
        (ex,) = asyncio.run(_exchange(f"{server.url}/trickle", 1, 1))
    assert ex.body == body
    assert ex.timings.headers is not None
    headers_ms = ex.timings.ms(ex.timings.headers)
    latency = ex.timings.ms(ex.timings.end)
    assert headers_ms is not None
    assert latency is not None
    assert latency - headers_ms >= 0.04 * (len(body) // 10) * 1000 * 0.9


def test_an_origin_behind_a_proxy_is_timed_by_the_same_rules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream = "http://upstream.invalid"  # never resolved: the proxy answers for it

    async def through_proxy() -> list[Exchange]:
        async with make_client(1, 5.0, destinations=[upstream]) as client:
            request = HttpRequest(method="GET", url=f"{upstream}/slow")
            return [await exchange(client, request, None, Timeouts()) for _ in range(2)]

    with TimingServer(default_delay_ms=DELAY_MS) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        first, second = asyncio.run(through_proxy())
        targets = [r.target for r in proxy.requests]

    assert targets == [f"{upstream}/slow"] * 2  # absolute-form: the proxy forwards them
    assert first.timings.connect_ms is not None
    assert second.timings.reused
    for ex in (first, second):
        latency = ex.timings.ms(ex.timings.end)
        assert latency is not None
        assert DELAY_MS <= latency < DELAY_MS + SLACK_MS
