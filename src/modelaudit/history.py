"""What the history store answers about a time window: the seam between the store, which
computes it (in SQL, so a month of attempts stays fast), and the risk score, the report and
the drills, which judge from it. Values only: frozen, timezone-aware UTC, no store types
(the store's side of the seam, `HistoryReader`, is in `modelaudit.store.base`).

How attempts count towards availability is decided here, once:

* only attempts of generation and health probes count (`AVAILABILITY_KINDS`): the model
  list answering says nothing about whether a model serves;
* `ok` and `content_filtered` (the model answered) are successes;
* rate limits, our own access problems and requests the provider refused
  (`EXCLUDED_CLASSES`) are excluded from both sides, as OpenRouter computes uptime; so are
  attempts of runs whose status is `inconclusive` (this machine was offline);
* every other class is a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from modelaudit.vocabulary import AVAILABILITY_KINDS, SUCCESS_CLASSES, ErrorClass, Verdict

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import timedelta

__all__ = ["AVAILABILITY_KINDS", "SUCCESS_CLASSES"]  # where the stores have read them from
EXCLUDED_CLASSES = frozenset(
    {
        ErrorClass.RATE_LIMITED,
        ErrorClass.AUTH_FAILED,
        ErrorClass.ACCESS_DENIED,
        ErrorClass.QUOTA_EXHAUSTED,
        ErrorClass.BAD_REQUEST,
    }
)

ModelKey = tuple[str, str]
"""(provider, model)."""


def counts_as(error_class: ErrorClass) -> Literal["ok", "failed", "excluded"]:
    """How one attempt of an availability kind counts (runs marked inconclusive aside)."""
    if error_class in SUCCESS_CLASSES:
        return "ok"
    if error_class in EXCLUDED_CLASSES:
        return "excluded"
    return "failed"


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime
    regions: frozenset[str] = frozenset()
    """Only the attempts, verdicts and incidents of runs from these regions; empty: all.
    Catalog changes, drift and rate-limit ceilings are a provider's and are not filtered."""


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_start(moment: datetime, bucket: timedelta) -> datetime:
    """The start of the timeline bucket holding `moment`. Buckets are multiples of their
    width since the Unix epoch: a day starts at midnight UTC, an hour on the hour."""
    return moment - (moment - EPOCH) % bucket


def bucket_starts(window: Window, bucket: timedelta) -> list[datetime]:
    """The starts of every bucket a timeline over `window` has, oldest first. The first
    starts at or before `window.since`, and the first and last buckets hold only what is
    inside the window."""
    starts = []
    moment = bucket_start(window.since, bucket)
    while moment < window.until:
        starts.append(moment)
        moment += bucket
    return starts


@dataclass(frozen=True)
class Percentiles:
    """Of successful attempts, in milliseconds. None where there is no sample."""

    n: int
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None


@dataclass(frozen=True)
class ModelHistory:
    provider: str
    model: str
    ok: int
    failed: int
    excluded: int
    latency: Percentiles
    """Completion latency of successful attempts."""
    ttft: Percentiles
    """Stream time to first token of successful attempts."""
    error_classes: Mapping[ErrorClass, int] = field(default_factory=dict)
    """Every attempt in the window, all kinds, by class."""
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    last_ok: datetime | None = None
    """The last successful generation or health attempt ("used to answer")."""

    @property
    def n(self) -> int:
        """The availability sample: successes plus failures."""
        return self.ok + self.failed


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    """One bucket of a model's timeline."""

    start: datetime
    """The bucket's start (`bucket_start`): the first bucket of a window may start before it."""
    ok: int
    failed: int
    excluded: int
    latency_p50: float | None = None
    latency_p95: float | None = None
    ttft_p50: float | None = None


@dataclass(frozen=True)
class VerdictPoint:
    run_id: int
    at: datetime
    """When the run started."""
    verdict: Verdict
    reason: str
    region: str = ""
    """The region of the agent whose run it was."""


UNDECIDED = frozenset({Verdict.SKIPPED, Verdict.INCONCLUSIVE})
"""Verdicts of runs that decided nothing about a model: passed over by `Streak`."""


@dataclass(frozen=True)
class Streak:
    """Where one model stands in one region at the end of a window: its last decisive
    verdict (runs that were skipped or inconclusive passed over), and the unbroken run of
    that verdict it ends, among the region's decisive runs in the window."""

    provider: str
    model: str
    last: VerdictPoint
    since: datetime
    """When the first run of the streak started."""
    runs: int

    @property
    def region(self) -> str:
        return self.last.region


def streaks_of(points: Iterable[tuple[ModelKey, VerdictPoint]]) -> list[Streak]:
    """The rule the stores follow in SQL, over verdict points: per model and region, the
    last decisive point in (start, run id) order and how far back its verdict runs
    unbroken."""
    decided: dict[tuple[str, str, str], list[VerdictPoint]] = {}
    for (provider, model), point in points:
        if point.verdict not in UNDECIDED:
            decided.setdefault((provider, model, point.region), []).append(point)
    found = []
    for (provider, model, _), of in sorted(decided.items()):
        ordered = sorted(of, key=lambda p: (p.at, p.run_id))
        last = ordered[-1]
        since, runs = last.at, 0
        for point in reversed(ordered):
            if point.verdict is not last.verdict:
                break
            since, runs = point.at, runs + 1
        found.append(Streak(provider, model, last, since, runs))
    return found


@dataclass(frozen=True)
class RegionHistory:
    """One model's availability over a window as the agents of one region saw it."""

    provider: str
    model: str
    region: str
    ok: int
    failed: int
    excluded: int
    last_seen: datetime | None = None
    last_ok: datetime | None = None

    @property
    def n(self) -> int:
        return self.ok + self.failed


@dataclass(frozen=True)
class Incident:
    """Consecutive runs in which a model was `down` or `gone`."""

    provider: str
    model: str
    verdict: Verdict
    start: datetime
    """The start of the first run with that verdict."""
    end: datetime | None
    """The start of the next run with another verdict; None while it goes on."""
    runs: int
    region: str = ""
    """Incidents are followed per region: the runs of one region's agents."""


@dataclass(frozen=True)
class CatalogChange:
    provider: str
    model: str
    change: Literal["appeared", "vanished"]
    at: datetime
    """The first snapshot that showed the change."""


@dataclass(frozen=True)
class DriftEvent:
    provider: str
    model: str
    at: datetime
    kind: Literal["served_model", "fingerprint"]
    before: str | None
    after: str | None


@dataclass(frozen=True)
class RateLimitPoint:
    at: datetime
    header: str
    """e.g. `x-ratelimit-limit-requests`, `anthropic-ratelimit-tokens-limit`."""
    limit: float
