"""Availability per region, and the finding a fleet exists for: a model that answers in
one region while it is `blocked` or `gone` in another at the same time ("withdrawn in
region X since ...", a jurisdiction cutting it off, a vendor no longer serving a country).

Pure: it judges what the store answered (each region's counts and verdicts), as values.
"At the same time" means both regions' latest verdicts still stand, and the answering
region's is at most `SAME_TIME` older than the start of the withdrawal (agents probe on
schedules of minutes to an hour, and a fleet's runs of one round start a little apart; an
agent silent for longer says nothing about now).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from modelaudit.risk.stats import Proportion, proportion
from modelaudit.vocabulary import Verdict

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from modelaudit.history import ModelKey, RegionHistory, Streak, VerdictPoint

WITHDRAWN = frozenset({Verdict.BLOCKED, Verdict.GONE})
SAME_TIME = timedelta(hours=6)


@dataclass(frozen=True)
class RegionalStanding:
    """One model as the agents of one region saw it over the window."""

    region: str
    availability: Proportion
    excluded: int
    last_verdict: VerdictPoint | None
    """The region's last decisive verdict (skipped and inconclusive passed over)."""
    since: datetime | None
    """When that verdict began: the first run of its unbroken streak."""
    runs: int
    """The runs of that streak."""


@dataclass(frozen=True)
class Withdrawal:
    provider: str
    model: str
    region: str
    verdict: Verdict
    since: datetime
    runs: int
    answering_in: tuple[str, ...]
    reason: str

    @property
    def ref(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def text(self) -> str:
        return (
            f"withdrawn in region {self.region} since {self.since:%Y-%m-%d %H:%M} UTC "
            f"({self.verdict.value}: {self.reason}); still answering in "
            f"{', '.join(self.answering_in)}"
        )


def standings(
    histories: Iterable[RegionHistory], streaks: Iterable[Streak]
) -> dict[ModelKey, tuple[RegionalStanding, ...]]:
    """Per model, each region's availability and last verdict, regions in name order."""
    counts: dict[ModelKey, dict[str, RegionHistory]] = {}
    for row in histories:
        counts.setdefault((row.provider, row.model), {})[row.region] = row
    latest: dict[ModelKey, dict[str, Streak]] = {}
    for found in streaks:
        latest.setdefault((found.provider, found.model), {})[found.region] = found
    result = {}
    for key in counts.keys() | latest.keys():
        regions = counts.get(key, {}).keys() | latest.get(key, {}).keys()
        rows = []
        for region in sorted(regions):
            h = counts.get(key, {}).get(region)
            streak = latest.get(key, {}).get(region)
            rows.append(
                RegionalStanding(
                    region=region,
                    availability=proportion(h.ok, h.n) if h else proportion(0, 0),
                    excluded=h.excluded if h else 0,
                    last_verdict=streak.last if streak else None,
                    since=streak.since if streak else None,
                    runs=streak.runs if streak else 0,
                )
            )
        result[key] = tuple(rows)
    return result


def withdrawals(found: Mapping[ModelKey, tuple[RegionalStanding, ...]]) -> list[Withdrawal]:
    """Each region where a model is blocked or gone while another region's agents see it
    answer."""
    result = []
    for (provider, model), regions in sorted(found.items()):
        for here in regions:
            last = here.last_verdict
            if last is None or here.since is None or last.verdict not in WITHDRAWN:
                continue
            since = here.since
            answering = tuple(
                r.region
                for r in regions
                if r.last_verdict is not None
                and r.last_verdict.verdict.answering
                and r.last_verdict.at >= since - SAME_TIME
            )
            if answering:
                result.append(
                    Withdrawal(
                        provider,
                        model,
                        here.region,
                        last.verdict,
                        since,
                        here.runs,
                        answering,
                        last.reason,
                    )
                )
    return result
