"""Fuzz targets (hypothesis): the registry loader, and every family's response parsers.

The registry: any text is a registry or a list of problems (ConfigError / UsageError),
never another exception; and any registry that loads can be sent (each URL and header
passes the checks the HTTP client would apply). The parsers: any body, any headers, any
stream split is an observation or a ValueError, and what comes out holds no number that
is not finite and no count beyond 2**53.
"""

from __future__ import annotations

import json
import math
from contextlib import suppress
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelaudit.errors import ConfigError, UsageError
from modelaudit.families import FAMILIES
from modelaudit.families.base import CatalogPage, Generation, HttpResponse, ProviderError
from modelaudit.families.envelopes import MAX_HINT_S
from modelaudit.families.fields import MAX_INTEGER
from modelaudit.registry import load
from modelaudit.registry.sendable import header_problem, url_problem
from tests.families.specs import model, provider

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# --- the registry -------------------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "version",
        "providers",
        "defaults",
        "name",
        "api",
        "base_url",
        "api_key",
        "headers",
        "hosting",
        "jurisdiction",
        "models",
        "id",
        "weights",
        "pinned",
        "timeouts",
        "total_s",
        "connect_s",
        "control",
        "urls",
        "retry",
        "attempts",
        "risk",
        "server",
        "ca_bundle",
        "openai",
        "anthropic",
        "gemini",
        "ollama",
        "vendor",
        "self-hosted",
        "open",
        "closed",
        "US",
        "env:KEY",
        "file:/dev/zero",
        "http://a..b/v1",
        "http://127.0.0.1:70000/",
        "http://127.0.0.1:8080/v1",
        "Host",
        "Authorization ",
        "X-Ok",
        "Zürich",
        "\x1b[2J",
    ]
)
SCALARS = (
    WORDS
    | st.text(max_size=12)
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.booleans()
    | st.none()
)
TREES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(WORDS | st.text(max_size=6), children, max_size=6)
    ),
    max_leaves=40,
)


HOSTS = st.sampled_from(["127.0.0.1", "[::1]", "a..b", "h", "münchen.example", "x_y", "", "a b"])
PORTS = st.sampled_from(["", ":0", ":8080", ":65535", ":65536", ":-1", ":x"]) | st.integers(
    min_value=-5, max_value=10**6
).map(lambda n: f":{n}")


HEADER_NAMES = st.sampled_from(
    ["X-Ok", "x-tenant", "X-OK", "anthropic-beta", "Host", "Authorization ", "X Foo", "a:b"]
) | st.text(max_size=8)
HEADER_VALUES = st.sampled_from(["v", "a b", "tools-2024", "Zürich", " pad", "a\nb", ""]) | (
    st.text(max_size=8)
)
MODEL_IDS = st.sampled_from(["gpt-4o", "org/model:tag", "m\x1b", "m\u202e"]) | st.text(
    min_size=1, max_size=10
)


@st.composite
def near_valid(draw: st.DrawFn) -> dict[str, object]:
    """A valid registry whose URL, headers and model id are fuzzed: most of them load."""
    fuzzed = [f"http://{draw(HOSTS)}{draw(PORTS)}/v1" for _ in range(2)]
    good = "http://127.0.0.1:8080/v1"
    return {
        "version": 1,
        "defaults": {"control": {"urls": [draw(st.sampled_from([fuzzed[0], good]))]}},
        "providers": [
            {
                "name": "p",
                "api": "openai",
                "base_url": draw(st.sampled_from([fuzzed[1], good])),
                "hosting": "self-hosted",
                "headers": draw(st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=2)),
                "models": [{"id": draw(MODEL_IDS), "weights": "open"}],
            }
        ],
    }


@FUZZ
@given(text=st.text(max_size=400))
def test_any_text_is_a_registry_or_problems(tmp_path: Path, text: str) -> None:
    path = tmp_path / "providers.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with suppress(ConfigError, UsageError):
        load(path)


@FUZZ
@given(tree=TREES, shaped=near_valid())
def test_any_registry_that_loads_can_be_sent(
    tmp_path: Path, tree: object, shaped: dict[str, object]
) -> None:
    path = tmp_path / "providers.yaml"
    for document in (tree, shaped):
        path.write_text(yaml.safe_dump(document, allow_unicode=True))
        try:
            loaded = load(path)
        except (ConfigError, UsageError):
            continue
        for spec in loaded.registry.providers:
            assert url_problem(spec.base_url) is None
            assert all(header_problem(n, v) is None for n, v in spec.headers.items())
        for url in loaded.registry.defaults.control.urls:
            assert url_problem(url) is None


# --- the families' parsers -------------------------------------------------------------------

NUMBERS = (
    st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["NaN", "Infinity", "1e999", "99999999999999999999", "-0"])
)
KEYS = st.sampled_from(
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
        "usage",
        "completion_tokens",
        "output_tokens",
        "eval_count",
        "retryDelay",
        "@type",
        "model",
        "id",
        "has_more",
        "last_id",
        "nextPageToken",
        "finish_reason",
        "system_fingerprint",
        "usageMetadata",
        "candidatesTokenCount",
        "message_start",
        "deprecated",
        "shutdown_date",
    ]
)
VALUES = st.recursive(
    st.none() | st.booleans() | NUMBERS | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(KEYS | st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=30,
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
}
SPECS = {name: provider(name, url) for name, url in BASE_URLS.items()}


def _body(value: object) -> bytes:
    """JSON as a server may write it: Python's own NaN/Infinity literals included."""
    return json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")


def _assert_sane(found: object) -> None:
    if isinstance(found, ProviderError):
        hint = found.retry_after_s
        assert hint is None or (math.isfinite(hint) and 0 <= hint <= MAX_HINT_S)
        assert found.status is None or 100 <= found.status <= 599
    elif isinstance(found, Generation):
        count = found.output_tokens
        assert count is None or abs(count) <= MAX_INTEGER
        if found.error is not None:
            _assert_sane(found.error)
    elif isinstance(found, CatalogPage):
        for entry in found.entries:
            assert isinstance(entry.id, str)


@pytest.mark.parametrize("name", sorted(FAMILIES))
@FUZZ
@given(value=VALUES, headers=HEADERS, status=st.integers(min_value=100, max_value=599))
def test_every_parser_gives_an_observation_or_a_value_error(
    name: str, value: object, headers: dict[str, str], status: int
) -> None:
    family, spec = FAMILIES[name], SPECS[name]
    body = _body(value)
    _assert_sane(family.parse_error(HttpResponse(status, headers, body)))
    parsers = (
        family.parse_completion,
        lambda r: family.parse_catalog(spec, r),
        lambda r: family.parse_retrieve(spec, model("m"), r),
    )
    for parse in parsers:
        with suppress(ValueError, NotImplementedError):
            _assert_sane(parse(HttpResponse(200, headers, body)))


@pytest.mark.parametrize("name", sorted(FAMILIES))
@FUZZ
@given(values=st.lists(VALUES, max_size=4), cut=st.integers(min_value=1, max_value=7))
def test_every_stream_decoder_gives_events_at_any_split(
    name: str, values: list[object], cut: int
) -> None:
    stream = (
        b"".join(b"data: " + _body(v) + b"\n\n" + _body(v) + b"\n" for v in values)
        + b"data: [DONE]\n\n"
    )
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
