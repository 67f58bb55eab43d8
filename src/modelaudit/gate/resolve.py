"""What `modelaudit lock` records for each pin. Pure: pins + observations → one
resolution per pin, and whether the lock may be written.

A pin resolves when its completion answered; the lock is written only when every pin
resolved, so a lockfile never records a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelaudit.exitcodes import ExitCode
from modelaudit.gate.decide import Severity, retirement
from modelaudit.gate.lockfile import Lock, LockEntry
from modelaudit.gate.observe import NOT_PROBED
from modelaudit.vocabulary import Verdict

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from modelaudit.gate.observe import Observation
    from modelaudit.gate.pins import Pin


@dataclass(frozen=True)
class Resolution:
    pin: Pin
    observation: Observation
    severity: Severity
    """PASS (resolved), FAIL (gone), ERROR (could not tell) or SKIPPED (nothing sent)."""
    message: str
    entry: LockEntry | None = None


def resolve(
    pins: Sequence[Pin],
    observations: Mapping[tuple[str, str], Observation],
    verified_at: datetime,
) -> tuple[Resolution, ...]:
    return tuple(_resolve(pin, observations.get(pin.key, NOT_PROBED), verified_at) for pin in pins)


def _resolve(pin: Pin, observation: Observation, verified_at: datetime) -> Resolution:
    if observation.verdict is Verdict.GONE:
        return Resolution(pin, observation, Severity.FAIL, f"gone: {observation.reason}")
    if observation.answered:
        retires, source = retirement(pin, observation)
        entry = LockEntry(
            provider=pin.provider,
            model=pin.model,
            served_model=observation.served_model,
            retires=retires,
            retires_source=source,
            verified_at=verified_at,
            entry_sha256=pin.entry_sha256,
        )
        served = observation.served_model or "(the API did not say)"
        return Resolution(pin, observation, Severity.PASS, f"served by {served}", entry)
    if observation.verdict is Verdict.SKIPPED:
        return Resolution(pin, observation, Severity.SKIPPED, observation.reason)
    return Resolution(
        pin,
        observation,
        Severity.ERROR,
        f"could not resolve ({observation.verdict.value}): {observation.reason}",
    )


def lock_of(resolutions: Sequence[Resolution]) -> Lock | None:
    """The lock to write, or None when some pin did not resolve."""
    entries = tuple(r.entry for r in resolutions if r.entry is not None)
    return Lock(entries) if len(entries) == len(resolutions) else None


def lock_exit_code(resolutions: Sequence[Resolution], *, interrupted: bool = False) -> ExitCode:
    if interrupted:
        return ExitCode.INTERRUPTED
    severities = {r.severity for r in resolutions}
    if Severity.FAIL in severities:
        return ExitCode.POLICY
    if severities & {Severity.ERROR, Severity.SKIPPED}:
        return ExitCode.INCONCLUSIVE
    return ExitCode.OK
