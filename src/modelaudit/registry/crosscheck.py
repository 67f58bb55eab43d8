"""Checks that need the whole registry: unique names and fallbacks that resolve; and the
cross-field checks of providers that the schema could not run.

They read the raw document (not the validated model) so that they still report when some
other field is wrong: a user fixes every problem in one pass, not one per run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from modelaudit.registry.schema import (
    CROSS_CHECKED_FIELDS,
    CredentialsRef,
    KeyRef,
    parse_key_ref,
    provider_conflicts,
)
from modelaudit.registry.yamlsafe import Path
from modelaudit.vocabulary import Hosting, ServerEngine

# How the schema turns a text it accepted into the value its checks read.
_VALIDATED: dict[str, Callable[[str], object]] = {
    "hosting": Hosting,
    "server": ServerEngine,
    "base_url": lambda url: url.rstrip("/"),
    "api_key": parse_key_ref,
}
_VALIDATED_MAPPINGS: dict[str, Callable[[object], object]] = {
    "api_key": KeyRef.model_validate,
    "credentials": CredentialsRef.model_validate,
}


def crosscheck(data: object) -> list[tuple[Path, str]]:
    providers = data.get("providers") if isinstance(data, dict) else None
    if not isinstance(providers, list):
        return []
    problems: list[tuple[Path, str]] = []
    known: dict[str, set[str]] = {}
    first_provider: dict[str, int] = {}
    for p_index, provider in enumerate(providers):
        if not isinstance(provider, dict):
            continue
        name = provider.get("name")
        if isinstance(name, str):
            if name in first_provider:
                problems.append(
                    (
                        ("providers", p_index, "name"),
                        f"duplicate provider name `{name}` (also providers[{first_provider[name]}]"
                        "): give each provider a unique name",
                    )
                )
            else:
                first_provider[name] = p_index
        models = provider.get("models")
        ids: set[str] = set()
        if isinstance(name, str) and first_provider[name] == p_index:
            known[name] = ids
        for m_index, model in enumerate(models if isinstance(models, list) else []):
            model_id = model.get("id") if isinstance(model, dict) else None
            if not isinstance(model_id, str):
                continue
            if model_id in ids:
                problems.append(
                    (
                        ("providers", p_index, "models", m_index, "id"),
                        f"duplicate model id `{model_id}` in provider `{name}`: list it once",
                    )
                )
            ids.add(model_id)
    problems.extend(_check_fallbacks(providers, known))
    problems.extend(
        _check_route_filters(data.get("alerts") if isinstance(data, dict) else None, known)
    )
    return problems


def _check_route_filters(alerts: object, known: dict[str, set[str]]) -> list[tuple[Path, str]]:
    """A route's filter naming a provider or model the registry does not have would make
    the route silent, which nobody would notice until the day it mattered."""
    routes = alerts.get("routes") if isinstance(alerts, dict) else None
    if not isinstance(routes, dict):
        return []
    problems: list[tuple[Path, str]] = []
    every_id = {model for ids in known.values() for model in ids}
    for name, route in routes.items():
        found = route.get("filter") if isinstance(route, dict) else None
        if not isinstance(found, dict):
            continue
        base: Path = ("alerts", "routes", name, "filter")
        for index, provider in _listed(found.get("providers")):
            if provider not in known:
                names = ", ".join(sorted(known)) or "none"
                problems.append(
                    ((*base, "providers", index), f"no provider `{provider}` (providers: {names})")
                )
        for index, ref in _listed(found.get("models")):
            provider, _, model = ref.partition("/")
            if ref in every_id or model in known.get(provider, ()):
                continue
            problems.append(
                (
                    (*base, "models", index),
                    f"`{ref}` names no model of the registry (write provider/model or a model id)",
                )
            )
    return problems


def _listed(value: object) -> list[tuple[int, str]]:
    """The text items of a list, with their indexes (the schema reports the others)."""
    items = value if isinstance(value, list) else []
    return [(index, item) for index, item in enumerate(items) if isinstance(item, str)]


def _check_fallbacks(providers: list[object], known: dict[str, set[str]]) -> list[tuple[Path, str]]:
    problems: list[tuple[Path, str]] = []
    for p_index, provider in enumerate(providers):
        if not isinstance(provider, dict) or not isinstance(provider.get("models"), list):
            continue
        own_name = provider.get("name")
        for m_index, model in enumerate(provider["models"]):
            if not isinstance(model, dict) or not isinstance(model.get("fallbacks"), list):
                continue
            for f_index, ref in enumerate(model["fallbacks"]):
                if not isinstance(ref, str) or "/" not in ref:
                    continue  # the schema reports the shape
                path: Path = ("providers", p_index, "models", m_index, "fallbacks", f_index)
                message = _fallback_problem(ref, known, own_name, model.get("id"))
                if message:
                    problems.append((path, message))
    return problems


def _fallback_problem(
    ref: str, known: dict[str, set[str]], own_provider: object, own_model: object
) -> str | None:
    provider, _, model = ref.partition("/")
    if provider not in known:
        names = ", ".join(sorted(known)) or "none"
        return f"fallback `{ref}` names no provider `{provider}` (providers: {names})"
    if model not in known[provider]:
        return (
            f"fallback `{ref}`: provider `{provider}` lists no model `{model}` "
            "(add it to that provider's models, or fix the id)"
        )
    if provider == own_provider and model == own_model:
        return f"fallback `{ref}` is the model itself: name a different model"
    return None


def unchecked_provider_conflicts(
    data: object, invalid_fields: Mapping[int, set[str]]
) -> list[tuple[Path, str]]:
    """The cross-field problems of providers with an invalid field of their own.

    pydantic skips a model's cross-field validator once one of its fields failed; these
    providers are checked here on the fields that are valid (`invalid_fields`: by provider
    index, the names of those that are not).
    """
    providers = data.get("providers") if isinstance(data, dict) else None
    if not isinstance(providers, list):
        return []
    problems: list[tuple[Path, str]] = []
    for index, failed in sorted(invalid_fields.items()):
        provider = providers[index] if index < len(providers) else None
        if not isinstance(provider, dict):
            continue
        invalid = set(failed)  # grows by the values these checks cannot read
        fields = _valid_fields(provider, invalid)
        for conflict in provider_conflicts(fields, invalid):
            problems.append((("providers", index, conflict.field), conflict.message))
    return problems


def _valid_fields(provider: dict[str, object], invalid: set[str]) -> dict[str, object]:
    fields: dict[str, object] = {}
    for name in CROSS_CHECKED_FIELDS:
        value = provider.get(name)
        if value is None or name in invalid:
            continue
        if name not in _VALIDATED and name not in _VALIDATED_MAPPINGS:
            fields[name] = value
        elif isinstance(value, str) and name in _VALIDATED:
            try:
                fields[name] = _VALIDATED[name](value)
            except ValueError:
                invalid.add(name)
        elif isinstance(value, dict) and name in _VALIDATED_MAPPINGS:
            try:  # pydantic's ValidationError is a ValueError
                fields[name] = _VALIDATED_MAPPINGS[name](value)
            except ValueError:
                invalid.add(name)
        else:
            invalid.add(name)
    return fields
