"""Dead-man's-switch pings, healthchecks.io style: `URL/start` when a run begins, `URL`
when it ends with exit code 0, `URL/fail` otherwise, each with a one-line summary as the
body. The service alerts when the pings stop, which is how a scheduled job that silently
stopped running gets noticed.

A ping that fails is a warning, never a failed run. The URL identifies the check (anyone
holding it can ping), so messages name only its host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from modelaudit.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

TIMEOUT_S = 10.0
MAX_BODY = 10_000


def check_url(url: str) -> str:
    """The URL without a trailing slash; a usage error unless it is http(s)://host/... with
    a host that can be resolved and a port that exists. The message never quotes the URL
    (its path identifies the check)."""
    from modelaudit.registry.sendable import url_problem

    try:
        scheme = urlsplit(url).scheme
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https"):
        raise UsageError(f"--ping-url must be an http:// or https:// URL, not `{scheme}:`")
    problem = url_problem(url, credentials=True)
    if problem is not None:
        raise UsageError(f"--ping-url: {problem.replace(url, 'the URL')}")
    return url.rstrip("/")


class Pinger:
    def __init__(self, url: str, warn: Callable[[str], None]) -> None:
        self.url = check_url(url)
        self.warn = warn

    def start(self) -> None:
        self._send("/start", "")

    def finish(self, exit_code: int, summary: str) -> None:
        self._send("" if exit_code == 0 else "/fail", summary)

    def _send(self, suffix: str, body: str) -> None:
        import httpx

        from modelaudit.outgoing import safe_text

        try:
            response = httpx.post(
                self.url + suffix,
                content=safe_text(body)[:MAX_BODY].encode(),
                timeout=TIMEOUT_S,
                headers={"user-agent": "modelaudit"},
            )
        except httpx.HTTPError as exc:
            self.warn(f"could not ping {self._host()}: {type(exc).__name__}")
            return
        if response.status_code >= 400:
            self.warn(f"pinging {self._host()} answered {response.status_code}")

    def _host(self) -> str:
        """The scheme, host and port: never the path (it is the check's secret) nor a
        user:password@."""
        parts = urlsplit(self.url)
        host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
        port = f":{parts.port}" if _port(parts.netloc) else ""
        return f"{parts.scheme}://{host or '?'}{port}"


def _port(netloc: str) -> bool:
    """Whether the authority names a valid port (urlsplit raises on a bad one)."""
    try:
        return urlsplit(f"//{netloc}").port is not None
    except ValueError:
        return False
