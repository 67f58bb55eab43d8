"""What `modelaudit config check` does, without typer: the command's typer wrapper calls
it, and so does the fast path of `cli.main` for the plain `config check [-c PATH]` (typer
builds a pydantic adapter for every option it parses: half of the command's time)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.cli import console

if TYPE_CHECKING:
    from pathlib import Path

    from modelaudit.registry.summary import RegistrySummary


def check_registry(config: Path | None) -> int:
    """Validate providers.yaml and summarize it (keys by variable name, never by value)."""
    from modelaudit import registry
    from modelaudit.registry.summary import summarize

    loaded = registry.load(registry.discover(config))
    _render(str(loaded.path), summarize(loaded))
    return 0


def _render(label: str, s: RegistrySummary) -> None:
    console.note(f"{label}: valid (schema version 1)", style="green")
    console.note(
        f"  {s.providers} providers ({s.self_hosted_providers} self-hosted), {s.models} models "
        f"({s.open_weights} open-weight), {s.pinned} pinned"
    )
    present = [k for k in s.keys if k.present]
    missing = [k for k in s.keys if not k.present]
    if s.keys:
        console.note(f"  keys present: {', '.join(k.ref for k in present) or 'none'}")
    else:
        console.note("  keys: none needed (no provider sets `api_key`)")
    if s.keys and s.keyless:
        console.note(f"  no key needed: {', '.join(s.keyless)}")
    for key in missing:
        console.note(f"  key missing:  {key.ref} ({', '.join(key.providers)}): {key.reason}")
    for r in s.retirements:
        pin = " (pinned)" if r.pinned else ""
        console.note(f"  retires {r.retires.isoformat()}: {r.provider}/{r.model}{pin}")
