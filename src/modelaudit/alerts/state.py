"""The values of alerting that cross the store's interface: what is remembered between
runs (trackers, what each route was told), and the messages waiting to be delivered.

* A `Tracker` follows one model's verdicts, run after run, as Gatus follows an endpoint:
  the confirmed verdict and the streaks that confirm the next one.
* A `RouteMark` is what one route was last told about one subject (a model's verdict, its
  retirement, its regions, its risk level): one notification per transition comes from
  comparing it with what is true now.
* A `Delivery` is one message to one notification URL, stored `pending` when it is decided,
  `sending` while a process sends it, `sent` once the service took it.

Times are timezone-aware UTC.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any

MAX_STREAK = 100
"""Streaks are counted up to here (the largest threshold the schema allows): a model that
stays up for months does not rewrite its tracker on every run."""


class Kind(StrEnum):
    """What a route mark is about."""

    VERDICT = "verdict"
    RETIRING = "retiring"
    REGION = "region"
    RISK = "risk"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DROPPED = "dropped"
    """Its route or URL was removed from the registry before it could be sent."""


TrackerKey = tuple[str, str, str]
"""(provider, model, scope)."""
MarkKey = tuple[str, Kind, str, str, str]
"""(route, kind, provider, model, scope)."""


@dataclass(frozen=True)
class Tracker:
    provider: str
    model: str
    scope: str = ""
    """The region whose runs it follows, once a fleet has regions; "" for the whole store."""
    confirmed: str | None = None
    """The confirmed verdict (`up`, `down`, `degraded`, `gone`, `blocked`); None before the
    first one."""
    confirmed_since: datetime | None = None
    last: str | None = None
    """The last decisive verdict seen (inconclusive and skipped runs are not decisive)."""
    last_runs: int = 0
    """Consecutive decisive runs with `last`."""
    last_since: datetime | None = None
    bad_runs: int = 0
    """Consecutive decisive runs with a failing verdict, whichever."""
    bad_since: datetime | None = None
    good_runs: int = 0
    """Consecutive `up` runs."""
    reason: str = ""
    """The reason of the last failing verdict."""

    @property
    def key(self) -> TrackerKey:
        return (self.provider, self.model, self.scope)


@dataclass(frozen=True)
class RouteMark:
    route: str
    kind: Kind
    provider: str
    model: str
    scope: str
    told: str
    """What the route was told: a verdict, a risk level, a retirement date, the regions
    a model is withdrawn in."""
    since: datetime
    """When what it was told began."""
    sent_at: datetime
    """When the route's last message about it was decided."""

    @property
    def key(self) -> MarkKey:
        return (self.route, self.kind, self.provider, self.model, self.scope)


class Change(StrEnum):
    """What a notice says happened."""

    OPENED = "opened"
    CHANGED = "changed"
    RECOVERED = "recovered"
    RETIRING = "retiring"
    WITHDRAWN = "withdrawn"
    """In some regions, while answering in others."""
    RESTORED = "restored"
    """No longer withdrawn in one region while answering in another."""
    RISK = "risk"
    RISK_EASED = "risk_eased"
    TEST = "test"


@dataclass(frozen=True)
class Notice:
    """Everything one message says, decided once and kept with its deliveries (so a
    message sent a day late says what was true when it was decided)."""

    change: Change
    provider: str
    model: str
    created_at: datetime
    scope: str = ""
    value: str = ""
    """The new verdict, risk level, or retirement date."""
    previous: str = ""
    reason: str = ""
    since: datetime | None = None
    pinned: bool = False
    fallbacks: tuple[str, ...] = ()
    """Healthy fallbacks answering now, each `provider/model (verdict)`."""
    last_ok: datetime | None = None
    days_left: int | None = None
    regions: tuple[str, ...] = ()
    """Where the model is withdrawn (`withdrawn`), or answers again (`restored`)."""
    answering: tuple[str, ...] = ()
    """The regions it answers in."""
    score: int | None = None
    run_id: int | None = None

    @property
    def ref(self) -> str:
        return f"{self.provider}/{self.model}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=_encode, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Notice:
        raw: dict[str, Any] = json.loads(text)
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        values["change"] = Change(values["change"])
        for name in ("created_at", "since", "last_ok"):
            if values.get(name):
                values[name] = datetime.fromisoformat(values[name])
        for name in ("fallbacks", "regions", "answering"):
            values[name] = tuple(values.get(name) or ())
        return cls(**values)


def _encode(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


@dataclass(frozen=True)
class NewDelivery:
    route: str
    target: str
    """The URL's reference as the registry writes it (`env:ONCALL_SLACK_URL`): the URL
    itself is read only when it is sent."""
    notice: Notice


@dataclass(frozen=True)
class Delivery:
    id: int
    route: str
    target: str
    notice: Notice
    state: DeliveryState
    attempts: int
    """Attempts begun, this one included once claimed."""
    created_at: datetime
    last_error: str | None = None
    repeat: bool = False
    """An earlier attempt was begun and its outcome is unknown (its process died between
    sending and recording): the service may have it already."""


@dataclass(frozen=True)
class AlertSnapshot:
    """What the store remembers, read in the transaction that will write the update."""

    watermark: int
    """The last run whose verdicts were applied (for the scope being evaluated)."""
    trackers: dict[TrackerKey, Tracker] = field(default_factory=dict)
    marks: dict[MarkKey, RouteMark] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertUpdate:
    """What an evaluation changes, written in one transaction."""

    scope: str = ""
    watermark: int | None = None
    """The run now applied; None leaves the watermark as it was."""
    trackers: tuple[Tracker, ...] = ()
    """New or changed trackers."""
    marks: tuple[RouteMark, ...] = ()
    """New or changed route marks."""
    cleared: tuple[MarkKey, ...] = ()
    deliveries: tuple[NewDelivery, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.trackers or self.marks or self.cleared or self.deliveries)


@dataclass(frozen=True)
class AlertOverview:
    """For `modelaudit alerts list`: what is open, and what is not delivered yet."""

    open: tuple[RouteMark, ...]
    undelivered: tuple[Delivery, ...]
