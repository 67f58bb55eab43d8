"""What a run will probe: targets selected from the registry, kinds per provider, keys.

Planning sends nothing: `--dry-run` prints the plan and its worst-case cost from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelaudit import credentials
from modelaudit.errors import ConfigError, UsageError
from modelaudit.families import FAMILIES
from modelaudit.probe.kinds import KINDS
from modelaudit.registry.paths import from_registry
from modelaudit.vocabulary import ProbeKind

if TYPE_CHECKING:
    from pathlib import Path

    from modelaudit.registry.loader import LoadedRegistry
    from modelaudit.registry.schema import Defaults, ModelSpec, ProviderSpec


@dataclass(frozen=True)
class Selection:
    providers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    """Model ids, or `provider/model` references."""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProviderPlan:
    provider: ProviderSpec
    models: tuple[ModelSpec, ...]
    kinds: tuple[ProbeKind, ...]
    """The requested kinds that apply to this provider, in the order they run."""
    skip_reason: str | None = None
    """Set when nothing can be sent (its key is not available); names what to set."""


@dataclass(frozen=True)
class Cost:
    requests: int
    output_tokens: int


@dataclass(frozen=True)
class Plan:
    providers: tuple[ProviderPlan, ...]
    kinds: tuple[ProbeKind, ...]
    defaults: Defaults
    base_dir: Path
    """The registry's directory: `file:` key paths are relative to it."""

    @property
    def model_count(self) -> int:
        return sum(len(p.models) for p in self.providers)

    def worst_case(self, provider_plan: ProviderPlan) -> Cost:
        """Every probe retried to the limit, plus the one retry with an alternative
        parameter that generation probes may take, plus a look-up by id for each model the
        list might leave out. Catalog pages are counted as one."""
        if provider_plan.skip_reason is not None:
            return Cost(0, 0)
        attempts = self.defaults.retry.attempts
        kinds = [KINDS[k] for k in provider_plan.kinds]
        per_model = sum(attempts + 1 for k in kinds if k.spends_tokens)
        shared = sum(attempts for k in kinds if not k.spends_tokens)
        requests = shared + per_model * len(provider_plan.models)
        if any(k.looks_up_by_id for k in kinds):
            family, provider = FAMILIES[provider_plan.provider.api], provider_plan.provider
            looked_up = [
                m for m in provider_plan.models if family.retrieve_request(provider, m) is not None
            ]
            requests += attempts * len(looked_up)
        tokens = (
            per_model * len(provider_plan.models) * self.defaults.budget.output_tokens_per_probe
        )
        return Cost(requests, tokens)

    def total_worst_case(self) -> Cost:
        costs = [self.worst_case(p) for p in self.providers]
        return Cost(sum(c.requests for c in costs), sum(c.output_tokens for c in costs))


def make_plan(
    loaded: LoadedRegistry, selection: Selection, kinds: tuple[ProbeKind, ...] | None
) -> Plan:
    registry = loaded.registry
    chosen_kinds = tuple(dict.fromkeys(kinds or registry.defaults.kinds))
    _check_filters(loaded, selection)
    plans = []
    for provider in registry.providers:
        models = tuple(m for m in provider.models if _selected(provider, m, selection))
        if not models:
            continue
        key = credentials.provider_status(provider, loaded.path.parent)
        plans.append(
            ProviderPlan(
                provider=provider,
                models=models,
                kinds=tuple(k for k in chosen_kinds if applies(k, provider)),
                skip_reason=None if key.present else key.reason,
            )
        )
    if not plans:
        raise UsageError("no model matches the --provider/--model/--tag filters")
    _check_ca_bundles(loaded, {p.provider.name for p in plans})
    return Plan(tuple(plans), chosen_kinds, registry.defaults, loaded.path.parent)


def applies(kind: ProbeKind, provider: ProviderSpec) -> bool:
    """Health needs a self-hosted engine; a catalog needs a list endpoint (`KINDS`)."""
    return KINDS[kind].applies(provider)


def _selected(provider: ProviderSpec, model: ModelSpec, selection: Selection) -> bool:
    if selection.providers and provider.name not in selection.providers:
        return False
    if selection.models and not (
        model.id in selection.models or f"{provider.name}/{model.id}" in selection.models
    ):
        return False
    return not selection.tags or bool(set(selection.tags) & set(model.tags))


def _check_filters(loaded: LoadedRegistry, selection: Selection) -> None:
    registry = loaded.registry
    names = {p.name for p in registry.providers}
    for name in selection.providers:
        if name not in names:
            raise UsageError(
                f"--provider {name}: no such provider (have: {', '.join(sorted(names))})"
            )
    ids = {m.id for p in registry.providers for m in p.models}
    refs = {f"{p.name}/{m.id}" for p in registry.providers for m in p.models}
    for model in selection.models:
        if model not in ids and model not in refs:
            raise UsageError(f"--model {model}: no such model in {loaded.path}")
    tags = {t for p in registry.providers for m in p.models for t in m.tags}
    for tag in selection.tags:
        if tag not in tags:
            known = ", ".join(sorted(tags)) or "none"
            raise UsageError(f"--tag {tag}: no model has this tag (tags: {known})")


def ca_bundle_path(provider: ProviderSpec, base_dir: Path) -> Path | None:
    """A provider's `ca_bundle`: relative to the registry's directory; `~` is expanded."""
    if provider.ca_bundle is None:
        return None
    return from_registry(provider.ca_bundle, base_dir)


def _check_ca_bundles(loaded: LoadedRegistry, chosen: set[str]) -> None:
    """Load each CA bundle now: a wrong path or a file that is not PEM is a problem in the
    registry (exit 2, with its line), not a crash once the run has started."""
    import ssl

    from modelaudit.fileio import FileError
    from modelaudit.probe.client import ssl_context

    problems = []
    for index, provider in enumerate(loaded.registry.providers):
        path = ca_bundle_path(provider, loaded.path.parent)
        if path is None or provider.name not in chosen:
            continue
        try:
            ssl_context(path)
        except FileError as exc:
            why = exc.reason
        except OSError as exc:  # ssl.SSLError included
            ssl_error = isinstance(exc, ssl.SSLError)
            why = "not a PEM file of CA certificates" if ssl_error else exc.strerror or str(exc)
        else:
            continue
        where = ("providers", index, "ca_bundle")
        position = loaded.document.values.get(where)
        line, column = (position.line, position.column) if position else (1, 1)
        problems.append(
            f"{loaded.path}:{line}:{column}: providers[{index}].ca_bundle: cannot load "
            f"{path}: {why}"
        )
    if problems:
        raise ConfigError(problems)
