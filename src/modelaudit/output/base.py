"""The one output interface: a formatter writes one kind of value as text to the writer it
is given, as it goes (a long document need not be held whole), every string of the value
redacted and made printable first (`modelaudit.outgoing`).

A command's formats form a registry: a `FormatName` enum whose members are the
registration lines (`HTML = "html"`, or `JSON = "json", "json_doc"` when the module is
named otherwise), and one module per format in the command's `formats` package with a
`FORMAT` class. `formatter(name, out)` imports only the chosen format's module.

Library code never prints: the CLI hands a formatter stdout (data), a file being written
atomically (`-o`), or its human-text writer on stderr (summaries), and the `Options` that
describe it (width, colour, where a side note goes).
"""

from __future__ import annotations

import importlib
import io
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar

from modelaudit.outgoing import outgoing, safe_text

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

V = TypeVar("V")


class Writer(Protocol):
    """Where text goes: stdout, a file being written, a buffer."""

    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...


def _warn_on_stderr(message: str) -> None:
    sys.stderr.write(f"warning: {safe_text(message)}\n")


@dataclass(frozen=True)
class Options:
    """What a formatter is told about its writer."""

    width: int | None = None
    """The width to lay text out for; None: the writer's own (a terminal's, $COLUMNS, 80)."""
    color: bool | None = None
    """ANSI colours; None: as the writer and NO_COLOR / FORCE_COLOR say."""
    warn: Callable[[str], None] = field(default=_warn_on_stderr)
    """Where a side problem is told (a summary file that cannot be written): the CLI's
    console; never the data being written."""


class Formatter(Generic[V]):
    """One output format of one kind of value."""

    def __init__(self, out: Writer, options: Options | None = None) -> None:
        self.out = out
        self.options = options or Options()

    def write(self, value: V) -> None:
        """Write `value`, every string in it redacted and printable first."""
        self.write_safe(outgoing(value))
        self.out.flush()

    def write_safe(self, value: V) -> None:
        """Write `value`, which went through `outgoing` already."""
        raise NotImplementedError

    def text(self, text: str) -> None:
        """Write `text` as whole lines (a final line break added when it has none)."""
        self.out.write(text if text.endswith("\n") else text + "\n")

    def console(self) -> Console:
        """A rich console writing to this formatter's writer, as `options` say."""
        return rich_console(self.out, self.options)


def rich_console(out: Writer, options: Options) -> Console:
    from rich.console import Console

    return Console(
        file=out,  # type: ignore[arg-type]  # rich needs only write, flush (and isatty if any)
        width=options.width,
        force_terminal=options.color,
        no_color=None if options.color is None else not options.color,
        markup=False,
        highlight=False,
        emoji=False,
    )


class FormatName(StrEnum):
    """The base of a command's format names. Each member is one registration line: the
    name users type, then the module in the command's `formats` package when it is not
    named the same."""

    module: str

    def __new__(cls, value: str, module: str | None = None) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.module = module or value
        return member

    def formatter_class(self) -> type[Formatter[Any]]:
        """The `FORMAT` class of this format's module, in the package that defines the
        enum (imported now, not before)."""
        package = type(self).__module__
        found: type[Formatter[Any]] = importlib.import_module(f"{package}.{self.module}").FORMAT
        return found

    def formatter(self, out: Writer, options: Options | None = None) -> Formatter[Any]:
        return self.formatter_class()(out, options)


def rendered(formatter: type[Formatter[V]], value: V, options: Options | None = None) -> str:
    """What `formatter` writes for `value`, as one string."""
    buffer = io.StringIO()
    formatter(buffer, options).write(value)
    return buffer.getvalue()
