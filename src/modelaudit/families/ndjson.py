"""An incremental newline-delimited JSON splitter (Ollama's native streams).

It hands back complete lines as text; the family decides what a line means. A `\\n` byte
never occurs inside a multi-byte UTF-8 character, so splitting bytes first is safe.
"""

from __future__ import annotations


class NdjsonDecoder:
    def __init__(self) -> None:
        self._partial = b""

    def feed(self, data: bytes) -> list[str]:
        *lines, self._partial = (self._partial + data).split(b"\n")
        return _non_empty(lines)

    def close(self) -> list[str]:
        """The body ended: a last line without its newline is still a line."""
        rest, self._partial = self._partial, b""
        return _non_empty([rest])


def _non_empty(lines: list[bytes]) -> list[str]:
    decoded = (line.decode("utf-8", errors="replace").strip() for line in lines)
    return [line for line in decoded if line]
