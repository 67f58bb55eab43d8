"""The history store's interface, on both sides: what the probe writes, what the report and
the commands read, and how a backend plugs in. Nothing outside `store/` knows which backend
is open; everything here is values and protocols (no connection, cursor or SQL dialect).

* `RunWriter`: a run as it happens (the recorder): the run, its attempts and catalog
  snapshots, its verdicts and final status. `add_results` takes a batch: one call is one
  transaction, all of it stored or none.
* `RunLog`: the small reads of the commands: recent runs, one model's runs (`history`), when
  a model last answered (the probe's "it last answered ..."), a provider's last catalog.
* `Maintenance`: `db check`, `db prune`, `db export`.
* `HistoryReader`: what a time window holds, for the report, the drills and the risk score
  (the values are in `modelaudit.history`).
* `AlertLog`: what alerting remembers between runs (trackers, what each route was told)
  and the messages waiting to be delivered (values in `modelaudit.alerts.state`).
* `Store`: all five over one open store; `Backend`: how `--db` opens one, and the lock of
  scheduled runs. Backends are registered in `modelaudit.store.backends`.

Every method raises `StoreError` (or `UsageError` for a bad reference) when the backend
fails, never the driver's own exception. Times are timezone-aware UTC. Run ids are integers
the backend assigns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, Self

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from contextlib import AbstractContextManager
    from datetime import datetime, timedelta
    from types import TracebackType

    from modelaudit.alerts.state import AlertOverview, AlertSnapshot, AlertUpdate, Delivery
    from modelaudit.history import (
        CatalogChange,
        DriftEvent,
        Incident,
        ModelHistory,
        ModelKey,
        RateLimitPoint,
        RegionHistory,
        Streak,
        TimelinePoint,
        VerdictPoint,
        Window,
    )
    from modelaudit.probe.result import ModelVerdict, ProbeResult, RunReport
    from modelaudit.store.export import ExportedAttempt
    from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict


# --- values of the small reads ------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Who writes a run: the agent's region and its id (`modelaudit.fleet` resolves them)."""

    region: str
    agent: str


@dataclass(frozen=True)
class RunSummary:
    id: int
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    tool_version: str
    registry_sha256: str | None
    attempts: int
    requests_sent: int | None
    verdicts: dict[Verdict, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    region: str = ""
    agent: str = ""


@dataclass(frozen=True)
class ProbeOutcome:
    """The final attempt of one kind of probe of a model in a run."""

    kind: ProbeKind
    error_class: ErrorClass
    attempts: int
    http_status: int | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None


@dataclass(frozen=True)
class ModelRun:
    run_id: int
    started_at: datetime
    run_status: RunStatus
    verdict: Verdict | None
    """None when the run ended without verdicts (killed)."""
    reason: str | None
    probes: tuple[ProbeOutcome, ...]
    region: str = ""


@dataclass(frozen=True)
class CatalogSnapshot:
    """A provider's whole model list as one run read it."""

    provider: str
    run_id: int
    taken_at: datetime
    ids: frozenset[str]


@dataclass(frozen=True)
class CheckReport:
    schema_version: int
    problems: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)
    """Rows per kind: runs, attempts, verdicts, models, catalog_snapshots, rollups."""
    size_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class RunIdentity:
    """What tells one run from every other, in any store: when it started, the process
    that wrote it and its region. `db copy` skips a run whose identity the target already holds."""

    started_at: datetime
    host: str
    pid: int
    boot_id: str | None
    process_start: str | None
    region: str = ""


@dataclass(frozen=True)
class StoredRun:
    """A whole run as a store holds it, for `db copy`: its results rebuilt from the stored
    attempts (one `ProbeResult` per model and kind), its verdicts and catalog snapshots."""

    identity: RunIdentity
    origin: Origin
    status: RunStatus
    finished_at: datetime | None
    tool_version: str
    registry_sha256: str | None
    requests_sent: int | None
    notes: tuple[str, ...]
    results: tuple[ProbeResult, ...]
    verdicts: tuple[ModelVerdict, ...]
    catalogs: tuple[CatalogSnapshot, ...]


@dataclass(frozen=True)
class PruneResult:
    cutoff: datetime
    """Attempts that started before this (an hour boundary) were rolled up."""
    attempts: int
    hours: int
    """Rollup rows written (one per model, hour, kind, error class)."""


# --- the protocols ------------------------------------------------------------------------------


class RunWriter(Protocol):
    """Records a run as it happens. A run cut short keeps what was written."""

    @property
    def location(self) -> str:
        """Where the store is, for messages (a path; a URL without its password)."""
        ...

    def begin_run(
        self, started_at: datetime, registry_sha256: str | None, origin: Origin | None = None
    ) -> int:
        """A new run, `running` until it is finished or abandoned; returns its id. `origin`
        None: this host's name as region and agent id."""
        ...

    def add_results(self, run_id: int, results: Sequence[ProbeResult]) -> None:
        """Every attempt of each result, and a provider's catalog snapshot when a result
        carries its whole model list (once per run and provider), in one transaction."""
        ...

    def finish_run(self, run_id: int, report: RunReport) -> None:
        """Close the run with its status, and store its verdicts (and what they make of
        the incidents)."""
        ...

    def abandon_run(self, run_id: int) -> None:
        """The process leaves without a report: mark the run interrupted, keep its rows."""
        ...


class RunLog(Protocol):
    """The small reads of the commands."""

    def recent_runs(self, limit: int, regions: frozenset[str] = frozenset()) -> list[RunSummary]:
        """The last `limit` runs (of agents in `regions`; empty: all), newest first."""
        ...

    def find_model(self, ref: str) -> ModelKey:
        """`provider/model`, or a model id only one provider has (else UsageError)."""
        ...

    def model_runs(
        self, model: ModelKey, limit: int, regions: frozenset[str] = frozenset()
    ) -> list[ModelRun]:
        """The model's last `limit` runs (of agents in `regions`; empty: all), newest
        first, with each probe's final attempt."""
        ...

    def last_ok(self, provider: str, model: str, before: datetime | None = None) -> datetime | None:
        """When the model last answered a generation or health probe (before `before`),
        or None if it never did in this store."""
        ...

    def latest_catalog(
        self, provider: str, before: datetime | None = None
    ) -> CatalogSnapshot | None:
        """The provider's last stored model list (taken before `before`), if any."""
        ...


class Maintenance(Protocol):
    """`db check`, `db prune` and `db export`."""

    def sweep_stale_runs(self) -> list[int]:
        """Mark `running` runs whose process is gone (killed, machine rebooted) as
        interrupted; returns their ids."""
        ...

    def check(self) -> CheckReport:
        """Integrity and schema version; counts when whole. StoreError when the store is
        too damaged to finish checking."""
        ...

    def prune(self, older_than: timedelta, now: datetime) -> PruneResult:
        """Roll raw attempts older than `older_than` up into hourly aggregates, in short
        transactions (an interrupted prune leaves whole hours done)."""
        ...

    def export_attempts(self, since: datetime | None = None) -> Iterator[ExportedAttempt]:
        """Every raw attempt (since `since`), oldest first, read in one snapshot."""
        ...

    def run_identities(self) -> set[RunIdentity]:
        """The identity of every stored run (for `db copy` to skip what is there)."""
        ...

    def copy_out(self, skip: set[RunIdentity]) -> Iterator[StoredRun]:
        """Every run not in `skip`, oldest first, with what it stored (raw attempts only:
        hours `db prune` rolled up are not runs any more)."""
        ...

    def copy_in(self, run: StoredRun) -> bool:
        """Store a run read from another store, all of it in one transaction, as its
        writer would have (daily sums, incidents and change events follow); False when a
        run of that identity is already here."""
        ...


class HistoryReader(Protocol):
    """Answers about a window."""

    def models(self, window: Window) -> list[ModelHistory]:
        """One entry per model with any attempt in the window."""
        ...

    def timelines(self, window: Window, bucket: timedelta) -> dict[ModelKey, list[TimelinePoint]]:
        """Per model, the attempts of the window in buckets of `bucket` width, at the
        starts `bucket_starts` gives (empty buckets left out). Latency percentiles are
        exact for buckets shorter than a day; whole-day buckets may give them bucketed
        (within 3 %), as prune's rollups do."""
        ...

    def verdicts(self, window: Window) -> dict[ModelKey, list[VerdictPoint]]:
        """Per model, its verdict in each run of the window, oldest first."""
        ...

    def streaks(self, window: Window, models: frozenset[ModelKey] = frozenset()) -> list[Streak]:
        """Per model and region, over the runs of the window (of `models` only, when
        given): its last decisive verdict and the streak of that verdict it ends, by the
        rule of `history.streaks_of`. A report reads these instead of every verdict: one
        or two rows per model and region, whatever the runs."""
        ...

    def run_starts(self, window: Window) -> list[datetime]:
        """When each run of the window that stored verdicts started, oldest first."""
        ...

    def incidents(self, window: Window) -> list[Incident]: ...

    def catalog_changes(self, window: Window) -> list[CatalogChange]: ...

    def drift(self, window: Window) -> list[DriftEvent]:
        """The served model differing from the one asked for, or `system_fingerprint`
        changing between attempts."""
        ...

    def ratelimit_ceilings(self, window: Window) -> dict[ModelKey, list[RateLimitPoint]]:
        """The `*-limit*` rate-limit headers seen, per model, oldest first."""
        ...

    def regions(self, window: Window) -> list[RegionHistory]:
        """Per model and region, availability as the region's agents saw it: the report's
        side-by-side view of a fleet."""
        ...


class AlertLog(Protocol):
    """Alerting's memory. An evaluation reads and writes in one transaction, so two
    processes evaluating at once never both tell the same transition; a message is
    claimed (`sending`) by one process before it is sent, and settled after."""

    def update_alerts(
        self, scope: str, decide: Callable[[AlertSnapshot], AlertUpdate]
    ) -> AlertUpdate:
        """In one write transaction: read what is remembered for `scope`, call `decide`
        (pure, quick) and store what it returns (trackers, route marks, the watermark,
        new `pending` deliveries). Returns it."""
        ...

    def claim_deliveries(self, limit: int) -> list[Delivery]:
        """Mark up to `limit` deliveries `sending` for this process, oldest first, and return
        them: every `pending` one, and every `sending` one whose claiming process is gone
        (those come back with `repeat`: the service may have had them)."""
        ...

    def settle_delivery(
        self, delivery_id: int, *, sent: bool, error: str | None, at: datetime
    ) -> None:
        """After an attempt: `sent`, or back to `pending` with the error (redacted) for the
        next run to retry."""
        ...

    def drop_delivery(self, delivery_id: int, reason: str, at: datetime) -> None:
        """A delivery whose route or URL left the registry: kept, never sent."""
        ...

    def alert_overview(self) -> AlertOverview:
        """Open alerts (route marks) and deliveries not yet sent."""
        ...


class Store(RunWriter, RunLog, Maintenance, AlertLog, Protocol):
    """One open store: a context manager that closes it. Opening it brings the schema up
    to date and sweeps runs whose process died (`swept`)."""

    swept: list[int]
    """Runs this open found abandoned (their process gone) and marked interrupted."""

    def history(self) -> HistoryReader: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Backend(Protocol):
    """One kind of store, given an address: a backend's own URL, or (for the backend that
    takes them) a file path."""

    def open(self, address: str, *, create: bool) -> Store:
        """Open the store, creating it if `create` (else a missing one is a UsageError
        that says how to start one)."""
        ...

    def exclusive(self, address: str, origin: Origin | None = None) -> AbstractContextManager[None]:
        """The lock of scheduled runs (`watch`, `probe --exclusive`) on this store: held
        for the block, released however the process ends; LockedError at once when
        another process holds it. Needs no open store. A backend shared by a fleet scopes
        it to `origin` (agents in different regions never block each other)."""
        ...

    def describe(self, address: str) -> str:
        """The address for messages, with any password removed."""
        ...
