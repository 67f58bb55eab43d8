"""`watch --serve`: the latest report (HTML and JSON), `/metrics` and a shields.io endpoint
badge per pinned model, on one port, so a team can link "is our model still there" from a
README or a wiki.

Routes are a fixed table and nothing is read from the file system, so no path can reach
a file. At most `WORKERS` requests are served at once (one more is answered 503 at once),
each socket times out after `TIMEOUT_S` (a client that trickles its request is dropped),
and only GET and HEAD are served.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from modelaudit.output.markup import html, join
from modelaudit.vocabulary import Verdict

if TYPE_CHECKING:
    import socket
    from collections.abc import Callable

    from modelaudit.metrics.prometheus import MetricsState
    from modelaudit.registry.schema import Registry
    from modelaudit.store.base import Store

WORKERS = 8
TIMEOUT_S = 10.0
REPORT_SPAN_DAYS = 7
BADGE_PREFIX = "/badge/"
_COLORS = {
    Verdict.UP: "brightgreen",
    Verdict.DEGRADED: "yellow",
    Verdict.DOWN: "red",
    Verdict.GONE: "critical",
    Verdict.BLOCKED: "orange",
    Verdict.SKIPPED: "lightgrey",
    Verdict.INCONCLUSIVE: "lightgrey",
}


@dataclass
class Published:
    """What the server shows; replaced whole after each run (readers never see half)."""

    report_html: bytes | None = None
    report_json: bytes | None = None
    pinned: frozenset[tuple[str, str]] = frozenset()
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def refresh(self, registry: Registry, store: Store, warn: Callable[[str], None]) -> None:
        """Build the report of the last `REPORT_SPAN_DAYS` days from the store."""
        from datetime import UTC, datetime, timedelta

        from modelaudit.errors import StoreError
        from modelaudit.report.formats.base import ReportFormat
        from modelaudit.report.model import build_report
        from modelaudit.report.render import render

        pinned = frozenset((p.name, m.id) for p in registry.providers for m in p.models if m.pinned)
        try:
            built = build_report(
                registry,
                store.history(),
                now=datetime.now(UTC),
                span=timedelta(days=REPORT_SPAN_DAYS),
            )
        except StoreError as exc:
            warn(f"the served report was not refreshed: {exc.reason}")
            with self.lock:
                self.pinned = pinned
            return
        html = render(built, ReportFormat.HTML).encode()
        document = render(built, ReportFormat.JSON).encode()
        with self.lock:
            self.report_html, self.report_json, self.pinned = html, document, pinned


def badge(verdict: Verdict | None, model: str) -> dict[str, Any]:
    """A shields.io endpoint badge (https://shields.io/badges/endpoint-badge)."""
    return {
        "schemaVersion": 1,
        "label": model,
        "message": verdict.value if verdict else "not probed yet",
        "color": _COLORS[verdict] if verdict else "lightgrey",
        "cacheSeconds": 300,
    }


@dataclass
class Server:
    host: str
    port: int
    _server: http.server.HTTPServer

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def serve(published: Published, metrics: MetricsState, host: str, port: int) -> Server:
    """Serve from a background thread until `close()`."""
    handler = _handler(published, metrics)
    server = _BoundedServer((host, port), handler)
    threading.Thread(target=server.serve_forever, name="modelaudit-serve", daemon=True).start()
    return Server(host, int(server.server_address[1]), server)


class _BoundedServer(http.server.HTTPServer):
    """One daemon thread per request, at most WORKERS at once."""

    def __init__(self, address: tuple[str, int], handler: type[http.server.BaseHTTPRequestHandler]):
        import socket as sockets

        if ":" in address[0]:
            self.address_family = sockets.AF_INET6
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(WORKERS)

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client: Any
    ) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request)
            return
        threading.Thread(target=self._serve_one, args=(request, client), daemon=True).start()

    def _serve_one(self, request: Any, client: Any) -> None:
        try:
            self.finish_request(request, client)
        except Exception:  # noqa: BLE001, S110 - one bad request must not stop the server
            pass
        finally:
            self.shutdown_request(request)
            self._slots.release()

    def _refuse(self, request: Any) -> None:
        with contextlib.suppress(OSError):
            request.sendall(
                b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\n\r\n"
            )
        self.shutdown_request(request)


def _handler(
    published: Published, metrics: MetricsState
) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        timeout = TIMEOUT_S
        server_version = "modelaudit"
        sys_version = ""

        def do_GET(self) -> None:
            self._answer(body=True)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def _answer(self, *, body: bool) -> None:
            status, kind, content = _route(urlsplit(self.path).path, published, metrics)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if body:
                self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


_TEXT = "text/plain; charset=utf-8"
_JSON = "application/json"


def _route(path: str, published: Published, metrics: MetricsState) -> tuple[int, str, bytes]:
    if path in ("/", "/index.html"):
        links = join(
            html('<li><a href="{}">{}</a></li>', p, p)
            for p in ("/report.html", "/report.json", "/metrics")
        )
        page = html("<!doctype html><title>modelaudit</title><ul>{}</ul>", links)
        return 200, "text/html; charset=utf-8", page.encode()
    if path == "/metrics":
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        registry = CollectorRegistry(auto_describe=False)
        registry.register(metrics)
        return 200, CONTENT_TYPE_LATEST, generate_latest(registry)
    if path in ("/report.html", "/report.json"):
        with published.lock:
            content = published.report_html if path.endswith("html") else published.report_json
        if content is None:
            return 503, _TEXT, b"no report yet: the first run has not finished\n"
        kind = "text/html; charset=utf-8" if path.endswith("html") else _JSON
        return 200, kind, content
    if path.startswith(BADGE_PREFIX) and path.endswith(".json"):
        return _badge(unquote(path[len(BADGE_PREFIX) : -len(".json")]), published, metrics)
    return 404, _TEXT, b"not found\n"


def _badge(ref: str, published: Published, metrics: MetricsState) -> tuple[int, str, bytes]:
    provider, _, model = ref.partition("/")
    with published.lock:
        pinned = (provider, model) in published.pinned
    if not pinned:
        return 404, _TEXT, b"no pinned model by that name\n"
    with metrics.lock:
        verdict = metrics.verdicts.get((provider, model))
    return 200, _JSON, json.dumps(badge(verdict, model)).encode()
