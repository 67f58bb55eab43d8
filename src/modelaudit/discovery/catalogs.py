"""Read providers' model lists, as the catalog probe does, and tell each id apart.

Every provider's list is read once (every page, retried like any probe) and, where the
API allows it, the models the caller asks about that the list leaves out are looked up by
id: an alias the API resolves, a model that is gone, a server without the look-up. No
generation is ever sent: the run's output-token budget is zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from modelaudit import credentials
from modelaudit.discovery.ids import Conventions, IdFinding, IdKind, read_listing, shape
from modelaudit.errors import UsageError
from modelaudit.families import FAMILIES
from modelaudit.probe.attempts import BudgetExhausted, ProbeContext, RunBudget
from modelaudit.probe.kinds.catalog import (
    ByIdAnswer,
    CatalogListing,
    look_up_by_id,
    read_catalog,
)
from modelaudit.registry.schema import Defaults, ModelSpec, ProviderSpec
from modelaudit.registry.vendors import Vendor, table
from modelaudit.vocabulary import Hosting, ServerEngine, Weights

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx

    from modelaudit.families.base import CatalogEntry

Origin = Literal["registry", "env", "local"]
PLACEHOLDER_MODEL = "(catalog)"
"""A provider is validated with at least one model; reading its list needs none."""


@dataclass(frozen=True)
class Source:
    """A provider to read, where it came from, and the vendor it is (when known)."""

    provider: ProviderSpec
    origin: Origin
    vendor: Vendor | None = None
    wanted: tuple[ModelSpec, ...] = ()
    """Models to account for: each one the list leaves out is looked up by id."""
    detail: str = ""
    """How it was found (`OPENAI_API_KEY is set`, `answered on 127.0.0.1:8080`)."""

    @property
    def conventions(self) -> Conventions:
        if self.vendor is None:
            return Conventions()
        return Conventions(self.vendor.ids.undated, self.vendor.ids.lookup_resolves)


@dataclass(frozen=True)
class CatalogRead:
    source: Source
    skip_reason: str | None = None
    """Why nothing was sent (its key is not available)."""
    listing: CatalogListing | None = None
    lookups: Mapping[str, ByIdAnswer] = field(default_factory=dict)
    """Look-ups by id, by the model id asked about."""
    findings: Mapping[str, IdFinding] = field(default_factory=dict)
    """Every listed id, and every id a look-up found, with its kind."""

    @property
    def ok(self) -> bool:
        return self.listing is not None and self.listing.ok

    @property
    def entries(self) -> dict[str, CatalogEntry]:
        if self.listing is None or not self.listing.ok:
            return {}
        return {e.id: e for e in self.listing.entries}

    @property
    def failure(self) -> str | None:
        """What went wrong reading the list, in one line (None when it was read)."""
        if self.skip_reason is not None:
            return self.skip_reason
        if self.listing is None or self.listing.ok:
            return None
        last = self.listing.attempts[-1]
        status = f" {last.http_status}" if last.http_status else ""
        return f"{last.error_class.value}{status}: {last.detail}"


def catalog_provider(
    name: str,
    api: str,
    base_url: str,
    *,
    hosting: Hosting,
    key_env: str | None = None,
    jurisdiction: str | None = None,
    server: ServerEngine | None = None,
) -> ProviderSpec:
    """A provider built for reading its list (validated like any registry entry)."""
    return ProviderSpec.model_validate(
        {
            "name": name,
            "api": api,
            "base_url": base_url,
            "api_key": f"env:{key_env}" if key_env else None,
            "hosting": hosting.value,
            "jurisdiction": jurisdiction,
            "server": server.value if server else None,
            "models": [{"id": PLACEHOLDER_MODEL, "weights": "closed"}],
        }
    )


def env_sources(exclude: Sequence[str] = ()) -> list[Source]:
    """Each known vendor whose key variable is set (its base URL from its override
    variable when that is set)."""
    found = []
    for vendor in table().vendors:
        key = vendor.key_set()
        base_url = vendor.resolved_base_url()
        if not vendor.from_env or key is None or base_url is None or vendor.name in exclude:
            continue
        provider = catalog_provider(
            vendor.name,
            vendor.api,
            base_url,
            hosting=vendor.hosting,
            key_env=key,
            jurisdiction=vendor.jurisdiction,
        )
        found.append(Source(provider, "env", vendor, detail=f"{key} is set"))
    return found


def registry_sources(providers: Sequence[ProviderSpec]) -> list[Source]:
    return [Source(p, "registry", vendor_for(p), wanted=p.models) for p in providers]


def vendor_for(provider: ProviderSpec) -> Vendor | None:
    """The known vendor a registry provider is: the same host as its table entry."""
    host = urlsplit(provider.base_url).hostname
    for vendor in table().vendors:
        if vendor.base_url and urlsplit(vendor.base_url).hostname == host:
            return vendor
    return None


async def read_all(
    sources: Sequence[Source], defaults: Defaults, base_dir: Path
) -> tuple[list[CatalogRead], int]:
    """Read every source's list at once (each provider's own requests one after another)
    and return the reads, in order, with the number of requests sent."""
    budget = RunBudget(defaults.budget.max_requests, max_output_tokens=0)
    total = defaults.concurrency.total
    async with _client(sources, defaults, base_dir, total) as client:
        ctx = ProbeContext(client, defaults, budget, base_dir, random.Random())  # noqa: S311
        gate = asyncio.Semaphore(total)
        reads = await asyncio.gather(*(_read_one(ctx, gate, s) for s in sources))
    return list(reads), budget.requests


@contextlib.asynccontextmanager
async def _client(
    sources: Sequence[Source], defaults: Defaults, base_dir: Path, total: int
) -> AsyncIterator[httpx.AsyncClient]:
    from modelaudit.probe.client import make_client, provider_tls
    from modelaudit.probe.plan import ca_bundle_path

    tls = {}
    for source in sources:
        try:
            tls.update(provider_tls(source.provider, base_dir))
        except OSError as exc:  # ssl.SSLError included: not a PEM file
            path = ca_bundle_path(source.provider, base_dir)
            raise UsageError(
                f"{source.provider.name}: ca_bundle: cannot load {path}: {exc.strerror or exc}"
            ) from None
    async with make_client(total, defaults.timeouts.connect_s, tls) as client:
        yield client


async def _read_one(ctx: ProbeContext, gate: asyncio.Semaphore, source: Source) -> CatalogRead:
    provider = source.provider
    family = FAMILIES[provider.api]
    first = family.catalog_request(provider)
    if first is None:
        return CatalogRead(source, skip_reason=f"api `{provider.api}` has no model list")
    key = credentials.provider_status(provider, ctx.base_dir)
    if not key.present and first.authenticated:
        return CatalogRead(source, skip_reason=key.reason)
    async with gate:
        try:
            listing = await read_catalog(ctx, provider)
        except BudgetExhausted:
            return CatalogRead(source, skip_reason="the run's request budget is spent")
        lookups = await _look_ups(ctx, source, listing) if listing.ok else {}
    answered = {
        model_id: answer.entry.id
        for model_id, answer in lookups.items()
        if answer.entry is not None
    }
    findings = read_listing(listing.entries, source.conventions, answered) if listing.ok else {}
    return CatalogRead(source, listing=listing, lookups=lookups, findings=findings)


MAX_ALIAS_LOOKUPS = 20
"""Listed ids without a date looked up per provider, where the look-up resolves aliases."""


async def _look_ups(
    ctx: ProbeContext, source: Source, listing: CatalogListing
) -> dict[str, ByIdAnswer]:
    """Each wanted model the list leaves out; and, where the vendor's look-up resolves
    aliases, each wanted model and (up to MAX_ALIAS_LOOKUPS) each listed id the list
    cannot date: the answer says what it points at."""
    provider = source.provider
    family = FAMILIES[provider.api]
    listed = [e.id for e in listing.entries]
    asked = [
        m
        for m in source.wanted
        if family.catalog_id(provider, m) not in listed
        or _worth_resolving(source, family.catalog_id(provider, m))
    ]
    wanted_ids = {family.catalog_id(provider, m) for m in source.wanted}
    undated = [i for i in listed if i not in wanted_ids and _worth_resolving(source, i)]
    asked += [ModelSpec(id=i, weights=Weights.CLOSED) for i in undated[:MAX_ALIAS_LOOKUPS]]
    answers: dict[str, ByIdAnswer] = {}
    for model in asked:
        try:
            answer = await look_up_by_id(ctx, provider, model)
        except BudgetExhausted:
            break
        if answer is not None:
            answers[model.id] = answer
    return answers


def _worth_resolving(source: Source, model_id: str) -> bool:
    return source.conventions.lookup_resolves and shape(model_id).kind is not IdKind.SNAPSHOT
