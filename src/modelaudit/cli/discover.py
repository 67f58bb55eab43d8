"""`modelaudit discover`: what each provider serves now, read from its catalog (no tokens)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from modelaudit.cli import console
from modelaudit.cli.options import ConfigOption, DbOption, ProviderOption
from modelaudit.discovery.formats import DiscoverFormat

if TYPE_CHECKING:
    from pathlib import Path

    from modelaudit.discovery.catalogs import Source
    from modelaudit.discovery.document import DiscoverDocument
    from modelaudit.discovery.run import Discovery
    from modelaudit.registry.loader import LoadedRegistry


FromEnvOption = Annotated[
    bool,
    typer.Option(
        "--from-env",
        help="Also read each known vendor whose key variable is set (see the README's list).",
    ),
]
LocalOption = Annotated[
    bool,
    typer.Option("--local", help="Also look for LLM servers on this machine's loopback ports."),
]
LocalPortsOption = Annotated[
    str | None,
    typer.Option(
        "--local-ports",
        help="Loopback ports to look on, comma-separated (`none` for none). Default: "
        "$MODELAUDIT_LOCAL_PORTS, then each engine's default port.",
        show_default=False,
    ),
]
OnlyOption = Annotated[
    list[str] | None,
    typer.Option("--only", help="Only model ids matching this glob, e.g. 'gpt-4.1*' (repeatable)."),
]


def discover(
    config: ConfigOption = None,
    provider: ProviderOption = None,
    from_env: FromEnvOption = False,
    local: LocalOption = False,
    local_ports: LocalPortsOption = None,
    only: OnlyOption = None,
    db: DbOption = None,
    output_format: Annotated[
        DiscoverFormat | None,
        typer.Option("--format", "-f", help="table or json. Default: table on a terminal."),
    ] = None,
) -> int:
    """Read each provider's model list (no tokens): dated snapshots and floating aliases,
    lifecycle and retirement data, changes since the last stored list, registry models
    no longer listed."""
    from modelaudit.discovery import catalogs, document, run
    from modelaudit.errors import UsageError
    from modelaudit.exitcodes import ExitCode
    from modelaudit.registry.schema import Defaults

    loaded = _registry(config, required=not (from_env or local or local_ports))
    chosen = set(provider or ())
    sources = catalogs.registry_sources(loaded.registry.providers) if loaded else []
    if from_env:
        sources += catalogs.env_sources(exclude=_covered(sources))
    if chosen:
        unknown = chosen - {s.provider.name for s in sources}
        if unknown:
            have = ", ".join(sorted(s.provider.name for s in sources)) or "none"
            raise UsageError(f"--provider {sorted(unknown)[0]}: no such provider (have: {have})")
        sources = [s for s in sources if s.provider.name in chosen]
    ports = _ports(local_ports) if (local or local_ports is not None) else ()
    if not sources and not ports:
        raise UsageError(_nothing_to_read())
    defaults = loaded.registry.defaults if loaded else Defaults()
    base_dir = loaded.path.parent if loaded else _cwd()
    taken = [s.provider.name for s in sources]
    found = run.run(sources, defaults, base_dir, ports, taken)
    found = _with_snapshots(found, db)
    doc = document.build(found, tuple(only or ()))
    chosen_format = output_format or (
        DiscoverFormat.TABLE if sys.stdout.isatty() else DiscoverFormat.JSON
    )
    options = console.screen() if chosen_format is DiscoverFormat.TABLE else console.options()
    chosen_format.formatter(sys.stdout, options).write(doc)
    _summarize(doc)
    if doc.providers and not any(p.status == "listed" for p in doc.providers):
        return ExitCode.INCONCLUSIVE
    return ExitCode.OK


def _registry(config: Path | None, *, required: bool) -> LoadedRegistry | None:
    from modelaudit import registry
    from modelaudit.errors import UsageError

    try:
        path = registry.discover(config)
    except UsageError:
        if required:
            raise
        return None
    return registry.load(path)


def _covered(sources: list[Source]) -> list[str]:
    """Vendors the registry already has: the same name or the same base URL."""
    from modelaudit.registry.vendors import table

    urls = {s.provider.base_url for s in sources}
    names = {s.provider.name for s in sources}
    return [v.name for v in table().vendors if v.name in names or v.resolved_base_url() in urls]


def _ports(option: str | None) -> tuple[int, ...]:
    from modelaudit.discovery.localscan import ports_to_scan

    try:
        return ports_to_scan(option)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--local-ports") from None


def _nothing_to_read() -> str:
    from modelaudit.registry.vendors import table

    keys = ", ".join(v.keys[0] for v in table().vendors if v.from_env)
    return (
        "nothing to read: no provider matches, no known vendor's key is set "
        f"(looked for {keys}) and no loopback port was scanned"
    )


def _cwd() -> Path:
    from pathlib import Path

    return Path.cwd()


def _with_snapshots(found: Discovery, db: str | None) -> Discovery:
    """The last list each provider's probe runs stored, when a history database exists."""
    from dataclasses import replace

    from modelaudit.errors import ModelauditError, UsageError
    from modelaudit.store.backends import locate

    location = locate(db)  # a bad --db is the user's error, told as one
    snapshots = {}
    try:
        with location.open(create=False) as store:
            for read in found.reads:
                name = read.source.provider.name
                stored = store.latest_catalog(name)
                if stored is not None:
                    snapshots[name] = stored
    except UsageError:
        return found  # no history database yet: nothing to compare with
    except ModelauditError as exc:
        console.warn(f"the history database was not read: {exc.message}")
        return found
    return replace(found, snapshots=snapshots)


def _summarize(doc: DiscoverDocument) -> None:
    from modelaudit.discovery.summary import DiscoverSummary

    DiscoverSummary(console.human(), console.options()).write(doc)
