"""Small words shared by the formats of several commands."""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """`1 model`, `2 models`."""
    return f"{count} {noun}" + ("" if count == 1 else "s")
