"""Draft providers from model lists that were read: one entry per model worth probing.

From each list: the models that generate text (the list's own capability fields where it
has them, else ids naming another modality are left out); one entry per model, written
under its dated snapshot where one is known (its floating aliases and older snapshots
named in comments, not written); weights open or closed with the reason; retirement dates
the list carries.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass

from modelaudit.discovery.catalogs import CatalogRead
from modelaudit.discovery.ids import IdFinding, IdKind
from modelaudit.discovery.weights import weights_name
from modelaudit.families.base import CatalogEntry
from modelaudit.scaffold.draft import DraftModel, DraftProvider
from modelaudit.vocabulary import Hosting, Weights

# Words that name another modality than text generation, for lists that carry no
# capability fields (OpenAI's, Groq's): an embedding, speech, image or moderation model
# cannot answer the probe's chat request.
_OTHER_MODALITY = frozenset(
    {
        "embed",
        "embedding",
        "embeddings",
        "tts",
        "whisper",
        "transcribe",
        "transcription",
        "dall",
        "image",
        "moderation",
        "rerank",
        "reranker",
        "realtime",
        "audio",
        "speech",
        "sora",
        "guard",
    }
)
MAX_ID_LENGTH = 200


@dataclass(frozen=True)
class Selection:
    only: tuple[str, ...] = ()
    """Globs: keep a model when its id or one of its aliases matches one."""


def usable_id(model_id: str) -> bool:
    """An id a request can carry and a person can read: not too long, printable, UTF-8."""
    if not model_id or len(model_id) > MAX_ID_LENGTH or not model_id.isprintable():
        return False
    try:
        model_id.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, from a JSON `\ud800` escape
        return False
    return True


def generates_text(entry: CatalogEntry) -> bool:
    if entry.generates_text is not None:
        return entry.generates_text
    words = set(re.split(r"[-_.:/@]+", entry.id.lower()))
    return not words & _OTHER_MODALITY


def draft_provider(read: CatalogRead, selection: Selection) -> tuple[DraftProvider, list[str]]:
    """The provider and its models, with notes on what was left out."""
    source = read.source
    p = source.provider
    notes: list[str] = []
    entries = {i: e for i, e in read.entries.items() if usable_id(i)}
    if len(entries) < len(read.entries):
        notes.append(
            f"{p.name}: {len(read.entries) - len(entries)} ids left out: longer than "
            f"{MAX_ID_LENGTH} characters, or not printable text"
        )
    text = {i: e for i, e in entries.items() if generates_text(e)}
    if len(text) < len(entries):
        notes.append(
            f"{p.name}: {len(entries) - len(text)} models that do not generate text "
            "(embeddings, speech, images...) left out"
        )
    groups = _groups(text, read.findings)
    chosen = [g for g in groups if _selected(g, selection)]
    draft = DraftProvider(
        name=p.name,
        api=p.api,
        base_url=p.base_url,
        hosting=p.hosting,
        api_key_env=p.api_key.name if p.api_key and p.api_key.source == "env" else None,
        server=p.server,
        jurisdiction=p.jurisdiction,
        comments=[_found_by(read)],
    )
    draft.models = [_model(read, group) for group in chosen]
    return draft, notes


@dataclass(frozen=True)
class _Group:
    model_id: str
    aliases: tuple[str, ...]
    older: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return (self.model_id, *self.aliases, *self.older)


def _groups(text: dict[str, CatalogEntry], findings: Mapping[str, IdFinding]) -> list[_Group]:
    """One group per model to write: the id itself, the aliases that resolve to it, the
    older snapshots of its stem (in list order of the written ids)."""
    aliases: dict[str, list[str]] = {}
    older: dict[str, list[str]] = {}
    written = []
    floating = [f for f in findings.values() if f.kind is not IdKind.SNAPSHOT]
    targets = {f.pin for f in floating if f.pin != f.id and f.pin in text}
    for model_id in text:
        f = findings[model_id]
        newest = f.superseded_by
        if f.kind is IdKind.SNAPSHOT and newest in text and model_id not in targets:
            assert newest is not None
            older.setdefault(newest, []).append(model_id)
        elif f.kind is not IdKind.SNAPSHOT and f.pin in targets:
            aliases.setdefault(f.pin, []).append(model_id)
        else:
            written.append(model_id)
    return [_Group(i, tuple(aliases.get(i, ())), tuple(older.get(i, ()))) for i in written]


def _selected(group: _Group, selection: Selection) -> bool:
    if not selection.only:
        return True
    return any(fnmatch.fnmatchcase(n, g) for n in group.names for g in selection.only)


def _found_by(read: CatalogRead) -> str:
    source = read.source
    where = {
        "env": f"{source.detail}; the model list of {source.provider.base_url}",
        "local": source.detail,
        "registry": "from the registry",
    }[source.origin]
    if source.vendor is not None:
        return f"{source.vendor.title}: {where}"
    return where


def _model(read: CatalogRead, group: _Group) -> DraftModel:
    entry = read.entries[group.model_id]
    finding = read.findings[group.model_id]
    weights, why = _weights(read, entry)
    model = DraftModel(
        id=group.model_id,
        weights=weights,
        also=list(group.aliases),
        retires=entry.retires,
    )
    if read.source.provider.hosting is not Hosting.SELF_HOSTED or finding.kind is IdKind.ALIAS:
        model.comments.append(_kind_words(finding))
    for alias in group.aliases:
        model.comments.append(_alias_words(alias, read.findings[alias]))
    if group.older:
        model.comments.append(
            f"older dated snapshots listed, not written: {', '.join(group.older)}"
        )
    if entry.lifecycle or entry.note:
        said = ", ".join(w for w in (entry.lifecycle, entry.note) if w)
        model.comments.append(f"the model list says: {said}")
    if entry.retires:
        model.comments.append("retires: the date the model list carries")
    model.comments.append(f"weights: {why}")
    if weights is Weights.OPEN:
        named = weights_name(group.model_id, entry.weights_id)
        if named is not None:
            model.weights_key, model.weights_label = named.key, named.label
    model.older = list(group.older)
    return model


def _kind_words(finding: IdFinding) -> str:
    if finding.kind is IdKind.SNAPSHOT:
        return f"fixed id: {finding.why}"
    if finding.kind is IdKind.ALIAS:
        return f"floating alias ({finding.why}); no dated snapshot of it is listed"
    return "no date in the id and no dated snapshot listed beside it: check whether it moves"


def _alias_words(alias: str, finding: IdFinding) -> str:
    if finding.resolves_to is not None:
        by = "the look-up by id" if finding.resolved_by == "look-up" else "the model list"
        return f"`{alias}` is a floating alias of this id ({by} says so): pin this id"
    return (
        f"`{alias}` floats over the dated snapshots listed; this is the newest of them "
        "(the alias may point at another): pin a dated id"
    )


def _weights(read: CatalogRead, entry: CatalogEntry) -> tuple[Weights, str]:
    source = read.source
    if source.provider.hosting is Hosting.SELF_HOSTED:
        return Weights.OPEN, "open (served by your own server)"
    if entry.weights_id:
        return Weights.OPEN, f"open (the model list names the repository {entry.weights_id})"
    vendor = source.vendor
    if vendor is None or vendor.weights == "mixed":
        return Weights.CLOSED, "closed assumed (this provider serves open and closed models): check"
    if vendor.weights == "open":
        return Weights.OPEN, f"open ({vendor.title} serves open weights)"
    return Weights.CLOSED, f"closed ({vendor.title} serves closed models)"
