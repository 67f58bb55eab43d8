"""SSE events whose data is JSON (every SSE family): the chunk, or the failure it is."""

from __future__ import annotations

from modelaudit.families.base import ProviderError, StreamFailure
from modelaudit.families.envelopes import inband_error
from modelaudit.families.fields import JsonObject, as_object, load_json
from modelaudit.families.sse import SseEvent
from modelaudit.redact import redacted_excerpt


def decode_event_json(event: SseEvent) -> tuple[JsonObject | None, StreamFailure | None]:
    """An SSE event's data as a JSON object, or the StreamFailure it amounts to: an
    in-band error (`data: {"error":...}`, `event: error`) or data that is not JSON."""
    try:
        decoded = load_json(event.data)
    except ValueError:
        return None, StreamFailure(
            malformed=f"event data is not JSON: {redacted_excerpt(event.data, 80)!r}"
        )
    error = inband_error(decoded)
    if error is None and event.event == "error":
        error = inband_error({"error": decoded}) or ProviderError()
    if error is not None:
        return None, StreamFailure(error=error)
    chunk = as_object(decoded)
    if chunk is None:
        return None, StreamFailure(
            malformed=f"event data is not a JSON object: {redacted_excerpt(event.data, 80)!r}"
        )
    return chunk, None
