"""Output formats of `modelaudit providers`: one module each, registered here with one line
(a member: `ProvidersFormat.X.formatter(out)` writes a `Registry`)."""

from modelaudit.output.base import FormatName


class ProvidersFormat(FormatName):
    TABLE = "table"
    JSON = "json", "json_doc"
