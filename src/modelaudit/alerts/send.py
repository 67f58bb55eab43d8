"""Delivering messages through Apprise, concurrently and bounded in time.

Each message goes to one notification URL, read from its `env:`/`file:` reference only
now. The URL is registered with `modelaudit.redact` the moment it is read (whole, and its
password, user, host and path pieces that look like tokens), so no message, warning or
stored error can carry it; Apprise's own log lines are captured, redacted, and used as the
failure's reason, never printed by Apprise.

At most `parallel` messages are in flight at once, each in a daemon thread: when the send
timeout expires the caller gets what finished and moves on (a daemon thread never holds
the process's exit), and a message still in flight is left `sending`: the same process
settles it later if it is still running (`watch`), otherwise the next run sends it again,
marked as a possible repeat.

Apprise is imported only here, and only when a message is sent.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from modelaudit.redact import redact, register_secret

if TYPE_CHECKING:
    from collections.abc import Sequence

    from modelaudit.alerts.message import Message
    from modelaudit.registry.alerting import UrlRef

PLAIN_TEXT_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
"""Generic webhooks: a program reads them, nothing renders Markdown."""
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_TOKENISH = re.compile(r"(?=.*[A-Za-z])(?=.*\d)")


class UrlProblemError(Exception):
    """The reference cannot give a usable URL (unset, unreadable, empty, not a URL)."""


def read_url(ref: UrlRef, base_dir: Path) -> str:
    """The URL a reference names, registered as a secret before anything else happens."""
    if ref.source == "env":
        raw = os.environ.get(ref.name)
        if raw is None:
            raise UrlProblemError(f"{ref.name} is not set: export the notification URL in it")
    else:
        from modelaudit.credentials import read_referenced_file

        try:
            raw = read_referenced_file(ref.name, base_dir, "the URL file")
        except LookupError as exc:
            raise UrlProblemError(str(exc)) from None
    lines = [line.strip() for line in raw.splitlines()]
    urls = [line for line in lines if line and not line.startswith("#")]
    for url in urls:
        protect(url)
    if len(urls) != 1:
        found = "nothing" if not urls else f"{len(urls)} lines"
        raise UrlProblemError(f"{ref} must hold exactly one notification URL, and holds {found}")
    if _SCHEME.match(urls[0]) is None:
        raise UrlProblemError(f"{ref} does not hold a URL (an Apprise URL starts with scheme://)")
    return urls[0]


def scheme_of(url: str) -> str:
    found = _SCHEME.match(url)
    return found.group(1).lower() if found else ""


def protect(url: str) -> None:
    """Register the URL and each piece of it that may be a token or a password."""
    register_secret(url)
    parts = urlsplit(url)
    pieces = [parts.netloc, *parts.path.split("/"), *(v for _, v in parse_qsl(parts.query))]
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    for secret in (password, unquote(password)):
        register_secret(secret)
    pieces += [user, host.split(":")[0]]
    for piece in (unquote(p) for p in pieces):
        if (len(piece) >= 8 and _TOKENISH.match(piece)) or (len(piece) >= 16 and "." not in piece):
            register_secret(piece)


@dataclass(frozen=True)
class Job:
    delivery_id: int
    ref: UrlRef
    message: Message


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    sent: bool
    error: str | None = None


class Sender:
    """Sends jobs, at most `parallel` at once, each in a daemon thread; remembers the
    jobs still in flight when a deadline passed, for `finished_late`."""

    def __init__(self, base_dir: Path, parallel: int) -> None:
        self.base_dir = base_dir
        self.parallel = parallel
        self._late: dict[int, _Slot] = {}

    def send(self, jobs: Sequence[Job], timeout_s: float) -> tuple[list[Outcome], list[int]]:
        """Outcomes of the jobs that finished within `timeout_s`, and the ids of those
        still in flight (left `sending`). Jobs not started by then come back failed."""
        deadline = time.monotonic() + timeout_s
        slots = [_Slot(job) for job in jobs]
        todo: queue.SimpleQueue[_Slot] = queue.SimpleQueue()
        for slot in slots:
            todo.put(slot)
        for _ in range(min(self.parallel, len(slots))):
            threading.Thread(
                target=self._work, args=(todo, deadline), name="modelaudit-alert", daemon=True
            ).start()
        outcomes, in_flight = [], []
        for slot in slots:
            if slot.done.wait(max(0.0, deadline - time.monotonic())):
                outcomes.append(slot.outcome())
                continue
            with slot.lock:
                slot.skipped = not slot.started
            if slot.skipped:
                outcomes.append(
                    Outcome(slot.job.delivery_id, False, "not sent within the send timeout")
                )
            else:
                in_flight.append(slot.job.delivery_id)
                self._late[slot.job.delivery_id] = slot
        return outcomes, in_flight

    def finished_late(self) -> list[Outcome]:
        """Jobs left in flight by an earlier `send` that have finished since."""
        done = [slot for slot in self._late.values() if slot.done.is_set()]
        for slot in done:
            del self._late[slot.job.delivery_id]
        return [slot.outcome() for slot in done]

    @property
    def in_flight(self) -> set[int]:
        return set(self._late)

    def _work(self, todo: queue.SimpleQueue[_Slot], deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                slot = todo.get_nowait()
            except queue.Empty:
                return
            with slot.lock:
                if slot.skipped:
                    continue
                slot.started = True
            try:
                slot.result = deliver(slot.job, self.base_dir)
            except Exception as exc:  # noqa: BLE001 - one service's crash is its failure
                slot.result = (False, f"{type(exc).__name__}: {redact(str(exc))}")
            slot.done.set()


class _Slot:
    def __init__(self, job: Job) -> None:
        self.job = job
        self.lock = threading.Lock()
        self.started = False
        self.skipped = False
        self.done = threading.Event()
        self.result: tuple[bool, str | None] = (False, "not sent")

    def outcome(self) -> Outcome:
        sent, error = self.result
        return Outcome(self.job.delivery_id, sent, None if sent else error)


def deliver(job: Job, base_dir: Path) -> tuple[bool, str | None]:
    """Send one message; (True, None), or (False, why) in words that name no secret."""
    try:
        url = read_url(job.ref, base_dir)
    except UrlProblemError as exc:
        return False, str(exc)
    import apprise

    _capture_apprise_logs()
    notifier = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
    if not notifier.add(url):
        scheme = scheme_of(url)
        return False, (
            f"{job.ref}: Apprise does not take this URL (scheme `{scheme}://`): see "
            "https://github.com/caronc/apprise/wiki for each service's URL"
        )
    service = notifier[0]
    markdown = wants_markdown(service, scheme_of(url))
    message = job.message
    _CAPTURED.lines = []
    ok = notifier.notify(
        body=message.markdown if markdown else message.text,
        title=message.title,
        body_format=apprise.NotifyFormat.MARKDOWN if markdown else apprise.NotifyFormat.TEXT,
        notify_type=apprise.NotifyType(message.severity),
    )
    if ok:
        return True, None
    said = "; ".join(_CAPTURED.lines[-2:]) or "the service refused the message"
    return False, redact(f"{job.ref}: {said}")


def wants_markdown(service: Any, scheme: str) -> bool:
    """Markdown for services that render it (Slack, Discord, Teams, Matrix...) or that
    Apprise turns into HTML (email); plain text for generic webhooks and text-only ones."""
    if scheme in PLAIN_TEXT_SCHEMES:
        return False
    formats = service.notify_format
    listed = formats if isinstance(formats, tuple | list) else (formats,)
    accepted = {str(getattr(f, "value", f)) for f in listed}
    return bool(accepted & {"markdown", "html"})


class _Captured(threading.local):
    lines: list[str]

    def __init__(self) -> None:
        self.lines = []


_CAPTURED = _Captured()
_capture_lock = threading.Lock()
_capturing = False


class _ToThread(logging.Handler):
    """Apprise's warnings, kept for the thread that sent (redacted), never printed."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _CAPTURED.lines.append(redact(record.getMessage()))
        except Exception:  # noqa: BLE001 - a log line must never fail a send
            return


def _capture_apprise_logs() -> None:
    global _capturing  # noqa: PLW0603 - attach the handler once per process
    with _capture_lock:
        if _capturing:
            return
        logger = logging.getLogger("apprise")
        logger.addHandler(_ToThread(level=logging.WARNING))
        logger.propagate = False
        _capturing = True
