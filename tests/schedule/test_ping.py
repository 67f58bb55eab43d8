"""--ping-url: a dead-man's switch hears when a scheduled run starts and how it ended."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelaudit.cli.app import main
from tests.fakes import Behaviour, FakeOpenAI, FakeServer, closed_port, text_reply
from tests.store.cli_support import KEY, KEY_ENV, write_store_registry

CHECK = "/ping/5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"


@pytest.fixture
def switch() -> FakeServer:
    with FakeServer() as server:
        server.route("POST", CHECK + "{suffix:path}", text_reply("OK"))
        server.route("POST", CHECK, text_reply("OK"))
        yield server  # type: ignore[misc]


def pings(server: FakeServer) -> list[tuple[str, str]]:
    return [(r.path.removeprefix(CHECK), r.body.decode()) for r in server.requests]


@pytest.mark.parametrize(
    ("behaviour", "fail_on", "code", "last"),
    [(None, [], 0, ""), ("down", ["--fail-on", "down"], 1, "/fail")],
)
def test_a_run_pings_start_then_success_or_fail_with_its_summary(
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    switch: FakeServer,
    behaviour: str | None,
    fail_on: list[str],
    code: int,
    last: str,
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    with FakeOpenAI(key=KEY, models=["m"]) as fake:
        if behaviour:
            fake.behave("m", Behaviour.error("server_error"))
        write_store_registry(isolated_env, fake.base_url, ["m"])
        url = switch.url + CHECK + "/"  # a trailing slash is fine
        assert main(["probe", "-f", "json", "--no-store", "--ping-url", url, *fail_on]) == code
    capsys.readouterr()

    (start, _), (end, summary) = pings(switch)
    assert (start, end) == ("/start", last)
    assert summary.startswith("run complete in ")


def test_a_switch_that_cannot_be_reached_is_a_warning_not_a_failure(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    with FakeOpenAI(key=KEY, models=["m"]) as fake, closed_port() as nowhere:
        write_store_registry(isolated_env, fake.base_url, ["m"])
        url = f"{nowhere.url}/ping/secret-check-uuid"
        code = main(["probe", "-f", "json", "--no-store", "--ping-url", url])
    err = capsys.readouterr().err

    assert code == 0
    assert f"could not ping {nowhere.url}: ConnectError" in err
    assert "secret-check-uuid" not in err  # the URL is the check's credential


def test_a_ping_url_that_is_not_http_is_a_usage_error(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_store_registry(isolated_env, "http://127.0.0.1:9/v1", ["m"])
    assert main(["probe", "--ping-url", "ftp://example.invalid/x"]) == 2
    assert "--ping-url must be an http:// or https:// URL" in capsys.readouterr().err
