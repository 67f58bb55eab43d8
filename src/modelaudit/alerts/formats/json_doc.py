"""`alerts list --format json`: open alerts and undelivered messages, one versioned
document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from typing_extensions import TypedDict

from modelaudit.clock import iso_seconds
from modelaudit.outgoing import json_text
from modelaudit.output.base import Formatter
from modelaudit.output.documents import closed

if TYPE_CHECKING:
    from modelaudit.alerts.state import AlertOverview

SCHEMA_VERSION: Literal[1] = 1


@closed
class OpenAlertJson(TypedDict):
    route: str
    kind: str
    provider: str
    model: str
    scope: str
    told: str
    since: str
    last_message_at: str


@closed
class UndeliveredJson(TypedDict):
    id: int
    route: str
    target: str
    state: str
    change: str
    provider: str
    model: str
    value: str
    decided_at: str
    attempts: int
    last_error: str | None


@closed
class AlertsDocument(TypedDict):
    """`alerts list --format json`."""

    schema_version: Literal[1]
    open: list[OpenAlertJson]
    undelivered: list[UndeliveredJson]


class AlertsJson(Formatter["AlertOverview"]):
    def write_safe(self, value: AlertOverview) -> None:
        self.text(json_text(document(value), indent=2))


FORMAT = AlertsJson


def document(overview: AlertOverview) -> AlertsDocument:
    return {
        "schema_version": SCHEMA_VERSION,
        "open": [
            {
                "route": m.route,
                "kind": m.kind.value,
                "provider": m.provider,
                "model": m.model,
                "scope": m.scope,
                "told": m.told,
                "since": iso_seconds(m.since),
                "last_message_at": iso_seconds(m.sent_at),
            }
            for m in overview.open
        ],
        "undelivered": [
            {
                "id": d.id,
                "route": d.route,
                "target": d.target,
                "state": d.state.value,
                "change": d.notice.change.value,
                "provider": d.notice.provider,
                "model": d.notice.model,
                "value": d.notice.value,
                "decided_at": iso_seconds(d.created_at),
                "attempts": d.attempts,
                "last_error": d.last_error,
            }
            for d in overview.undelivered
        ],
    }
