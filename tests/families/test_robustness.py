"""Whatever a server sends, families answer with an observation or a ValueError, never a
crash: a probe of a broken server must end as a classified result."""

from __future__ import annotations

import json
from contextlib import suppress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelaudit.families import FAMILIES
from modelaudit.families.base import HttpResponse
from modelaudit.families.envelopes import error_from_payload
from tests.families.specs import provider

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "error",
                    "message",
                    "code",
                    "type",
                    "status",
                    "details",
                    "choices",
                    "delta",
                    "content",
                    "data",
                    "models",
                    "candidates",
                    "done",
                    "detail",
                    "metadata",
                    "raw",
                    "object",
                    "param",
                    "usage",
                    "parts",
                    "text",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)
BASE_URLS = {
    "openai": "http://127.0.0.1:8000/v1",
    "azure-openai": "https://r.openai.azure.com/openai/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
    "ollama": "http://127.0.0.1:11434",
}
NAMES = sorted(FAMILIES)
SPECS = {name: provider(name, url) for name, url in BASE_URLS.items()}


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40)
@given(body=st.binary(max_size=300), status=st.integers(min_value=100, max_value=599))
def test_parse_error_never_raises_on_bytes(name: str, body: bytes, status: int) -> None:
    FAMILIES[name].parse_error(HttpResponse(status, {}, body))


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60)
@given(value=JSON_VALUES)
def test_json_of_any_shape_is_an_observation_or_a_value_error(name: str, value: object) -> None:
    family = FAMILIES[name]
    spec = SPECS[name]
    body = json.dumps(value).encode()
    family.parse_error(HttpResponse(400, {}, body))
    error_from_payload(value)
    for parse in (family.parse_completion, lambda r: family.parse_catalog(spec, r)):
        with suppress(ValueError):
            parse(HttpResponse(200, {}, body))
    decoder = family.stream_decoder()
    decoder.feed(b"data: " + body + b"\n\n" + body + b"\n")
    decoder.close()


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
