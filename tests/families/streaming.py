"""Feeding a recorded body to a stream decoder in pieces, the way a socket delivers it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

T_co = TypeVar("T_co", covariant=True)


class Decoder(Protocol[T_co]):
    def feed(self, data: bytes) -> Sequence[T_co]: ...

    def close(self) -> Sequence[T_co]: ...


def decode_in_pieces(decoder: Decoder[T_co], body: bytes, cuts: Iterable[int]) -> list[T_co]:
    """Feed `body` split at the byte offsets `cuts`, then close."""
    events: list[T_co] = []
    start = 0
    for cut in sorted(set(cuts)):
        if 0 < cut < len(body):
            events.extend(decoder.feed(body[start:cut]))
            start = cut
    events.extend(decoder.feed(body[start:]))
    events.extend(decoder.close())
    return events


def decode_whole(decoder: Decoder[T_co], body: bytes) -> list[T_co]:
    return decode_in_pieces(decoder, body, ())


def decode_bytewise(decoder: Decoder[T_co], body: bytes) -> list[T_co]:
    return decode_in_pieces(decoder, body, range(1, len(body)))
