"""Loaded by the subprocesses of the alert tests (PYTHONPATH): a name lookup of anything
but this machine is refused and written to $MODELAUDIT_TEST_RESOLVE_LOG, so a test can
assert that Apprise never resolved a public host."""

import os
import socket

_LOG = os.environ.get("MODELAUDIT_TEST_RESOLVE_LOG", "")
_HERE = {"127.0.0.1", "::1", "localhost", socket.gethostname(), ""}
_original = socket.getaddrinfo


def _guarded(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and name not in _HERE and not str(name).startswith("127."):
        if _LOG:
            with open(_LOG, "a", encoding="utf-8") as log:
                log.write(f"{name}\n")
        raise socket.gaierror(socket.EAI_NONAME, "refused by the test: not this machine")
    return _original(host, *args, **kwargs)


socket.getaddrinfo = _guarded
