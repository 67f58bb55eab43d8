"""Real receivers on 127.0.0.1 for Apprise's own URL schemes: an HTTP server for the
generic webhooks (`json://`, `form://`) and an SMTP server (aiosmtpd) for `mailto://`."""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tests.helpers import free_port


@dataclass
class Received:
    path: str
    content_type: str
    body: bytes

    def fields(self) -> dict[str, Any]:
        """The JSON document, or the form's fields."""
        if self.content_type.startswith("application/json"):
            parsed: dict[str, Any] = json.loads(self.body)
            return parsed
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class WebhookReceiver:
    """Records each POST; `status` is what it answers, `hang_s` how long it waits first."""

    status: int = 200
    hang_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def url(self, scheme: str = "json", path: str = "/hook") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def messages(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.fields() for r in self.received]

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            found = self.messages()
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} message(s), got {self.messages()}")


@contextmanager
def webhook_receiver(status: int = 200) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(status=status)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if receiver.hang_s:
                time.sleep(receiver.hang_s)
            if receiver.status < 300:
                with receiver.lock:
                    receiver.received.append(
                        Received(self.path, self.headers.get("content-type", ""), body)
                    )
            self.send_response(receiver.status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    port: int
    messages: list[email.message.EmailMessage] = field(default_factory=list)

    def url(self) -> str:
        return (
            f"mailto://127.0.0.1:{self.port}?smtp=127.0.0.1&from=alerts@example.test"
            "&to=oncall@example.test"
        )

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[email.message.EmailMessage]:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if len(self.messages) >= count:
                return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} mail(s), got {len(self.messages)}")


@contextmanager
def smtp_receiver() -> Iterator[Mailbox]:
    """aiosmtpd's SMTP server on a free loopback port."""
    from aiosmtpd.controller import Controller

    box = Mailbox(port=free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(parsed, email.message.EmailMessage)
            box.messages.append(parsed)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


Check = Callable[[], None]
