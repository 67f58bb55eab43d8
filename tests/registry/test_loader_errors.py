"""Broken registries: each gets its exact message at file:line:col, exit 2, no traceback,
and nothing in the file is ever executed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from modelaudit.cli.app import main
from modelaudit.errors import UsageError
from modelaudit.registry import load

VALID_PROVIDER = """\
  - name: openai
    api: openai
    base_url: https://api.openai.com/v1
    api_key: env:OPENAI_API_KEY
    hosting: vendor
    jurisdiction: US
    models:
      - id: gpt-4o-mini
        weights: closed
"""

ANTHROPIC_AS_VENDOR_WITH_A_SERVER = (
    VALID_PROVIDER.replace("api: openai", "api: anthropic")
    .replace("https://api.openai.com/v1", "https://api.anthropic.com")
    .replace("    hosting:", "    api_version: v1\n    server: vllm\n    hosting:")
)


def registry(body: str) -> str:
    return "version: 1\nproviders:\n" + body


CASES: dict[str, tuple[str, list[str]]] = {
    "yaml syntax error": (
        registry(VALID_PROVIDER) + '    headers: {"a": "b"\n',
        [
            "providers.yaml:13:1: YAML syntax error: did not find expected ',' or '}' "
            "(while parsing a flow mapping that starts at line 12, column 14)"
        ],
    ),
    "bad indentation": (
        registry(VALID_PROVIDER.replace("    hosting: vendor", "      hosting: vendor")),
        [
            "providers.yaml:7:14: YAML syntax error: mapping values are not allowed in this "
            "context (check the indentation, or quote a value that contains ': ')"
        ],
    ),
    "unknown api": (
        registry(VALID_PROVIDER.replace("api: openai", "api: opnai")),
        [
            "providers.yaml:4:10: providers[0].api: unknown api `opnai` (one of: anthropic, "
            "azure-openai, bedrock, gemini, ollama, openai, vertex; every OpenAI-compatible "
            "vendor or server is `openai`)"
        ],
    ),
    "missing base_url": (
        registry(VALID_PROVIDER.replace("    base_url: https://api.openai.com/v1\n", "")),
        [
            "providers.yaml:3:5: providers[0].base_url: required field `base_url` is missing "
            "(add `base_url: https://api.openai.com/v1`)"
        ],
    ),
    "literal key": (
        registry(VALID_PROVIDER.replace("env:OPENAI_API_KEY", "sk-proj-AbCdEf0123456789xyzXYZ")),
        [
            "providers.yaml:6:14: providers[0].api_key: must name where the key is, not be the "
            "key itself: export the key and write `api_key: env:VARIABLE_NAME`, or store it in "
            "a file readable only by you and write `api_key: file:/path/to/key`"
        ],
    ),
    "a number as the key": (
        registry(VALID_PROVIDER.replace("env:OPENAI_API_KEY", "12345")),
        [
            "providers.yaml:6:14: providers[0].api_key: must be text naming where the key is: "
            "write `api_key: env:VARIABLE_NAME`, or `api_key: file:/path/to/key`"
        ],
    ),
    "a list as the key": (
        registry(VALID_PROVIDER.replace("env:OPENAI_API_KEY", "[sk-1, sk-2]")),
        [
            "providers.yaml:6:14: providers[0].api_key: must be text naming where the key is: "
            "write `api_key: env:VARIABLE_NAME`, or `api_key: file:/path/to/key`"
        ],
    ),
    "a header named api_key is a header": (
        registry(VALID_PROVIDER.replace("    hosting:", "    headers: {api_key: 5}\n    hosting:")),
        ["providers.yaml:7:24: providers[0].headers.api_key: expected text, got `5`"],
    ),
    "duplicate provider names": (
        registry(VALID_PROVIDER + VALID_PROVIDER),
        [
            "providers.yaml:12:11: providers[1].name: duplicate provider name `openai` "
            "(also providers[0]): give each provider a unique name"
        ],
    ),
    "duplicate key in one mapping": (
        registry(
            VALID_PROVIDER.replace(
                "    hosting: vendor\n", "    hosting: vendor\n    hosting: self-hosted\n"
            )
        ),
        [
            "providers.yaml:8:5: providers[0].hosting: duplicate key `hosting` (first at line 7); "
            "YAML would silently keep only the last, so remove one"
        ],
    ),
    "fallback naming a missing model": (
        registry(VALID_PROVIDER + "        fallbacks: [openai/gpt-9]\n"),
        [
            "providers.yaml:12:21: providers[0].models[0].fallbacks[0]: fallback `openai/gpt-9`: "
            "provider `openai` lists no model `gpt-9` (add it to that provider's models, "
            "or fix the id)"
        ],
    ),
    "wrong types": (
        registry(VALID_PROVIDER + "        pinned: sometimes\n        tags: chat\n"),
        [
            "providers.yaml:12:17: providers[0].models[0].pinned: expected true or false, "
            "got `sometimes`",
            "providers.yaml:13:15: providers[0].models[0].tags: expected a list "
            "(items written `- item`), got `chat`",
        ],
    ),
    "invalid date": (
        registry(VALID_PROVIDER + "        retires: 2026-02-30\n"),
        [
            "providers.yaml:12:18: providers[0].models[0].retires: `2026-02-30` is not a valid "
            "date (write YYYY-MM-DD, e.g. 2026-06-30)"
        ],
    ),
    "a timestamp where a date is expected": (
        registry(VALID_PROVIDER + "        retires: 2027-01-01T23:30:00-05:00\n"),
        [
            "providers.yaml:12:18: providers[0].models[0].retires: expected a date (YYYY-MM-DD), "
            "got a timestamp `2027-01-01T23:30:00-05:00`: write the day alone, e.g. 2027-01-01 "
            "(a time and offset can move the day)"
        ],
    ),
    "a quoted timestamp where a date is expected": (
        registry(VALID_PROVIDER + '        retires: "2027-01-01T00:00:00Z"\n'),
        [
            "providers.yaml:12:18: providers[0].models[0].retires: expected a date (YYYY-MM-DD), "
            "got a timestamp `2027-01-01T00:00:00Z`: write the day alone, e.g. 2026-06-30 "
            "(a time and offset can move the day)"
        ],
    ),
    "a number where a date is expected": (
        registry(VALID_PROVIDER + "        retires: 1798761600\n"),
        [
            "providers.yaml:12:18: providers[0].models[0].retires: `1798761600` is not a valid "
            "date (write YYYY-MM-DD, e.g. 2026-06-30)"
        ],
    ),
    "a date where text is expected": (
        registry(VALID_PROVIDER + "        license: 2024-10-21\n"),
        [
            "providers.yaml:12:18: providers[0].models[0].license: expected text, got a date: "
            "quote it (YAML reads an unquoted YYYY-MM-DD as a date)"
        ],
    ),
    "python object tag": (
        registry(
            VALID_PROVIDER + "        license: !!python/object/apply:os.system [touch PWNED]\n"
        ),
        [
            "providers.yaml:12:18: providers[0].models[0].license: unsupported YAML tag "
            "`!!python/object/apply:os.system` (providers.yaml is plain YAML: remove the tag)"
        ],
    ),
    "a tag on a value the schema requires: said once": (
        "version: 1\nproviders: !!python/object:os.system\n  x: 1\n",
        [
            "providers.yaml:2:12: providers: unsupported YAML tag `!!python/object:os.system` "
            "(providers.yaml is plain YAML: remove the tag)"
        ],
    ),
    "cross-field problems of one provider, all at once, each at its key": (
        registry(ANTHROPIC_AS_VENDOR_WITH_A_SERVER),
        [
            "providers.yaml:7:18: providers[0].api_version: `api_version` has no meaning for api "
            "`anthropic` (the anthropic-version header is fixed at 2023-06-01; override it "
            "under `headers` if you must): remove it",
            "providers.yaml:8:13: providers[0].server: `server` names a self-hosted engine: "
            "set `hosting: self-hosted`",
        ],
    ),
    "cross-field problems of a provider with an invalid field of its own": (
        registry(ANTHROPIC_AS_VENDOR_WITH_A_SERVER.replace("jurisdiction: US", "jurisdiction: XX")),
        [
            "providers.yaml:7:18: providers[0].api_version: `api_version` has no meaning for api "
            "`anthropic` (the anthropic-version header is fixed at 2023-06-01; override it "
            "under `headers` if you must): remove it",
            "providers.yaml:8:13: providers[0].server: `server` names a self-hosted engine: "
            "set `hosting: self-hosted`",
            "providers.yaml:10:19: providers[0].jurisdiction: `XX` is not an ISO 3166-1 alpha-2 "
            "country code (e.g. US, CN, FR, GB)",
        ],
    ),
    "a base_url and an api_version both wrong for the family": (
        registry(
            VALID_PROVIDER.replace("api: openai", "api: gemini")
            .replace("https://api.openai.com/v1", "https://generativelanguage.googleapis.com/v1")
            .replace("    hosting:", "    api_version: latest\n    hosting:")
        ),
        [
            "providers.yaml:5:15: providers[0].base_url: base_url is the host root as in "
            "google-genai (`https://generativelanguage.googleapis.com`); the API version goes "
            "in `api_version` (default v1beta)",
            "providers.yaml:7:18: providers[0].api_version: api_version `latest` is not an API "
            "version such as v1beta or v1",
        ],
    ),
    "a vendor without jurisdiction, beside a wrong field": (
        registry(VALID_PROVIDER.replace("    jurisdiction: US\n", "").replace("closed", "shut")),
        [
            "providers.yaml:3:5: providers[0].jurisdiction: a vendor or third-party provider "
            "needs `jurisdiction`: the ISO code of the country its operator is established in "
            "(self-hosted providers may leave it out)",
            "providers.yaml:10:18: providers[0].models[0].weights: `shut` is not one of: open, "
            "closed",
        ],
    ),
    "total timeout shorter than the connect timeout": (
        "version: 1\ndefaults:\n  timeouts:\n    connect_s: 10\n    total_s: 2\nproviders:\n"
        + VALID_PROVIDER,
        [
            "providers.yaml:5:14: defaults.timeouts.total_s: total_s must be at least connect_s",
        ],
    ),
    "a control character": (
        registry(VALID_PROVIDER.replace("gpt-4o-mini", "gpt-4o-\x07mini")),
        [
            "providers.yaml:10:20: U+0007 (a control character) cannot appear in YAML: "
            "delete it (editors often do not show it; retype the line)"
        ],
    ),
    "a NUL byte": (
        registry(VALID_PROVIDER) + "\x00",
        [
            "providers.yaml:12:1: U+0000 (a NUL byte) cannot appear in YAML: is this the "
            "right file? If so, delete it"
        ],
    ),
    "more values than a registry could need, no alias": (
        "version: 1\nproviders: [" + "0, " * 100_001 + "]\n",
        [
            "providers.yaml:1:1: the document has more than 100,000 values; a registry needs "
            "far fewer (is this the right file?)"
        ],
    ),
    "alias bomb": (
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
            for i in range(8)
        )
        + "version: 1\n",
        [
            "providers.yaml:1:1: the document expands to more than 100,000 values once aliases "
            "are followed (an alias bomb?): write it out plainly"
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_registry_gets_its_exact_message_and_exit_2(
    case: str, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, expected = CASES[case]
    (isolated_env / "providers.yaml").write_text(text)

    code = main(["config", "check"])

    err = capsys.readouterr().err
    assert code == 2
    problems = [line for line in err.splitlines() if line.startswith("providers.yaml:")]
    assert problems == expected
    assert "Traceback" not in err


def test_nothing_in_the_file_is_executed(isolated_env: Path) -> None:
    text, _ = CASES["python object tag"]
    (isolated_env / "providers.yaml").write_text(text)

    main(["config", "check"])

    assert not (isolated_env / "X").exists()


def test_a_20_mb_file_is_refused_without_reading_it(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = isolated_env / "providers.yaml"
    with path.open("wb") as handle:
        handle.truncate(20 * 1024 * 1024)

    code = main(["config", "check"])

    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines()[0] == (
        "providers.yaml:1:1: the file is 20.0 MiB; a registry is capped at 2 MiB "
        "(is this the right file?)"
    )


def test_every_problem_is_reported_in_one_pass(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = VALID_PROVIDER.replace("api: openai", "api: opnai").replace(
        "weights: closed", "weights: shut"
    )
    (isolated_env / "providers.yaml").write_text(registry(broken + VALID_PROVIDER))

    code = main(["config", "check"])

    err = capsys.readouterr().err
    assert code == 2
    assert [line.split(": ")[1] for line in err.splitlines() if line.startswith("providers")] == [
        "providers[0].api",
        "providers[0].models[0].weights",
        "providers[1].name",
    ]
    assert "the registry has 3 problems" in err


def test_the_literal_key_is_never_echoed(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "sk-proj-CANARY0123456789abcdefABCDEF"
    (isolated_env / "providers.yaml").write_text(
        registry(VALID_PROVIDER.replace("env:OPENAI_API_KEY", key).replace("vendor", key))
    )

    main(["config", "check"])

    captured = capsys.readouterr()
    assert key not in captured.err + captured.out


@pytest.mark.parametrize(
    "written",
    ["31337420", "[ab12cd34]", "{source: env, name: 31337420}", "{ab12cd34: x, name: 1}"],
)
def test_a_wrong_key_value_is_never_echoed_whatever_its_type(
    written: str, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated_env / "providers.yaml").write_text(
        registry(VALID_PROVIDER.replace("env:OPENAI_API_KEY", written))
    )

    assert main(["config", "check"]) == 2

    captured = capsys.readouterr()
    secret = "31337420" if "31337420" in written else "ab12cd34"
    assert secret not in captured.err + captured.out


def test_a_broken_registry_never_prints_a_traceback_from_the_real_command(
    isolated_env: Path,
) -> None:
    text, _ = CASES["alias bomb"]
    (isolated_env / "providers.yaml").write_text(text)

    done = subprocess.run(
        [sys.executable, "-m", "modelaudit", "config", "check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("providers.yaml:1:1: the document expands")


def test_a_pipe_is_refused_not_read(isolated_env: Path) -> None:
    # A pipe has no size to check beforehand (and a FIFO with no writer would block the
    # read forever): a registry must be a regular file.
    text = registry(VALID_PROVIDER) + "#" * (3 * 1024 * 1024) + "\n"

    done = subprocess.run(
        [sys.executable, "-m", "modelaudit", "config", "check", "--config", "/dev/stdin"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == (
        "error: /dev/stdin: is a FIFO (named pipe), not a regular file"
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_endless_device_is_refused_before_it_is_read() -> None:
    with pytest.raises(UsageError) as caught:
        load(Path("/dev/zero"))  # only read from, never written to

    assert caught.value.message == "/dev/zero: is a character device, not a regular file"
