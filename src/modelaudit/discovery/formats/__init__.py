"""Output formats of `modelaudit discover`: one module each, registered here with one
line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.output.base import FormatName, load

if TYPE_CHECKING:
    from modelaudit.discovery.document import DiscoverDocument
    from modelaudit.output.base import Formatter, Options, Writer


class DiscoverFormat(FormatName):
    TABLE = "table"
    JSON = "json", "json_doc"


def formatter(
    kind: DiscoverFormat, out: Writer, options: Options | None = None
) -> Formatter[DiscoverDocument]:
    made: Formatter[DiscoverDocument] = load(__name__, kind)(out, options)
    return made
