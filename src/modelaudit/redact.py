"""The one redaction function applied to every string that leaves the process.

Keys are registered here the moment they are read (`credentials.resolve`), so anything
printed, logged, stored or reported passes through `redact` and cannot carry them, even
when a server echoes a key back in an error message. Key-shaped tokens of the common
vendors are masked too, as a second line of defence.
"""

from __future__ import annotations

import re
import threading

MASK = "[REDACTED]"
_LONGEST_KEY = 8192
"""Longer than any API key or token we read (JWTs run to a few KiB)."""

_KEY_SHAPES = re.compile(
    r"(?:sk-(?:proj-|ant-(?:api\d+-)?|or-v1-)?[A-Za-z0-9_\-]{16,}"
    r"|AIza[0-9A-Za-z_\-]{30,}"
    r"|gsk_[A-Za-z0-9]{20,}"
    r"|xai-[A-Za-z0-9]{20,}"
    r"|(?<![A-Za-z0-9])[A-Fa-f0-9]{32}\.[A-Za-z0-9]{16}(?![A-Za-z0-9])"  # Zhipu id.secret
    r")"
)
# A key in a URL's query string (`?key=...` as Gemini accepts) or an auth header echoed back.
_KEY_PARAMS = re.compile(
    r"(?i)((?:[?&](?:key|api[_-]?key|token)=)|(?:bearer\s+)|(?:x-api-key:\s*)|(?:api-key:\s*))"
    r"[^\s&\"',;]+"
)

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Remember a secret so that `redact` masks it everywhere from now on."""
    if len(value) >= 4:
        with _lock:
            _secrets.add(value)


def generation() -> int:
    """Grows whenever a new secret is registered (secrets are never forgotten): a cache of
    redacted strings stays valid exactly as long as this number does not change."""
    with _lock:
        return len(_secrets)


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _KEY_SHAPES.sub(MASK, text)
    return _KEY_PARAMS.sub(lambda m: m.group(1) + MASK, text)


def redacted_excerpt(text: str, limit: int) -> str:
    """The first `limit` characters of `text`, redacted. Cutting first could keep the start of
    a key, a piece that `redact` no longer recognises: redact a window (longer than any key)
    first, then cut."""
    return redact(text[: limit + _LONGEST_KEY])[:limit]


def looks_like_key(text: str) -> bool:
    return bool(_KEY_SHAPES.search(text))
