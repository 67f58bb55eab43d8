"""Whatever a server sends, families answer with an observation or a ValueError, never a
crash: a probe of a broken server must end as a classified result. These are the fuzz
targets (hypothesis) of every family's response parsers: any body (NaN and Infinity
literals, 1e999, 2**80 and lone surrogates included), any headers, any stream split."""

from __future__ import annotations

import json
import math
from contextlib import suppress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelaudit.families import FAMILIES
from modelaudit.families.base import Generation, HttpResponse, ProviderError
from modelaudit.families.envelopes import MAX_HINT_S, error_from_payload
from modelaudit.families.fields import MAX_INTEGER
from tests.families.specs import model, provider

NUMBERS = (
    st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)  # json.dumps writes NaN, Infinity
    | st.sampled_from(["NaN", "Infinity", "1e999", "99999999999999999999", "-0"])
)
KEYS = st.sampled_from(
    [
        *("error", "message", "code", "type", "status", "details", "detail", "metadata"),
        *("raw", "object", "param", "choices", "delta", "content", "parts", "text"),
        *("data", "models", "candidates", "done", "usage", "completion_tokens"),
        *("output_tokens", "eval_count", "retryDelay", "@type", "model", "id", "has_more"),
        *("last_id", "nextPageToken", "finish_reason", "system_fingerprint"),
        *("usageMetadata", "candidatesTokenCount", "deprecated", "shutdown_date"),
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | NUMBERS | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(KEYS | st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=25,
)
HEADERS = st.dictionaries(
    st.sampled_from(["retry-after", "retry-after-ms", "x-amzn-errortype", "content-type"]),
    st.text(max_size=30),
    max_size=4,
)
BASE_URLS = {
    "openai": "http://127.0.0.1:8000/v1",
    "azure-openai": "https://r.openai.azure.com/openai/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
    "ollama": "http://127.0.0.1:11434",
    "bedrock": "https://bedrock-runtime.us-east-1.amazonaws.com",
    "vertex": "https://us-central1-aiplatform.googleapis.com",
}
PLACEMENT = {"vertex": {"project": "probe-project", "location": "us-central1"}}
NAMES = sorted(FAMILIES)
SPECS = {name: provider(name, url, **PLACEMENT.get(name, {})) for name, url in BASE_URLS.items()}


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40)
@given(body=st.binary(max_size=300), status=st.integers(min_value=100, max_value=599))
def test_parse_error_never_raises_on_bytes(name: str, body: bytes, status: int) -> None:
    FAMILIES[name].parse_error(HttpResponse(status, {}, body))


def _body(value: object) -> bytes:
    """JSON as a server may write it: NaN and Infinity literals, lone surrogates."""
    return json.dumps(value).encode("utf-8", "surrogatepass")


def _assert_sane(found: object) -> None:
    """What a parser gives holds no number that is not finite and no count past 2**53."""
    if isinstance(found, ProviderError):
        hint = found.retry_after_s
        assert hint is None or (math.isfinite(hint) and 0 <= hint <= MAX_HINT_S)
        assert found.status is None or 100 <= found.status <= 599
    elif isinstance(found, Generation):
        assert found.output_tokens is None or abs(found.output_tokens) <= MAX_INTEGER
        if found.error is not None:
            _assert_sane(found.error)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(value=JSON_VALUES, headers=HEADERS, status=st.integers(min_value=100, max_value=599))
def test_json_of_any_shape_is_an_observation_or_a_value_error(
    name: str, value: object, headers: dict[str, str], status: int
) -> None:
    family = FAMILIES[name]
    spec = SPECS[name]
    body = _body(value)
    _assert_sane(family.parse_error(HttpResponse(status, headers, body)))
    error_from_payload(value)
    parsers = (
        family.parse_completion,
        lambda r: family.parse_catalog(spec, r),
        lambda r: family.parse_retrieve(spec, model("m"), r),
    )
    for parse in parsers:
        with suppress(ValueError, NotImplementedError):
            _assert_sane(parse(HttpResponse(200, headers, body)))
    decoder = family.stream_decoder()
    decoder.feed(b"data: " + body + b"\n\n" + body + b"\n")
    decoder.close()


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None)
@given(values=st.lists(JSON_VALUES, max_size=4), cut=st.integers(min_value=1, max_value=7))
def test_stream_decoders_give_sane_events_at_any_split(
    name: str, values: list[object], cut: int
) -> None:
    stream = b"".join(b"data: " + _body(v) + b"\n\n" + _body(v) + b"\n" for v in values)
    stream += b"data: [DONE]\n\n"
    decoder = FAMILIES[name].stream_decoder()
    events = []
    for start in range(0, len(stream), cut):
        events += decoder.feed(stream[start : start + cut])
    events += decoder.close()
    for event in events:
        error = getattr(event, "error", None)
        if error is not None:
            _assert_sane(error)
        count = getattr(event, "output_tokens", None)
        assert count is None or abs(count) <= MAX_INTEGER


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40)
@given(chunks=st.lists(st.binary(max_size=60), max_size=6))
def test_stream_decoders_never_raise_on_bytes(name: str, chunks: list[bytes]) -> None:
    decoder = FAMILIES[name].stream_decoder()
    for chunk in chunks:
        decoder.feed(chunk)
    decoder.close()


@pytest.mark.parametrize("name", NAMES)
def test_nesting_too_deep_is_a_value_error_not_a_crash(name: str) -> None:
    deep = b"[" * 100_000
    family = FAMILIES[name]
    with pytest.raises(ValueError, match="deep"):
        family.parse_completion(HttpResponse(200, {}, deep))
    assert family.parse_error(HttpResponse(500, {}, deep)).message is not None
    decoder = family.stream_decoder()
    assert decoder.feed(b"data: " + deep + b"\n\n" + deep + b"\n") != []
