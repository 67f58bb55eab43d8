"""What `modelaudit config check` reports about a valid registry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from modelaudit import credentials
from modelaudit.registry.loader import LoadedRegistry
from modelaudit.vocabulary import Hosting, Weights


@dataclass(frozen=True)
class KeyUse:
    ref: str
    """`env:VAR` or `file:PATH`: the reference, never the key."""
    present: bool
    providers: tuple[str, ...]
    reason: str | None


@dataclass(frozen=True)
class Retirement:
    provider: str
    model: str
    retires: date
    pinned: bool


@dataclass(frozen=True)
class RegistrySummary:
    providers: int
    models: int
    pinned: int
    open_weights: int
    self_hosted_providers: int
    keys: tuple[KeyUse, ...]
    keyless: tuple[str, ...]
    """Providers that send no key (local servers that need none)."""
    retirements: tuple[Retirement, ...]
    """Announced retirement dates, soonest first."""


def summarize(loaded: LoadedRegistry) -> RegistrySummary:
    registry = loaded.registry
    models = [m for p in registry.providers for m in p.models]
    return RegistrySummary(
        providers=len(registry.providers),
        models=len(models),
        pinned=sum(m.pinned for m in models),
        open_weights=sum(m.weights is Weights.OPEN for m in models),
        self_hosted_providers=sum(p.hosting is Hosting.SELF_HOSTED for p in registry.providers),
        keys=_keys(loaded),
        keyless=tuple(p.name for p in registry.providers if p.credential_ref is None),
        retirements=tuple(
            sorted(
                (
                    Retirement(p.name, m.id, m.retires, m.pinned)
                    for p in registry.providers
                    for m in p.models
                    if m.retires is not None
                ),
                key=lambda r: (r.retires, r.provider, r.model),
            )
        ),
    )


def _keys(loaded: LoadedRegistry) -> tuple[KeyUse, ...]:
    users: dict[str, list[str]] = {}
    statuses: dict[str, credentials.KeyStatus] = {}
    base_dir = loaded.path.parent
    for provider in loaded.registry.providers:
        if provider.credential_ref is None:
            continue
        ref = str(provider.credential_ref)
        users.setdefault(ref, []).append(provider.name)
        if ref not in statuses:
            statuses[ref] = credentials.provider_status(provider, base_dir)
    return tuple(
        KeyUse(ref, statuses[ref].present, tuple(names), statuses[ref].reason)
        for ref, names in sorted(users.items())
    )
