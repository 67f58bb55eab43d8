"""Output formats of `modelaudit alerts list`: one module each, registered here with one
line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.output.base import FormatName, load

if TYPE_CHECKING:
    from modelaudit.alerts.state import AlertOverview
    from modelaudit.output.base import Formatter, Options, Writer


class AlertsFormat(FormatName):
    TABLE = "table"
    JSON = "json", "json_doc"


def formatter(
    kind: AlertsFormat, out: Writer, options: Options | None = None
) -> Formatter[AlertOverview]:
    made: Formatter[AlertOverview] = load(__name__, kind)(out, options)
    return made
