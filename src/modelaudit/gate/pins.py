"""The pinned models of a registry: what `modelaudit lock` records and `check` gates."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelaudit.registry.loader import LoadedRegistry
    from modelaudit.registry.schema import ModelSpec, ProviderSpec


@dataclass(frozen=True)
class Pin:
    provider: str
    model: str
    line: int
    """Where the model's entry starts in providers.yaml (1-based)."""
    retires: date | None
    """The retirement date the registry gives (`retires:`)."""
    entry_sha256: str
    """Of the pin's registry entry: a lock written for another entry is stale."""
    fallbacks: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, self.model)


def pins_of(loaded: LoadedRegistry) -> tuple[Pin, ...]:
    """Every `pinned: true` model, in the registry's order."""
    pins = []
    for provider in loaded.registry.providers:
        for model in provider.models:
            if not model.pinned:
                continue
            pins.append(
                Pin(
                    provider=provider.name,
                    model=model.id,
                    line=loaded.line_of(loaded.model_path(provider.name, model.id)),
                    retires=model.retires,
                    entry_sha256=entry_sha256(provider, model),
                    fallbacks=model.fallbacks,
                )
            )
    return tuple(pins)


def entry_sha256(provider: ProviderSpec, model: ModelSpec) -> str:
    """SHA-256 of the canonical JSON of what identifies the pinned endpoint: the provider's
    name, api, base_url and api_version, and the model's whole entry. The key reference is
    left out (rotating where a key is read from does not change what is pinned)."""
    entry = {
        "provider": {
            "name": provider.name,
            "api": provider.api,
            "base_url": provider.base_url,
            "api_version": provider.api_version,
        },
        "model": model.model_dump(mode="json"),
    }
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
