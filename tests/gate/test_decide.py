"""The gate's decision, table-driven: one pin, what the probe saw, the lock and the date in;
the pin's status, severity and the exit code out. CI relies on exactly these codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from modelaudit.exitcodes import ExitCode
from modelaudit.gate.decide import Policy, Severity, Status, evaluate
from modelaudit.gate.lockfile import Lock, LockEntry
from modelaudit.gate.observe import Observation
from modelaudit.gate.pins import Pin
from modelaudit.vocabulary import ErrorClass, Verdict

TODAY = date(2026, 11, 29)
PIN = Pin("acme", "m1", line=12, retires=None, entry_sha256="e" * 64, fallbacks=("other/m2",))
UP = Observation(Verdict.UP, "listed", listed=True)


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def locked(served: str | None = "m1-2026-01-01", sha: str = "e" * 64) -> Lock:
    entry = LockEntry(
        "acme", "m1", served, None, None, datetime(2026, 11, 1, tzinfo=UTC), entry_sha256=sha
    )
    return Lock((entry,))


@dataclass(frozen=True)
class Case:
    id: str
    seen: Observation = UP
    status: Status = Status.OK
    severity: Severity = Severity.PASS
    exit: ExitCode = ExitCode.OK
    pin: Pin = PIN
    lock: Lock | None = None
    policy: Policy = field(default_factory=Policy)


LIVE = Policy(live=True)
CASES = [
    Case("listed and answering"),
    Case(
        "gone from the catalog",
        Observation(Verdict.GONE, "catalog: not in the catalog (3 models listed)", listed=False),
        Status.GONE,
        Severity.FAIL,
        ExitCode.POLICY,
    ),
    Case(
        "404 model_not_found on the completion",
        Observation(Verdict.GONE, "completion: 404", ErrorClass.MODEL_NOT_FOUND, live=True),
        Status.GONE,
        Severity.FAIL,
        ExitCode.POLICY,
        policy=LIVE,
    ),
    Case(
        "model_deprecated answer",
        Observation(Verdict.GONE, "completion: deprecated", ErrorClass.MODEL_DEPRECATED),
        Status.GONE,
        Severity.FAIL,
        ExitCode.POLICY,
    ),
    Case(
        "retiring in 10 days (registry)",
        status=Status.RETIRING,
        severity=Severity.FAIL,
        exit=ExitCode.POLICY,
        pin=Pin("acme", "m1", 12, days(10), "e" * 64),
    ),
    Case(
        "retiring in 10 days, policy warns",
        status=Status.RETIRING,
        severity=Severity.WARN,
        pin=Pin("acme", "m1", 12, days(10), "e" * 64),
        policy=Policy(retiring=Severity.WARN),
    ),
    Case(
        "retiring exactly at the edge of --warn-days",
        status=Status.RETIRING,
        severity=Severity.FAIL,
        exit=ExitCode.POLICY,
        pin=Pin("acme", "m1", 12, days(30), "e" * 64),
    ),
    Case("retiring one day past --warn-days", pin=Pin("acme", "m1", 12, days(31), "e" * 64)),
    Case(
        "the provider's list gives a date in 5 days",
        Observation(Verdict.UP, "listed", listed=True, api_retires=days(5)),
        Status.RETIRING,
        Severity.FAIL,
        ExitCode.POLICY,
    ),
    Case(
        "retired yesterday",
        status=Status.RETIRED,
        severity=Severity.FAIL,
        exit=ExitCode.POLICY,
        pin=Pin("acme", "m1", 12, days(-1), "e" * 64),
    ),
    Case(
        "retires today",
        status=Status.RETIRED,
        severity=Severity.FAIL,
        exit=ExitCode.POLICY,
        pin=Pin("acme", "m1", 12, TODAY, "e" * 64),
    ),
    Case(
        "down warns by default",
        Observation(Verdict.DOWN, "catalog: 500 server_error", ErrorClass.SERVER_ERROR),
        Status.DOWN,
        Severity.WARN,
    ),
    Case(
        "down fails with --fail-on down",
        Observation(Verdict.DOWN, "catalog: 500", ErrorClass.SERVER_ERROR),
        Status.DOWN,
        Severity.FAIL,
        ExitCode.POLICY,
        policy=Policy(fail_on=frozenset({Verdict.DOWN})),
    ),
    Case(
        "overloaded warns",
        Observation(Verdict.DEGRADED, "completion: 529 overloaded", ErrorClass.OVERLOADED),
        Status.DEGRADED,
        Severity.WARN,
    ),
    Case(
        "rate-limited throughout could not tell",
        Observation(Verdict.DEGRADED, "catalog: 429 after 3 attempts", ErrorClass.RATE_LIMITED),
        Status.INCONCLUSIVE,
        Severity.ERROR,
        ExitCode.INCONCLUSIVE,
    ),
    Case(
        "rate-limited fails with --fail-on degraded",
        Observation(Verdict.DEGRADED, "catalog: 429", ErrorClass.RATE_LIMITED),
        Status.DEGRADED,
        Severity.FAIL,
        ExitCode.POLICY,
        policy=Policy(fail_on=frozenset({Verdict.DEGRADED})),
    ),
    Case(
        "blocked could not check",
        Observation(Verdict.BLOCKED, "catalog: 401 auth_failed", ErrorClass.AUTH_FAILED),
        Status.BLOCKED,
        Severity.ERROR,
        ExitCode.INCONCLUSIVE,
    ),
    Case(
        "blocked fails with --fail-on blocked",
        Observation(Verdict.BLOCKED, "catalog: 401", ErrorClass.AUTH_FAILED),
        Status.BLOCKED,
        Severity.FAIL,
        ExitCode.POLICY,
        policy=Policy(fail_on=frozenset({Verdict.BLOCKED})),
    ),
    Case(
        "offline could not tell",
        Observation(Verdict.INCONCLUSIVE, "catalog: connect_failed", ErrorClass.CONNECT_FAILED),
        Status.INCONCLUSIVE,
        Severity.ERROR,
        ExitCode.INCONCLUSIVE,
    ),
    Case(
        "offline, but the registry date has passed: definitive",
        Observation(Verdict.INCONCLUSIVE, "catalog: connect_failed", ErrorClass.CONNECT_FAILED),
        Status.RETIRED,
        Severity.FAIL,
        ExitCode.POLICY,
        pin=Pin("acme", "m1", 12, days(-1), "e" * 64),
    ),
    Case(
        "key missing is skipped",
        Observation(Verdict.SKIPPED, "ACME_API_KEY is not set"),
        Status.SKIPPED,
        Severity.SKIPPED,
        ExitCode.INCONCLUSIVE,
    ),
    Case(
        "key missing with --allow-skipped",
        Observation(Verdict.SKIPPED, "ACME_API_KEY is not set"),
        Status.SKIPPED,
        Severity.SKIPPED,
        ExitCode.OK,
        policy=Policy(allow_skipped=True),
    ),
    Case(
        "served model drifted from the lock",
        Observation(Verdict.UP, "ok", served_model="m1-2026-11-01", live=True, answered=True),
        Status.DRIFTED,
        Severity.FAIL,
        ExitCode.POLICY,
        lock=locked("m1-2026-01-01"),
        policy=LIVE,
    ),
    Case(
        "served model as locked",
        Observation(Verdict.UP, "ok", served_model="m1-2026-01-01", live=True, answered=True),
        lock=locked("m1-2026-01-01"),
        policy=LIVE,
    ),
    Case(
        "drift is not judged without --live",
        Observation(Verdict.UP, "ok", served_model="m1-2026-11-01"),
        lock=locked("m1-2026-01-01"),
    ),
    Case(
        "the lock never recorded a served model",
        Observation(Verdict.UP, "ok", served_model="anything", live=True, answered=True),
        lock=locked(None),
        policy=LIVE,
    ),
    Case(
        "a lock without this pin",
        status=Status.UNLOCKED,
        severity=Severity.WARN,
        lock=Lock(()),
    ),
    Case(
        "a lock written for another registry entry",
        status=Status.LOCK_STALE,
        severity=Severity.WARN,
        lock=locked(sha="f" * 64),
    ),
    Case(
        "listed as deprecated without a date",
        Observation(Verdict.UP, "listed", listed=True, lifecycle="deprecated"),
        Status.DEPRECATED,
        Severity.WARN,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_one_pin(case: Case) -> None:
    result = evaluate([case.pin], {PIN.key: case.seen}, case.lock, TODAY, case.policy)

    (outcome,) = result.outcomes
    assert (outcome.status, outcome.severity, result.exit_code) == (
        case.status,
        case.severity,
        case.exit,
    )


def test_a_definitive_failure_outranks_could_not_tell() -> None:
    other = Pin("acme", "m2", 20, None, "e" * 64)
    seen = {
        PIN.key: Observation(Verdict.GONE, "not in the catalog", listed=False),
        other.key: Observation(Verdict.INCONCLUSIVE, "offline"),
    }

    assert evaluate([PIN, other], seen, None, TODAY, Policy()).exit_code is ExitCode.POLICY


def test_could_not_tell_outranks_all_clear() -> None:
    other = Pin("acme", "m2", 20, None, "e" * 64)
    seen = {PIN.key: UP, other.key: Observation(Verdict.INCONCLUSIVE, "offline")}

    assert evaluate([PIN, other], seen, None, TODAY, Policy()).exit_code is ExitCode.INCONCLUSIVE


def test_an_interrupted_run_exits_130_whatever_was_found() -> None:
    seen = {PIN.key: Observation(Verdict.GONE, "gone")}

    result = evaluate([PIN], seen, None, TODAY, Policy(), interrupted=True)

    assert result.exit_code is ExitCode.INTERRUPTED


def test_a_pin_the_run_never_reported_is_skipped_not_passed() -> None:
    result = evaluate([PIN], {}, None, TODAY, Policy())

    assert (result.outcomes[0].status, result.exit_code) == (
        Status.SKIPPED,
        ExitCode.INCONCLUSIVE,
    )


def test_every_finding_is_kept_and_the_worst_leads() -> None:
    pin = Pin("acme", "m1", 12, days(3), "e" * 64, fallbacks=("other/m2",))
    seen = Observation(
        Verdict.DOWN, "catalog: 500", served_model="m1-new", live=True, answered=True
    )

    (outcome,) = evaluate([pin], {pin.key: seen}, locked("m1-old"), TODAY, LIVE).outcomes

    assert [(f.status, f.severity) for f in outcome.findings] == [
        (Status.DOWN, Severity.WARN),
        (Status.RETIRING, Severity.FAIL),
        (Status.DRIFTED, Severity.FAIL),
    ]
    assert outcome.status is Status.RETIRING
    assert "retires on 2026-12-02, in 3 days" in outcome.message
    assert "fallbacks: other/m2" in outcome.message


def test_the_earliest_date_wins_and_the_message_names_its_source() -> None:
    pin = Pin("acme", "m1", 12, days(20), "e" * 64)
    seen = Observation(Verdict.UP, "listed", listed=True, api_retires=days(8))

    (outcome,) = evaluate([pin], {pin.key: seen}, None, TODAY, Policy()).outcomes

    assert (outcome.retires, outcome.retires_source, outcome.days_left) == (days(8), "catalog", 8)
    assert "per the provider's model list" in outcome.message


def test_retired_says_how_long_ago() -> None:
    pin = Pin("acme", "m1", 12, days(-3), "e" * 64)

    (outcome,) = evaluate([pin], {pin.key: UP}, None, TODAY, Policy()).outcomes

    assert outcome.message.startswith("retired on 2026-11-26 (3 days ago, per providers.yaml)")


def test_notes_say_what_was_not_checked() -> None:
    orphan = LockEntry("acme", "old", None, None, None, datetime(2026, 1, 1, tzinfo=UTC), "x")

    without = evaluate([PIN], {PIN.key: UP}, None, TODAY, Policy()).notes
    catalog_only = evaluate([PIN], {PIN.key: UP}, locked(), TODAY, Policy()).notes
    orphaned = evaluate([PIN], {PIN.key: UP}, Lock((orphan,)), TODAY, LIVE).notes

    assert without == (
        "no lockfile: served-model drift is not checked (`modelaudit lock` writes one)",
    )
    assert catalog_only == ("catalog only: served-model drift is checked with `--live`",)
    assert orphaned == (
        "the lockfile has entries for models no longer pinned: acme/old (run `modelaudit lock`)",
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"warn_days": -1},
        {"retiring": Severity.ERROR},
        {"fail_on": frozenset({Verdict.UP})},
    ],
)
def test_a_policy_that_cannot_be_meant_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"warn_days|retiring|fail_on"):
        Policy(**bad)  # type: ignore[arg-type]
