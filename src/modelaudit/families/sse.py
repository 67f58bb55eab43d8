"""An incremental Server-Sent Events decoder (the WHATWG `text/event-stream` rules).

Bytes arrive in arbitrary pieces: a split may fall inside a line, between `\\r` and `\\n`,
or inside a multi-byte UTF-8 character. The decoder keeps what it cannot finish yet and
emits each event once its blank line arrives. Comment lines (`: OPENROUTER PROCESSING`)
are keep-alives and are skipped; `id:` and `retry:` carry nothing a probe needs.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_END_OF_LINE = re.compile(r"\r\n|\r|\n")
_BOM = "\ufeff"


@dataclass(frozen=True)
class SseEvent:
    event: str
    """The `event:` field, or `message` when the server named none."""
    data: str
    """The `data:` lines joined with newlines."""


class SseDecoder:
    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial_line = ""
        self._skip_line_feed = False
        self._at_start = True
        self._event = ""
        self._data: list[str] = []

    def feed(self, data: bytes) -> list[SseEvent]:
        return self._feed_text(self._utf8.decode(data))

    def close(self) -> list[SseEvent]:
        """The body ended. An event not closed by a blank line is still delivered: several
        servers end the body right after the last `data:` line."""
        events = self._feed_text(self._utf8.decode(b"", final=True))
        if self._partial_line:
            events.extend(self._line(self._partial_line))
            self._partial_line = ""
        events.extend(self._dispatch())
        return events

    def _feed_text(self, chunk: str) -> list[SseEvent]:
        if not chunk:
            return []
        if self._at_start:
            self._at_start = False
            chunk = chunk.removeprefix(_BOM)
        if self._skip_line_feed:
            # The previous piece ended in "\r": a "\n" now is the same line ending.
            self._skip_line_feed = False
            chunk = chunk.removeprefix("\n")
        text = self._partial_line + chunk
        events: list[SseEvent] = []
        start = 0
        for match in _END_OF_LINE.finditer(text):
            events.extend(self._line(text[start : match.start()]))
            start = match.end()
        self._partial_line = text[start:]
        self._skip_line_feed = start == len(text) and text.endswith("\r")
        return events

    def _line(self, line: str) -> list[SseEvent]:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return []
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        return []

    def _dispatch(self) -> list[SseEvent]:
        if not self._data:
            self._event = ""
            return []
        event = SseEvent(event=self._event or "message", data="\n".join(self._data))
        self._event = ""
        self._data = []
        return [event]
