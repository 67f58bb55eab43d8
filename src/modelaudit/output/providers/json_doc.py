"""`providers --format json`: the registry's providers and models, a versioned document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from typing_extensions import TypedDict

from modelaudit.outgoing import json_text
from modelaudit.output.base import Formatter
from modelaudit.output.documents import closed

if TYPE_CHECKING:
    from modelaudit.registry.schema import Registry

SCHEMA_VERSION: Literal[1] = 1


@closed
class ModelJson(TypedDict):
    id: str
    weights: str
    license: str | None
    family: str | None
    pinned: bool
    retires: str | None
    fallbacks: list[str]
    tags: list[str]


@closed
class ProviderJson(TypedDict):
    name: str
    api: str
    base_url: str
    api_key: str | None
    credentials: str | None
    """Where a structured credential is read (`env:A, env:B`, `profile:NAME`,
    `chain:default`); null for a provider with `api_key` or none."""
    hosting: str
    server: str | None
    jurisdiction: str | None
    gated: bool
    models: list[ModelJson]


@closed
class ProvidersDocument(TypedDict):
    """`providers --format json`."""

    schema_version: Literal[1]
    providers: list[ProviderJson]


class ProvidersJson(Formatter["Registry"]):
    def write_safe(self, value: Registry) -> None:
        self.text(json_text(document(value), indent=2))


FORMAT = ProvidersJson


def document(reg: Registry) -> ProvidersDocument:
    return {
        "schema_version": SCHEMA_VERSION,
        "providers": [
            {
                "name": p.name,
                "api": p.api,
                "base_url": p.base_url,
                "api_key": str(p.api_key) if p.api_key else None,
                "credentials": str(p.credentials) if p.credentials else None,
                "hosting": p.hosting.value,
                "server": p.server.value if p.server else None,
                "jurisdiction": p.jurisdiction,
                "gated": p.regulatory.gated,
                "models": [
                    {
                        "id": m.id,
                        "weights": m.weights.value,
                        "license": m.license,
                        "family": m.family,
                        "pinned": m.pinned,
                        "retires": m.retires.isoformat() if m.retires else None,
                        "fallbacks": list(m.fallbacks),
                        "tags": list(m.tags),
                    }
                    for m in p.models
                ],
            }
            for p in reg.providers
        ],
    }
