"""Alerts delivered to real receivers on 127.0.0.1 through Apprise's own URL schemes
(`json://`, `form://` to an HTTP server, `mailto://` to aiosmtpd), by `modelaudit probe`
run as separate processes against a loopback OpenAI-compatible fake: thresholds,
recovery, de-duplication across processes, a receiver that is down (retried by the next
run), a receiver that hangs (the exit waits no longer than the send timeout), and a
canary key that never reaches a message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alerts.receivers import smtp_receiver, webhook_receiver
from tests.fakes import Behaviour, FakeOpenAI

CANARY = "sk-canary-alerts-ZZQ9x7Lm2Vb8Nq4Rt6Yw"
REGISTRY = """version: 1
providers:
  - name: acme
    api: openai
    base_url: {base_url}
    api_key: env:ACME_API_KEY
    hosting: self-hosted
    models:
      - id: main
        weights: open
        pinned: true
        fallbacks: [acme/spare]
      - id: spare
        weights: open
alerts:
  report_url: https://status.example.test/modelaudit.html
  send_timeout_s: {timeout}
  routes:
    oncall:
      urls: [env:HOOK_URL]
      events: [down, gone, blocked, recovered]
{extra}"""


class Setup:
    def __init__(self, tmp_path: Path, fake: FakeOpenAI, env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.fake = fake
        self.env = env
        self.registry = tmp_path / "providers.yaml"

    def write(self, timeout: float = 10, extra: str = "") -> None:
        self.registry.write_text(
            REGISTRY.format(base_url=self.fake.base_url, timeout=timeout, extra=extra)
        )

    def modelaudit(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "modelaudit", *args, "-c", str(self.registry)],
            capture_output=True,
            text=True,
            env={**self.env, **env},
            cwd=self.tmp_path,
            timeout=120,
            check=False,
        )

    def probe(self, **env: str) -> subprocess.CompletedProcess[str]:
        done = self.modelaudit("probe", "-f", "json", **env)
        assert done.returncode == 0, done.stderr
        return done


@pytest.fixture
def setup(tmp_path: Path, guarded_env: dict[str, str]) -> Iterator[Setup]:
    with FakeOpenAI(key=CANARY, models=["main", "spare"]) as fake:
        env = {
            **os.environ,
            **guarded_env,
            "ACME_API_KEY": CANARY,
            "MODELAUDIT_DB": str(tmp_path / "history.sqlite3"),
        }
        made = Setup(tmp_path, fake, env)
        made.write()
        yield made
    resolved = Path(guarded_env["MODELAUDIT_TEST_RESOLVE_LOG"]).read_text()
    assert resolved == "", f"a subprocess looked up a host beyond this machine: {resolved}"


def gone(fake: FakeOpenAI) -> None:
    """`main` withdrawn; the server's message echoes the key, as some servers do."""
    fake.behave(
        "main",
        Behaviour.error(
            "model_not_found", message=f"The model `main` does not exist (key {CANARY})"
        ),
    )
    fake.behave_catalog(Behaviour.ok())


def test_one_message_per_transition_across_separate_processes(setup: Setup) -> None:
    with webhook_receiver() as hook:
        url = hook.url("json")
        setup.probe(HOOK_URL=url)
        setup.fake.behave("main", Behaviour.error("model_not_found"))
        setup.probe(HOOK_URL=url)
        setup.probe(HOOK_URL=url)  # still gone: nothing new to say
        setup.fake.behave("main", Behaviour.ok())
        setup.probe(HOOK_URL=url)
        setup.probe(HOOK_URL=url)  # the second run up: recovered
        setup.probe(HOOK_URL=url)
        messages = hook.wait_for(2)
        assert [m["title"] for m in hook.messages()] == [
            "modelaudit: acme/main is gone",
            "modelaudit: acme/main is up again (was gone)",
        ]
    opened = messages[0]["message"]
    assert opened.startswith("acme/main is gone\nReason: ")
    assert "Pinned: yes" in opened
    assert "Healthy fallbacks answering now: acme/spare (up)" in opened
    assert "Report: https://status.example.test/modelaudit.html" in opened
    assert "**" not in opened  # a generic webhook gets plain text
    assert messages[0]["type"] == "failure"
    assert messages[1]["type"] == "success"


def test_down_needs_two_runs_and_a_message_never_carries_a_key(setup: Setup) -> None:
    with webhook_receiver() as hook:
        url = hook.url("form", "/form")
        setup.probe(HOOK_URL=url)
        setup.fake.behave("main", Behaviour.error("server_error", message=f"boom {CANARY}"))
        setup.probe(HOOK_URL=url)
        assert hook.messages() == []  # one blip pages nobody
        setup.probe(HOOK_URL=url)
        (message,) = hook.wait_for(1)
    assert message["title"] == "modelaudit: acme/main is down"
    body = json.dumps(message)
    assert CANARY not in body
    assert CANARY[:12] not in body
    assert "[REDACTED]" in message["message"]


def test_email_through_a_real_smtp_server_renders_the_markdown(setup: Setup) -> None:
    with smtp_receiver() as box:
        gone(setup.fake)
        setup.probe(HOOK_URL=box.url())
        (mail,) = box.wait_for(1)
    assert mail["Subject"] == "modelaudit: acme/main is gone"
    html = mail.get_body(("html",))
    assert html is not None
    assert "<code>acme/main</code>" in html.get_content()
    assert "<strong>Pinned:</strong>" in html.get_content()
    assert CANARY not in mail.as_string()


def test_a_receiver_that_is_down_gets_the_message_from_the_next_run(setup: Setup) -> None:
    with webhook_receiver(status=503) as hook:
        url = hook.url("json")
        gone(setup.fake)
        failed = setup.probe(HOOK_URL=url)
        assert "not sent" in failed.stderr
        assert "the next run retries it" in failed.stderr
        listed = setup.modelaudit("alerts", "list", "-f", "json", HOOK_URL=url)
        document = json.loads(listed.stdout)
        assert [(u["state"], u["attempts"]) for u in document["undelivered"]] == [("pending", 1)]
        assert [(o["route"], o["told"]) for o in document["open"]] == [("oncall", "gone")]
        hook.status = 200
        setup.probe(HOOK_URL=url)
        (message,) = hook.wait_for(1)
        setup.probe(HOOK_URL=url)
        assert len(hook.messages()) == 1  # sent once, never twice
    assert message["title"] == "modelaudit: acme/main is gone"
    listed = setup.modelaudit("alerts", "list", "-f", "json", HOOK_URL=url)
    assert json.loads(listed.stdout)["undelivered"] == []


def test_a_receiver_that_hangs_delays_the_exit_by_at_most_the_send_timeout(
    setup: Setup,
) -> None:
    setup.write(timeout=1)
    with webhook_receiver() as hook:
        url = hook.url("json")
        hook.hang_s = 30
        gone(setup.fake)
        started = time.monotonic()
        hung = setup.probe(HOOK_URL=url)
        hung_s = time.monotonic() - started
        assert "still sending after 1 s" in hung.stderr
        hook.hang_s = 0
        # The run that answers gets the default send timeout: on a loaded machine a 1 s
        # bound could give up on the very repeat this test waits for below.
        setup.write()
        started = time.monotonic()
        setup.probe(HOOK_URL=url)
        answered_s = time.monotonic() - started
        # The receiver would have held it 30 s; against the same run with a receiver that
        # answers (so a loaded machine slows both alike), the hang adds about the 1 s timeout.
        assert hung_s - answered_s < 15, (hung_s, answered_s)
        repeated = [m for m in hook.wait_for(1) if "Possibly a repeat" in m["message"]]
        assert [m["title"] for m in repeated] == ["modelaudit: acme/main is gone"]


def test_no_alerts_skips_them_and_leaves_nothing_pending(setup: Setup) -> None:
    with webhook_receiver() as hook:
        gone(setup.fake)
        done = setup.modelaudit("probe", "-f", "json", "--no-alerts", HOOK_URL=hook.url())
        assert done.returncode == 0
        listed = setup.modelaudit("alerts", "list", "-f", "json")
        assert json.loads(listed.stdout) == {"schema_version": 1, "open": [], "undelivered": []}
        assert hook.messages() == []


def test_alerts_test_sends_to_every_url_of_a_route_and_says_which_failed(setup: Setup) -> None:
    extra = "    backup:\n      urls: [env:BACKUP_URL]\n"
    setup.write(extra=extra)
    with webhook_receiver() as hook:
        done = setup.modelaudit("alerts", "test", HOOK_URL=hook.url(), BACKUP_URL="slak://x/y")
        assert done.returncode == 1
        assert "sent: oncall env:HOOK_URL" in done.stderr
        assert "not sent: backup env:BACKUP_URL" in done.stderr
        assert "scheme `slak://`" in done.stderr
        (message,) = hook.wait_for(1)
    assert message["title"] == "modelaudit: test message"
    only = setup.modelaudit("alerts", "test", "oncall", HOOK_URL="json://127.0.0.1:1/x")
    assert only.returncode == 1
    assert "backup" not in only.stderr
    unknown = setup.modelaudit("alerts", "test", "pager")
    assert unknown.returncode == 2
    assert "no route `pager`" in unknown.stderr
    unset = setup.modelaudit("alerts", "test", "oncall")
    assert "HOOK_URL is not set" in unset.stderr


def test_a_url_is_never_printed(setup: Setup) -> None:
    secret_url = "json://alerts:Pa55word-canary-9XQ@127.0.0.1:1/hook-Tok3nSecretValue"
    done = setup.modelaudit("alerts", "test", HOOK_URL=secret_url)
    assert done.returncode == 1
    for piece in ("Pa55word-canary-9XQ", "hook-Tok3nSecretValue", secret_url):
        assert piece not in done.stderr + done.stdout


@pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")
@pytest.mark.parametrize(
    ("url", "markdown"),
    [
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", True),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", True),
        ("mailto://127.0.0.1:25?smtp=127.0.0.1&from=a@example.test&to=b@example.test", True),
        ("json://127.0.0.1:1/hook", False),
        ("form://127.0.0.1:1/hook", False),
    ],
)
def test_markdown_where_the_service_renders_it_plain_text_elsewhere(
    url: str, markdown: bool
) -> None:
    import apprise

    from modelaudit.alerts.send import scheme_of, wants_markdown

    service = apprise.Apprise.instantiate(url)
    assert service is not None
    assert wants_markdown(service, scheme_of(url)) is markdown


def test_watch_evaluates_alerts_after_each_run(setup: Setup) -> None:
    with webhook_receiver() as hook:
        gone(setup.fake)
        done = setup.modelaudit("watch", "--every", "1s", "--count", "2", HOOK_URL=hook.url())
        assert done.returncode == 0, done.stderr
        (message,) = hook.wait_for(1)
        assert message["title"] == "modelaudit: acme/main is gone"
        assert "alerts: 1 message sent" in done.stderr


def test_withdrawn_in_one_region_while_answering_in_another(setup: Setup) -> None:
    """Two agents of a fleet, in separate processes, share one store: the one in `eu` is
    refused ("not available in your region"), the one in `us` gets answers."""
    fleet = "    fleet:\n      urls: [env:HOOK_URL]\n      events: [region_withdrawn]\n"
    setup.write(extra=fleet)
    us_registry = setup.registry.read_text()
    with FakeOpenAI(key=CANARY, models=["main", "spare"]) as eu_side, webhook_receiver() as hook:
        eu_side.behave(
            "main", Behaviour.error("access_denied", message="not available in your region")
        )
        eu = setup.tmp_path / "eu"
        eu.mkdir()
        (eu / "providers.yaml").write_text(
            us_registry.replace(setup.fake.base_url, eu_side.base_url)
        )
        url = hook.url()
        setup.probe(HOOK_URL=url, MODELAUDIT_REGION="us")
        done = subprocess.run(
            [sys.executable, "-m", "modelaudit", "probe", "-f", "json"],
            capture_output=True,
            text=True,
            env={**setup.env, "HOOK_URL": url, "MODELAUDIT_REGION": "eu"},
            cwd=eu,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        titles = sorted(m["title"] for m in hook.wait_for(2))
    assert titles == [
        "modelaudit: acme/main is blocked in eu",
        "modelaudit: acme/main is withdrawn in eu while answering in us",
    ]
