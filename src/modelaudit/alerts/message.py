"""What one message says, worded from its `Notice`: a title, a Markdown body (for services
that render Markdown, or that Apprise turns into HTML, such as email) and the same body as
plain text (webhooks, SMS). Every value is redacted before it is worded: a reason may
quote a server that echoed a key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from modelaudit.alerts.state import Change
from modelaudit.clock import iso_seconds, utc_now
from modelaudit.outgoing import outgoing

if TYPE_CHECKING:
    from collections.abc import Callable

    from modelaudit.alerts.state import Notice

LATE = timedelta(minutes=15)
"""A message sent this long after it was decided says when it was decided."""
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")


@dataclass(frozen=True)
class Message:
    title: str
    markdown: str
    text: str
    severity: str
    """Apprise's notify type: `failure`, `warning`, `success` or `info`."""


@dataclass(frozen=True)
class Envelope:
    """Where a notice goes and how it got there, for the message's last lines."""

    route: str
    delivery_id: int | None = None
    repeat: bool = False
    report_url: str | None = None
    now: datetime | None = None


_SEVERITY = {
    Change.OPENED: "failure",
    Change.CHANGED: "failure",
    Change.WITHDRAWN: "failure",
    Change.RISK: "warning",
    Change.RETIRING: "warning",
    Change.RECOVERED: "success",
    Change.RESTORED: "success",
    Change.RISK_EASED: "success",
    Change.TEST: "info",
}


def compose(notice: Notice, envelope: Envelope) -> Message:
    # Values are redacted (and made printable) before they are worded and escaped: a key
    # with a `_` in it, escaped for Markdown as `\_`, would no longer match a redaction of
    # the finished line.
    notice, envelope = outgoing(notice), outgoing(envelope)
    title = f"modelaudit: {_headline(notice)}"
    markdown = "\n\n".join(_lines(notice, envelope, _markdown))
    text = "\n".join(_lines(notice, envelope, _plain))
    return Message(title, markdown, text, _SEVERITY[notice.change])


def _headline(notice: Notice) -> str:
    ref, value = notice.ref, notice.value
    where = f" in {notice.scope}" if notice.scope else ""
    match notice.change:
        case Change.OPENED:
            return f"{ref} is {value}{where}"
        case Change.CHANGED:
            return f"{ref} is now {value}{where} (was {notice.previous})"
        case Change.RECOVERED:
            return f"{ref} is up again{where} (was {notice.previous})"
        case Change.RETIRING:
            return f"{ref} {_retirement(notice)}"
        case Change.WITHDRAWN:
            return (
                f"{ref} is withdrawn in {', '.join(notice.regions)} while answering in "
                f"{', '.join(notice.answering)}"
            )
        case Change.RESTORED:
            return f"{ref} is no longer withdrawn in {', '.join(notice.regions)}"
        case Change.RISK:
            return f"{ref} risk is {value} (score {notice.score})"
        case Change.RISK_EASED:
            return f"{ref} risk eased to {value} (score {notice.score})"
        case Change.TEST:
            return "test message"


def _retirement(notice: Notice) -> str:
    days = notice.days_left or 0
    if days > 1:
        return f"retires in {days} days ({notice.value})"
    if days == 1:
        return f"retires tomorrow ({notice.value})"
    if days == 0:
        return f"retires today ({notice.value})"
    return f"retired {-days} day{'s' if days < -1 else ''} ago ({notice.value}) and is still in use"


def _markdown(label: str, value: str) -> str:
    return f"**{label}:** {value}" if label else value


def _plain(label: str, value: str) -> str:
    return f"{label}: {value}" if label else value


def _lines(notice: Notice, envelope: Envelope, style: Callable[[str, str], str]) -> list[str]:
    markdown = style is _markdown

    def free(text: str) -> str:
        """Text from outside (a server's reason): inert in Markdown."""
        return _MARKDOWN_SPECIAL.sub(r"\\\1", text) if markdown else text

    def code(text: str) -> str:
        return f"`{text.replace('`', '')}`" if markdown else text

    if notice.change is Change.TEST:
        lines = [
            style("", f"A test message from modelaudit for route {code(envelope.route)}."),
            style("", "If you read this, alerts for this route reach you."),
        ]
        return [*lines, *_footer(notice, envelope, style, code)]
    rest = _headline(notice).removeprefix(notice.ref + " ")
    lines = [style("", f"{code(notice.ref)} {free(rest)}")]
    if notice.reason:
        lines.append(style("Reason", free(notice.reason)))
    since = _since(notice)
    if since:
        lines.append(style("Since", since))
    if notice.last_ok is not None:
        lines.append(style("Last answered", iso_seconds(notice.last_ok)))
    lines.append(
        style("Pinned", "yes: production depends on this exact id" if notice.pinned else "no")
    )
    if notice.change in (Change.OPENED, Change.CHANGED, Change.RETIRING, Change.WITHDRAWN):
        answering = ", ".join(code(f) for f in notice.fallbacks)
        lines.append(style("Healthy fallbacks answering now", answering or "none seen answering"))
    if envelope.report_url:
        lines.append(style("Report", envelope.report_url))
    return [*lines, *_footer(notice, envelope, style, code)]


def _since(notice: Notice) -> str:
    if notice.since is None:
        return ""
    end = notice.created_at
    lasted = _duration(end - notice.since)
    if notice.change is Change.RECOVERED:
        return (
            f"{notice.previous} from {iso_seconds(notice.since)} to {iso_seconds(end)} ({lasted})"
        )
    return f"{iso_seconds(notice.since)} ({lasted})"


def _footer(
    notice: Notice,
    envelope: Envelope,
    style: Callable[[str, str], str],
    code: Callable[[str], str],
) -> list[str]:
    lines = []
    now = envelope.now or utc_now()
    if now - notice.created_at >= LATE:
        lines.append(
            style(
                "",
                f"Decided at {iso_seconds(notice.created_at)}; sent late (a failed send retried).",
            )
        )
    if envelope.repeat:
        lines.append(
            style(
                "",
                "Possibly a repeat: an earlier attempt to send this was cut off before it "
                "was confirmed.",
            )
        )
    numbered = f" #{envelope.delivery_id}" if envelope.delivery_id is not None else ""
    run = f", run {notice.run_id}" if notice.run_id is not None else ""
    lines.append(style("", f"Alert{numbered} via route {code(envelope.route)}{run} (modelaudit)"))
    return lines


def _duration(span: timedelta) -> str:
    minutes = max(0, round(span.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days {hours % 24} h"
