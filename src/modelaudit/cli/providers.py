"""`modelaudit providers`: the registry as a table or JSON."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from modelaudit.cli import console
from modelaudit.cli.options import ConfigOption
from modelaudit.output.providers import ProvidersFormat


def providers(
    config: ConfigOption = None,
    output_format: Annotated[
        ProvidersFormat, typer.Option("--format", "-f", help="table or json.")
    ] = ProvidersFormat.TABLE,
) -> int:
    """List providers and models: hosting, jurisdiction, weights, pins, retirements."""
    from modelaudit import registry

    loaded = registry.load(registry.discover(config))
    options = console.screen() if output_format is ProvidersFormat.TABLE else console.options()
    output_format.formatter(sys.stdout, options).write(loaded.registry)
    return 0
