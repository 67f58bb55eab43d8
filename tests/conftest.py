"""Every test runs in an isolated environment: temp home and data dirs, no real keys,
no colour, a fixed terminal width. Nothing here may reach beyond 127.0.0.1."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import netguard

# Real-server fixtures (llamacpp_server, litellm_server...) and the `netns` marker's skip.
pytest_plugins = ("tests.realservers", "tests.netns", "tests.pgserver")

# Nothing a test runs may reach beyond loopback: this process, and every modelaudit
# subprocess a test starts (through PYTHONPATH and the guard's log file), see tests/netguard.py.
_GUARD_LOG = Path(tempfile.mkdtemp(prefix="modelaudit-netguard-")) / "violations.log"
_GUARD_LOG.touch()
netguard.install()
os.environ[netguard.ENV] = str(_GUARD_LOG)
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (netguard.site_dir(), os.environ.get("PYTHONPATH")) if p
)


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[None]:
    """Fail the test if it, or a modelaudit process it started, tried to leave loopback."""
    seen_here = len(netguard.violations)
    seen_log = _GUARD_LOG.stat().st_size
    yield
    here = netguard.violations[seen_here:]
    with _GUARD_LOG.open(encoding="utf-8") as log:
        log.seek(seen_log)
        logged = log.read().splitlines()
    if here or logged:
        pytest.fail(f"the test tried to reach beyond loopback: {[*here, *logged]}")


# Variables a developer may have exported that must never reach a test. The suite's own
# switches (MODELAUDIT_REQUIRE_*, MODELAUDIT_SKIP_*, MODELAUDIT_TEST_*) are kept.
_SCRUBBED_PREFIXES = ("MODELAUDIT_",)
_KEPT_PREFIXES = ("MODELAUDIT_REQUIRE_", "MODELAUDIT_SKIP_", "MODELAUDIT_TEST_")
# `_BASE_URL` and `_ENDPOINT`: the vendor table's base-URL overrides (OPENAI_BASE_URL...)
# would point `init`/`discover --from-env` at a developer's proxy.
_SCRUBBED_SUFFIXES = ("_API_KEY", "_TOKEN", "_BASE_URL", "_ENDPOINT")
CLOSED_METADATA = "127.0.0.1:1"
"""Where Google's metadata server is looked for in tests: a loopback port nothing serves."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="Rewrite golden files from the current output instead of comparing with them.",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(_KEPT_PREFIXES):
            continue
        if name.startswith(_SCRUBBED_PREFIXES) or name.endswith(_SCRUBBED_SUFFIXES):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TERM", "dumb")
    # Proxies would route loopback test traffic elsewhere.
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    # `init` looks for servers on the engines' default loopback ports, which another
    # process on this machine may own: a test names the ports it means (its fakes').
    monkeypatch.setenv("MODELAUDIT_LOCAL_PORTS", "none")
    # botocore's credential chain reads AWS_* variables and ~/.aws, and would ask the
    # instance metadata address when nothing else answers: none of it is the developer's.
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    # Google's credential chain (the vertex family) never finds a developer's credentials
    # and never reaches the metadata server: its address is a closed loopback port.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-adc.json"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("GCE_METADATA_HOST", CLOSED_METADATA)
    monkeypatch.setenv("GCE_METADATA_IP", CLOSED_METADATA)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work
