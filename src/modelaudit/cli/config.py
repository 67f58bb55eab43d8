"""`modelaudit config check`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from modelaudit.cli import console
from modelaudit.cli.options import ConfigOption

if TYPE_CHECKING:
    from modelaudit.registry.summary import RegistrySummary

app = typer.Typer(help="Check the provider registry.", no_args_is_help=True)


@app.command("check")
def check(config: ConfigOption = None) -> int:
    """Validate providers.yaml and summarize it (keys by variable name, never by value)."""
    from modelaudit import registry
    from modelaudit.registry.summary import summarize

    loaded = registry.load(registry.discover(config))
    _render(str(loaded.path), summarize(loaded))
    return 0


def _render(label: str, s: RegistrySummary) -> None:
    from rich.text import Text

    console.info(Text(f"{label}: valid", style="green") + Text(" (schema version 1)"))
    console.info(
        f"  {s.providers} providers ({s.self_hosted_providers} self-hosted), {s.models} models "
        f"({s.open_weights} open-weight), {s.pinned} pinned"
    )
    present = [k for k in s.keys if k.present]
    missing = [k for k in s.keys if not k.present]
    if s.keys:
        console.info(f"  keys present: {', '.join(k.ref for k in present) or 'none'}")
    else:
        console.info("  keys: none needed (no provider sets `api_key`)")
    if s.keys and s.keyless:
        console.info(f"  no key needed: {', '.join(s.keyless)}")
    for key in missing:
        console.info(f"  key missing:  {key.ref} ({', '.join(key.providers)}): {key.reason}")
    for r in s.retirements:
        pin = " (pinned)" if r.pinned else ""
        console.info(f"  retires {r.retires.isoformat()}: {r.provider}/{r.model}{pin}")
