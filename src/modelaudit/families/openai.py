"""The OpenAI wire format: OpenAI itself and every OpenAI-compatible vendor or server
(Mistral, DeepSeek, Groq, Together, OpenRouter, vLLM, SGLang, llama.cpp, LiteLLM...).

Paths follow the OpenAI SDK: `base_url` already ends in the version (`.../v1`), and the
family appends `/models` and `/chat/completions`.
"""

from __future__ import annotations

import re
from enum import IntFlag
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from modelaudit.families.base import (
    PROBE_PROMPT,
    CatalogEntry,
    CatalogPage,
    Family,
    Generation,
    HttpRequest,
    HttpResponse,
    ProviderError,
    StreamEnd,
    StreamEvent,
    StreamMeta,
    StreamToken,
)
from modelaudit.families.envelopes import inband_error, parse_error_response
from modelaudit.families.events import decode_event_json
from modelaudit.families.fields import (
    JsonObject,
    as_list,
    as_object,
    day,
    integer,
    load_json,
    load_json_object,
    path,
    text,
)
from modelaudit.families.framing import FramedDecoder
from modelaudit.families.headers import EVENT_STREAM, request_headers
from modelaudit.families.responses import (
    ResponsesStreamDecoder,
    parse_response,
    responses_body,
)
from modelaudit.families.sse import SseDecoder, SseEvent

if TYPE_CHECKING:
    from modelaudit.registry.schema import ModelSpec, ProviderSpec

OPENAI_HOST = "api.openai.com"
OPENROUTER_HOST = "openrouter.ai"


class ChatVariant(IntFlag):
    """Bits of `variant` for chat-completion requests: each undoes one default that a
    server refused with a 400."""

    SWAP_TOKEN_LIMIT = 1
    """`max_tokens` <-> `max_completion_tokens` (o-series and gpt-5 refuse `max_tokens`;
    older servers and api-versions do not know `max_completion_tokens`)."""
    NO_REASONING_EFFORT = 2
    """Drop `reasoning_effort` (sent only to OpenAI reasoning models)."""
    NO_STREAM_OPTIONS = 4
    """Drop `stream_options` (some compatible servers refuse unknown fields)."""
    RESPONSES = 8
    """Ask on the Responses API (`/responses`): the chat endpoint said the model is served
    only there ("This model is only supported in v1/responses ...")."""


ENDPOINTS = ("chat-completions", "responses")
"""The values of a model's `endpoint:` for the families that speak both."""


_TOKEN_LIMITS = ("max_tokens", "max_completion_tokens")
_REFUSAL_WORDS = (
    "unsupported",
    "not supported",
    "unrecognized",
    "unknown",
    "extra",
    "not permitted",
)
# OpenAI models that accept `reasoning_effort`; o1-mini/o1-preview and gpt-5-chat do not.
_REASONING_MODEL = re.compile(r"^(?:o[1-9]|gpt-5)(?!.*-chat)")
_NO_REASONING_EFFORT = ("o1-mini", "o1-preview")
# What a chat endpoint says of a model it serves only on another endpoint (OpenAI: "This
# model is only supported in v1/responses and not in v1/chat/completions.", "This is not a
# chat model and thus not supported in the v1/chat/completions endpoint").
_OTHER_ENDPOINT = ("v1/responses", "not supported in the v1/chat/completions")
_RESPONSES_PATH = "/responses"


class OpenAIFamily(Family):
    name = "openai"

    def check_base_url(self, base_url: str) -> str | None:
        base_url = base_url.rstrip("/")  # the registry strips it; direct callers may not
        for endpoint in ("/chat/completions", "/completions", "/models"):
            if base_url.endswith(endpoint):
                root = base_url.removesuffix(endpoint)
                return (
                    f"base_url must be the API root, not the `{endpoint}` endpoint: "
                    f"write `{root}` (modelaudit appends {endpoint})"
                )
        return None

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def catalog_request(self, provider: ProviderSpec) -> HttpRequest:
        return HttpRequest(
            method="GET",
            url=f"{provider.base_url}/models",
            headers=request_headers(provider),
            # OpenRouter publishes its model list without a key.
            authenticated=not host_is(provider.base_url, OPENROUTER_HOST),
        )

    def parse_catalog(self, provider: ProviderSpec, response: HttpResponse) -> CatalogPage:
        return CatalogPage(entries=parse_model_list(response.body))

    def retrieve_request(self, provider: ProviderSpec, model: ModelSpec) -> HttpRequest:
        """`GET {base}/models/{id}`. OpenAI, Groq, Mistral and LiteLLM answer it; vLLM,
        llama.cpp and others do not route it (404/405): the list's answer then stands."""
        return HttpRequest(
            method="GET",
            url=f"{provider.base_url}/models/{quote(self.catalog_id(provider, model))}",
            headers=request_headers(provider),
        )

    def parse_retrieve(
        self, provider: ProviderSpec, model: ModelSpec, response: HttpResponse
    ) -> CatalogEntry:
        entry = catalog_entry(load_json_object(response.body, "a model"))
        if entry is None:
            raise ValueError("expected a model object with an `id`")
        return entry

    def check_endpoint(self, provider: ProviderSpec, endpoint: str) -> str | None:
        """What is wrong with a model's `endpoint:` on this provider (None when fine)."""
        if endpoint not in ENDPOINTS:
            return f"`endpoint` is one of: {', '.join(ENDPOINTS)}"
        if endpoint == "responses" and self._responses_url(provider) is None:
            return "this provider's API has no Responses endpoint: remove `endpoint`"
        return None

    def completion_request(
        self, provider: ProviderSpec, model: ModelSpec, max_tokens: int, variant: int = 0
    ) -> HttpRequest:
        if self._on_responses(provider, model, variant):
            return self._responses_request(provider, model, max_tokens, variant, stream=False)
        return HttpRequest(
            method="POST",
            url=self._chat_url(provider, model),
            headers=request_headers(provider, json_body=True),
            json_body=self._chat_body(provider, model, max_tokens, variant),
        )

    def alternative_variant(self, error: ProviderError, variant: int) -> int | None:
        if not variant & ChatVariant.RESPONSES and _says_other_endpoint(error):
            return variant | ChatVariant.RESPONSES
        return alternative_chat_variant(error, variant)

    def parse_completion(
        self, response: HttpResponse, request: HttpRequest | None = None
    ) -> Generation:
        if request is not None and is_responses_request(request):
            return parse_response(response)
        return parse_chat_completion(response)

    def stream_request(
        self, provider: ProviderSpec, model: ModelSpec, max_tokens: int, variant: int = 0
    ) -> HttpRequest:
        if self._on_responses(provider, model, variant):
            return self._responses_request(provider, model, max_tokens, variant, stream=True)
        return HttpRequest(
            method="POST",
            url=self._chat_url(provider, model),
            headers=request_headers(provider, accept=EVENT_STREAM, json_body=True),
            json_body=streamed(self._chat_body(provider, model, max_tokens, variant), variant),
            stream=True,
        )

    def stream_decoder(
        self, request: HttpRequest | None = None
    ) -> ChatStreamDecoder | ResponsesStreamDecoder:
        if request is not None and is_responses_request(request):
            return ResponsesStreamDecoder()
        return ChatStreamDecoder()

    def parse_error(self, response: HttpResponse) -> ProviderError:
        return parse_error_response(response)

    def _chat_url(self, provider: ProviderSpec, model: ModelSpec) -> str:
        return f"{provider.base_url}/chat/completions"

    def _responses_url(self, provider: ProviderSpec) -> str | None:
        """Where the Responses API is; None when this provider's API has none."""
        return f"{provider.base_url}{_RESPONSES_PATH}"

    def _on_responses(self, provider: ProviderSpec, model: ModelSpec, variant: int) -> bool:
        wanted = model.endpoint == "responses" or bool(variant & ChatVariant.RESPONSES)
        return wanted and self._responses_url(provider) is not None

    def _responses_request(
        self,
        provider: ProviderSpec,
        model: ModelSpec,
        max_tokens: int,
        variant: int,
        *,
        stream: bool,
    ) -> HttpRequest:
        url = self._responses_url(provider)
        assert url is not None
        reasoning = accepts_reasoning_effort(model.id) and not (
            variant & ChatVariant.NO_REASONING_EFFORT
        )
        body = responses_body(model.id, max_tokens, reasoning=reasoning, stream=stream)
        accept = EVENT_STREAM if stream else "application/json"
        return HttpRequest(
            method="POST",
            url=url,
            headers=request_headers(provider, accept=accept, json_body=True),
            json_body=body,
            stream=stream,
        )

    def _chat_body(
        self, provider: ProviderSpec, model: ModelSpec, max_tokens: int, variant: int
    ) -> JsonObject:
        on_openai = host_is(provider.base_url, OPENAI_HOST)
        # o-series and gpt-5 refuse `max_tokens` on OpenAI; elsewhere it is the one every
        # compatible server knows.
        default_limit = "max_completion_tokens" if on_openai else "max_tokens"
        body = chat_body(model.id, max_tokens, token_limit_param(default_limit, variant))
        if (
            on_openai
            and accepts_reasoning_effort(model.id)
            and not variant & ChatVariant.NO_REASONING_EFFORT
        ):
            body["reasoning_effort"] = "low"
        return body


# --- requests shared with azure-openai ------------------------------------------------


def host_is(base_url: str, host: str) -> bool:
    hostname = (urlsplit(base_url).hostname or "").lower()
    return hostname == host or hostname.endswith("." + host)


def token_limit_param(default: str, variant: int) -> str:
    if not variant & ChatVariant.SWAP_TOKEN_LIMIT:
        return default
    return _TOKEN_LIMITS[1] if default == _TOKEN_LIMITS[0] else _TOKEN_LIMITS[0]


def accepts_reasoning_effort(model_id: str) -> bool:
    return bool(_REASONING_MODEL.match(model_id)) and not model_id.startswith(_NO_REASONING_EFFORT)


def chat_body(model_id: str | None, max_tokens: int, limit_param: str) -> JsonObject:
    body: JsonObject = {}
    if model_id is not None:
        body["model"] = model_id
    body["messages"] = [{"role": "user", "content": PROBE_PROMPT}]
    body["temperature"] = 0
    body[limit_param] = max_tokens
    return body


def streamed(body: JsonObject, variant: int) -> JsonObject:
    body = {**body, "stream": True}
    if not variant & ChatVariant.NO_STREAM_OPTIONS:
        body["stream_options"] = {"include_usage": True}
    return body


def is_responses_request(request: HttpRequest) -> bool:
    return urlsplit(request.url).path.endswith(_RESPONSES_PATH)


def _says_other_endpoint(error: ProviderError) -> bool:
    message = (error.message or "").lower()
    return any(phrase in message for phrase in _OTHER_ENDPOINT)


def alternative_chat_variant(error: ProviderError, variant: int) -> int | None:
    """The variant that avoids the parameter a 400 refused; None when there is none left."""
    for bit, params in (
        (ChatVariant.NO_REASONING_EFFORT, ("reasoning_effort", "reasoning.effort")),
        (ChatVariant.NO_STREAM_OPTIONS, ("stream_options",)),
        (ChatVariant.SWAP_TOKEN_LIMIT, _TOKEN_LIMITS),
    ):
        if not variant & bit and any(_refuses_param(error, param) for param in params):
            return variant | bit
    return None


def _refuses_param(error: ProviderError, param: str) -> bool:
    if error.param == param:
        return True
    message = (error.message or "").lower()
    # "max_completion_tokens" does not contain "max_tokens", so the names never collide.
    return param in message and any(word in message for word in _REFUSAL_WORDS)


# --- catalog --------------------------------------------------------------------------


def parse_model_list(body: bytes) -> tuple[CatalogEntry, ...]:
    """OpenAI `{"data":[...]}`, Together's bare array, llama.cpp's combined `models` +
    `data` body (the `data` list wins) and a bare Ollama-style `{"models":[...]}`."""
    decoded = load_json(body)
    items: list[object]
    if isinstance(decoded, list):
        items = decoded
    else:
        listing = as_object(decoded)
        if listing is None:
            raise ValueError(f"expected a model list, got {type(decoded).__name__}")
        if isinstance(listing.get("data"), list):
            items = as_list(listing.get("data"))
        elif isinstance(listing.get("models"), list):
            items = as_list(listing.get("models"))
        else:
            raise ValueError("expected a model list with `data` (got an object without it)")
    return tuple(entry for entry in map(catalog_entry, items) if entry is not None)


def catalog_entry(item: object) -> CatalogEntry | None:
    """One model and the lifecycle fields its list carries: OpenAI `shutdown_date`,
    Mistral `deprecation`/`deprecation_replacement_model`/`archived`, Azure
    `lifecycle_status`/`deprecation.inference`, OpenRouter `expiration_date`, Groq
    `active`."""
    model = as_object(item)
    if model is None:
        return None
    model_id = text(model.get("id")) or text(model.get("name")) or text(model.get("model"))
    if model_id is None:
        return None
    deprecation = model.get("deprecation")
    retires = (
        day(model.get("shutdown_date"))
        or day(path(deprecation, "inference"))
        or day(deprecation)
        or day(model.get("expiration_date"))
    )
    replacement = text(model.get("deprecation_replacement_model"))
    canonical = text(model.get("canonical_slug"))
    return CatalogEntry(
        id=model_id,
        retires=retires,
        lifecycle=_lifecycle(model),
        note=f"replacement: {replacement}" if replacement else None,
        aliases=tuple(
            alias
            for alias in map(text, as_list(model.get("aliases")))
            if alias and alias != model_id
        ),
        canonical_id=canonical if canonical != model_id else None,
        weights_id=_weights_repository(model),
        owned_by=text(model.get("owned_by")),
        created=integer(model.get("created")),
        generates_text=generates_text(model),
    )


_REPOSITORY = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
# Values of a list's `type` / `mode` field (Together, LM Studio, LiteLLM): models that answer
# a chat or completion request, and models that do not. Other values say nothing.
_TEXT_KINDS = frozenset({"chat", "language", "code", "llm", "vlm", "completion", "responses"})
_OTHER_KINDS = frozenset(
    {
        "embedding",
        "embeddings",
        "image",
        "image_generation",
        "audio",
        "audio_transcription",
        "audio_speech",
        "transcribe",
        "moderation",
        "rerank",
        "video_generation",
    }
)


def _weights_repository(model: JsonObject) -> str | None:
    """OpenRouter's `hugging_face_id`, or vLLM's/SGLang's `root` when it names a
    repository (`Qwen/Qwen3-8B`), not a directory on the server (`/models/qwen`)."""
    named = text(model.get("hugging_face_id"))
    if named:
        return named
    root = text(model.get("root"))
    return root if root and _REPOSITORY.fullmatch(root) else None


def generates_text(model: JsonObject) -> bool | None:
    """What the entry says about generating text: Mistral/Azure `capabilities`, OpenRouter
    `architecture.output_modalities`, a `type` or LiteLLM `mode`; None when it says nothing."""
    capabilities = as_object(model.get("capabilities"))
    if capabilities is not None:
        for flag in ("completion_chat", "chat_completion", "completion"):
            if isinstance(capabilities.get(flag), bool):
                return bool(capabilities[flag])
    outputs = path(model, "architecture", "output_modalities")
    if isinstance(outputs, list):
        return "text" in outputs
    for field in ("type", "mode"):
        kind = (text(model.get(field)) or "").lower()
        if kind in _TEXT_KINDS or kind in _OTHER_KINDS:
            return kind in _TEXT_KINDS
    return None


def _lifecycle(model: JsonObject) -> str | None:
    if model.get("archived") is True:
        return "archived"
    if model.get("active") is False:
        return "inactive"
    status = text(model.get("lifecycle_status"))
    if status:
        return status
    if text(model.get("deprecation")):
        return "deprecated"
    return None


# --- generation -----------------------------------------------------------------------


def parse_chat_completion(response: HttpResponse) -> Generation:
    body = load_json_object(response.body, "a chat completion")
    error = inband_error(body)
    if error is not None:
        return Generation(served_model=text(body.get("model")), error=error)
    choices = as_list(body.get("choices"))
    if not choices:
        raise ValueError("a chat completion without choices")
    choice = as_object(choices[0]) or {}
    message = as_object(choice.get("message")) or {}
    finish_reason = text(choice.get("finish_reason"))
    return Generation(
        served_model=text(body.get("model")),
        system_fingerprint=text(body.get("system_fingerprint")),
        finish_reason=finish_reason,
        output_tokens=integer(path(body, "usage", "completion_tokens")),
        text_chars=content_chars(message.get("content")) + reasoning_chars(message),
        filtered=finish_reason == "content_filter",
    )


def content_chars(content: object) -> int:
    """A string, or a list of parts (`{"type":"text","text":...}`, Mistral's nested
    `{"type":"thinking","thinking":[...]}`)."""
    if isinstance(content, str):
        return len(content)
    total = 0
    for item in as_list(content):
        part = as_object(item) or {}
        total += len(text(part.get("text")) or "") + content_chars(part.get("thinking"))
    return total


def reasoning_chars(message: JsonObject) -> int:
    """DeepSeek/vLLM `reasoning_content`, OpenRouter/newer vLLM `reasoning`."""
    return len(text(message.get("reasoning_content")) or "") + len(
        text(message.get("reasoning")) or ""
    )


class ChatStreamDecoder(FramedDecoder[SseEvent]):
    """`data: {chunk}` events ending in `data: [DONE]`. Not tokens: the role-only first
    chunk, Azure's `prompt_filter_results` chunk with `choices: []`, the usage-only chunk."""

    def __init__(self) -> None:
        super().__init__(SseDecoder())
        self._finish_reason: str | None = None
        self._output_tokens: int | None = None
        self._served_model: str | None = None
        self._fingerprint: str | None = None

    def _frame(self, event: SseEvent) -> list[StreamEvent]:
        data = event.data.strip()
        if data == "[DONE]":
            self._done = True
            return [
                StreamEnd(
                    finish_reason=self._finish_reason,
                    output_tokens=self._output_tokens,
                    filtered=self._finish_reason == "content_filter",
                )
            ]
        chunk, failure = decode_event_json(event)
        if failure is not None:
            return [failure]
        assert chunk is not None
        tokens = integer(path(chunk, "usage", "completion_tokens"))
        if tokens is not None:
            self._output_tokens = tokens
        return self._meta(chunk) + self._choices(chunk)

    def _meta(self, chunk: JsonObject) -> list[StreamEvent]:
        model = text(chunk.get("model"))
        fingerprint = text(chunk.get("system_fingerprint"))
        new_model = model is not None and self._served_model is None
        new_fingerprint = fingerprint is not None and self._fingerprint is None
        if not (new_model or new_fingerprint):
            return []
        self._served_model = self._served_model or model
        self._fingerprint = self._fingerprint or fingerprint
        return [StreamMeta(served_model=self._served_model, system_fingerprint=self._fingerprint)]

    def _choices(self, chunk: JsonObject) -> list[StreamEvent]:
        tokens: list[StreamEvent] = []
        for item in as_list(chunk.get("choices")):
            choice = as_object(item) or {}
            self._finish_reason = text(choice.get("finish_reason")) or self._finish_reason
            delta = as_object(choice.get("delta")) or {}
            reasoning = reasoning_chars(delta)
            if reasoning:
                tokens.append(StreamToken(chars=reasoning, reasoning=True))
            content = content_chars(delta.get("content"))
            if content:
                tokens.append(StreamToken(chars=content))
        return tokens
