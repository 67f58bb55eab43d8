"""Registry entries for family tests, built through the real schema (which also runs the
family's `check_base_url` and `check_api_version`)."""

from __future__ import annotations

from modelaudit.registry.schema import ModelSpec, ProviderSpec
from modelaudit.vocabulary import Weights


def provider(
    api: str,
    base_url: str,
    *,
    api_version: str | None = None,
    headers: dict[str, str] | None = None,
    hosting: str = "vendor",
    **placement: str,
) -> ProviderSpec:
    """`placement`: a cloud family's `project` and `location`."""
    return ProviderSpec.model_validate(
        {
            **placement,
            "name": "p",
            "api": api,
            "base_url": base_url,
            "api_version": api_version,
            "headers": headers or {},
            "hosting": hosting,
            "jurisdiction": "US" if hosting != "self-hosted" else None,
            "models": [{"id": "m", "weights": "closed"}],
            # a family whose credential is botocore's takes no key, and needs one of its forms
            **({"credentials": {"chain": "default"}} if api == "bedrock" else {}),
        }
    )


def model(model_id: str, *, base_model: str | None = None) -> ModelSpec:
    return ModelSpec(id=model_id, weights=Weights.CLOSED, base_model=base_model)
