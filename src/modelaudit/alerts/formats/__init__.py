"""Output formats of `modelaudit alerts list`: one module each, registered here with one
line (a member: `ALERTS_FORMAT.formatter(out)` writes an `AlertOverview`)."""

from modelaudit.output.base import FormatName


class AlertsFormat(FormatName):
    TABLE = "table"
    JSON = "json", "json_doc"
