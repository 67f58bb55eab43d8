"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelaudit.vocabulary import ProbeKind

if TYPE_CHECKING:
    from datetime import timedelta

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
ProviderOption = Annotated[
    list[str] | None, typer.Option("--provider", "-p", help="Only this provider (repeatable).")
]
ModelOption = Annotated[
    list[str] | None,
    typer.Option("--model", "-m", help="Only this model id or provider/model (repeatable)."),
]
TagOption = Annotated[
    list[str] | None, typer.Option("--tag", "-t", help="Only models with this tag (repeatable).")
]
KindOption = Annotated[
    list[ProbeKind] | None,
    typer.Option("--kind", "-k", help="Probe kind (repeatable). Default: from `defaults.kinds`."),
]
FailOnOption = Annotated[
    str | None,
    typer.Option(
        "--fail-on", help="Exit 1 when any model gets one of these verdicts, e.g. gone,down."
    ),
]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="The history database: a file path, sqlite:///PATH or postgresql://USER@HOST/DB. "
        "Default: $MODELAUDIT_DB, then defaults.store in the registry, then the user data "
        "directory.",
        show_default=False,
    ),
]
RegionOption = Annotated[
    str | None,
    typer.Option(
        "--region",
        help="This agent's region, stamped on its runs. Default: $MODELAUDIT_REGION, then "
        "defaults.region, then the host name.",
        show_default=False,
    ),
]
RegionFilterOption = Annotated[
    list[str] | None,
    typer.Option(
        "--region",
        help="Only runs of agents in this region (repeatable). Default: every region.",
        show_default=False,
    ),
]
NoStoreOption = Annotated[
    bool, typer.Option("--no-store", help="Do not record the run in the history database.")
]
MetricsFileOption = Annotated[
    Path | None,
    typer.Option(
        "--metrics-file",
        help="Write Prometheus metrics here after each run (for node_exporter's textfile "
        "collector; name it *.prom).",
        show_default=False,
        dir_okay=False,
    ),
]
PingUrlOption = Annotated[
    str | None,
    typer.Option(
        "--ping-url",
        help="Dead-man's switch (healthchecks.io style): URL/start, then URL or URL/fail.",
        show_default=False,
    ),
]

SinceOption = Annotated[
    str,
    typer.Option(
        "--since",
        "-s",
        help="The window, back from now: hours or days, e.g. 24h, 7d, 30d.",
    ),
]
NoAlertsOption = Annotated[
    bool,
    typer.Option(
        "--no-alerts", help="Do not evaluate or send the registry's alerts after the run."
    ),
]


def duration(value: str, *, zero: bool = False) -> timedelta:
    """A duration option's value (`modelaudit.durations`), a usage error naming the forms."""
    from modelaudit.durations import parse_duration

    try:
        return parse_duration(value, zero=zero)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
