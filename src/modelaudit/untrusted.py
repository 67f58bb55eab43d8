"""Text that came from outside (a server's reply, a file): bounded, and safe to show.

A server decides what its model ids, error messages and headers say. Stored or shown as
they are, a 5 MB model id fills the database and every report, and an escape sequence in
an error message clears the terminal of whoever reads the table, or turns the text
around (right-to-left override). Every such string is cut to a length that suits what it
is, and every character that is not printable (controls, format characters such as the
bidi overrides and zero-width spaces, line separators) is shown as its escape (`\\x1b`,
`\\u202e`), never interpreted.
"""

from __future__ import annotations

MAX_ID_CHARS = 256
"""A model id, a served-model name, a fingerprint, a header's name or value."""
MAX_NOTE_CHARS = 300
"""A catalog's lifecycle word or note."""
MAX_DETAIL_CHARS = 1000
"""An attempt's detail, a verdict's reason: one line that says what happened."""
MAX_HEADERS = 32
"""Rate-limit headers kept from one response."""
ELLIPSIS = "…"


def printable(text: str) -> str:
    """`text` with every character that is not printable shown as its escape; the same
    text when there is none (the common case costs one scan in C)."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


def capped(text: str, limit: int) -> str:
    """At most `limit` characters; a cut text ends with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS


def outside(text: str, limit: int) -> str:
    """A string from outside, as it may be stored and shown: cut, then made printable
    (escapes lengthen it, so the escaped form is cut again)."""
    return capped(printable(capped(text, limit)), limit)


def outside_or_none(text: str | None, limit: int) -> str | None:
    return None if text is None else outside(text, limit)
