"""An incremental Server-Sent Events decoder (the WHATWG `text/event-stream` rules).

Bytes arrive in arbitrary pieces: a split may fall inside a line, between `\\r` and `\\n`,
or inside a multi-byte UTF-8 character. The decoder keeps what it cannot finish yet and
emits each event once its blank line arrives. Comment lines (`: OPENROUTER PROCESSING`)
are keep-alives and are skipped; `id:` and `retry:` carry nothing a probe needs.

Each piece is scanned once: a line that never ends (a hostile server's endless `data:`)
is kept as a list of pieces, not re-joined and re-scanned with every new piece, so decoding
costs time in proportion to the bytes, whatever their split.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_END_OF_LINE = re.compile(r"\r\n|\r|\n")
_BOM = "\ufeff"
_MAX_PIECES = 1024


@dataclass(frozen=True)
class SseEvent:
    event: str
    """The `event:` field, or `message` when the server named none."""
    data: str
    """The `data:` lines joined with newlines."""


class SseDecoder:
    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial: list[str] = []
        """The pieces of the line not ended yet."""
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
        if self._partial:
            events.extend(self._line("".join(self._partial)))
            self._partial = []
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
        events: list[SseEvent] = []
        start = 0
        for match in _END_OF_LINE.finditer(chunk):
            self._partial.append(chunk[start : match.start()])
            events.extend(self._line("".join(self._partial)))
            self._partial = []
            start = match.end()
        if start < len(chunk):
            self._partial.append(chunk[start:])
            if len(self._partial) >= _MAX_PIECES:  # tiny pieces: keep the list short
                self._partial = ["".join(self._partial)]
        self._skip_line_feed = start == len(chunk) and chunk.endswith("\r")
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
