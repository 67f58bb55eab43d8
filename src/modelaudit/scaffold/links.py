"""What ties the drafted providers together: open weights found on several hosts (a
`family`, and each other's fallbacks), routers narrowed to those weights, and pins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from modelaudit.errors import UsageError
from modelaudit.scaffold.draft import Draft, DraftModel, DraftProvider

MAX_FALLBACKS = 3


def narrow_routers(draft: Draft, routers: Iterable[str]) -> None:
    """Keep, of each router's models, the open weights another provider also serves: a
    router lists most of the market, and those are the ones worth falling back to."""
    router_names = set(routers)
    elsewhere = {
        m.weights_key
        for p in draft.active()
        if p.name not in router_names
        for m in p.models
        if m.weights_key
    }
    for provider in draft.providers:
        if provider.name not in router_names:
            continue
        before = len(provider.models)
        provider.models = [m for m in provider.models if m.weights_key in elsewhere]
        provider.comments.append(
            f"only the open weights also found elsewhere ({len(provider.models)} of {before} "
            "models); `modelaudit init --from-openrouter` writes the whole catalog"
        )
        if not provider.models:
            draft.notes.append(
                f"{provider.name}: none of its {before} models are open weights found at "
                "another provider here: left out"
            )


def link_families(draft: Draft) -> None:
    """Open-weight models whose names reduce to one family on two or more providers get
    that `family` and each other as fallbacks."""
    by_key: dict[str, list[tuple[DraftProvider, DraftModel]]] = {}
    for provider in draft.active():
        for model in provider.models:
            if model.weights_key:
                by_key.setdefault(model.weights_key, []).append((provider, model))
    for hosts in by_key.values():
        if len({p.name for p, _ in hosts}) < 2:
            continue
        label = Counter(m.weights_label for _, m in hosts).most_common(1)[0][0]
        for provider, model in hosts:
            model.family = label
            others = [p.ref(m) for p, m in hosts if p.name != provider.name]
            model.fallbacks = list(dict.fromkeys([*model.fallbacks, *others]))[:MAX_FALLBACKS]
            where = ", ".join(sorted({p.name for p, _ in hosts if p.name != provider.name}))
            model.comments.append(
                f"family `{label}`: inferred from the names, the same open weights as at "
                f"{where}; fallbacks: those hosts"
            )


def pin(draft: Draft, wanted: str) -> list[str]:
    """Pin the model `wanted` names (`provider/id` or an id; an alias pins its dated
    snapshot; an older snapshot is added as a model of its own). Returns the refs pinned;
    raises UsageError when nothing matches."""
    found = draft.find(wanted)
    if not found:
        found = _restore_older(draft, wanted)
    if not found:
        raise UsageError(
            f"--pin {wanted}: no such model among those found (write provider/id, or an id; "
            "`modelaudit discover` lists what each provider serves)"
        )
    refs = []
    for provider, model in found:
        model.pinned = True
        asked = wanted.partition("/")[2] if wanted.startswith(f"{provider.name}/") else wanted
        if asked in model.also:
            model.comments.append(
                f"pinned: you asked for the floating alias `{asked}`; its dated id is pinned"
            )
        else:
            model.comments.append("pinned: you asked for it")
        refs.append(provider.ref(model))
    return refs


def _restore_older(draft: Draft, wanted: str) -> list[tuple[DraftProvider, DraftModel]]:
    provider_name, sep, model_id = wanted.partition("/")
    restored = []
    for provider in draft.active():
        for index, model in enumerate(list(provider.models)):
            asked = model_id if sep and provider.name == provider_name else wanted
            if asked not in model.older:
                continue
            model.older.remove(asked)
            older = replace(
                model,
                id=asked,
                comments=[f"an older dated snapshot of `{model.id}`, added because you pinned it"],
                also=[],
                older=[],
                fallbacks=list(model.fallbacks),
                tags=list(model.tags),
                retires=None,
                pinned=False,
            )
            provider.models.insert(index + 1, older)
            restored.append((provider, older))
    return restored


def flag_pins_without_fallbacks(draft: Draft) -> None:
    for provider in draft.active():
        for model in provider.models:
            if model.pinned and not model.fallbacks:
                model.comments.append(
                    "pinned, with no fallback among the providers found: add one "
                    "(fallbacks: [provider/model])"
                )
