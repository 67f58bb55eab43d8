"""`modelaudit check` and `modelaudit lock` end to end: the CLI, the probe engine and a
loopback fake speaking the OpenAI wire format with real error bodies. The exit code is the
contract CI relies on: 0 clear, 1 act now, 2 usage or config, 3 could not tell."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from modelaudit.gate import lockfile
from tests.fakes.base import Behaviour, Model
from tests.fakes.http import silent_port
from tests.fakes.openai import FakeOpenAI
from tests.gate.loopback import KEY, PIN_LINE, PINNED, SERVED_AS, write_gate_registry
from tests.helpers import CliRun, run_cli

TODAY = date(2026, 11, 29)


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_KEY", KEY)


def check(capsys: pytest.CaptureFixture[str], *args: str) -> CliRun:
    return run_cli(["check", "--today", TODAY.isoformat(), *args], capsys)


def lock(capsys: pytest.CaptureFixture[str]) -> CliRun:
    return run_cli(["lock"], capsys)


def iso(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


# --- the exit-code matrix --------------------------------------------------------------------


@pytest.mark.usefixtures("keyed")
def test_present(
    fake: FakeOpenAI, control_port: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_gate_registry(isolated_env, fake.base_url, control_port)

    result = check(capsys)

    assert result.code == 0, result.out
    assert f"  ok       acme/{PINNED}  providers.yaml:{PIN_LINE}  " in result.out
    assert not fake.generation_requests(), "catalog only by default: no tokens"


@pytest.mark.usefixtures("keyed")
def test_gone_from_the_catalog(
    fake: FakeOpenAI, control_port: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_gate_registry(isolated_env, fake.base_url, control_port)
    fake.remove_model(PINNED)

    result = check(capsys)

    assert result.code == 1
    assert f"FAIL     acme/{PINNED}  providers.yaml:{PIN_LINE}  gone: catalog: not in the" in (
        result.out
    )
    assert "fallbacks: acme/acme-small" in result.out


@pytest.mark.usefixtures("keyed")
@pytest.mark.parametrize("error", ["model_not_found", "model_deprecated"])
def test_a_definitive_answer_on_the_completion_is_gone(
    error: str,
    fake: FakeOpenAI,
    control_port: int,
    isolated_env: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_gate_registry(isolated_env, fake.base_url, control_port)
    fake.behave(PINNED, Behaviour.error(error))

    cheap = check(capsys)
    live = check(capsys, "--live")

    assert cheap.code == 0, "the catalog still lists it: nothing to say without --live"
    assert live.code == 1
    assert "gone: completion: " in live.out
    assert len(fake.generation_requests(PINNED)) == 1, "a definitive answer is not retried"


@pytest.mark.usefixtures("keyed")
def test_retiring_in_10_days_by_the_providers_own_list(
    fake: FakeOpenAI, control_port: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_gate_registry(isolated_env, fake.base_url, control_port)
    fake.add_model(Model(PINNED, served_as=SERVED_AS, shutdown_date=iso(10)))

    failing = check(capsys)
    warned = check(capsys, "--retiring", "warn")
    outside = check(capsys, "--warn-days", "9")

    assert failing.code == 1
    assert (
        f"retiring: retires on {iso(10)}, in 10 days (within --warn-days 30, per the "
        "provider's model list); fallbacks: acme/acme-small"
    ) in failing.out
    assert warned.code == 0
    assert "  warn     acme/" in warned.out
    assert outside.code == 0


@pytest.mark.usefixtures("keyed")
def test_retired_yesterday_by_the_registry(
    fake: FakeOpenAI, control_port: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_gate_registry(isolated_env, fake.base_url, control_port, retires=iso(-1))

    result = check(capsys)

    assert result.code == 1
    assert f"retired: retired on {iso(-1)} (1 day ago, per providers.yaml)" in result.out


@pytest.mark.usefixtures("keyed")
def test_down_warns_unless_asked_to_fail(
    fake: FakeOpenAI, control_port: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_gate_registry(isolated_env, fake.base_url, control_port)
    fake.behave_catalog(Behaviour.error("server_error"))

    default = check(capsys)
    strict = check(capsys, "--fail-on", "down,degraded")

    assert default.code == 0
    assert "  warn     acme/" in default.out
    assert "down: catalog: " in default.out
    assert strict.code == 1


@pytest.mark.usefixtures("keyed")
def test_unreachable_network_is_could_not_tell_never_gone(
    control_port: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with silent_port() as provider:
        write_gate_registry(isolated_env, provider.url + "/v1", control_port, connect_s=0.3)

        result = check(capsys)

    assert result.code == 3
    assert "gone:" not in result.out
    assert "FAIL" not in result.out
    assert "unknown  acme/" in result.out
    assert "could not tell" in result.out
    assert "this machine could not reach the network" in result.out


@pytest.mark.usefixtures("keyed")
def test_rate_limited_throughout_is_could_not_tell(
    fake: FakeOpenAI, control_port: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_gate_registry(isolated_env, fake.base_url, control_port)
    fake.behave_catalog(Behaviour.error("rate_limited", retry_after="0"))

    result = check(capsys)
    strict = check(capsys, "--fail-on", "degraded")

    assert result.code == 3
    assert "could not tell: rate-limited throughout" in result.out
    assert strict.code == 1


def test_key_missing_is_could_not_tell_unless_allowed(
    fake: FakeOpenAI, control_port: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_gate_registry(isolated_env, fake.base_url, control_port)

    result = check(capsys)
    allowed = check(capsys, "--allow-skipped")

    assert result.code == 3
    assert "skipped: ACME_API_KEY is not set" in result.out
    assert allowed.code == 0
    assert not fake.requests, "nothing is sent without the key"


@pytest.mark.usefixtures("keyed")
def test_served_model_drift_from_the_lock(
    fake: FakeOpenAI, control_port: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_gate_registry(isolated_env, fake.base_url, control_port)
    assert lock(capsys).code == 0
    fake.add_model(Model(PINNED, served_as="acme-large-2026-11-20"))

    cheap = check(capsys)
    live = check(capsys, "--live")

    assert cheap.code == 0, "drift needs a completion"
    assert live.code == 1
    assert (
        f"drifted: served by acme-large-2026-11-20, but locked as served by {SERVED_AS}"
    ) in live.out


# --- the lock --------------------------------------------------------------------------------


@pytest.mark.usefixtures("keyed")
def test_lock_records_what_served_each_pin(
    fake: FakeOpenAI, control_port: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_gate_registry(isolated_env, fake.base_url, control_port, retires="2027-03-31")
    fake.add_model(Model(PINNED, served_as=SERVED_AS, shutdown_date="2027-02-28"))

    result = lock(capsys)

    assert result.code == 0
    assert f"served by {SERVED_AS}" in result.err
    assert "wrote modelaudit.lock: 1 pinned model" in result.err
    document = json.loads((isolated_env / "modelaudit.lock").read_text())
    (pin,) = document["pins"]
    assert {k: pin[k] for k in ("provider", "model", "served_model", "retires")} == {
        "provider": "acme",
        "model": PINNED,
        "served_model": SERVED_AS,
        "retires": "2027-02-28",
    }
    assert pin["retires_source"] == "catalog"
    assert len(fake.generation_requests(PINNED)) == 1
    assert KEY not in (isolated_env / "modelaudit.lock").read_text()


@pytest.mark.usefixtures("keyed")
def test_lock_writes_nothing_when_a_pin_is_gone(
    fake: FakeOpenAI, control_port: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_gate_registry(isolated_env, fake.base_url, control_port)
    fake.remove_model(PINNED)

    result = lock(capsys)

    assert result.code == 1
    assert "modelaudit.lock not written" in result.err
    assert not (isolated_env / "modelaudit.lock").exists()


def test_lock_writes_nothing_it_could_not_verify(
    fake: FakeOpenAI, control_port: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_gate_registry(isolated_env, fake.base_url, control_port)
    previous = isolated_env / "modelaudit.lock"
    previous.write_text(lockfile.dumps(lockfile.Lock(())))

    result = lock(capsys)

    assert result.code == 3
    assert previous.read_text() == lockfile.dumps(lockfile.Lock(()))


@pytest.mark.usefixtures("keyed")
def test_a_stale_lock_warns(
    fake: FakeOpenAI, control_port: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = write_gate_registry(isolated_env, fake.base_url, control_port)
    assert lock(capsys).code == 0
    registry.write_text(registry.read_text().replace("fallbacks: [acme/acme-small]", "tags: [x]"))

    result = check(capsys)

    assert result.code == 0
    assert "lock_stale: its providers.yaml entry changed since it was locked" in result.out


# --- formats, files and secrets through the CLI -----------------------------------------------


@pytest.mark.usefixtures("keyed")
def test_every_format_through_the_cli_carries_no_key_even_when_echoed(
    fake: FakeOpenAI,
    control_port: int,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_gate_registry(isolated_env, fake.base_url, control_port)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(isolated_env / "summary.md"))
    # The provider echoes the key back in its error, as some do.
    fake.behave_catalog(Behaviour.error("server_error", message=f"bad upstream for key {KEY}"))
    assert lock(capsys).code in (0, 3)

    outputs = []
    for kind in ("text", "json", "junit", "github", "sarif"):
        result = check(capsys, "--format", kind, "--live")
        assert result.code == 0, (kind, result.out)
        outputs += [result.out, result.err]
        to_file = check(capsys, "--format", kind, "-o", f"report.{kind}")
        outputs.append((isolated_env / f"report.{kind}").read_text())
        outputs += [to_file.out, to_file.err]

    everything = "\n".join([*outputs, (isolated_env / "summary.md").read_text()])
    assert "bad upstream for key" in everything
    assert KEY not in everything
    lock_file = isolated_env / "modelaudit.lock"
    assert not lock_file.exists() or KEY not in lock_file.read_text()


@pytest.mark.usefixtures("keyed")
@pytest.mark.parametrize(
    ("summary", "reason"),
    [("missing-dir/summary.md", "its directory does not exist"), (".", "is a directory")],
)
def test_an_unwritable_step_summary_warns_and_keeps_the_verdict(
    summary: str,
    reason: str,
    fake: FakeOpenAI,
    control_port: int,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_gate_registry(isolated_env, fake.base_url, control_port)
    fake.remove_model(PINNED)
    path = isolated_env / summary
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(path))

    result = check(capsys, "--format", "github")

    assert result.code == 1, result.err
    assert f"::error file=providers.yaml,line={PIN_LINE}," in result.out
    assert "exit 1: a pinned model is gone" in result.out
    (warning,) = [line for line in result.err.splitlines() if line.startswith("warning:")]
    assert str(path) in warning
    assert reason in warning
    assert "Traceback" not in result.err


@pytest.mark.usefixtures("keyed")
def test_a_report_file_leaves_stdout_empty_and_summarizes_on_stderr(
    fake: FakeOpenAI, control_port: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_gate_registry(isolated_env, fake.base_url, control_port)
    fake.remove_model(PINNED)

    result = check(capsys, "--format", "sarif", "--output", "out.sarif")

    assert (result.code, result.out) == (1, "")
    assert "modelaudit check: 1 failing; exit 1: " in result.err
    log = json.loads((isolated_env / "out.sarif").read_text())
    (found,) = log["runs"][0]["results"]
    assert found["ruleId"] == "pin-gone"
    assert found["locations"][0]["physicalLocation"]["region"]["startLine"] == PIN_LINE


def test_the_history_database_is_never_created(
    fake: FakeOpenAI,
    control_port: int,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ACME_API_KEY", KEY)
    write_gate_registry(isolated_env, fake.base_url, control_port)
    home = isolated_env.parent / "home"

    check(capsys)
    check(capsys, "--live")

    assert [p for p in home.rglob("*") if p.is_file()] == []
    assert sorted(p.name for p in isolated_env.iterdir()) == ["providers.yaml"]


# --- usage and config errors are 2, never 1 ----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-on", "up"], "`up` cannot fail the gate (one of: down, degraded, blocked"),
        (["--fail-on", "nonsense"], "`nonsense` is not a verdict"),
        (["--warn-days", "-1"], "--warn-days"),
        (["--retiring", "maybe"], "--retiring"),
        (["--today", "29/11/2026"], "`29/11/2026` is not a date (write YYYY-MM-DD)"),
        (["--format", "xml"], "--format"),
    ],
)
def test_bad_options_are_usage_errors(
    args: list[str],
    message: str,
    fake: FakeOpenAI,
    control_port: int,
    isolated_env: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_gate_registry(isolated_env, fake.base_url, control_port)

    result = run_cli(["check", *args], capsys)

    assert result.code == 2
    assert message in result.err
    assert not fake.requests


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("no-registry", "no providers.yaml here"),
        ("no-pins", "no model is pinned: mark the models you depend on with `pinned: true`"),
        ("bad-registry", "the registry has 2 problems"),
        ("bad-lock", "modelaudit.lock: not a modelaudit lockfile (not JSON"),
    ],
)
@pytest.mark.parametrize("command", ["check", "lock"])
def test_config_problems_are_usage_errors_for_both_commands(
    command: str,
    setup: str,
    message: str,
    fake: FakeOpenAI,
    control_port: int,
    isolated_env: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if setup != "no-registry":
        registry = write_gate_registry(isolated_env, fake.base_url, control_port)
        if setup == "no-pins":
            registry.write_text(registry.read_text().replace("pinned: true", "pinned: false"))
        if setup == "bad-registry":
            registry.write_text(
                registry.read_text().replace("weights: closed", "weight: closed", 1)
            )
        if setup == "bad-lock":
            (isolated_env / "modelaudit.lock").write_text("{not json")

    result = run_cli([command], capsys)

    assert result.code == 2
    assert message in result.err
    assert not fake.requests


@pytest.mark.usefixtures("keyed")
def test_only_the_pins_are_probed_even_when_another_id_spells_a_pin(
    fake: FakeOpenAI, control_port: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = write_gate_registry(isolated_env, fake.base_url, control_port)
    # A router that lists vendors' models as `vendor/model`, as OpenRouter does.
    router = f"""
  - name: router
    api: openai
    base_url: {fake.base_url}
    hosting: third-party
    jurisdiction: US
    models:
      - id: acme/{PINNED}
        weights: closed
"""
    registry.write_text(registry.read_text() + router)

    result = check(capsys, "--live")

    assert result.code == 0, result.out
    assert [fake.model_of(r) for r in fake.generation_requests()] == [PINNED]
