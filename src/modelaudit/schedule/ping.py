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
    """The URL without a trailing slash; a usage error unless it is http(s)://host/..."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--ping-url must be an http:// or https:// URL, not `{parts.scheme}:`")
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

        from modelaudit.redact import redact

        try:
            response = httpx.post(
                self.url + suffix,
                content=redact(body)[:MAX_BODY].encode(),
                timeout=TIMEOUT_S,
                headers={"user-agent": "modelaudit"},
            )
        except httpx.HTTPError as exc:
            self.warn(f"could not ping {self._host()}: {type(exc).__name__}")
            return
        if response.status_code >= 400:
            self.warn(f"pinging {self._host()} answered {response.status_code}")

    def _host(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"
