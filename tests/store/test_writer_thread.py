"""A store that waits (a lock another connection holds) never holds the probe's event loop:
the replies in flight are read when they arrive, so the latencies measured stay the truth."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from modelaudit.probe import runner
from modelaudit.probe.plan import Plan, Selection, make_plan
from modelaudit.probe.result import ProbeResult
from modelaudit.registry import load
from modelaudit.store.backends import locate
from modelaudit.store.recorder import BATCH_WINDOW_S, StoreRecorder
from modelaudit.vocabulary import ProbeKind, Verdict
from tests.fakes import Behaviour, FakeOpenAI

from .backends_fixture import location  # noqa: F401 - the parametrised fixture
from .cli_support import KEY, KEY_ENV, write_store_registry

REPLY_S = 0.5
"""How long the slow model's server takes: the truth its measured latency must show."""
HELD_AT_MOST_S = 5.0


@contextmanager
def write_lock(where: str) -> Iterator[None]:
    """Another connection holds the lock an attempt's insert needs, until the block ends."""
    if where.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(where) as conn:
            conn.execute("LOCK TABLE attempt IN EXCLUSIVE MODE")
            yield
            conn.rollback()
        return
    conn = sqlite3.connect(where, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


class Seen(runner.Observer):
    """Takes the lock (in another thread) once the run is stored as begun, before any
    request goes out, and lets it go when the slow model's reply has been read."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.at: dict[str, float] = {}
        self.begun = threading.Event()
        self.locked = threading.Event()
        self.slow = threading.Event()
        self.released_on_time: bool | None = None
        self.holder = threading.Thread(target=self._hold)

    def started(self, plan: Plan, started_at: datetime) -> None:
        self.holder.start()
        assert self.locked.wait(HELD_AT_MOST_S)

    def result(self, result: ProbeResult) -> None:
        self.at[result.model] = time.monotonic()
        if result.model == "slow":
            self.slow.set()

    def _hold(self) -> None:
        with write_lock(self.where):
            self.locked.set()
            self.released_on_time = self.slow.wait(HELD_AT_MOST_S)


def test_a_write_waiting_for_a_lock_leaves_the_latencies_in_flight_true(
    location: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    store = locate(location).open()
    seen = Seen(location)
    said: list[str] = []
    recorder = StoreRecorder(store, None, said.append)
    with FakeOpenAI(key=KEY, models=["fast", "slow"]) as fake:
        fake.behave("slow", [Behaviour.ok().delayed(REPLY_S)])
        plan = make_plan(
            load(
                write_store_registry(
                    tmp_path, fake.base_url, ["fast", "slow"], kinds=["completion"]
                )
            ),
            Selection(),
            None,
        )
        try:
            report = runner.run_sync(plan, runner.Fanout(recorder, seen))
        finally:
            seen.holder.join()
            store.close()

    # The fast reply's batch was handed to the store (its window over) while the lock held
    # it, before the slow reply came: a write that blocked the loop would have delayed the
    # slow reply's reading until the lock went (HELD_AT_MOST_S).
    assert seen.at["slow"] - seen.at["fast"] > 2 * BATCH_WINDOW_S
    (slow,) = [r for r in report.results if r.model == "slow" and r.kind == ProbeKind.COMPLETION]
    latency_s = (slow.final.latency_ms or 0) / 1000
    assert REPLY_S <= latency_s < REPLY_S + 0.25, latency_s
    assert seen.released_on_time  # the loop read the slow reply while the lock was held
    assert said == []
    with locate(location).open() as reread:
        (run,) = reread.recent_runs(5)
    assert (run.status, run.attempts) == ("complete", 2)  # both written, once the lock went


def test_new_probes_wait_while_the_store_lags_and_start_when_it_catches_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Backpressure: how long results wait for the writer stays bounded (`LAG_LIMIT_S`;
    0 here: any result waiting holds the next probe back)."""
    from modelaudit.store import recorder as recording

    from .synthetic import at, completion, report

    monkeypatch.setattr(recording, "LAG_LIMIT_S", 0.0)
    path = tmp_path / "h.sqlite3"
    store = locate(str(path)).open()
    recorder = StoreRecorder(store, None, [].append)
    recorder.run_id = store.begin_run(at(), None)

    async def lagging() -> None:
        with write_lock(str(path)):
            recorder.result(completion("a", at()))
            recorder.result(completion("b", at()))
            recorder.flush()  # two results wait for the writer, which waits for the lock
            waiting = asyncio.ensure_future(recorder.ready())
            await asyncio.sleep(0)  # one turn of the loop: it cannot have room yet
            assert not waiting.done()
        await asyncio.wait_for(waiting, HELD_AT_MOST_S)  # the lock went: room again
        recorder.finished(report(at(), {"a": Verdict.UP, "b": Verdict.UP}))

    asyncio.run(lagging())
    (run,) = store.recent_runs(1)
    store.close()
    assert run.attempts == 2
