"""Finding LLM servers on loopback ports: each engine told by what it says about itself,
only 127.0.0.1 contacted, every port bounded by a short deadline. The ports come from the
tests (their fakes'), never the engines' default ports another process may own."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from modelaudit.discovery.localscan import PORTS_ENV, ports_to_scan, scan
from modelaudit.registry.vendors import table
from modelaudit.vocabulary import ServerEngine
from tests.fakes import FakeLlamaCpp, FakeOllama, FakeOpenAI, FakeServer, FakeVLLM, Model
from tests.fakes.http import closed_port, json_reply, text_reply


def openai_list(*entries: dict[str, object]) -> dict[str, object]:
    return {"object": "list", "data": list(entries)}


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as server:
        yield server.getsockname()[1]


def test_each_engine_is_recognised_by_what_it_says_not_by_its_port() -> None:
    with (
        FakeVLLM(models=["Qwen/Qwen3-8B"]) as vllm,
        FakeLlamaCpp() as llamacpp,
        FakeOllama(models=[Model("qwen3:8b"), Model("llama3:latest")]) as ollama,
        FakeServer() as tgi,
        FakeServer() as lmstudio,
        FakeServer() as sglang,
        FakeOpenAI(models=["m1"]) as unnamed,
    ):
        # TGI and LM Studio say who they are on their own endpoints; SGLang by owned_by.
        tgi.route("GET", "/v1/models", json_reply(openai_list({"id": "tgi", "owned_by": "meta"})))
        tgi.route("GET", "/info", json_reply({"model_id": "x", "router": "text-generation-router"}))
        lmstudio.route(
            "GET",
            "/v1/models",
            json_reply(openai_list({"id": "qwen3-8b", "owned_by": "organization_owner"})),
        )
        lmstudio.route(
            "GET", "/api/v0/models", json_reply({"data": [{"id": "qwen3-8b", "state": "loaded"}]})
        )
        sglang.route(
            "GET", "/v1/models", json_reply(openai_list({"id": "m", "owned_by": "sglang"}))
        )
        servers = {
            vllm.server.port: ServerEngine.VLLM,
            llamacpp.server.port: ServerEngine.LLAMACPP,
            ollama.server.port: ServerEngine.OLLAMA,
            tgi.port: ServerEngine.TGI,
            lmstudio.port: ServerEngine.LMSTUDIO,
            sglang.port: ServerEngine.SGLANG,
            unnamed.server.port: None,
        }
        found = asyncio.run(scan(list(servers)))
    engines = {s.port: s.engine for s in found.servers}
    assert engines == servers
    by_port = {s.port: s for s in found.servers}
    native = by_port[ollama.server.port]
    assert (native.api, native.base_url) == ("ollama", f"http://127.0.0.1:{ollama.server.port}")
    assert [e.id for e in native.entries] == ["qwen3:8b", "llama3:latest"]
    assert by_port[vllm.server.port].base_url == f"http://127.0.0.1:{vllm.server.port}/v1"
    assert [e.id for e in by_port[llamacpp.server.port].entries] == ["smollm2-135m"]


def test_closed_ports_and_other_servers_are_told_apart() -> None:
    with closed_port() as off, FakeServer() as web:
        web.route("GET", "/", text_reply("<html>a dashboard</html>", content_type="text/html"))
        found = asyncio.run(scan([off.port, web.port]))
    assert found.servers == ()
    states = {p.port: p.state for p in found.ports}
    assert states == {off.port: "closed", web.port: "other"}


def test_a_server_that_never_answers_costs_one_short_deadline(blackhole: int) -> None:
    started = time.perf_counter()
    found = asyncio.run(scan([blackhole], connect_s=0.2, request_s=0.3))
    elapsed = time.perf_counter() - started
    assert found.servers == ()
    assert (found.ports[0].state, found.ports[0].detail) == (
        "other",
        "accepts connections, but did not answer within 0.3 s",
    )
    # One unanswered request, then nothing more is asked of that port.
    assert elapsed < 3.0


def test_only_loopback_is_ever_contacted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Proxy variables are ignored: a proxy could be anywhere."""
    with FakeVLLM(models=["m"]) as vllm, FakeServer() as proxy:
        proxy.route("*", "/{path:path}", json_reply({"error": "went through the proxy"}, 502))
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("ALL_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        found = asyncio.run(scan([vllm.server.port]))
        assert proxy.requests == []
    assert [s.engine for s in found.servers] == [ServerEngine.VLLM]


def test_the_ports_come_from_the_option_then_the_environment_then_the_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert ports_to_scan("8000, 9000,8000") == (8000, 9000)
    assert ports_to_scan("none") == ()
    monkeypatch.setenv(PORTS_ENV, "1234")
    assert ports_to_scan(None) == (1234,)
    monkeypatch.delenv(PORTS_ENV)
    assert ports_to_scan(None) == table().default_ports()
    for bad in ("0", "65536", "http", "-1"):
        with pytest.raises(ValueError, match="is not a TCP port"):
            ports_to_scan(bad)
