"""Read keys from their `env:`/`file:` references at send time.

A key lives in memory only as long as the request that carries it; it is registered with
`modelaudit.redact` the moment it is read, and is never part of any value that crosses a
seam (results, rows, reports carry the reference, never the key).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from modelaudit.redact import register_secret
from modelaudit.registry.schema import KeyRef


@dataclass(frozen=True)
class KeyStatus:
    """Whether a key is available, without the key itself."""

    ref: KeyRef | None
    present: bool
    reason: str | None = None
    """Why it is not available, naming the variable or file to fix."""


def status(ref: KeyRef | None, base_dir: Path) -> KeyStatus:
    if ref is None:
        return KeyStatus(None, present=True)
    try:
        read_key(ref, base_dir)
    except LookupError as exc:
        return KeyStatus(ref, present=False, reason=str(exc))
    return KeyStatus(ref, present=True)


def read_key(ref: KeyRef, base_dir: Path) -> str:
    """The key, or LookupError with a reason that names what to set (never the value)."""
    if ref.source == "env":
        value = os.environ.get(ref.name)
        if value is None:
            raise LookupError(f"{ref.name} is not set: export it to probe this provider")
        if not value.strip():
            raise LookupError(f"{ref.name} is set but empty")
    else:
        path = key_file_path(ref, base_dir)
        try:
            value = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise LookupError(f"key file {ref.name} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise LookupError(f"key file {ref.name} cannot be read: {reason}") from None
        if not value.strip():
            raise LookupError(f"key file {ref.name} is empty")
    value = value.strip()
    register_secret(value)
    return value


def key_file_path(ref: KeyRef, base_dir: Path) -> Path:
    """`file:` paths are relative to the registry's directory; `~` is expanded."""
    path = Path(ref.name).expanduser()
    return path if path.is_absolute() else base_dir / path
