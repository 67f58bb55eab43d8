"""Output formats of `modelaudit check`: one module each, registered here with one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.output.base import FormatName

if TYPE_CHECKING:
    from modelaudit.gate.formats.base import CheckFormatter
    from modelaudit.output.base import Options, Writer


class CheckFormat(FormatName):
    TEXT = "text"
    JSON = "json", "json_doc"
    JUNIT = "junit"
    GITHUB = "github"
    SARIF = "sarif"


def formatter(kind: CheckFormat, out: Writer, options: Options | None = None) -> CheckFormatter:
    made: CheckFormatter = kind.formatter(out, options)  # type: ignore[assignment]
    return made
