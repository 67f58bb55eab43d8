"""Error classes from real error bodies (reference section 5.2, the SDKs' recordings, the
servers README, public issue threads) and from exceptions provoked on 127.0.0.1."""

from __future__ import annotations

import errno
import socket
import ssl
import threading
from dataclasses import dataclass, field

import httpx
import pytest
import trustme

from modelaudit.families.base import Generation, HttpResponse, ProviderError, StreamFailure
from modelaudit.families.envelopes import parse_error_response
from modelaudit.probe.classify import (
    MAX_REASON_CHARS,
    classify_exception,
    classify_generation,
    classify_response,
    classify_stream_failure,
    exception_reason,
    is_transient,
    read_served,
    reason,
)
from modelaudit.probe.timing import DeadlineExceeded
from modelaudit.vocabulary import ErrorClass, Phase
from tests.fakes.http import closed_port
from tests.probe.loopback import serve_once

E = ErrorClass


@dataclass(frozen=True)
class Case:
    id: str
    status: int
    body: str
    expected: ErrorClass
    headers: dict[str, str] = field(default_factory=dict)

    def error(self) -> ProviderError:
        return parse_error_response(HttpResponse(self.status, self.headers, self.body.encode()))


def amzn(kind: str) -> dict[str, str]:
    return {"x-amzn-errortype": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"}


LITELLM_BAD_MODEL = (
    '{"error":{"message":"/chat/completions: Invalid model name passed in model=no-such-model. '
    'Call `/v1/models` to view available models for your key.","type":"invalid_request_error",'
    '"param":null,"code":"400","provider_specific_fields":{"error":"/chat/completions: Invalid '
    "model name passed in model=no-such-model. Call `/v1/models` to view available models for "
    'your key."}}}'
)
GEMINI_BAD_KEY = (
    '{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":'
    '"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":'
    '"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":'
    '"generativelanguage.googleapis.com"}},{"@type":"type.googleapis.com/google.rpc.'
    'LocalizedMessage","locale":"en-US","message":"API key not valid. Please pass a valid API '
    'key."}]}}'
)
GEMINI_FREE_TIER_429 = (
    '{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and '
    "billing details. For more information on this error, head to: https://ai.google.dev/gemini-"
    'api/docs/rate-limits.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.'
    'com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com'
    '/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerMinutePerProjectPerModel'
    '-FreeTier","quotaDimensions":{"location":"global","model":"gemini-2.5-flash"}}]},{"@type":'
    '"type.googleapis.com/google.rpc.Help","links":[{"description":"Learn more about Gemini API '
    'quotas","url":"https://ai.google.dev/gemini-api/docs/rate-limits"}]},{"@type":"type.'
    'googleapis.com/google.rpc.RetryInfo","retryDelay":"26s"}]}}'
)

CASES = [
    # --- unknown or removed model -------------------------------------------------------
    Case("openai-404-model_not_found", 404,
         '{"error":{"message":"The model `gpt-9` does not exist or you do not have access to '
         'it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}',
         E.MODEL_NOT_FOUND),
    Case("azure-404-DeploymentNotFound", 404,
         '{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource '
         "does not exist. If you created the deployment within the last 5 minutes, please wait "
         'a moment and try again."}}',
         E.MODEL_NOT_FOUND),
    Case("anthropic-404-not_found_error", 404,
         '{"type":"error","error":{"type":"not_found_error","message":"model: '
         'claude-3-5-sonnet-2024"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}',
         E.MODEL_NOT_FOUND),
    Case("gemini-404-NOT_FOUND", 404,
         '{\n  "error": {\n    "code": 404,\n    "message": "models/gemini-9 is not found for API '
         "version v1beta, or is not supported for generateContent. Call ListModels to see the "
         'list of available models and their supported methods.",\n    "status": "NOT_FOUND"\n'
         "  }\n}\n",
         E.MODEL_NOT_FOUND),
    Case("groq-404-model_not_found", 404,
         '{"error":{"message":"The model `llama3-70b-8192` does not exist or you do not have '
         'access to it.","type":"invalid_request_error","code":"model_not_found"}}',
         E.MODEL_NOT_FOUND),
    Case("fireworks-404-NOT_FOUND", 404,
         '{"error":{"object":"error","type":"invalid_request_error","code":"NOT_FOUND","message":'
         '"Model not found, inaccessible, and/or not deployed"}}',
         E.MODEL_NOT_FOUND),
    Case("moonshot-404-resource_not_found_error", 404,
         '{"error":{"message":"Not found the model moonshot-v9 or Permission denied","type":'
         '"resource_not_found_error"}}',
         E.MODEL_NOT_FOUND),
    Case("mistral-400-invalid_model", 400,
         '{"object":"error","message":"Invalid model: mistral-huge","type":"invalid_model",'
         '"param":null,"code":"1500"}',
         E.MODEL_NOT_FOUND),
    Case("deepseek-400-model-not-exist", 400,
         '{"error":{"message":"Model Not Exist","type":"invalid_request_error","param":null,'
         '"code":"invalid_request_error"}}',
         E.MODEL_NOT_FOUND),
    Case("zhipu-400-1211", 400,
         '{"error":{"code":"1211","message":"\\u6a21\\u578b\\u4e0d\\u5b58\\u5728"}}',
         E.MODEL_NOT_FOUND),
    Case("openrouter-400-not-a-valid-model-id", 400,
         '{"error":{"message":"openai/gpt-9 is not a valid model ID","code":400},"user_id":'
         '"user_2zB3"}',
         E.MODEL_NOT_FOUND),
    Case("openrouter-404-no-endpoints", 404,
         '{"error":{"message":"No endpoints found for meta-llama/llama-9-70b-instruct.","code":'
         '404},"user_id":"user_2zB3"}',
         E.MODEL_NOT_FOUND),
    Case("together-400-model_not_available", 400,
         '{"id":"nrFCEVD-2j9zxn-8f4b0c6b","error":{"message":"Unable to access model '
         "meta-llama/Llama-9. Please visit https://api.together.ai/models to view the list of "
         'supported models.","type":"invalid_request_error","param":null,"code":'
         '"model_not_available"}}',
         E.MODEL_NOT_FOUND),
    Case("together-400-dedicated_endpoint_not_running", 400,
         '{"error":{"message":"The dedicated endpoint is not running.","type":'
         '"invalid_request_error","param":null,"code":"dedicated_endpoint_not_running"}}',
         E.MODEL_NOT_FOUND),
    Case("bedrock-400-invalid-model-identifier", 400,
         '{"message":"The provided model identifier is invalid."}', E.MODEL_NOT_FOUND,
         amzn("ValidationException")),
    Case("vllm-404-NotFoundError", 404,
         '{"error":{"message":"The model `llama-9` does not exist.","type":"NotFoundError",'
         '"param":"model","code":404}}',
         E.MODEL_NOT_FOUND),
    Case("vllm-flat-404", 404,
         '{"object":"error","message":"The model `llama-9` does not exist.","type":'
         '"NotFoundError","param":null,"code":404}',
         E.MODEL_NOT_FOUND),
    Case("sglang-400-does-not-exist", 400,
         '{"object":"error","message":"The model `llama-9` does not exist.","type":'
         '"BadRequestError","param":null,"code":400}',
         E.MODEL_NOT_FOUND),
    Case("ollama-404-not-found", 404, '{"error":"model \'llama9\' not found"}', E.MODEL_NOT_FOUND),
    Case("ollama-404-try-pulling", 404,
         '{"error":"model \\"llama9\\" not found, try pulling it first"}', E.MODEL_NOT_FOUND),
    Case("lmstudio-404-model_not_found", 404,
         '{"error":{"message":"Model \\"qwen-9\\" not found. Please specify a valid model.",'
         '"type":"invalid_request_error","param":"model","code":"model_not_found"}}',
         E.MODEL_NOT_FOUND),
    Case("lmstudio-404-no-models-loaded", 404,
         '{"error":"No models loaded. Please load a model in the developer page or use the `lms '
         'load` command."}',
         E.MODEL_NOT_FOUND),
    Case("triton-400-unknown-model", 400,
         "{\"error\":\"Request for unknown model: 'llama-9' is not found\"}", E.MODEL_NOT_FOUND),
    Case("litellm-400-invalid-model-name", 400, LITELLM_BAD_MODEL, E.MODEL_NOT_FOUND),
    Case("litellm-anthropic-route-400-invalid-model-name", 400,
         '{"type":"error","error":{"type":"invalid_request_error","message":"anthropic_messages: '
         "Invalid model name passed in model=no-such-model. Call `/v1/models` to view available "
         'models for your key."}}',
         E.MODEL_NOT_FOUND),
    # --- decommissioned or legacy -------------------------------------------------------
    Case("openai-404-deprecated-legacy", 404,
         '{"error":{"message":"The model `text-davinci-003` has been deprecated, learn more here: '
         'https://platform.openai.com/docs/deprecations","type":"invalid_request_error","param":'
         'null,"code":"model_not_found"}}',
         E.MODEL_DEPRECATED),
    Case("gemini-404-deprecated-on", 404,
         '{"error":{"code":404,"message":"Gemini 1.0 Pro Vision has been deprecated on July 12, '
         '2024. Consider switching to different model, for example gemini-1.5-flash.","status":'
         '"NOT_FOUND"}}',
         E.MODEL_DEPRECATED),
    Case("groq-400-model_decommissioned", 400,
         '{"error":{"message":"The model `mixtral-8x7b-32768` has been decommissioned and is no '
         "longer supported. Please refer to https://console.groq.com/docs/deprecations for a "
         'recommendation on which model to use instead.","type":"invalid_request_error","code":'
         '"model_decommissioned"}}',
         E.MODEL_DEPRECATED),
    Case("bedrock-404-end-of-life", 404,
         '{"message":"This model version has reached the end of its life. Please refer to the AWS '
         'documentation for more details."}',
         E.MODEL_DEPRECATED, amzn("ResourceNotFoundException")),
    Case("bedrock-403-legacy", 403,
         '{"message":"Access denied. This Model is marked by provider as Legacy and you have not '
         "been actively using the model in the last 30 days. Please upgrade to an active model on "
         'Amazon Bedrock"}',
         E.MODEL_DEPRECATED, amzn("AccessDeniedException")),
    # --- bad key ------------------------------------------------------------------------
    Case("openai-401-invalid_api_key", 401,
         '{"error":{"message":"Incorrect API key provided: sk-abc12***wxyz. You can find your API '
         'key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error",'
         '"param":null,"code":"invalid_api_key"}}',
         E.AUTH_FAILED),
    Case("azure-401", 401,
         '{"error":{"code":"401","message":"Access denied due to invalid subscription key or '
         "wrong API endpoint. Make sure to provide a valid key for an active subscription and use "
         'a correct regional API endpoint for your resource."}}',
         E.AUTH_FAILED),
    Case("anthropic-401-authentication_error", 401,
         '{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},'
         '"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}',
         E.AUTH_FAILED),
    Case("gemini-400-API_KEY_INVALID", 400, GEMINI_BAD_KEY, E.AUTH_FAILED),
    Case("gemini-403-leaked-key", 403,
         '{"error":{"code":403,"message":"Your API key was reported as leaked. Please use another '
         'API key.","status":"PERMISSION_DENIED"}}',
         E.AUTH_FAILED),
    Case("mistral-401-detail", 401, '{"detail":"Unauthorized"}', E.AUTH_FAILED),
    Case("deepseek-401-authentication_error", 401,
         '{"error":{"message":"Authentication Fails, Your api key: ****abcd is invalid","type":'
         '"authentication_error","param":null,"code":"invalid_request_error"}}',
         E.AUTH_FAILED),
    Case("moonshot-401-invalid_authentication_error", 401,
         '{"error":{"message":"Invalid Authentication","type":"invalid_authentication_error"}}',
         E.AUTH_FAILED),
    Case("dashscope-401-invalid_api_key", 401,
         '{"error":{"message":"Incorrect API key provided. ","type":"invalid_request_error",'
         '"param":null,"code":"invalid_api_key"},"request_id":"9f1c6d3e"}',
         E.AUTH_FAILED),
    Case("bedrock-403-UnrecognizedClientException", 403,
         '{"message":"The security token included in the request is invalid."}', E.AUTH_FAILED,
         amzn("UnrecognizedClientException")),
    Case("llamacpp-401", 401,
         '{"error":{"message":"Invalid API Key","type":"authentication_error","code":401}}',
         E.AUTH_FAILED),
    Case("litellm-401-no-key", 401,
         '{"error":{"message":"Authentication Error, No api key passed in.","type":"auth_error",'
         '"param":"None","code":"401"}}',
         E.AUTH_FAILED),
    # --- no access to the model ---------------------------------------------------------
    Case("openai-403-project-no-access", 403,
         '{"error":{"message":"Project `proj_abc123` does not have access to model `o3`","type":'
         '"invalid_request_error","param":null,"code":"model_not_found"}}',
         E.ACCESS_DENIED),
    Case("anthropic-403-permission_error", 403,
         '{"type":"error","error":{"type":"permission_error","message":"Your API key does not '
         'have permission to use the specified resource."}}',
         E.ACCESS_DENIED),
    Case("gemini-403-PERMISSION_DENIED", 403,
         '{"error":{"code":403,"message":"The caller does not have permission","status":'
         '"PERMISSION_DENIED"}}',
         E.ACCESS_DENIED),
    Case("bedrock-403-AccessDeniedException", 403,
         '{"message":"You don\'t have access to the model with the specified model ID."}',
         E.ACCESS_DENIED, amzn("AccessDeniedException")),
    # --- region blocked -----------------------------------------------------------------
    Case("openai-403-unsupported_country_region_territory", 403,
         '{"error":{"code":"unsupported_country_region_territory","message":"Country, region, or '
         'territory not supported","param":null,"type":"request_forbidden"}}',
         E.ACCESS_DENIED),
    Case("anthropic-403-edge-forbidden", 403,
         '{"error":{"type":"forbidden","message":"Request not allowed"}}', E.ACCESS_DENIED),
    Case("gemini-400-user-location", 400,
         '{"error":{"code":400,"message":"User location is not supported for the API use.",'
         '"status":"FAILED_PRECONDITION"}}',
         E.ACCESS_DENIED),
    Case("bedrock-400-unsupported-countries", 400,
         '{"message":"Access to Anthropic models is not allowed from unsupported countries, '
         "regions, or territories. Please refer to https://www.anthropic.com/supported-countries "
         'for more information on the countries and regions Anthropic currently supports."}',
         E.ACCESS_DENIED, amzn("ValidationException")),
    # --- rate limit ---------------------------------------------------------------------
    Case("openai-429-rate_limit_exceeded", 429,
         '{"error":{"message":"Rate limit reached for gpt-4o-mini in organization org-abc on '
         "requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit "
         'https://platform.openai.com/account/rate-limits to learn more.","type":"requests",'
         '"param":null,"code":"rate_limit_exceeded"}}',
         E.RATE_LIMITED),
    Case("azure-429", 429,
         '{"error":{"code":"429","message":"Rate limit is exceeded. Try again in 20 seconds."}}',
         E.RATE_LIMITED),
    Case("anthropic-429-rate_limit_error", 429,
         '{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens '
         'has exceeded your per-minute rate limit"}}',
         E.RATE_LIMITED),
    Case("gemini-429-RESOURCE_EXHAUSTED-free-tier", 429, GEMINI_FREE_TIER_429, E.RATE_LIMITED),
    Case("gemini-429-RESOURCE_EXHAUSTED-plain", 429,
         '{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).",'
         '"status":"RESOURCE_EXHAUSTED"}}',
         E.RATE_LIMITED),
    Case("groq-429-tpm", 429,
         '{"error":{"message":"Rate limit reached for model `llama-3.3-70b-versatile` in '
         "organization `org_01` service tier `on_demand` on tokens per minute (TPM): Limit 6000, "
         "Used 5523, Requested 1091. Please try again in 6.14s. Need more tokens? Upgrade to Dev "
         'Tier today at https://console.groq.com/settings/billing","type":"tokens","code":'
         '"rate_limit_exceeded"}}',
         E.RATE_LIMITED),
    Case("groq-413-request-too-large-for-tpm", 413,
         '{"error":{"message":"Request too large for model `llama-3.1-8b-instant` in organization '
         "`org_01` service tier `on_demand` on tokens per minute (TPM): Limit 6000, Requested "
         "9000, please reduce your message size and try again. Need more tokens? Upgrade to Dev "
         'Tier today at https://console.groq.com/settings/billing","type":"tokens","code":'
         '"rate_limit_exceeded"}}',
         E.RATE_LIMITED),
    Case("mistral-429-rate_limited", 429,
         '{"object":"error","message":"Requests rate limit exceeded","type":"rate_limited",'
         '"param":null,"code":"1300"}',
         E.RATE_LIMITED),
    Case("mistral-429-message-only", 429, '{"message":"Requests rate limit exceeded"}',
         E.RATE_LIMITED),
    Case("moonshot-429-rate_limit_reached_error", 429,
         '{"error":{"message":"Your account org-x request reached organization max RPM: 3, '
         'please try again after 1 seconds","type":"rate_limit_reached_error"}}',
         E.RATE_LIMITED),
    Case("zhipu-429-1302", 429,
         '{"error":{"code":"1302","message":"\\u60a8\\u5f53\\u524d\\u4f7f\\u7528\\u8be5API\\u7684'
         '\\u5e76\\u53d1\\u6570\\u8fc7\\u9ad8"}}',
         E.RATE_LIMITED),
    Case("zhipu-429-1305", 429,
         '{"error":{"code":"1305","message":"\\u8bf7\\u6c42\\u8fc7\\u591a"}}', E.RATE_LIMITED),
    Case("openrouter-429", 429,
         '{"error":{"message":"Rate limit exceeded: free-models-per-min. ","code":429,"metadata":'
         '{"headers":{"X-RateLimit-Limit":"20","X-RateLimit-Remaining":"0","X-RateLimit-Reset":'
         '"1741305600000"}}},"user_id":"user_2zB3"}',
         E.RATE_LIMITED),
    Case("bedrock-429-ThrottlingException", 429,
         '{"message":"Too many requests, please wait before trying again."}', E.RATE_LIMITED,
         amzn("ThrottlingException")),
    Case("litellm-429-mock", 429,
         '{"error":{"message":"litellm.RateLimitError: this is a mock rate limit error\\n\\n'
         "LiteLLM: model group 'mock-rate-limited' failed with the error above. No fallback was "
         'attempted.","type":"throttling_error","param":null,"code":"429"}}',
         E.RATE_LIMITED),
    # --- overloaded ---------------------------------------------------------------------
    Case("anthropic-529-overloaded_error", 529,
         '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},'
         '"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}',
         E.OVERLOADED),
    Case("openai-503-overloaded", 503,
         '{"error":{"message":"That model is currently overloaded with other requests. You can '
         "retry your request, or contact us through our help center at help.openai.com if the "
         'error persists.","type":"server_error","param":null,"code":null}}',
         E.OVERLOADED),
    Case("gemini-503-overloaded", 503,
         '{"error":{"code":503,"message":"The model is overloaded. Please try again later.",'
         '"status":"UNAVAILABLE"}}',
         E.OVERLOADED),
    Case("gemini-503-high-demand", 503,
         '{"error":{"code":503,"message":"This model is currently experiencing high demand. '
         'Spikes in demand are usually temporary. Please try again later.","status":'
         '"UNAVAILABLE"}}',
         E.OVERLOADED),
    Case("moonshot-429-engine_overloaded_error", 429,
         '{"error":{"message":"The engine is currently overloaded, please try again later",'
         '"type":"engine_overloaded_error"}}',
         E.OVERLOADED),
    Case("tgi-429-overloaded", 429, '{"error":"Model is overloaded","error_type":"overloaded"}',
         E.OVERLOADED),
    Case("llamacpp-503-loading", 503,
         '{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}',
         E.OVERLOADED),
    Case("ollama-503-server-busy", 503,
         '{"error":"server busy, please try again.  maximum pending requests exceeded"}',
         E.OVERLOADED),
    Case("bedrock-503-ServiceUnavailableException", 503,
         '{"message":"Service Unavailable. Please try your request again."}', E.OVERLOADED,
         amzn("ServiceUnavailableException")),
    Case("bedrock-429-ModelNotReadyException", 429,
         '{"message":"Model is not ready for inference. Wait and try your request again."}',
         E.OVERLOADED, amzn("ModelNotReadyException")),
    # --- server error -------------------------------------------------------------------
    Case("openai-500-server_error", 500,
         '{"error":{"message":"The server had an error processing your request. Sorry about '
         "that! You can retry your request, or contact us through our help center at "
         'help.openai.com if you keep experiencing this error.","type":"server_error","param":'
         'null,"code":null}}',
         E.SERVER_ERROR),
    Case("anthropic-500-api_error", 500,
         '{"type":"error","error":{"type":"api_error","message":"Internal server error"}}',
         E.SERVER_ERROR),
    Case("anthropic-504-timeout_error", 504,
         '{"type":"error","error":{"type":"timeout_error","message":"Request timed out"}}',
         E.SERVER_ERROR),
    Case("gemini-500-INTERNAL", 500,
         '{"error":{"code":500,"message":"An internal error has occurred. Please retry or report '
         'in https://developers.generativeai.google/guide/troubleshooting","status":"INTERNAL"}}',
         E.SERVER_ERROR),
    Case("gemini-503-plain-unavailable", 503,
         '{"error":{"code":503,"message":"The service is currently unavailable.","status":'
         '"UNAVAILABLE"}}',
         E.SERVER_ERROR),
    Case("tgi-424-generation", 424,
         '{"error":"Request failed during generation: Server error: CUDA out of memory",'
         '"error_type":"generation"}',
         E.SERVER_ERROR),
    Case("tgi-500-incomplete_generation", 500,
         '{"error":"Incomplete generation","error_type":"incomplete_generation"}', E.SERVER_ERROR),
    Case("localai-500-could-not-load", 500,
         '{"error":{"code":500,"message":"could not load model: rpc error: code = Unknown desc = '
         'failed to load model","type":""}}',
         E.SERVER_ERROR),
    Case("bedrock-500-InternalServerException", 500, '{"message":"Internal server error"}',
         E.SERVER_ERROR, amzn("InternalServerException")),
    Case("bedrock-424-ModelErrorException", 424,
         '{"message":"The model returned an error."}', E.SERVER_ERROR,
         amzn("ModelErrorException")),
    Case("nginx-502-html", 502,
         "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad "
         "Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
         E.SERVER_ERROR, {"content-type": "text/html"}),
    Case("litellm-500-upstream-down", 500,
         '{"error":{"message":"litellm.InternalServerError: Hosted_vllmException - Cannot connect '
         'to host 127.0.0.1:18093","type":"internal_server_error","param":null,"code":"500"}}',
         E.SERVER_ERROR),
    # --- content filter -----------------------------------------------------------------
    Case("azure-400-content_filter", 400,
         '{"error":{"message":"The response was filtered due to the prompt triggering Azure '
         "OpenAI's content management policy. Please modify your prompt and retry.\",\"type\":"
         'null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":'
         '"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,'
         '"severity":"high"},"jailbreak":{"filtered":false,"detected":false}}}}}',
         E.CONTENT_FILTERED),
    Case("zhipu-400-1301", 400,
         '{"error":{"code":"1301","message":"\\u7cfb\\u7edf\\u68c0\\u6d4b\\u5230\\u8f93\\u5165'
         '\\u6216\\u751f\\u6210\\u5185\\u5bb9\\u53ef\\u80fd\\u5305\\u542b\\u4e0d\\u5b89\\u5168"}}',
         E.CONTENT_FILTERED),
    Case("dashscope-400-data_inspection_failed", 400,
         '{"error":{"code":"data_inspection_failed","param":null,"message":"Input data may '
         'contain inappropriate content.","type":"data_inspection_failed"},"id":"chatcmpl-1",'
         '"request_id":"5d1c"}',
         E.CONTENT_FILTERED),
    Case("deepseek-400-content-exists-risk", 400,
         '{"error":{"message":"Content Exists Risk","type":"invalid_request_error","param":null,'
         '"code":"invalid_request_error"}}',
         E.CONTENT_FILTERED),
    Case("openai-400-invalid_prompt", 400,
         '{"error":{"message":"Invalid prompt: your prompt was flagged as potentially violating '
         "our usage policy. Please try again with a different prompt: https://platform.openai.com"
         '/docs/guides/reasoning#advice-on-prompting","type":"invalid_request_error","param":'
         'null,"code":"invalid_prompt"}}',
         E.CONTENT_FILTERED),
    # --- billing ------------------------------------------------------------------------
    Case("openai-429-insufficient_quota", 429,
         '{"error":{"message":"You exceeded your current quota, please check your plan and '
         "billing details. For more information on this error, read the docs: https://platform."
         'openai.com/docs/guides/error-codes/api-errors.","type":"insufficient_quota","param":'
         'null,"code":"insufficient_quota"}}',
         E.QUOTA_EXHAUSTED),
    Case("litellm-proxied-insufficient-quota", 429,
         '{"error":{"message":"litellm.RateLimitError: RateLimitError: OpenAIException - You '
         "exceeded your current quota, please check your plan and billing details. For more "
         "information on this error, read the docs: https://platform.openai.com/docs/guides/error"
         '-codes/api-errors.","type":"throttling_error","param":null,"code":"429"}}',
         E.QUOTA_EXHAUSTED),
    Case("anthropic-400-credit-balance", 400,
         '{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance '
         "is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or "
         'purchase credits."},"request_id":"req_011CV"}',
         E.QUOTA_EXHAUSTED),
    Case("anthropic-402-billing_error", 402,
         '{"type":"error","error":{"type":"billing_error","message":"Your organization has an '
         'unpaid invoice."}}',
         E.QUOTA_EXHAUSTED),
    Case("deepseek-402-insufficient-balance", 402,
         '{"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":'
         '"invalid_request_error"}}',
         E.QUOTA_EXHAUSTED),
    Case("openrouter-402-insufficient-credits", 402,
         '{"error":{"message":"Insufficient credits. Add more using https://openrouter.ai/'
         'settings/credits","code":402}}',
         E.QUOTA_EXHAUSTED),
    Case("moonshot-403-exceeded_current_quota_error", 403,
         '{"error":{"message":"Your account org-x <ak-x> is suspended, please check your plan '
         'and billing details","type":"exceeded_current_quota_error"}}',
         E.QUOTA_EXHAUSTED),
    Case("zhipu-429-1113", 429,
         '{"error":{"code":"1113","message":"\\u60a8\\u7684\\u8d26\\u6237\\u5df2\\u6b20\\u8d39"}}',
         E.QUOTA_EXHAUSTED),
    Case("dashscope-400-Arrearage", 400,
         '{"error":{"code":"Arrearage","message":"Access denied, please make sure your account is '
         'in good standing.","type":"Arrearage"},"request_id":"8d7c"}',
         E.QUOTA_EXHAUSTED),
    # --- requests we got wrong ----------------------------------------------------------
    Case("openai-400-context_length_exceeded", 400,
         '{"error":{"message":"This model\'s maximum context length is 8192 tokens. However, you '
         'requested 8200 tokens.","type":"invalid_request_error","param":"messages","code":'
         '"context_length_exceeded"}}',
         E.BAD_REQUEST),
    Case("openai-400-unsupported_parameter", 400,
         '{"error":{"message":"Unsupported parameter: \'max_tokens\' is not supported with this '
         "model. Use 'max_completion_tokens' instead.\",\"type\":\"invalid_request_error\","
         '"param":"max_tokens","code":"unsupported_parameter"}}',
         E.BAD_REQUEST),
    Case("anthropic-413-request_too_large", 413,
         '{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the '
         'maximum allowed number of bytes."}}',
         E.BAD_REQUEST),
    Case("llamacpp-400-parse-error", 400,
         '{"error":{"code":400,"message":"[json.exception.parse_error.101] parse error at line 1, '
         "column 2: syntax error while parsing value - invalid literal; last read: 'no'\","
         '"type":"invalid_request_error"}}',
         E.BAD_REQUEST),
    Case("litellm-400-wrong-key-no-db", 400,
         '{"error":{"message":"No connected db.","type":"no_db_connection","param":null,"code":'
         '"400"}}',
         E.BAD_REQUEST),
    Case("fastapi-404-wrong-path", 404, '{"detail":"Not Found"}', E.BAD_REQUEST),
    Case("anthropic-404-wrong-path", 404,
         '{"type":"error","error":{"type":"not_found_error","message":"Not Found"}}',
         E.BAD_REQUEST),
    Case("azure-404-resource-not-found", 404,
         '{"error":{"code":"404","message":"Resource not found"}}', E.BAD_REQUEST),
    Case("html-404", 404, "<html><body><h1>404 Not Found</h1></body></html>", E.BAD_REQUEST),
    Case("bedrock-400-on-demand-throughput", 400,
         '{"message":"Invocation of model ID anthropic.claude-3-7-sonnet-20250219-v1:0 with '
         "on-demand throughput isn't supported. Retry your request with the ID or ARN of an "
         'inference profile that contains this model."}',
         E.BAD_REQUEST, amzn("ValidationException")),
    Case("tgi-422-validation", 422,
         '{"error":"Input validation error: `inputs` must have less than 4096 tokens","error_type"'
         ':"validation"}',
         E.BAD_REQUEST),
    Case("bedrock-408-ModelTimeoutException", 408, '{"message":"Model has timed out"}',
         E.TIMEOUT, amzn("ModelTimeoutException")),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_real_error_bodies(case: Case) -> None:
    assert classify_response(case.status, case.error()) is case.expected


SELF_DESCRIBING = [case for case in CASES if case.error().status == case.status]


@pytest.mark.parametrize("case", SELF_DESCRIBING, ids=[case.id for case in SELF_DESCRIBING])
def test_the_same_error_inside_a_200_gets_the_same_class(case: Case) -> None:
    error = case.error()
    assert classify_response(None, error) is case.expected
    assert classify_response(200, error) is case.expected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        # Anthropic stream `event: error` payloads carry only a type.
        (ProviderError(type="overloaded_error", message="Overloaded"), E.OVERLOADED),
        (ProviderError(type="api_error", message="Internal server error"), E.SERVER_ERROR),
        (ProviderError(type="rate_limit_error", message="Rate limited"), E.RATE_LIMITED),
        (ProviderError(type="authentication_error", message="invalid x-api-key"), E.AUTH_FAILED),
        (ProviderError(type="billing_error", message="unpaid invoice"), E.QUOTA_EXHAUSTED),
        # Gemini without a numeric code; DashScope's mid-stream filter; OpenAI-style.
        (ProviderError(type="UNAVAILABLE", message="The model is overloaded."), E.OVERLOADED),
        (ProviderError(type="RESOURCE_EXHAUSTED", message="Resource exhausted"), E.RATE_LIMITED),
        (ProviderError(code="data_inspection_failed", message="inappropriate"), E.CONTENT_FILTERED),
        (ProviderError(type="server_error", message="The server had an error"), E.SERVER_ERROR),
        # Ollama's mid-stream line names nothing: the server failed while answering.
        (ProviderError(message="model runner has unexpectedly stopped"), E.SERVER_ERROR),
        (ProviderError(code="503", message="Loading model", status=503), E.OVERLOADED),
        (ProviderError(code="429", message="Too many requests", status=429), E.RATE_LIMITED),
    ],
)
def test_errors_inside_a_200(error: ProviderError, expected: ErrorClass) -> None:
    assert classify_response(None, error) is expected


def test_status_alone_without_a_body() -> None:
    assert classify_response(401, None) is E.AUTH_FAILED
    assert classify_response(403, None) is E.ACCESS_DENIED
    assert classify_response(429, None) is E.RATE_LIMITED
    assert classify_response(529, None) is E.OVERLOADED
    assert classify_response(502, None) is E.SERVER_ERROR
    assert classify_response(408, None) is E.TIMEOUT
    assert classify_response(404, None) is E.BAD_REQUEST
    assert classify_response(451, None) is E.ACCESS_DENIED  # Unavailable For Legal Reasons
    assert classify_response(200, None) is E.OK
    assert classify_response(301, None) is E.PROTOCOL_ERROR
    assert classify_response(None, None) is E.PROTOCOL_ERROR


def test_a_parameter_called_deprecated_does_not_retire_the_model() -> None:
    error = ProviderError(
        type="invalid_request_error",
        param="functions",
        message="The `functions` parameter of this model has been deprecated; use `tools`.",
    )
    assert classify_response(400, error) is E.BAD_REQUEST


# --- generations and stream failures --------------------------------------------------


def test_generations() -> None:
    assert classify_generation(Generation(finish_reason="length", text_chars=0)) is E.OK
    assert classify_generation(Generation(finish_reason="stop", text_chars=2)) is E.OK
    assert classify_generation(Generation(filtered=True)) is E.CONTENT_FILTERED
    overloaded = Generation(error=ProviderError(type="overloaded_error", message="Overloaded"))
    assert classify_generation(overloaded) is E.OVERLOADED


def test_stream_failures() -> None:
    assert classify_stream_failure(StreamFailure(malformed="not JSON")) is E.PROTOCOL_ERROR
    failure = StreamFailure(error=ProviderError(type="overloaded_error", message="Overloaded"))
    assert classify_stream_failure(failure) is E.OVERLOADED


# --- exceptions, provoked on loopback -------------------------------------------------


def test_refused_connection_is_connect_failed() -> None:
    with closed_port() as closed, pytest.raises(httpx.ConnectError) as caught:
        httpx.get(f"{closed.url}/health", timeout=2)
    assert classify_exception(caught.value) is E.CONNECT_FAILED


def test_untrusted_certificate_is_tls_failed() -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)

    def handshake(connection: socket.socket, _: threading.Event) -> None:
        try:
            with server_context.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1)
        except ssl.SSLError:
            pass

    with serve_once(handshake) as port, pytest.raises(httpx.ConnectError) as caught:
        httpx.get(f"https://127.0.0.1:{port}/", timeout=2)
    assert classify_exception(caught.value) is E.TLS_FAILED


def test_silent_server_is_timeout() -> None:
    def never_answer(connection: socket.socket, stop: threading.Event) -> None:
        stop.wait(5)

    with serve_once(never_answer) as port, pytest.raises(httpx.ReadTimeout) as caught:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=0.2)
    assert classify_exception(caught.value) is E.TIMEOUT


def test_garbage_instead_of_http_is_protocol_error() -> None:
    def garbage(connection: socket.socket, _: threading.Event) -> None:
        connection.recv(65536)
        connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    with serve_once(garbage) as port, pytest.raises(httpx.RemoteProtocolError) as caught:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
    assert classify_exception(caught.value) is E.PROTOCOL_ERROR


def test_body_cut_by_a_reset_is_protocol_error() -> None:
    def cut_short(connection: socket.socket, _: threading.Event) -> None:
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
        connection.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
        )

    with (
        serve_once(cut_short) as port,
        pytest.raises(httpx.TransportError) as caught,
        httpx.stream("GET", f"http://127.0.0.1:{port}/", timeout=2) as response,
    ):
        response.read()
    assert classify_exception(caught.value, response_started=True) is E.PROTOCOL_ERROR


def _dns_failure() -> httpx.ConnectError:
    # Built by hand: resolving even a .invalid name may send a query to the resolver.
    try:
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as cause:
            raise httpx.ConnectError("[Errno -2] Name or service not known") from cause
    except httpx.ConnectError as error:
        return error


def _reset_before_response() -> httpx.ReadError:
    try:
        try:
            raise ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
        except ConnectionResetError as cause:
            raise httpx.ReadError("[Errno 104] Connection reset by peer") from cause
    except httpx.ReadError as error:
        return error


CERTIFICATE_TEXT = (
    "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
)
EXCEPTIONS: list[tuple[str, BaseException, ErrorClass]] = [
    ("dns-gaierror-cause", _dns_failure(), E.DNS_FAILED),
    ("dns-text-only", httpx.ConnectError("[Errno 8] nodename nor servname provided"), E.DNS_FAILED),
    ("dns-eai-again-text", OSError("Temporary failure in name resolution"), E.DNS_FAILED),
    ("deadline", DeadlineExceeded(Phase.FIRST_TOKEN, 30), E.TIMEOUT),
    ("connect-timeout", httpx.ConnectTimeout("timed out"), E.TIMEOUT),
    ("builtin-timeout", TimeoutError(), E.TIMEOUT),
    ("tls-text-only", httpx.ConnectError(CERTIFICATE_TEXT), E.TLS_FAILED),
    ("tls-cert-error", ssl.SSLCertVerificationError(1, "certificate verify failed"), E.TLS_FAILED),
    ("remote-protocol", httpx.RemoteProtocolError("Server disconnected"), E.PROTOCOL_ERROR),
    ("decoding", httpx.DecodingError("Error -3 while decompressing data"), E.PROTOCOL_ERROR),
    ("read-error-mid-body", httpx.ReadError("Connection reset by peer"), E.PROTOCOL_ERROR),
    ("proxy", httpx.ProxyError("407 Proxy Authentication Required"), E.CONNECT_FAILED),
    ("unreachable", OSError(errno.ENETUNREACH, "Network is unreachable"), E.CONNECT_FAILED),
    (
        "group",
        ExceptionGroup("anyio", [httpx.ConnectError("All attempts failed")]),
        E.CONNECT_FAILED,
    ),
    ("unparseable-body", ValueError("Expecting value: line 1 column 1"), E.PROTOCOL_ERROR),
    ("unknown", RuntimeError("surprise"), E.PROTOCOL_ERROR),
]


@pytest.mark.parametrize(
    ("exc", "expected"), [(e, c) for _, e, c in EXCEPTIONS], ids=[i for i, _, _ in EXCEPTIONS]
)
def test_exceptions(exc: BaseException, expected: ErrorClass) -> None:
    assert classify_exception(exc) is expected


def test_a_reset_before_the_response_is_a_connect_failure() -> None:
    reset = _reset_before_response()
    assert classify_exception(reset, response_started=False) is E.CONNECT_FAILED
    assert classify_exception(reset, response_started=True) is E.PROTOCOL_ERROR


# --- guards ---------------------------------------------------------------------------


def test_every_error_class_is_produced_by_a_real_body_or_exception() -> None:
    produced = {classify_response(case.status, case.error()) for case in CASES}
    produced |= {classify_exception(exc) for _, exc, _ in EXCEPTIONS}
    produced.add(classify_generation(Generation(finish_reason="stop", text_chars=2)))
    substituted = read_served("ghost-model-7b", "smollm2-135m")
    assert substituted is not None
    produced.add(substituted.error_class)
    assert produced == set(ErrorClass)


TRANSIENT = {
    E.OK: False,
    E.MODEL_NOT_FOUND: False,
    E.MODEL_DEPRECATED: False,
    E.AUTH_FAILED: False,
    E.ACCESS_DENIED: False,
    E.QUOTA_EXHAUSTED: False,
    E.RATE_LIMITED: True,
    E.OVERLOADED: True,
    E.SERVER_ERROR: True,
    E.TIMEOUT: True,
    E.CONNECT_FAILED: True,
    E.DNS_FAILED: False,
    E.TLS_FAILED: False,
    E.PROTOCOL_ERROR: True,
    E.BAD_REQUEST: False,
    E.CONTENT_FILTERED: False,
    E.MODEL_SUBSTITUTED: False,
}


def test_retry_policy_decides_every_class() -> None:
    assert set(TRANSIENT) == set(ErrorClass)
    for error_class, retried in TRANSIENT.items():
        assert is_transient(error_class, None) is retried, error_class


def test_a_request_larger_than_the_whole_rate_budget_is_never_retried() -> None:
    assert is_transient(E.RATE_LIMITED, 429)
    assert not is_transient(E.RATE_LIMITED, 413)


def test_quota_is_never_retried_even_as_a_429() -> None:
    case = next(c for c in CASES if c.id == "openai-429-insufficient_quota")
    error_class = classify_response(case.status, case.error())
    assert not is_transient(error_class, case.status)


# --- reasons --------------------------------------------------------------------------


def test_reason_reads_as_one_line_with_the_retry_hint() -> None:
    error = ProviderError(
        type="requests",
        code="rate_limit_exceeded",
        message="Rate limit reached for requests",
        retry_after_s=1.2,
    )
    assert reason(E.RATE_LIMITED, 429, error) == (
        '429 rate_limited [rate_limit_exceeded]: "Rate limit reached for requests" '
        "(retry after 1.2 s)"
    )


def test_reason_without_a_body_or_a_status() -> None:
    assert reason(E.SERVER_ERROR, 502, None) == "502 server_error"
    assert reason(E.OVERLOADED, None, ProviderError(type="overloaded_error")) == (
        'overloaded: "overloaded_error"'
    )
    assert reason(E.AUTH_FAILED, 401, ProviderError(code="401")) == "401 auth_failed"


def test_reason_is_short_and_masks_keys() -> None:
    error = ProviderError(
        code="invalid_api_key",
        message="Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwxyz0123. " + "x" * 400,
        retry_after_s=3,
    )
    text = reason(E.AUTH_FAILED, 401, error)
    assert len(text) <= MAX_REASON_CHARS
    assert "abcdefghijklmnop" not in text
    assert text.endswith("(retry after 3 s)")


def test_exception_reason() -> None:
    text = exception_reason(_dns_failure())
    assert text.startswith("dns_failed: ConnectError: ")
    assert "Name or service not known" in text


@pytest.mark.parametrize("status", [429, 500, 503])
def test_key_wording_in_a_rate_limit_or_server_error_stays_retryable(status: int) -> None:
    error = ProviderError(message="Invalid API key provided upstream; please retry")
    error_class = classify_response(status, error)
    assert error_class is not ErrorClass.AUTH_FAILED
    assert is_transient(error_class, status)


# --- the documented table --------------------------------------------------------------


def test_every_message_signal_is_in_the_documented_table() -> None:
    from pathlib import Path

    from modelaudit.probe.classify import SIGNALS

    doc = (Path(__file__).parents[2] / "docs" / "signals.md").read_text(encoding="utf-8")
    for signal in SIGNALS:
        row = next((line for line in doc.splitlines() if line.startswith(f"| `{signal.name}`")), "")
        assert row, f"docs/signals.md has no row for `{signal.name}`"
        assert f"`{signal.error_class.value}`" in row
        for phrase in signal.phrases:
            assert f"`{phrase.strip()}`" in row, (signal.name, phrase)


# --- rate-limit resets, windows and quotas of zero ----------------------------------------


def test_the_reset_of_the_exhausted_limit_is_read_from_each_vendor_s_headers() -> None:
    from datetime import UTC, datetime

    from modelaudit.probe.classify import limit_resets_in_s

    now = datetime(2026, 1, 1, tzinfo=UTC)
    groq = {  # requests are per day at Groq, tokens per minute: the tokens ran out
        "x-ratelimit-remaining-requests": "14370",
        "x-ratelimit-reset-requests": "2m59.56s",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "7.66s",
    }
    assert limit_resets_in_s(groq, now) == 7.66
    anthropic = {
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": "2026-01-01T05:00:00Z",
    }
    assert limit_resets_in_s(anthropic, now) == 5 * 3600
    openrouter = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1767312000000"}
    assert limit_resets_in_s(openrouter, now) == 86400
    assert limit_resets_in_s({"x-ratelimit-reset": "NaN"}, now) is None
    assert limit_resets_in_s({}, now) is None
    # an instant just past is clock skew (the limit has lifted); long past says nothing
    assert limit_resets_in_s({"x-ratelimit-reset": "1767225570000"}, now) == 0
    assert limit_resets_in_s({"x-ratelimit-reset": "1741305600000"}, now) is None
    stale = {"anthropic-ratelimit-tokens-reset": "2025-12-31T23:00:00Z"}
    assert limit_resets_in_s(stale, now) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "30"}, E.RATE_LIMITED),
        ({"retry-after": "3600"}, E.QUOTA_EXHAUSTED),
        ({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "23h59m"},
         E.QUOTA_EXHAUSTED),
        ({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20s"},
         E.RATE_LIMITED),
        ({"retry-after": "inf"}, E.RATE_LIMITED),
    ],
)  # fmt: skip
def test_a_429_that_lifts_in_an_hour_or_more_is_a_quota(
    headers: dict[str, str], expected: ErrorClass
) -> None:
    error = ProviderError(type="rate_limit_error", message="Too many requests")
    assert classify_response(429, error, headers) is expected


def test_a_quota_of_zero_never_clears_by_waiting() -> None:
    error = ProviderError(
        type="RESOURCE_EXHAUSTED",
        message="You exceeded your current quota.",
        retry_after_s=20.0,
        quota_ids=("GenerateRequestsPerMinutePerProjectPerModel-FreeTier",),
        quota_values=("0",),
    )
    assert classify_response(429, error) is E.QUOTA_EXHAUSTED


@pytest.mark.parametrize(
    ("quota_id", "expected"),
    [
        ("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", E.RATE_LIMITED),
        ("GenerateRequestsPerDayPerProjectPerModel-FreeTier", E.QUOTA_EXHAUSTED),
    ],
)
def test_the_window_of_a_google_quota_decides(quota_id: str, expected: ErrorClass) -> None:
    # Google words every limit like billing: the structure decides, not the words.
    error = ProviderError(
        type="RESOURCE_EXHAUSTED",
        message="You exceeded your current quota, please check your plan and billing details.",
        quota_ids=(quota_id,),
    )
    assert classify_response(429, error) is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("INSUFFICIENT_G1_CREDITS_BALANCE", E.QUOTA_EXHAUSTED),
        ("payment_overdue", E.QUOTA_EXHAUSTED),
        ("load_balancer_saturated", E.RATE_LIMITED),  # "balancer" is not the balance
        ("creditsless", E.RATE_LIMITED),
    ],
)
def test_a_code_about_the_balance_is_billing_even_on_a_429(code: str, expected: ErrorClass) -> None:
    error = ProviderError(type="RESOURCE_EXHAUSTED", code=code, message="Resource exhausted.")
    assert classify_response(429, error) is expected


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (
            403,
            "Out of call volume quota. Quota will be replenished in 1.02:00:00.",
            E.QUOTA_EXHAUSTED,
        ),
        (400, "Monthly quota exceeded for this key.", E.QUOTA_EXHAUSTED),
        (403, "Requests have been exhausted.", E.ACCESS_DENIED),  # no quota named
        (503, "The quota service is exhausted, try again.", E.SERVER_ERROR),  # not a 4xx
    ],
)
def test_a_spent_quota_on_a_4xx_is_our_allowance_not_our_access(
    status: int, message: str, expected: ErrorClass
) -> None:
    assert classify_response(status, ProviderError(message=message)) is expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Model disabled.", E.MODEL_DEPRECATED),
        ("The model has been taken offline.", E.MODEL_DEPRECATED),
        ("This model is disabled for your organization.", E.ACCESS_DENIED),
    ],
)
def test_a_model_switched_off_for_everyone_is_gone_for_us_only_is_access(
    message: str, expected: ErrorClass
) -> None:
    assert classify_response(403, ProviderError(message=message)) is expected


# --- who answered ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "served", "also", "same"),
    [
        ("gpt-4o", "gpt-4o-2024-08-06", (), True),
        ("claude-3-5-sonnet-latest", "claude-3-5-sonnet-20241022", (), True),
        ("llama3", "llama3:latest", (), True),
        ("qwen2.5-7b-instruct", "/models/qwen2.5-7b-instruct-q4_k_m.gguf", (), True),
        ("openai/gpt-4o", "gpt-4o-2024-08-06", (), True),
        ("gemini-flash-latest", "gemini-2.5-flash-preview-09-2025", (), True),
        ("my-deployment", "gpt-4o-2024-08-06", ("gpt-4o",), True),  # Azure base_model
        ("my-deployment", "gpt-4o-2024-08-06", ("*",), True),  # Azure, undeclared
        ("fast", "gpt-4o-mini-2024-07-18", ("gpt-4o-mini",), True),  # served_as
        ("openrouter/auto", "anthropic/claude-sonnet-4.5", (), True),  # a router
        ("ghost-model-7b", "smollm2-135m", (), False),
        ("gpt-4o-mini", "gpt-4o-2024-08-06", (), False),
        ("any-model-name", "gemma-3-1b-it-qat:2", (), False),  # LM Studio, one model loaded
    ],
)
def test_snapshots_and_aliases_are_the_model_another_model_is_not(
    asked: str, served: str, also: tuple[str, ...], same: bool
) -> None:
    from modelaudit.probe.classify import same_model

    assert same_model(asked, served, also) is same


# --- where a refusal comes from -----------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "local"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("10.1.2.3", True),
        ("172.20.0.5", True),
        ("192.168.1.10", True),
        ("169.254.1.1", True),
        ("fe80::1%eth0", True),
        ("fd12:3456::1", True),
        ("8.8.8.8", False),
        ("2606:4700::1111", False),
        ("not-an-address", False),
    ],
)
def test_loopback_private_and_link_local_addresses_are_local(address: str, local: bool) -> None:
    from modelaudit.probe.classify import is_local_address

    assert is_local_address(address) is local


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_refusal_on_loopback_is_definitive_and_says_where(host: str) -> None:
    import asyncio

    from modelaudit.probe.classify import read_exception
    from modelaudit.probe.http1 import Origin, connect

    async def attempt(port: int) -> BaseException:
        try:
            await connect(Origin.of(f"http://{host}:{port}/"), None)
        except OSError as exc:
            return exc
        raise AssertionError("connected to a closed port")

    with closed_port() as closed:
        port = closed.port
        failure = asyncio.run(attempt(port))
    found = read_exception(failure)
    assert (found.error_class, found.about_target) == (E.CONNECT_FAILED, True)
    assert f"nothing listens on port {port}" in (found.fix or "")
    assert "127.0.0.1" in (found.fix or "")


def test_a_refusal_after_a_non_blocking_connect_reads_as_a_refusal_alone() -> None:
    """A non-blocking connect first says EINPROGRESS; the refusal seen afterwards is raised
    `from None`, so the reason names the refusal and not "Operation now in progress"."""
    from modelaudit.probe.attempts import failure
    from modelaudit.probe.http1 import Refused

    def refusal() -> Refused:
        try:
            try:
                raise BlockingIOError(errno.EINPROGRESS, "Operation now in progress")
            except BlockingIOError:
                raise Refused(("127.0.0.1",), 8000) from None
        except Refused as exc:
            return exc

    refused = refusal()
    try:
        raise httpx.ConnectError(str(refused)) from refused
    except httpx.ConnectError as exc:
        reason = failure(exc).detail
    assert reason.startswith("[Errno 111] Connection refused by 127.0.0.1:8000; nothing listens")
    assert "in progress" not in reason


def test_a_refusal_from_a_public_address_says_nothing_about_the_target() -> None:
    from modelaudit.probe.classify import read_exception
    from modelaudit.probe.http1 import Refused

    found = read_exception(Refused(("93.184.216.34",), 443))
    assert (found.error_class, found.about_target) == (E.CONNECT_FAILED, None)


def test_a_server_error_saying_the_context_overflowed_is_a_refused_request() -> None:
    from modelaudit.probe.classify import read_response

    def read(body: str) -> ProviderError:
        return parse_error_response(HttpResponse(500, {}, body.encode()))

    body = (
        '{"error":{"code":500,"message":"Context size has been exceeded.","type":"server_error"}}'
    )
    finding = read_response(500, read(body))
    assert finding.error_class is E.BAD_REQUEST
    assert finding.signal == "context-overflow"
    assert read_response(500, read('{"error":{"message":"boom"}}')).error_class is E.SERVER_ERROR
