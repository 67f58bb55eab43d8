"""Every error envelope of reference section 5.1, read into a ProviderError."""

from __future__ import annotations

import pytest

from modelaudit.families.base import HttpResponse, ProviderError
from modelaudit.families.envelopes import MAX_MESSAGE_CHARS, inband_error, parse_error_response


def read(status: int, body: str | bytes, **headers: str) -> ProviderError:
    raw = body.encode() if isinstance(body, str) else body
    return parse_error_response(HttpResponse(status=status, headers=headers, body=raw))


def test_openai_style_with_string_code_and_param() -> None:
    error = read(
        400,
        '{"error":{"message":"Unsupported parameter: \'max_tokens\' is not supported with this '
        'model. Use \'max_completion_tokens\' instead.","type":"invalid_request_error",'
        '"param":"max_tokens","code":"unsupported_parameter"}}',
    )
    assert error.type == "invalid_request_error"
    assert error.code == "unsupported_parameter"
    assert error.param == "max_tokens"
    assert error.status is None


def test_azure_string_status_code_counts_as_status() -> None:
    error = read(
        429,
        '{"error":{"code":"429","message":"Rate limit is exceeded. Try again in 20 seconds."}}',
    )
    assert (error.code, error.status, error.retry_after_s) == ("429", 429, 20.0)


def test_azure_retry_after_wording_is_a_hint() -> None:
    error = read(
        429,
        '{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation '
        "under Azure OpenAI API version 2024-05-01-preview have exceeded token rate limit of "
        'your current OpenAI S0 pricing tier. Please retry after 86400 seconds."}}',
    )
    assert error.retry_after_s == 86400.0


def test_azure_content_filter_keeps_the_outer_code() -> None:
    error = read(
        400,
        '{"error":{"message":"The response was filtered due to the prompt triggering Azure '
        'OpenAI\'s content management policy.","type":null,"param":"prompt","code":'
        '"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation",'
        '"content_filter_result":{"hate":{"filtered":true,"severity":"high"}}}}}',
    )
    assert error.code == "content_filter"


def test_anthropic_envelope() -> None:
    error = read(
        529,
        '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},'
        '"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}',
    )
    assert (error.type, error.message) == ("overloaded_error", "Overloaded")


def test_anthropic_edge_forbidden_without_wrapper() -> None:
    error = read(403, '{"error":{"type":"forbidden","message":"Request not allowed"}}')
    assert (error.type, error.message) == ("forbidden", "Request not allowed")


GEMINI_BAD_KEY = """{
  "error": {
    "code": 400,
    "message": "API key not valid. Please pass a valid API key.",
    "status": "INVALID_ARGUMENT",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": {
          "service": "generativelanguage.googleapis.com"
        }
      },
      {
        "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
        "locale": "en-US",
        "message": "API key not valid. Please pass a valid API key."
      }
    ]
  }
}
"""


def test_gemini_error_info_reason_becomes_the_code() -> None:
    error = read(400, GEMINI_BAD_KEY)
    assert (error.type, error.code, error.status) == ("INVALID_ARGUMENT", "API_KEY_INVALID", 400)


def test_gemini_retry_info_delay() -> None:
    error = read(
        429,
        '{"error":{"code":429,"message":"You exceeded your current quota. Please retry in '
        '26.660853464s.","status":"RESOURCE_EXHAUSTED","details":[{"@type":'
        '"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"26s"}]}}',
    )
    assert error.retry_after_s == 26.0
    assert (error.type, error.status) == ("RESOURCE_EXHAUSTED", 429)


def test_gemini_error_wrapped_in_an_array() -> None:
    error = read(
        429,
        '[{"error":{"code":429,"message":"Resource exhausted.","status":"RESOURCE_EXHAUSTED"}}]',
    )
    assert (error.type, error.status) == ("RESOURCE_EXHAUSTED", 429)


def test_mistral_flat_and_detail() -> None:
    flat = read(
        400,
        '{"object":"error","message":"Invalid model: mistral-huge","type":"invalid_model",'
        '"param":null,"code":"1500"}',
    )
    assert (flat.type, flat.code, flat.status) == ("invalid_model", "1500", None)
    assert read(401, '{"detail":"Unauthorized"}').message == "Unauthorized"
    assert read(429, '{"message":"Requests rate limit exceeded"}').message == (
        "Requests rate limit exceeded"
    )


def test_openrouter_int_code_and_upstream_raw() -> None:
    error = read(
        502,
        '{"error":{"message":"Provider returned error","code":502,"metadata":{"raw":'
        '"{\\"error\\":{\\"message\\":\\"upstream overloaded\\"}}","provider_name":"Together"}},'
        '"user_id":"user_2abc"}',
    )
    assert error.status == 502
    assert error.message is not None
    assert "Together" in error.message
    assert "upstream overloaded" in error.message


def test_zhipu_numeric_string_code_is_not_a_status() -> None:
    body = '{"error":{"code":"1211","message":"模型不存在，请检查模型代码。"}}'  # noqa: RUF001
    error = read(400, body)
    assert (error.code, error.status) == ("1211", None)


def test_vllm_new_and_flat() -> None:
    new = read(
        404,
        '{"error":{"message":"The model `llama-9` does not exist.","type":"NotFoundError",'
        '"param":"model","code":404}}',
    )
    assert (new.type, new.status) == ("NotFoundError", 404)
    flat = read(
        404,
        '{"object":"error","message":"The model `llama-9` does not exist.",'
        '"type":"NotFoundError","param":null,"code":404}',
    )
    assert (flat.type, flat.status, flat.code) == ("NotFoundError", 404, "404")


def test_llamacpp_loading() -> None:
    error = read(503, '{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}')
    assert (error.type, error.status, error.message) == ("unavailable_error", 503, "Loading model")


def test_ollama_and_tgi_string_errors() -> None:
    assert read(404, '{"error":"model \'llama9\' not found"}').message == "model 'llama9' not found"
    tgi = read(429, '{"error":"Model is overloaded","error_type":"overloaded"}')
    assert (tgi.type, tgi.message) == ("overloaded", "Model is overloaded")


def test_bedrock_type_from_header() -> None:
    error = read(
        429,
        '{"message":"Too many requests, please wait before trying again."}',
        **{
            "x-amzn-errortype": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"
        },
    )
    assert error.type == "ThrottlingException"


def test_html_body_gives_its_title() -> None:
    body = (
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body></html>"
    )
    assert read(502, body, **{"content-type": "text/html"}).message == "502 Bad Gateway"


def test_plain_text_and_empty_bodies() -> None:
    assert read(500, "Internal Server Error").message == "Internal Server Error"
    assert read(503, b"") == ProviderError(form="empty")
    assert read(500, "Internal Server Error").form == "text"
    assert read(500, b"\xff\xfe garbage").message is not None


def test_the_retry_hint_is_the_body_s_own_headers_are_the_classifier_s() -> None:
    # retry-after headers need the clock (an HTTP date): `classify.retry_after_s` reads them.
    body = '{"error":{"message":"Rate limit reached for requests. Please try again in 1.2s."}}'
    assert read(429, body).retry_after_s == 1.2
    assert read(429, body, **{"retry-after": "7"}).retry_after_s == 1.2


@pytest.mark.parametrize(
    ("message", "seconds"),
    [("Please try again in 120ms.", 0.12), ("Please try again in 6m0s.", 360.0)],
)
def test_go_duration_hints(message: str, seconds: float) -> None:
    assert read(429, f'{{"error":{{"message":"{message}"}}}}').retry_after_s == pytest.approx(
        seconds
    )


def test_messages_are_one_line_truncated_and_masked() -> None:
    long = "x" * 5000
    assert len(read(500, long).message or "") == MAX_MESSAGE_CHARS
    echoed = read(
        401,
        '{"error":{"message":"Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwx.\\n'
        'You can find your API key at https://platform.openai.com/account/api-keys."}}',
    )
    assert echoed.message is not None
    assert "abcdefghijklmnop" not in echoed.message
    assert "\n" not in echoed.message


def test_inband_error_ignores_null_error_fields() -> None:
    assert inband_error({"choices": [], "error": None}) is None
    assert inband_error({"error": {"message": "boom"}}) == ProviderError(message="boom")
