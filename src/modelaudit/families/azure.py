"""Azure OpenAI: the OpenAI chat format addressed by deployment.

Two conventions, as in the OpenAI SDK's `AzureOpenAI` client and Azure's v1 API:

* `base_url` is the resource endpoint (`https://{resource}.openai.azure.com`) and
  `api_version` is required: calls go to `/openai/deployments/{model id}/chat/completions
  ?api-version=...`, so a model's `id` is the deployment name;
* `base_url` ends in `/openai/v1` (the v1 API) and takes no `api_version`: calls go to
  `/chat/completions` with the deployment in the body's `model`.

The model list (`/openai/models`) names the models the resource may deploy, not the
deployments, so the catalog is checked under `base_model` when the registry gives one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urlsplit

from modelaudit.families.base import HttpRequest
from modelaudit.families.headers import request_headers
from modelaudit.families.openai import OpenAIFamily, chat_body, token_limit_param

if TYPE_CHECKING:
    from modelaudit.families.fields import JsonObject
    from modelaudit.registry.schema import ModelSpec, ProviderSpec

_V1_SUFFIX = "/openai/v1"
_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(?:-preview)?")
# The first api-version that knows `max_completion_tokens`.
_COMPLETION_TOKENS_SINCE = "2024-09-01"
_ENDPOINT_EXAMPLE = "https://{resource}.openai.azure.com"


class AzureOpenAIFamily(OpenAIFamily):
    """OpenAI's requests and parsing; only the addressing, the key header and the token
    limit's name differ."""

    name = "azure-openai"

    def check_base_url(self, base_url: str) -> str | None:
        if _is_v1(base_url):
            return None
        return _endpoint_problem(urlsplit(base_url).path.rstrip("/"))

    def check_api_version(self, api_version: str | None, base_url: str | None) -> str | None:
        if base_url is not None and _is_v1(base_url):
            if api_version is not None:
                return (
                    "the Azure OpenAI v1 API (a base_url ending in /openai/v1) takes no "
                    "api_version: remove it"
                )
            return None
        if api_version is None:
            if base_url is None:
                return None  # whether the v1 API (which takes none) is meant is unknown
            return (
                "azure-openai needs `api_version` (e.g. 2024-10-21) with a resource endpoint "
                f"base_url, or a base_url ending in {_V1_SUFFIX} for the v1 API"
            )
        if not _API_VERSION.fullmatch(api_version):
            return f"api_version `{api_version}` is not YYYY-MM-DD[-preview], e.g. 2024-10-21"
        return None

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"api-key": key}

    def catalog_request(self, provider: ProviderSpec) -> HttpRequest:
        return HttpRequest(
            method="GET",
            url=self._url(provider, "models"),
            headers=request_headers(provider),
        )

    def catalog_id(self, provider: ProviderSpec, model: ModelSpec) -> str:
        return model.base_model or model.id

    def served_names(self, model: ModelSpec) -> tuple[str, ...]:
        """A deployment answers with the name of the model behind it (`gpt-4o-2024-08-06`
        for a deployment named `prod-chat`): judged against `base_model` when declared,
        not judged at all otherwise."""
        return (model.base_model,) if model.base_model else ("*",)

    def retrieve_request(self, provider: ProviderSpec, model: ModelSpec) -> HttpRequest:
        """Models - Get: `/openai/models/{id}?api-version=...` (`/openai/v1/models/{id}`)."""
        model_id = quote(self.catalog_id(provider, model), safe="")
        return HttpRequest(
            method="GET",
            url=self._url(provider, f"models/{model_id}"),
            headers=request_headers(provider),
        )

    def _url(self, provider: ProviderSpec, resource: str) -> str:
        if _is_v1(provider.base_url):
            return f"{provider.base_url}/{resource}"
        query = urlencode({"api-version": provider.api_version or ""})
        return f"{provider.base_url}/openai/{resource}?{query}"

    def _responses_url(self, provider: ProviderSpec) -> str | None:
        """The v1 API's `/openai/v1/responses` (a deployment URL has no model-free one)."""
        return f"{provider.base_url}/responses" if _is_v1(provider.base_url) else None

    def _chat_url(self, provider: ProviderSpec, model: ModelSpec) -> str:
        if _is_v1(provider.base_url):
            return self._url(provider, "chat/completions")
        return self._url(provider, f"deployments/{quote(model.id, safe='')}/chat/completions")

    def _chat_body(
        self, provider: ProviderSpec, model: ModelSpec, max_tokens: int, variant: int
    ) -> JsonObject:
        v1 = _is_v1(provider.base_url)
        knows_completion_tokens = v1 or (provider.api_version or "") >= _COMPLETION_TOKENS_SINCE
        default_limit = "max_completion_tokens" if knows_completion_tokens else "max_tokens"
        return chat_body(
            model.id if v1 else None, max_tokens, token_limit_param(default_limit, variant)
        )


def _is_v1(base_url: str) -> bool:
    return urlsplit(base_url).path.rstrip("/").endswith(_V1_SUFFIX)


def _endpoint_problem(path: str) -> str | None:
    if "/openai/deployments" in path or path.endswith("/chat/completions"):
        return (
            f"base_url is the resource endpoint ({_ENDPOINT_EXAMPLE}), not a deployment URL: "
            "modelaudit adds /openai/deployments/{id}/chat/completions, and a model's `id` is "
            "the deployment name"
        )
    if path.endswith("/openai"):
        return (
            f"drop the trailing /openai: base_url is the resource endpoint ({_ENDPOINT_EXAMPLE}), "
            f"or ends in {_V1_SUFFIX} for the v1 API"
        )
    return None
