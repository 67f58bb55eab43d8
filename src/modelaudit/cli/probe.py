"""`modelaudit probe`: probe every selected model once, print verdicts."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from modelaudit.cli import console
from modelaudit.cli.options import ConfigOption
from modelaudit.probe.formats import ProbeFormat
from modelaudit.vocabulary import ProbeKind, Verdict

if TYPE_CHECKING:
    from modelaudit.probe.plan import Plan
    from modelaudit.probe.result import RunReport


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
    provider: Annotated[
        list[str] | None, typer.Option("--provider", "-p", help="Only this provider (repeatable).")
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Only this model id or provider/model (repeatable)."),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", help="Only models with this tag (repeatable)."),
    ] = None,
    kind: Annotated[
        list[ProbeKind] | None,
        typer.Option(
            "--kind", "-k", help="Probe kind (repeatable). Default: from `defaults.kinds`."
        ),
    ] = None,
    output_format: Annotated[
        ProbeFormat | None,
        typer.Option(
            "--format", "-f", help="table, json or jsonl. Default: table on a terminal, else json."
        ),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on", help="Exit 1 when any model gets one of these verdicts, e.g. gone,down."
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the plan and its worst-case cost; send nothing."),
    ] = False,
) -> int:
    """Probe the models in the registry: availability, latency, and a verdict for each."""
    from modelaudit import registry
    from modelaudit.probe import outcome, runner
    from modelaudit.probe.formats import formatter
    from modelaudit.probe.plan import Selection, make_plan

    fail_verdicts = parse_verdicts(fail_on)
    loaded = registry.load(registry.discover(config))
    selection = Selection(tuple(provider or ()), tuple(model or ()), tuple(tag or ()))
    plan = make_plan(loaded, selection, tuple(kind) if kind else None)
    if dry_run:
        _render_plan(plan)
        return 0
    chosen = output_format or (ProbeFormat.TABLE if sys.stdout.isatty() else ProbeFormat.JSON)
    out = formatter(chosen)
    observers: list[runner.Observer] = [out]
    if sys.stderr.isatty():
        from modelaudit.cli.progress import LiveProgress

        observers.append(LiveProgress())
    report = runner.run_sync(plan, runner.Fanout(*observers))
    out.emit(report)
    _summarize(report)
    return outcome.exit_code(report, fail_verdicts)


def _summarize(report: RunReport) -> None:
    from collections import Counter

    counts = Counter(v.verdict.value for v in report.verdicts)
    seconds = (report.finished_at - report.started_at).total_seconds()
    tally = ", ".join(f"{n} {word}" for word, n in sorted(counts.items()))
    console.info(
        f"run {report.status.value} in {seconds:.1f} s: {tally or 'no models'}; "
        f"{report.requests_sent} requests sent"
    )
    if report.control is not None and not report.control.reachable:
        console.warn(
            f"this machine could not reach the network ({report.control.detail}); "
            "connection failures are reported as inconclusive, not down"
        )
    for note in report.notes:
        console.warn(note)


def _render_plan(plan: Plan) -> None:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for column in ("provider", "models", "kinds", "key", "requests (max)", "output tokens (max)"):
        table.add_column(column, overflow="fold")
    for p in plan.providers:
        cost = plan.worst_case(p)
        table.add_row(
            p.provider.name,
            ", ".join(m.id for m in p.models),
            ", ".join(k.value for k in p.kinds) or "-",
            "none needed" if p.provider.api_key is None else (p.skip_reason or "present"),
            str(cost.requests),
            str(cost.output_tokens),
        )
    console.out().print(table)
    total = plan.total_worst_case()
    budget = plan.defaults.budget
    console.info(
        f"dry run: nothing sent. Worst case {total.requests} requests and {total.output_tokens} "
        f"output tokens (run caps: {budget.max_requests} requests, "
        f"{budget.max_output_tokens} output tokens)"
    )
