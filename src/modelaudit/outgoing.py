"""Values on their way out of the process: every string redacted and printable.

Every format (the JSON documents, JSON lines, tables, Markdown, HTML, SARIF, JUnit, the
lockfile, the metrics) renders a value that went through `outgoing` first, so redaction
works on strings, before any serializer escapes them: a pattern run over a serialized
document could swallow half of an escape (`\\"`) and break the document it meant to
protect. `json_text` is the one way a JSON document is written.

A value is walked whole: strings (mapping keys included), lists, tuples (named ones keep
their type), sets, mappings and dataclass instances (copied, never changed in place).
Enums, numbers, dates and anything else are kept as they are; in a JSON document a number
that is not finite becomes `null`, the only value JSON has for it.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import itertools
import json
import math
import re
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

from modelaudit.redact import redact
from modelaudit.untrusted import printable

T = TypeVar("T")


def outgoing(value: T) -> T:
    """`value` with every string in it redacted and made printable."""
    walked: T = _Walk(finite=False).value(value)  # type: ignore[assignment]
    return walked


def outgoing_each(values: Iterable[T]) -> Iterator[T]:
    """Each of `values` as `outgoing` makes it, one at a time, remembering the strings made
    safe across all of them (a 10,000-model report's models share most of their words)."""
    walk = _Walk(finite=False)
    for value in values:
        walked: T = walk.value(value)  # type: ignore[assignment]
        yield walked


def safe_texts() -> Callable[[str], str]:
    """`safe_text` for many strings, remembering those made safe (names and words repeat):
    for a writer that knows which of its strings may come from outside."""
    return _Walk(finite=True).text


def json_text(document: object, **options: Any) -> str:
    """The JSON text of `document` once it went through `outgoing` (non-finite numbers as
    null), with `json.dumps`'s `options`."""
    clean = _Walk(finite=True).value(document)
    return json.dumps(clean, allow_nan=False, **options)


def json_chunks(
    document: Mapping[str, object],
    *,
    listed: Collection[str] = (),
    walked: Collection[str] = (),
    ensure_ascii: bool = True,
) -> Iterator[str]:
    """The JSON text of `document` (an object) once it went through `outgoing`, piece by
    piece as it is built: its keys in order, two spaces of indent, and each item of the
    lists named in `listed` (any iterable: items are made as they are written) compact on a
    line of its own. Items are encoded by json's C encoder (an indented `json.dumps` takes
    its pure-Python one: seconds and hundreds of MB for a 10,000-model document) and
    walked one at a time, so the whole document is never held as values or as text.
    The items of the lists named in `walked` were made from values that went through
    `outgoing` already (cheaper to walk than the dictionaries made of them): they are
    encoded as they are, and walked only if the encoder finds a number JSON cannot hold.
    An item that is `Encoded` already (`safe_item_encoder`'s) is written as it is."""
    walk = _Walk(finite=True)
    for index, (key, value) in enumerate(document.items()):
        yield ("{\n  " if index == 0 else ",\n  ") + json.dumps(walk.value(key)) + ": "
        if key in listed:
            yield from _lines(walk, value, ensure_ascii, safe=key in walked)  # type: ignore[arg-type]
            continue
        text = json.dumps(walk.value(value), allow_nan=False, indent=2, ensure_ascii=ensure_ascii)
        yield text.replace("\n", "\n  ")
    yield "\n}\n" if document else "{}\n"


def _lines(
    walk: _Walk, items: Iterable[object], ensure_ascii: bool, *, safe: bool
) -> Iterator[str]:
    # No cycle check: the items are trees of fresh values (a cycle would be a bug, and
    # would still end in an error); it kept a mark per container of 72 MB of models.
    encoder = json.JSONEncoder(allow_nan=False, ensure_ascii=ensure_ascii, check_circular=False)
    encode = encoder.encode
    opened = False
    for item in items:
        text: str | None = item if isinstance(item, Encoded) else None
        if safe and text is None:
            with contextlib.suppress(ValueError):  # a number JSON cannot hold: walk it
                text = encode(item)
        if text is None:
            text = encode(walk.value(item))
        yield ("[\n    " if not opened else ",\n    ") + text
        opened = True
    yield "\n  ]" if opened else "[]"


class Encoded(str):
    """The compact JSON text of one item of a `json_chunks` list, made ahead of it."""

    __slots__ = ()


def safe_item_encoder(*, ensure_ascii: bool = True) -> Callable[[object], Encoded]:
    """What `json_chunks` makes of an item of a `walked` list (its strings made safe
    already), for a writer that makes some of them ahead: the same text."""
    encode = json.JSONEncoder(
        allow_nan=False, ensure_ascii=ensure_ascii, check_circular=False
    ).encode
    walk = _Walk(finite=True)

    def encoded(item: object) -> Encoded:
        try:
            return Encoded(encode(item))
        except ValueError:  # a number JSON cannot hold
            return Encoded(encode(walk.value(item)))

    return encoded


def safe_text(text: str) -> str:
    """One string as it may leave the process: redacted, then printable."""
    return printable(redact(text))


class _Walk:
    def __init__(self, *, finite: bool) -> None:
        self.finite = finite
        self.seen: dict[str, str] = {}
        self.shared: dict[int, tuple[tuple[object, ...], object]] = {}
        """Long tuples walked, by identity, with what they became: values built from one
        list share it (a catalog's ids, the same tuple in each of a provider's results)."""

    def text(self, text: str) -> str:
        """`text` made safe; `text` itself when that changes nothing (an equal string is
        not a change: the values holding it are not copied)."""
        found = self.seen.get(text)
        if found is None:
            if len(self.seen) >= _REMEMBERED:  # a streamed document's every timestamp
                self.seen.clear()
            found = self.seen[text] = safe_text(text)
        return text if found == text else found

    def value(self, value: object) -> object:
        kind = type(value)  # exact types first: a report has hundreds of thousands of values
        if kind is str:
            return self.text(value)  # type: ignore[arg-type]
        if kind in _KEPT:
            return value
        if kind is tuple:
            return self._tuple(value)  # type: ignore[arg-type]
        if kind is dict:
            return self._dict(value)  # type: ignore[arg-type]
        fields = _TEXT_FIELDS.get(kind)
        if fields is not None:  # a dataclass seen before (a timeline point holds no text)
            return self._dataclass(value) if fields else value
        if isinstance(value, Enum | bool | int):
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, float):
            return None if self.finite and not math.isfinite(value) else value
        return self._other(value)

    def _other(self, value: object) -> object:
        """A container, a dataclass not seen before, or anything else (kept)."""
        if isinstance(value, list):
            items = [self.value(v) for v in value]
            return items if _changed(items, value) else value
        if isinstance(value, tuple):
            return self._tuple(value)
        if isinstance(value, set | frozenset):
            items = [self.value(v) for v in value]
            return type(value)(items) if _changed(items, list(value)) else value
        if isinstance(value, Mapping):
            pairs = [(self.value(k), self.value(v)) for k, v in value.items()]
            unchanged = zip(pairs, value.items(), strict=True)
            if not any(a is not k or b is not v for (a, b), (k, v) in unchanged):
                return value
            return dict(pairs)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self._dataclass(value)
        return value

    def _dict(self, value: dict[object, object]) -> object:
        fresh: dict[object, object] | None = None
        for index, (key, item) in enumerate(value.items()):
            new_key, new_item = self.value(key), self.value(item)
            if fresh is None and (new_key is not key or new_item is not item):
                fresh = dict(itertools.islice(value.items(), index))
            if fresh is not None:
                fresh[new_key] = new_item
        return value if fresh is None else fresh

    def _tuple(self, value: tuple[object, ...]) -> object:
        if not value or _textless(value):
            return value
        shared = len(value) >= _SHARED_LENGTH or type(value[0]) in _TEXT_FIELDS
        if shared:
            known = self.shared.get(id(value))
            if known is not None and known[0] is value:
                return known[1]
        items = [self.value(v) for v in value]
        made: object = value
        if _changed(items, value):
            make = getattr(value, "_make", None)  # a named tuple keeps its type
            made = make(items) if callable(make) else tuple(items)
        if shared:
            if len(self.shared) >= _REMEMBERED:
                self.shared.clear()
            self.shared[id(value)] = (value, made)  # the tuple held: its id stays its own
        return made

    def _dataclass(self, value: object) -> object:
        names = _text_fields(type(value))
        if not names:
            return value
        changed: dict[str, object] = {}
        text = self.text
        for name in names:
            old = getattr(value, name)
            if old is None:
                continue
            new = text(old) if type(old) is str else self.value(old)
            if new is not old:
                changed[name] = new
        if not changed:
            return value
        fresh = copy.copy(value)
        for name, new in changed.items():
            object.__setattr__(fresh, name, new)  # frozen dataclasses too
        return fresh


def _textless(items: tuple[object, ...]) -> bool:
    """Items all of one dataclass already known to hold no text (a timeline's points: a
    10,000-model report has 300,000), passed over without a call per item."""
    kind = type(items[0]) if items else None
    return _TEXT_FIELDS.get(kind) == () and all(type(item) is kind for item in items)  # type: ignore[arg-type]


_REMEMBERED = 50_000
"""Strings a walk remembers having made safe (names and words repeat; a long document's
timestamps do not, and are not kept for ever)."""
_SHARED_LENGTH = 16
"""Tuples this long are remembered by identity (shorter ones cost less to walk again),
and tuples of dataclasses (a catalog's models share one attempt log)."""
_KEPT = frozenset({int, bool, type(None), datetime, date, timedelta})
_SCALARS = frozenset({"int", "float", "bool", "None", "datetime", "date", "timedelta"})
_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


_TEXT_FIELDS: dict[type, tuple[str, ...]] = {}


def _text_fields(cls: type) -> tuple[str, ...]:
    """The names of the fields of a dataclass that may hold a string: all but those
    annotated with numbers, booleans, dates and enumerations only (`float | None`,
    `ErrorClass | None`), which are skipped: `value` keeps such values as they are. (A
    field whose annotation names anything else is walked.)"""
    found = _TEXT_FIELDS.get(cls)
    if found is None:
        names = vars(sys.modules[cls.__module__]) if cls.__module__ in sys.modules else {}
        found = _TEXT_FIELDS[cls] = tuple(
            field.name
            for field in dataclasses.fields(cls)
            if not (
                isinstance(field.type, str)
                and all(_kept_word(word, names) for word in _WORDS.findall(field.type))
            )
        )
    return found


def _kept_word(word: str, names: Mapping[str, object]) -> bool:
    """Whether a word of an annotation names a type whose values `value` keeps as they
    are: a number, a date, or an enumeration of the dataclass's module."""
    if word in _SCALARS:
        return True
    named = names.get(word)
    return isinstance(named, type) and issubclass(named, Enum)


def _changed(new: list[object], old: list[object] | tuple[object, ...]) -> bool:
    return any(a is not b for a, b in zip(new, old, strict=True))
