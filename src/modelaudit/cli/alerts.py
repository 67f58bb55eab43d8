"""`modelaudit alerts`: send a test message through a route; list open alerts and the
messages not delivered yet."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from modelaudit.cli import console
from modelaudit.cli.options import ConfigOption, DbOption

if TYPE_CHECKING:
    from modelaudit.registry.alerting import Alerts
    from modelaudit.registry.loader import LoadedRegistry

app = typer.Typer(
    help="Test the alert routes; list open alerts and undelivered messages.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _alerts_of(loaded: LoadedRegistry) -> Alerts:
    from modelaudit.errors import UsageError

    if loaded.registry.alerts is None:
        raise UsageError(
            f"{loaded.path} has no `alerts:` section: add routes first (see docs/alerts.md)"
        )
    return loaded.registry.alerts


@app.command("test")
def send_test(
    route: Annotated[
        str | None, typer.Argument(help="The route to test. Default: every route.")
    ] = None,
    config: ConfigOption = None,
) -> int:
    """Send a test message to each notification URL of a route (or of every route)."""
    from modelaudit import registry
    from modelaudit.alerts.message import Envelope, compose
    from modelaudit.alerts.send import Job, Sender
    from modelaudit.alerts.state import Change, Notice
    from modelaudit.clock import utc_now
    from modelaudit.errors import UsageError

    loaded = registry.load(registry.discover(config))
    alerts = _alerts_of(loaded)
    if route is not None and route not in alerts.routes:
        known = ", ".join(sorted(alerts.routes))
        raise UsageError(f"no route `{route}` in {loaded.path} (routes: {known})")
    chosen = [route] if route is not None else sorted(alerts.routes)
    now = utc_now()
    jobs: list[Job] = []
    names: dict[int, str] = {}
    for name in chosen:
        notice = Notice(Change.TEST, "modelaudit", name, created_at=now)
        message = compose(notice, Envelope(route=name, report_url=alerts.report_url, now=now))
        for ref in alerts.routes[name].urls:
            names[len(jobs)] = f"{name} {ref}"
            jobs.append(Job(len(jobs), ref, message))
    sender = Sender(loaded.path.parent, alerts.max_parallel_sends)
    outcomes, in_flight = sender.send(jobs, alerts.send_timeout_s)
    failed = 0
    for outcome in sorted(outcomes, key=lambda o: o.delivery_id):
        if outcome.sent:
            console.info(f"sent: {names[outcome.delivery_id]}")
        else:
            failed += 1
            console.warn(f"not sent: {names[outcome.delivery_id]}: {outcome.error}")
    for job_id in in_flight:
        failed += 1
        console.warn(
            f"not sent: {names[job_id]}: no answer within the send timeout "
            f"({alerts.send_timeout_s:g} s)"
        )
    return 1 if failed else 0


@app.command("list")
def list_alerts(
    config: ConfigOption = None,
    db: DbOption = None,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="table or json.", show_default=True)
    ] = "table",
) -> int:
    """Open alerts (what each route was told and has not heard resolved) and the messages
    not delivered yet."""
    from modelaudit.alerts.formats import AlertsFormat
    from modelaudit.errors import UsageError
    from modelaudit.store.backends import locate

    if output_format not in tuple(AlertsFormat):
        raise UsageError(f"--format `{output_format}`: choose table or json")
    with locate(db).open(create=False) as store:
        overview = store.alert_overview()
    AlertsFormat(output_format).formatter(sys.stdout, console.options()).write(overview)
    return 0
