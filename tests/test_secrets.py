"""Keys: read from `env:`/`file:` at send time, masked everywhere once read."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest

from modelaudit import credentials
from modelaudit.redact import MASK, redact, redacted_excerpt, register_secret
from modelaudit.registry.schema import KeyRef


def test_a_registered_secret_is_masked_wherever_it_appears() -> None:
    secret = "plain-looking-secret-value-42"
    register_secret(secret)
    assert redact(f"server said: bad key {secret}!") == f"server said: bad key {MASK}!"


@pytest.mark.parametrize(
    "text",
    [
        "sk-proj-abcdefghijklmnop0123456789",
        "sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
        "AIzaSyA0123456789abcdefghijklmnopqrstu",
        "gsk_abcdefghijklmnopqrstuv0123",
        "xai-abcdefghijklmnopqrstuv0123",
    ],
)
def test_vendor_key_shapes_are_masked_even_when_never_registered(text: str) -> None:
    assert text not in redact(f"echo: {text} end")


@pytest.mark.parametrize(
    "text",
    [
        "GET /v1beta/models?key=abc123secret&pageSize=5",
        "Authorization: Bearer abc123secret",
        "x-api-key: abc123secret",
    ],
)
def test_keys_in_query_strings_and_echoed_headers_are_masked(text: str) -> None:
    assert "abc123secret" not in redact(text)


def test_ordinary_text_is_left_alone() -> None:
    text = "429 rate_limited: Rate limit reached for gpt-4o-mini (retry after 2 s)"
    assert redact(text) == text


def test_an_env_key_is_read_and_registered(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ACME_KEY", "  acme-secret-value-123\n")
    value = credentials.read_key(KeyRef(source="env", name="ACME_KEY"), tmp_path)
    assert value == "acme-secret-value-123"
    assert "acme-secret-value-123" not in redact("echo acme-secret-value-123")


def test_a_missing_env_key_names_the_variable(tmp_path: Path) -> None:
    status = credentials.status(KeyRef(source="env", name="ACME_KEY"), tmp_path)
    assert (status.present, status.reason) == (
        False,
        "ACME_KEY is not set: export it to probe this provider",
    )


def test_an_empty_env_key_is_not_a_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ACME_KEY", "   ")
    status = credentials.status(KeyRef(source="env", name="ACME_KEY"), tmp_path)
    assert (status.present, status.reason) == (False, "ACME_KEY is set but empty")


def test_a_file_key_is_relative_to_the_registry(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "acme").write_text("file-secret-value-456\n")
    ref = KeyRef(source="file", name="keys/acme")
    assert credentials.read_key(ref, tmp_path) == "file-secret-value-456"


def test_a_missing_key_file_is_named(tmp_path: Path) -> None:
    status = credentials.status(KeyRef(source="file", name="keys/nope"), tmp_path)
    assert (status.present, status.reason) == (False, "key file keys/nope does not exist")


def test_an_excerpt_is_redacted_before_it_is_cut() -> None:
    secret = "plain-looking-secret-excerpt-77"
    register_secret(secret)
    text = "x" * 50 + secret + " and more"
    # cut first, the first 10 characters of the key would survive: redaction needs all of it
    assert redacted_excerpt(text, 60) == "x" * 50 + MASK[:10]


@pytest.mark.parametrize(
    ("api", "line"),
    [("openai", "data: {junk}\n\n"), ("anthropic", "data: {junk}\n\n"), ("ollama", "{junk}\n")],
)
def test_a_stream_that_is_not_json_is_quoted_without_a_piece_of_the_key(
    api: str, line: str
) -> None:
    from modelaudit.families import FAMILIES
    from modelaudit.families.base import StreamFailure

    secret = f"plain-looking-secret-stream-{api}"
    register_secret(secret)
    decoder = FAMILIES[api].stream_decoder()
    events = decoder.feed(line.format(junk="x" * 70 + secret).encode()) + decoder.close()

    failures = [e.malformed for e in events if isinstance(e, StreamFailure) and e.malformed]
    assert failures
    assert all(secret[:8] not in text for text in failures), failures


ZHIPU_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90.QwErTyUiOp123456"  # no other test key shares 12 chars


def test_a_key_in_a_long_report_is_masked_among_numbers_and_colours() -> None:
    filler = "".join(
        f'<rect x="{i}.5" fill="#2e7d32" data-v="0.9877825290164935"/>' for i in range(2000)
    )
    keys = f"{ZHIPU_KEY}, then sk-proj-abcdefghijklmnopqrstu and ?key=abc123secret"
    text = f"{filler} id {keys} {filler}"

    masked = redact(text)

    assert ZHIPU_KEY.split(".")[1] not in masked
    assert "abcdefghijklmnopqrstu" not in masked
    assert "abc123secret" not in masked
    assert masked.count(MASK) == 3


@pytest.mark.parametrize(
    "text",
    [
        "X-Ap\u0131-Key: abc123secret",  # a dotless i matches `i` case-insensitively
        "BEARER abc123secret",
        "https://h.invalid/v1?TOKEN=abc123secret",
    ],
)
def test_echoed_headers_and_parameters_are_masked_in_any_case(text: str) -> None:
    assert "abc123secret" not in redact(text)


def test_the_quick_path_masks_exactly_what_the_full_patterns_mask() -> None:
    """`redact` skips a pattern where a cheap search shows it cannot match: over texts made
    of key-like pieces, the result is always what the full patterns give."""
    from modelaudit import redact as module

    pieces = [
        "sk-",
        "AIza",
        "gsk_",
        "xai-",
        ".",
        "-",
        " ",
        "?key=",
        "Bearer ",
        "api-KEY:",
        "\u0131",
    ]
    rng = random.Random(5)

    def piece() -> str:
        roll = rng.random()
        if roll < 0.3:
            return rng.choice(pieces)
        alphabet = "0123456789abcdef" if roll < 0.6 else string.ascii_letters + string.digits
        return "".join(rng.choice(alphabet) for _ in range(rng.choice([15, 16, 17, 32, 33])))

    for _ in range(3000):
        text = "".join(piece() for _ in range(rng.randint(1, 12)))
        full = module._KEY_SHAPES.sub(MASK, text)
        full = module._KEY_PARAMS.sub(lambda m: m.group(1) + MASK, full)
        assert redact(text) == full, text


@pytest.mark.parametrize(
    "echo",
    [
        "Incorrect API key provided: sk-canary-ZZQ9xw7****. Find your key at ...",
        "partial canary-ZZQ9xw7T3s and more",
        "suffix only: T3stKeyDoNotLeak0001",
        "twice: canary-ZZQ9xw7T3 / KeyDoNotLeak0001",
    ],
)
def test_a_piece_of_a_key_a_server_echoes_is_masked(echo: str) -> None:
    key = "sk-canary-ZZQ9xw7T3stKeyDoNotLeak0001"
    register_secret(key)
    masked = redact(echo)
    assert MASK in masked
    for i in range(len(key) - 12 + 1):
        assert key[i : i + 12] not in masked


def test_short_runs_a_key_shares_with_ordinary_text_are_left_alone() -> None:
    register_secret("sk-model-gpt-4o-mini-0123456789")
    text = "404 model_not_found: the model gpt-4o-mini does not exist"
    assert redact(text) == text
