"""The wire families: one module each, registered here with one line each.

A family's module is imported the first time its name is looked up, so a command reads
only the families its registry uses (`config check` on a registry without Bedrock never
imports Bedrock's signer and event-stream decoder).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelaudit.families.base import Family

# name (the `api` of providers.yaml) -> "module:class", that class's `name` being the key.
_REGISTERED = {
    "openai": "modelaudit.families.openai:OpenAIFamily",
    "azure-openai": "modelaudit.families.azure:AzureOpenAIFamily",
    "anthropic": "modelaudit.families.anthropic:AnthropicFamily",
    "gemini": "modelaudit.families.gemini:GeminiFamily",
    "ollama": "modelaudit.families.ollama:OllamaFamily",
    "bedrock": "modelaudit.families.bedrock:BedrockFamily",
    "vertex": "modelaudit.families.vertex:VertexFamily",
}


class _Families(MutableMapping[str, "Family"]):
    """Family by name; one instance per name, made on first lookup. Writable, so a test
    (or an embedding program) can register a family of its own."""

    def __init__(self, registered: dict[str, str]) -> None:
        self._where = dict(registered)
        self._made: dict[str, Family] = {}

    def __getitem__(self, name: str) -> Family:
        family = self._made.get(name)
        if family is None:
            module, _, cls = self._where[name].partition(":")
            family = self._made.setdefault(name, getattr(import_module(module), cls)())
        return family

    def __setitem__(self, name: str, family: Family) -> None:
        self._made[name] = family

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._made.pop(name, None)
        self._where.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._where or name in self._made

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(self._where), **dict.fromkeys(self._made)})

    def __len__(self) -> int:
        return len(self._where.keys() | self._made.keys())


FAMILIES: MutableMapping[str, Family] = _Families(_REGISTERED)
