"""The loop every family's stream decoder shares: frames in, stream events out.

A framer (`SseDecoder` for SSE events, `NdjsonDecoder` for NDJSON lines) cuts the body into
frames at any byte split; a family's decoder reads each frame, and nothing after the
family's terminator counts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from collections.abc import Iterable

    from modelaudit.families.base import StreamEvent

Frame = TypeVar("Frame")


class Framer(Protocol[Frame]):
    def feed(self, data: bytes) -> list[Frame]: ...

    def close(self) -> list[Frame]: ...


class FramedDecoder(ABC, Generic[Frame]):
    def __init__(self, framer: Framer[Frame]) -> None:
        self._framer = framer
        self._done = False
        """Set by `_frame` once the terminator was read."""

    def feed(self, data: bytes) -> list[StreamEvent]:
        return self._decode(self._framer.feed(data))

    def close(self) -> list[StreamEvent]:
        return self._decode(self._framer.close())

    def _decode(self, frames: Iterable[Frame]) -> list[StreamEvent]:
        decoded: list[StreamEvent] = []
        for frame in frames:
            if not self._done:
                decoded.extend(self._frame(frame))
        return decoded

    @abstractmethod
    def _frame(self, frame: Frame) -> list[StreamEvent]:
        """The stream events one frame carries; sets `_done` on the terminator."""
