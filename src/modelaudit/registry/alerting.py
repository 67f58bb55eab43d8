"""The `alerts:` section and the `maintenance:` windows of `providers.yaml` (additive to
schema version 1; documented in docs/alerts.md).

A notification URL is never written in the registry: Apprise URLs carry the service's
token or password, so a route names where each one is read at send time (`env:VARIABLE`
or `file:PATH`), exactly as a provider names its key. Checks that need the whole document
(a route's filter naming a provider or model that exists) are in `registry.crosscheck`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ROUTE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_HH_MM = re.compile(r"(\d{1,2}):(\d{2})")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class UrlRef(_Section):
    """Where a notification URL is read at send time; the URL itself never enters the
    registry, a message or the history."""

    source: Literal["env", "file"]
    name: str

    def __str__(self) -> str:
        return f"{self.source}:{self.name}"


NOT_A_URL_REF = (
    "must name where the notification URL is read (`env:VARIABLE` or `file:PATH`), not be "
    "the URL itself: Apprise URLs carry the service's token or password"
)


def parse_url_ref(value: object) -> object:
    """`env:VAR` and `file:PATH`; anything else is refused without being echoed."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise ValueError(NOT_A_URL_REF)
    source, sep, name = value.partition(":")
    if sep and source == "env" and _ENV_VAR.fullmatch(name):
        return {"source": "env", "name": name}
    if sep and source == "file" and name.strip() and not name.startswith("//"):
        return {"source": "file", "name": name}
    if sep and source == "env":
        raise ValueError("`env:` must be followed by a variable name, e.g. env:ONCALL_SLACK_URL")
    raise ValueError(NOT_A_URL_REF)


UrlReference = Annotated[UrlRef, BeforeValidator(parse_url_ref)]


class AlertEvent(StrEnum):
    """What a route can ask to hear."""

    DOWN = "down"
    DEGRADED = "degraded"
    GONE = "gone"
    BLOCKED = "blocked"
    """A model's confirmed verdict turning into this one (from any other)."""
    RECOVERED = "recovered"
    """Back to `up` after an alert the route heard."""
    PINNED_LOST = "pinned_lost"
    """A pinned model turning `gone` or `blocked` (whatever the route's filter says of pins)."""
    RETIRING = "retiring"
    """A model's retirement within `retiring_within_days`: once a day until it is dealt with."""
    REGION_WITHDRAWN = "region_withdrawn"
    """Gone or blocked in one region while answering in another (a fleet's regions)."""
    RISK = "risk"
    """The model's risk level rising to `risk_level` or above, and falling back below it."""


DEFAULT_EVENTS = (AlertEvent.DOWN, AlertEvent.GONE, AlertEvent.BLOCKED, AlertEvent.RECOVERED)


class RouteFilter(_Section):
    """Which models a route hears about: every condition given must hold; within a list,
    any item may match."""

    providers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    """`provider/model` references, or model ids (any provider's)."""
    tags: tuple[str, ...] = ()
    pinned: bool | None = None
    """true: only pinned models; false: only models that are not pinned."""


class Route(_Section):
    urls: tuple[UrlReference, ...] = Field(min_length=1)
    events: tuple[AlertEvent, ...] = DEFAULT_EVENTS
    filter: RouteFilter = Field(default_factory=RouteFilter)
    retiring_within_days: int = Field(30, ge=0, le=3650)
    risk_level: Literal["elevated", "high", "critical"] = "high"

    @field_validator("events")
    @classmethod
    def _events_not_empty(cls, value: tuple[AlertEvent, ...]) -> tuple[AlertEvent, ...]:
        if not value:
            raise ValueError("list at least one event, e.g. [down, gone, blocked, recovered]")
        return tuple(dict.fromkeys(value))

    def wants(self, event: AlertEvent) -> bool:
        return event in self.events


class FailureThreshold(_Section):
    """Consecutive runs that must confirm a verdict before an alert opens (or changes)."""

    down: int = Field(2, ge=1, le=100)
    degraded: int = Field(2, ge=1, le=100)
    gone: int = Field(1, ge=1, le=100)
    blocked: int = Field(1, ge=1, le=100)


class Alerts(_Section):
    routes: dict[str, Route] = Field(min_length=1)
    failure_threshold: FailureThreshold = Field(default_factory=FailureThreshold)
    success_threshold: int = Field(2, ge=1, le=100)
    """Consecutive `up` runs that resolve an alert."""
    report_url: str | None = None
    """Where the team reads the report; messages link to it."""
    send_timeout_s: float = Field(10.0, gt=0, le=600)
    """The longest a run's exit waits for its messages; what is not sent by then is sent
    by the next run."""
    max_parallel_sends: int = Field(8, ge=1, le=64)

    @field_validator("routes")
    @classmethod
    def _route_names(cls, value: dict[str, Route]) -> dict[str, Route]:
        for name in value:
            if not _ROUTE_NAME.fullmatch(name):
                raise ValueError(
                    f"route name `{name}` must be lower-case letters, digits, '.', '_' or '-'"
                )
        return value

    @field_validator("report_url")
    @classmethod
    def _report_url_is_http(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http(s) URL, e.g. https://example.com/modelaudit/report")
        if parts.username or parts.password:
            raise ValueError("the report URL must not carry credentials (user:password@)")
        return value


# --- maintenance windows -----------------------------------------------------------------

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _time_of_day(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            f'quote the time, e.g. "{value // 60:02d}:{value % 60:02d}": YAML reads an unquoted '
            f"H:MM as a number ({value})"
        )
    if not isinstance(value, str):
        raise ValueError('expected a time of day in quotes, e.g. "02:00"')
    match = _HH_MM.fullmatch(value.strip())
    if match is None or int(match[1]) > 24 or int(match[2]) > 59:
        raise ValueError(f'`{value}` is not a time of day: write HH:MM in quotes, e.g. "02:30"')
    if int(match[1]) == 24 and int(match[2]) != 0:
        raise ValueError(f"`{value}` is past the end of the day (24:00 is the latest)")
    return value.strip()


def _moment(value: object) -> object:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(
        f"`{value}` is not a date and time: write e.g. 2026-07-01T22:00 (in the window's "
        "timezone) or 2026-07-01T22:00+02:00"
    )


class MaintenanceWindow(_Section):
    """A time when a provider or model is expected not to serve: no alerts inside it, and
    the report leaves it out of availability.

    Weekly: `days` with `start`/`end` times of day (`end` before `start` runs past
    midnight). Once: `start`/`end` dates and times. Either in `timezone` (IANA name).
    """

    days: tuple[Weekday, ...] | None = None
    start: str | datetime
    end: str | datetime
    timezone: str = "UTC"
    reason: str | None = None

    @field_validator("days")
    @classmethod
    def _days_not_empty(cls, value: tuple[Weekday, ...] | None) -> tuple[Weekday, ...] | None:
        if value is not None and not value:
            raise ValueError("list at least one day, e.g. [sat, sun]")
        return None if value is None else tuple(dict.fromkeys(value))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"`{value}` is not a time zone name (IANA, e.g. UTC, Europe/Berlin, "
                "America/New_York)"
            ) from None
        return value

    @field_validator("start", "end", mode="before")
    @classmethod
    def _kind_of_time(cls, value: object, info: ValidationInfo) -> object:
        """Weekly windows take times of day, one-off windows dates and times: each is read
        as the kind `days` says, so a mistake is told as that kind's."""
        if info.data.get("days"):
            return _time_of_day(value)
        clock = isinstance(value, int) or (isinstance(value, str) and _HH_MM.fullmatch(value))
        return _time_of_day(value) if clock else _moment(value)

    @model_validator(mode="after")
    def _ordered(self) -> MaintenanceWindow:
        if self.days is None and not isinstance(self.start, datetime):
            raise ValueError(
                "a time of day repeats: say on which `days` (e.g. days: [sun]); a one-off "
                "window takes a date and time, e.g. start: 2026-07-01T22:00"
            )
        if self.days is None and isinstance(self.start, datetime):
            end = self.end if isinstance(self.end, datetime) else self.start
            if self._aware(end) <= self._aware(self.start):
                raise ValueError("`end` must come after `start`")
        if self.days is not None and self.start == self.end:
            raise ValueError("`start` and `end` are the same time: the window would be empty")
        return self

    def _aware(self, moment: datetime) -> datetime:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if moment.tzinfo is not None:
            return moment
        try:
            return moment.replace(tzinfo=ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError):
            return moment.replace(tzinfo=UTC)


Maintenance = tuple[MaintenanceWindow, ...]
