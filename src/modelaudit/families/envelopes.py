"""Reading providers' error envelopes into a `ProviderError`.

One reader serves every family: an OpenAI-compatible base URL may front vLLM, LiteLLM,
Mistral or Zhipu, so each family must understand every shape anyway. Shapes handled
(reference section 5.1): OpenAI-style `{"error":{message,type,param,code}}` with string or
numeric codes, Azure `{"error":{code,message,innererror}}`, Anthropic
`{"type":"error","error":{type,message}}` and its edge `{"error":{"type":"forbidden"}}`,
Gemini `{"error":{code,message,status,details[]}}` (also wrapped in `[...]`), Mistral flat
and `{"detail":...}`, OpenRouter int codes with `metadata.raw`, Zhipu numeric-string codes,
vLLM new and flat, llama.cpp, Ollama `{"error":"..."}`, TGI `error_type`, Bedrock
`{"message"}` + `x-amzn-errortype`, and plain-text or HTML bodies (message only).

Nothing here raises: a body we cannot read still yields a `ProviderError` (maybe empty),
because the status alone still classifies the failure.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from modelaudit.families.base import BodyForm, HttpResponse, ProviderError
from modelaudit.families.fields import (
    JsonObject,
    as_list,
    as_object,
    code_text,
    first_object,
    integer,
    load_json,
    path,
    text,
)
from modelaudit.redact import redact

MAX_MESSAGE_CHARS = 500
MAX_TEXT_BODY_BYTES = 64 * 1024
"""Of an error body that is not JSON (an HTML page), only the start is read for a message:
what a person needs is in its title or first lines, and patterns over megabytes of markup
would cost seconds."""
_WINDOW = MAX_MESSAGE_CHARS + 8192
"""A message is cut to this before it is cleaned: longer than any key, so a key the cut
would halve is still whole when `redact` sees it."""
MAX_HINT_S = 366 * 86400.0
"""A retry hint beyond a year is not a hint (nor is NaN or infinity): it is dropped."""

_WHITESPACE = re.compile(r"\s+")
# Tags are found in linear time whatever the page: a pattern such as `<title>(.*?)</title>`
# rescans the rest of the page from every `<title` that is never closed.
_HTML_TAG = re.compile(r"<[^<>]*>")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_SKIPPED_BLOCKS = ("script", "style")
_PROTOBUF_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
# Go-style durations after "try again in" (OpenAI, Groq: 1.2s, 120ms, 6m0s) or
# "retry in" (Gemini: 26.660853464s).
_GO_DURATION_HINT = re.compile(
    r"(?:try again|retry) in ((?:\d+(?:\.\d+)?(?:ms|h|m|s))+)(?![a-z])", re.IGNORECASE
)
_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
# Whole words after "try again in" or "retry after" (Azure: "Try again in 20 seconds",
# "Please retry after 86400 seconds").
_SECONDS_HINT = re.compile(
    r"(?:try again|retry) (?:in|after) (\d+(?:\.\d+)?) ?sec(?:ond)?s?\b", re.IGNORECASE
)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_error_response(response: HttpResponse) -> ProviderError:
    """The provider's own account of a failed response (never raises). Headers other than
    Bedrock's error type are read by the classifier, which has the clock."""
    try:
        found = _from_body(response.body, response.headers)
    except (ValueError, TypeError, RecursionError):  # pragma: no cover - never expected
        found = ProviderError()
    return _with_message_hints(found, response.headers)


def inband_error(value: object) -> ProviderError | None:
    """An error object carried where a reply or a stream chunk was expected (inside a 200):
    `{"error": {...}}`, `{"error": "..."}`, `{"type":"error",...}` or `{"object":"error"}`."""
    body = as_object(value)
    if body is None:
        return None
    inner = body.get("error")
    if (isinstance(inner, dict) and inner) or text(inner):
        return error_from_payload(body)
    if body.get("object") == "error" or body.get("type") == "error":
        return error_from_payload(body)
    return None


def error_from_payload(value: object) -> ProviderError | None:
    """Read any known error envelope from decoded JSON; None when it holds no error."""
    if isinstance(value, list):
        # Gemini without `alt=sse` wraps the whole reply, errors included, in an array.
        return error_from_payload(value[0]) if value else None
    body = as_object(value)
    if body is None:
        return None
    inner = body.get("error")
    if isinstance(inner, dict):
        return _nested(inner, body)
    if text(inner):
        return _string_error(body)
    if body.get("object") == "error" or (
        text(body.get("message")) and ("type" in body or "code" in body)
    ):
        return _flat(body)
    return _loose(body)


def clean_message(value: str | None) -> str | None:
    """One line, secrets masked, at most MAX_MESSAGE_CHARS."""
    if not value:
        return None
    line = redact(_WHITESPACE.sub(" ", value[:_WINDOW]).strip())
    if len(line) > MAX_MESSAGE_CHARS:
        line = line[: MAX_MESSAGE_CHARS - 1].rstrip() + "…"
    return line or None


def retry_after_from_message(message: str | None) -> float | None:
    """ "Please try again in 1.2s" (Go durations: OpenAI, Groq), "retry in 26.6s" (Gemini),
    "Try again in 20 seconds", "Please retry after 60 seconds" (Azure)."""
    if not message:
        return None
    match = _GO_DURATION_HINT.search(message)
    if match:
        return _finite_seconds(_go_duration(match[1]))
    match = _SECONDS_HINT.search(message)
    return _finite_seconds(float(match[1])) if match else None


# --- shapes ---------------------------------------------------------------------------


def _from_body(body: bytes, headers: Mapping[str, str]) -> ProviderError:
    if not body.strip():
        return ProviderError(form="empty")
    try:
        decoded = load_json(body)
    except ValueError:
        form: BodyForm = "html" if _is_html(body, headers) else "text"
        return ProviderError(message=_text_body_message(body, headers), form=form)
    found = error_from_payload(decoded)
    if found is None:
        message = clean_message(json.dumps(decoded, ensure_ascii=False))
        return ProviderError(message=message, form="json")
    return found


def _nested(inner: JsonObject, outer: JsonObject) -> ProviderError:
    raw_code = inner.get("code")
    google = _google_details(inner.get("details"))
    message = text(inner.get("message")) or text(outer.get("message"))
    return ProviderError(
        # Gemini names its canonical code in `status` ("NOT_FOUND") and has no `type`.
        type=text(inner.get("type")) or text(inner.get("status")) or text(outer.get("type")),
        code=google.reason or code_text(raw_code) or code_text(path(inner, "innererror", "code")),
        message=clean_message(_with_upstream(message, inner.get("metadata"))),
        retry_after_s=google.retry_after_s,
        status=_http_status(raw_code),
        param=text(inner.get("param")),
        quota_ids=google.quota_ids,
        quota_values=google.quota_values,
        reported_headers=_reported_headers(path(inner, "metadata", "headers")),
    )


def _flat(body: JsonObject) -> ProviderError:
    raw_code = body.get("code")
    return ProviderError(
        type=text(body.get("type")),
        code=code_text(raw_code),
        message=clean_message(text(body.get("message"))),
        status=_http_status(raw_code),
        param=text(body.get("param")),
    )


def _string_error(body: JsonObject) -> ProviderError:
    # Ollama {"error": "..."}; TGI adds "error_type": "overloaded" | "validation" | ...;
    # Hugging Face's serverless API a loading model's "estimated_time" (seconds).
    return ProviderError(
        type=text(body.get("error_type")),
        message=clean_message(text(body.get("error"))),
        retry_after_s=_finite_seconds(body.get("estimated_time")),
    )


def _loose(body: JsonObject) -> ProviderError | None:
    detail = body.get("detail")
    if text(detail):  # FastAPI {"detail": ...}; RFC 9457 problem details (NVIDIA, Cloudflare)
        return ProviderError(
            message=clean_message(text(detail)), status=_http_status(body.get("status"))
        )
    first_detail = first_object(detail)  # FastAPI validation errors: [{"msg": ...}]
    if first_detail is not None:
        return ProviderError(message=clean_message(text(first_detail.get("msg"))))
    if text(body.get("message")):
        # Bedrock {"message"}; some gateways add a machine-readable "reason".
        return ProviderError(
            code=text(body.get("reason")), message=clean_message(text(body.get("message")))
        )
    first = first_object(body.get("errors"))
    if first is not None:
        return ProviderError(
            code=code_text(first.get("code")),
            message=clean_message(text(first.get("message"))),
        )
    return None


@dataclass(frozen=True)
class _GoogleDetails:
    reason: str | None = None
    retry_after_s: float | None = None
    quota_ids: tuple[str, ...] = ()
    quota_values: tuple[str, ...] = ()


def _google_details(details: object) -> _GoogleDetails:
    """`ErrorInfo.reason` (API_KEY_INVALID), `RetryInfo.retryDelay` ("26s") and the
    `QuotaFailure` violations (which limits, and their values)."""
    reason: str | None = None
    retry: float | None = None
    quota_ids: list[str] = []
    quota_values: list[str] = []
    for item in as_list(details):
        detail = as_object(item) or {}
        kind = text(detail.get("@type")) or ""
        if kind.endswith("google.rpc.ErrorInfo"):
            reason = reason or text(detail.get("reason"))
        elif kind.endswith("google.rpc.RetryInfo"):
            retry = _protobuf_duration(detail.get("retryDelay"))
        elif kind.endswith("google.rpc.QuotaFailure"):
            for violation in as_list(detail.get("violations")):
                found = as_object(violation) or {}
                quota_id = text(found.get("quotaId"))
                value = code_text(found.get("quotaValue"))
                if quota_id:
                    quota_ids.append(quota_id)
                if value:
                    quota_values.append(value)
    return _GoogleDetails(reason, retry, tuple(quota_ids), tuple(quota_values))


def _reported_headers(value: object) -> tuple[tuple[str, str], ...]:
    found = as_object(value) or {}
    return tuple(
        sorted((name.lower(), str(v)) for name, v in found.items() if isinstance(v, str | int))
    )


def _with_upstream(message: str | None, metadata: object) -> str | None:
    """OpenRouter's "Provider returned error" says what failed only in `metadata.raw`."""
    raw = path(metadata, "raw")
    if raw is None:
        return message
    raw_text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
    provider = text(path(metadata, "provider_name"))
    prefix = f"{message or 'upstream error'}" + (f" ({provider})" if provider else "")
    return f"{prefix}: {raw_text}"


def _is_html(body: bytes, headers: Mapping[str, str]) -> bool:
    start = body[:64].lstrip().lower()
    return "html" in headers.get("content-type", "") or start.startswith((b"<!doctype", b"<html"))


def _text_body_message(body: bytes, headers: Mapping[str, str]) -> str | None:
    decoded = body[:MAX_TEXT_BODY_BYTES].decode("utf-8", errors="replace").strip()
    if not decoded:
        return None
    content_type = headers.get("content-type", "")
    if "html" in content_type or decoded.startswith("<"):
        import html  # its entity table costs ~3 ms to import; a page body is the rare case

        lowered = decoded.translate(_ASCII_LOWER)  # the same length, so the same positions
        title = _title(decoded, lowered)
        if title is not None:
            return clean_message(html.unescape(title))
        stripped = _HTML_TAG.sub(" ", _without_blocks(decoded, lowered))
        return clean_message(html.unescape(stripped))
    return clean_message(decoded)


def _title(text: str, lowered: str) -> str | None:
    """What the first `<title ...>` holds, up to its `</title>`; None without one."""
    start = lowered.find("<title")
    opened = lowered.find(">", start) if start >= 0 else -1
    closed = lowered.find("</title>", opened) if opened >= 0 else -1
    return text[opened + 1 : closed] if closed >= 0 else None


def _without_blocks(text: str, lowered: str) -> str:
    """`text` without its `<script>` and `<style>` blocks (an unclosed one runs to the end).
    Each tag's next position is searched for once per block found: linear in the page."""
    kept: list[str] = []
    at = 0
    next_at = {tag: lowered.find(f"<{tag}", 0) for tag in _SKIPPED_BLOCKS}
    while True:
        for tag, found in next_at.items():
            if 0 <= found < at:
                next_at[tag] = lowered.find(f"<{tag}", at)
        open_tags = [(found, tag) for tag, found in next_at.items() if found >= 0]
        if not open_tags:
            kept.append(text[at:])
            return " ".join(kept)
        start, tag = min(open_tags)
        kept.append(text[at:start])
        end = lowered.find(f"</{tag}", start)
        close = lowered.find(">", end) if end >= 0 else -1
        if close < 0:
            return " ".join(kept)
        at = close + 1


def _with_message_hints(found: ProviderError, headers: Mapping[str, str]) -> ProviderError:
    """A retry hint only the message carries, and Bedrock's exception name (a header)."""
    error_type = found.type
    if error_type is None and headers.get("x-amzn-errortype"):
        # Bedrock names the exception in a header, followed by a colon and a URL.
        error_type = headers["x-amzn-errortype"].split(":", 1)[0] or None
    return replace(
        found,
        type=error_type,
        retry_after_s=found.retry_after_s or retry_after_from_message(found.message),
    )


# --- small parsers --------------------------------------------------------------------


def _http_status(raw_code: object) -> int | None:
    """A code that is an HTTP status (429, "429"); Zhipu's "1211" and Mistral's "1500" are
    not."""
    if isinstance(raw_code, str) and len(raw_code.strip()) != 3:
        return None
    value = integer(raw_code)
    return value if value is not None and 100 <= value <= 599 else None


def _protobuf_duration(value: object) -> float | None:
    match = _PROTOBUF_DURATION.match(value) if isinstance(value, str) else None
    return _finite_seconds(float(match[1])) if match else None


def _go_duration(value: str) -> float:
    return sum(
        float(number) * _UNIT_SECONDS[unit] for number, unit in _GO_DURATION_PART.findall(value)
    )


def _finite_seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and 0 <= value <= MAX_HINT_S else None
