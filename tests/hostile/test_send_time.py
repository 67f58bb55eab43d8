"""A registry that passes `config check` can be sent: what the HTTP client would refuse is
refused when the registry is loaded (exit 2 with its place). What still fails at send time
fails that provider only: the others' verdicts stand, the run says why, exits 4 (a bug),
and `watch` does not exit 0 after a run it logged as failed."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from modelaudit.cli.app import main
from modelaudit.exitcodes import ExitCode
from modelaudit.probe import outcome, runner
from modelaudit.probe.plan import Plan, Selection, make_plan
from modelaudit.registry import load
from modelaudit.schedule.job import Job, JobOptions
from modelaudit.schedule.watch import Schedule, Voice, Watcher
from modelaudit.vocabulary import Verdict
from tests.fakes import FakeOpenAI
from tests.probe.runs import provider, write_fast_registry

KEY = "sk-proj-CANARYsendtime0123456789abcdef"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"base_url": "http://a..b/v1"}, "the host `a..b` is not a valid host name"),
        ({"base_url": "http://127.0.0.1:70000/v1"}, "the port must be a number from 1 to 65535"),
        ({"headers": {"X-Tenant": "Zürich"}}, "the value of header `X-Tenant` cannot be sent"),
        ({"headers": {"Transfer-Encoding": "chunked"}}, "is set by the HTTP client itself"),
        ({"headers": {"Authorization ": "Bearer x"}}, "carries a credential"),
    ],
)
def test_what_the_client_would_refuse_fails_config_check(
    isolated_env: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, object],
    message: str,
) -> None:
    bad = {**provider("bad", "openai", "http://127.0.0.1:9/v1", ["m"]), **change}
    write_fast_registry(isolated_env, [bad], control_url="http://127.0.0.1:9/")

    code = main(["config", "check"])

    err = capsys.readouterr().err
    assert code == 2, err
    assert "providers.yaml:" in err
    assert message in err


def _plan_with_one_broken_provider(directory: Path, base_url: str) -> Plan:
    """Two providers, the second of which the schema would have refused: its header is
    given after validation (`model_copy`), as a value built by other code could be."""
    providers = [
        provider("good", "openai", base_url, ["ok-model"], key_env="GOOD_KEY"),
        provider("bad", "openai", base_url, ["other-model"], key_env="GOOD_KEY"),
    ]
    path = write_fast_registry(directory, providers, control_url=base_url, kinds=["completion"])
    plan = make_plan(load(path), Selection(), None)
    broken = plan.providers[1].provider.model_copy(update={"headers": {"x-tenant": "Zürich"}})
    return replace(plan, providers=(plan.providers[0], replace(plan.providers[1], provider=broken)))


def test_a_provider_that_fails_at_send_time_fails_alone(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOD_KEY", KEY)
    with FakeOpenAI(key=KEY, models=["ok-model", "other-model"]) as fake:
        plan = _plan_with_one_broken_provider(isolated_env, fake.base_url)

        report = runner.run_sync(plan)

    verdicts = {v.provider: v for v in report.verdicts}
    assert verdicts["good"].verdict is Verdict.UP
    assert verdicts["bad"].verdict is Verdict.INCONCLUSIVE
    assert verdicts["bad"].reason.startswith("could not be probed: internal error: ")
    assert report.internal_errors
    assert report.internal_errors[0].startswith("bad: ")
    assert any(note.startswith("bad could not be probed") for note in report.notes)
    assert outcome.exit_code(report) is ExitCode.INTERNAL


def test_watch_exits_4_after_a_run_it_logged_as_failed(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOD_KEY", KEY)
    said: list[str] = []
    voice = Voice(said.append, said.append, said.append)
    with FakeOpenAI(key=KEY, models=["ok-model", "other-model"]) as fake:
        plan = _plan_with_one_broken_provider(isolated_env, fake.base_url)
        schedule = Schedule(timedelta(milliseconds=10), timedelta(0), count=2)
        with Job(JobOptions(store=None), said.append) as job:
            watcher = Watcher(lambda: (plan, "sha"), schedule, job, (), voice)
            code = asyncio.run(watcher.watch())

    assert code == ExitCode.INTERNAL
    assert [line for line in said if line.startswith("run 1 failed for bad: internal error")]
    assert watcher.runs == 2  # a failed run never ends the watch


def test_watch_exits_0_when_every_run_completed(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOD_KEY", KEY)
    with FakeOpenAI(key=KEY, models=["ok-model"]) as fake:
        path = write_fast_registry(
            isolated_env,
            [provider("good", "openai", fake.base_url, ["ok-model"], key_env="GOOD_KEY")],
            control_url=fake.base_url,
            kinds=["completion"],
        )
        plan = make_plan(load(path), Selection(), None)
        schedule = Schedule(timedelta(milliseconds=10), timedelta(0), count=1)
        with Job(JobOptions(store=None), print) as job:
            voice = Voice(print, print, print)
            code = asyncio.run(Watcher(lambda: (plan, "sha"), schedule, job, (), voice).watch())

    assert code == ExitCode.OK
