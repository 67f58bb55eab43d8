"""An incremental newline-delimited JSON splitter (Ollama's native streams).

It hands back complete lines as text; the family decides what a line means. A `\\n` byte
never occurs inside a multi-byte UTF-8 character, so splitting bytes first is safe. Only
the new bytes are searched for a line end: an endless line costs time in proportion to its
length, not to its length squared.
"""

from __future__ import annotations

_MAX_PIECES = 1024


class NdjsonDecoder:
    def __init__(self) -> None:
        self._partial: list[bytes] = []
        """The pieces of the line not ended yet."""

    def feed(self, data: bytes) -> list[str]:
        if b"\n" not in data:
            self._partial.append(data)
            if len(self._partial) >= _MAX_PIECES:  # tiny pieces: keep the list short
                self._partial = [b"".join(self._partial)]
            return []
        first, *lines, rest = data.split(b"\n")
        lines.insert(0, b"".join([*self._partial, first]))
        self._partial = [rest] if rest else []
        return _non_empty(lines)

    def close(self) -> list[str]:
        """The body ended: a last line without its newline is still a line."""
        rest, self._partial = b"".join(self._partial), []
        return _non_empty([rest])


def _non_empty(lines: list[bytes]) -> list[str]:
    decoded = (line.decode("utf-8", errors="replace").strip() for line in lines)
    return [line for line in decoded if line]
