"""Find LLM servers listening on this machine's loopback ports, and what they serve.

Only 127.0.0.1 is ever contacted: every URL is built here from that address and a port,
the HTTP client ignores proxy variables (a proxy could be anywhere), and redirects are not
followed. Each request has a short deadline, and every port is tried at once, so a scan
of the default ports takes about one timeout however many are closed.

An engine is recognised by what it says about itself, not by its port (vLLM, SGLang,
Triton and NIM share 8000; llama.cpp, TGI and LocalAI share 8080): the `owned_by` its
model list gives (`vllm`, `sglang`, `llamacpp`), then its own endpoints (Ollama
`/api/version`, TGI `/info`, LM Studio `/api/v0/models`, llama.cpp `/props`). A server
that lists models but names no engine is still found, as an OpenAI-compatible server.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

import httpx

from modelaudit.discovery.catalogs import catalog_provider
from modelaudit.families.base import CatalogEntry, HttpResponse
from modelaudit.families.fields import as_list, as_object, load_json, text
from modelaudit.families.ollama import OllamaFamily
from modelaudit.families.openai import parse_model_list
from modelaudit.registry.vendors import table
from modelaudit.vocabulary import Hosting, ServerEngine

LOOPBACK = "127.0.0.1"
PORTS_ENV = "MODELAUDIT_LOCAL_PORTS"
"""Comma-separated ports to scan instead of the defaults; `none` (or empty) scans none."""
CONNECT_S = 0.5
REQUEST_S = 2.0
MAX_BODY_BYTES = 4 * 1024 * 1024
_OWNERS = {
    "vllm": ServerEngine.VLLM,
    "sglang": ServerEngine.SGLANG,
    "llamacpp": ServerEngine.LLAMACPP,
}


@dataclass(frozen=True)
class FoundServer:
    port: int
    engine: ServerEngine | None
    """None: an OpenAI-compatible server whose engine could not be named."""
    api: Literal["openai", "ollama"]
    base_url: str
    entries: tuple[CatalogEntry, ...]
    how: str
    """What recognised it (`owned_by: vllm`, `/api/version`)."""
    listed_at: datetime
    latency_ms: float


@dataclass(frozen=True)
class PortState:
    port: int
    state: Literal["closed", "server", "other"]
    detail: str


@dataclass(frozen=True)
class ScanResult:
    servers: tuple[FoundServer, ...]
    ports: tuple[PortState, ...]


def ports_to_scan(option: str | None) -> tuple[int, ...]:
    """`--local-ports`, then `$MODELAUDIT_LOCAL_PORTS`, then every engine's default port;
    `none` scans nothing. Raises ValueError naming a bad port."""
    chosen = option if option is not None else os.environ.get(PORTS_ENV)
    if chosen is None:
        return table().default_ports()
    words = [w.strip() for w in chosen.split(",") if w.strip()]
    if not words or words == ["none"]:
        return ()
    ports = []
    for word in words:
        if not word.isdigit() or not 1 <= int(word) <= 65535:
            raise ValueError(f"`{word}` is not a TCP port (1-65535)")
        ports.append(int(word))
    return tuple(dict.fromkeys(ports))


async def scan(
    ports: Sequence[int], *, connect_s: float = CONNECT_S, request_s: float = REQUEST_S
) -> ScanResult:
    """Every port at once; the servers found, in port order."""
    if not ports:
        return ScanResult((), ())
    timeout = httpx.Timeout(request_s, connect=connect_s)
    async with httpx.AsyncClient(
        trust_env=False, follow_redirects=False, timeout=timeout, headers={"accept": "*/*"}
    ) as client:
        reader = _Reader(client, request_s)
        states = await asyncio.gather(*(_scan_port(reader, port) for port in ports))
    servers = tuple(s for s, _ in states if s is not None)
    return ScanResult(servers, tuple(state for _, state in states))


class _Reader:
    """GETs against 127.0.0.1 only, bounded in time and size; None when nothing usable
    came back (closed, refused, timed out, not 2xx, too big)."""

    def __init__(self, client: httpx.AsyncClient, request_s: float) -> None:
        self.client = client
        self.request_s = request_s
        self.silent: set[int] = set()
        """Ports where a request got no answer in time: nothing more is asked of them."""

    async def get(self, port: int, path: str) -> HttpResponse | None:
        url = f"http://{LOOPBACK}:{port}{path}"
        assert urlsplit(url).hostname == LOOPBACK
        if port in self.silent:
            return None
        try:
            return await asyncio.wait_for(self._get(url), self.request_s)
        except (TimeoutError, httpx.TimeoutException):
            self.silent.add(port)
            return None
        except (httpx.HTTPError, OSError, _TooBigError):
            return None

    async def _get(self, url: str) -> HttpResponse | None:
        async with self.client.stream("GET", url) as response:
            body = bytearray()
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise _TooBigError
        if not 200 <= response.status_code < 300:
            return None
        headers = {k.lower(): v for k, v in response.headers.items()}
        return HttpResponse(response.status_code, headers, bytes(body))

    async def refused(self, port: int) -> bool:
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(LOOPBACK, port), self.request_s
            )
        except (OSError, TimeoutError):
            return True
        writer.close()
        return False


class _TooBigError(Exception):
    pass


async def _scan_port(reader: _Reader, port: int) -> tuple[FoundServer | None, PortState]:
    started = time.perf_counter()
    if await reader.refused(port):
        return None, PortState(port, "closed", "nothing listens")
    listed = await reader.get(port, "/v1/models")
    entries = _openai_entries(listed)
    found: tuple[ServerEngine | None, str] | None = None
    if entries is not None:
        found = _engine_by_owner(entries) or await _engine_by_endpoint(reader, port)
    # Ollama is read through its native API (`api: ollama`), also when it lists /v1/models.
    ollama = (
        await _ollama(reader, port) if found is None or found[0] is ServerEngine.OLLAMA else None
    )
    elapsed = (time.perf_counter() - started) * 1000.0
    now = datetime.now(UTC)
    if ollama is not None:
        base_url = f"http://{LOOPBACK}:{port}"
        how = "/api/version and /api/tags"
        server = FoundServer(
            port, ServerEngine.OLLAMA, "ollama", base_url, ollama, how, now, elapsed
        )
        return server, PortState(port, "server", "Ollama")
    if port in reader.silent:
        detail = f"accepts connections, but did not answer within {reader.request_s:g} s"
        return None, PortState(port, "other", detail)
    if entries is None or found is None:
        return None, PortState(port, "other", "answers, but lists no models at /v1/models")
    engine, how = found
    server = FoundServer(
        port, engine, "openai", f"http://{LOOPBACK}:{port}/v1", entries, how, now, elapsed
    )
    return server, PortState(port, "server", engine.value if engine else "OpenAI-compatible")


def _openai_entries(response: HttpResponse | None) -> tuple[CatalogEntry, ...] | None:
    if response is None:
        return None
    try:
        return parse_model_list(response.body)
    except ValueError:
        return None


def _engine_by_owner(entries: tuple[CatalogEntry, ...]) -> tuple[ServerEngine, str] | None:
    for entry in entries:
        engine = _OWNERS.get((entry.owned_by or "").lower())
        if engine is not None:
            return engine, f"owned_by: {entry.owned_by}"
    return None


async def _engine_by_endpoint(reader: _Reader, port: int) -> tuple[ServerEngine | None, str]:
    for engine, path, says_so in _FINGERPRINTS:
        response = await reader.get(port, path)
        if response is not None and says_so(_json(response)):
            return engine, path
    return None, "/v1/models (engine not recognised)"


async def _ollama(reader: _Reader, port: int) -> tuple[CatalogEntry, ...] | None:
    version = await reader.get(port, "/api/version")
    if version is None or text(_field(_json(version), "version")) is None:
        return None
    tags = await reader.get(port, "/api/tags")
    if tags is None:
        return None
    provider = catalog_provider(
        "ollama", "ollama", f"http://{LOOPBACK}:{port}", hosting=Hosting.SELF_HOSTED
    )
    try:
        return OllamaFamily().parse_catalog(provider, tags).entries
    except ValueError:
        return None


def _json(response: HttpResponse) -> object:
    try:
        return load_json(response.body)
    except ValueError:
        return None


def _field(value: object, key: str) -> object:
    found = as_object(value)
    return None if found is None else found.get(key)


def _tgi(info: object) -> bool:
    router = text(_field(info, "router")) or ""
    return router.startswith("text-generation-router")


def _lmstudio(listing: object) -> bool:
    models = as_list(_field(listing, "data"))
    return any("state" in (as_object(m) or {}) for m in models)


def _llamacpp(props: object) -> bool:
    found = as_object(props) or {}
    return "default_generation_settings" in found or "build_info" in found


_FINGERPRINTS: tuple[tuple[ServerEngine, str, Callable[[object], bool]], ...] = (
    (ServerEngine.OLLAMA, "/api/version", lambda v: text(_field(v, "version")) is not None),
    (ServerEngine.TGI, "/info", _tgi),
    (ServerEngine.LMSTUDIO, "/api/v0/models", _lmstudio),
    (ServerEngine.LLAMACPP, "/props", _llamacpp),
)
"""Endpoints that name an engine whose model list does not, tried in this order."""
