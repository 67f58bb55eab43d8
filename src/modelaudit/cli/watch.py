"""`modelaudit watch`: probe on a schedule, store every run, serve metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from modelaudit.cli import console
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
    duration,
)

if TYPE_CHECKING:
    from modelaudit.metrics.prometheus import MetricsServer
    from modelaudit.probe.plan import Plan
    from modelaudit.schedule.job import Job
    from modelaudit.schedule.serve import Server


def watch(
    config: ConfigOption = None,
    provider: ProviderOption = None,
    model: ModelOption = None,
    tag: TagOption = None,
    kind: KindOption = None,
    every: Annotated[
        str, typer.Option("--every", help="Time between runs, e.g. 30s, 5m, 1h.")
    ] = "5m",
    jitter: Annotated[
        str | None,
        typer.Option(
            "--jitter",
            help="Delay each run by a random time up to this. Default: a tenth of --every.",
            show_default=False,
        ),
    ] = None,
    count: Annotated[
        int | None,
        typer.Option(
            "--count", min=1, help="Stop after this many runs. Default: run until stopped."
        ),
    ] = None,
    fail_on: FailOnOption = None,
    db: DbOption = None,
    no_store: NoStoreOption = False,
    metrics_file: MetricsFileOption = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            min=0,
            max=65535,
            help="Serve /metrics for Prometheus on this port (0: any free port).",
            show_default=False,
        ),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option("--metrics-host", help="The address /metrics listens on.")
    ] = "127.0.0.1",
    ping_url: PingUrlOption = None,
    region: RegionOption = None,
    no_alerts: NoAlertsOption = False,
    serve_port: Annotated[
        int | None,
        typer.Option(
            "--serve",
            min=0,
            max=65535,
            help="Serve the latest report (/report.html, /report.json), /metrics and a "
            "shields.io badge per pinned model (/badge/PROVIDER/MODEL.json) on this port "
            "(0: any free port).",
            show_default=False,
        ),
    ] = None,
) -> int:
    """Probe on a schedule until stopped, never overlapping itself; store every run."""
    import asyncio

    from modelaudit import fleet, registry
    from modelaudit.cli.probe import parse_verdicts
    from modelaudit.probe.plan import Selection, make_plan
    from modelaudit.schedule.job import Job, JobOptions
    from modelaudit.schedule.watch import Schedule, Voice, Watcher
    from modelaudit.store.backends import locate

    interval = duration(every)
    spread = duration(jitter, zero=True) if jitter else interval / 10
    fail_verdicts = parse_verdicts(fail_on)
    selection = Selection(tuple(provider or ()), tuple(model or ()), tuple(tag or ()))

    def plan_source() -> tuple[Plan, str]:
        loaded = registry.load(registry.discover(config))
        plan = make_plan(loaded, selection, tuple(kind) if kind else None)
        job.registry = loaded
        return plan, loaded.sha256

    loaded = registry.load(registry.discover(config))
    defaults = loaded.registry.defaults
    origin = fleet.resolve(region, defaults.region)
    location = locate(db, fleet.store_address(defaults.store, loaded.path.parent))
    store = None if no_store else location
    options = JobOptions(store, metrics_file, ping_url, origin, alerts=not no_alerts)
    voice = Voice(console.info, console.warn, console.error)
    with location.exclusive(origin), Job(options, console.warn, console.info) as job:
        watcher = Watcher(plan_source, Schedule(interval, spread, count), job, fail_verdicts, voice)
        server = _serve_metrics(job, metrics_host, metrics_port)
        site = _serve_site(job, metrics_host, serve_port)
        console.info(f"watching: a run every {every} (jitter up to {spread.total_seconds():g} s)")
        try:
            return asyncio.run(watcher.watch())
        finally:
            for running in (server, site):
                if running is not None:
                    running.close()


def _serve_metrics(job: Job, host: str, port: int | None) -> MetricsServer | None:
    if port is None:
        return None
    from modelaudit.errors import UsageError
    from modelaudit.metrics.prometheus import MetricsState, serve

    job.metrics = job.metrics or MetricsState()
    try:
        server = serve(job.metrics, host, port)
    except OSError as exc:
        raise UsageError(f"cannot serve metrics on {host}:{port}: {exc.strerror}") from None
    console.info(f"serving metrics on http://{_url_host(host)}:{server.port}/metrics")
    return server


def _serve_site(job: Job, host: str, port: int | None) -> Server | None:
    if port is None:
        return None
    from modelaudit.errors import UsageError
    from modelaudit.metrics.prometheus import MetricsState
    from modelaudit.schedule.serve import Published, serve

    job.metrics = job.metrics or MetricsState()
    job.published = Published()
    if job.registry is not None:
        registry = job.registry.registry
        job.published.pinned = frozenset(
            (p.name, m.id) for p in registry.providers for m in p.models if m.pinned
        )
    try:
        site = serve(job.published, job.metrics, host, port)
    except OSError as exc:
        raise UsageError(f"cannot serve on {host}:{port}: {exc.strerror}") from None
    base = f"http://{_url_host(host)}:{site.port}"
    console.info(f"serving the report on {base}/report.html, metrics on {base}/metrics")
    return site


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
