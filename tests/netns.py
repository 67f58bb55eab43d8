"""Run a command with no network at all: inside a fresh network namespace (`unshare -n`).

In a new namespace there are no interfaces but `lo`, and `lo` is down: a TCP connect, even to
127.0.0.1, fails at once ("Network is unreachable") and DNS fails at once. That is how a test
shows what modelaudit does on a machine that cannot reach anything.

    @pytest.mark.netns
    def test_offline() -> None:
        result = run_offline([sys.executable, "-m", "modelaudit", "run", ...])
        assert result.returncode == 3

`unshare -n` needs root (or a user namespace); tests marked `netns` are skipped with the
reason when it is not permitted. `run_offline(..., loopback=True)` brings `lo` up first (with
`ip`), for a loopback fake inside the namespace.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pytest

__all__ = ["OfflineResult", "netns_unavailable_reason", "run_offline"]

GUARD = "MODELAUDIT_TEST_NETGUARD"

DEFAULT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class OfflineResult:
    returncode: int
    stdout: str
    stderr: str


@functools.cache
def netns_unavailable_reason() -> str | None:
    """None when `unshare -n` works here; otherwise why not."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return "`unshare` (util-linux) is not installed"
    try:
        probe = subprocess.run(
            [unshare, "-n", "true"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"`unshare -n` could not run: {exc}"
    if probe.returncode != 0:
        who = "root" if os.geteuid() == 0 else f"uid {os.geteuid()} (not root)"
        return (
            f"`unshare -n` is not permitted for {who}: {probe.stderr.strip() or probe.returncode}"
        )
    return None


def run_offline(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    loopback: bool = False,
    input_text: str | None = None,
) -> OfflineResult:
    """Run `argv` in a new network namespace and capture its exit code and output.

    Raises RuntimeError when namespaces are not available (use the `netns` marker to skip),
    and subprocess.TimeoutExpired after `timeout` seconds."""
    reason = netns_unavailable_reason()
    if reason is not None:
        raise RuntimeError(reason)
    unshare = shutil.which("unshare")
    assert unshare is not None
    command: list[str] = [unshare, "-n", "--"]
    if loopback:
        ip = shutil.which("ip")
        if ip is None:
            raise RuntimeError("`ip` (iproute2) is needed to bring lo up")
        command += ["/bin/sh", "-c", f'{ip} link set lo up && exec "$@"', "sh"]
    command += list(argv)
    # Nothing can leave the namespace: the loopback guard of the suite (tests/netguard.py)
    # would only flag the public control targets an offline run is meant to try.
    unguarded = {k: v for k, v in (os.environ if env is None else env).items() if k != GUARD}
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=unguarded,
        cwd=cwd,
        input=input_text,
        check=False,
    )
    return OfflineResult(done.returncode, done.stdout, done.stderr)


# --- pytest plugin --------------------------------------------------------------------------


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("netns") is None:
        return
    reason = netns_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("MODELAUDIT_REQUIRE_NETNS"):  # CI: the offline path must be tested
        pytest.fail(f"needs a network namespace, and MODELAUDIT_REQUIRE_NETNS is set: {reason}")
    pytest.skip(f"needs a network namespace: {reason}")
