"""The SQLite history store: runs, every attempt, verdicts and catalog snapshots. It
implements `modelaudit.store.base.Store`.

Only this package touches SQLite. Every string written passes through `redact` first: a
server that echoes a key back in an error message cannot get it into the file.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from modelaudit import __version__
from modelaudit.history import AVAILABILITY_KINDS, counts_as
from modelaudit.probe.result import RunReport
from modelaudit.redact import generation as redact_generation
from modelaudit.redact import redact
from modelaudit.store import liveness
from modelaudit.store.base import Origin, RunIdentity
from modelaudit.store.sqlite import alerts, changes, daily, export, incidents, runs
from modelaudit.store.sqlite.db import (
    connect,
    from_ms,
    ms,
    reported,
    retry_busy,
    transaction,
    translated,
)
from modelaudit.store.sqlite.migrations import migrate
from modelaudit.vocabulary import RunStatus

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Iterable, Iterator
    from datetime import timedelta
    from pathlib import Path
    from types import TracebackType

    from modelaudit.alerts.state import AlertOverview, AlertSnapshot, AlertUpdate, Delivery
    from modelaudit.history import ModelKey
    from modelaudit.probe.result import Attempt, ModelVerdict, ProbeResult
    from modelaudit.store.base import (
        CatalogSnapshot,
        CheckReport,
        ModelRun,
        PruneResult,
        RunSummary,
        StoredRun,
    )
    from modelaudit.store.export import ExportedAttempt
    from modelaudit.store.sqlite.reader import SqliteHistory

T = TypeVar("T")
MAX_CACHED_STRINGS = 10_000
RATELIMIT_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-")


@functools.cache
def is_ceiling(header: str) -> bool:
    """`x-ratelimit-limit-requests`, `anthropic-ratelimit-tokens-limit`: the ceilings, which
    change rarely; the remaining/reset counters change on every request and are not kept."""
    name = header.lower()
    return any(name.startswith(p) and "limit" in name[len(p) :] for p in RATELIMIT_PREFIXES)


class SqliteStore:
    """One connection to the history database. Open with `SqliteStore.open(...)`; it is a
    context manager that closes the connection."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._strings: dict[object, int] = {}
        """Raw value -> id of its redacted text; valid while `redact.generation()` is."""
        self._generation = -1
        self._targets: dict[tuple[str, str], int] = {}
        self._snapshots: set[tuple[int, str]] = set()
        self.swept: list[int] = []
        """Runs this open found abandoned (their process gone) and marked interrupted."""

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> SqliteStore:
        """Open (or create) the database, apply migrations, and close runs whose process
        died without closing them."""
        conn = connect(path, create=create)
        try:
            with reported(path):
                retry_busy(lambda: migrate(conn))
                store = cls(conn, path)
                store.swept = store.sweep_stale_runs()
        except BaseException:
            conn.close()
            raise
        return store

    @property
    def location(self) -> str:
        return str(self.path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def history(self) -> SqliteHistory:
        from modelaudit.store.sqlite.reader import SqliteHistory

        return SqliteHistory(self.conn, self.path)

    # --- runs ---------------------------------------------------------------------------

    @translated
    def begin_run(
        self, started_at: datetime, registry_sha256: str | None, origin: Origin | None = None
    ) -> int:
        me = liveness.current()
        origin = origin or Origin(me.host, me.host)
        identity = RunIdentity(started_at, me.host, me.pid, me.boot_id, me.process_start)
        with transaction(self.conn) as conn:
            return _insert_run(conn, identity, origin, registry_sha256)

    @translated
    def finish_run(self, run_id: int, report: RunReport) -> None:
        """Close the run with its status, and store its verdicts and what they make of the
        incidents."""
        pending: dict[tuple[str, str], int] = {}
        with transaction(self.conn) as conn:
            self._write_finish(conn, run_id, report, pending)
        self._targets.update(pending)
        self._snapshots = {s for s in self._snapshots if s[0] != run_id}

    def _write_finish(
        self,
        conn: sqlite3.Connection,
        run_id: int,
        report: RunReport,
        pending: dict[tuple[str, str], int],
    ) -> None:
        was = conn.execute("SELECT status FROM run WHERE id = ?", (run_id,)).fetchone()
        conn.execute(
            "UPDATE run SET finished_ms = ?, status = ?, requests_sent = ?, notes = ? WHERE id = ?",
            (
                ms(report.finished_at),
                report.status.value,
                report.requests_sent,
                json.dumps([redact(n) for n in report.notes]) if report.notes else None,
                run_id,
            ),
        )
        inconclusive = report.status is RunStatus.INCONCLUSIVE
        if was is not None and (was[0] == RunStatus.INCONCLUSIVE.value) != inconclusive:
            daily.reclassify(conn, run_id, inconclusive=inconclusive)
        self._find_targets(conn, report.verdicts, pending)
        targets = [self._target(conn, v, pending) for v in report.verdicts]
        reasons: dict[str, str] = {}  # a fleet's verdicts share a few reasons
        conn.executemany(
            "INSERT OR REPLACE INTO verdict VALUES (?, ?, ?, ?, ?)",
            [
                _verdict_row(run_id, t, v, reasons)
                for t, v in zip(targets, report.verdicts, strict=True)
            ],
        )
        incidents.record(
            conn, run_id, zip(targets, (v.verdict for v in report.verdicts), strict=True)
        )

    @translated
    def abandon_run(self, run_id: int) -> None:
        """The process is leaving without a report (an error): what is stored stays."""
        with transaction(self.conn) as conn:
            _close_interrupted(conn, [run_id])

    @translated
    def sweep_stale_runs(self) -> list[int]:
        """Mark `running` runs whose process is gone (killed, machine rebooted) as
        interrupted. Returns their ids."""
        rows = self.conn.execute(
            "SELECT id, pid, host, boot_id, process_start FROM run WHERE status = 'running'"
        ).fetchall()
        here = liveness.current()
        stale = [
            row[0]
            for row in rows
            if liveness.is_stale(liveness.ProcessIdentity(row[1], row[2], row[3], row[4]), here)
        ]
        if stale:
            with transaction(self.conn) as conn:
                _close_interrupted(conn, stale)
        return stale

    # --- attempts -----------------------------------------------------------------------

    @translated
    def add_results(self, run_id: int, results: Iterable[ProbeResult]) -> None:
        """Every attempt of the probe results, in one short transaction; and a provider's
        catalog snapshot when a result carries the whole model list."""
        pending = self._pending()
        with transaction(self.conn) as conn:
            self._write_results(conn, run_id, results, pending)
        self._remember(pending)

    def _pending(self) -> _Pending:
        if self._generation != redact_generation() or len(self._strings) > MAX_CACHED_STRINGS:
            self._strings.clear()  # a new secret: strings must be redacted afresh
            self._generation = redact_generation()
        return _Pending()

    def _remember(self, pending: _Pending) -> None:
        """Only once committed: ids from a rolled-back transaction do not exist."""
        self._strings.update(pending.strings)
        self._targets.update(pending.targets)
        self._snapshots |= pending.snapshots

    def _write_results(
        self,
        conn: sqlite3.Connection,
        run_id: int,
        results: Iterable[ProbeResult],
        pending: _Pending,
    ) -> None:
        """A batch of results: its attempts in one statement, and each model, the run and
        the daily sums touched once for the whole batch."""
        rows: list[_AttemptRow] = []
        seen: dict[int, _Seen] = {}
        results = list(results)
        self._find_targets(conn, results, pending.targets)
        for result in results:
            target_id = self._target(conn, result, pending.targets)
            result_rows = [
                self._attempt_row(conn, run_id, target_id, result, a, pending.strings)
                for a in result.attempts
            ]
            rows += result_rows
            found = seen.get(target_id)
            if found is None:
                found = seen[target_id] = _Seen(result.model)
            found.add(result, result_rows)
            snapshot = (run_id, result.provider)
            taken = snapshot in self._snapshots or snapshot in pending.snapshots
            if result.catalog_ids is not None and not taken:
                _snapshot(conn, run_id, result.provider, result.started_at, result.catalog_ids)
                pending.snapshots.add(snapshot)
        if not rows:
            return
        conn.executemany(
            "INSERT INTO attempt (run_id, target_id, kind, number, started_ms,"
            " error_class, http_status, latency_ms, ttft_ms, failed_phase, connect_ms,"
            " connection_reused, served_model_id, fingerprint_id, output_tokens,"
            " tokens_per_s, max_gap_ms, retry_after_s, ratelimit_id, detail_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        changes.record_all(conn, {t: (s.model, s.observations) for t, s in seen.items()})
        _touch_targets(conn, seen)
        conn.execute(
            "UPDATE run SET attempts = attempts + ?,"
            " last_attempt_ms = max(coalesce(last_attempt_ms, 0), ?) WHERE id = ?",
            (len(rows), max(s.last_end for s in seen.values()), run_id),
        )
        daily.add(conn, run_id, map(_sample, rows))

    def _attempt_row(
        self,
        conn: sqlite3.Connection,
        run_id: int,
        target_id: int,
        result: ProbeResult,
        attempt: Attempt,
        pending: dict[object, int],
    ) -> _AttemptRow:
        def text(value: str | None) -> int | None:
            return None if not value else self._string(conn, value, redact, pending)

        ceilings = tuple(pair for pair in attempt.ratelimit if is_ceiling(pair[0]))
        return _AttemptRow(
            run_id,
            target_id,
            result.kind.value,
            attempt.number,
            ms(attempt.started_at),
            attempt.error_class.value,
            attempt.http_status,
            attempt.latency_ms,
            attempt.ttft_ms,
            attempt.failed_phase.value if attempt.failed_phase else None,
            attempt.connect_ms,
            attempt.connection_reused,
            text(attempt.served_model),
            text(attempt.system_fingerprint),
            attempt.output_tokens,
            attempt.tokens_per_s,
            attempt.max_gap_ms,
            attempt.retry_after_s,
            self._string(conn, ceilings, _ceilings_json, pending) if ceilings else None,
            text(attempt.detail),
        )

    def _string(
        self,
        conn: sqlite3.Connection,
        raw: T,
        render: Callable[[T], str],
        pending: dict[object, int],
    ) -> int:
        """The id of `render(raw)` (redacted text) in the `string` table."""
        known = self._strings.get(raw) or pending.get(raw)
        if known is not None:
            return known
        value = render(raw)
        conn.execute("INSERT INTO string (value) VALUES (?) ON CONFLICT DO NOTHING", (value,))
        row = conn.execute("SELECT id FROM string WHERE value = ?", (value,)).fetchone()
        pending[raw] = int(row[0])
        return pending[raw]

    def _target(
        self,
        conn: sqlite3.Connection,
        of: ProbeResult | ModelVerdict,
        pending: dict[tuple[str, str], int],
    ) -> int:
        key = (of.provider, of.model)
        known = self._targets.get(key) or pending.get(key)
        if known is not None:
            return known
        conn.execute(
            "INSERT INTO target (provider, model) VALUES (?, ?) ON CONFLICT DO NOTHING", key
        )
        row = conn.execute("SELECT id FROM target WHERE provider = ? AND model = ?", key).fetchone()
        pending[key] = int(row[0])
        return pending[key]

    def _find_targets(
        self,
        conn: sqlite3.Connection,
        of: Iterable[ProbeResult | ModelVerdict],
        pending: dict[tuple[str, str], int],
    ) -> None:
        """The ids of the models of `of` not known yet, in one insert and one read (a
        fleet's first batch names hundreds of models: two statements, not two each)."""
        wanted = {(o.provider, o.model) for o in of}
        wanted = {key for key in wanted if key not in self._targets and key not in pending}
        if not wanted:
            return
        conn.executemany(
            "INSERT INTO target (provider, model) VALUES (?, ?) ON CONFLICT DO NOTHING",
            sorted(wanted),
        )
        found = conn.execute(
            "SELECT t.id, t.provider, t.model FROM json_each(?) AS w JOIN target AS t"
            " ON t.provider = json_extract(w.value, '$[0]')"
            " AND t.model = json_extract(w.value, '$[1]')",
            (json.dumps(sorted(wanted)),),
        )
        pending.update(((provider, model), int(id_)) for id_, provider, model in found)

    # --- small reads -------------------------------------------------------------------------

    @translated
    def last_ok(self, provider: str, model: str, before: datetime | None = None) -> datetime | None:
        """When the model last answered a generation or health probe ("it used to
        answer"), or None if it never did in this database."""
        row = self.conn.execute(
            "SELECT id, last_ok_ms FROM target WHERE provider = ? AND model = ?",
            (provider, model),
        ).fetchone()
        if row is None or row[1] is None:
            return None
        if before is None or row[1] < ms(before):
            return from_ms(row[1])
        from modelaudit.store.sqlite.reader import last_ok_before

        return last_ok_before(self.conn, row[0], ms(before))

    @translated
    def latest_catalog(
        self, provider: str, before: datetime | None = None
    ) -> CatalogSnapshot | None:
        return runs.latest_catalog(self.conn, provider, ms(before) if before else None)

    @translated
    def recent_runs(self, limit: int, regions: frozenset[str] = frozenset()) -> list[RunSummary]:
        return runs.recent_runs(self.conn, limit, regions)

    @translated
    def find_model(self, ref: str) -> ModelKey:
        _, provider, model = runs.find_target(self.conn, ref)
        return provider, model

    @translated
    def model_runs(
        self, model: ModelKey, limit: int, regions: frozenset[str] = frozenset()
    ) -> list[ModelRun]:
        row = self.conn.execute(
            "SELECT id FROM target WHERE provider = ? AND model = ?", model
        ).fetchone()
        return [] if row is None else runs.model_runs(self.conn, int(row[0]), limit, regions)

    # --- alerting ------------------------------------------------------------------------

    @translated
    def update_alerts(
        self, scope: str, decide: Callable[[AlertSnapshot], AlertUpdate]
    ) -> AlertUpdate:
        return alerts.update(self.conn, scope, decide)

    @translated
    def claim_deliveries(self, limit: int) -> list[Delivery]:
        return alerts.claim(self.conn, limit, datetime.now(UTC))

    @translated
    def settle_delivery(
        self, delivery_id: int, *, sent: bool, error: str | None, at: datetime
    ) -> None:
        alerts.settle(self.conn, delivery_id, sent=sent, error=error, at=at)

    @translated
    def drop_delivery(self, delivery_id: int, reason: str, at: datetime) -> None:
        alerts.drop(self.conn, delivery_id, reason, at)

    @translated
    def alert_overview(self) -> AlertOverview:
        return alerts.overview(self.conn)

    # --- maintenance -----------------------------------------------------------------------

    @translated
    def check(self) -> CheckReport:
        from modelaudit.store.sqlite.check import check

        return check(self)

    @translated
    def prune(self, older_than: timedelta, now: datetime) -> PruneResult:
        from modelaudit.store.sqlite.prune import prune

        return prune(self.conn, older_than, now)

    def export_attempts(self, since: datetime | None = None) -> Iterator[ExportedAttempt]:
        with reported(self.path):
            yield from export.attempts(self.conn, ms(since) if since else None)

    @translated
    def run_identities(self) -> set[RunIdentity]:
        return {
            RunIdentity(from_ms(started), host, pid, boot, start, region)
            for started, host, pid, boot, start, region in self.conn.execute(
                "SELECT started_ms, host, pid, boot_id, process_start, region FROM run"
            )
        }

    def copy_out(self, skip: set[RunIdentity]) -> Iterator[StoredRun]:
        from modelaudit.store.sqlite.copying import copy_out

        with reported(self.path):
            yield from copy_out(self.conn, skip)

    @translated
    def copy_in(self, run: StoredRun) -> bool:
        """One transaction: the run, unless one of its identity is here, and everything
        it stored, through the writes a live run goes through."""
        me = run.identity
        pending = self._pending()
        with transaction(self.conn) as conn:
            there = conn.execute(
                "SELECT 1 FROM run WHERE started_ms = ? AND host = ? AND pid = ?"
                " AND boot_id IS ? AND process_start IS ? AND region = ?",
                (ms(me.started_at), me.host, me.pid, me.boot_id, me.process_start, me.region),
            ).fetchone()
            if there:
                return False
            run_id = _insert_run(conn, me, run.origin, run.registry_sha256, run.tool_version)
            if run.status is RunStatus.INCONCLUSIVE:
                conn.execute("UPDATE run SET status = 'inconclusive' WHERE id = ?", (run_id,))
            self._write_results(conn, run_id, run.results, pending)
            for snapshot in run.catalogs:
                _snapshot(conn, run_id, snapshot.provider, snapshot.taken_at, snapshot.ids)
            if run.status is not RunStatus.RUNNING and run.finished_at is not None:
                report = RunReport(
                    started_at=me.started_at,
                    finished_at=run.finished_at,
                    status=run.status,
                    results=(),
                    verdicts=run.verdicts,
                    requests_sent=run.requests_sent or 0,
                    notes=run.notes,
                )
                self._write_finish(conn, run_id, report, pending.targets)
                conn.execute(
                    "UPDATE run SET requests_sent = ? WHERE id = ?", (run.requests_sent, run_id)
                )
        self._remember(pending)
        self._snapshots = {s for s in self._snapshots if s[0] != run_id}
        return True

    @translated
    def counts(self) -> dict[str, int]:
        """Rows per table, for `db check`."""
        row = self.conn.execute(
            "SELECT (SELECT count(*) FROM run), (SELECT count(*) FROM attempt),"
            " (SELECT count(*) FROM verdict), (SELECT count(*) FROM target),"
            " (SELECT count(*) FROM catalog_snapshot), (SELECT count(*) FROM rollup)"
        ).fetchone()
        names = ("runs", "attempts", "verdicts", "models", "catalog_snapshots", "rollups")
        return dict(zip(names, map(int, row), strict=True))


@dataclass
class _Pending:
    """What a write transaction learned, kept only once it commits."""

    strings: dict[object, int] = field(default_factory=dict)
    targets: dict[tuple[str, str], int] = field(default_factory=dict)
    snapshots: set[tuple[int, str]] = field(default_factory=set)


def _insert_run(
    conn: sqlite3.Connection,
    me: RunIdentity,
    origin: Origin,
    registry_sha256: str | None,
    tool_version: str = __version__,
) -> int:
    cursor = conn.execute(
        "INSERT INTO run (started_ms, status, tool_version, registry_sha256, pid, host,"
        " boot_id, process_start, region, agent) VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ms(me.started_at),
            tool_version,
            registry_sha256,
            me.pid,
            me.host,
            me.boot_id,
            me.process_start,
            origin.region,
            origin.agent,
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _ceilings_json(ceilings: tuple[tuple[str, str], ...]) -> str:
    """Redacted before encoding: a secret with a quote in it would not match once escaped."""
    return json.dumps({redact(k): redact(v) for k, v in ceilings}, sort_keys=True)


def _verdict_row(
    run_id: int, target_id: int, verdict: ModelVerdict, reasons: dict[str, str]
) -> tuple[object, ...]:
    """`reasons`: the reasons redacted so far, by their text."""
    reason = reasons.get(verdict.reason)
    if reason is None:
        reason = reasons[verdict.reason] = redact(verdict.reason)
    return (
        run_id,
        target_id,
        verdict.verdict.value,
        verdict.error_class.value if verdict.error_class else None,
        reason,
    )


@dataclass
class _Seen:
    """What a batch says of one model: its observations in order, for the change events;
    the first and last attempts and the last success, for its `target` row; the end of
    its last attempt, for the run's."""

    model: str
    observations: list[changes.Observation] = field(default_factory=list)
    first: int | None = None
    last: int | None = None
    last_ok: int | None = None
    last_end: int = 0

    def add(self, result: ProbeResult, rows: list[_AttemptRow]) -> None:
        self.observations += _observations(result, rows)
        counted = result.kind in AVAILABILITY_KINDS
        for attempt, row in zip(result.attempts, rows, strict=True):
            at = row.started_ms
            self.first = at if self.first is None else min(self.first, at)
            self.last = at if self.last is None else max(self.last, at)
            if counted and counts_as(attempt.error_class) == "ok":
                self.last_ok = at if self.last_ok is None else max(self.last_ok, at)
        self.last_end = max(self.last_end, _ended_ms(result.final))


def _touch_targets(conn: sqlite3.Connection, seen: dict[int, _Seen]) -> None:
    conn.executemany(
        "UPDATE target SET first_seen_ms = min(coalesce(first_seen_ms, :first), :first),"
        " last_seen_ms = max(coalesce(last_seen_ms, :last), :last),"
        " last_ok_ms = CASE WHEN :ok IS NULL THEN last_ok_ms"
        "  ELSE max(coalesce(last_ok_ms, :ok), :ok) END"
        " WHERE id = :id",
        [
            {"first": s.first, "last": s.last, "ok": s.last_ok, "id": target_id}
            for target_id, s in seen.items()
        ],
    )


def _snapshot(
    conn: sqlite3.Connection, run_id: int, provider: str, taken: datetime, ids: Iterable[str]
) -> None:
    listed = json.dumps(sorted({redact(i) for i in ids}))
    digest = hashlib.sha256(listed.encode()).hexdigest()
    conn.execute(
        "INSERT INTO catalog_set (sha256, ids) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (digest, listed),
    )
    conn.execute(
        "INSERT OR IGNORE INTO catalog_snapshot (run_id, provider, taken_ms, set_id)"
        " SELECT ?, ?, ?, id FROM catalog_set WHERE sha256 = ?",
        (run_id, provider, ms(taken), digest),
    )


class _AttemptRow(NamedTuple):
    """One `attempt` row, in the INSERT's column order."""

    run_id: int
    target_id: int
    kind: str
    number: int
    started_ms: int
    error_class: str
    http_status: int | None
    latency_ms: float | None
    ttft_ms: float | None
    failed_phase: str | None
    connect_ms: float | None
    connection_reused: bool | None
    served_model_id: int | None
    fingerprint_id: int | None
    output_tokens: int | None
    tokens_per_s: float | None
    max_gap_ms: float | None
    retry_after_s: float | None
    ratelimit_id: int | None
    detail_id: int | None


def _observations(result: ProbeResult, rows: list[_AttemptRow]) -> Iterator[changes.Observation]:
    """What each attempt reported, as stored, for the change events."""
    for attempt, row in zip(result.attempts, rows, strict=True):
        yield changes.Observation(
            at_ms=row.started_ms,
            served_model=row.served_model_id,
            served_name=attempt.served_model or None,
            fingerprint=row.fingerprint_id,
            ratelimit=row.ratelimit_id,
        )


def _sample(row: _AttemptRow) -> daily.Sample:
    return (row.target_id, row.kind, row.error_class, row.started_ms, row.latency_ms, row.ttft_ms)


def _ended_ms(attempt: Attempt) -> int:
    return ms(attempt.started_at) + round(attempt.latency_ms or 0)


def _close_interrupted(conn: sqlite3.Connection, run_ids: list[int]) -> None:
    """A run that ended without its report ends, as far as anyone knows, with its last
    stored attempt."""
    conn.execute(
        "UPDATE run SET status = 'interrupted', finished_ms = coalesce(last_attempt_ms, started_ms)"
        " WHERE status = 'running' AND id IN (SELECT value FROM json_each(?))",
        (json.dumps(run_ids),),
    )
