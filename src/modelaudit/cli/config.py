"""`modelaudit config check`."""

from __future__ import annotations

import typer

from modelaudit.cli.options import ConfigOption

app = typer.Typer(help="Check the provider registry.", no_args_is_help=True)


@app.command("check")
def check(config: ConfigOption = None) -> int:
    """Validate providers.yaml and summarize it (keys by variable name, never by value)."""
    from modelaudit.cli.configcheck import check_registry

    return check_registry(config)
