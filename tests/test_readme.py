"""Every `modelaudit ...` command in the README's (and docs/') code blocks names a real command
with real options: a reader who copies one never meets "No such option"."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from modelaudit.cli.app import run

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = (README, *sorted((ROOT / "docs").glob("*.md")))
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
# `modelaudit` as a command: at the start, after a shell separator, or as a path's last part.
_COMMAND = re.compile(r"(?:^|[\s;&|(=])(?:\S*/)?modelaudit\s+([^;&|\n]+)")
_INLINE = re.compile(r"`modelaudit ([^`]+)`")
_SHELL_STOPS = {";", "&&", "||", "|", ">", ">>", "2>&1"}


def readme_commands(docs: tuple[Path, ...] = (README,)) -> list[list[str]]:
    """Commands in code blocks, and inline `modelaudit ...` spans that are literal commands
    (not synopses with `[optional]` parts or `a|b` choices)."""
    text = "\n".join(doc.read_text() for doc in docs)
    commands = []
    for block in _FENCE.findall(text):
        for line in block.splitlines():
            if line.lstrip().startswith(("#", "Description=")):
                continue
            for match in _COMMAND.finditer(line.removeprefix("$ ")):
                commands.append(_args(match.group(1)))
    for span in _INLINE.findall(_FENCE.sub("", text)):
        if not any(mark in span for mark in ("[", "|", "...")):
            commands.append(_args(span))
    unique = {tuple(c): c for c in commands if c}
    return list(unique.values())


def _args(rest: str) -> list[str]:
    args = []
    for word in shlex.split(rest, comments=True):
        if word in _SHELL_STOPS or word.startswith((">", "2>")):
            break
        args.append(word)
    return args


def test_the_readme_shows_the_main_commands() -> None:
    shown = {command[0] for command in readme_commands()}
    expected = {"probe", "watch", "history", "db", "report", "drill", "check", "lock", "config"}
    assert expected <= shown


@pytest.mark.parametrize("args", readme_commands(DOCS), ids=" ".join)
def test_a_readme_command_parses(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = run([*args, "--help"]) if args != ["--version"] else run(args)
    err = capsys.readouterr().err
    assert code == 0, err


def test_the_exit_codes_say_what_watch_does_when_stopped() -> None:
    # tests/schedule/test_watch.py holds `watch` to exit 0 on SIGTERM; every other command
    # exits 130 when interrupted (tests/cli/test_exits.py).
    rows = {
        line.split("|")[1].strip(): line
        for line in README.read_text().splitlines()
        if re.match(r"\| `\d+` \|", line)
    }
    assert "`watch` stopped by SIGTERM or Ctrl-C exits 0" in rows["`0`"]
    assert "Any other command interrupted by Ctrl-C or SIGTERM" in rows["`130`"]
