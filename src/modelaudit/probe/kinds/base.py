"""What a probe kind is: what it applies to, what it costs, how it runs, whether it
counts for availability. Kept light (no HTTP): planning a dry run reads it."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelaudit.probe.attempts import ProbeContext
    from modelaudit.probe.result import ProbeResult
    from modelaudit.registry.schema import ModelSpec, ProviderSpec
    from modelaudit.vocabulary import ProbeKind

ProviderProbe = Callable[
    ["ProbeContext", "ProviderSpec", "tuple[ModelSpec, ...]"], Awaitable["list[ProbeResult]"]
]
"""Runs once for a provider; its results are its models' (health, catalog)."""
ModelProbe = Callable[
    ["ProbeContext", "ProviderSpec", "ModelSpec", "tuple[str, ...]"], Awaitable["ProbeResult"]
]
"""Runs once per model; `known_as`: other names the model answers under in this run."""


def _always(provider: ProviderSpec) -> bool:
    return True


@dataclass(frozen=True)
class Kind:
    kind: ProbeKind
    runs: str
    """How it runs: `module:function` in `modelaudit.probe.kinds`, imported when a run
    starts (a `ProviderProbe` or, when `per_model`, a `ModelProbe`)."""
    applies: Callable[[ProviderSpec], bool] = _always
    """Whether the provider has what the kind needs (a server engine, a model list)."""
    per_model: bool = False
    """Once per model (each a request of its own), or once per provider, shared."""
    looks_up_by_id: bool = False
    """May also send a look-up by id for each model (the worst case counts them)."""

    @property
    def spends_tokens(self) -> bool:
        """A generation: each request asks for output tokens, and one may be retried
        with the family's alternative parameters."""
        return self.kind.generates

    @property
    def counts_for_availability(self) -> bool:
        return self.kind.counts_for_availability

    def _function(self) -> Any:
        module, _, name = self.runs.partition(":")
        return getattr(importlib.import_module(f"modelaudit.probe.kinds.{module}"), name)

    def for_provider(self) -> ProviderProbe:
        assert not self.per_model
        found: ProviderProbe = self._function()
        return found

    def for_model(self) -> ModelProbe:
        assert self.per_model
        found: ModelProbe = self._function()
        return found
