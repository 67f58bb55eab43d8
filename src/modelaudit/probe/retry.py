"""When to try again, and how long to wait first.

The waits follow the official OpenAI and Anthropic SDKs (exponential backoff with a
downward jitter), and a server's own hint (`retry-after-ms`, `retry-after` in seconds or
as an HTTP date, Gemini's `RetryInfo`, read by `classify.retry_after_s`) wins when it fits
the probe's budget. Which error classes are worth a retry at all is decided in
`classify.is_transient`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelaudit.registry.schema import Retry


@dataclass(frozen=True)
class Wait:
    seconds: float
    honoured_hint: bool
    """True when the wait is the server's own retry hint."""


def next_wait(
    policy: Retry, retry_number: int, hint_s: float | None, rng: random.Random | None = None
) -> Wait | None:
    """How long to wait before retry `retry_number` (1 = the first retry); None: give up.

    A server hint longer than `policy.max_retry_after_s` means the server will not serve
    us within the probe's budget: give up now rather than wait or hammer it.
    """
    if hint_s is not None:
        if hint_s > policy.max_retry_after_s:
            return None
        return Wait(hint_s, honoured_hint=True)
    base = min(policy.backoff_s * 2 ** (retry_number - 1), policy.max_backoff_s)
    jitter = 1.0 - 0.25 * (rng or random).random()
    return Wait(base * jitter, honoured_hint=False)
