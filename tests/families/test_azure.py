from __future__ import annotations

import json

import pytest

from modelaudit.families.azure import AzureOpenAIFamily
from modelaudit.families.base import HttpResponse, ProviderError, StreamEnd, StreamMeta, StreamToken
from modelaudit.families.openai import ChatVariant
from tests.families.specs import model, provider
from tests.families.streaming import decode_bytewise, decode_whole

FAMILY = AzureOpenAIFamily()
ENDPOINT = "https://contoso.openai.azure.com"
RESOURCE = provider("azure-openai", ENDPOINT, api_version="2024-10-21")
OLD_API = provider("azure-openai", ENDPOINT, api_version="2024-06-01")
V1 = provider("azure-openai", f"{ENDPOINT}/openai/v1")


# --- provider conventions -------------------------------------------------------------


def test_resource_endpoint_needs_an_api_version() -> None:
    problem = FAMILY.check_api_version(None, ENDPOINT)
    assert problem is not None
    assert "2024-10-21" in problem
    assert FAMILY.check_api_version("2024-10-21", ENDPOINT) is None
    assert FAMILY.check_api_version("2025-04-01-preview", ENDPOINT) is None


def test_v1_api_takes_no_api_version() -> None:
    assert FAMILY.check_api_version(None, f"{ENDPOINT}/openai/v1") is None
    assert FAMILY.check_base_url(f"{ENDPOINT}/openai/v1") is None
    problem = FAMILY.check_api_version("2024-10-21", f"{ENDPOINT}/openai/v1")
    assert "no api_version" in (problem or "")


@pytest.mark.parametrize(
    "base_url",
    [
        f"{ENDPOINT}/openai/deployments/gpt-4o",
        f"{ENDPOINT}/openai/deployments/gpt-4o/chat/completions",
        f"{ENDPOINT}/openai",
    ],
)
def test_deployment_urls_are_refused_with_the_endpoint_to_write(base_url: str) -> None:
    problem = FAMILY.check_base_url(base_url)
    assert problem is not None
    assert "resource endpoint" in problem


def test_api_version_must_look_like_one() -> None:
    assert "YYYY-MM-DD" in (FAMILY.check_api_version("latest", ENDPOINT) or "")
    assert "YYYY-MM-DD" in (FAMILY.check_api_version("latest", None) or "")


def test_without_a_valid_base_url_a_missing_api_version_is_not_judged() -> None:
    assert FAMILY.check_api_version(None, None) is None


def test_key_goes_in_api_key_header() -> None:
    assert FAMILY.auth_headers("k") == {"api-key": "k"}


# --- catalog --------------------------------------------------------------------------


def test_catalog_lists_deployable_models_with_the_api_version() -> None:
    request = FAMILY.catalog_request(RESOURCE)
    assert request.url == f"{ENDPOINT}/openai/models?api-version=2024-10-21"
    assert FAMILY.catalog_request(V1).url == f"{ENDPOINT}/openai/v1/models"


def test_lifecycle_status_and_inference_deprecation() -> None:
    body = {
        "data": [
            {
                "status": "succeeded",
                "capabilities": {"fine_tune": False, "inference": True, "chat_completion": True},
                "lifecycle_status": "generally-available",
                "deprecation": {"inference": 1761955200},
                "id": "gpt-4o-2024-05-13",
                "created_at": 1715558400,
                "object": "model",
            },
            {
                "status": "succeeded",
                "lifecycle_status": "preview",
                "deprecation": {"fine_tune": 1735689600, "inference": 1735689600},
                "id": "gpt-35-turbo-0613",
                "object": "model",
            },
        ],
        "object": "list",
    }
    first, second = FAMILY.parse_catalog(
        RESOURCE, HttpResponse(200, {}, json.dumps(body).encode())
    ).entries
    assert (first.id, str(first.retires), first.lifecycle) == (
        "gpt-4o-2024-05-13",
        "2025-11-01",
        "generally-available",
    )
    assert (second.lifecycle, str(second.retires)) == ("preview", "2025-01-01")


def test_deployments_are_looked_up_under_their_base_model() -> None:
    assert FAMILY.catalog_id(RESOURCE, model("prod-chat", base_model="gpt-4o-2024-08-06")) == (
        "gpt-4o-2024-08-06"
    )
    assert FAMILY.catalog_id(RESOURCE, model("gpt-4o")) == "gpt-4o"


# --- completion -----------------------------------------------------------------------


def test_completion_goes_to_the_deployment() -> None:
    request = FAMILY.completion_request(RESOURCE, model("prod chat"), 16)
    assert request.url == (
        f"{ENDPOINT}/openai/deployments/prod%20chat/chat/completions?api-version=2024-10-21"
    )
    assert isinstance(request.json_body, dict)
    assert "model" not in request.json_body
    assert request.json_body["max_completion_tokens"] == 16
    assert request.json_body["temperature"] == 0


def test_api_versions_before_max_completion_tokens_get_max_tokens() -> None:
    body = FAMILY.completion_request(OLD_API, model("gpt-35"), 16).json_body
    assert isinstance(body, dict)
    assert body["max_tokens"] == 16


def test_v1_api_names_the_deployment_in_the_body() -> None:
    request = FAMILY.completion_request(V1, model("prod-chat"), 16)
    assert request.url == f"{ENDPOINT}/openai/v1/chat/completions"
    assert isinstance(request.json_body, dict)
    assert request.json_body["model"] == "prod-chat"


def test_refused_token_limit_swaps() -> None:

    error = ProviderError(
        code="unsupported_parameter",
        param="max_tokens",
        message="Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead.",
    )
    variant = FAMILY.alternative_variant(error, 0)
    assert variant == ChatVariant.SWAP_TOKEN_LIMIT
    body = FAMILY.completion_request(OLD_API, model("o1"), 16, variant).json_body
    assert isinstance(body, dict)
    assert body["max_completion_tokens"] == 16


def test_content_filtered_reply() -> None:
    body = (
        '{"choices":[{"content_filter_results":{"sexual":{"filtered":true,"severity":"medium"}},'
        '"finish_reason":"content_filter","index":0,"message":{"content":null,"role":"assistant"}}],'
        '"created":1736407895,"id":"chatcmpl-x","model":"gpt-4o-2024-08-06","object":'
        '"chat.completion","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}],'
        '"system_fingerprint":"fp_5154047bf2","usage":{"completion_tokens":0}}'
    )
    generation = FAMILY.parse_completion(HttpResponse(200, {}, body.encode()))
    assert generation.filtered
    assert generation.served_model == "gpt-4o-2024-08-06"


# Azure's stream opens with a prompt-annotation chunk (`choices: []`, empty id and model).
AZURE_STREAM = (
    b'data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":'
    b'[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},'
    b'"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":'
    b'"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}\n\n'
    b'data: {"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":'
    b'"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1736407895,"id":'
    b'"chatcmpl-AnhIt","model":"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk",'
    b'"system_fingerprint":"fp_5154047bf2"}\n\n'
    b'data: {"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},'
    b'"delta":{"content":"ok"},"finish_reason":null,"index":0,"logprobs":null}],"created":'
    b'1736407895,"id":"chatcmpl-AnhIt","model":"gpt-4o-mini-2024-07-18","object":'
    b'"chat.completion.chunk","system_fingerprint":"fp_5154047bf2"}\n\n'
    b'data: {"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop","index":0,'
    b'"logprobs":null}],"created":1736407895,"id":"chatcmpl-AnhIt","model":'
    b'"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk","system_fingerprint":'
    b'"fp_5154047bf2"}\n\n'
    b'data: {"choices":[],"created":1736407895,"id":"chatcmpl-AnhIt","model":'
    b'"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk","system_fingerprint":'
    b'"fp_5154047bf2","usage":{"completion_tokens":1,"prompt_tokens":14,"total_tokens":15}}\n\n'
    b"data: [DONE]\n\n"
)


def test_annotation_chunk_is_not_a_token_and_meta_skips_its_empty_model() -> None:
    expected = [
        StreamMeta(served_model="gpt-4o-mini-2024-07-18", system_fingerprint="fp_5154047bf2"),
        StreamToken(chars=2),
        StreamEnd(finish_reason="stop", output_tokens=1),
    ]
    assert decode_whole(FAMILY.stream_decoder(), AZURE_STREAM) == expected
    assert decode_bytewise(FAMILY.stream_decoder(), AZURE_STREAM) == expected


def test_stream_stopped_by_the_filter_ends_filtered() -> None:
    body = (
        b'data: {"choices":[{"delta":{},"finish_reason":"content_filter","index":0}],"id":"c",'
        b'"model":"gpt-4o"}\n\ndata: [DONE]\n\n'
    )
    assert decode_whole(FAMILY.stream_decoder(), body)[-1] == StreamEnd(
        finish_reason="content_filter", filtered=True
    )


def test_deployment_not_found_envelope() -> None:
    error = FAMILY.parse_error(
        HttpResponse(
            404,
            {},
            b'{"error":{"code":"DeploymentNotFound","message":"The API deployment for this '
            b"resource does not exist. If you created the deployment within the last 5 minutes, "
            b'please wait a moment and try again."}}',
        )
    )
    assert error.code == "DeploymentNotFound"
