"""`modelaudit probe`: probe every selected model once, print verdicts."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from modelaudit.cli import console
from modelaudit.cli.memory import settled
from modelaudit.cli.options import (
    ConfigOption,
    DbOption,
    FailOnOption,
    KindOption,
    MetricsFileOption,
    ModelOption,
    NoAlertsOption,
    NoStoreOption,
    PingUrlOption,
    ProviderOption,
    RegionOption,
    TagOption,
)
from modelaudit.probe.formats import ProbeFormat
from modelaudit.vocabulary import Verdict

if TYPE_CHECKING:
    from modelaudit.probe.plan import Plan
    from modelaudit.probe.result import RunReport
    from modelaudit.schedule.job import Job


def parse_verdicts(value: str | None) -> tuple[Verdict, ...]:
    """`gone,down` → (Verdict.GONE, Verdict.DOWN); a usage error names the valid ones."""
    if not value:
        return ()
    chosen = []
    for word in (w.strip() for w in value.split(",")):
        try:
            chosen.append(Verdict(word))
        except ValueError:
            valid = ", ".join(v.value for v in Verdict)
            raise typer.BadParameter(f"`{word}` is not a verdict (one of: {valid})") from None
    return tuple(chosen)


def probe(
    config: ConfigOption = None,
    provider: ProviderOption = None,
    model: ModelOption = None,
    tag: TagOption = None,
    kind: KindOption = None,
    output_format: Annotated[
        ProbeFormat | None,
        typer.Option(
            "--format", "-f", help="table, json or jsonl. Default: table on a terminal, else json."
        ),
    ] = None,
    fail_on: FailOnOption = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the plan and its worst-case cost; send nothing."),
    ] = False,
    db: DbOption = None,
    no_store: NoStoreOption = False,
    exclusive: Annotated[
        bool,
        typer.Option(
            "--exclusive",
            help="Hold the scheduled-run lock; exit 5 at once if another run holds it.",
        ),
    ] = False,
    metrics_file: MetricsFileOption = None,
    ping_url: PingUrlOption = None,
    region: RegionOption = None,
    no_alerts: NoAlertsOption = False,
) -> int:
    """Probe the models in the registry: availability, latency, and a verdict for each."""
    import contextlib

    from modelaudit import fleet, registry
    from modelaudit.probe.plan import Selection, make_plan
    from modelaudit.schedule.job import Job, JobOptions
    from modelaudit.store.backends import locate

    fail_verdicts = parse_verdicts(fail_on)
    loaded = registry.load(registry.discover(config))
    selection = Selection(tuple(provider or ()), tuple(model or ()), tuple(tag or ()))
    plan = make_plan(loaded, selection, tuple(kind) if kind else None)
    chosen = output_format or (ProbeFormat.TABLE if sys.stdout.isatty() else ProbeFormat.JSON)
    settled()
    if dry_run:
        _render_plan(plan, chosen)
        return 0
    defaults = loaded.registry.defaults
    origin = fleet.resolve(region, defaults.region)
    location = locate(db, fleet.store_address(defaults.store, loaded.path.parent))
    store = None if no_store else location
    options = JobOptions(store, metrics_file, ping_url, origin, alerts=not no_alerts)
    lock = location.exclusive(origin) if exclusive else contextlib.nullcontext()
    with lock, Job(options, console.warn, console.info) as job:
        job.registry = loaded
        return run_once(plan, loaded.sha256, job, chosen, fail_verdicts)


def run_once(
    plan: Plan, registry_sha256: str, job: Job, chosen: ProbeFormat, fail_on: tuple[Verdict, ...]
) -> int:
    """One run: output as it goes, stored, summarized, metrics written, switch pinged."""
    from modelaudit.cli.settle import Settler
    from modelaudit.probe import outcome, runner
    from modelaudit.probe.formats import formatter

    out = formatter(chosen, sys.stdout, console.screen())
    observers: list[runner.Observer] = [out, job.observer(registry_sha256), Settler()]
    if sys.stderr.isatty():
        from modelaudit.cli.progress import LiveProgress

        observers.append(LiveProgress())
    job.ping_start()
    report = runner.run_sync(plan, runner.Fanout(*observers))
    out.write(report)
    summary = _summarize(report)
    for line in job.last_answers(report):
        console.warn(line)
    code = outcome.exit_code(report, fail_on)
    job.stored(report)
    job.finish(report, code, summary)
    return code


def _summarize(report: RunReport) -> str:
    """Print the run's summary and notes on stderr; returns the summary line."""
    from modelaudit.probe.outcome import summary_line

    line = summary_line(report)
    console.info(line)
    if report.control is not None and not report.control.reachable:
        console.warn(
            f"this machine could not reach the network ({report.control.detail}); "
            "connection failures are reported as inconclusive, not down"
        )
    for note in report.notes:
        console.warn(note)
    return line


def _render_plan(plan: Plan, chosen: ProbeFormat) -> None:
    from modelaudit.probe.formats import formatter

    formatter(chosen, sys.stdout, console.screen()).write_plan(plan)
    total = plan.total_worst_case()
    budget = plan.defaults.budget
    console.info(
        f"dry run: nothing sent. Worst case {total.requests} requests and {total.output_tokens} "
        f"output tokens (run caps: {budget.max_requests} requests, "
        f"{budget.max_output_tokens} output tokens)"
    )
