"""Histories written through the real SQLite store, run by run, the way `modelaudit probe`
writes them: each run stores one completion probe per model it saw (its attempts and
their error class), optionally each provider's model list, then the run's verdicts. The
report then reads them back through the store's own reader, incidents and all.

A scenario says, per model, what each run saw (`Pattern`: run number -> `Seen`, or None
when the model was not probed in that run).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from modelaudit.probe.result import Attempt, ModelVerdict, ProbeResult, RunReport
from modelaudit.registry.schema import Registry
from modelaudit.registry.yamlsafe import parse
from modelaudit.report.model import Report, build_report
from modelaudit.store.sqlite.store import SqliteStore
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict

NOW = datetime(2026, 12, 1, 12, 45, tzinfo=UTC)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Seen:
    """What one run saw of one model: the verdict it reached and the class of its one
    completion attempt."""

    verdict: Verdict
    error_class: ErrorClass
    reason: str
    latency_ms: float = 600.0


OK = Seen(Verdict.UP, ErrorClass.OK, "answered")
SLOW = Seen(Verdict.DEGRADED, ErrorClass.OK, "answered in 24 s, over its p95 budget", 24_000.0)
DOWN = Seen(
    Verdict.DOWN,
    ErrorClass.CONNECT_FAILED,
    "connect_failed: [Errno 111] Connect call failed ('127.0.0.1', 8080)",
)
ERROR = Seen(Verdict.DOWN, ErrorClass.SERVER_ERROR, "500 server_error after 3 attempts")
GONE = Seen(Verdict.GONE, ErrorClass.MODEL_NOT_FOUND, "404 model_not_found")
BLOCKED = Seen(Verdict.BLOCKED, ErrorClass.AUTH_FAILED, "401 auth_failed: check ACME_API_KEY")
RATE_LIMITED = Seen(
    Verdict.DEGRADED, ErrorClass.RATE_LIMITED, "429 rate_limited to the end: not an outage"
)
OFFLINE = Seen(
    Verdict.INCONCLUSIVE, ErrorClass.CONNECT_FAILED, "this machine could not reach anything"
)

Pattern = Callable[[int], Seen | None]


def always(seen: Seen) -> Pattern:
    return lambda _: seen


def from_run(first: int, then: Seen, before: Seen = OK) -> Pattern:
    """`before` until run `first`, `then` from it on."""
    return lambda n: then if n >= first else before


def at_runs(runs: set[int] | range, seen: Seen, otherwise: Seen = OK) -> Pattern:
    return lambda n: seen if n in runs else otherwise


@dataclass(frozen=True)
class Scenario:
    """A registry and what `runs` runs, `every` apart and ending just before NOW, saw."""

    registry_yaml: str
    patterns: Mapping[str, Pattern]
    """`provider/model` -> what each run saw of it."""
    runs: int = 48
    every: timedelta = timedelta(minutes=30)
    span: timedelta = DAY
    catalogs: Mapping[str, Callable[[int], tuple[str, ...]]] = field(default_factory=dict)
    """provider -> the ids its model list gave in each run."""
    offline_runs: frozenset[int] = frozenset()
    """Runs this machine was offline for: stored `inconclusive`, every model `OFFLINE`."""

    def started(self, run: int) -> datetime:
        return NOW - (self.runs - run) * self.every + timedelta(seconds=5)

    def registry(self) -> Registry:
        document, problems = parse(self.registry_yaml)
        assert not problems, problems
        return Registry.model_validate(document.data)

    def write(self, store: SqliteStore) -> None:
        for run in range(self.runs):
            started = self.started(run)
            run_id = store.begin_run(started, None)
            offline = run in self.offline_runs
            results, verdicts = [], []
            for ref, pattern in self.patterns.items():
                seen = OFFLINE if offline else pattern(run)
                if seen is None:
                    continue
                provider, _, model = ref.partition("/")
                results.append(_completion(provider, model, started, seen))
                verdicts.append(ModelVerdict(provider, model, seen.verdict, seen.reason))
            for provider, listed in self.catalogs.items():
                results += _catalog(provider, started, listed(run), self.patterns)
            store.add_results(run_id, results)
            status = RunStatus.INCONCLUSIVE if offline else RunStatus.COMPLETE
            store.finish_run(
                run_id,
                RunReport(
                    started_at=started,
                    finished_at=started + timedelta(seconds=4),
                    status=status,
                    results=(),
                    verdicts=tuple(verdicts),
                ),
            )

    def report(self, directory: Path) -> Report:
        """The report of NOW over `span`, read back from a store this scenario wrote."""
        with SqliteStore.open(directory / "history.sqlite3") as store:
            self.write(store)
            return build_report(self.registry(), store.history(), now=NOW, span=self.span)


def _completion(provider: str, model: str, started: datetime, seen: Seen) -> ProbeResult:
    answered = seen.error_class is ErrorClass.OK
    attempt = Attempt(
        1,
        started + timedelta(seconds=1),
        seen.error_class,
        latency_ms=seen.latency_ms if answered else None,
        served_model=model if answered else None,
        detail=seen.reason,
    )
    return ProbeResult(provider, model, ProbeKind.COMPLETION, (attempt,))


def _catalog(
    provider: str, started: datetime, ids: tuple[str, ...], patterns: Mapping[str, Pattern]
) -> list[ProbeResult]:
    """One catalog result per registry model of the provider, each carrying the whole list."""
    models = [ref.partition("/")[2] for ref in patterns if ref.partition("/")[0] == provider]
    attempt = Attempt(1, started, ErrorClass.OK, latency_ms=80.0)
    return [
        ProbeResult(provider, model, ProbeKind.CATALOG, (attempt,), catalog_ids=ids)
        for model in models
    ]
