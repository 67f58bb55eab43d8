"""Everything a probe needs from the registry at send time is checked when it is loaded:
a host that cannot be resolved by name, a port that does not exist, a header HTTP cannot
carry or that the client sets itself. Each is a problem at file:line:col (exit 2), never a
crash in the middle of a run; and the checks know what they are checking (a header that
carries a credential is refused whatever its spelling)."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelaudit.errors import ConfigError, UsageError
from modelaudit.registry import load
from modelaudit.registry.sendable import header_problem, host_problem, url_problem
from modelaudit.schedule.ping import check_url

PROVIDER = """\
version: 1
providers:
  - name: local
    api: openai
    base_url: {base_url}
    hosting: self-hosted
    headers: {headers}
    models:
      - id: {model}
        weights: open
"""


def load_text(tmp_path: Path, **fields: str) -> None:
    values = {"base_url": "http://127.0.0.1:8080/v1", "headers": "{}", "model": "m", **fields}
    path = tmp_path / "providers.yaml"
    path.write_text(PROVIDER.format(**values))
    load(path)


def problems(tmp_path: Path, **fields: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, **fields)
    where = str(tmp_path / "providers.yaml")
    return [p.replace(where, "providers.yaml") for p in caught.value.problems]


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        (
            "http://a..b/v1",
            "providers.yaml:5:15: providers[0].base_url: the host `a..b` is not a valid host "
            "name (dot-separated labels of 1 to 63 letters, digits, '-' or '_', at most 253 "
            "characters in all)",
        ),
        (
            "http://127.0.0.1:70000/v1",
            "providers.yaml:5:15: providers[0].base_url: the port must be a number from 1 to 65535",
        ),
        ("http://127.0.0.1:0/v1", "the port must be a number from 1 to 65535"),
        ("http://h:port/v1", "the port must be a number from 1 to 65535"),
        ("'http://[::1/v1'", "is not a valid URL (Invalid IPv6 URL)"),
        ("http://münchen.example/v1", "write the host in its ASCII form: `xn--mnchen-3ya.example`"),
        ("http://x..y.example:8080/v1", "the host `x..y.example` is not a valid host name"),
    ],
)
def test_a_base_url_the_client_could_not_connect_to_is_a_registry_problem(
    tmp_path: Path, base_url: str, message: str
) -> None:
    found = problems(tmp_path, base_url=base_url)

    assert len(found) == 1
    assert message in found[0], found


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8080/v1",
        "http://[::1]:8080/v1",
        "http://my_service:8000/v1",  # a container network's name
        "https://api.openai.com./v1",
        "http://xn--mnchen-3ya.example/v1",
    ],
)
def test_hosts_people_really_use_are_accepted(tmp_path: Path, base_url: str) -> None:
    load_text(tmp_path, base_url=base_url)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (
            "{Host: evil.test}",
            "providers.yaml:7:21: providers[0].headers.Host: header `Host` is set by the HTTP "
            "client itself: remove it",
        ),
        ("{Transfer-Encoding: chunked}", "header `Transfer-Encoding` is set by the HTTP client"),
        ("{Content-Length: '10'}", "header `Content-Length` is set by the HTTP client"),
        ("{Connection: close}", "header `Connection` is set by the HTTP client"),
        ('{"Authorization ": Bearer x}', "header `Authorization ` carries a credential"),
        ('{" cookie": a=b}', "header ` cookie` carries a credential"),
        ("{X-Custom-Token: abc}", "header `X-Custom-Token` carries a credential"),
        ("{Ocp-Apim-Subscription-Key: abc}", "carries a credential"),
        ('{"X Foo": bar}', "header name `X Foo` is not a valid HTTP header name"),
        ("{X-Tenant: 'Zürich'}", "the value of header `X-Tenant` cannot be sent"),
        ('{X-Tenant: "a\\nb"}', "the value of header `X-Tenant` cannot be sent"),
        ("{X-Tenant: ' padded'}", "the value of header `X-Tenant` cannot be sent"),
        ("{X-Tenant: a, x-tenant: b}", "header `x-tenant` is set twice"),
    ],
)
def test_a_header_that_cannot_or_must_not_be_sent_is_a_registry_problem(
    tmp_path: Path, headers: str, message: str
) -> None:
    found = problems(tmp_path, headers=headers)

    assert len(found) == 1, found
    assert message in found[0], found
    assert "Zürich" not in found[0]  # a value is never quoted: it may be a secret


def test_ordinary_headers_are_accepted(tmp_path: Path) -> None:
    load_text(tmp_path, headers="{anthropic-beta: 'tools-2024-05-16', OpenAI-Project: proj_1}")


def test_a_model_id_is_the_servers_name_whatever_it_holds_but_not_endless(
    tmp_path: Path,
) -> None:
    load_text(tmp_path, model='"gpt\\e[2J"')  # kept as served; shown escaped everywhere
    found = problems(tmp_path, model="m" * 257)

    assert "is longer than 256 characters: is this the right value?" in found[0], found


@pytest.mark.parametrize(
    ("field", "value"),
    [("family", '"qwen\\e[2J"'), ("license", '"MIT\\u202e"'), ("tags", '["a\\u200bb"]')],
)
def test_text_only_a_table_shows_must_be_printable(tmp_path: Path, field: str, value: str) -> None:
    path = tmp_path / "providers.yaml"
    path.write_text(
        PROVIDER.format(base_url="http://127.0.0.1:8080/v1", headers="{}", model="m")
        + f"        {field}: {value}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load(path)

    assert "which is not a printable character: remove it" in caught.value.problems[0]


@pytest.mark.parametrize("value", [".inf", ".nan", "1e400", "100000"])
def test_a_timeout_must_be_finite_and_at_most_a_day(tmp_path: Path, value: str) -> None:
    path = tmp_path / "providers.yaml"
    path.write_text(
        PROVIDER.format(base_url="http://127.0.0.1:8080/v1", headers="{}", model="m").replace(
            "version: 1\n", f"version: 1\ndefaults:\n  timeouts: {{total_s: {value}}}\n"
        )
    )
    with pytest.raises(ConfigError) as caught:
        load(path)

    (problem,) = caught.value.problems
    assert "defaults.timeouts.total_s: " in problem
    assert problem.endswith(
        ("must be a finite number (not .inf or .nan)", "must be less than or equal to 86400")
    )


def test_the_shared_rules_say_what_they_check() -> None:
    assert host_problem("127.0.0.1") is None
    assert host_problem("fe80::1%eth0") is None
    assert host_problem("a" * 64 + ".example") is not None
    assert url_problem("https://user:pw@h.example/") == (
        "the URL carries credentials (user:password@): remove them and use `api_key`"
    )
    assert url_problem("https://user:pw@h.example/", credentials=True) is None
    assert header_problem("X-Ok", "visible ascii, with spaces") is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://hc.example:99999/ping/uuid", "--ping-url: the port must be a number"),
        ("https://a..b/ping/uuid", "--ping-url: the host `a..b` is not a valid host name"),
        ("ftp://hc.example/ping", "--ping-url must be an http:// or https:// URL"),
    ],
)
def test_a_ping_url_that_could_never_be_pinged_is_a_usage_error(url: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        check_url(url)

    assert message in caught.value.message
    assert "uuid" not in caught.value.message  # the path identifies the check: never shown
