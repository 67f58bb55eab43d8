"""Build `check` reports without a network: real pins from a test registry, observations
as the probe engine would report them, the real decision."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from modelaudit.gate.decide import Policy, evaluate
from modelaudit.gate.lockfile import Lock
from modelaudit.gate.observe import Observation
from modelaudit.gate.pins import Pin, pins_of
from modelaudit.gate.run import GateReport
from modelaudit.probe.result import RunReport
from modelaudit.registry import load
from modelaudit.vocabulary import RunStatus
from tests.gate.registries import write

TODAY = date(2026, 11, 29)
STARTED = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
FINISHED = datetime(2026, 11, 29, 12, 0, 2, 500000, tzinfo=UTC)


def registry_pins(directory: Path, text: str | None = None) -> tuple[Pin, ...]:
    return pins_of(load(write(directory) if text is None else write(directory, text)))


def report_of(
    pins: tuple[Pin, ...],
    seen: dict[tuple[str, str], Observation],
    *,
    policy: Policy | None = None,
    lock: Lock | None = None,
    config_label: str = "providers.yaml",
) -> GateReport:
    result = evaluate(pins, seen, lock, TODAY, policy or Policy())
    run = RunReport(STARTED, FINISHED, RunStatus.COMPLETE, (), ())
    return GateReport(
        result=result,
        config_label=config_label,
        lock_label="modelaudit.lock",
        lock_present=lock is not None,
        run=run,
    )
