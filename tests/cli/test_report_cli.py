"""`modelaudit report` and `modelaudit drill` at the command line: bad input is one line
and exit 2, before any history is read."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import run_cli
from tests.week_history import REGISTRY_YAML

from modelaudit.cli.report import choose_format
from modelaudit.report.formats.base import ReportFormat


@pytest.fixture
def registry_file(isolated_env: Path) -> Path:
    path = isolated_env / "providers.yaml"
    path.write_text(REGISTRY_YAML)
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--since", "5y"], "--since `5y` is not a duration: write hours or days"),
        (["report", "--since", "900d"], "--since 900d is longer than a year"),
        (["report", "--format", "pdf"], "Invalid value for '--format'"),
        (
            ["drill", "--without", "acme-typo"],
            "--without acme-typo: no such provider (providers: acme, bravo, dragon, host, local)",
        ),
        (
            ["drill", "--without-jurisdiction", "UK"],
            "`UK` is not an ISO 3166-1 alpha-2 code: use GB",
        ),
        (
            ["drill", "--without-jurisdiction", "DE"],
            "no provider in the registry is there (jurisdictions: CN, FR, US)",
        ),
        (["drill", "--min-coverage", "120"], "Invalid value for '--min-coverage'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    registry_file: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run_cli(args, capsys)

    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("chosen", "output", "expected"),
    [
        (None, "r.html", ReportFormat.HTML),
        (None, "r.htm", ReportFormat.HTML),
        (None, "r.md", ReportFormat.MARKDOWN),
        (None, "r.JSON", ReportFormat.JSON),
        (None, "r.txt", ReportFormat.TABLE),
        (ReportFormat.JSON, "r.html", ReportFormat.JSON),
        (None, None, ReportFormat.JSON),  # piped (pytest's stdout is not a terminal)
    ],
)
def test_the_format_follows_the_flag_then_the_file_suffix(
    chosen: ReportFormat | None, output: str | None, expected: ReportFormat
) -> None:
    assert choose_format(chosen, Path(output) if output else None) is expected
