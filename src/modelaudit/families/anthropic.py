"""The Anthropic Messages API (also spoken by LiteLLM, llama.cpp and DeepSeek's
`/anthropic` surface).

As in the Anthropic SDK, `base_url` is the host root (`https://api.anthropic.com`) and
the family adds `/v1/messages` and `/v1/models`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

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
    as_object,
    integer,
    load_json_object,
    path,
    text,
)
from modelaudit.families.framing import FramedDecoder
from modelaudit.families.headers import EVENT_STREAM, JSON, request_headers
from modelaudit.families.sse import SseDecoder, SseEvent

if TYPE_CHECKING:
    from modelaudit.registry.schema import ModelSpec, ProviderSpec

ANTHROPIC_VERSION = "2023-06-01"
_PAGE_SIZE = 1000
_REFUSAL = "refusal"


class AnthropicFamily(Family):
    name = "anthropic"

    def check_api_version(self, api_version: str | None, base_url: str | None) -> str | None:
        if api_version is not None:
            return (
                "`api_version` has no meaning for api `anthropic` (the anthropic-version "
                "header is fixed at 2023-06-01; override it under `headers` if you must): "
                "remove it"
            )
        return None

    def check_base_url(self, base_url: str) -> str | None:
        base_url = base_url.rstrip("/")  # the registry strips it; direct callers may not
        if base_url.endswith("/v1"):
            return (
                "base_url must not end in /v1: like the Anthropic SDK, modelaudit adds "
                f"/v1/messages and /v1/models, so write `{base_url.removesuffix('/v1')}`"
            )
        return None

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"x-api-key": key}

    def catalog_request(self, provider: ProviderSpec) -> HttpRequest:
        return self._models_page(provider, after_id=None)

    def parse_catalog(self, provider: ProviderSpec, response: HttpResponse) -> CatalogPage:
        listing = load_json_object(response.body, "a model list")
        items = listing.get("data")
        if not isinstance(items, list):
            raise ValueError("expected a model list with `data`")
        entries = tuple(
            CatalogEntry(id=model_id)
            for model_id in (text(path(item, "id")) for item in items)
            if model_id is not None
        )
        last_id = text(listing.get("last_id"))
        has_more = listing.get("has_more") is True and last_id is not None
        next_request = self._models_page(provider, after_id=last_id) if has_more else None
        return CatalogPage(entries=entries, next_request=next_request)

    def retrieve_request(self, provider: ProviderSpec, model: ModelSpec) -> HttpRequest:
        """`GET /v1/models/{id}`, which also resolves an alias (`claude-sonnet-4-5`) that the
        list leaves out to the dated model it points at."""
        return HttpRequest(
            method="GET",
            url=f"{provider.base_url}/v1/models/{quote(model.id, safe='')}",
            headers=self._headers(provider),
        )

    def parse_retrieve(
        self, provider: ProviderSpec, model: ModelSpec, response: HttpResponse
    ) -> CatalogEntry:
        found = load_json_object(response.body, "a model")
        model_id = text(found.get("id"))
        if model_id is None or found.get("type", "model") != "model":
            raise ValueError("expected a model object with an `id`")
        return CatalogEntry(id=model_id)

    def completion_request(
        self, provider: ProviderSpec, model: ModelSpec, max_tokens: int, variant: int = 0
    ) -> HttpRequest:
        return HttpRequest(
            method="POST",
            url=f"{provider.base_url}/v1/messages",
            headers=self._headers(provider, json_body=True),
            json_body=messages_body(model.id, max_tokens),
        )

    def parse_completion(
        self, response: HttpResponse, request: HttpRequest | None = None
    ) -> Generation:
        body = load_json_object(response.body, "a message")
        error = inband_error(body)
        if error is not None:
            return Generation(error=error)
        content = body.get("content")
        if body.get("type") != "message" or not isinstance(content, list):
            raise ValueError("expected a message with `content` blocks")
        stop_reason = text(body.get("stop_reason"))
        return Generation(
            served_model=text(body.get("model")),
            finish_reason=stop_reason,
            output_tokens=integer(path(body, "usage", "output_tokens")),
            text_chars=sum(_block_chars(block) for block in content),
            filtered=stop_reason == _REFUSAL,
        )

    def stream_request(
        self, provider: ProviderSpec, model: ModelSpec, max_tokens: int, variant: int = 0
    ) -> HttpRequest:
        return HttpRequest(
            method="POST",
            url=f"{provider.base_url}/v1/messages",
            headers=self._headers(provider, json_body=True, stream=True),
            json_body={**messages_body(model.id, max_tokens), "stream": True},
            stream=True,
        )

    def stream_decoder(self, request: HttpRequest | None = None) -> MessagesStreamDecoder:
        return MessagesStreamDecoder()

    def parse_error(self, response: HttpResponse) -> ProviderError:
        return parse_error_response(response)

    def _models_page(self, provider: ProviderSpec, after_id: str | None) -> HttpRequest:
        query: dict[str, str | int] = {"limit": _PAGE_SIZE}
        if after_id is not None:
            query["after_id"] = after_id
        return HttpRequest(
            method="GET",
            url=f"{provider.base_url}/v1/models?{urlencode(query)}",
            headers=self._headers(provider),
        )

    def _headers(
        self, provider: ProviderSpec, *, json_body: bool = False, stream: bool = False
    ) -> dict[str, str]:
        return request_headers(
            provider,
            accept=EVENT_STREAM if stream else JSON,
            json_body=json_body,
            fixed={"anthropic-version": ANTHROPIC_VERSION},
        )


def messages_body(model_id: str, max_tokens: int) -> JsonObject:
    return {
        "model": model_id,
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": PROBE_PROMPT}],
        "temperature": 0,
    }


def _block_chars(block: object) -> int:
    content = as_object(block) or {}
    return len(text(content.get("text")) or "") + len(text(content.get("thinking")) or "")


class MessagesStreamDecoder(FramedDecoder[SseEvent]):
    """`message_start`, `content_block_*`, `ping`, `message_delta`, `message_stop`; an
    `event: error` may arrive after the 200. There is no `[DONE]`: `message_stop` ends it."""

    def __init__(self) -> None:
        super().__init__(SseDecoder())
        self._stop_reason: str | None = None
        self._output_tokens: int | None = None

    def _frame(self, event: SseEvent) -> list[StreamEvent]:
        payload, failure = decode_event_json(event)
        if failure is not None:
            return [failure]
        assert payload is not None
        kind = text(payload.get("type")) or event.event
        if kind == "message_start":
            return self._message_start(as_object(payload.get("message")) or {})
        if kind == "content_block_delta":
            return _delta_tokens(as_object(payload.get("delta")) or {})
        if kind == "message_delta":
            self._stop_reason = text(path(payload, "delta", "stop_reason")) or self._stop_reason
            self._count(path(payload, "usage", "output_tokens"))
            return []
        if kind == "message_stop":
            self._done = True
            return [
                StreamEnd(
                    finish_reason=self._stop_reason,
                    output_tokens=self._output_tokens,
                    filtered=self._stop_reason == _REFUSAL,
                )
            ]
        return []  # ping, content_block_start/stop and event types added later

    def _message_start(self, message: JsonObject) -> list[StreamEvent]:
        self._count(path(message, "usage", "output_tokens"))
        model = text(message.get("model"))
        return [StreamMeta(served_model=model)] if model else []

    def _count(self, value: object) -> None:
        tokens = integer(value)
        if tokens is not None:
            self._output_tokens = tokens


def _delta_tokens(delta: JsonObject) -> list[StreamEvent]:
    answer = len(text(delta.get("text")) or "")
    thinking = len(text(delta.get("thinking")) or "")
    if thinking:
        return [StreamToken(chars=thinking, reasoning=True)]
    return [StreamToken(chars=answer)] if answer else []
