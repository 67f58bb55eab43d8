"""Read credentials from their `env:`/`file:` references at send time.

A key lives in memory only as long as the request that carries it; it is registered with
`modelaudit.redact` the moment it is read, and is never part of any value that crosses a
seam (results, rows, reports carry the reference, never the key). A structured credential
(`credentials:`) is read the same way, part by part; a profile or the vendor SDK's default
chain is passed to the family, whose SDK reads it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from modelaudit.families import FAMILIES
from modelaudit.families.base import Credential
from modelaudit.fileio import FileError, read_text
from modelaudit.redact import MIN_SECRET_CHARS, register_secret
from modelaudit.registry.paths import from_registry
from modelaudit.registry.schema import CredentialsRef, KeyRef, ProviderSpec

MAX_KEY_FILE_BYTES = 64 * 1024
"""Larger than any key or token (a JWT is a few KiB); a bigger file is not a key file."""


@dataclass(frozen=True)
class KeyStatus:
    """Whether a credential is available, without the credential itself."""

    ref: KeyRef | CredentialsRef | None
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


def provider_status(provider: ProviderSpec, base_dir: Path) -> KeyStatus:
    """Whether `provider`'s credential, whatever its form, can be read now."""
    try:
        read(provider, base_dir)
    except LookupError as exc:
        return KeyStatus(provider.credential_ref, present=False, reason=str(exc))
    return KeyStatus(provider.credential_ref, present=True)


def read(provider: ProviderSpec, base_dir: Path) -> Credential | None:
    """`provider`'s credential, read now (None when it needs none); LookupError with a
    reason that names what to set (never a value) when a part it needs is not there, or
    what to install when the family needs an extra that is not installed, or when the
    family's own credential chain would find nothing here."""
    family = FAMILIES[provider.api]
    missing = family.missing_dependency()
    if missing is not None:
        raise LookupError(missing)
    unavailable = family.credential_unavailable(provider)
    if unavailable is not None and provider.credential_ref is not None:
        raise LookupError(unavailable)
    if provider.api_key is not None:
        return Credential(key=read_key(provider.api_key, base_dir))
    ref = provider.credentials
    if ref is None:
        return None
    if ref.parts is None:
        return Credential(profile=ref.profile, chain=ref.chain is not None)
    required = FAMILIES[provider.api].credential_forms.parts
    parts = {}
    for name, part in ref.parts.items():
        if not required.get(name, True) and not _is_set(part, base_dir):
            continue  # an optional part left unset
        parts[name] = read_key(part, base_dir)
    return Credential(parts=parts)


def _is_set(ref: KeyRef, base_dir: Path) -> bool:
    if ref.source == "env":
        return ref.name in os.environ
    return from_registry(ref.name, base_dir).exists()


def read_key(ref: KeyRef, base_dir: Path) -> str:
    """The key, or LookupError with a reason that names what to set (never the value)."""
    if ref.source == "env":
        value = os.environ.get(ref.name)
        if value is None:
            raise LookupError(f"{ref.name} is not set: export it to probe this provider")
        if not value.strip():
            raise LookupError(f"{ref.name} is set but empty")
    else:
        value = read_referenced_file(ref.name, base_dir, "key file")
        if not value.strip():
            raise LookupError(f"key file {ref.name} is empty")
    value = value.strip()
    register_secret(value)
    _check_header_safe(value, ref)
    return value


def _check_header_safe(value: str, ref: KeyRef) -> None:
    """A key goes into an HTTP header, which carries visible ASCII only: a pasted
    zero-width space or a second line would fail every request, or worse, put part of the
    key into an error message. Says what the character is, never where or around what."""
    bad = next((c for c in value if not " " <= c <= "~"), None)
    if bad is None:
        return
    for piece in re.split(r"[^ -~]+", value):
        if len(piece) >= MIN_SECRET_CHARS:
            register_secret(piece)
    source = ref.name if ref.source == "env" else f"key file {ref.name}"
    raise LookupError(
        f"{source} contains {_describe(bad)}, which an HTTP header cannot carry: "
        "set it again without it (a copy-paste artefact?)"
    )


def _describe(char: str) -> str:
    if char in "\r\n":
        return "a line break"
    if char == "\t":
        return "a tab"
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"a control character (U+{ord(char):04X})"
    return f"a non-ASCII character (U+{ord(char):04X})"


def read_referenced_file(name: str, base_dir: Path, what: str) -> str:
    """The text of a `file:` reference (a key, a notification URL), or LookupError naming
    `what` and the path as written (never the contents). The path is relative to the
    registry's directory; `~` is expanded."""
    path = from_registry(name, base_dir)
    try:
        return read_text(path, MAX_KEY_FILE_BYTES)  # a regular file, capped: no FIFO, no /dev/zero
    except FileError as exc:
        if exc.missing:
            raise LookupError(f"{what} {name} does not exist") from None
        raise LookupError(f"{what} {name} cannot be used ({exc.reason})") from None
