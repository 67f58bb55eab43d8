"""Paths written in providers.yaml (a `ca_bundle`, a `file:` reference, a SQLite store)
mean what they say from the registry's own folder, wherever modelaudit runs."""

from __future__ import annotations

from pathlib import Path


def from_registry(written: Path | str, base_dir: Path) -> Path:
    """`written` with `~` expanded, relative to `base_dir` (the registry's folder) unless
    absolute."""
    path = Path(written).expanduser()
    return path if path.is_absolute() else base_dir / path
