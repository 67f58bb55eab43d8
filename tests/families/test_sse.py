from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from modelaudit.families.ndjson import NdjsonDecoder
from modelaudit.families.sse import SseDecoder, SseEvent
from tests.families.streaming import decode_bytewise, decode_in_pieces, decode_whole

# The shape of OpenRouter's stream while it waits for the upstream: keep-alive comments,
# then ordinary chunks. Non-ASCII text makes byte splits land inside characters.
OPENROUTER_STREAM = (
    b": OPENROUTER PROCESSING\n\n"
    b": OPENROUTER PROCESSING\n\n"
    b'data: {"id":"gen-1","choices":[{"delta":{"content":"d\xc3\xa9j\xc3\xa0 \xe2\x9c\x93"}}]}\n\n'
    b'data: {"id":"gen-1","choices":[{"delta":{"content":"\xf0\x9f\x91\x8b"}}]}\n\n'
    b"data: [DONE]\n\n"
)
OPENROUTER_EVENTS = [
    SseEvent("message", '{"id":"gen-1","choices":[{"delta":{"content":"déjà ✓"}}]}'),
    SseEvent("message", '{"id":"gen-1","choices":[{"delta":{"content":"👋"}}]}'),
    SseEvent("message", "[DONE]"),
]


def test_comment_lines_are_keep_alives_not_events() -> None:
    assert decode_whole(SseDecoder(), OPENROUTER_STREAM) == OPENROUTER_EVENTS


def test_one_byte_at_a_time_gives_the_same_events() -> None:
    assert decode_bytewise(SseDecoder(), OPENROUTER_STREAM) == OPENROUTER_EVENTS


@given(st.lists(st.integers(min_value=1, max_value=len(OPENROUTER_STREAM) - 1), max_size=12))
def test_any_split_gives_the_same_events(cuts: list[int]) -> None:
    assert decode_in_pieces(SseDecoder(), OPENROUTER_STREAM, cuts) == OPENROUTER_EVENTS


def test_named_events_and_crlf_line_endings() -> None:
    body = (
        b'event: message_start\r\ndata: {"type":"message_start"}\r\n\r\n'
        b'event: ping\r\ndata: {"type": "ping"}\r\n\r\n'
    )
    expected = [
        SseEvent("message_start", '{"type":"message_start"}'),
        SseEvent("ping", '{"type": "ping"}'),
    ]
    assert decode_whole(SseDecoder(), body) == expected
    assert decode_bytewise(SseDecoder(), body) == expected


def test_a_split_between_cr_and_lf_is_one_line_ending() -> None:
    # Were "\r" | "\n" read as two line endings, the blank line between would end the
    # event early and the two data lines would arrive as two events.
    body = b"data: first\r\ndata: second\r\n\r\n"
    cut = body.index(b"\r") + 1
    assert decode_in_pieces(SseDecoder(), body, [cut]) == [SseEvent("message", "first\nsecond")]


def test_bare_cr_line_endings() -> None:
    assert decode_whole(SseDecoder(), b"data: a\rdata: b\r\r") == [SseEvent("message", "a\nb")]


def test_multi_line_data_is_joined_with_newlines() -> None:
    body = b'data: {"error":\ndata:  {"message": "x"}}\n\n'
    assert decode_whole(SseDecoder(), body) == [
        SseEvent("message", '{"error":\n {"message": "x"}}')
    ]


def test_the_last_event_arrives_even_without_a_closing_blank_line() -> None:
    # The Anthropic SDK's recorded streams end right after the last data line.
    body = b'event: message_stop\ndata: {"type":"message_stop"}'
    assert decode_whole(SseDecoder(), body) == [SseEvent("message_stop", '{"type":"message_stop"}')]


def test_an_event_without_data_is_not_delivered() -> None:
    assert decode_whole(SseDecoder(), b"event: ping\n\nid: 7\nretry: 100\n\n") == []


def test_a_leading_byte_order_mark_is_ignored() -> None:
    assert decode_whole(SseDecoder(), b"\xef\xbb\xbfdata: x\n\n") == [SseEvent("message", "x")]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert decode_whole(SseDecoder(), b"data: \xff\n\n") == [SseEvent("message", "\ufffd")]


def test_field_without_space_after_colon() -> None:
    assert decode_whole(SseDecoder(), b"data:[DONE]\n\n") == [SseEvent("message", "[DONE]")]


OLLAMA_LINES = (
    b'{"model":"qwen3:0.6b","message":{"role":"assistant","content":"\xc3\xa9"},"done":false}\n'
    b'{"model":"qwen3:0.6b","message":{"role":"assistant","content":""},"done":true}\n'
)


def test_ndjson_lines_survive_any_split() -> None:
    expected = [line.decode() for line in OLLAMA_LINES.splitlines()]
    assert decode_whole(NdjsonDecoder(), OLLAMA_LINES) == expected
    assert decode_bytewise(NdjsonDecoder(), OLLAMA_LINES) == expected


def test_ndjson_last_line_without_newline_and_blank_lines() -> None:
    assert decode_whole(NdjsonDecoder(), b'\n{"a":1}\r\n\n{"b":2}') == ['{"a":1}', '{"b":2}']
