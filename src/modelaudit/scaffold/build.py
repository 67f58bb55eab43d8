"""Assemble the draft `init` writes, from whichever sources were asked for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from modelaudit.discovery import catalogs
from modelaudit.discovery.catalogs import CatalogRead, Source
from modelaudit.discovery.run import run
from modelaudit.registry.schema import Defaults
from modelaudit.registry.vendors import table
from modelaudit.scaffold import links
from modelaudit.scaffold.draft import Draft, DraftProvider
from modelaudit.scaffold.from_catalogs import Selection, draft_provider
from modelaudit.scaffold.litellm import Unmapped, import_litellm
from modelaudit.vocabulary import Hosting

Chooser = Callable[[Draft], list[str]]
"""Asks which models to pin (`--interactive`); returns refs as `--pin` takes them."""


@dataclass(frozen=True)
class Request:
    litellm: Path | None = None
    openrouter: bool = False
    ports: tuple[int, ...] = ()
    selection: Selection = field(default_factory=Selection)
    pins: tuple[str, ...] = ()
    base_dir: Path = field(default_factory=Path.cwd)

    @property
    def from_environment(self) -> bool:
        """Known vendors' keys and local servers: unless an import was asked for."""
        return self.litellm is None and not self.openrouter


@dataclass
class Built:
    draft: Draft
    unmapped: list[Unmapped]
    requests_sent: int
    sources: list[str]


def build(request: Request, choose: Chooser | None = None) -> Built:
    draft = Draft()
    unmapped: list[Unmapped] = []
    described: list[str] = []
    if request.litellm is not None:
        imported, unmapped = import_litellm(request.litellm)
        draft.providers += imported.providers
        draft.notes += imported.notes
        described.append(f"the LiteLLM config {request.litellm.name}")
    sources = _sources(request)
    requests = 0
    routers: list[str] = []
    if sources or request.ports:
        taken = [p.name for p in draft.providers]
        found = run(sources, Defaults(), request.base_dir, request.ports, taken)
        requests = found.requests
        for read in found.reads:
            added = _add(draft, read, request.selection)
            vendor = read.source.vendor
            if added is not None and vendor is not None and vendor.router:
                routers.append(added.name)
        described += [_describe(read) for read in found.reads if read.ok]
        if found.scan is not None and not found.scan.servers:
            ports = ", ".join(str(p) for p in request.ports)
            draft.notes.append(f"no LLM server answered on 127.0.0.1 (ports {ports})")
    if not request.openrouter:
        links.narrow_routers(draft, routers)
    for wanted in request.pins:
        links.pin(draft, wanted)
    if choose is not None:
        for wanted in choose(draft):
            links.pin(draft, wanted)
    links.link_families(draft)
    links.flag_pins_without_fallbacks(draft)
    draft.header = _header(described)
    return Built(draft, unmapped, requests, described)


def _sources(request: Request) -> list[Source]:
    sources = catalogs.env_sources() if request.from_environment else []
    if request.openrouter:
        vendor = table().vendor("openrouter")
        assert vendor is not None
        base_url = vendor.resolved_base_url()
        assert base_url is not None
        key = vendor.key_set()
        provider = catalogs.catalog_provider(
            vendor.name,
            vendor.api,
            base_url,
            hosting=Hosting.THIRD_PARTY,
            key_env=key or vendor.keys[0],
            jurisdiction=vendor.jurisdiction,
        )
        how = f"{key} is set" if key else "its public catalog (no key needed to read it)"
        sources.append(Source(provider, "env", vendor, detail=f"--from-openrouter: {how}"))
    return sources


def _add(draft: Draft, read: CatalogRead, selection: Selection) -> DraftProvider | None:
    """The provider drafted from `read`, added to `draft` (None when it has no model)."""
    name = read.source.provider.name
    if not read.ok:
        draft.notes.append(f"{name}: left out: its model list could not be read ({read.failure})")
        return None
    provider, notes = draft_provider(read, selection)
    draft.notes += notes
    if not provider.models:
        why = "matches --only" if selection.only else "generates text"
        draft.notes.append(f"{name}: left out: none of its {len(read.entries)} models {why}")
        return None
    _unique_name(draft, provider)
    draft.providers.append(provider)
    return provider


def _unique_name(draft: Draft, provider: DraftProvider) -> None:
    taken = {p.name for p in draft.providers}
    base, number = provider.name, 2
    while provider.name in taken:
        provider.name, number = f"{base}-{number}", number + 1


def _describe(read: CatalogRead) -> str:
    source = read.source
    if source.origin == "local":
        return source.detail.split(" (")[0]
    return source.detail


def _header(described: Sequence[str]) -> list[str]:
    today = datetime.now(UTC).date().isoformat()
    return [
        f"providers.yaml, written by `modelaudit init` on {today} from:",
        *(f"  - {what}" for what in described),
        "",
        "Each provider and model carries comments saying what was inferred, and from what:",
        "check them, then run `modelaudit config check` and `modelaudit probe --dry-run`.",
        "Keys are never written here: `api_key: env:VAR` reads the key when a request is sent.",
        "Mark `pinned: true` on the dated ids your production depends on, with fallbacks.",
        "Every field is documented in the README (The registry: providers.yaml).",
    ]
