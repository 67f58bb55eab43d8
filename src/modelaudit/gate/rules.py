"""One rule per finding status: the stable ids and titles the formats share (SARIF rule
ids, GitHub annotation titles, JUnit failure types). Ids are a public contract."""

from __future__ import annotations

from dataclasses import dataclass

from modelaudit.gate.decide import Status


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    """A short sentence: the annotation title, the SARIF short description."""
    help: str
    """What to do about it."""


RULES: dict[Status, Rule] = {
    Status.GONE: Rule(
        "pin-gone",
        "Pinned model is gone",
        "The provider no longer lists or serves the pinned model. Move to a fallback and "
        "update providers.yaml.",
    ),
    Status.RETIRED: Rule(
        "pin-retired",
        "Pinned model is past its retirement date",
        "The announced shutdown date has passed. Move to a fallback and update providers.yaml.",
    ),
    Status.RETIRING: Rule(
        "pin-retiring",
        "Pinned model retires soon",
        "The pinned model retires within the warning window. Plan the move to a fallback.",
    ),
    Status.DEPRECATED: Rule(
        "pin-deprecated",
        "Pinned model is marked deprecated",
        "The provider's model list marks the pinned model deprecated without a date.",
    ),
    Status.DRIFTED: Rule(
        "pin-drifted",
        "Pinned model is served by a different model than locked",
        "The API says another model served the pinned id than when it was locked. Review the "
        "change, then run `modelaudit lock`.",
    ),
    Status.DOWN: Rule(
        "pin-down",
        "Pinned model is down",
        "The provider answered, but the probe still failed after its retries.",
    ),
    Status.DEGRADED: Rule(
        "pin-degraded",
        "Pinned model is degraded",
        "Rate-limited, overloaded, loading, or slower than its latency budget.",
    ),
    Status.BLOCKED: Rule(
        "pin-blocked",
        "Could not check pinned model: access blocked",
        "Authentication, access or quota failed: our access broke, not necessarily the model.",
    ),
    Status.INCONCLUSIVE: Rule(
        "pin-inconclusive",
        "Could not tell whether pinned model is available",
        "No definitive answer: this machine offline, rate-limited throughout, or the probe "
        "request refused. Nothing is called gone.",
    ),
    Status.SKIPPED: Rule(
        "pin-skipped",
        "Pinned model was not checked",
        "Nothing could be sent (a key is missing, or the provider has no model list and "
        "`--live` was not given).",
    ),
    Status.UNLOCKED: Rule(
        "pin-unlocked",
        "Pinned model is not in the lockfile",
        "Run `modelaudit lock` and commit modelaudit.lock.",
    ),
    Status.LOCK_STALE: Rule(
        "pin-lock-stale",
        "Lockfile entry is stale",
        "The pin's providers.yaml entry changed since it was locked. Run `modelaudit lock`.",
    ),
}


def rule(status: Status) -> Rule:
    return RULES[status]
