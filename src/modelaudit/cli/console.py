"""The one Console for human text (stderr), and the writer for data (stdout).

Markup is off, and every message is redacted and made printable (`outgoing.safe_text`):
text that came from a provider is shown, never interpreted, by rich or by the terminal.
Data is written as rendered: each format redacted its values before serializing them.
Rich honours NO_COLOR and FORCE_COLOR itself.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from modelaudit.output.base import Options


@cache
def err() -> Console:
    from rich.console import Console

    return Console(stderr=True, markup=False, highlight=False, emoji=False)


def out() -> Console:
    """For rich tables written to stdout as data. Piped, they are not cut at 80 columns.
    Made afresh for each use: a table is laid out for the terminal as it is now."""
    from rich.console import Console

    piped_width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
    # No `file=`: rich then writes to whatever sys.stdout is at the time of writing.
    return Console(markup=False, highlight=False, emoji=False, width=piped_width)


def options() -> Options:
    """The options of a formatter whose text is not laid out for a terminal."""
    from modelaudit.output.base import Options

    return Options(warn=warn)


def screen() -> Options:
    """The options of a formatter writing to stdout for a person (tables): laid out for
    the terminal as it is now; piped, not cut at 80 columns."""
    from modelaudit.output.base import Options

    piped_width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
    return Options(width=piped_width, warn=warn)


def laid_out(*, color: bool = False) -> Options:
    """The options of a report laid out for `width()` columns, in colour or not."""
    from modelaudit.output.base import Options

    return Options(width=width(), color=color, warn=warn)


def width() -> int:
    """The width to lay data out for: $COLUMNS, else the terminal's, else 120 when piped."""
    import shutil

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return shutil.get_terminal_size((120, 24)).columns if sys.stdout.isatty() else 120


def error(message: str) -> None:
    from rich.text import Text

    from modelaudit.outgoing import safe_text

    err().print(Text("error: ", style="bold red") + Text(safe_text(message)), soft_wrap=True)


def warn(message: str) -> None:
    from rich.text import Text

    from modelaudit.outgoing import safe_text

    err().print(Text("warning: ", style="yellow") + Text(safe_text(message)), soft_wrap=True)


def info(renderable: RenderableType | str) -> None:
    if isinstance(renderable, str):
        note(renderable)  # without rich where there is no colour: a run's summary line
        return
    err().print(renderable, soft_wrap=True)


def note(text: str, style: str = "") -> None:
    """A line of human text on stderr, styled on a terminal that shows colour. Elsewhere
    it is written as it is, without rich: `config check` says a few lines, and importing
    rich to say them cost a tenth of the command."""
    from modelaudit.outgoing import safe_text

    coloured = sys.stderr.isatty() and "NO_COLOR" not in os.environ
    if not (coloured or os.environ.get("FORCE_COLOR")):
        sys.stderr.write(safe_text(text) + "\n")
        return
    from rich.text import Text

    err().print(Text(safe_text(text), style=style), soft_wrap=True)


def data(text: str) -> None:
    """Write data (JSON, reports) to stdout as rendered: its values were redacted before
    it was serialized (see `modelaudit.outgoing`)."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


_STYLED = (("error: ", "bold red"), ("warning: ", "yellow"))


class _Human:
    """Human text on stderr, as a writer: each line is printed as `plain` prints it, and a
    line that starts with `warning: ` or `error: ` as `warn` and `error` print theirs."""

    def __init__(self) -> None:
        self.pending = ""

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            _line(line)
        return len(text)

    def flush(self) -> None:
        if self.pending:
            _line(self.pending)
            self.pending = ""


def _line(line: str) -> None:
    from rich.text import Text

    from modelaudit.outgoing import safe_text

    for prefix, style in _STYLED:
        if line.startswith(prefix):
            shown = Text(prefix, style=style) + Text(safe_text(line.removeprefix(prefix)))
            break
    else:
        shown = Text(safe_text(line))
    err().print(shown, soft_wrap=True)


def human() -> _Human:
    """A writer for a formatter of human text (a command's summary): stderr."""
    return _Human()


def plain(text: str) -> None:
    """A line of human text on stderr, without a prefix."""
    from rich.text import Text

    from modelaudit.outgoing import safe_text

    err().print(Text(safe_text(text)), soft_wrap=True)
