"""Azure OpenAI data plane: deployments, `api-version`, `api-key`, content-filter annotations.

    fake = FakeAzure(key="az-key", deployments={"prod-mini": "gpt-4o-mini-2024-07-18"},
                     models=[Model("gpt-35-turbo-0613", lifecycle_status="deprecated", ...)])

* `POST /openai/deployments/{deployment}/chat/completions?api-version=...`: the URL names a
  deployment; replies name the underlying model. A missing deployment is 404
  `DeploymentNotFound`; a missing `api-version` is 404 "Resource not found".
* `POST /openai/v1/chat/completions` (the newer v1 surface: no api-version, `model` = the
  deployment name).
* `GET /openai/models?api-version=...`: the models the resource may deploy, with
  `lifecycle_status` and `deprecation.{inference,fine_tune}` (unix seconds).
* Streams open with the `prompt_filter_results` chunk (`id: ""`, `choices: []`), and chunks
  carry `content_filter_results`.
* Auth: `api-key: KEY`, or `Authorization: Bearer KEY` (Entra tokens; the fake compares the
  token with the key).

`behave()` is keyed by deployment name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from tests.fakes.base import ErrorSpec, Frame, GenContext, Model
from tests.fakes.http import Reply, Request, json_reply
from tests.fakes.openai import CREATED, FakeOpenAI, sse_frame, wants_stream

__all__ = ["AZURE_ERRORS", "FakeAzure"]

SUPPORTED_API_VERSIONS = (
    "2024-02-01",
    "2024-06-01",
    "2024-10-21",
    "2025-01-01-preview",
    "2025-04-01-preview",
)


def az_error(code: str, message: str, **extra: Any) -> Any:
    return {"error": {"code": code, "message": message, **extra}}


_SAFE = {"filtered": False, "severity": "safe"}
_FILTER_RESULTS = {
    "hate": _SAFE,
    "jailbreak": {"filtered": False, "detected": False},
    "self_harm": _SAFE,
    "sexual": _SAFE,
    "violence": _SAFE,
}
_OUTPUT_FILTER_RESULTS = {
    "hate": _SAFE,
    "protected_material_code": {"filtered": False, "detected": False},
    "protected_material_text": {"filtered": False, "detected": False},
    "self_harm": _SAFE,
    "sexual": _SAFE,
    "violence": _SAFE,
}
_BLOCKED_RESULTS = {**_FILTER_RESULTS, "violence": {"filtered": True, "severity": "high"}}

AZURE_ERRORS: Mapping[str, ErrorSpec] = {
    "model_not_found": ErrorSpec(
        404,
        az_error(
            "DeploymentNotFound",
            "The API deployment for this resource does not exist. If you created the deployment "
            "within the last 5 minutes, please wait a moment and try again.",
        ),
        "model_not_found",
        "chatboxai/chatbox#861 (full 404 body)",
    ),
    "auth_failed": ErrorSpec(
        401,
        az_error(
            "401",
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
            "provide a valid key for an active subscription and use a correct regional API "
            "endpoint for your resource.",
        ),
        "auth_failed",
        "reference §5.2 (Azure 401)",
    ),
    "auth_missing": ErrorSpec(
        401,
        az_error(
            "401",
            "Access denied due to missing subscription key. Make sure to include subscription "
            "key when making requests to an API.",
        ),
        "auth_failed",
        "Azure API Management's 401 without a key (assumed wording)",
    ),
    "rate_limited": ErrorSpec(
        429,
        az_error(
            "429",
            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version "
            "{api_version} have exceeded token rate limit of your current OpenAI S0 pricing tier. "
            "Please retry after {retry_s} seconds. Please go here: "
            "https://aka.ms/oai/quotaincrease if you would like to further increase the default "
            "rate limit.",
        ),
        "rate_limited",
        "openai/openai-node#1108, alex-wolf-ps/dbchatprov2#2 (text)",
        headers={"retry-after": "{retry_s}", "x-ratelimit-remaining-requests": "0"},
    ),
    "rate_limited_short": ErrorSpec(
        429,
        az_error("429", "Rate limit is exceeded. Try again in {retry_s} seconds."),
        "rate_limited",
        "reference §5.2; Azure/azure-sdk-for-net#47779 (text)",
        headers={"retry-after": "{retry_s}"},
    ),
    "content_filtered": ErrorSpec(
        400,
        {
            "error": {
                "message": "The response was filtered due to the prompt triggering Azure OpenAI's "
                "content management policy. Please modify your prompt and retry. To learn more "
                "about our content filtering policies please read our documentation: "
                "https://go.microsoft.com/fwlink/?linkid=2198766",
                "type": None,
                "param": "prompt",
                "code": "content_filter",
                "status": 400,
                "innererror": {
                    "code": "ResponsibleAIPolicyViolation",
                    "content_filter_result": _BLOCKED_RESULTS,
                },
            }
        },
        "content_filtered",
        "openai/openai-python inline snapshot of an Azure 400 content_filter",
    ),
    "server_error": ErrorSpec(
        500,
        az_error(
            "InternalServerError",
            "The service is temporarily unable to process your request. Please try again later.",
        ),
        "server_error",
        "Azure 500 (assumed wording)",
    ),
    "overloaded": ErrorSpec(
        503,
        az_error(
            "ServiceUnavailable",
            "The service is temporarily unable to process your request. Please try again later.",
        ),
        "overloaded",
        "Azure 503 (assumed wording)",
        headers={"retry-after": "10"},
    ),
    "api_version_missing": ErrorSpec(
        404,
        az_error("404", "Resource not found"),
        "bad_request",
        "Azure's answer without api-version (assumed wording)",
    ),
    "api_version_unsupported": ErrorSpec(
        404,
        az_error("404", "Resource not found"),
        "bad_request",
        "Azure's answer to an unknown api-version (assumed wording)",
    ),
    "bad_request": ErrorSpec(
        400,
        az_error("BadRequest", "Invalid request body: could not parse JSON"),
        "bad_request",
        "Azure 400 (assumed wording)",
    ),
    "missing_messages": ErrorSpec(
        400,
        az_error("BadRequest", "'messages' is a required property"),
        "bad_request",
        "Azure 400 (assumed wording)",
    ),
    "not_found_route": ErrorSpec(
        404, az_error("404", "Resource not found"), "bad_request", "Azure unknown path (assumed)"
    ),
    "unsupported_parameter": ErrorSpec(
        400,
        {
            "error": {
                "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.",
                "type": "invalid_request_error",
                "param": "max_tokens",
                "code": "unsupported_parameter",
            }
        },
        "bad_request",
        "anomalyco/opencode#37964 (GPT 5.1 on Azure)",
    ),
}


class FakeAzure(FakeOpenAI):
    """An Azure OpenAI resource: `base_url` is the resource endpoint `http://127.0.0.1:PORT`."""

    family = "azure-openai"
    ERRORS: ClassVar[Mapping[str, ErrorSpec]] = AZURE_ERRORS
    prefix = "/openai"

    def __init__(
        self,
        *,
        key: str | None = None,
        deployments: Mapping[str, str] | None = None,
        models: Any = (),
        tls: Any = None,
        api_versions: tuple[str, ...] = SUPPORTED_API_VERSIONS,
        region: str = "swedencentral",
    ) -> None:
        self.deployments: dict[str, str] = dict(deployments or {})
        self.api_versions = api_versions
        self.region = region
        super().__init__(key=key, models=models, tls=tls)

    @property
    def base_url(self) -> str:
        return self.server.url

    def install_routes(self) -> None:
        self.server.route("GET", "/openai/models", self.serve_catalog)
        self.server.route("GET", "/openai/models/{model}", self._serve_one_model)
        self.server.route(
            "POST", "/openai/deployments/{deployment}/chat/completions", self._serve_deployment
        )
        self.server.route("GET", "/openai/v1/models", self._serve_v1_models)
        self.server.route("POST", "/openai/v1/chat/completions", self._serve_v1_chat)

    def add_deployment(self, name: str, model: str) -> None:
        self.deployments[name] = model

    # -- auth and api-version

    def check_auth(self, request: Request) -> Reply | None:
        if self.key is None:
            return None
        api_key = request.headers.get("api-key")
        bearer = request.headers.get("authorization", "")
        if api_key is None and not bearer:
            return self.error_reply("auth_missing")
        token = api_key if api_key is not None else bearer.partition(" ")[2].strip()
        if token != self.key:
            return self.error_reply("auth_failed")
        return None

    def _version_problem(self, request: Request) -> Reply | None:
        version = request.query_value("api-version")
        if version is None:
            return self.error_reply("api_version_missing")
        if version not in self.api_versions:
            return self.error_reply("api_version_unsupported", api_version=version)
        return None

    # -- catalog

    def serve_catalog(self, request: Request) -> Reply:
        problem = self.check_auth(request) or self._version_problem(request)
        return problem if problem is not None else super().serve_catalog(request)

    def _serve_one_model(self, request: Request) -> Reply:
        problem = self.check_auth(request) or self._version_problem(request)
        if problem is not None:
            return problem
        return self.serve_retrieve(request, request.path_params["model"])

    def retrieve_not_found(self, model_id: str) -> Reply:
        return json_reply(
            {"error": {"code": "ModelNotFound", "message": "The model does not exist."}},
            status=404,
        )

    def _serve_v1_models(self, request: Request) -> Reply:
        denied = self.check_auth(request)
        if denied is not None:
            return denied
        data = [
            {"id": name, "object": "model", "created": CREATED, "owned_by": "system"}
            for name in self.deployments
        ]
        return json_reply({"object": "list", "data": data}, headers=self.response_headers())

    def catalog_entry(self, model: Model) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "status": "succeeded",
            "capabilities": {
                "fine_tune": False,
                "inference": True,
                "completion": False,
                "chat_completion": True,
                "embeddings": False,
            },
            "lifecycle_status": "generally-available",
            "deprecation": {"inference": 1893456000},
            "id": model.id,
            "created_at": CREATED,
            "object": "model",
        }
        entry.update(model.meta)
        return entry

    def catalog_reply(self, request: Request) -> Reply:
        return json_reply(
            {"data": self.listed_entries(), "object": "list"}, headers=self.response_headers()
        )

    # -- generation

    def _serve_deployment(self, request: Request) -> Reply:
        problem = self.check_auth(request) or self._version_problem(request)
        if problem is not None:
            return problem
        return self.serve_generation(
            request, request.path_params["deployment"], wants_stream(request)
        )

    def _serve_v1_chat(self, request: Request) -> Reply:
        return self.serve_generation(request, None, wants_stream(request))

    def served_name(self, model_id: str) -> str:
        return self.deployments.get(model_id, model_id)

    def serves(self, model_id: str) -> bool:
        return model_id in self.deployments

    def response_headers(self) -> dict[str, str]:
        return {
            "apim-request-id": "00000000-fake-4000-8000-000000000000",
            "x-request-id": "00000000-fake-4000-8000-000000000001",
            "x-ms-region": self.region,
            "x-ratelimit-remaining-requests": "99",
            "x-ratelimit-remaining-tokens": "99000",
        }

    def decorate_completion(self, body: dict[str, Any], ctx: GenContext) -> dict[str, Any]:
        prompt_blocked = ctx.variant == "prompt_filtered"
        body["prompt_filter_results"] = [
            {
                "prompt_index": 0,
                "content_filter_results": _BLOCKED_RESULTS if prompt_blocked else _FILTER_RESULTS,
            }
        ]
        out_blocked = ctx.variant == "filtered"
        for choice in body["choices"]:
            choice["content_filter_results"] = (
                {**_OUTPUT_FILTER_RESULTS, "violence": {"filtered": True, "severity": "high"}}
                if out_blocked
                else _OUTPUT_FILTER_RESULTS
            )
        body.pop("service_tier", None)
        return body

    def head_frames(self, ctx: GenContext) -> list[Frame]:
        blocked = ctx.variant == "prompt_filtered"
        first = {
            "choices": [],
            "created": 0,
            "id": "",
            "model": "",
            "object": "",
            "prompt_filter_results": [
                {
                    "prompt_index": 0,
                    "content_filter_results": _BLOCKED_RESULTS if blocked else _FILTER_RESULTS,
                }
            ],
        }
        return [Frame(sse_frame(first), "head")]

    def decorate_chunk(self, chunk: dict[str, Any], ctx: GenContext, kind: str) -> dict[str, Any]:
        chunk.pop("service_tier", None)
        for choice in chunk["choices"]:
            if kind == "content":
                choice["content_filter_results"] = _OUTPUT_FILTER_RESULTS
            elif choice.get("finish_reason") == "content_filter":
                choice["content_filter_results"] = {
                    **_OUTPUT_FILTER_RESULTS,
                    "violence": {"filtered": True, "severity": "high"},
                }
            else:
                choice["content_filter_results"] = {}
        return chunk

    def unknown_route(self, request: Request) -> Reply:
        return self.error_reply("not_found_route")
