"""THE decision of the CI gate. Pure: pins + observations + lock + today + policy → an
outcome per pin and the exit code. No clock, no network, no files.

Per pin, every finding that applies is kept (a model can be both retiring and drifted);
the pin's severity is its worst finding's:

- `fail` (exit 1): gone (catalog no longer lists it, or a definitive model_not_found /
  model_deprecated answer), retired (its date is today or past), retiring within
  `warn_days` (unless the policy says warn), the served model drifted from the lock, or a
  probe verdict named in `fail_on` (down, degraded, blocked).
- `error` (exit 3, "could not tell"): no definitive answer: this machine offline, rate-limited
  throughout, our access blocked, the probe request refused.
- `skipped` (exit 3 unless `allow_skipped`): nothing could be sent (key missing...).
- `warn` (exit 0): down or degraded (a vendor outage is not a pin problem unless asked),
  marked deprecated without a date, not in the lock, or locked for another registry entry.

A definitive failure outranks "could not tell": one gone pin exits 1 even when the others
could not be checked. Retirement dates come from the registry and the provider's own list,
so a pin past its date fails even offline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from modelaudit.exitcodes import ExitCode
from modelaudit.gate.observe import NOT_PROBED, Observation
from modelaudit.vocabulary import ErrorClass, Verdict

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from modelaudit.gate.lockfile import Lock, LockEntry, RetiresSource
    from modelaudit.gate.pins import Pin


class Status(StrEnum):
    """What was found about a pin: a public contract (JSON, SARIF rule ids)."""

    OK = "ok"
    GONE = "gone"
    RETIRED = "retired"
    RETIRING = "retiring"
    DEPRECATED = "deprecated"
    DRIFTED = "drifted"
    DOWN = "down"
    DEGRADED = "degraded"
    BLOCKED = "blocked"
    INCONCLUSIVE = "inconclusive"
    SKIPPED = "skipped"
    UNLOCKED = "unlocked"
    LOCK_STALE = "lock_stale"


class Severity(StrEnum):
    PASS = "pass"  # noqa: S105 - a severity, not a password
    WARN = "warn"
    SKIPPED = "skipped"
    ERROR = "error"
    """Could not tell."""
    FAIL = "fail"


_RANK = {
    Severity.PASS: 0,
    Severity.WARN: 1,
    Severity.SKIPPED: 2,
    Severity.ERROR: 3,
    Severity.FAIL: 4,
}

FAIL_ON_CHOICES = (Verdict.DOWN, Verdict.DEGRADED, Verdict.BLOCKED)
"""The probe verdicts `--fail-on` may turn into failures (gone always fails)."""

DEPRECATED_WORDS = frozenset(
    {"deprecated", "deprecating", "legacy", "archived", "inactive", "retiring", "retired"}
)


@dataclass(frozen=True)
class Policy:
    warn_days: int = 30
    retiring: Severity = Severity.FAIL
    """What a retirement within `warn_days` is: FAIL or WARN."""
    fail_on: frozenset[Verdict] = frozenset()
    allow_skipped: bool = False
    live: bool = False
    """Completions were sent, so drift can be checked."""

    def __post_init__(self) -> None:
        if self.warn_days < 0:
            raise ValueError("warn_days must be 0 or more")
        if self.retiring not in (Severity.FAIL, Severity.WARN):
            raise ValueError("retiring is fail or warn")
        if not self.fail_on <= frozenset(FAIL_ON_CHOICES):
            raise ValueError("fail_on takes down, degraded and blocked")


@dataclass(frozen=True)
class Finding:
    status: Status
    severity: Severity
    message: str


@dataclass(frozen=True)
class PinOutcome:
    pin: Pin
    observation: Observation
    findings: tuple[Finding, ...]
    retires: date | None = None
    retires_source: RetiresSource | None = None
    days_left: int | None = None
    locked: LockEntry | None = None

    @property
    def worst(self) -> Finding | None:
        worst: Finding | None = None
        for finding in self.findings:
            if worst is None or _RANK[finding.severity] > _RANK[worst.severity]:
                worst = finding
        return worst

    @property
    def severity(self) -> Severity:
        worst = self.worst
        return worst.severity if worst else Severity.PASS

    @property
    def status(self) -> Status:
        worst = self.worst
        return worst.status if worst else Status.OK

    @property
    def message(self) -> str:
        worst = self.worst
        return worst.message if worst else self.observation.reason


@dataclass(frozen=True)
class GateResult:
    outcomes: tuple[PinOutcome, ...]
    exit_code: ExitCode
    today: date
    policy: Policy
    notes: tuple[str, ...] = field(default=())

    def count(self, severity: Severity) -> int:
        return sum(o.severity is severity for o in self.outcomes)


def evaluate(
    pins: Sequence[Pin],
    observations: Mapping[tuple[str, str], Observation],
    lock: Lock | None,
    today: date,
    policy: Policy,
    *,
    interrupted: bool = False,
) -> GateResult:
    outcomes = tuple(
        judge(
            pin,
            observations.get(pin.key, NOT_PROBED),
            lock,
            today,
            policy,
        )
        for pin in pins
    )
    return GateResult(
        outcomes=outcomes,
        exit_code=exit_code(outcomes, policy, interrupted=interrupted),
        today=today,
        policy=policy,
        notes=_notes(pins, lock, policy),
    )


def judge(
    pin: Pin, observation: Observation, lock: Lock | None, today: date, policy: Policy
) -> PinOutcome:
    retires, source = retirement(pin, observation)
    days_left = (retires - today).days if retires else None
    locked = lock.entry(pin.provider, pin.model) if lock else None
    findings = [
        *_verdict_findings(observation, policy),
        *_retirement_findings(pin, observation, retires, source, days_left, policy),
        *_drift_findings(observation, locked, policy),
        *_lock_findings(pin, lock, locked),
    ]
    return PinOutcome(
        pin=pin,
        observation=observation,
        findings=tuple(findings),
        retires=retires,
        retires_source=source,
        days_left=days_left,
        locked=locked,
    )


def exit_code(
    outcomes: Sequence[PinOutcome], policy: Policy, *, interrupted: bool = False
) -> ExitCode:
    if interrupted:
        return ExitCode.INTERRUPTED
    severities = {o.severity for o in outcomes}
    if Severity.FAIL in severities:
        return ExitCode.POLICY
    if Severity.ERROR in severities:
        return ExitCode.INCONCLUSIVE
    if Severity.SKIPPED in severities and not policy.allow_skipped:
        return ExitCode.INCONCLUSIVE
    return ExitCode.OK


def _verdict_findings(observation: Observation, policy: Policy) -> list[Finding]:
    verdict, reason = observation.verdict, observation.reason
    if verdict is Verdict.UP:
        return []
    if verdict is Verdict.GONE:
        return [Finding(Status.GONE, Severity.FAIL, reason)]
    if verdict is Verdict.SKIPPED:
        return [Finding(Status.SKIPPED, Severity.SKIPPED, reason)]
    if verdict is Verdict.INCONCLUSIVE:
        return [Finding(Status.INCONCLUSIVE, Severity.ERROR, f"could not tell: {reason}")]
    asked = verdict in policy.fail_on
    if verdict is Verdict.DOWN:
        return [Finding(Status.DOWN, Severity.FAIL if asked else Severity.WARN, reason)]
    if verdict is Verdict.BLOCKED:
        severity = Severity.FAIL if asked else Severity.ERROR
        return [Finding(Status.BLOCKED, severity, f"could not check: {reason}")]
    # degraded
    if asked:
        return [Finding(Status.DEGRADED, Severity.FAIL, reason)]
    if observation.error_class is ErrorClass.RATE_LIMITED:
        return [
            Finding(
                Status.INCONCLUSIVE,
                Severity.ERROR,
                f"could not tell: rate-limited throughout ({reason})",
            )
        ]
    return [Finding(Status.DEGRADED, Severity.WARN, reason)]


def retirement(pin: Pin, observation: Observation) -> tuple[date | None, RetiresSource | None]:
    """The earliest date known; the provider's own word wins a tie."""
    known: list[tuple[date, RetiresSource]] = []
    if observation.api_retires is not None:
        known.append((observation.api_retires, "catalog"))
    if pin.retires is not None:
        known.append((pin.retires, "registry"))
    if not known:
        return None, None
    return min(known, key=lambda item: item[0])


def _retirement_findings(
    pin: Pin,
    observation: Observation,
    retires: date | None,
    source: RetiresSource | None,
    days_left: int | None,
    policy: Policy,
) -> list[Finding]:
    said = "the provider's model list" if source == "catalog" else "providers.yaml"
    fallbacks = (
        f"; fallbacks: {', '.join(pin.fallbacks)}" if pin.fallbacks else "; no fallback declared"
    )
    if retires is not None and days_left is not None:
        if days_left <= 0:
            when = "today" if days_left == 0 else f"{-days_left} day{_s(-days_left)} ago"
            return [
                Finding(
                    Status.RETIRED,
                    Severity.FAIL,
                    f"retired on {retires.isoformat()} ({when}, per {said}){fallbacks}",
                )
            ]
        if days_left <= policy.warn_days:
            return [
                Finding(
                    Status.RETIRING,
                    policy.retiring,
                    f"retires on {retires.isoformat()}, in {days_left} day{_s(days_left)} "
                    f"(within --warn-days {policy.warn_days}, per {said}){fallbacks}",
                )
            ]
        return []
    word = (observation.lifecycle or "").lower()
    if word in DEPRECATED_WORDS:
        return [
            Finding(
                Status.DEPRECATED,
                Severity.WARN,
                f"the provider's model list marks it {word} (no shutdown date given){fallbacks}",
            )
        ]
    return []


def _drift_findings(
    observation: Observation, locked: LockEntry | None, policy: Policy
) -> list[Finding]:
    if not policy.live or locked is None or locked.served_model is None:
        return []
    served = observation.served_model
    if served is None or served == locked.served_model:
        return []
    return [
        Finding(
            Status.DRIFTED,
            Severity.FAIL,
            f"served by {served}, but locked as served by {locked.served_model} "
            "(the provider moved the pinned id; review, then run `modelaudit lock`)",
        )
    ]


def _lock_findings(pin: Pin, lock: Lock | None, locked: LockEntry | None) -> list[Finding]:
    if lock is None:
        return []
    if locked is None:
        return [
            Finding(Status.UNLOCKED, Severity.WARN, "not in the lockfile: run `modelaudit lock`")
        ]
    if locked.entry_sha256 != pin.entry_sha256:
        return [
            Finding(
                Status.LOCK_STALE,
                Severity.WARN,
                "its providers.yaml entry changed since it was locked: run `modelaudit lock`",
            )
        ]
    return []


def _notes(pins: Sequence[Pin], lock: Lock | None, policy: Policy) -> tuple[str, ...]:
    notes = []
    if lock is None:
        notes.append(
            "no lockfile: served-model drift is not checked (`modelaudit lock` writes one)"
        )
    else:
        pinned = {pin.key for pin in pins}
        orphans = sorted(f"{e.provider}/{e.model}" for e in lock.entries if e.key not in pinned)
        if orphans:
            notes.append(
                f"the lockfile has entries for models no longer pinned: {', '.join(orphans)} "
                "(run `modelaudit lock`)"
            )
        if not policy.live:
            notes.append("catalog only: served-model drift is checked with `--live`")
    return tuple(notes)


def _s(n: int) -> str:
    return "" if n == 1 else "s"
