"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="The registry. Default: $MODELAUDIT_CONFIG, then ./providers.yaml.",
        show_default=False,
        dir_okay=False,
    ),
]

LockOption = Annotated[
    Path | None,
    typer.Option(
        "--lock",
        help="The lockfile. Default: modelaudit.lock beside the registry.",
        show_default=False,
        dir_okay=False,
    ),
]
