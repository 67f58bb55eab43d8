"""The PostgreSQL history store: runs, every attempt, verdicts and catalog snapshots, shared
by a fleet of agents. It implements `modelaudit.store.base.Store`.

Only this package touches PostgreSQL. Every string written passes through `redact` first.
Each write is one short transaction (`db.write`). A batch updates rows of its own region
only (a model's state in the region, the region's daily sums; `closing` for the sums over
every region), so agents in different regions never wait for each other; agents of one
region lock those rows in key order, so they queue instead of losing an update.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from modelaudit import __version__
from modelaudit.errors import UsageError
from modelaudit.history import AVAILABILITY_KINDS, counts_as
from modelaudit.redact import generation as redact_generation
from modelaudit.redact import redact
from modelaudit.store import liveness
from modelaudit.store.base import Origin
from modelaudit.store.incidents import INCIDENT_VERDICTS, NEUTRAL_VERDICTS, Point, Span, follow
from modelaudit.store.postgres import alerts, closing, db, sums
from modelaudit.store.postgres.backend import describe
from modelaudit.store.postgres.labels import (
    Extra,
    Labels,
    ensure_extras,
    ensure_strings,
    ensure_targets,
)
from modelaudit.store.postgres.migrations import migrate, schema_version
from modelaudit.vocabulary import RunStatus, Verdict

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from datetime import timedelta
    from types import TracebackType

    import psycopg
    from psycopg_pool import ConnectionPool

    from modelaudit.alerts.state import AlertOverview, AlertSnapshot, AlertUpdate, Delivery
    from modelaudit.history import ModelKey
    from modelaudit.probe.result import Attempt, ModelVerdict, ProbeResult, RunReport
    from modelaudit.store.base import (
        CatalogSnapshot,
        CheckReport,
        ModelRun,
        PruneResult,
        RunIdentity,
        RunSummary,
        StoredRun,
    )
    from modelaudit.store.export import ExportedAttempt
    from modelaudit.store.postgres.reader import PostgresHistory

LAST_OK = (
    "greatest(t.last_ok_ms,"
    " (SELECT max(s.last_ok_ms) FROM target_state s WHERE s.target_id = t.id))"
)
"""A model's (`target t`) last successful availability attempt in any region (`target`'s
own column is as it stood before schema 4, or as an older agent of a fleet keeps it)."""
MAX_CACHED_STRINGS = 20_000
RATELIMIT_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-")
_ATTEMPT_COLUMNS = (
    "run_id, target_id, kind, number, started_ms, error_class, http_status, latency_us,"
    " ttft_us, failed_phase, connect_us, connection_reused, extra_id, output_tokens,"
    " tokens_per_s, max_gap_us, retry_after_s"
)
ATTEMPT_TEXTS = (
    " LEFT JOIN attempt_extra x ON x.id = a.extra_id"
    " LEFT JOIN string sm ON sm.id = x.served_model_id"
    " LEFT JOIN string fp ON fp.id = x.fingerprint_id"
    " LEFT JOIN string rl ON rl.id = x.ratelimit_id"
    " LEFT JOIN string d ON d.id = x.detail_id"
)
"""The joins that give an attempt's (`attempt a`) served model, fingerprint, rate-limit
ceilings and detail as `sm.value`, `fp.value`, `rl.value` and `d.value`."""

_MAX_INT = 2**31 - 1


def ms(moment: datetime) -> int:
    assert moment.tzinfo is not None, "times are timezone-aware UTC"
    return round(moment.timestamp() * 1000)


def stored_us(value_ms: float | None) -> int | None:
    """A duration as `attempt` stores it (`modelaudit_us` of migration 3): its whole
    microseconds, or beyond 2,147 s its whole milliseconds negated."""
    if value_ms is None:
        return None
    us = round(max(value_ms, 0.0) * 1000)
    return us if us <= _MAX_INT else -min(round(value_ms), _MAX_INT)


def stored_rate(value: float | None) -> float | None:
    """`tokens_per_s` as written: stored as `real` (migration 3), rounded back to the
    probe's three decimals."""
    return None if value is None else round(value, 3)


def duration_ms(stored: int | None) -> float | None:
    """A stored duration back in milliseconds (`modelaudit_ms`)."""
    if stored is None:
        return None
    return stored / 1000 if stored >= 0 else float(-stored)


def from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def is_ceiling(header: str) -> bool:
    name = header.lower()
    return any(name.startswith(p) and "limit" in name[len(p) :] for p in RATELIMIT_PREFIXES)


def ceilings_json(ceilings: tuple[tuple[str, str], ...]) -> str:
    return json.dumps({redact(k): redact(v) for k, v in ceilings}, sort_keys=True)


@dataclass
class _Batch:
    """What a batch of results needs before its transaction: ids of its models and texts."""

    targets: dict[tuple[str, str], int] = field(default_factory=dict)
    strings: dict[str, int] = field(default_factory=dict)
    extras: dict[Extra, int] = field(default_factory=dict)


class PostgresStore:
    """A pool of connections to the history database. Open with `PostgresStore.open(...)`;
    it is a context manager that closes the pool."""

    def __init__(self, address: str, connections: ConnectionPool[Any]) -> None:
        self.address = address
        self.pool = connections
        self.labels = Labels()
        self._strings: dict[object, str] = {}
        """Raw value -> its redacted text; valid while `redact.generation()` is."""
        self._string_ids: dict[str, int] = {}
        self._extra_ids: dict[Extra, int] = {}
        self._targets: dict[tuple[str, str], int] = {}
        self._runs: dict[int, int] = {}
        """Run id -> its region's label id (the runs this store began)."""
        self._snapshots: set[tuple[int, str]] = set()
        self._generation = -1
        self.swept: list[int] = []

    @classmethod
    def open(cls, address: str, *, create: bool = True) -> PostgresStore:
        conn = db.connect(address)
        try:
            with db.reported(address):
                if not create and schema_version(conn) == 0:
                    raise UsageError(
                        f"no history in {describe(address)}: run `modelaudit probe --db URL` "
                        "to start one"
                    )
                migrate(conn)
        finally:
            conn.close()
        store = cls(address, db.pool(address))
        try:
            with db.reported(address):
                with store.pool.connection() as conn:
                    store.labels.load(conn)
                store.swept = store.sweep_stale_runs()
        except BaseException:
            store.close()
            raise
        return store

    @property
    def location(self) -> str:
        return describe(self.address)

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def history(self) -> PostgresHistory:
        from modelaudit.store.postgres.reader import PostgresHistory

        return PostgresHistory(self)

    def label(self, word: str) -> int:
        self.labels.ensure(self.pool, [word])
        return self.labels.ids[word]

    # --- runs -------------------------------------------------------------------------------

    @db.translated
    def begin_run(
        self, started_at: datetime, registry_sha256: str | None, origin: Origin | None = None
    ) -> int:
        me = liveness.current()
        origin = origin or Origin(me.host, me.host)
        region_id = self.label(origin.region)
        run_id = db.write(
            self.pool,
            lambda conn: _insert_run(
                conn,
                (
                    ms(started_at),
                    None,
                    "running",
                    __version__,
                    registry_sha256,
                    me.pid,
                    me.host,
                    me.boot_id,
                    me.process_start,
                    None,
                    None,
                    region_id,
                    origin.agent,
                ),
            ),
        )
        self._runs[run_id] = region_id
        return run_id

    @db.translated
    def add_results(self, run_id: int, results: Sequence[ProbeResult]) -> None:
        results = list(results)
        if not results:
            return
        batch = self._prepare(results, [])
        days = closing.day_numbers(ms(a.started_at) for r in results for a in r.attempts)

        def action(conn: psycopg.Connection[Any]) -> set[tuple[int, str]]:
            region_id, status, closed = self._run_region(conn, run_id, days)
            inconclusive = status == RunStatus.INCONCLUSIVE.value
            return self._write_results(
                conn, run_id, region_id, inconclusive, results, batch, closed
            )

        self._snapshots |= db.write(self.pool, action)

    @db.translated
    def finish_run(self, run_id: int, report: RunReport) -> None:
        batch = self._prepare([], report.verdicts)
        db.write(self.pool, lambda conn: self._write_finish(conn, run_id, report, batch))
        self._snapshots = {s for s in self._snapshots if s[0] != run_id}
        closing.close_days(self.pool)

    @db.translated
    def abandon_run(self, run_id: int) -> None:
        db.write(self.pool, lambda conn: _close_interrupted(conn, [run_id]))

    @db.translated
    def sweep_stale_runs(self) -> list[int]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT id, pid, host, boot_id, process_start FROM run WHERE status = 'running'"
            ).fetchall()
        here = liveness.current()
        stale = [
            row[0]
            for row in rows
            if liveness.is_stale(liveness.ProcessIdentity(row[1], row[2], row[3], row[4]), here)
        ]
        if stale:
            db.write(self.pool, lambda conn: _close_interrupted(conn, stale))
        return stale

    # --- what a write needs ready ------------------------------------------------------------

    def _prepare(self, results: Sequence[ProbeResult], verdicts: Sequence[ModelVerdict]) -> _Batch:
        """Ids of the batch's models, labels and texts, each stored in a short transaction
        of its own before the batch's."""
        if self._generation != redact_generation() or len(self._strings) > MAX_CACHED_STRINGS:
            self._strings.clear()
            self._generation = redact_generation()
        words = {r.kind.value for r in results}
        texts: set[str] = set()
        for result in results:
            for a in result.attempts:
                words.add(a.error_class.value)
                if a.failed_phase:
                    words.add(a.failed_phase.value)
                texts.update(self._texts(a))
        for v in verdicts:
            words.add(v.verdict.value)
            if v.error_class:
                words.add(v.error_class.value)
            texts.add(self._redacted(v.reason))
        self.labels.ensure(self.pool, words)
        missing = {t for t in texts if t not in self._string_ids}
        self._string_ids.update(ensure_strings(self.pool, missing))
        keys = {(r.provider, r.model) for r in results} | {(v.provider, v.model) for v in verdicts}
        new = {k for k in keys if k not in self._targets}
        self._targets.update(ensure_targets(self.pool, new))
        batch = _Batch({k: self._targets[k] for k in keys}, self._string_ids)
        self._ensure_extras(results, batch)
        return batch

    def _ensure_extras(self, results: Sequence[ProbeResult], batch: _Batch) -> None:
        """The `attempt_extra` ids of the batch's attempts, those not cached yet found or
        inserted in one round trip of their own."""
        if len(self._extra_ids) > MAX_CACHED_STRINGS:
            self._extra_ids.clear()
        wanted = {self._extra(a, batch) for r in results for a in r.attempts} - {(None,) * 4}
        missing = [e for e in wanted if e not in self._extra_ids]
        if missing:
            self._extra_ids.update(ensure_extras(self.pool, missing))
        batch.extras = {e: self._extra_ids[e] for e in wanted}

    def _extra(self, a: Attempt, batch: _Batch) -> Extra:
        ceilings = tuple(pair for pair in a.ratelimit if is_ceiling(pair[0]))
        return (
            self._text_id(a.served_model, batch),
            self._text_id(a.system_fingerprint, batch),
            batch.strings[self._strings[ceilings]] if ceilings else None,
            self._text_id(a.detail, batch),
        )

    def _redacted(self, raw: str) -> str:
        found = self._strings.get(raw)
        if found is None:
            found = self._strings[raw] = redact(raw)
        return found

    def _texts(self, a: Attempt) -> Iterator[str]:
        for value in (a.served_model, a.system_fingerprint, a.detail):
            if value:
                yield self._redacted(value)
        ceilings = tuple(pair for pair in a.ratelimit if is_ceiling(pair[0]))
        if ceilings:
            found = self._strings.get(ceilings)
            if found is None:
                found = self._strings[ceilings] = ceilings_json(ceilings)
            yield found

    def _text_id(self, value: str | None, batch: _Batch) -> int | None:
        return None if not value else batch.strings[self._redacted(value)]

    def _run_region(
        self, conn: psycopg.Connection[Any], run_id: int, days: list[int]
    ) -> tuple[int, str, set[int]]:
        """The run's region and status, and which of `days` are closed, their locks taken
        (`closing.lock_days`) in the same round trip."""
        row = conn.execute(
            "SELECT region_id, status, modelaudit_lock_days(%s) FROM run WHERE id = %s",
            (days, run_id),
        ).fetchone()
        if row is None:
            raise UsageError(f"no run {run_id} in the history database")
        return int(row[0]), str(row[1]), set(row[2] or ())

    # --- the rows of a batch -----------------------------------------------------------------

    def _write_results(
        self,
        conn: psycopg.Connection[Any],
        run_id: int,
        region_id: int,
        inconclusive: bool,
        results: list[ProbeResult],
        batch: _Batch,
        closed: set[int] | None = None,
    ) -> set[tuple[int, str]]:
        """Attempts, the models' state in the region and change events, the run's
        counters, catalog snapshots and the daily sums, in that lock order. Returns the
        snapshots taken. Only rows of the run's region are updated (and the all-regions
        daily rows of a closed day: `closing`; `closed`, when the caller has locked the
        days already), so agents in different regions never wait for each other."""
        ids = self.labels.ids
        targets = sorted({batch.targets[(r.provider, r.model)] for r in results})
        last = {  # the region's rows of the models, locked (created when new)
            row[0]: row[1:]
            for row in conn.execute(
                "INSERT INTO target_state (target_id, region_id)"
                " SELECT t, %s FROM unnest(%s::integer[]) AS t ORDER BY t"
                " ON CONFLICT (target_id, region_id) DO UPDATE"
                " SET served_model_id = target_state.served_model_id"
                " RETURNING target_id, served_model_id, fingerprint_id, ratelimit_id",
                (region_id, targets),
            )
        }
        samples: list[sums.Sample] = []
        events: list[tuple[int, int, str, int | None, int]] = []
        touched: dict[int, list[int | None]] = {}
        with conn.cursor().copy(f"COPY attempt ({_ATTEMPT_COLUMNS}) FROM STDIN") as copy:
            for result in results:
                target_id = batch.targets[(result.provider, result.model)]
                for a in result.attempts:
                    row = self._attempt_row(run_id, target_id, result, a, batch)
                    copy.write_row(row)
                    samples.append(
                        sums.Sample(
                            target_id,
                            region_id,
                            result.kind.value,
                            a.error_class.value,
                            ids[a.error_class.value],
                            row[4],
                            duration_ms(row[7]),
                            duration_ms(row[8]),
                        )
                    )
                    _touch(touched, target_id, row[4], result, a)
        for result in results:  # after COPY: the connection runs one command at a time
            target_id = batch.targets[(result.provider, result.model)]
            events += _changes(conn, last, target_id, result, batch, self)
        conn.cursor().executemany(
            "INSERT INTO change_event (target_id, at_ms, kind, before_id, after_id)"
            " VALUES (%s, %s, %s, %s, %s)",
            events,
        )
        conn.cursor().executemany(
            "UPDATE target_state SET first_seen_ms = least(first_seen_ms, %s),"
            " last_seen_ms = greatest(last_seen_ms, %s), last_ok_ms = greatest(last_ok_ms, %s),"
            " served_model_id = %s, fingerprint_id = %s, ratelimit_id = %s"
            " WHERE target_id = %s AND region_id = %s",
            [(*touched[t], *last[t], t, region_id) for t in targets],
        )
        ended = max(ms(r.final.started_at) + round(r.final.latency_ms or 0) for r in results)
        conn.execute(
            "UPDATE run SET attempts = attempts + %s,"
            " last_attempt_ms = greatest(last_attempt_ms, %s) WHERE id = %s",
            (sum(len(r.attempts) for r in results), ended, run_id),
        )
        taken = self._snapshots_of(conn, run_id, results)
        _add_daily(conn, samples, inconclusive=inconclusive, closed=closed)
        return taken

    def _attempt_row(
        self, run_id: int, target_id: int, result: ProbeResult, a: Attempt, batch: _Batch
    ) -> tuple[Any, ...]:
        ids = self.labels.ids
        extra = self._extra(a, batch)
        return (
            run_id,
            target_id,
            ids[result.kind.value],
            a.number,
            ms(a.started_at),
            ids[a.error_class.value],
            a.http_status,
            stored_us(a.latency_ms),
            stored_us(a.ttft_ms),
            ids[a.failed_phase.value] if a.failed_phase else None,
            stored_us(a.connect_ms),
            a.connection_reused,
            batch.extras.get(extra),
            a.output_tokens,
            a.tokens_per_s,
            stored_us(a.max_gap_ms),
            a.retry_after_s,
        )

    def _snapshots_of(
        self, conn: psycopg.Connection[Any], run_id: int, results: list[ProbeResult]
    ) -> set[tuple[int, str]]:
        taken: set[tuple[int, str]] = set()
        for result in results:
            snapshot = (run_id, result.provider)
            if result.catalog_ids is None or snapshot in self._snapshots or snapshot in taken:
                continue
            store_snapshot(conn, run_id, result.provider, ms(result.started_at), result.catalog_ids)
            taken.add(snapshot)
        return taken

    def _write_finish(
        self, conn: psycopg.Connection[Any], run_id: int, report: RunReport, batch: _Batch
    ) -> None:
        ids = self.labels.ids
        row = conn.execute(
            "SELECT status, region_id, started_ms FROM run WHERE id = %s FOR UPDATE", (run_id,)
        ).fetchone()
        if row is None:
            raise UsageError(f"no run {run_id} in the history database")
        was, region_id, started = row
        conn.execute(
            "UPDATE run SET finished_ms = %s, status = %s, requests_sent = %s, notes = %s"
            " WHERE id = %s",
            (
                ms(report.finished_at),
                report.status.value,
                report.requests_sent,
                json.dumps([redact(n) for n in report.notes]) if report.notes else None,
                run_id,
            ),
        )
        inconclusive = report.status is RunStatus.INCONCLUSIVE
        if (was == RunStatus.INCONCLUSIVE.value) != inconclusive:
            self._reclassify(conn, run_id, region_id, inconclusive=inconclusive)
        verdicts = sorted(
            ((batch.targets[(v.provider, v.model)], v) for v in report.verdicts),
            key=lambda item: item[0],
        )
        conn.cursor().executemany(
            "INSERT INTO verdict (run_id, target_id, verdict, error_class, reason_id)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (run_id, target_id) DO UPDATE SET"
            " verdict = excluded.verdict, error_class = excluded.error_class,"
            " reason_id = excluded.reason_id",
            [
                (
                    run_id,
                    target_id,
                    ids[v.verdict.value],
                    ids[v.error_class.value] if v.error_class else None,
                    batch.strings[self._redacted(v.reason)],
                )
                for target_id, v in verdicts
            ],
        )
        record_incidents(
            conn, self.labels, run_id, started, region_id, [(t, v.verdict) for t, v in verdicts]
        )

    def _reclassify(
        self, conn: psycopg.Connection[Any], run_id: int, region_id: int, *, inconclusive: bool
    ) -> None:
        """The run's status became (or stopped being) inconclusive: move its attempts'
        daily sums."""
        rows = conn.execute(
            "SELECT a.target_id, a.kind, a.error_class, a.started_ms, modelaudit_ms(a.latency_us),"
            " modelaudit_ms(a.ttft_us) FROM attempt a JOIN run r ON a.run_id = r.id"
            " WHERE r.id = %s AND a.started_ms BETWEEN r.started_ms"
            " AND coalesce(r.last_attempt_ms, r.finished_ms)",
            (run_id,),
        ).fetchall()
        word = self.labels.words
        samples = [
            sums.Sample(t, region_id, word[k], word[c], c, s, lat, ttft)
            for t, k, c, s, lat, ttft in rows
        ]
        _add_daily(conn, samples, inconclusive=not inconclusive, negated=True)
        _add_daily(conn, samples, inconclusive=inconclusive)

    # --- small reads -------------------------------------------------------------------------

    def _target_id(self, conn: psycopg.Connection[Any], provider: str, model: str) -> int | None:
        row = conn.execute(
            "SELECT id FROM target WHERE provider = %s AND model = %s", (provider, model)
        ).fetchone()
        return None if row is None else int(row[0])

    @db.translated
    def last_ok(self, provider: str, model: str, before: datetime | None = None) -> datetime | None:
        from modelaudit.store.postgres.reader import last_ok_ms_before

        with self.pool.connection() as conn:
            row = conn.execute(
                f"SELECT id, {LAST_OK} FROM target t WHERE provider = %s AND model = %s",  # noqa: S608
                (provider, model),
            ).fetchone()
            if row is None or row[1] is None:
                return None
            if before is None or row[1] < ms(before):
                return from_ms(row[1])
            found = last_ok_ms_before(conn, self.labels, row[0], ms(before), frozenset())
        return None if found is None else from_ms(found)

    @db.translated
    def latest_catalog(
        self, provider: str, before: datetime | None = None
    ) -> CatalogSnapshot | None:
        from modelaudit.store.base import CatalogSnapshot

        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT s.run_id, s.taken_ms, c.ids FROM catalog_snapshot s"
                " JOIN catalog_set c ON c.id = s.set_id WHERE s.provider = %s AND s.taken_ms < %s"
                " ORDER BY s.taken_ms DESC LIMIT 1",
                (provider, ms(before) if before else 2**62),
            ).fetchone()
        if row is None:
            return None
        return CatalogSnapshot(
            provider, int(row[0]), from_ms(row[1]), frozenset(json.loads(row[2]))
        )

    @db.translated
    def recent_runs(self, limit: int, regions: frozenset[str] = frozenset()) -> list[RunSummary]:
        from modelaudit.store.postgres.runs import recent_runs

        with self.pool.connection() as conn:
            return recent_runs(conn, self.labels, limit, self.region_ids(regions))

    @db.translated
    def find_model(self, ref: str) -> ModelKey:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT provider, model FROM target WHERE provider || '/' || model = %s"
                " UNION SELECT provider, model FROM target WHERE model = %s",
                (ref, ref),
            ).fetchall()
        exact = [r for r in rows if f"{r[0]}/{r[1]}" == ref]
        rows = exact or rows
        if not rows:
            raise UsageError(f"--model {ref}: no such model in the history database")
        if len(rows) > 1:
            choices = ", ".join(sorted(f"{p}/{m}" for p, m in rows))
            raise UsageError(f"--model {ref} is ambiguous: say which one ({choices})")
        return str(rows[0][0]), str(rows[0][1])

    @db.translated
    def model_runs(
        self, model: ModelKey, limit: int, regions: frozenset[str] = frozenset()
    ) -> list[ModelRun]:
        from modelaudit.store.postgres.runs import model_runs

        with self.pool.connection() as conn:
            target_id = self._target_id(conn, *model)
            if target_id is None:
                return []
            return model_runs(conn, self.labels, target_id, limit, self.region_ids(regions))

    def region_ids(self, regions: frozenset[str]) -> list[int] | None:
        """The label ids of `regions` (None: every region); a region never seen is -1."""
        if not regions:
            return None
        return [self.labels.ids.get(r, -1) for r in sorted(regions)]

    # --- maintenance -------------------------------------------------------------------------

    # --- alerting ------------------------------------------------------------------------

    @db.translated
    def update_alerts(
        self, scope: str, decide: Callable[[AlertSnapshot], AlertUpdate]
    ) -> AlertUpdate:
        return alerts.update(self.pool, scope, decide)

    @db.translated
    def claim_deliveries(self, limit: int) -> list[Delivery]:
        return alerts.claim(self.pool, limit, datetime.now(UTC))

    @db.translated
    def settle_delivery(
        self, delivery_id: int, *, sent: bool, error: str | None, at: datetime
    ) -> None:
        alerts.settle(self.pool, delivery_id, sent=sent, error=error, at=at)

    @db.translated
    def drop_delivery(self, delivery_id: int, reason: str, at: datetime) -> None:
        alerts.drop(self.pool, delivery_id, reason, at)

    @db.translated
    def alert_overview(self) -> AlertOverview:
        return alerts.overview(self.pool)

    @db.translated
    def check(self) -> CheckReport:
        from modelaudit.store.postgres.maintenance import check

        return check(self)

    @db.translated
    def prune(self, older_than: timedelta, now: datetime) -> PruneResult:
        from modelaudit.store.postgres.maintenance import prune

        return prune(self, older_than, now)

    def export_attempts(self, since: datetime | None = None) -> Iterator[ExportedAttempt]:
        from modelaudit.store.postgres.maintenance import export_attempts

        with db.reported(self.address):
            yield from export_attempts(self, ms(since) if since else None)

    @db.translated
    def run_identities(self) -> set[RunIdentity]:
        from modelaudit.store.postgres.copying import run_identities

        return run_identities(self)

    def copy_out(self, skip: set[RunIdentity]) -> Iterator[StoredRun]:
        from modelaudit.store.postgres.copying import copy_out

        with db.reported(self.address):
            yield from copy_out(self, skip)

    @db.translated
    def copy_in(self, run: StoredRun) -> bool:
        from modelaudit.store.postgres.copying import copy_in

        return copy_in(self, run)


# --- helpers of the writes ----------------------------------------------------------------------


def _insert_run(conn: psycopg.Connection[Any], values: tuple[Any, ...]) -> int:
    row = conn.execute(
        "INSERT INTO run (started_ms, finished_ms, status, tool_version, registry_sha256, pid,"
        " host, boot_id, process_start, requests_sent, notes, region_id, agent)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        values,
    ).fetchone()
    assert row is not None
    return int(row[0])


def _add_daily(
    conn: psycopg.Connection[Any],
    samples: list[sums.Sample],
    *,
    inconclusive: bool,
    negated: bool = False,
    closed: set[int] | None = None,
) -> None:
    """Add the samples to their region's daily rows (taken out of them when `negated`),
    and to the all-regions rows of the days already closed (`closed`: locked already)."""
    if closed is None:
        closed = closing.lock_days(conn, closing.day_numbers(s.started_ms for s in samples))
    found = sums.grouped(samples, sums.DAY_MS, inconclusive=inconclusive, summed=closed)
    sums.add(conn, "daily", {k: s.negated() for k, s in found.items()} if negated else found)


def _touch(
    touched: dict[int, list[int | None]], target_id: int, at: int, result: ProbeResult, a: Attempt
) -> None:
    """first seen, last seen, last ok of each model in the batch."""
    ok = at if result.kind in AVAILABILITY_KINDS and counts_as(a.error_class) == "ok" else None
    first, last, last_ok = touched.get(target_id, [at, at, None])
    assert first is not None
    assert last is not None
    best_ok = ok if last_ok is None else (last_ok if ok is None else max(ok, last_ok))
    touched[target_id] = [min(first, at), max(last, at), best_ok]


def _changes(
    conn: psycopg.Connection[Any],
    last: dict[int, tuple[int | None, ...]],
    target_id: int,
    result: ProbeResult,
    batch: _Batch,
    store: PostgresStore,
) -> list[tuple[int, int, str, int | None, int]]:
    """Served-model, fingerprint and rate-limit changes against the model's last values
    (`last`, locked and updated in place), as `store/sqlite/changes.py` records them."""
    from modelaudit.probe.classify import same_model

    served, fingerprint, ratelimit = last[target_id]
    events: list[tuple[int, int, str, int | None, int]] = []
    for a in result.attempts:
        at = ms(a.started_at)
        served_id, fingerprint_id, ratelimit_id, _ = store._extra(a, batch)
        if served_id is not None and served_id != served:
            name = redact(a.served_model) if a.served_model else None
            if served is not None or not same_model(result.model, name):
                events.append((target_id, at, "served_model", served, served_id))
            served = served_id
        if fingerprint_id is not None and fingerprint_id != fingerprint:
            first_time = conn.execute(
                "INSERT INTO target_fingerprint VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
                " RETURNING 1",
                (target_id, fingerprint_id, at),
            ).fetchone()
            if first_time and fingerprint is not None:
                events.append((target_id, at, "fingerprint", fingerprint, fingerprint_id))
            fingerprint = fingerprint_id
        if ratelimit_id is not None and ratelimit_id != ratelimit:
            events.append((target_id, at, "ratelimit", ratelimit, ratelimit_id))
            ratelimit = ratelimit_id
    last[target_id] = (served, fingerprint, ratelimit)
    return events


def store_snapshot(
    conn: psycopg.Connection[Any], run_id: int, provider: str, taken_ms: int, ids: Iterable[str]
) -> None:
    listed = json.dumps(sorted({redact(i) for i in ids}))
    digest = hashlib.sha256(listed.encode()).hexdigest()
    conn.execute(
        "INSERT INTO catalog_set (sha256, ids) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (digest, listed),
    )
    conn.execute(
        "INSERT INTO catalog_snapshot (run_id, provider, taken_ms, set_id)"
        " SELECT %s, %s, %s, id FROM catalog_set WHERE sha256 = %s ON CONFLICT DO NOTHING",
        (run_id, provider, taken_ms, digest),
    )


def _close_interrupted(conn: psycopg.Connection[Any], run_ids: list[int]) -> None:
    conn.execute(
        "UPDATE run SET status = 'interrupted', finished_ms = coalesce(last_attempt_ms, started_ms)"
        " WHERE status = 'running' AND id = ANY(%s)",
        (run_ids,),
    )


# --- incidents, per model and region ------------------------------------------------------------


def record_incidents(
    conn: psycopg.Connection[Any],
    labels: Labels,
    run_id: int,
    started: int,
    region_id: int,
    verdicts: list[tuple[int, Verdict]],
) -> None:
    """Fold one run's verdicts (target ids in order) into the incidents of its region, as
    `store/sqlite/incidents.py` does per model."""
    if not verdicts:
        return
    targets = [t for t, _ in verdicts]
    latest = {
        row[0]: (row[1], row[2])
        for row in conn.execute(
            "SELECT target_id, verdict_ms, verdict_run FROM target_region"
            " WHERE region_id = %s AND target_id = ANY(%s) ORDER BY target_id FOR UPDATE",
            (region_id, targets),
        )
    }
    open_spans = {
        row[0]: row[1:]
        for row in conn.execute(
            "SELECT DISTINCT ON (target_id) target_id, verdict, start_ms, start_run, last_ms,"
            " end_ms, runs FROM incident WHERE region_id = %s AND target_id = ANY(%s)"
            " ORDER BY target_id, start_ms DESC, start_run DESC",
            (region_id, targets),
        )
    }
    newer: list[tuple[int, int, int]] = []
    for target_id, verdict in verdicts:
        point = Point(started, run_id, verdict)
        known = latest.get(target_id)
        if known is not None and (point.at_ms, point.run_id) <= known:
            _redo_from(conn, labels, target_id, region_id, point.at_ms)
            continue
        newer.append((target_id, started, run_id))
        found = open_spans.get(target_id)
        current = _span(labels, found) if found is not None and found[4] is None else None
        if verdict in NEUTRAL_VERDICTS or (current is None and verdict not in INCIDENT_VERDICTS):
            continue
        closed, still_open = follow(current, [point])
        if current is not None:
            conn.execute(
                "DELETE FROM incident WHERE target_id = %s AND region_id = %s AND start_ms = %s"
                " AND start_run = %s",
                (target_id, region_id, current.start_ms, current.start_run),
            )
        _insert_spans(conn, labels, target_id, region_id, [*closed, *filter(None, [still_open])])
    conn.cursor().executemany(
        "INSERT INTO target_region (target_id, region_id, verdict_ms, verdict_run)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (target_id, region_id) DO UPDATE SET"
        " verdict_ms = excluded.verdict_ms, verdict_run = excluded.verdict_run",
        [(t, region_id, at, run) for t, at, run in newer],
    )


def _redo_from(
    conn: psycopg.Connection[Any], labels: Labels, target_id: int, region_id: int, at_ms: int
) -> None:
    """A verdict of a run older than the region's latest: the incidents that could involve
    it are worked out again from the stored verdicts."""
    starts = [
        row[0]
        for row in conn.execute(
            "DELETE FROM incident WHERE target_id = %s AND region_id = %s"
            " AND (end_ms IS NULL OR end_ms >= %s) RETURNING start_ms",
            (target_id, region_id, at_ms),
        )
    ]
    since = min([at_ms, *starts])
    rows = conn.execute(
        "SELECT r.started_ms, r.id, v.verdict FROM run r JOIN verdict v ON v.run_id = r.id"
        " AND v.target_id = %s WHERE r.region_id = %s AND r.started_ms >= %s"
        " ORDER BY r.started_ms, r.id",
        (target_id, region_id, since),
    ).fetchall()
    points = [Point(at, run, Verdict(labels.word(v, conn))) for at, run, v in rows]
    closed, still_open = follow(None, points)
    _insert_spans(conn, labels, target_id, region_id, [*closed, *filter(None, [still_open])])


def _span(labels: Labels, row: tuple[Any, ...]) -> Span:
    verdict, start, start_run, last, end, runs = row
    return Span(Verdict(labels.words[verdict]), start, start_run, last, end, runs)


def _insert_spans(
    conn: psycopg.Connection[Any], labels: Labels, target_id: int, region_id: int, spans: list[Span]
) -> None:
    if not spans:
        return
    labels_ids = labels.ids
    conn.cursor().executemany(
        "INSERT INTO incident (target_id, region_id, start_ms, start_run, verdict, last_ms,"
        " end_ms, runs) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        [
            (
                target_id,
                region_id,
                s.start_ms,
                s.start_run,
                labels_ids[s.verdict.value],
                s.last_ms,
                s.end_ms,
                s.runs,
            )
            for s in spans
        ],
    )
