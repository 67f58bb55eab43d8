"""`modelaudit watch`: a run per slot, never overlapping, through failures, until SIGTERM."""

from __future__ import annotations

import asyncio
import re
import signal
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from modelaudit.schedule.watch import next_slot
from tests.fakes import Behaviour, FakeOpenAI, closed_port, wait_until
from tests.helpers import run_cli
from tests.store.cli_support import (
    KEY,
    KEY_ENV,
    count,
    lock_is_free,
    rows,
    running,
    write_store_registry,
)

DOWN_PROVIDER = """\
  - name: broken
    api: openai
    base_url: http://127.0.0.1:{port}/v1
    hosting: self-hosted
    models:
      - {{id: nothing, weights: open}}
"""


@pytest.mark.parametrize(
    ("previous", "now", "expected"),
    [
        (0.0, 1.0, 10.0),  # the run took 1 s: next slot as planned
        (0.0, 10.0, 20.0),  # finished exactly on the slot: the next one, never the same
        (0.0, 35.0, 40.0),  # outlasted three slots: skip them, no burst of catch-up runs
    ],
)
def test_the_next_slot_skips_missed_slots(previous: float, now: float, expected: float) -> None:
    assert next_slot(previous, now, 10.0) == expected


def test_watch_runs_each_slot_and_survives_a_provider_that_is_down(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    db = isolated_env / "h.sqlite3"
    with FakeOpenAI(key=KEY, models=["good"]) as fake, closed_port() as refused:
        extra = DOWN_PROVIDER.format(port=refused.port)
        write_store_registry(isolated_env, fake.base_url, ["good"], extra_providers=extra)
        args = ["watch", "--every", "1s", "--jitter", "0s", "--count", "2", "--db", str(db)]
        code, _, err = run_cli(args, capsys)

    assert code == 0, err
    assert "run 1: run complete" in err
    assert "run 2: run complete" in err
    assert rows(db, "SELECT status FROM run ORDER BY id") == [("complete",), ("complete",)]
    verdicts = rows(
        db,
        "SELECT t.provider, v.verdict, count(*) FROM verdict v JOIN target t"
        " ON t.id = v.target_id GROUP BY 1, 2 ORDER BY 1",
    )
    assert verdicts == [("acme", "up", 2), ("broken", "down", 2)]


def test_sigterm_stops_watch_cleanly_between_runs_and_mid_run(isolated_env: Path) -> None:
    db = isolated_env / "h.sqlite3"
    log = isolated_env / "watch.log"
    with FakeOpenAI(key=KEY, models=["quick", "slow"]) as fake:
        fake.behave("slow", [Behaviour.ok(), Behaviour.slow_headers(120)])
        write_store_registry(isolated_env, fake.base_url, ["quick", "slow"], total_s=300)
        args = ["watch", "--every", "2s", "--jitter", "0s", "--db", str(db)]
        with running(args, isolated_env, log) as watcher:
            # The first run completes; the second hangs on `slow`: stop it there.
            wait_until(lambda: count(db, "SELECT count(*) FROM run") == 2, timeout_s=90)
            wait_until(
                lambda: count(db, "SELECT attempts FROM run WHERE id = 2") >= 3, timeout_s=60
            )
            watcher.send_signal(signal.SIGTERM)
            code = watcher.wait(timeout=30)

    assert code == 0, log.read_text()
    assert "Traceback" not in log.read_text()
    assert rows(db, "SELECT id, status FROM run ORDER BY id") == [
        (1, "complete"),
        (2, "interrupted"),
    ]
    assert lock_is_free(db)  # the lock went with the watcher


def test_watch_serves_metrics_for_prometheus_on_loopback(isolated_env: Path) -> None:
    db = isolated_env / "h.sqlite3"
    log = isolated_env / "watch.log"
    with FakeOpenAI(key=KEY, models=["good"]) as fake:
        write_store_registry(isolated_env, fake.base_url, ["good"], kinds=("completion", "stream"))
        args = ["watch", "--every", "1h", "--metrics-port", "0", "--db", str(db)]
        args += ["--region", "lab"]
        with running(args, isolated_env, log) as watcher:
            wait_until(lambda: count(db, "SELECT count(*) FROM verdict") == 1, timeout_s=90)
            found = re.search(r"metrics on (http://127\.0\.0\.1:\d+/metrics)", log.read_text())
            assert found is not None, log.read_text()
            url = found.group(1)
            wait_until(lambda: "modelaudit_last_run" in httpx.get(url).text, 30)
            text = httpx.get(url).text
            watcher.send_signal(signal.SIGTERM)
            assert watcher.wait(timeout=30) == 0

    labels = 'model="good",provider="acme",region="lab"'
    assert f'modelaudit_probe_success{{error_class="ok",kind="completion",{labels}}} 1.0' in text
    assert f'modelaudit_model_verdict{{{labels},verdict="up"}} 1.0' in text
    assert f'modelaudit_model_verdict{{{labels},verdict="down"}} 0.0' in text
    assert f"modelaudit_ttft_seconds_count{{{labels}}} 1.0" in text
    assert f'modelaudit_probe_latency_seconds_count{{kind="stream",{labels}}} 1.0' in text


def test_a_registry_broken_between_runs_is_reported_and_the_last_good_one_kept(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelaudit import registry
    from modelaudit.errors import ConfigError
    from modelaudit.probe.plan import Plan, Selection, make_plan
    from modelaudit.schedule.job import Job, JobOptions
    from modelaudit.schedule.watch import Schedule, Voice, Watcher

    monkeypatch.setenv(KEY_ENV, KEY)
    said: list[str] = []
    with FakeOpenAI(key=KEY, models=["good"]) as fake:
        path = write_store_registry(isolated_env, fake.base_url, ["good"])
        loads = 0

        def plan_source() -> tuple[Plan, str]:
            nonlocal loads
            loads += 1
            if loads > 1:
                raise ConfigError(["providers.yaml:3:1: defaults.kinds: not a list"])
            loaded = registry.load(path)
            return make_plan(loaded, Selection(), None), loaded.sha256

        voice = Voice(said.append, said.append, said.append)
        schedule = Schedule(timedelta(milliseconds=10), timedelta(0), count=2)
        with Job(JobOptions(store=None), said.append) as job:
            watcher = Watcher(plan_source, schedule, job, (), voice)
            assert asyncio.run(watcher.watch()) == 0

    assert watcher.runs == 2
    assert any("keeping the last good one: providers.yaml:3:1" in line for line in said)
    assert [line.split(":")[0] for line in said if "run complete" in line] == ["run 1", "run 2"]
