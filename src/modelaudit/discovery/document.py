"""`modelaudit discover --format json`: a public, versioned document (schema in
`docs/schemas/discover.schema.json`).

`schema_version` changes only when a field is removed or changes meaning; fields are only
ever added. `output_tokens_requested` is always 0: discovery reads lists, never generates.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from modelaudit import __version__
from modelaudit.clock import iso
from modelaudit.discovery.catalogs import CatalogRead
from modelaudit.discovery.ids import IdFinding
from modelaudit.discovery.run import Discovery
from modelaudit.families import FAMILIES
from modelaudit.families.base import CatalogEntry

SCHEMA_VERSION = 1


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tool(_Out):
    name: Literal["modelaudit"] = "modelaudit"
    version: str = __version__


class ListedModel(_Out):
    id: str
    kind: Literal["snapshot", "alias", "undated"]
    """`snapshot`: fixed (dated, versioned, or said to be); `alias`: floating; `undated`:
    nothing says which."""
    why: str
    stamp: str | None
    """The date or version as the id writes it."""
    date: str | None
    """The stamp's date when it has a year (YYYY-MM-DD)."""
    resolves_to: str | None
    resolved_by: Literal["catalog", "look-up"] | None
    snapshots: list[str]
    """For an alias: the dated ids of its stem listed beside it, newest first."""
    aliases: list[str]
    """Ids the catalog says point at this one."""
    superseded_by: str | None
    """For a dated snapshot: the newest dated snapshot of the same model listed, when that
    is another."""
    pin: str
    """The id to pin for this model: a dated snapshot where one is known."""
    lifecycle: str | None
    retires: str | None
    note: str | None
    generates_text: bool | None
    weights_id: str | None
    in_registry: bool
    new: bool | None
    """Not in the last stored snapshot of this provider's list; null when none is stored."""


class RegistryModel(_Out):
    id: str
    status: Literal["listed", "found_by_id", "resolves", "gone", "not_listed", "unknown"]
    """`listed`; `found_by_id`: not listed, but the look-up by id knows it; `resolves`: the
    look-up answers with another id (`resolves_to`); `gone`: the look-up says not found;
    `not_listed`: not listed and no look-up here; `unknown`: the look-up failed."""
    resolves_to: str | None
    detail: str


class SinceSnapshot(_Out):
    taken_at: str
    appeared: list[str]
    vanished: list[str]


class Provider(_Out):
    provider: str
    origin: Literal["registry", "env", "local"]
    api: str
    base_url: str
    vendor: str | None
    found_by: str
    status: Literal["listed", "skipped", "failed"]
    detail: str | None
    error_class: str | None
    listed: int
    models: list[ListedModel]
    since_snapshot: SinceSnapshot | None
    registry_models: list[RegistryModel]


class LocalPort(_Out):
    port: int
    state: Literal["closed", "server", "other"]
    detail: str


class DiscoverDocument(_Out):
    schema_version: Literal[1] = 1
    tool: Tool = Tool()
    taken_at: str
    requests_sent: int
    output_tokens_requested: Literal[0] = 0
    providers: list[Provider]
    local_ports: list[LocalPort] | None
    """The loopback ports scanned (null when no scan ran)."""


def build(discovery: Discovery, only: Sequence[str] = ()) -> DiscoverDocument:
    """The document; `only` (globs) narrows the listed models shown."""
    ports = None
    if discovery.scan is not None:
        ports = [
            LocalPort(port=p.port, state=p.state, detail=p.detail) for p in discovery.scan.ports
        ]
    return DiscoverDocument(
        taken_at=iso(discovery.taken_at),
        requests_sent=discovery.requests,
        providers=[_provider(read, discovery, only) for read in discovery.reads],
        local_ports=ports,
    )


def _provider(read: CatalogRead, discovery: Discovery, only: Sequence[str]) -> Provider:
    source = read.source
    p = source.provider
    entries = read.entries
    stored = discovery.snapshots.get(p.name)
    registry_ids = {FAMILIES[p.api].catalog_id(p, m) for m in source.wanted}
    since = None
    if read.ok and stored is not None:
        since = SinceSnapshot(
            taken_at=iso(stored.taken_at),
            appeared=sorted(set(entries) - stored.ids),
            vanished=sorted(stored.ids - set(entries)),
        )
    models = [
        _listed(
            read.findings[model_id], entry, model_id in registry_ids, stored.ids if stored else None
        )
        for model_id, entry in entries.items()
        if not only or any(fnmatch.fnmatchcase(model_id, g) for g in only)
    ]
    status: Literal["listed", "skipped", "failed"] = (
        "listed" if read.ok else "skipped" if read.skip_reason else "failed"
    )
    return Provider(
        provider=p.name,
        origin=source.origin,
        api=p.api,
        base_url=p.base_url,
        vendor=source.vendor.name if source.vendor else None,
        found_by=source.detail or "the registry",
        status=status,
        detail=read.failure,
        error_class=None if read.ok or read.listing is None else _error_class(read),
        listed=len(entries),
        models=models,
        since_snapshot=since,
        registry_models=[_registry_model(read, m.id) for m in source.wanted] if read.ok else [],
    )


def _error_class(read: CatalogRead) -> str:
    assert read.listing is not None
    return read.listing.attempts[-1].error_class.value


def _listed(
    finding: IdFinding, entry: CatalogEntry, in_registry: bool, stored: frozenset[str] | None
) -> ListedModel:
    return ListedModel(
        id=finding.id,
        kind=finding.kind.value,
        why=finding.why,
        stamp=finding.stamp,
        date=finding.day.isoformat() if finding.day else None,
        resolves_to=finding.resolves_to,
        resolved_by=finding.resolved_by,
        snapshots=list(finding.snapshots),
        aliases=list(finding.aliases),
        superseded_by=finding.superseded_by,
        pin=finding.pin,
        lifecycle=entry.lifecycle,
        retires=entry.retires.isoformat() if entry.retires else None,
        note=entry.note,
        generates_text=entry.generates_text,
        weights_id=entry.weights_id,
        in_registry=in_registry,
        new=None if stored is None else finding.id not in stored,
    )


def _registry_model(read: CatalogRead, model_id: str) -> RegistryModel:
    p = read.source.provider
    model = p.model(model_id) or next(m for m in read.source.wanted if m.id == model_id)
    catalog_id = FAMILIES[p.api].catalog_id(p, model)
    if catalog_id in read.entries:
        return RegistryModel(id=model_id, status="listed", resolves_to=None, detail="listed")
    answer = read.lookups.get(model_id)
    if answer is None:
        detail = "not in the list; this API has no look-up by id"
        return RegistryModel(id=model_id, status="not_listed", resolves_to=None, detail=detail)
    last = answer.attempts[-1]
    if answer.entry is not None and answer.entry.id != catalog_id:
        return RegistryModel(
            id=model_id,
            status="resolves",
            resolves_to=answer.entry.id,
            detail=f"not in the list; the look-up by id answers with `{answer.entry.id}`",
        )
    if answer.entry is not None:
        detail = "not in the list, but the look-up by id knows it"
        return RegistryModel(id=model_id, status="found_by_id", resolves_to=None, detail=detail)
    if answer.outcome == "gone":
        detail = f"not in the list; the look-up by id says: {last.detail}"
        return RegistryModel(id=model_id, status="gone", resolves_to=None, detail=detail)
    if answer.outcome == "no_lookup":
        detail = f"not in the list; no look-up by id here ({last.detail})"
        return RegistryModel(id=model_id, status="not_listed", resolves_to=None, detail=detail)
    detail = f"not in the list; the look-up by id failed: {last.detail}"
    return RegistryModel(id=model_id, status="unknown", resolves_to=None, detail=detail)


if __name__ == "__main__":
    import json
    import sys

    sys.stdout.write(json.dumps(DiscoverDocument.model_json_schema(), indent=2) + "\n")
