"""Values a server chose: numbers that are not numbers never leave the parser, strings are
bounded and printable the moment they become part of a result, and decoding a stream
costs time in proportion to its bytes however they are split."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from modelaudit.families.base import HttpResponse
from modelaudit.families.envelopes import MAX_TEXT_BODY_BYTES, parse_error_response
from modelaudit.families.fields import integer, load_json
from modelaudit.families.ndjson import NdjsonDecoder
from modelaudit.families.sse import SseDecoder
from modelaudit.probe.classify import retry_after_s
from modelaudit.probe.result import Attempt, CatalogFinding, ModelVerdict
from modelaudit.untrusted import MAX_DETAIL_CHARS, MAX_ID_CHARS, capped, outside, printable
from modelaudit.vocabulary import ErrorClass, Verdict

AT = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize("body", ["NaN", "[Infinity]", '{"n": -Infinity}', "1e999", "[-1e400]"])
def test_json_numbers_that_are_not_finite_are_not_json(body: str) -> None:
    with pytest.raises(ValueError, match=r"not JSON|too large"):
        load_json(body)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12, 12), ("12", 12), (2**53, 2**53), (2**53 + 1, None), ("9" * 17, None), (True, None)],
)
def test_a_count_beyond_what_counts_is_no_count(value: object, expected: int | None) -> None:
    assert integer(value) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "NaN"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "1e999"}, None),
        ({"retry-after-ms": "nan"}, None),
        ({"retry-after-ms": "-Infinity"}, None),
        ({"retry-after": "99999999999"}, None),  # beyond a year: no hint (classify's rule)
        ({"retry-after": "Fri, 31 Dec 9999 23:59:59 -2359"}, None),
        ({"retry-after": "2"}, 2.0),
    ],
)
def test_a_retry_hint_is_finite_and_within_a_year(
    headers: dict[str, str], expected: float | None
) -> None:
    assert retry_after_s(headers) == expected
    assert retry_after_s(headers, float("nan")) == expected


def test_what_a_server_said_is_bounded_and_printable_in_a_result() -> None:
    attempt = Attempt(
        1,
        AT,
        ErrorClass.OK,
        served_model="m" * 5_000_000,
        system_fingerprint="fp\x1b[2J",
        retry_after_s=float("inf"),
        ratelimit=tuple((f"x-ratelimit-limit-{i}", "v" * 1000) for i in range(1000)),
        detail="\u202e" + "d" * 10_000,
    )

    assert len(attempt.served_model or "") == MAX_ID_CHARS
    assert attempt.system_fingerprint == "fp\\x1b[2J"
    assert attempt.retry_after_s is None
    assert len(attempt.ratelimit) == 32
    assert all(len(value) <= MAX_ID_CHARS for _, value in attempt.ratelimit)
    assert attempt.detail.startswith("\\u202e")
    assert len(attempt.detail) == MAX_DETAIL_CHARS
    finding = CatalogFinding(listed=True, note="n" * 10_000, resolved_id="\x07")
    assert (len(finding.note or ""), finding.resolved_id) == (300, "\\x07")
    verdict = ModelVerdict("p", "m", Verdict.DOWN, "r\x1b" * 5000)
    assert verdict.reason.startswith("r\\x1b")


def test_bounding_is_idempotent() -> None:
    text = "a\x1bb" * 200
    once = outside(text, 100)

    assert outside(once, 100) == once
    assert printable(printable(text)) == printable(text)
    assert capped("abcdef", 4) == "abc…"


ENDLESS_BYTES = 8 * 1024 * 1024
PIECE = 1024
LINEAR_BOUND_S = 5.0
"""Decoding 8 MiB in 1 KiB pieces takes tens of milliseconds; rescanning the line each
time (8192 pieces, 4 MiB each on average) took minutes."""


@pytest.mark.parametrize("decoder", [SseDecoder, NdjsonDecoder])
def test_an_endless_line_costs_time_in_proportion_to_its_bytes(
    decoder: type[SseDecoder | NdjsonDecoder],
) -> None:
    stream = decoder()
    piece = b"x" * PIECE
    started = time.process_time()
    stream.feed(b"data: ")
    for _ in range(ENDLESS_BYTES // PIECE):
        stream.feed(piece)
    events = stream.close()

    assert time.process_time() - started < LINEAR_BOUND_S
    assert len(events) == 1


@pytest.mark.parametrize(
    "page",
    [b"<html>" + b"<script" * 2_000_000, b"<title>" * 2_000_000, b"<" * 16_000_000],
    ids=["unclosed scripts", "unclosed titles", "unclosed tags"],
)
def test_reading_an_error_page_takes_time_in_proportion_to_it(page: bytes) -> None:
    # Each of these made a pattern rescan the rest of the page from every opening it
    # found: seconds for the first 64 KiB, hours for all of it.
    started = time.process_time()
    found = parse_error_response(HttpResponse(502, {"content-type": "text/html"}, page))

    assert time.process_time() - started < 0.5
    assert len(found.message or "") <= 500


def test_an_error_page_is_read_for_its_message_from_its_start_only() -> None:
    page = b"<html><title>Bad gateway</title><script>x</script>" + b" " * MAX_TEXT_BODY_BYTES
    assert parse_error_response(HttpResponse(502, {}, page)).message == "Bad gateway"
    late = b"<html>" + b" " * MAX_TEXT_BODY_BYTES + b"<title>too late</title>"
    assert parse_error_response(HttpResponse(502, {}, late)).message is None
    body = b"<body><SCRIPT>var a;</SCRIPT><p>Service &amp; down</p><style>p{}</style>!</body>"
    assert parse_error_response(HttpResponse(503, {}, body)).message == "Service & down !"
