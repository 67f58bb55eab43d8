"""Maintenance windows in the report: each model's windows inside the report's window are
marked on it, and the attempts made during them are left out of its availability (counted
with the other excluded attempts), so a planned outage neither lowers availability nor
raises risk. The window logic is `modelaudit.maintenance`, shared with the alerts."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from modelaudit.history import Window
from modelaudit.maintenance import Period, periods, windows_of

if TYPE_CHECKING:
    from datetime import datetime

    from modelaudit.history import ModelHistory, ModelKey
    from modelaudit.registry.schema import Registry
    from modelaudit.risk.evidence import Evidence
    from modelaudit.store.base import HistoryReader


def periods_by_model(registry: Registry, window: Window) -> dict[ModelKey, tuple[Period, ...]]:
    found = {}
    for provider in registry.providers:
        for model in provider.models:
            windows = windows_of(provider, model)
            inside = periods(windows, window.since, window.until) if windows else []
            if inside:
                found[(provider.name, model.id)] = tuple(inside)
    return found


def leave_out(
    reader: HistoryReader, evidence: Evidence, found: dict[ModelKey, tuple[Period, ...]]
) -> Evidence:
    """The evidence with the attempts inside each model's periods moved from its successes
    and failures to its excluded attempts. The store is asked once per distinct period."""
    if not found:
        return evidence
    during: dict[tuple[datetime, datetime], dict[ModelKey, ModelHistory]] = {}
    for start, end in {(p.start, p.end) for spans in found.values() for p in spans}:
        counted = reader.models(Window(since=start, until=end))
        during[(start, end)] = {(h.provider, h.model): h for h in counted}
    models = dict(evidence.models)
    for key, spans in found.items():
        history = models.get(key)
        if history is None:
            continue
        ok = failed = 0
        for p in spans:
            inside = during[(p.start, p.end)].get(key)
            if inside is not None:
                ok, failed = ok + inside.ok, failed + inside.failed
        ok, failed = min(ok, history.ok), min(failed, history.failed)
        models[key] = replace(
            history,
            ok=history.ok - ok,
            failed=history.failed - failed,
            excluded=history.excluded + ok + failed,
        )
    return replace(evidence, models=models)
