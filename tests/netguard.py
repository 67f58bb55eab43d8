"""A guard that fails any test that tries to reach beyond loopback.

A fake server that fails to start, or a registry a test wrote without a `control:` section,
would otherwise make modelaudit consult its default public control URLs, or a provider's real
host, from a test. An audit hook (`sys.addaudithook`) sees every `socket.connect` and
`socket.getaddrinfo` in this process; `tests/netguard_site/sitecustomize.py` installs the same
hook in every `modelaudit` subprocess a test starts. A connection to, or a name resolution of,
anything but loopback (127.0.0.0/8, ::1, `localhost`) or a Unix socket is refused and recorded,
and `tests/conftest.py` fails the test that made it, even if the code under test swallowed the
refusal as a connection failure.

Tests that run inside a network namespace with no network (`tests/netns.py`) cannot reach
anything anyway; they turn the guard off for the process in the namespace.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading

ENV = "MODELAUDIT_TEST_NETGUARD"
"""Names the log file a guarded subprocess appends its violations to."""
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})

violations: list[str] = []
_lock = threading.Lock()
_log_path: str | None = None
_installed = False


class NetworkGuardError(PermissionError):
    """Raised where a test tried to leave loopback."""


def is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0].lower()
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _violation(what: str) -> None:
    with _lock:
        violations.append(what)
        if _log_path:
            with open(_log_path, "a", encoding="utf-8") as log:
                log.write(what + "\n")
    raise NetworkGuardError(f"test network guard: {what} (tests stay on 127.0.0.1)")


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event == "socket.connect":
        sock, address = args
        family = getattr(sock, "family", None)
        inet = family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple)
        if inet and not is_loopback(address[0]):
            _violation(f"connect to {address[0]}:{address[1]}")
    elif event == "socket.getaddrinfo":
        host = args[0]
        if host is not None and not is_loopback(host):
            _violation(f"resolve {host!r}")


def install(log_path: str | None = None) -> None:
    """Guard this process (once); with `log_path`, violations are appended there too."""
    global _installed, _log_path  # noqa: PLW0603 - one process-wide hook
    _log_path = log_path
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True


def site_dir() -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "netguard_site")
