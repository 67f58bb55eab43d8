"""What a request needs from the registry to be sent at all: a URL whose host can be
resolved and whose port exists, and headers HTTP can carry.

The schema checks these when the registry is loaded (exit 2 with the line and column), so
a registry that passes `config check` cannot fail once the run has started: a host
`a..b`, a port 70000 or a header value with a non-ASCII character would otherwise only
fail inside the HTTP client, in the middle of a run.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

MAX_HOST_CHARS = 253
MAX_LABEL_CHARS = 63
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?")
"""A host name's label: letters, digits, hyphens inside (underscores, which DNS itself
allows and container networks use, too)."""
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""An HTTP field name (RFC 9110, section 5.1)."""
_FIELD_VALUE = re.compile(r"(?:[\x21-\x7e](?:[ \t]*[\x21-\x7e])*)?")
"""What a header value may be: visible ASCII, with spaces and tabs inside (RFC 9110,
section 5.5, without the obsolete non-ASCII bytes, which no client sends as text)."""

FRAMING_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "expect",
    }
)
"""Headers that say where a request goes and how its message is framed: set by the HTTP
client, never by the registry (a second `content-length`, or `transfer-encoding` beside
it, makes a request servers read differently)."""
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "ocp-apim-subscription-key",
        "x-functions-key",
        "x-auth-token",
        "x-access-token",
        "x-amz-security-token",
    }
)
_CREDENTIAL_WORDS = frozenset({"token", "secret", "password", "apikey", "credential", "auth"})


def url_problem(url: str, *, credentials: bool = False) -> str | None:
    """What is wrong with an http(s) URL a request will be sent to (None when fine)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unbalanced "[" in the host
        return f"`{url}` is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"`{url}` is not an http(s) URL, e.g. https://api.openai.com/v1"
    if not credentials and (parts.username or parts.password):
        return "the URL carries credentials (user:password@): remove them and use `api_key`"
    problem = _port_problem(parts)
    if problem:
        return problem
    return host_problem(parts.hostname)


def _port_problem(parts: SplitResult) -> str | None:
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        return "the port must be a number from 1 to 65535"
    return None


def host_problem(host: str) -> str | None:
    """Whether `host` (as `urlsplit` gives it: no brackets, lower case) can be connected to:
    an IP address, or a DNS name of labels of letters, digits, `-` and `_`."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    if not host.isascii():
        try:
            ascii_form = host.encode("idna").decode("ascii")
        except UnicodeError:
            return f"the host `{host}` is not a valid host name"
        return f"write the host in its ASCII form: `{ascii_form}` for `{host}`"
    name = host.removesuffix(".")
    labels = name.split(".")
    if len(name) > MAX_HOST_CHARS or not all(
        _LABEL.fullmatch(label) and len(label) <= MAX_LABEL_CHARS for label in labels
    ):
        return (
            f"the host `{host}` is not a valid host name (dot-separated labels of 1 to 63 "
            "letters, digits, '-' or '_', at most 253 characters in all)"
        )
    return None


def header_problem(name: str, value: object) -> str | None:
    """What is wrong with a configured request header (None when it can be sent). Never
    quotes the value: it may be a secret."""
    normalized = name.strip().lower()
    if is_credential_header(normalized):
        return (
            f"header `{name}` carries a credential: put the key in `api_key` "
            "as env:VAR or file:PATH instead"
        )
    if not _TOKEN.fullmatch(name):
        return (
            f"header name `{name}` is not a valid HTTP header name (letters, digits and "
            "!#$%&'*+-.^_`|~, no spaces)"
        )
    if normalized in FRAMING_HEADERS:
        return f"header `{name}` is set by the HTTP client itself: remove it"
    if not isinstance(value, str) or not _FIELD_VALUE.fullmatch(value):
        return (
            f"the value of header `{name}` cannot be sent: write it in visible ASCII, "
            "without line breaks, control characters or leading and trailing spaces"
        )
    return None


def is_credential_header(normalized: str) -> bool:
    """A header that carries a credential, by its lower-cased name: a known one, one that
    ends in `-key`, or one with a word such as `token` or `secret` in it."""
    if normalized in CREDENTIAL_HEADERS or normalized.endswith("-key"):
        return True
    return any(word in _CREDENTIAL_WORDS for word in re.split(r"[-_.]", normalized))
