"""Tiny decoders for asserting on what the fakes (and real servers) send: SSE events and
NDJSON lines. Deliberately independent of `modelaudit.families`, so a test of a family decoder
and a test of a fake never share a bug."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["SseEvent", "ndjson_lines", "sse_events"]


@dataclass(frozen=True)
class SseEvent:
    event: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


def sse_events(body: bytes | str) -> list[SseEvent]:
    """Split an SSE body into events (LF or CRLF line endings; `:` comment lines skipped)."""
    text = body.decode() if isinstance(body, bytes) else body
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    events: list[SseEvent] = []
    for block in text.split("\n\n"):
        name: str | None = None
        data: list[str] = []
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        if data or name is not None:
            events.append(SseEvent(name, "\n".join(data)))
    return events


def ndjson_lines(body: bytes | str) -> list[Any]:
    text = body.decode() if isinstance(body, bytes) else body
    return [json.loads(line) for line in text.splitlines() if line.strip()]
