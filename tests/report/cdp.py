"""Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
JSON messages separated by NUL bytes, Chromium reading on fd 3 and writing on fd 4), so a
test can set the viewport, open a page and read its layout with `Runtime.evaluate` (which
the page's Content-Security-Policy does not govern). No WebSocket client or port needed.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

TIMEOUT_S = 60.0
_CHILD = "import os, sys; os.dup2({r}, 3); os.dup2({w}, 4); os.execv(sys.argv[1], sys.argv[1:])"
"""Put the pipe ends on fds 3 and 4 and become Chromium (no preexec_fn: the test process
may have threads)."""


class DevToolsError(RuntimeError):
    pass


class Browser:
    def __init__(self, binary: str, profile: Path, *flags: str) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        child = _CHILD.format(r=to_browser_r, w=from_browser_w)
        profile.mkdir(parents=True, exist_ok=True)
        log = (profile / "chromium.log").open("wb")  # Chromium's chatter: never a device node
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                child,
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                # Nothing may be resolved, let alone fetched: the page must stand alone.
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                *flags,
                "about:blank",
            ],
            pass_fds=(to_browser_r, from_browser_w),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        log.close()
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.send("Browser.close")
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(timeout=10)
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        return self._next_id

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str = ""
    ) -> dict[str, Any]:
        wanted = self.send(method, params, session)
        reply = self._until(lambda m: m.get("id") == wanted, f"the reply to {method}")
        if "error" in reply:
            raise DevToolsError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    def wait_event(self, name: str, session: str) -> dict[str, Any]:
        for index, event in enumerate(self.events):
            if event.get("method") == name and event.get("sessionId") == session:
                return self.events.pop(index)
        found = self._until(
            lambda m: m.get("method") == name and m.get("sessionId") == session, name
        )
        self.events.remove(found)
        return found

    def _until(self, matches: Any, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message: dict[str, Any] = json.loads(raw)
                if "method" in message:
                    self.events.append(message)
                if matches(message):
                    return message
            left = deadline - time.monotonic()
            if left <= 0:
                raise DevToolsError(f"no {what} from Chromium within {TIMEOUT_S:g} s")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 16)
                if not chunk:
                    raise DevToolsError(f"Chromium closed the pipe while waiting for {what}")
                self._buffer += chunk


class Page:
    """One tab, with the viewport set before the page loads."""

    def __init__(self, browser: Browser, width: int, height: int) -> None:
        self.browser = browser
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self.session: str = attached["sessionId"]
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.call(method, params, self.session)

    def open(self, url: str) -> None:
        self.call("Page.navigate", {"url": url})
        self.browser.wait_event("Page.loadEventFired", self.session)

    def evaluate(self, expression: str) -> Any:
        found = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in found:
            raise DevToolsError(f"the page's script failed: {found['exceptionDetails']}")
        return found["result"].get("value")

    def screenshot(self) -> bytes:
        shot = self.call("Page.captureScreenshot", {"format": "png"})
        return base64.b64decode(shot["data"])

    def console(self) -> list[str]:
        """What the page logged: console calls and the browser's own entries (a blocked
        resource, a Content-Security-Policy violation)."""
        said = []
        for event in self.browser.events:
            if event.get("sessionId") != self.session:
                continue
            if event.get("method") == "Log.entryAdded":
                said.append(event["params"]["entry"]["text"])
            elif event.get("method") == "Runtime.consoleAPICalled":
                said.append(" ".join(str(a.get("value")) for a in event["params"]["args"]))
        return said
