"""`modelaudit drill`: if a vendor (or every provider in a jurisdiction) disappeared
tomorrow, which pinned models keep a fallback? From stored history alone: no
request is sent."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from modelaudit.cli import console
from modelaudit.cli.options import ConfigOption, DbOption, RegionFilterOption, SinceOption
from modelaudit.errors import UsageError
from modelaudit.report.drill import DrillFormat

if TYPE_CHECKING:
    from datetime import datetime

    from modelaudit.registry.schema import Registry
    from modelaudit.risk.portfolio import DrillResult, Removal


def drill(
    config: ConfigOption = None,
    db: DbOption = None,
    since: SinceOption = "7d",
    without: Annotated[
        list[str] | None,
        typer.Option("--without", "-w", help="A provider name to remove (repeatable)."),
    ] = None,
    without_jurisdiction: Annotated[
        list[str] | None,
        typer.Option(
            "--without-jurisdiction",
            "-j",
            help="Remove every provider in this jurisdiction, an ISO code (repeatable).",
        ),
    ] = None,
    output_format: Annotated[
        DrillFormat, typer.Option("--format", "-f", help="table or json.")
    ] = DrillFormat.TABLE,
    min_coverage: Annotated[
        float | None,
        typer.Option(
            "--min-coverage",
            help="Exit 1 when coverage is below this percentage (e.g. 100).",
            min=0,
            max=100,
            show_default=False,
        ),
    ] = None,
    region: RegionFilterOption = None,
) -> int:
    """If a vendor or a jurisdiction disappeared tomorrow: which pinned models keep a fallback.

    With neither --without nor --without-jurisdiction, drills every vendor and every
    jurisdiction that serves a pinned model.
    """
    from dataclasses import replace
    from datetime import UTC, datetime

    from modelaudit import fleet, registry
    from modelaudit.report.source import open_history, read_evidence
    from modelaudit.report.window import parse_since, window_ending
    from modelaudit.risk.assess import assess
    from modelaudit.risk.portfolio import drill as run_drill
    from modelaudit.risk.portfolio import portfolio

    span = parse_since(since)
    loaded = registry.load(registry.discover(config))
    removal = removal_of(loaded.registry, without or [], without_jurisdiction or [])
    now = datetime.now(UTC)
    window = replace(window_ending(now, span), regions=fleet.regions_filter(region))
    configured = fleet.store_address(loaded.registry.defaults.store, loaded.path.parent)
    with open_history(db, configured) as reader:
        evidence = read_evidence(reader, window, now)
    assessments = assess(loaded.registry, evidence)
    if removal is None:
        found = portfolio(assessments)
        results = [*found.vendors, *found.jurisdictions]
    else:
        results = [run_drill(assessments, removal)]
    _render(results, output_format, now)
    return _outcome(results, min_coverage)


def removal_of(reg: Registry, providers: list[str], jurisdictions: list[str]) -> Removal | None:
    """The removal the options name, or None for "every vendor and jurisdiction"."""
    from modelaudit.registry.schema import check_jurisdiction
    from modelaudit.risk.portfolio import Removal

    if not providers and not jurisdictions:
        return None
    names = sorted(p.name for p in reg.providers)
    for name in providers:
        if name not in names:
            raise UsageError(f"--without {name}: no such provider (providers: {', '.join(names)})")
    places = sorted({p.jurisdiction for p in reg.providers if p.jurisdiction})
    for code in jurisdictions:
        try:
            check_jurisdiction(code)
        except ValueError as exc:
            raise UsageError(f"--without-jurisdiction {code}: {exc}") from None
        if code not in places:
            raise UsageError(
                f"--without-jurisdiction {code}: no provider in the registry is there "
                f"(jurisdictions: {', '.join(places)})"
            )
    return Removal(frozenset(providers), frozenset(jurisdictions))


def _render(results: list[DrillResult], chosen: DrillFormat, now: datetime) -> None:
    from modelaudit.report.drill import Drills

    chosen.formatter(sys.stdout, console.laid_out()).write(Drills(tuple(results), now))


def _outcome(results: list[DrillResult], min_coverage: float | None) -> int:
    from modelaudit.exitcodes import ExitCode

    if min_coverage is None:
        return ExitCode.OK
    short = [
        r for r in results if r.coverage is not None and r.coverage * 100 < min_coverage - 1e-9
    ]
    for r in short:
        console.warn(
            f"without {r.removal.label}: coverage {r.coverage:.0%} is below {min_coverage:g}%"
        )
    return ExitCode.POLICY if short else ExitCode.OK
