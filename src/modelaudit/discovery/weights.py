"""The same open weights under the names different hosts give them.

`Qwen/Qwen3.6-27B` (vLLM, Hugging Face), `qwen/qwen3.6-27b` (OpenRouter, Groq),
`qwen3.6:27b` (Ollama), `accounts/fireworks/models/qwen3p6-27b` (Fireworks) and
`Qwen3.6-27B-Instruct-Turbo` (Together) are one model to fall back on. A name is reduced
to what identifies the weights: the repository name without its organisation, the size
and version kept, the words hosts add for their own packaging (instruct and chat tuning
labels, quantizations, file formats, speed tiers, routing variants) dropped. The key only
proposes: `init` writes it as a `family` with a comment saying it was inferred.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PACKAGING = frozenset(
    {
        # tuning labels most hosts put on the one instruct release they serve
        "instruct",
        "it",
        "chat",
        "hf",
        # quantizations and file formats
        "gguf",
        "ggml",
        "awq",
        "gptq",
        "exl2",
        "mlx",
        "fp8",
        "fp16",
        "bf16",
        "fp4",
        "nvfp4",
        "int4",
        "int8",
        "w4a16",
        "w8a8",
        "4bit",
        "8bit",
        "dynamic",
        # speed tiers and routing variants
        "turbo",
        "versatile",
        "instant",
        "free",
        "nitro",
        "floor",
        "latest",
    }
)
_QUANT = re.compile(r"q\d(?:_[a-z0-9]+)*|iq\d(?:_[a-z0-9]+)*")
_DOT_AS_P = re.compile(r"(?<=\d)p(?=\d)")
_V_VERSION = re.compile(r"^v(?=\d)")


@dataclass(frozen=True)
class WeightsName:
    key: str
    """What two names of the same weights share (compare these)."""
    label: str
    """A readable family name to write (`qwen3.6-27b`)."""


def weights_name(model_id: str, weights_id: str | None = None) -> WeightsName | None:
    """The family of `model_id` (or of the repository its catalog names); None when
    nothing is left once packaging words are dropped."""
    path = (weights_id or model_id).lower()
    org = path.rsplit("/", 2)[-2] if "/" in path else ""
    name = _DOT_AS_P.sub(".", path.rsplit("/", 1)[-1])
    # Ollama's `name:tag` (qwen3.6:27b) reads as one name; a router's `:free` is dropped.
    words = [w for w in re.split(r"[-:\s]+", name) if w and not _is_packaging(w)]
    kept = [t for w in words for t in w.split("_") if t and not _is_packaging(t)]
    org_words = [w for w in re.split(r"[-_]+", org) if w]
    if len(org_words) >= 2 and kept[: len(org_words)] == org_words:
        kept = kept[len(org_words) - 1 :]  # meta-llama/Meta-Llama-3.1-8B is llama-3.1-8b
    if not kept:
        return None
    return WeightsName(key="".join(_V_VERSION.sub("", t) for t in kept), label="-".join(kept))


def _is_packaging(token: str) -> bool:
    return token in _PACKAGING or bool(_QUANT.fullmatch(token))
