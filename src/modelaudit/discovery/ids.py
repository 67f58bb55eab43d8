"""Dated snapshot, floating alias, or neither: what a model id says about itself, and what
the catalog around it adds.

A pin on a floating alias moves when the vendor moves it, so the CI gate cannot promise
anything about it. Vendors write dates in several ways, and this module reads them all
rather than knowing ids one by one:

* `-2025-04-14` (OpenAI), `-20250929` (Anthropic), `@20240620` (Vertex), `-2411`
  (Mistral's year-month), `-0613` (month-day), `-preview-05-20` (month-day, no year);
* a version stamp: Gemini's `-001`, Bedrock's `-v1:0`;
* an alias word: `-latest`, `:latest`.

The catalog then settles what the id alone cannot: an id that is the stem of dated ids
listed beside it is an alias over them (`gpt-4o` beside `gpt-4o-2024-08-06`); a list that
names aliases (Mistral's and llama.cpp's `aliases`), a canonical id (OpenRouter's
`canonical_slug`) or a digest shared by two tags (Ollama) resolves them; a look-up by id
that answers with another id (Anthropic) resolves an alias the list leaves out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Literal

from modelaudit.families.base import CatalogEntry


class IdKind(StrEnum):
    SNAPSHOT = "snapshot"
    """Fixed: a dated or versioned id, or one the vendor or the look-up says is fixed."""
    ALIAS = "alias"
    """Floating: the vendor may point it at another model at any time."""
    UNDATED = "undated"
    """No date, no version, no alias word, and nothing in the catalog says which."""


_SEPARATORS = re.compile(r"([-_@:])")
_ALIAS_WORDS = frozenset({"latest"})
_FIRST_YEAR, _LAST_YEAR = 2000, 2099
# Two-digit years a -YYMM stamp may carry: 2023-2039. A -MMDD stamp starts with 01-12,
# so the two readings of four digits never overlap.
_YYMM_YEARS = range(23, 40)


@dataclass(frozen=True)
class IdShape:
    kind: IdKind
    stem: str
    """The id without its stamp or alias word: what an alias and its snapshots share."""
    stamp: str | None = None
    """The date or version as written (`2025-04-14`, `0613`, `001`, `v1:0`)."""
    day: date | None = None
    """The stamp's date when it has a year (the first of the month for -YYMM)."""
    order: tuple[int, ...] = ()
    """Sorts snapshots of one stem, oldest first, when the stamp alone can."""
    why: str = "no date, version or alias word in the id"


@dataclass(frozen=True)
class _Stamp:
    start: int
    end: int
    """Token indexes [start, end) the stamp covers."""
    text: str
    day: date | None
    order: tuple[int, ...]
    what: str


def shape(model_id: str) -> IdShape:
    """What the id alone says: read from its last path segment (`org/` prefixes kept in the
    stem)."""
    prefix, _, name = model_id.rpartition("/")
    head = f"{prefix}/" if prefix else ""
    parts = _SEPARATORS.split(name)
    tokens, seps = parts[0::2], ["", *parts[1::2]]
    alias_at = [i for i, t in enumerate(tokens) if i > 0 and t.lower() in _ALIAS_WORDS]
    stamp = _find_stamp(tokens, seps)
    if alias_at:
        stem = head + _join(tokens, seps, set(alias_at))
        word = tokens[alias_at[0]]
        return IdShape(IdKind.ALIAS, stem, why=f"`{seps[alias_at[0]]}{word}` names a moving target")
    if stamp is not None:
        stem = head + _join(tokens, seps, set(range(stamp.start, stamp.end)))
        return IdShape(IdKind.SNAPSHOT, stem, stamp.text, stamp.day, stamp.order, why=stamp.what)
    return IdShape(IdKind.UNDATED, model_id)


def _join(tokens: list[str], seps: list[str], dropped: set[int]) -> str:
    kept = [(seps[i], t) for i, t in enumerate(tokens) if i not in dropped]
    if not kept:
        return ""
    text = kept[0][1] + "".join(sep + token for sep, token in kept[1:])
    return text.strip("-_@:")


def _find_stamp(tokens: list[str], seps: list[str]) -> _Stamp | None:
    """The first date in the name after its first token, else a trailing version."""
    for i in range(1, len(tokens)):
        found = _date_at(tokens, seps, i)
        if found is not None:
            return found
    return _version_at_end(tokens, seps)


def _date_at(tokens: list[str], seps: list[str], i: int) -> _Stamp | None:
    token = tokens[i]
    if not token.isdigit():
        return None
    if len(token) == 8:
        day = _day(int(token[:4]), int(token[4:6]), int(token[6:]))
        if day is not None:
            return _Stamp(i, i + 1, token, day, (day.toordinal(),), f"dated `{seps[i]}{token}`")
    if len(token) == 4 and _joined_by_dashes(tokens, seps, i, 3):
        day = _day(int(token), int(tokens[i + 1]), int(tokens[i + 2]))
        if day is not None:
            text = "-".join(tokens[i : i + 3])
            return _Stamp(i, i + 3, text, day, (day.toordinal(),), f"dated `-{text}`")
    if len(token) == 4:
        return _four_digits(token, seps[i], i)
    if len(token) == 2 and _joined_by_dashes(tokens, seps, i, 2) and not tokens[i - 1].isdigit():
        month, dom = int(token), int(tokens[i + 1])
        if _day(2000, month, dom) is not None:  # a leap year: 02-29 is a real day
            text = f"{token}-{tokens[i + 1]}"
            return _Stamp(i, i + 2, text, None, (month, dom), f"dated `-{text}` (month-day)")
    return None


def _four_digits(token: str, sep: str, i: int) -> _Stamp | None:
    high, low = int(token[:2]), int(token[2:])
    if 1 <= high <= 12 and _day(2000, high, low) is not None:
        return _Stamp(i, i + 1, token, None, (high, low), f"dated `{sep}{token}` (month-day)")
    if high in _YYMM_YEARS and 1 <= low <= 12:
        day = date(2000 + high, low, 1)
        return _Stamp(
            i, i + 1, token, day, (day.toordinal(),), f"dated `{sep}{token}` (year-month)"
        )
    return None


def _joined_by_dashes(tokens: list[str], seps: list[str], i: int, count: int) -> bool:
    if i + count > len(tokens):
        return False
    return all(
        seps[j] in ("-", "_") and tokens[j].isdigit() and len(tokens[j]) == 2
        for j in range(i + 1, i + count)
    )


def _version_at_end(tokens: list[str], seps: list[str]) -> _Stamp | None:
    last = len(tokens) - 1
    if last >= 1 and re.fullmatch(r"0\d\d", tokens[last]):
        number = int(tokens[last])
        return _Stamp(
            last, last + 1, tokens[last], None, (number,), f"version `{seps[last]}{tokens[last]}`"
        )
    if (
        last >= 2
        and seps[last] == ":"
        and tokens[last].isdigit()
        and re.fullmatch(r"v\d+", tokens[last - 1])
    ):
        text = f"{tokens[last - 1]}:{tokens[last]}"
        order = (int(tokens[last - 1][1:]), int(tokens[last]))
        return _Stamp(last - 1, last + 1, text, None, order, f"version `-{text}`")
    return None


def _day(year: int, month: int, dom: int) -> date | None:
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        return None
    try:
        return date(year, month, dom)
    except ValueError:
        return None


# --- an id among the others its catalog lists ------------------------------------------------

ResolvedBy = Literal["catalog", "look-up"]


@dataclass(frozen=True)
class IdFinding:
    """What is known about one id once its catalog (and any look-up) is read."""

    id: str
    kind: IdKind
    why: str
    stamp: str | None = None
    day: date | None = None
    resolves_to: str | None = None
    """The id it points at now, where the catalog or a look-up by id says."""
    resolved_by: ResolvedBy | None = None
    snapshots: tuple[str, ...] = ()
    """For an alias or an undated id: the dated ids of its stem that are listed, newest
    first."""
    aliases: tuple[str, ...] = ()
    """Ids the catalog says point at this one."""
    superseded_by: str | None = None
    """For a snapshot: the newest dated snapshot of its stem listed, when that is another."""
    pin: str = ""
    """The id to pin: itself when fixed; else what it resolves to, when that id can be
    asked for (listed, or answered by the look-up); else the newest dated snapshot of its
    stem; else itself (nothing fixed is known)."""


@dataclass(frozen=True)
class Conventions:
    """What the vendor table says about a provider's ids (`vendors.yaml` `ids`)."""

    undated: Literal["alias", "snapshot", "unknown"] = "unknown"
    lookup_resolves: bool = False


@dataclass
class _Pending:
    kind: IdKind
    why: str
    shape: IdShape
    resolves_to: str | None = None
    resolved_by: ResolvedBy | None = None
    snapshots: tuple[str, ...] = ()
    aliases: list[str] = field(default_factory=list)
    superseded_by: str | None = None


def read_listing(
    entries: Iterable[CatalogEntry],
    conventions: Conventions = Conventions(),
    looked_up: Mapping[str, str] | None = None,
) -> dict[str, IdFinding]:
    """Every listed id with its kind. `looked_up` maps ids asked for by id (listed or not)
    to the id the look-up answered with; an id it adds is included."""
    listed = {e.id: e for e in entries}
    pending = {i: _start(shape(i)) for i in listed}
    for model_id, answer in (looked_up or {}).items():
        pending.setdefault(model_id, _start(shape(model_id)))
        _apply_look_up(pending[model_id], model_id, answer, conventions)
    _apply_catalog_links(pending, listed)
    _apply_stems(pending, listed)
    for item in pending.values():
        if item.kind is IdKind.UNDATED and item.resolves_to is None:
            _apply_convention(item, conventions)
    return {model_id: _finish(model_id, item, listed) for model_id, item in pending.items()}


def _start(s: IdShape) -> _Pending:
    return _Pending(s.kind, s.why, s)


def _apply_look_up(item: _Pending, model_id: str, answer: str, conventions: Conventions) -> None:
    if answer != model_id:
        item.kind, item.resolves_to, item.resolved_by = IdKind.ALIAS, answer, "look-up"
        item.why = f"the look-up by id answers with `{answer}`"
    elif conventions.lookup_resolves and item.kind is IdKind.UNDATED:
        item.kind = IdKind.SNAPSHOT
        item.why = "the look-up by id, which resolves aliases here, answers with this same id"


def _apply_catalog_links(pending: dict[str, _Pending], listed: Mapping[str, CatalogEntry]) -> None:
    for entry in listed.values():
        item = pending[entry.id]
        if entry.canonical_id and item.resolves_to is None:
            item.kind, item.resolves_to, item.resolved_by = (
                IdKind.ALIAS,
                entry.canonical_id,
                "catalog",
            )
            item.why = f"the catalog names `{entry.canonical_id}` behind it"
        for alias in entry.aliases:
            item.aliases.append(alias)
            target = pending.get(alias)
            if target is not None and target.resolves_to is None:
                target.kind, target.resolves_to, target.resolved_by = (
                    IdKind.ALIAS,
                    entry.id,
                    "catalog",
                )
                target.why = f"the catalog lists it as an alias of `{entry.id}`"
    by_digest: dict[str, list[str]] = {}
    for entry in listed.values():
        if entry.digest:
            by_digest.setdefault(entry.digest, []).append(entry.id)
    for ids in by_digest.values():
        fixed = [i for i in ids if pending[i].shape.kind is not IdKind.ALIAS]
        for model_id in ids:
            item = pending[model_id]
            if item.shape.kind is IdKind.ALIAS and fixed and item.resolves_to is None:
                item.resolves_to, item.resolved_by = fixed[0], "catalog"
                item.why = f"{item.why}; same digest as `{fixed[0]}`"
                pending[fixed[0]].aliases.append(model_id)


def _apply_stems(pending: dict[str, _Pending], listed: Mapping[str, CatalogEntry]) -> None:
    dated: dict[str, list[str]] = {}
    for model_id, item in pending.items():
        if item.shape.kind is IdKind.SNAPSHOT and model_id in listed:
            dated.setdefault(item.shape.stem.lower(), []).append(model_id)
    for ids in dated.values():
        ordered = newest_first(ids, listed, pending)
        for older in ordered[1:]:
            pending[older].superseded_by = ordered[0]
    for model_id, item in pending.items():
        if item.shape.kind is IdKind.SNAPSHOT:
            continue
        stem = (item.shape.stem if item.shape.kind is IdKind.ALIAS else model_id).lower()
        snapshots = dated.get(stem, [])
        if not snapshots:
            continue
        item.snapshots = tuple(newest_first(snapshots, listed, pending))
        if item.kind is IdKind.UNDATED:
            item.kind = IdKind.ALIAS
            item.why = f"dated snapshots of `{model_id}` are listed beside it"


def newest_first(
    ids: Iterable[str], listed: Mapping[str, CatalogEntry], pending: Mapping[str, _Pending]
) -> list[str]:
    def key(model_id: str) -> tuple[int, tuple[int, ...], int]:
        s = pending[model_id].shape
        has_year = 1 if s.day is not None else 0
        created = listed[model_id].created or 0
        return (has_year, s.order if has_year else (created, *s.order), created)

    return sorted(ids, key=key, reverse=True)


def _apply_convention(item: _Pending, conventions: Conventions) -> None:
    if conventions.undated == "snapshot":
        item.kind, item.why = IdKind.SNAPSHOT, "a dateless id is fixed at this provider"
    elif conventions.undated == "alias":
        item.kind, item.why = IdKind.ALIAS, "a dateless id moves at this provider"


def _pin(model_id: str, item: _Pending, listed: Mapping[str, CatalogEntry]) -> str:
    if item.kind is IdKind.SNAPSHOT:
        return model_id
    target = item.resolves_to
    if target is not None and (item.resolved_by == "look-up" or target in listed):
        return target
    return item.snapshots[0] if item.snapshots else model_id


def _finish(model_id: str, item: _Pending, listed: Mapping[str, CatalogEntry]) -> IdFinding:
    s = item.shape
    finding = IdFinding(
        id=model_id,
        kind=item.kind,
        why=item.why,
        stamp=s.stamp,
        day=s.day,
        resolves_to=item.resolves_to,
        resolved_by=item.resolved_by,
        snapshots=item.snapshots,
        aliases=tuple(dict.fromkeys(item.aliases)),
        superseded_by=item.superseded_by,
        pin=_pin(model_id, item, listed),
    )
    return replace(finding, snapshots=()) if finding.kind is IdKind.SNAPSHOT else finding
