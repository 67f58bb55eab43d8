"""Wire the probe engine to the gate: probe the pinned models, then decide (`check`) or
resolve (`lock`). The only module of the gate that sends requests or touches files.

Neither command opens the history database: CI has none, and a gate must not leave one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from modelaudit.errors import UsageError
from modelaudit.gate import lockfile
from modelaudit.gate.decide import evaluate
from modelaudit.gate.observe import observe
from modelaudit.gate.pins import pins_of
from modelaudit.gate.resolve import lock_exit_code, lock_of, resolve
from modelaudit.vocabulary import ProbeKind, RunStatus

if TYPE_CHECKING:
    from datetime import date

    from modelaudit.exitcodes import ExitCode
    from modelaudit.gate.decide import GateResult, Policy
    from modelaudit.gate.lockfile import Lock
    from modelaudit.gate.pins import Pin
    from modelaudit.gate.resolve import Resolution
    from modelaudit.probe.plan import Plan
    from modelaudit.probe.result import RunReport
    from modelaudit.probe.runner import Observer
    from modelaudit.registry.loader import LoadedRegistry

CHEAP_KINDS = (ProbeKind.CATALOG,)
LIVE_KINDS = (ProbeKind.CATALOG, ProbeKind.COMPLETION)


@dataclass(frozen=True)
class GateReport:
    """Everything a `check` format renders."""

    result: GateResult
    config_label: str
    """The registry's path as annotations name it: relative to the repository when it can be."""
    lock_label: str
    lock_present: bool
    run: RunReport


@dataclass(frozen=True)
class LockReport:
    resolutions: tuple[Resolution, ...]
    exit_code: ExitCode
    written: bool
    lock_label: str
    run: RunReport


def check(
    loaded: LoadedRegistry,
    lock_path: Path,
    policy: Policy,
    today: date,
    observer: Observer | None = None,
) -> GateReport:
    pins = _pins(loaded)
    lock = lockfile.read(lock_path)
    plan, run = _probe(loaded, pins, LIVE_KINDS if policy.live else CHEAP_KINDS, observer)
    result = evaluate(
        pins,
        observe(run, plan),
        lock,
        today,
        policy,
        interrupted=run.status is RunStatus.INTERRUPTED,
    )
    return GateReport(
        result=result,
        config_label=display_path(loaded.path),
        lock_label=display_path(lock_path),
        lock_present=lock is not None,
        run=run,
    )


def lock(loaded: LoadedRegistry, lock_path: Path, observer: Observer | None = None) -> LockReport:
    pins = _pins(loaded)
    lockfile.read(lock_path)  # a corrupt lock is reported before anything is sent
    plan, run = _probe(loaded, pins, LIVE_KINDS, observer)
    resolutions = resolve(pins, observe(run, plan), run.started_at)
    interrupted = run.status is RunStatus.INTERRUPTED
    new_lock: Lock | None = None if interrupted else lock_of(resolutions)
    if new_lock is not None:
        lockfile.write(lock_path, new_lock)
    return LockReport(
        resolutions=resolutions,
        exit_code=lock_exit_code(resolutions, interrupted=interrupted),
        written=new_lock is not None,
        lock_label=display_path(lock_path),
        run=run,
    )


def _pins(loaded: LoadedRegistry) -> tuple[Pin, ...]:
    pins = pins_of(loaded)
    if not pins:
        raise UsageError(
            f"{loaded.path}: no model is pinned: mark the models you depend on with `pinned: true`"
        )
    return pins


def _probe(
    loaded: LoadedRegistry,
    pins: tuple[Pin, ...],
    kinds: tuple[ProbeKind, ...],
    observer: Observer | None,
) -> tuple[Plan, RunReport]:
    from modelaudit.probe import runner
    from modelaudit.probe.plan import Selection, make_plan

    plan = _only(make_plan(loaded, Selection(models=tuple(p.ref for p in pins)), kinds), pins)
    return plan, runner.run_sync(plan, observer)


def _only(plan: Plan, pins: tuple[Pin, ...]) -> Plan:
    """A selection by `provider/model` also matches another provider's model whose id is that
    text (OpenRouter lists `openai/gpt-4o`): keep exactly the pins."""
    keys = {pin.key for pin in pins}
    providers = []
    for provider_plan in plan.providers:
        name = provider_plan.provider.name
        models = tuple(m for m in provider_plan.models if (name, m.id) in keys)
        if models:
            providers.append(replace(provider_plan, models=models))
    return replace(plan, providers=tuple(providers))


def display_path(path: Path) -> str:
    """Relative to the repository ($GITHUB_WORKSPACE) or else the working directory when the
    file is inside it, with forward slashes: what annotations and SARIF locations expect."""
    resolved = path.resolve()
    for base in (os.environ.get("GITHUB_WORKSPACE"), os.getcwd()):
        if not base:
            continue
        try:
            return resolved.relative_to(Path(base).resolve()).as_posix()
        except ValueError:
            continue
    return path.as_posix()
