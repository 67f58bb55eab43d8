"""`modelaudit history`: the recent runs, or one model's timeline (`--model`)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from modelaudit.cli import console
from modelaudit.cli.options import DbOption, RegionFilterOption
from modelaudit.output.history import HistoryFormat

MAX_LIMIT = 1_000_000


def history(
    db: DbOption = None,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="One model's runs: provider/model, or a model id."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=MAX_LIMIT, help="How many runs.")
    ] = 20,
    output_format: Annotated[
        HistoryFormat | None,
        typer.Option("--format", "-f", help="table or json. Default: table on a terminal."),
    ] = None,
    region: RegionFilterOption = None,
) -> int:
    """Show the recent runs, or one model's verdicts and timings run by run."""
    from modelaudit.fleet import regions_filter
    from modelaudit.output.history import History, ModelTimeline, RecentRuns
    from modelaudit.store.backends import locate

    regions = regions_filter(region)
    chosen = output_format or (HistoryFormat.TABLE if sys.stdout.isatty() else HistoryFormat.JSON)
    with locate(db).open(create=False) as store:
        shown: History
        if model is None:
            shown = RecentRuns(tuple(store.recent_runs(limit, regions)))
        else:
            provider, model_id = store.find_model(model)
            runs = store.model_runs((provider, model_id), limit, regions)
            shown = ModelTimeline(provider, model_id, tuple(runs))
    options = console.screen() if chosen is HistoryFormat.TABLE else console.options()
    chosen.formatter(sys.stdout, options).write(shown)
    return 0
