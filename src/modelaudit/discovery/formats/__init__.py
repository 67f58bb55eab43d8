"""Output formats of `modelaudit discover`: one module each, registered here with one line
(a member: `DiscoverFormat.X.formatter(out)` writes a `DiscoverDocument`)."""

from modelaudit.output.base import FormatName


class DiscoverFormat(FormatName):
    TABLE = "table"
    JSON = "json", "json_doc"
