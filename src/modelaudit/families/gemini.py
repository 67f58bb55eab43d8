"""PLACEHOLDER: conventions only; request building and parsing land with the probe engine."""

from __future__ import annotations


class GeminiFamily:
    name = "gemini"

    def check_provider(self, base_url: str, api_version: str | None) -> str | None:
        return None
