"""Output formats of `modelaudit check`: one module each, registered here with one line."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelaudit.gate.formats.base import CheckFormatter


class CheckFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"
    GITHUB = "github"
    SARIF = "sarif"


def formatter(kind: CheckFormat) -> CheckFormatter:
    from modelaudit.gate.formats import github, json_doc, junit, sarif, text

    formatters: dict[CheckFormat, type[CheckFormatter]] = {
        CheckFormat.TEXT: text.TextFormatter,
        CheckFormat.JSON: json_doc.JsonFormatter,
        CheckFormat.JUNIT: junit.JunitFormatter,
        CheckFormat.GITHUB: github.GithubFormatter,
        CheckFormat.SARIF: sarif.SarifFormatter,
    }
    return formatters[kind]()
