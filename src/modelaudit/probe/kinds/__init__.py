"""The probe kinds: one module each in this package (what it sends and how it reads the
answer), registered here with one line (what it applies to, how it runs, whether it runs
per model). The runner runs the kinds of a provider in this order, then each model's.
What a kind counts for is a property of its `ProbeKind` (`vocabulary.py`): the stores
read it too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.families import FAMILIES
from modelaudit.probe.kinds.base import Kind
from modelaudit.vocabulary import ProbeKind

if TYPE_CHECKING:
    from modelaudit.registry.schema import ProviderSpec


def _on_a_server(provider: ProviderSpec) -> bool:
    return provider.server is not None


def _with_a_model_list(provider: ProviderSpec) -> bool:
    return FAMILIES[provider.api].catalog_request(provider) is not None


KINDS: dict[ProbeKind, Kind] = {
    k.kind: k
    for k in (
        Kind(ProbeKind.HEALTH, "health:probe", _on_a_server),
        Kind(ProbeKind.CATALOG, "catalog:probe_catalog", _with_a_model_list, looks_up_by_id=True),
        Kind(ProbeKind.COMPLETION, "generation:probe_completion", per_model=True),
        Kind(ProbeKind.STREAM, "generation:probe_stream", per_model=True),
    )
}
