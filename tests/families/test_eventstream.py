"""AWS event-stream framing read at any split: the messages, and a broken frame (a CRC
that does not match, a length that cannot be, a body that ends inside a message) as a
`Malformed` frame after which nothing is read."""

from __future__ import annotations

import itertools
import struct
import zlib

from hypothesis import given
from hypothesis import strategies as st

from modelaudit.families.eventstream import EventMessage, EventStreamDecoder, Malformed
from tests.fakes.bedrock import event_message

MESSAGES = [
    event_message({":event-type": "messageStart", ":message-type": "event"}, b'{"role":"x"}'),
    event_message({":event-type": "contentBlockDelta"}, '{"text":"é ok"}'.encode()),
    event_message({":exception-type": "throttlingException"}, b'{"message":"slow down"}'),
]
BODY = b"".join(MESSAGES)


def decode(pieces: list[bytes]) -> list[EventMessage | Malformed]:
    decoder = EventStreamDecoder()
    frames = [frame for piece in pieces for frame in decoder.feed(piece)]
    return frames + decoder.close()


@given(st.lists(st.integers(min_value=0, max_value=len(BODY)), max_size=12))
def test_any_split_gives_the_same_messages(cuts: list[int]) -> None:
    points = [0, *sorted(cuts), len(BODY)]
    pieces = [BODY[a:b] for a, b in itertools.pairwise(points)]

    frames = decode(pieces)

    assert [type(f) for f in frames] == [EventMessage] * 3
    assert isinstance(frames[1], EventMessage)
    assert frames[1].header(":event-type") == "contentBlockDelta"
    assert frames[1].payload.decode() == '{"text":"é ok"}'


def test_a_bad_message_crc_is_malformed_and_ends_the_reading() -> None:
    broken = bytearray(MESSAGES[1])
    broken[-6] ^= 0x01  # a payload byte: the message CRC no longer matches

    frames = decode([MESSAGES[0], bytes(broken), MESSAGES[2]])

    assert isinstance(frames[0], EventMessage)
    assert frames[1:] == [Malformed("an event-stream message CRC does not match")]


def test_a_bad_prelude_crc_or_an_impossible_length_is_malformed() -> None:
    bad_prelude = bytearray(MESSAGES[0])
    bad_prelude[9] ^= 0x01
    huge = struct.pack(">II", 1 << 30, 0)
    huge += struct.pack(">I", zlib.crc32(huge))

    assert decode([bytes(bad_prelude)]) == [Malformed("an event-stream prelude CRC does not match")]
    assert decode([huge]) == [Malformed(f"an event-stream message claims {1 << 30} bytes")]


def test_a_body_that_ends_inside_a_message_is_malformed() -> None:
    frames = decode([MESSAGES[0], MESSAGES[1][:20]])

    assert isinstance(frames[0], EventMessage)
    assert frames[1] == Malformed("the stream ended inside an event-stream message (20 bytes)")
