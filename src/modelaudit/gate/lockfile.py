"""`modelaudit.lock`: what each pinned model resolved to when it was last verified.

The format is a public contract (version 1, documented in docs/ci-gate.md): JSON
with sorted keys, two-space indent and one object per pin, pins sorted by provider then
model, so a change to one pin is a small diff. Fields are only ever added; a reader
ignores fields it does not know and refuses a `schema_version` it does not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from typing_extensions import TypedDict

from modelaudit import __version__
from modelaudit.errors import UsageError
from modelaudit.fileio import FileError, read_text, write_text
from modelaudit.outgoing import json_text
from modelaudit.output.documents import closed

SCHEMA_VERSION: Literal[1] = 1
LOCK_NAME = "modelaudit.lock"
MAX_BYTES = 4 * 1024 * 1024
"""A lockfile of ten thousand pins is about 3 MiB."""

RetiresSource = Literal["catalog", "registry"]


@dataclass(frozen=True)
class LockEntry:
    provider: str
    model: str
    """The requested id, as pinned in providers.yaml."""
    served_model: str | None
    """The model id the API said served the verifying completion (None: it did not say)."""
    retires: date | None
    retires_source: RetiresSource | None
    verified_at: datetime
    entry_sha256: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, self.model)


@dataclass(frozen=True)
class Lock:
    entries: tuple[LockEntry, ...]

    def entry(self, provider: str, model: str) -> LockEntry | None:
        return next((e for e in self.entries if e.key == (provider, model)), None)


def default_path(registry_path: Path) -> Path:
    """Beside the registry, so one directory holds the pins and what they resolved to."""
    return registry_path.parent / LOCK_NAME


@closed
class LockPin(TypedDict):
    provider: str
    model: str
    served_model: str | None
    retires: str | None
    retires_source: RetiresSource | None
    verified_at: str
    entry_sha256: str


@closed
class LockDocument(TypedDict):
    """`modelaudit.lock`, as written (keys sorted)."""

    schema_version: Literal[1]
    generated_by: str
    pins: list[LockPin]


def dumps(lock: Lock) -> str:
    from modelaudit.clock import iso

    pins: list[LockPin] = [
        {
            "provider": e.provider,
            "model": e.model,
            "served_model": e.served_model,
            "retires": e.retires.isoformat() if e.retires else None,
            "retires_source": e.retires_source,
            "verified_at": iso(e.verified_at),
            "entry_sha256": e.entry_sha256,
        }
        for e in sorted(lock.entries, key=lambda e: e.key)
    ]
    document: LockDocument = {
        "schema_version": SCHEMA_VERSION,
        "generated_by": f"modelaudit {__version__}",
        "pins": pins,
    }
    return json_text(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    provider: str
    model: str
    served_model: str | None
    retires: date | None
    retires_source: RetiresSource | None
    verified_at: datetime
    entry_sha256: str


class _Document(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: int
    pins: tuple[_Entry, ...]


def loads(text: str, label: str) -> Lock:
    fix = "delete it and run `modelaudit lock` to write it again"
    try:
        raw = json.loads(text, parse_constant=_not_json)
    except ValueError as exc:
        raise UsageError(f"{label}: not a modelaudit lockfile (not JSON: {exc}); {fix}") from None
    except RecursionError:
        raise UsageError(f"{label}: not a modelaudit lockfile (nested too deeply); {fix}") from None
    version = raw.get("schema_version") if isinstance(raw, dict) else None
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise UsageError(
            f"{label}: written by a newer modelaudit (schema_version {version}; this one reads "
            f"{SCHEMA_VERSION}): upgrade modelaudit"
        )
    try:
        document = _Document.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top)"
        raise UsageError(
            f"{label}: not a modelaudit lockfile ({where}: {first['msg']}); {fix}"
        ) from None
    if document.schema_version != SCHEMA_VERSION:
        raise UsageError(f"{label}: unsupported schema_version {document.schema_version}; {fix}")
    entries = tuple(
        LockEntry(
            provider=p.provider,
            model=p.model,
            served_model=p.served_model,
            retires=p.retires,
            retires_source=p.retires_source,
            verified_at=p.verified_at,
            entry_sha256=p.entry_sha256,
        )
        for p in document.pins
    )
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        if entry.key in seen:
            raise UsageError(f"{label}: {entry.provider}/{entry.model} is locked twice; {fix}")
        seen.add(entry.key)
    return Lock(entries)


def _not_json(constant: str) -> object:
    raise ValueError(f"{constant} is not a JSON value")


def read(path: Path) -> Lock | None:
    """The lock at `path`, or None when there is none (a check without a lock still runs)."""
    try:
        text = read_text(path, MAX_BYTES)
    except FileError as exc:
        if exc.missing:
            return None
        raise UsageError(f"{path}: not a readable lockfile: {exc.reason}") from None
    return loads(text, str(path))


def write(path: Path, lock: Lock) -> None:
    """Atomically: a crash or Ctrl-C leaves the old lock or the new one, never half of one."""
    try:
        write_text(path, dumps(lock), mode=0o644)
    except FileError as exc:
        raise UsageError(f"{path}: cannot write the lockfile: {exc.reason}") from None
