"""A key set in the environment never comes out of `modelaudit probe`: not in stdout, stderr,
the JSON document, the jsonl lines or the table, whatever the server does, including echo
the key back in an error, a body or a broken stream event.

Each family fake answers with every error of its library and each way a reply can go wrong;
the run goes through the real CLI (in-process for speed, once as a subprocess). Every test
uses its own canary, so a key registered with the redactor by an earlier test cannot make a
later one pass. Vendor-shaped canaries would also be caught by the redactor's key shapes; the
`canary-...` ones (a self-hosted server's or a gateway's key has no vendor shape) are masked
only because they were registered when read.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme

from modelaudit.redact import MASK
from tests.e2e.cli import run_probe
from tests.fakes import (
    ALL_FAMILY_FAKES,
    Behaviour,
    FakeAnthropic,
    FakeAzure,
    FakeGemini,
    FakeLiteLLM,
    FakeLlamaCpp,
    FakeOllama,
    FakeOpenAI,
    FakeVLLM,
    FamilyFake,
    Reply,
    Request,
)
from tests.fakes.http import FakeServer, closed_port, redirect
from tests.helpers import CliRun, run_cli
from tests.probe.runs import provider, write_fast_registry

SELF_HOSTED = (FakeLlamaCpp, FakeVLLM, FakeOllama)
SERVER_ENGINE = {FakeLlamaCpp: "llamacpp", FakeVLLM: "vllm", FakeOllama: "ollama"}
KEY_HEADERS = ("authorization", "x-api-key", "api-key", "x-goog-api-key")
STREAM_MODES = frozenset(
    {"stream-error", "cut", "cut-abrupt", "malformed", "echo-in-event", "echo-in-error-event"}
)
ECHO_PAD = 50
"""Where an echoed key starts in a body: across the cut of any short excerpt of it."""

FAST = {
    "timeouts": {
        "connect_s": 1,
        "first_byte_s": 0.4,
        "first_token_s": 0.4,
        "stall_s": 0.25,
        "total_s": 1,
    },
    # every failure once: a retry goes through the same code as the first attempt
    "retry": {"attempts": 1},
    "budget": {"max_requests": 5000, "max_output_tokens": 500000},
    "kinds": ["catalog", "completion", "stream"],
}


def canary(label: str, shape: str = "plain") -> str:
    """A key unique to `label`: vendor-shaped, or shaped like nothing (`canary-<hex>`)."""
    digest = hashlib.sha256(label.encode()).hexdigest()
    prefix = {
        "plain": "canary-",
        "openai": "sk-proj-CANARY",
        "anthropic": "sk-ant-api03-CANARY",
        "gemini": "AIzaSyCANARY",
    }[shape]
    return prefix + (digest[:12] if shape == "plain" else digest[:28])


def fragments(secret: str, size: int = 10) -> set[str]:
    """Every `size`-character piece of the key: a key cut in half by a truncation before
    redaction is still a leak."""
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def assert_secret_absent(secret: str, *texts: str) -> None:
    pieces = fragments(secret)
    for text in texts:
        leaks = [line for line in text.splitlines() if any(p in line for p in pieces)]
        assert not leaks, "the key, or a piece of it, is in:\n" + "\n".join(leaks[:5])


def received_key(request: Request) -> str:
    """The key a request carried, from whichever header its family uses."""
    for name in KEY_HEADERS[1:]:
        if name in request.headers:
            return request.headers[name]
    return request.headers.get("authorization", "").removeprefix("Bearer ").strip()


def wants_stream(request: Request) -> bool:
    if request.path.endswith(":streamGenerateContent"):
        return True
    try:
        body = request.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    return body.get("stream") is True


# --- servers that echo the key -----------------------------------------------------------------


@dataclass
class Echoes:
    """Replies that carry the key the request came with, counted so a test can check the
    server really did echo it (otherwise the test proves nothing)."""

    fake: FamilyFake
    sent: list[str] = field(default_factory=list)

    def _echo(self, request: Request) -> str:
        key = received_key(request)
        self.sent.append(key)
        return key

    def in_error(self, request: Request) -> Reply:
        """The family's 401 whose message quotes the key in full."""
        return self.fake.error_reply(
            "auth_failed", message=f"Incorrect API key provided: {self._echo(request)}."
        )

    def in_body(self, request: Request) -> Reply:
        """A 200 that is not the API's JSON, with the key past the start of the body."""
        text = "x" * ECHO_PAD + self._echo(request) + " <- your key"
        return Reply(status=200, headers={"content-type": "text/plain"}, body=text.encode())

    def in_event(self, request: Request) -> Reply:
        """A stream whose first event is not JSON and carries the key past its start."""
        if not wants_stream(request):
            return self.in_body(request)
        junk = "x" * (ECHO_PAD + 20) + self._echo(request) + " <- your key"
        frame = f"{junk}\n" if isinstance(self.fake, FakeOllama) else f"data: {junk}\n\n"
        return _stream_reply(self.fake, frame)

    def in_error_event(self, request: Request) -> Reply:
        """A 200 stream carrying an error event whose message quotes the key."""
        if not wants_stream(request):
            return self.in_error(request)
        message = f"upstream rejected key {self._echo(request)}"
        if isinstance(self.fake, FakeOllama):
            return _stream_reply(self.fake, json.dumps({"error": message}) + "\n")
        event = {"error": {"message": message, "type": "server_error", "code": "upstream"}}
        return _stream_reply(self.fake, f"data: {json.dumps(event)}\n\n")


def _stream_reply(fake: FamilyFake, frame: str) -> Reply:
    content_type = "application/x-ndjson" if isinstance(fake, FakeOllama) else "text/event-stream"
    return Reply(status=200, headers={"content-type": content_type}, chunks=[(0.0, frame.encode())])


# --- one fake of each family, every error and every broken reply -------------------------------


def _key_shape(fake_class: type[FamilyFake]) -> str:
    if fake_class is FakeAnthropic:
        return "anthropic"
    if fake_class is FakeGemini:
        return "gemini"
    if fake_class in (FakeAzure, FakeLiteLLM, *SELF_HOSTED):
        return "plain"
    return "openai"


def _model_id(fake: FamilyFake, name: str) -> str:
    return f"{name}:latest" if isinstance(fake, FakeOllama) else name


def _quoting(secret: str) -> str:
    """An error message with the key in it, past where a reason is cut (worded so that the
    error keeps its own class: words like "invalid api key" make any status auth_failed)."""
    return f"{'x' * 150} upstream said: request with {secret} not served"


def _behaviours(fake: FamilyFake, echoes: Echoes, secret: str) -> dict[str, Behaviour]:
    scripted = {
        f"lib-{name}": Behaviour.error(name, message=_quoting(secret))
        for name in sorted(fake.library)
    }
    scripted |= {
        "html": Behaviour.html(),
        "echo-in-error": Behaviour.raw(echoes.in_error),
        "echo-in-body": Behaviour.raw(echoes.in_body),
        # what only a stream can do wrong (STREAM_MODES)
        "stream-error": Behaviour.stream_error("server_error"),
        "cut": Behaviour.cut(),
        "cut-abrupt": Behaviour.cut(abrupt=True),
        "malformed": Behaviour.malformed(),
        "echo-in-event": Behaviour.raw(echoes.in_event),
        "echo-in-error-event": Behaviour.raw(echoes.in_error_event),
    }
    return {_model_id(fake, name): b for name, b in scripted.items()}


def _serve(fake: FamilyFake, behaviours: dict[str, Behaviour], echoes: Echoes) -> list[str]:
    for model_id, behaviour in behaviours.items():
        fake.add_model(model_id)
        fake.behave(model_id, behaviour)
    if isinstance(fake, FakeAzure):
        fake.deployments.update(dict.fromkeys(behaviours, "gpt-4o"))
    # the model list: a 200 that is not a list (retried), then a 401 quoting the key
    fake.behave_catalog([Behaviour.raw(echoes.in_body), Behaviour.raw(echoes.in_error)])
    return list(behaviours)


def _entry(
    fake: FamilyFake, models: list[str], *, name: str = "p", env: str = "CANARY_API_KEY"
) -> dict[str, Any]:
    extra: dict[str, Any] = {"limits": {"concurrency": 32}}
    if isinstance(fake, FakeAzure):
        extra["api_version"] = "2024-10-21"
    if isinstance(fake, FakeGemini):
        extra["api_version"] = "v1beta"
    engine = next((e for c, e in SERVER_ENGINE.items() if isinstance(fake, c)), None)
    if engine is not None:
        extra["server"] = engine
    hosting = "self-hosted" if engine is not None else "vendor"
    return provider(name, fake.family, fake.base_url, models, key_env=env, hosting=hosting, **extra)


@pytest.fixture
def online() -> Iterator[str]:
    """A control URL that answers: the network works, failures are the servers'."""
    with FakeServer() as server:
        server.route("GET", "/", Reply(status=204))
        yield server.url + "/"


def probe(capsys: pytest.CaptureFixture[str], output_format: str, *args: str) -> CliRun:
    return run_cli(["probe", "-f", output_format, *args], capsys)


def assert_clean(output: CliRun, secret: str) -> None:
    assert output.code in (0, 3), output
    assert "internal error" not in output.err, output.err
    assert_secret_absent(secret, output.out, output.err)


def test_no_error_or_broken_reply_of_any_family_shows_the_key(
    isolated_env: Path,
    online: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # One provider per family fake, each with its own key, all in one run (fast).
    secrets: dict[str, str] = {}
    echoes: dict[str, Echoes] = {}
    entries = []
    with ExitStack() as stack:
        for fake_class in ALL_FAMILY_FAKES:
            name = fake_class.__name__.lower()
            secrets[name] = canary(fake_class.__name__, _key_shape(fake_class))
            monkeypatch.setenv(f"{name.upper()}_KEY", secrets[name])
            fake = stack.enter_context(fake_class(key=secrets[name]))
            echoes[name] = Echoes(fake)
            models = _serve(fake, _behaviours(fake, echoes[name], secrets[name]), echoes[name])
            entries.append(_entry(fake, models, name=name, env=f"{name.upper()}_KEY"))
        write_fast_registry(isolated_env, entries, control_url=online, **FAST)
        streamed = [
            f"--model={entry['name']}/{model['id']}"
            for entry in entries
            for model in entry["models"]
            if model["id"].removesuffix(":latest") in STREAM_MODES
        ]

        # an error reply is read the same way whatever asked for it: streams only where
        # the stream itself breaks (fewer requests, a faster test)
        outputs = [
            probe(capsys, "json", "--kind", "catalog", "--kind", "completion"),
            probe(capsys, "json", "--kind", "stream", *streamed),
        ]

    document = json.loads(outputs[0].out)
    assert len(document["verdicts"]) == sum(len(e["models"]) for e in entries)
    assert len(json.loads(outputs[1].out)["verdicts"]) == len(streamed)
    assert all(output.out.count(MASK) > len(entries) for output in outputs)
    for name, secret in secrets.items():
        assert secret in echoes[name].sent, name  # the server really sent the key back
        for output in outputs:
            assert_clean(output, secret)


def test_every_output_format_hides_the_key(
    isolated_env: Path,
    online: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = canary("every output format")
    monkeypatch.setenv("CANARY_API_KEY", secret)
    with FakeLlamaCpp(key=secret) as fake:
        echoes = Echoes(fake)
        models = _serve(fake, _behaviours(fake, echoes, secret), echoes)
        write_fast_registry(isolated_env, [_entry(fake, models)], control_url=online, **FAST)

        outputs = {f: probe(capsys, f) for f in ("json", "jsonl", "table")}

    for output in outputs.values():
        assert_clean(output, secret)
    lines = [json.loads(line) for line in outputs["jsonl"].out.splitlines()]
    assert [line["type"] for line in lines[-2:]] == ["verdict", "run"]
    assert "Incorrect API key provided: [REDACTED]" in outputs["table"].out


def test_no_vertex_error_or_broken_reply_shows_its_token_or_service_account_key(
    isolated_env: Path,
    online: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Vertex's credential is a token traded for a service account's signed assertion: the
    # token the server echoes, and the account's private key, must both stay out.
    from tests.fakes.vertex import FakeVertex, GoogleTokenServer, new_key, service_account_file

    email = "canary@probe-project.iam.gserviceaccount.com"
    key = new_key()
    token = canary("vertex token") + "-1"
    with GoogleTokenServer(
        accounts={email: key.public_key()}, prefix=token.removesuffix("1")
    ) as tokens:
        account = service_account_file(tmp_path / "sa.json", key, tokens.url, client_email=email)
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(account))
        monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "probe-project")
        with FakeVertex(tokens=tokens) as fake:
            echoes = Echoes(fake)
            models = _serve(fake, _behaviours(fake, echoes, token), echoes)
            entry = {
                "name": "vertex",
                "api": "vertex",
                "base_url": fake.url,
                "project": "env:GOOGLE_CLOUD_PROJECT",
                "location": fake.location,
                "credentials": {"chain": "default"},
                "hosting": "third-party",
                "jurisdiction": "US",
                "limits": {"concurrency": 32},
                "models": [{"id": m, "weights": "closed"} for m in models],
            }
            write_fast_registry(isolated_env, [entry], control_url=online, **FAST)
            streamed = [f"--model=vertex/{m}" for m in models if m in STREAM_MODES]
            outputs = [
                probe(capsys, "json", "--kind", "completion"),
                probe(capsys, "json", "--kind", "stream", *streamed),
            ]

    assert tokens.issued[0] == token
    assert token in echoes.sent  # the server really sent the token back
    private_key = json.loads(account.read_text())["private_key"]
    for output in outputs:
        assert_clean(output, token)
        for line in private_key.splitlines()[1:-1]:
            assert line not in output.out + output.err


# --- transport failures: the key stays secret and stays home --------------------------------------


def test_transport_failures_never_show_the_key_nor_carry_it_to_another_host(
    isolated_env: Path,
    online: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = canary("transport")
    monkeypatch.setenv("CANARY_API_KEY", secret)
    with ExitStack() as stack:
        elsewhere = stack.enter_context(FakeServer())
        fake = stack.enter_context(FakeOpenAI(key=secret))
        untrusted = stack.enter_context(FakeOpenAI(key=secret, tls=trustme.CA()))
        refused = stack.enter_context(closed_port())
        elsewhere_host = elsewhere.url.removeprefix("http://")

        def redirect_with_the_key(request: Request) -> Reply:
            key = received_key(request)
            return redirect(f"http://user:{key}@{elsewhere_host}/v1/chat/completions?key={key}")

        behaviours = {
            "slow-headers": Behaviour.slow_headers(3.0),
            "trickle": Behaviour.trickling(1, 0.05),
            "stall": Behaviour.stall(after=1, seconds=3.0),
            "reset": Behaviour.reset(),
            "reset-mid-stream": Behaviour.reset(after=1),
            "redirect": Behaviour.redirect(elsewhere),
            "redirect-with-the-key": Behaviour.raw(redirect_with_the_key),
        }
        for model_id, behaviour in behaviours.items():
            fake.add_model(model_id)
            fake.behave(model_id, behaviour)
        entries = [
            _entry(fake, list(behaviours)),
            _entry(untrusted, ["gpt-4o"], name="self-signed"),
            provider(
                "refused", "openai", refused.url + "/v1", ["gpt-4o"], key_env="CANARY_API_KEY"
            ),
        ]
        write_fast_registry(isolated_env, entries, control_url=online, **FAST)

        output = probe(capsys, "json")
        reached_elsewhere = list(elsewhere.requests)
        reached_untrusted = list(untrusted.requests)

    assert_clean(output, secret)
    for request in reached_elsewhere:  # httpx never follows: nothing should arrive at all
        assert not set(KEY_HEADERS) & set(request.headers), request.headers
        assert secret not in json.dumps(request.headers)
    assert reached_untrusted == []  # the handshake failed before any header was sent
    document = json.loads(output.out)
    classes = {(r["provider"], r["model"]): r["error_class"] for r in document["results"]}
    assert classes[("p", "redirect")] == "protocol_error"
    assert classes[("p", "redirect-with-the-key")] == "protocol_error"
    assert classes[("p", "slow-headers")] == "timeout"
    assert classes[("self-signed", "gpt-4o")] == "tls_failed"
    assert classes[("refused", "gpt-4o")] == "connect_failed"


# --- the real command, in a subprocess ------------------------------------------------------------


def test_a_subprocess_run_shows_no_key(isolated_env: Path, online: str) -> None:
    vendor_secret = canary("subprocess vendor", "openai")
    plain_secret = canary("subprocess gateway")
    env = {"VENDOR_API_KEY": vendor_secret, "GATEWAY_API_KEY": plain_secret}
    with FakeOpenAI(key=vendor_secret) as vendor, FakeLiteLLM(key=plain_secret) as gateway:
        entries = []
        for fake, name, variable in (
            (vendor, "vendor", "VENDOR_API_KEY"),
            (gateway, "gateway", "GATEWAY_API_KEY"),
        ):
            echoes = Echoes(fake)
            secret = env[variable]
            models = _serve(fake, _behaviours(fake, echoes, secret), echoes)
            entries.append(_entry(fake, models, name=name, env=variable))
        registry = write_fast_registry(isolated_env, entries, control_url=online, **FAST)

        done = run_probe(registry, "-f", "jsonl", env={**os.environ, **env}, timeout=120)

    assert done.returncode in (0, 3), done
    assert "Traceback" not in done.stderr
    for secret in env.values():
        assert_secret_absent(secret, done.stdout, done.stderr)
    assert MASK in done.stdout


# --- a signing family: Bedrock's secret and session token ------------------------------------


def test_no_error_or_broken_reply_of_bedrock_shows_its_secret_or_session_token(
    isolated_env: Path,
    online: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The secret access key never leaves (only a signature made with it does); the session
    token goes in `x-amz-security-token`, and this server quotes it back everywhere."""
    from tests.fakes.bedrock import FakeBedrock, exception_message

    secret, token = canary("bedrock-secret"), canary("bedrock-session-token")
    monkeypatch.setenv("CANARY_AWS_KEY_ID", "AKIACANARY0000000001")
    monkeypatch.setenv("CANARY_AWS_SECRET", secret)
    monkeypatch.setenv("CANARY_AWS_TOKEN", token)

    def quoting(request: Request) -> str:
        return _quoting(request.headers.get("x-amz-security-token", "none"))

    def in_exception(request: Request) -> Reply:
        echoed = request.headers.get("x-amz-security-token", "none")
        frame = exception_message("throttlingException", f"rejected token {echoed}")
        headers = {"content-type": "application/vnd.amazon.eventstream"}
        return Reply(status=200, headers=headers, chunks=[(0.0, frame)])

    with FakeBedrock(keys={"AKIACANARY0000000001": secret}, session_token=token) as fake:
        behaviours = {
            f"lib.{name}-v1:0": Behaviour.raw(
                lambda r, n=name: fake.error_reply(n, message=quoting(r))
            )
            for name in sorted(fake.library)
        }
        behaviours |= {
            "echo.in-exception-v1:0": Behaviour.raw(in_exception),
            "echo.cut-v1:0": Behaviour.cut(),
            "echo.malformed-v1:0": Behaviour.malformed(),
        }
        models = _serve_plain(fake, behaviours)
        parts = {
            "access_key_id": "env:CANARY_AWS_KEY_ID",
            "secret_access_key": "env:CANARY_AWS_SECRET",
            "session_token": "env:CANARY_AWS_TOKEN",
        }
        entry = provider(
            "bedrock", "bedrock", fake.base_url, models, region="us-east-1",
            credentials={"parts": parts}, limits={"concurrency": 32},
        )  # fmt: skip
        write_fast_registry(isolated_env, [entry], control_url=online, **FAST)
        outputs = [probe(capsys, output_format) for output_format in ("json", "table", "jsonl")]

    assert fake.rejected == []  # every request was signed right, with the token
    assert all(token in r.headers.get("x-amz-security-token", "") for r in fake.verified)
    for output in outputs:
        assert_clean(output, secret)
        assert_clean(output, token)
    assert MASK in outputs[0].out  # the server did quote the token, and it was masked


def _serve_plain(fake: FamilyFake, behaviours: dict[str, Behaviour]) -> list[str]:
    for model_id, behaviour in behaviours.items():
        fake.add_model(model_id)
        fake.behave(model_id, behaviour)
    return list(behaviours)
