"""The console-script entry point, kept free of imports so `--version` starts fast."""

from __future__ import annotations

import os
import sys

from modelaudit import __version__


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:  # no typer, rich or pydantic import
        sys.stdout.write(f"modelaudit {__version__}\n")
        return 0
    # pydantic scans every installed package's entry points for plugins at import time;
    # a CLI needs none, and skipping the scan saves a noticeable part of start-up.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from modelaudit.cli.app import run

    return run(args)
