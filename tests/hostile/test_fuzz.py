"""The registry loader's fuzz target (hypothesis); the families' parsers have theirs in
tests/families/test_robustness.py.

Any text is a registry or a list of problems (ConfigError / UsageError), never another
exception; and any registry that loads can be sent (each URL and header passes the checks
the HTTP client would apply).
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelaudit.errors import ConfigError, UsageError
from modelaudit.registry import load
from modelaudit.registry.sendable import header_problem, url_problem

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
