"""An incremental reader of AWS event-stream framing (`application/vnd.amazon.eventstream`:
Bedrock's ConverseStream, Transcribe, Kinesis...). Binary, not SSE:

    total length (u32) | headers length (u32) | prelude CRC32 (of the 8 bytes before)
    headers: name length (u8), name, value type (u8), value
    payload
    message CRC32 (of everything before it)

all big-endian. Any split of the body gives the same messages. A CRC that does not match,
a length that cannot be, a header that runs past its block, or a body that ends inside a
message is a `Malformed` frame: the stream broke the wire format, and nothing after it is
read (the framing cannot be trusted to find the next message).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

_PRELUDE = 12
_CRC = 4
_MIN_MESSAGE = _PRELUDE + _CRC
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
"""The service's own limit on one message (botocore's eventstream reader refuses more)."""
MAX_HEADERS_BYTES = 128 * 1024

# Header value types and the fixed sizes of those that have one.
_BOOL_TRUE, _BOOL_FALSE, _BYTE, _SHORT, _INT, _LONG = 0, 1, 2, 3, 4, 5
_BYTES, _STRING, _TIMESTAMP, _UUID = 6, 7, 8, 9
_FIXED = {_BYTE: ">b", _SHORT: ">h", _INT: ">i", _LONG: ">q", _TIMESTAMP: ">q"}


@dataclass(frozen=True)
class EventMessage:
    headers: dict[str, str | int | bool | bytes] = field(default_factory=dict)
    payload: bytes = b""

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Malformed:
    reason: str


Frame = EventMessage | Malformed


class EventStreamDecoder:
    def __init__(self) -> None:
        self._buffer = bytearray()
        self._broken = False

    def feed(self, data: bytes) -> list[Frame]:
        if self._broken:
            return []
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= _PRELUDE:
            total, problem = _prelude(bytes(self._buffer[:_PRELUDE]))
            if problem is not None:
                return [*frames, self._break(problem)]
            if len(self._buffer) < total:
                break
            message = bytes(self._buffer[:total])
            del self._buffer[:total]
            frame = _message(message)
            frames.append(frame)
            if isinstance(frame, Malformed):
                self._broken = True
                break
        return frames

    def close(self) -> list[Frame]:
        if self._broken or not self._buffer:
            return []
        held = len(self._buffer)
        return [self._break(f"the stream ended inside an event-stream message ({held} bytes)")]

    def _break(self, reason: str) -> Malformed:
        self._broken = True
        self._buffer.clear()
        return Malformed(reason)


def _prelude(prelude: bytes) -> tuple[int, str | None]:
    total, headers_length, crc = struct.unpack(">III", prelude)
    if zlib.crc32(prelude[:8]) != crc:
        return total, "an event-stream prelude CRC does not match"
    if not _MIN_MESSAGE <= total <= MAX_MESSAGE_BYTES:
        return total, f"an event-stream message claims {total} bytes"
    if headers_length > min(MAX_HEADERS_BYTES, total - _MIN_MESSAGE):
        return total, f"an event-stream message claims {headers_length} bytes of headers"
    return total, None


def _message(message: bytes) -> Frame:
    (crc,) = struct.unpack(">I", message[-_CRC:])
    if zlib.crc32(message[:-_CRC]) != crc:
        return Malformed("an event-stream message CRC does not match")
    (headers_length,) = struct.unpack(">I", message[4:8])
    headers_end = _PRELUDE + headers_length
    try:
        headers = _headers(message[_PRELUDE:headers_end])
    except (ValueError, struct.error, UnicodeDecodeError) as exc:
        return Malformed(f"an event-stream header cannot be read: {exc}")
    return EventMessage(headers=headers, payload=message[headers_end:-_CRC])


def _headers(block: bytes) -> dict[str, str | int | bool | bytes]:
    headers: dict[str, str | int | bool | bytes] = {}
    at = 0
    while at < len(block):
        name_length = block[at]
        name = block[at + 1 : at + 1 + name_length].decode("utf-8")
        at += 1 + name_length
        if at >= len(block):
            raise ValueError("a header has no value")
        kind = block[at]
        at += 1
        value: str | int | bool | bytes
        if kind in (_BOOL_TRUE, _BOOL_FALSE):
            value = kind == _BOOL_TRUE
        elif kind in _FIXED:
            size = struct.calcsize(_FIXED[kind])
            (value,) = struct.unpack(_FIXED[kind], block[at : at + size])
            at += size
        elif kind in (_BYTES, _STRING):
            (length,) = struct.unpack(">H", block[at : at + 2])
            raw = block[at + 2 : at + 2 + length]
            if len(raw) != length:
                raise ValueError("a header value runs past the headers")
            value = raw.decode("utf-8") if kind == _STRING else raw
            at += 2 + length
        elif kind == _UUID:
            value = block[at : at + 16]
            at += 16
        else:
            raise ValueError(f"unknown header value type {kind}")
        if at > len(block):
            raise ValueError("a header value runs past the headers")
        headers[name] = value
    return headers
