"""Ollama's native API (`/api/tags`, `/api/chat`), streamed as NDJSON.

`base_url` is the host root (`http://localhost:11434`). Ollama's OpenAI-compatible surface
under `/v1` is the `openai` family's business.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    StreamFailure,
    StreamMeta,
    StreamToken,
)
from modelaudit.families.envelopes import inband_error, parse_error_response
from modelaudit.families.fields import (
    JsonObject,
    as_object,
    integer,
    load_json,
    load_json_object,
    path,
    text,
)
from modelaudit.families.framing import FramedDecoder
from modelaudit.families.headers import NDJSON, request_headers
from modelaudit.families.ndjson import NdjsonDecoder
from modelaudit.redact import redacted_excerpt

if TYPE_CHECKING:
    from modelaudit.registry.schema import ModelSpec, ProviderSpec

_DEFAULT_TAG = ":latest"


class OllamaFamily(Family):
    name = "ollama"

    def check_base_url(self, base_url: str) -> str | None:
        base_url = base_url.rstrip("/")  # the registry strips it; direct callers may not
        if base_url.endswith("/v1"):
            return (
                "base_url ends in /v1, Ollama's OpenAI-compatible surface: to probe that, "
                "write `api: openai`; for the native API keep `api: ollama` and write "
                f"`{base_url.removesuffix('/v1')}`"
            )
        if base_url.endswith("/api"):
            return (
                "base_url is the host root (e.g. http://localhost:11434): modelaudit adds "
                f"/api/tags and /api/chat, so write `{base_url.removesuffix('/api')}`"
            )
        return None

    def auth_headers(self, key: str) -> dict[str, str]:
        # Ollama needs no key; a reverse proxy in front of it may want one.
        return {"Authorization": f"Bearer {key}"}

    def catalog_request(self, provider: ProviderSpec) -> HttpRequest:
        return HttpRequest(
            method="GET", url=f"{provider.base_url}/api/tags", headers=request_headers(provider)
        )

    def parse_catalog(self, provider: ProviderSpec, response: HttpResponse) -> CatalogPage:
        listing = load_json_object(response.body, "the installed-model list")
        items = listing.get("models")
        if not isinstance(items, list):
            raise ValueError("expected the installed-model list with `models`")
        entries = []
        for item in items:
            name = text(path(item, "name")) or text(path(item, "model"))
            if name:
                entries.append(CatalogEntry(id=name, digest=text(path(item, "digest"))))
        return CatalogPage(entries=tuple(entries))

    def catalog_id(self, provider: ProviderSpec, model: ModelSpec) -> str:
        """Ollama lists every model with its tag: `llama3` is installed as `llama3:latest`."""
        return with_tag(model.id)

    def retrieve_request(self, provider: ProviderSpec, model: ModelSpec) -> HttpRequest:
        """`POST /api/show`: resolves names `/api/tags` spells otherwise (a registry host or
        namespace in front); 404 "model 'X' not found" when it is not installed."""
        return HttpRequest(
            method="POST",
            url=f"{provider.base_url}/api/show",
            headers=request_headers(provider, json_body=True),
            json_body={"model": model.id},
        )

    def parse_retrieve(
        self, provider: ProviderSpec, model: ModelSpec, response: HttpResponse
    ) -> CatalogEntry:
        """The answer names no model, so the entry keeps the tagged name asked for."""
        shown = load_json_object(response.body, "a model's details")
        if not {"details", "modelfile", "model_info"} & shown.keys():
            raise ValueError("expected a model's details (`details`, `modelfile`)")
        return CatalogEntry(id=self.catalog_id(provider, model))

    def completion_request(
        self, provider: ProviderSpec, model: ModelSpec, max_tokens: int, variant: int = 0
    ) -> HttpRequest:
        return HttpRequest(
            method="POST",
            url=f"{provider.base_url}/api/chat",
            headers=request_headers(provider, json_body=True),
            json_body=_chat_body(model.id, max_tokens, stream=False),
        )

    def parse_completion(
        self, response: HttpResponse, request: HttpRequest | None = None
    ) -> Generation:
        body = load_json_object(response.body, "a chat reply")
        error = inband_error(body)
        if error is not None:
            return Generation(error=error)
        message = as_object(body.get("message"))
        if message is None:
            raise ValueError("expected a chat reply with `message`")
        return Generation(
            served_model=text(body.get("model")),
            finish_reason=text(body.get("done_reason")),
            output_tokens=integer(body.get("eval_count")),
            text_chars=_message_chars(message),
        )

    def stream_request(
        self, provider: ProviderSpec, model: ModelSpec, max_tokens: int, variant: int = 0
    ) -> HttpRequest:
        return HttpRequest(
            method="POST",
            url=f"{provider.base_url}/api/chat",
            headers=request_headers(provider, accept=NDJSON, json_body=True),
            json_body=_chat_body(model.id, max_tokens, stream=True),
            stream=True,
        )

    def stream_decoder(self, request: HttpRequest | None = None) -> ChatLinesDecoder:
        return ChatLinesDecoder()

    def parse_error(self, response: HttpResponse) -> ProviderError:
        return parse_error_response(response)


def with_tag(model_id: str) -> str:
    name = model_id.rsplit("/", 1)[-1]
    return model_id if ":" in name else model_id + _DEFAULT_TAG


def _chat_body(model_id: str, max_tokens: int, *, stream: bool) -> JsonObject:
    return {
        "model": model_id,
        "messages": [{"role": "user", "content": PROBE_PROMPT}],
        "stream": stream,
        "options": {"num_predict": max_tokens, "temperature": 0},
    }


def _message_chars(message: JsonObject) -> int:
    return len(text(message.get("content")) or "") + len(text(message.get("thinking")) or "")


class ChatLinesDecoder(FramedDecoder[str]):
    """NDJSON: `done: false` lines with `message.content` / `message.thinking`, then a
    `done: true` line with `done_reason` and `eval_count`; a `{"error": ...}` line reports a
    failure after the 200."""

    def __init__(self) -> None:
        super().__init__(NdjsonDecoder())
        self._served_model: str | None = None

    def _frame(self, line: str) -> list[StreamEvent]:
        try:
            chunk = as_object(load_json(line))
        except ValueError:
            chunk = None
        if chunk is None:
            return [
                StreamFailure(
                    malformed=f"line is not a JSON object: {redacted_excerpt(line, 80)!r}"
                )
            ]
        error = inband_error(chunk)
        if error is not None:
            return [StreamFailure(error=error)]
        decoded = self._meta(chunk)
        message = as_object(chunk.get("message")) or {}
        thinking = len(text(message.get("thinking")) or "")
        if thinking:
            decoded.append(StreamToken(chars=thinking, reasoning=True))
        answer = len(text(message.get("content")) or "") + len(text(chunk.get("response")) or "")
        if answer:
            decoded.append(StreamToken(chars=answer))
        if chunk.get("done") is True:
            self._done = True
            decoded.append(
                StreamEnd(
                    finish_reason=text(chunk.get("done_reason")),
                    output_tokens=integer(chunk.get("eval_count")),
                )
            )
        return decoded

    def _meta(self, chunk: JsonObject) -> list[StreamEvent]:
        model = text(chunk.get("model"))
        if model is None or self._served_model is not None:
            return []
        self._served_model = model
        return [StreamMeta(served_model=model)]
