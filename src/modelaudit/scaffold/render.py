"""A draft as `providers.yaml` text: the schema's field order, one comment line per
inference, every scalar quoted unless it reads back exactly as written."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable

import yaml

from modelaudit.scaffold.draft import Draft, DraftModel, DraftProvider, comment_text

WIDTH = 100
_PLAIN = re.compile(r"[A-Za-z0-9_./@+-][A-Za-z0-9_./:@+ -]*")


def scalar(value: str) -> str:
    """`value` as a YAML scalar: plain when YAML reads it back as this same string (so
    `1:30`, `yes`, `null`, `2025-04-14` are quoted), double-quoted otherwise."""
    if (
        _PLAIN.fullmatch(value)
        and value == value.strip()
        and ": " not in value
        and " #" not in value
    ):
        try:
            if yaml.safe_load(f"k: {value}") == {"k": value}:
                return value
        except yaml.YAMLError:
            pass
    return quoted(value)


def quoted(value: str) -> str:
    """A YAML double-quoted scalar in printable ASCII: every other character escaped, as
    `\\uXXXX` or (beyond the BMP) `\\UXXXXXXXX`, which YAML reads back exactly (JSON's
    surrogate pairs it does not)."""
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def render(draft: Draft) -> str:
    lines = [f"# {comment_text(line)}" if line else "#" for line in draft.header]
    lines += ["", "version: 1", "", "providers:"]
    for provider in draft.providers:
        block = list(_provider(provider))
        if provider.commented_out is not None:
            lines += ["", *_comments([f"NOT ACTIVE: {provider.commented_out}"], "  ")]
            lines += [f"  # {line[2:]}" for line in block]
        else:
            lines += ["", *block]
    return "\n".join(lines) + "\n"


def _comments(texts: Iterable[str], indent: str) -> list[str]:
    """One comment per text, wrapped at the file's width (continuations indented)."""
    lines = []
    for text in texts:
        wrapped = textwrap.wrap(comment_text(text), WIDTH - len(indent) - 2) or [""]
        lines.append(f"{indent}# {wrapped[0]}")
        lines += [f"{indent}#   {more}" for more in wrapped[1:]]
    return lines


def _provider(p: DraftProvider) -> Iterable[str]:
    yield from _comments(p.comments, "  ")
    yield f"  - name: {scalar(p.name)}"
    yield f"    api: {scalar(p.api)}"
    yield f"    base_url: {scalar(p.base_url)}"
    if p.api_version:
        yield f"    api_version: {scalar(p.api_version)}"
    if p.api_key_env:
        yield f"    api_key: env:{p.api_key_env}"
    yield f"    hosting: {p.hosting.value}"
    if p.server is not None:
        yield f"    server: {p.server.value}"
    if p.jurisdiction:
        yield f"    jurisdiction: {p.jurisdiction}"
    yield "    models:"
    for model in p.models:
        yield from _model(model)


def _model(m: DraftModel) -> Iterable[str]:
    yield from _comments(m.comments, "      ")
    yield f"      - id: {scalar(m.id)}"
    yield f"        weights: {m.weights.value}"
    if m.license:
        yield f"        license: {scalar(m.license)}"
    if m.family:
        yield f"        family: {scalar(m.family)}"
    if m.base_model:
        yield f"        base_model: {scalar(m.base_model)}"
    if m.pinned:
        yield "        pinned: true"
    if m.retires:
        yield f"        retires: {m.retires.isoformat()}"
    if m.fallbacks:
        yield "        fallbacks:"
        yield from (f"          - {scalar(ref)}" for ref in m.fallbacks)
    if m.tags:
        yield "        tags:"
        yield from (f"          - {scalar(tag)}" for tag in m.tags)
