"""The Gemini API (generativelanguage.googleapis.com).

As in google-genai, `base_url` is the host root and the path version comes from
`api_version` (`v1beta` by default): `/v1beta/models`, `/v1beta/models/{m}:generateContent`.
The key travels in `x-goog-api-key`, never as `?key=` in a URL that could be logged.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urlsplit

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
    first_object,
    integer,
    load_json_object,
    path,
    text,
)
from modelaudit.families.framing import FramedDecoder
from modelaudit.families.headers import EVENT_STREAM, request_headers
from modelaudit.families.sse import SseDecoder, SseEvent

if TYPE_CHECKING:
    from modelaudit.registry.schema import ModelSpec, ProviderSpec

_PAGE_SIZE = 1000
_MODELS_PREFIX = "models/"
_VERSION = re.compile(r"v\d+(?:alpha|beta)?\d*")
_VERSION_IN_PATH = re.compile(r"/v\d+(?:alpha|beta)?\d*(?:/|$)")
# "...was deprecated on July 12, 2024. Move to a newer Gemini version."
_DEPRECATED_ON = re.compile(
    r"\bdeprecated (?:on|as of) ([A-Z][a-z]+ \d{1,2},? \d{4}|\d{4}-\d{2}-\d{2})"
)
_DEPRECATED = re.compile(r"\b(?:was|is|has been) deprecated\b", re.IGNORECASE)
# Candidate finish reasons that mean a safety system stopped the answer.
_FILTER_FINISH = frozenset(
    {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY"}
)


class GeminiFamily(Family):
    name = "gemini"
    default_api_version = "v1beta"

    def check_base_url(self, base_url: str) -> str | None:
        if _VERSION_IN_PATH.search(urlsplit(base_url).path):
            parts = urlsplit(base_url)
            return (
                "base_url is the host root as in google-genai "
                f"(`{parts.scheme}://{parts.netloc}`); the API version goes in `api_version` "
                f"(default {self.default_api_version})"
            )
        return None

    def check_api_version(self, api_version: str | None, base_url: str | None) -> str | None:
        if api_version is not None and not _VERSION.fullmatch(api_version):
            return f"api_version `{api_version}` is not an API version such as v1beta or v1"
        return None

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"x-goog-api-key": key}

    def catalog_request(self, provider: ProviderSpec) -> HttpRequest:
        return self._models_page(provider, page_token=None)

    def parse_catalog(self, provider: ProviderSpec, response: HttpResponse) -> CatalogPage:
        listing = load_json_object(response.body, "a model list")
        items = listing.get("models")
        if items is None and not listing:
            items = []  # an empty last page is `{}`
        if not isinstance(items, list):
            raise ValueError("expected a model list with `models`")
        token = text(listing.get("nextPageToken"))
        return CatalogPage(
            entries=tuple(entry for entry in map(_catalog_entry, items) if entry is not None),
            next_request=self._models_page(provider, page_token=token) if token else None,
        )

    def catalog_id(self, provider: ProviderSpec, model: ModelSpec) -> str:
        return model.id.removeprefix(_MODELS_PREFIX)

    def retrieve_request(self, provider: ProviderSpec, model: ModelSpec) -> HttpRequest:
        """`GET /v1beta/models/{m}`: the model resource, as one entry of the list."""
        model_id = quote(self.catalog_id(provider, model), safe="")
        return HttpRequest(
            method="GET",
            url=f"{provider.base_url}/{self._version(provider)}/models/{model_id}",
            headers=request_headers(provider),
        )

    def parse_retrieve(
        self, provider: ProviderSpec, model: ModelSpec, response: HttpResponse
    ) -> CatalogEntry:
        entry = _catalog_entry(load_json_object(response.body, "a model"))
        if entry is None:
            raise ValueError("expected a model resource with a `name`")
        return entry

    def completion_request(
        self, provider: ProviderSpec, model: ModelSpec, max_tokens: int, variant: int = 0
    ) -> HttpRequest:
        return HttpRequest(
            method="POST",
            url=self._model_url(provider, model, "generateContent"),
            headers=request_headers(provider, json_body=True),
            json_body=generate_body(max_tokens, variant),
        )

    def alternative_variant(self, error: ProviderError, variant: int) -> int | None:
        """Variant 0 turns thinking off (`thinkingBudget: 0`); 2.5 Pro and other models
        that cannot stop thinking refuse it ("Budget 0 is invalid. This model only works in
        thinking mode."), and variant 1 leaves `thinkingConfig` out."""
        message = (error.message or "").lower()
        if variant == 0 and ("thinking" in message or "budget" in message):
            return 1
        return None

    def parse_completion(
        self, response: HttpResponse, request: HttpRequest | None = None
    ) -> Generation:
        body = load_json_object(response.body, "a generateContent reply")
        error = inband_error(body)
        if error is not None:
            return Generation(error=error)
        if "candidates" not in body and "promptFeedback" not in body:
            raise ValueError("expected a generateContent reply with `candidates`")
        candidate = first_object(body.get("candidates")) or {}
        finish_reason = text(candidate.get("finishReason"))
        block_reason = text(path(body, "promptFeedback", "blockReason"))
        return Generation(
            served_model=text(body.get("modelVersion")),
            finish_reason=finish_reason or block_reason,
            output_tokens=_output_tokens(body),
            text_chars=_parts_chars(candidate),
            filtered=block_reason is not None or finish_reason in _FILTER_FINISH,
        )

    def stream_request(
        self, provider: ProviderSpec, model: ModelSpec, max_tokens: int, variant: int = 0
    ) -> HttpRequest:
        # Without alt=sse the reply is one JSON array that arrives whole at the end.
        return HttpRequest(
            method="POST",
            url=self._model_url(provider, model, "streamGenerateContent") + "?alt=sse",
            headers=request_headers(provider, accept=EVENT_STREAM, json_body=True),
            json_body=generate_body(max_tokens, variant),
            stream=True,
        )

    def stream_decoder(self, request: HttpRequest | None = None) -> GenerateStreamDecoder:
        return GenerateStreamDecoder()

    def parse_error(self, response: HttpResponse) -> ProviderError:
        return parse_error_response(response)

    def _version(self, provider: ProviderSpec) -> str:
        return provider.api_version or self.default_api_version or "v1beta"

    def _models_page(self, provider: ProviderSpec, page_token: str | None) -> HttpRequest:
        query: dict[str, str | int] = {"pageSize": _PAGE_SIZE}
        if page_token is not None:
            query["pageToken"] = page_token
        return HttpRequest(
            method="GET",
            url=f"{provider.base_url}/{self._version(provider)}/models?{urlencode(query)}",
            headers=request_headers(provider),
        )

    def _model_url(self, provider: ProviderSpec, model: ModelSpec, method: str) -> str:
        model_id = quote(self.catalog_id(provider, model), safe="")
        return f"{provider.base_url}/{self._version(provider)}/models/{model_id}:{method}"


def generate_body(max_tokens: int, variant: int) -> JsonObject:
    config: JsonObject = {"maxOutputTokens": max_tokens, "temperature": 0}
    if variant == 0:
        config["thinkingConfig"] = {"thinkingBudget": 0}
    return {
        "contents": [{"role": "user", "parts": [{"text": PROBE_PROMPT}]}],
        "generationConfig": config,
    }


def _catalog_entry(item: object) -> CatalogEntry | None:
    model = as_object(item) or {}
    name = text(model.get("name"))
    if name is None:
        return None
    description = text(model.get("description")) or ""
    deprecated = _DEPRECATED.search(description) is not None
    methods = model.get("supportedGenerationMethods")
    return CatalogEntry(
        id=name.removeprefix(_MODELS_PREFIX),
        retires=_deprecation_day(description),
        lifecycle="deprecated" if deprecated else None,
        note=description if deprecated else None,
        generates_text="generateContent" in methods if isinstance(methods, list) else None,
    )


def _deprecation_day(description: str) -> date | None:
    match = _DEPRECATED_ON.search(description)
    if match is None:
        return None
    written = match[1].replace(",", "")
    for layout in ("%B %d %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(written, layout).date()
        except ValueError:
            continue
    return None


def _parts_chars(candidate: JsonObject) -> int:
    """Answer and thought text alike (thought parts carry `thought: true`)."""
    parts = as_list(path(candidate, "content", "parts"))
    return sum(len(text(path(part, "text")) or "") for part in parts)


def _output_tokens(body: JsonObject) -> int | None:
    """Answer plus thinking tokens: both are generated, and both are billed as output."""
    answer = integer(path(body, "usageMetadata", "candidatesTokenCount"))
    thoughts = integer(path(body, "usageMetadata", "thoughtsTokenCount"))
    if answer is None and thoughts is None:
        return None
    return (answer or 0) + (thoughts or 0)


class GenerateStreamDecoder(FramedDecoder[SseEvent]):
    """`:streamGenerateContent?alt=sse`: one `data:` event per chunk and no `[DONE]`; the
    event that carries a `finishReason` (or a prompt-level `blockReason`) is the last."""

    def __init__(self) -> None:
        super().__init__(SseDecoder())
        self._served_model: str | None = None

    def _frame(self, event: SseEvent) -> list[StreamEvent]:
        chunk, failure = decode_event_json(event)
        if failure is not None:
            return [failure]
        assert chunk is not None
        decoded = self._meta(chunk)
        candidate = first_object(chunk.get("candidates")) or {}
        for part in as_list(path(candidate, "content", "parts")):
            chars = len(text(path(part, "text")) or "")
            if chars:
                decoded.append(StreamToken(chars=chars, reasoning=path(part, "thought") is True))
        finish_reason = text(candidate.get("finishReason"))
        block_reason = text(path(chunk, "promptFeedback", "blockReason"))
        if finish_reason or block_reason:
            self._done = True
            decoded.append(
                StreamEnd(
                    finish_reason=finish_reason or block_reason,
                    output_tokens=_output_tokens(chunk),
                    filtered=block_reason is not None or finish_reason in _FILTER_FINISH,
                )
            )
        return decoded

    def _meta(self, chunk: JsonObject) -> list[StreamEvent]:
        model = text(chunk.get("modelVersion"))
        if model is None or self._served_model is not None:
            return []
        self._served_model = model
        return [StreamMeta(served_model=model)]
