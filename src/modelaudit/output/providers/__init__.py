"""Output formats of `modelaudit providers`: one module each, registered here with one
line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.output.base import FormatName, load

if TYPE_CHECKING:
    from modelaudit.output.base import Formatter, Options, Writer
    from modelaudit.registry.schema import Registry


class ProvidersFormat(FormatName):
    TABLE = "table"
    JSON = "json", "json_doc"


def formatter(
    kind: ProvidersFormat, out: Writer, options: Options | None = None
) -> Formatter[Registry]:
    made: Formatter[Registry] = load(__name__, kind)(out, options)
    return made
