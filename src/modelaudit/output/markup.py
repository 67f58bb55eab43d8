"""HTML built with autoescaping: markup is a `Markup` (markupsafe), and any other value put
into markup is escaped, so text from a server, the registry or the history cannot become
markup because someone forgot to escape it.

`html('<td data-label="{}">{}</td>', label, value)` is markup of ours (a literal) with
holes: each value is escaped (markupsafe's `escape`) unless it is `Markup` already (what
`html`, `escape`, `join` and a `Template` return, or a literal of ours wrapped in
`Markup`). A template is compiled once and kept, so the rows of a 10,000-model page cost
a C `str.format` each, not a parse (`Markup.format` parses its string on every call,
about five times slower).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, LiteralString

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["Markup", "Template", "escape", "html", "join"]

_escape_str: Callable[[str], str]
try:
    # markupsafe's own C escaping of a str: `escape` does the same and wraps each value in a
    # Markup (a Python-level `__new__`), a third of a 10,000-model page's rendering.
    from markupsafe._speedups import _escape_inner

    _escape_str = _escape_inner
except ImportError:  # a markupsafe without its speedups (or other internals): the same rule
    _escape_str = escape


def _markup(escaped: str) -> Markup:
    # str.__new__ without Markup.__new__'s checks: `escaped` is markup by construction.
    return str.__new__(Markup, escaped)


class Template:
    """Markup with holes, compiled once: the literal pieces between the holes are markup
    (literals of ours, or `Markup` built from escaped values); calling it fills each hole
    with a value, escaped unless it is `Markup`."""

    __slots__ = ("_format", "_holes")

    def __init__(self, *pieces: Markup | LiteralString) -> None:
        self._format = "{}".join(p.replace("{", "{{").replace("}", "}}") for p in pieces)
        self._holes = len(pieces) - 1

    def __call__(self, *values: object) -> Markup:
        if len(values) != self._holes:
            raise TypeError(f"{self._holes} holes, {len(values)} values: {self._format!r}")
        return _markup(self._format.format(*[_as_markup(v) for v in values]))


def _as_markup(value: object) -> str:
    """`value` as it goes into markup: as it is if it is `Markup`, escaped otherwise."""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return _escape_str(value)
    if type(value) in _NUMBERS:
        return str(value)
    return escape(value)


_NUMBERS = frozenset({int, float})
"""No character of a number written out is special in HTML (a bool is written by `escape`)."""


_TEMPLATES: dict[str, Template] = {}


def html(markup: LiteralString, *values: object) -> Markup:
    """`markup` with its `{}` holes filled in order, each value escaped unless it is
    `Markup`."""
    template = _TEMPLATES.get(markup)
    if template is None:
        template = _TEMPLATES[markup] = Template(*markup.split("{}"))
    return template(*values)


def join(items: Iterable[object], separator: LiteralString = "") -> Markup:
    """The items one after the other, each escaped unless it is `Markup`."""
    return _markup(separator.join([_as_markup(v) for v in items]))
