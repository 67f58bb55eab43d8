"""Run a plan: every provider at once under a global and a per-provider cap, one shared
client, results reported as they complete, verdicts decided at the end.

Self-hosted GPUs serialize requests, so their default cap is 1; vendors get more. Within
a provider, the health and catalog probes go first: the catalog's connection is then
reused by the generations that follow (its setup time is reported apart).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from modelaudit.clock import utc_now
from modelaudit.families import FAMILIES
from modelaudit.probe import control, verdict
from modelaudit.probe.attempts import BudgetExhausted, ProbeContext, RunBudget
from modelaudit.probe.client import make_client, provider_tls
from modelaudit.probe.kinds import KINDS
from modelaudit.probe.result import ModelVerdict, RunReport
from modelaudit.registry.schema import effective_slo
from modelaudit.vocabulary import ProbeKind, RunStatus, Verdict

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
    from datetime import datetime

    import httpx

    from modelaudit.clock import Clock
    from modelaudit.probe.plan import Plan, ProviderPlan
    from modelaudit.probe.result import ControlCheck, ProbeResult
    from modelaudit.registry.schema import ModelSpec


class Observer:
    """Hears about a run as it goes (progress display, JSON lines, the store)."""

    def started(self, plan: Plan, started_at: datetime) -> None:
        """The run began."""

    def result(self, result: ProbeResult) -> None:
        """One probe of one model finished (all its attempts)."""

    async def ready(self) -> None:
        """Awaited before each probe starts (never while one is in flight): an observer
        that cannot keep up (the store's writer) holds new probes back here."""

    def model_done(self, provisional: ModelVerdict) -> None:
        """Every probe of a model finished. The verdict already accounts for the control
        check when the model's failures needed it (it never reads `down` for a model the
        run ends calling `inconclusive`); an interrupted or over-budget run may still turn
        it `skipped`."""

    def finished(self, report: RunReport) -> None:
        """The run ended (completed, inconclusive or interrupted)."""


class Fanout(Observer):
    """Passes every event to several observers, in order."""

    def __init__(self, *observers: Observer) -> None:
        self.observers = observers

    def started(self, plan: Plan, started_at: datetime) -> None:
        for observer in self.observers:
            observer.started(plan, started_at)

    def result(self, result: ProbeResult) -> None:
        for observer in self.observers:
            observer.result(result)

    async def ready(self) -> None:
        for observer in self.observers:
            await observer.ready()

    def model_done(self, provisional: ModelVerdict) -> None:
        for observer in self.observers:
            observer.model_done(provisional)

    def finished(self, report: RunReport) -> None:
        for observer in self.observers:
            observer.finished(report)


@dataclass
class _RunState:
    plan: Plan
    observer: Observer
    results: dict[tuple[str, str], list[ProbeResult]] = field(default_factory=dict)
    skipped: dict[tuple[str, str], str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    """Providers whose probing raised what no probe expects (a bug): provider -> why."""
    control: Callable[[], Awaitable[ControlCheck]] | None = None
    """Starts the control check, once the run has a client."""
    control_task: asyncio.Task[ControlCheck] | None = None
    decided: dict[tuple[str, str], tuple[bool, ModelVerdict]] = field(default_factory=dict)
    """Each model's verdict when its probes ended, with whether the network was down for
    it then: the final verdict is the same when the run ends with the same answer."""

    def add(self, result: ProbeResult) -> None:
        self.results.setdefault((result.provider, result.model), []).append(result)
        if verdict.connection_level(result):
            self.start_control_check()
        try:
            self.observer.result(result)
        except Exception as exc:
            raise _ObserverFailed from exc

    def done(self, provisional: ModelVerdict) -> None:
        try:
            self.observer.model_done(provisional)
        except Exception as exc:
            raise _ObserverFailed from exc

    def start_control_check(self) -> None:
        """The control check starts with the first failure that says nothing about its
        target, so a model's verdict, live and final, can already account for it."""
        if self.control_task is None and self.control is not None:
            self.control_task = asyncio.ensure_future(self.control())

    async def network_down(self, results: Sequence[ProbeResult]) -> bool:
        """Whether this machine is offline, when `results` need the answer."""
        if self.control_task is None or not any(verdict.connection_level(r) for r in results):
            return False
        return not (await asyncio.shield(self.control_task)).reachable


class _ObserverFailed(Exception):  # noqa: N818 - wraps its cause, which is re-raised
    """An observer failed (its reader went away: a broken pipe). That ends the run, not
    one provider's probing: `_guarded` lets it through and `run` re-raises the cause."""


async def run(
    plan: Plan,
    observer: Observer | None = None,
    seed: int | None = None,
    clock: Clock = utc_now,
) -> RunReport:
    """Probe everything `plan` names. `clock`: what the run's and each attempt's times are
    read from (as the pure cores take `now`; a test's fixed clock), and what families that
    sign or fetch tokens read the time from."""
    state = _RunState(plan, observer or Observer())
    started_at = clock()
    state.observer.started(plan, started_at)
    defaults = plan.defaults
    budget = RunBudget(defaults.budget.max_requests, defaults.budget.max_output_tokens)
    interrupted = False
    control_check: ControlCheck | None = None
    async with _client(plan) as client:
        rng = random.Random(seed)  # noqa: S311 - backoff jitter, not a secret
        ctx = ProbeContext(client, defaults, budget, plan.base_dir, rng, clock)
        limits = _Limits(asyncio.Semaphore(defaults.concurrency.total))
        state.control = lambda: control.check(client, defaults.control)
        try:
            await asyncio.gather(*(_guarded(ctx, state, limits, p) for p in plan.providers))
        except asyncio.CancelledError:
            interrupted = True
        except _ObserverFailed as exc:
            await _finish_control_check(state, interrupted=True)  # nothing left pending
            raise (exc.__cause__ or exc) from None
        control_check = await _finish_control_check(state, interrupted)
    network_down = control_check is not None and not control_check.reachable
    report = RunReport(
        started_at=started_at,
        finished_at=clock(),
        status=_status(interrupted, network_down),
        results=tuple(r for rs in state.results.values() for r in rs),
        verdicts=_verdicts(state, network_down, interrupted),
        control=control_check,
        requests_sent=budget.requests,
        output_tokens_requested=budget.output_tokens,
        notes=tuple(state.notes),
        internal_errors=tuple(f"{name}: {why}" for name, why in state.failed.items()),
    )
    state.observer.finished(report)
    return report


def run_sync(plan: Plan, observer: Observer | None = None, clock: Clock = utc_now) -> RunReport:
    """Run in a fresh event loop; Ctrl-C and SIGTERM end the run as `interrupted`."""
    import signal

    reports: list[RunReport] = []

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        # Handed over beside the task, not as its result: when the runner puts the SIGINT
        # handler back, Python 3.11 builds (and drops) an error message holding the repr
        # of the old handler, which names this task and so its result: a 10,000-model
        # report printed to a string, 0.4 s for nothing.
        reports.append(await run(plan, observer, clock=clock))

    with asyncio.Runner() as runner:
        runner.run(main())
    return reports[0]


@contextlib.asynccontextmanager
async def _client(plan: Plan) -> AsyncIterator[httpx.AsyncClient]:
    tls = {
        host: context
        for p in plan.providers
        for host, context in provider_tls(p.provider, plan.base_dir).items()
    }
    total = plan.defaults.concurrency.total
    client = make_client(
        total,
        plan.defaults.timeouts.connect_s,
        tls,
        _pools(plan, total),
        destinations=plan.defaults.control.urls,
    )
    async with client:
        yield client


def _pools(plan: Plan, total: int) -> dict[str, int]:
    """Connections per host: the caps of the providers it serves, within the run's total."""
    pools: dict[str, int] = {}
    for p in plan.providers:
        cap = p.provider.concurrency(plan.defaults.concurrency)
        for host in FAMILIES[p.provider.api].hosts(p.provider):
            pools[host] = min(total, pools.get(host, 0) + cap)
    return pools


@dataclass
class _Limits:
    total: asyncio.Semaphore

    @contextlib.asynccontextmanager
    async def slot(self, provider: asyncio.Semaphore) -> AsyncIterator[None]:
        async with provider, self.total:
            yield


async def _guarded(
    ctx: ProbeContext, state: _RunState, limits: _Limits, plan: ProviderPlan
) -> None:
    """Probe one provider; what no probe expects (a bug) fails this provider only: its
    models are inconclusive, the others' verdicts stand, and the run says why."""
    try:
        await _run_provider(ctx, state, limits, plan)
    except _ObserverFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - the boundary of one provider
        from modelaudit.untrusted import MAX_DETAIL_CHARS, outside

        # An exception's text may quote what a server sent: bounded like any detail.
        why = f"internal error: {type(exc).__name__}: {outside(str(exc), MAX_DETAIL_CHARS)}"
        why += " (a bug in modelaudit)"
        state.failed[plan.provider.name] = why
        state.notes.append(f"{plan.provider.name} could not be probed: {why}")
        for model in plan.models:
            state.done(_failed(plan.provider.name, model.id, why))


async def _run_provider(
    ctx: ProbeContext, state: _RunState, limits: _Limits, plan: ProviderPlan
) -> None:
    provider = plan.provider
    if plan.skip_reason is not None:
        for model in plan.models:
            state.skipped[(provider.name, model.id)] = plan.skip_reason
            state.done(_skipped(provider.name, model.id, plan.skip_reason))
        return
    cap = asyncio.Semaphore(provider.concurrency(ctx.defaults.concurrency))
    shared = [k for k in KINDS.values() if not k.per_model and k.kind in plan.kinds]
    try:
        for kind in shared:
            await state.observer.ready()
            async with limits.slot(cap):
                results = await kind.for_provider()(ctx, provider, plan.models)
            for result in results:
                state.add(result)
    except BudgetExhausted as exc:
        state.notes.append(f"{provider.name}: {exc}")
    models_ctx = _once_if_never_connected(ctx, state, plan)
    # As many workers as the cap lets probe at once, each taking the next model: a
    # provider of 1,000 models holds a few tasks, not 1,000 waiting on the cap.
    waiting = iter(plan.models)

    async def worker() -> None:
        for model in waiting:
            await _run_model(models_ctx, state, limits, cap, plan, model)

    workers = min(len(plan.models), provider.concurrency(ctx.defaults.concurrency))
    await asyncio.gather(*(worker() for _ in range(workers)))


def _once_if_never_connected(
    ctx: ProbeContext, state: _RunState, plan: ProviderPlan
) -> ProbeContext:
    """When the server's own probes (health, catalog) never reached its host, through all
    their retries, each model's probes try once: another round of backoff per model would
    say the same thing seconds later, model after model on a serialized self-hosted server
    (an offline run of the shipped registry spent 6 of its 7 seconds there)."""
    first = [r for m in plan.models for r in state.results.get((plan.provider.name, m.id), [])]
    if not first or not all(verdict.never_connected(r) for r in first):
        return ctx
    retry = ctx.defaults.retry.model_copy(update={"attempts": 1})
    return replace(ctx, defaults=ctx.defaults.model_copy(update={"retry": retry}))


async def _run_model(
    ctx: ProbeContext,
    state: _RunState,
    limits: _Limits,
    cap: asyncio.Semaphore,
    plan: ProviderPlan,
    model: ModelSpec,
) -> None:
    provider = plan.provider
    key = (provider.name, model.id)
    known_as = _resolved_names(state.results.get(key, []))
    for kind in (KINDS[k] for k in plan.kinds if KINDS[k].per_model):
        try:
            await state.observer.ready()
            async with limits.slot(cap):
                state.add(await kind.for_model()(ctx, provider, model, known_as))
        except BudgetExhausted as exc:
            state.notes.append(f"{provider.name}/{model.id} {kind.kind.value}: {exc}")
            break
    results = state.results.get(key, [])
    network_down = await state.network_down(results)
    decided = _decide(state, plan, model, results, network_down)
    state.decided[key] = (network_down, decided)
    state.done(decided)


def _resolved_names(results: Sequence[ProbeResult]) -> tuple[str, ...]:
    """The id this run's look-up by id resolved the model to: an alias, not a substitute."""
    return tuple(
        r.catalog.resolved_id for r in results if r.catalog is not None and r.catalog.resolved_id
    )


def _decide(
    state: _RunState,
    plan: ProviderPlan,
    model: ModelSpec,
    results: Sequence[ProbeResult],
    network_down: bool = False,
    interrupted: bool = False,
) -> ModelVerdict:
    provider = plan.provider
    cut_short = (
        "the run was interrupted before"
        if interrupted
        else "the run's request or token budget was spent before"
    )
    if not results:
        return _skipped(provider.name, model.id, f"{cut_short} this model was probed")
    decided = verdict.decide(
        provider.name,
        model.id,
        results,
        effective_slo(state.plan.defaults.slo, model.slo),
        network_down=network_down,
        key_ref=str(provider.credential_ref) if provider.credential_ref else None,
        fallbacks=model.fallbacks,
    )
    missing = _unprobed_generations(plan, results)
    if missing and decided.verdict.answering:
        # A catalog listing says nothing about whether the model still answers: calling
        # it up on that alone would close an open incident on a probe that never ran.
        kinds_left = " and ".join(k.value for k in missing)
        return _skipped(provider.name, model.id, f"{cut_short} its {kinds_left} probe ran")
    return decided


def _unprobed_generations(
    plan: ProviderPlan, results: Sequence[ProbeResult]
) -> tuple[ProbeKind, ...]:
    ran = {r.kind for r in results}
    return tuple(k for k in plan.kinds if k.generates and k not in ran)


def _skipped(provider: str, model: str, reason: str) -> ModelVerdict:
    return ModelVerdict(provider, model, Verdict.SKIPPED, reason)


def _failed(provider: str, model: str, why: str) -> ModelVerdict:
    return ModelVerdict(provider, model, Verdict.INCONCLUSIVE, f"could not be probed: {why}")


async def _finish_control_check(state: _RunState, interrupted: bool) -> ControlCheck | None:
    task = state.control_task
    if task is None:
        return None
    if interrupted:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return None
    return await task


def _status(interrupted: bool, network_down: bool) -> RunStatus:
    if interrupted:
        return RunStatus.INTERRUPTED
    return RunStatus.INCONCLUSIVE if network_down else RunStatus.COMPLETE


def _verdicts(state: _RunState, network_down: bool, interrupted: bool) -> tuple[ModelVerdict, ...]:
    verdicts = []
    for provider_plan in state.plan.providers:
        provider = provider_plan.provider
        for model in provider_plan.models:
            key = (provider.name, model.id)
            if key in state.skipped:
                verdicts.append(_skipped(provider.name, model.id, state.skipped[key]))
                continue
            if provider.name in state.failed:
                verdicts.append(_failed(provider.name, model.id, state.failed[provider.name]))
                continue
            known = state.decided.get(key)
            if known is not None and known[0] == network_down and not interrupted:
                verdicts.append(known[1])  # decided from the same results and answer
                continue
            results = state.results.get(key, [])
            verdicts.append(
                _decide(state, provider_plan, model, results, network_down, interrupted)
            )
    return tuple(verdicts)
