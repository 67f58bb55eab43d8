"""The CLI frame: version, config discovery, `config check`, `providers`, streams, colour,
and start-up that loads only what a command needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers import python_stderr, run_cli

from modelaudit import __version__

SHIPPED = Path(__file__).resolve().parents[2] / "providers.yaml"
CANARY = "sk-proj-CANARYcanary0123456789abcdefXYZ"

SMALL = """\
version: 1
providers:
  - name: acme
    api: openai
    base_url: https://api.acme.test/v1
    api_key: env:ACME_API_KEY
    hosting: vendor
    jurisdiction: FR
    models:
      - id: acme-large
        weights: closed
        pinned: true
        retires: 2027-01-31
        fallbacks: [local/qwen]
  - name: local
    api: openai
    base_url: http://127.0.0.1:8000/v1
    hosting: self-hosted
    server: vllm
    models:
      - id: qwen
        weights: open
        license: Apache-2.0
        family: qwen3-32b
"""


def test_version_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["--version"], capsys) == (0, f"modelaudit {__version__}\n", "")


def test_python_dash_m_runs_the_same_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "modelaudit", "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout == f"modelaudit {__version__}\n"


def test_config_check_on_the_shipped_registry_summarizes_keys_by_name_never_by_value(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)

    code, out, err = run_cli(["config", "check", "-c", str(SHIPPED)], capsys)

    assert code == 0
    assert out == ""
    assert "valid (schema version 1)" in err
    assert "keys present: env:OPENAI_API_KEY" in err
    assert "key missing:  env:ANTHROPIC_API_KEY (anthropic): ANTHROPIC_API_KEY is not set" in err
    assert CANARY not in err


def test_config_check_summary_counts_and_retirements(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated_env / "providers.yaml").write_text(SMALL)

    code, _, err = run_cli(["config", "check"], capsys)

    assert code == 0
    assert "2 providers (1 self-hosted), 2 models (1 open-weight), 1 pinned" in err
    assert "retires 2027-01-31: acme/acme-large (pinned)" in err


def test_config_check_says_no_key_is_needed_when_none_is(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local_only = SMALL[: SMALL.index("  - name: acme")] + SMALL[SMALL.index("  - name: local") :]
    (isolated_env / "providers.yaml").write_text(local_only)

    err = run_cli(["config", "check"], capsys)[2]

    assert "keys: none needed (no provider sets `api_key`)" in err
    assert "keys present" not in err


def test_config_check_names_the_providers_that_need_no_key(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated_env / "providers.yaml").write_text(SMALL)

    err = run_cli(["config", "check"], capsys)[2]

    assert "keys present: none" in err  # acme's key is needed and not set
    assert "key missing:  env:ACME_API_KEY (acme)" in err
    assert "no key needed: local" in err


@pytest.mark.parametrize(
    "command", [[], ["probe"], ["watch"], ["check"], ["report"], ["drill"], ["db", "export"]]
)
def test_help_shows_no_value_placeholder_for_flags(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli([*command, "--help"], capsys)

    assert code == 0
    assert "<bool>" not in out
    if command == ["probe"]:
        assert "--dry-run " in out
        assert "--db" in out
        assert "<file>" in out  # options that take a value still say what it is


def test_config_discovery_prefers_the_option_then_the_environment_then_the_cwd(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated_env / "providers.yaml").write_text(SMALL)
    from_env = isolated_env / "env.yaml"
    from_env.write_text(SMALL.replace("acme", "envco"))
    option = isolated_env / "option.yaml"
    option.write_text(SMALL.replace("acme", "optco"))

    assert "acme/acme-large" in run_cli(["config", "check"], capsys)[2]
    monkeypatch.setenv("MODELAUDIT_CONFIG", str(from_env))
    assert "envco/envco-large" in run_cli(["config", "check"], capsys)[2]
    assert "optco/optco-large" in run_cli(["config", "check", "-c", str(option)], capsys)[2]


def test_no_registry_anywhere_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["config", "check"], capsys)

    assert code == 2
    assert "no providers.yaml here: pass --config PATH, set MODELAUDIT_CONFIG" in err


def test_a_missing_config_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["config", "check", "-c", "nope.yaml"], capsys)

    assert (code, err.strip()) == (2, "error: nope.yaml: no such file")


def test_an_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["providers", "--colour"], capsys)

    assert code == 2
    assert "No such option: --colour" in err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["probe", "--kind", "strem"], "'strem' is not one of 'catalog', 'completion'"),
        (["report", "--format", "htm"], "'htm' is not one of 'table', 'json', 'markdown'"),
        (["check", "--retiring", "wan"], "'wan' is not one of 'fail', 'warn'"),
        (["drill", "--format", "yaml"], "'yaml' is not one of 'table', 'json'"),
    ],
)
def test_a_value_outside_an_option_s_choices_says_so_plainly(
    args: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(args, capsys)

    assert code == 2
    assert said in err
    assert "Value error" not in err


def test_providers_json_is_data_on_stdout(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated_env / "providers.yaml").write_text(SMALL)

    code, out, err = run_cli(["providers", "--format", "json"], capsys)

    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["schema_version"] == 1
    acme, local = document["providers"]
    assert acme["api_key"] == "env:ACME_API_KEY"
    assert acme["models"][0] == {
        "id": "acme-large",
        "weights": "closed",
        "license": None,
        "family": None,
        "pinned": True,
        "retires": "2027-01-31",
        "fallbacks": ["local/qwen"],
        "tags": [],
    }
    assert (local["hosting"], local["server"], local["jurisdiction"]) == (
        "self-hosted",
        "vllm",
        None,
    )


def test_providers_table_lists_every_model(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated_env / "providers.yaml").write_text(SMALL)

    code, out, _ = run_cli(["providers"], capsys)

    assert code == 0
    rows = [line.split() for line in out.splitlines()[2:] if line.strip(" ─")]
    assert rows == [
        ["acme", "acme-large", "vendor", "FR", "closed", "yes", "2027-01-31"],
        ["local", "qwen", "self-hosted", "-", "open"],
    ]


def _cli(args: list[str], env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "modelaudit", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_no_color_and_force_color_are_honoured(isolated_env: Path) -> None:
    (isolated_env / "providers.yaml").write_text(SMALL)

    plain = _cli(["config", "check"], {"NO_COLOR": "1"})
    forced = _cli(["config", "check"], {"FORCE_COLOR": "1", "NO_COLOR": "", "TERM": "xterm"})

    assert "\x1b[" not in plain.stderr
    assert "\x1b[" in forced.stderr


BEDROCK = """\
version: 1
providers:
  - name: bedrock
    api: bedrock
    region: us-east-1
    credentials: {chain: default}
    hosting: third-party
    jurisdiction: US
    models:
      - {id: us.anthropic.claude-sonnet-4-6, weights: closed}
"""


@pytest.mark.parametrize("registry", ["small", "shipped", "bedrock"])
@pytest.mark.parametrize("args", [["--version"], ["config", "check"], ["providers"]])
def test_light_commands_do_not_load_the_http_stack(
    args: list[str], registry: str, isolated_env: Path
) -> None:
    """Nor an extra a family needs (botocore): that loads only when its provider is probed."""
    texts = {"small": SMALL, "bedrock": BEDROCK}
    text = texts.get(registry) or SHIPPED.read_text(encoding="utf-8")
    (isolated_env / "providers.yaml").write_text(text)
    script = (
        "import sys; from modelaudit.cli.app import main; "
        f"code = main({args!r}); "
        "heavy = sorted(m for m in ('httpx', 'httpcore', 'modelaudit.probe.runner', 'apprise', "
        "'botocore') "
        "if m in sys.modules); "
        "print(code, heavy, file=sys.stderr)"
    )
    assert python_stderr(script)[-1] == "0 []"


@pytest.mark.parametrize("args", [["--version"], ["config", "check"], ["providers"]])
def test_the_vertex_extra_loads_only_when_a_vertex_provider_sends(
    args: list[str], isolated_env: Path
) -> None:
    # The shipped registry configures Vertex providers: checking it still imports no
    # google-auth (its credential chain is judged offline, by files and variables).
    shipped = Path(__file__).resolve().parents[2] / "providers.yaml"
    (isolated_env / "providers.yaml").write_text(shipped.read_text())
    script = (
        "import sys; from modelaudit.cli.app import main; "
        f"code = main({args!r}); "
        "heavy = sorted(m for m in sys.modules if m.startswith(('google.auth', 'google.oauth2',"
        " 'requests', 'cryptography'))); "
        "print(code, heavy, file=sys.stderr)"
    )
    assert python_stderr(script)[-1] == "0 []"


def test_config_check_answers_without_typer_or_rich(isolated_env: Path) -> None:
    """Its fast path: typer's option parsing and rich cost as much as the check itself."""
    (isolated_env / "providers.yaml").write_text(SMALL)
    script = (
        "import sys; from modelaudit.cli.main import main; "
        "code = main(['config', 'check', '-c', 'providers.yaml']); "
        "print(code, sorted(m for m in ('rich', 'typer') if m in sys.modules), file=sys.stderr)"
    )
    lines = python_stderr(script, cwd=isolated_env)
    assert lines[0] == "providers.yaml: valid (schema version 1)"
    assert lines[-1] == "0 []"


@pytest.mark.parametrize(
    "args",
    [
        ["config", "check", "-c", "."],
        ["config", "check", "--config"],
        ["config", "check", "-c", "providers.yaml", "--bogus"],
        ["config", "check", "--help"],
    ],
)
def test_config_check_leaves_every_other_command_line_to_typer(
    args: list[str], isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the fast path does not take (a directory, a missing value, another option,
    help) typer parses, with its own messages and exit codes."""
    from modelaudit.cli.app import run as by_typer

    (isolated_env / "providers.yaml").write_text(SMALL)
    expected = (by_typer(args), *capsys.readouterr())
    assert run_cli(args, capsys) == expected
