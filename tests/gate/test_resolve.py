"""What `modelaudit lock` records: a pin resolves only when its completion answered, and the
lock is written only when every pin resolved."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from modelaudit.exitcodes import ExitCode
from modelaudit.gate.decide import Severity
from modelaudit.gate.observe import Observation
from modelaudit.gate.pins import Pin
from modelaudit.gate.resolve import lock_exit_code, lock_of, resolve
from modelaudit.vocabulary import Verdict

AT = datetime(2026, 11, 29, 6, tzinfo=UTC)
PIN = Pin("acme", "m1", 10, date(2027, 3, 1), "e" * 64)
ANSWERED = Observation(
    Verdict.UP, "ok", served_model="m1-2026", live=True, answered=True, api_retires=date(2027, 2, 1)
)


@pytest.mark.parametrize(
    ("seen", "severity", "exit_code"),
    [
        (ANSWERED, Severity.PASS, ExitCode.OK),
        (
            Observation(Verdict.DOWN, "catalog: 500", live=True, answered=True),
            Severity.PASS,
            ExitCode.OK,
        ),
        (Observation(Verdict.GONE, "completion: 404"), Severity.FAIL, ExitCode.POLICY),
        (Observation(Verdict.SKIPPED, "ACME_API_KEY is not set"), Severity.SKIPPED, 3),
        (Observation(Verdict.DEGRADED, "completion: 429", live=True), Severity.ERROR, 3),
        (Observation(Verdict.INCONCLUSIVE, "offline", live=True), Severity.ERROR, 3),
    ],
)
def test_one_pin(seen: Observation, severity: Severity, exit_code: int) -> None:
    resolutions = resolve([PIN], {PIN.key: seen}, AT)

    assert resolutions[0].severity is severity
    assert lock_exit_code(resolutions) == exit_code
    assert (lock_of(resolutions) is not None) is (severity is Severity.PASS)


def test_the_entry_records_the_served_model_and_the_earliest_date() -> None:
    (resolution,) = resolve([PIN], {PIN.key: ANSWERED}, AT)

    entry = resolution.entry
    assert entry is not None
    assert (entry.served_model, entry.retires, entry.retires_source) == (
        "m1-2026",
        date(2027, 2, 1),
        "catalog",
    )
    assert (entry.verified_at, entry.entry_sha256) == (AT, PIN.entry_sha256)
    assert resolution.message == "served by m1-2026"


def test_one_unresolved_pin_keeps_the_whole_lock_unwritten() -> None:
    other = Pin("acme", "m2", 20, None, "f" * 64)
    seen = {PIN.key: ANSWERED, other.key: Observation(Verdict.INCONCLUSIVE, "offline")}

    resolutions = resolve([PIN, other], seen, AT)

    assert lock_of(resolutions) is None
    assert lock_exit_code(resolutions) is ExitCode.INCONCLUSIVE
    assert lock_exit_code(resolutions, interrupted=True) is ExitCode.INTERRUPTED
