"""One discovery: the sources' lists read at once, servers on loopback found, and what the
history database last stored for each provider."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from modelaudit.discovery.catalogs import CatalogRead, Source, catalog_provider, read_all
from modelaudit.discovery.ids import read_listing
from modelaudit.discovery.localscan import FoundServer, ScanResult, scan
from modelaudit.probe.kinds.catalog import CatalogListing
from modelaudit.probe.result import Attempt
from modelaudit.registry.schema import Defaults
from modelaudit.registry.vendors import table
from modelaudit.vocabulary import ErrorClass, Hosting

if TYPE_CHECKING:
    from modelaudit.store.base import CatalogSnapshot


@dataclass(frozen=True)
class Discovery:
    taken_at: datetime
    reads: tuple[CatalogRead, ...]
    scan: ScanResult | None
    requests: int
    snapshots: dict[str, CatalogSnapshot] = field(default_factory=dict)
    """The last model list the history database stored, by provider name."""


def run(
    sources: Sequence[Source],
    defaults: Defaults,
    base_dir: Path,
    ports: Sequence[int] = (),
    taken: Sequence[str] = (),
) -> Discovery:
    """Read every source and scan `ports` on 127.0.0.1, all at once. Local servers are
    named after their engine, avoiding the names in `taken` and each other."""
    taken_at = datetime.now(UTC)
    reads, requests, found = asyncio.run(_gather(sources, defaults, base_dir, ports))
    names = {*taken, *(r.source.provider.name for r in reads)}
    local = [local_read(server, local_name(server, names)) for server in found.servers]
    return Discovery(taken_at, (*reads, *local), found if ports else None, requests)


async def _gather(
    sources: Sequence[Source], defaults: Defaults, base_dir: Path, ports: Sequence[int]
) -> tuple[list[CatalogRead], int, ScanResult]:
    (reads, requests), found = await asyncio.gather(
        read_all(sources, defaults, base_dir), scan(ports)
    )
    return reads, requests, found


def local_name(server: FoundServer, taken: set[str]) -> str:
    """`vllm`, `ollama`... on an engine's first default port; with the port otherwise or
    when the name is taken (`llamacpp-18093`). Adds the name to `taken`."""
    base = server.engine.value if server.engine else "local"
    default_port = table().server(server.engine).ports[0] if server.engine else None
    name = base if server.port == default_port and base not in taken else f"{base}-{server.port}"
    taken.add(name)
    return name


def local_read(server: FoundServer, name: str) -> CatalogRead:
    """What the scan read from a server, in the shape of any provider's read."""
    provider = catalog_provider(
        name, server.api, server.base_url, hosting=Hosting.SELF_HOSTED, server=server.engine
    )
    attempt = Attempt(
        number=1,
        started_at=server.listed_at,
        error_class=ErrorClass.OK,
        http_status=200,
        latency_ms=round(server.latency_ms, 3),
        detail=f"{len(server.entries)} models listed",
    )
    what = server.engine.value if server.engine else "an OpenAI-compatible server"
    source = Source(
        provider, "local", detail=f"{what} answered on 127.0.0.1:{server.port} ({server.how})"
    )
    listing = CatalogListing((attempt,), server.entries)
    return CatalogRead(source, listing=listing, findings=read_listing(server.entries))
