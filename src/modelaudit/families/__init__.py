"""The wire families: one module each, registered here with one line each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.families.anthropic import AnthropicFamily
from modelaudit.families.azure import AzureOpenAIFamily
from modelaudit.families.bedrock import BedrockFamily
from modelaudit.families.gemini import GeminiFamily
from modelaudit.families.ollama import OllamaFamily
from modelaudit.families.openai import OpenAIFamily
from modelaudit.families.vertex import VertexFamily

if TYPE_CHECKING:
    from modelaudit.families.base import Family

FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        OpenAIFamily(),
        AzureOpenAIFamily(),
        AnthropicFamily(),
        GeminiFamily(),
        OllamaFamily(),
        BedrockFamily(),
        VertexFamily(),
    )
}
