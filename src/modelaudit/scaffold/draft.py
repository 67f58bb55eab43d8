"""The registry `init` is about to write: providers and models, each with the comments
that say what was inferred and from what."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from modelaudit.vocabulary import Hosting, ServerEngine, Weights

_UNSAFE_IN_COMMENT = re.compile(r"[^\x20-\x7e]")
MAX_COMMENT = 400


def comment_text(text: str) -> str:
    """Server-supplied text made safe for a YAML comment: one line of printable ASCII
    (a line break, even U+2028, would end the comment and start YAML), cut to length."""
    cleaned = _UNSAFE_IN_COMMENT.sub("?", text)
    return cleaned if len(cleaned) <= MAX_COMMENT else cleaned[: MAX_COMMENT - 3] + "..."


@dataclass
class DraftModel:
    id: str
    weights: Weights
    comments: list[str] = field(default_factory=list)
    """Lines written above the model (without `#`)."""
    license: str | None = None
    family: str | None = None
    pinned: bool = False
    retires: date | None = None
    fallbacks: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    base_model: str | None = None
    weights_key: str | None = None
    """The family key (`discovery.weights`) of an open-weight model, for fallbacks."""
    weights_label: str | None = None
    also: list[str] = field(default_factory=list)
    """Floating aliases that point at this model here: `--pin` finds it by them."""
    older: list[str] = field(default_factory=list)
    """Older dated snapshots of the same model listed here, not written (`--pin` adds
    one it names as a model of its own)."""


@dataclass
class DraftProvider:
    name: str
    api: str
    base_url: str
    hosting: Hosting
    comments: list[str] = field(default_factory=list)
    api_key_env: str | None = None
    api_version: str | None = None
    server: ServerEngine | None = None
    jurisdiction: str | None = None
    models: list[DraftModel] = field(default_factory=list)
    commented_out: str | None = None
    """Why the provider is written as a comment (a fact only the user knows is missing);
    it is then left out of the registry and of every fallback."""

    def ref(self, model: DraftModel) -> str:
        return f"{self.name}/{model.id}"


@dataclass
class Draft:
    providers: list[DraftProvider] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Said on stderr after writing: what was left out and why, what to check."""

    def active(self) -> list[DraftProvider]:
        return [p for p in self.providers if p.commented_out is None and p.models]

    def find(self, wanted: str) -> list[tuple[DraftProvider, DraftModel]]:
        """Models named `wanted`: `provider/id` or an id, matched against each model's id
        and the other ids it answers for."""
        provider_name, sep, model_id = wanted.partition("/")
        found = []
        for provider in self.active():
            for model in provider.models:
                names = {model.id, *model.also}
                if wanted in names or (
                    sep and provider.name == provider_name and model_id in names
                ):
                    found.append((provider, model))
        return found
