"""The one redaction function applied to every string that leaves the process.

Keys are registered here the moment they are read (`credentials.resolve`), so anything
printed, logged, stored or reported passes through `redact` and cannot carry them, even
when a server echoes a key back in an error message, in another case, or a piece of it.
Key-shaped tokens of the common vendors, keys in query strings and echoed auth headers, and
the password of a URL's user-info (and a user name long enough to be a token) are masked
too, as a second line of defence.

`redact` works on values (one string), never on a serialized document: a JSON, XML or HTML
text is made of escapes a pattern could cut in half. `modelaudit.outgoing` applies it to
every string of a document before it is serialized.

A key shorter than `MIN_SECRET_CHARS` is treated as public: such keys are placeholders
(`ollama`, `sk-1234`, `none`), guessable by anyone, and masking them would mask ordinary
words everywhere (a provider named `ollama`).
"""

from __future__ import annotations

import re
import threading

MASK = "[REDACTED]"
_LONGEST_KEY = 8192
"""Longer than any API key or token we read (JWTs run to a few KiB)."""

_PREFIXED_SHAPES = (
    r"sk-(?:proj-|ant-(?:api\d+-)?|or-v1-)?[A-Za-z0-9_\-]{16,}"
    r"|AIza[0-9A-Za-z_\-]{30,}"
    r"|gsk_[A-Za-z0-9]{20,}"
    r"|xai-[A-Za-z0-9]{20,}"
)
_ZHIPU_SHAPE = r"(?<![A-Za-z0-9])[A-Fa-f0-9]{32}\.[A-Za-z0-9]{16}(?![A-Za-z0-9])"  # id.secret
_KEY_SHAPES = re.compile(f"(?:{_PREFIXED_SHAPES}|{_ZHIPU_SHAPE})")
# A key in a URL's query string (`?key=...` as Gemini accepts) or an auth header echoed back.
_KEY_PARAMS = re.compile(
    r"(?i)((?:[?&](?:key|api[_-]?key|token)=)|(?:bearer\s+)|(?:x-api-key:\s*)|(?:api-key:\s*))"
    r"[^\s&\"',;]+"
)
# Searching a long text (a report of several MB) with the two patterns above takes most of a
# second: the Zhipu shape and the case-insensitive alternatives are tried at every
# character. What follows finds, much faster, texts where they cannot match at all, and
# then skips them; where they might, the patterns above run unchanged.
_PREFIXED_ONLY = re.compile(_PREFIXED_SHAPES)
_ZHIPU_TAIL = re.compile(r"\.[A-Za-z0-9]{16}(?![A-Za-z0-9])")
_ZHIPU_ID = re.compile(r"(?<![A-Za-z0-9])[A-Fa-f0-9]{32}")
_PARAM_WORDS = ("key=", "token=", "bearer", "-key:")
"""Each alternative of _KEY_PARAMS holds one of these, in any case. (No other character
matches their letters case-insensitively; only `i` has such twins, hence no `api`.)"""

# `scheme://user:password@host`: a ping URL, a proxy, a Location header.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^\s/?#@\[\]:]*)(:[^\s/?#@\[\]]*)?@")

MIN_SECRET_CHARS = 12
"""Keys shorter than this are public (see the module's docstring)."""

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Remember a secret so that `redact` masks it everywhere from now on (in any case)."""
    if len(value) >= MIN_SECRET_CHARS:
        with _lock:
            _secrets.add(_fold(value))


def generation() -> int:
    """Grows whenever a new secret is registered (secrets are never forgotten): a cache of
    redacted strings stays valid exactly as long as this number does not change."""
    with _lock:
        return len(_secrets)


_FRAGMENT = 12
"""A run of this many characters of a key is masked wherever it appears: servers echo a
piece of a bad key ("Incorrect API key provided: sk-canary-ZZQ9..."), and a dozen
characters of a key are guessable no more than the key itself."""
_SEED = 6
"""Fragments are found from the key's 6-character pieces at every 6th offset: any run of
`_FRAGMENT` or more characters contains one of them whole (6 + 6 - 1 < 12)."""


def redact(text: str) -> str:
    """`text` with every registered key (whole, in any case, or a run of `_FRAGMENT` of its
    characters), every vendor-shaped key, query-string or header key and URL user-info
    masked."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    if secrets:
        text = _mask_secrets(text, secrets)
    if "://" in text and "@" in text:
        text = _USERINFO.sub(_without_credentials, text)
    shapes = _KEY_SHAPES if _may_hold_zhipu_key(text) else _PREFIXED_ONLY
    text = shapes.sub(MASK, text)
    lowered = text.lower()
    if not any(word in lowered for word in _PARAM_WORDS):
        return text
    return _KEY_PARAMS.sub(lambda m: m.group(1) + MASK, text)


def _without_credentials(match: re.Match[str]) -> str:
    """`scheme://user:password@` with the password masked, and the user too when it is long
    enough to be a token (`https://TOKEN@host`); a short user name (`probe@`) is public, as
    a short key is."""
    scheme, user, password = match.group(1), match.group(2), match.group(3)
    shown = user if len(user) < MIN_SECRET_CHARS else MASK
    return f"{scheme}{shown}{':' + MASK if password is not None else ''}@"


def _may_hold_zhipu_key(text: str) -> bool:
    """Whether _ZHIPU_SHAPE matches somewhere: a `.` with 16 letters or digits after it
    (rare in prose, found quickly) and 32 hex digits before it."""
    for tail in _ZHIPU_TAIL.finditer(text):
        dot = tail.start()
        if dot >= 32 and _ZHIPU_ID.fullmatch(text, dot - 32, dot):
            return True
    return False


def _fold(text: str) -> str:
    """`text` in lower case, character for character (so positions still match `text`):
    the few characters whose lower case is longer (`İ`) are kept as they are."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _mask_secrets(text: str, secrets: list[str]) -> str:
    """Mask every run of `_FRAGMENT` or more characters of a secret (the whole secret is
    such a run), comparing case-insensitively."""
    folded = _fold(text)
    spans: list[tuple[int, int]] = []
    for secret in secrets:
        spans += _fragments(folded, secret)
    for start, end in reversed(_merged(spans)):
        text = text[:start] + MASK + text[end:]
    return text


def _fragments(text: str, secret: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for offset in range(0, len(secret) - _SEED + 1, _SEED):
        seed = secret[offset : offset + _SEED]
        at = text.find(seed)
        while at != -1:
            start, end = _grow(text, at, secret, offset)
            if end - start >= _FRAGMENT:
                spans.append((start, end))
            at = text.find(seed, at + 1)
    return spans


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(set(spans)):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _grow(text: str, at: int, secret: str, offset: int) -> tuple[int, int]:
    """The longest run around text[at:] that matches the secret around `offset`."""
    start, key_start = at, offset
    while start > 0 and key_start > 0 and text[start - 1] == secret[key_start - 1]:
        start, key_start = start - 1, key_start - 1
    end, key_end = at + _SEED, offset + _SEED
    while end < len(text) and key_end < len(secret) and text[end] == secret[key_end]:
        end, key_end = end + 1, key_end + 1
    return start, end


def redacted_excerpt(text: str, limit: int) -> str:
    """The first `limit` characters of `text`, redacted. Cutting first could keep the start of
    a key, a piece that `redact` no longer recognises: redact a window (longer than any key)
    first, then cut."""
    return redact(text[: limit + _LONGEST_KEY])[:limit]


def looks_like_key(text: str) -> bool:
    return bool(_KEY_SHAPES.search(text))
