"""Tables of plain text for the terminal, laid out as rich lays out a `Table` with the
`SIMPLE_HEAD` box, no outer edge and no edge padding (columns one space apart, a rule
under the header, long cells word-wrapped and folded), at a few microseconds a row.

rich measures, wraps and renders every cell through its general renderable machinery:
about 0.1 ms a cell, 4 s for a 10,000-model report. Here a cell is a string and a style:
the widths follow rich's rule (each column as wide as its longest line; when the table is
too wide, the widest wrappable columns give way first, then every column evenly) and the
wrap follows rich's (words kept whole, a word wider than its column folded), so a table
reads the same either way. Styles are emitted as plain SGR sequences when `color` is on.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len, chop_cells, set_cell_size
from rich.control import strip_control_codes

if TYPE_CHECKING:
    from collections.abc import Sequence

_WORD = re.compile(r"\s*\S+\s*")
_TRAILING_SPACE = re.compile(r"\s+$")
_SGR = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "magenta": "35",
    "cyan": "36",
}
RULE = "─"


@dataclass(frozen=True)
class Cell:
    text: str
    style: str = ""
    """Space-separated words of `_SGR` ("bold red"), or empty."""


def render(
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell | str]],
    width: int,
    *,
    title: str = "",
    keep: int = 0,
    color: bool = False,
) -> str:
    """The table as lines of text, each ending in a newline. `keep`: how many leading
    columns never wrap (names a person greps for); `width`: the terminal's."""
    table = [[_cell(c) for c in row] for row in rows]
    head = [Cell(strip_control_codes(h), "bold") for h in headers]
    count = len(headers)
    pads = [_padding(index, count) for index in range(count)]
    widths = _widths(
        [head, *table], pads, max(width - (count - 1), 1), [i >= keep for i in range(count)]
    )
    total = sum(widths) + count - 1
    if total > width:  # columns squeezed below their padding: cropped at the terminal's edge
        color = False
    lines: list[str] = []
    if title:
        for line in _wrap(strip_control_codes(title), total):
            lines.append(_styled(_pad(line, total), "bold", color))
    lines += _row(head, widths, pads, keep, color, bottom=True)
    lines.append(RULE * total)
    for row in table:
        lines += _row(row, widths, pads, keep, color)
    if total > width:
        lines = [set_cell_size(line, width) for line in lines]
    return "".join(line + "\n" for line in lines)


def paragraph(text: str, width: int) -> str:
    """Text wrapped to `width` as rich prints it (words whole, long ones folded)."""
    return "".join(line + "\n" for line in _wrap(strip_control_codes(text), max(width, 1)))


def _cell(value: Cell | str) -> Cell:
    if isinstance(value, Cell):
        return Cell(strip_control_codes(value.text).expandtabs(8), value.style)
    return Cell(strip_control_codes(value).expandtabs(8))


def _padding(index: int, count: int) -> tuple[int, int]:
    """(left, right): a space each side of a cell, but not at the table's outer edges."""
    return (0 if index == 0 else 1, 0 if index == count - 1 else 1)


def _widths(
    rows: list[list[Cell]], pads: list[tuple[int, int]], room: int, wrappable: list[bool]
) -> list[int]:
    widths = []
    for index, (left, right) in enumerate(pads):
        longest = max(
            (cell_len(line) for row in rows for line in row[index].text.splitlines()), default=0
        )
        widths.append(min(longest + left + right, room) or 1)
    if sum(widths) > room:
        widths = _collapse(widths, wrappable, room)
        if sum(widths) > room:
            widths = _reduce(sum(widths) - room, [1] * len(widths), widths, widths)
    return widths


def _collapse(widths: list[int], wrappable: list[bool], room: int) -> list[int]:
    """Narrow the widest wrappable columns, down to the next widest, until the table fits."""
    total = sum(widths)
    excess = total - room
    if not any(wrappable):
        return widths
    while total and excess > 0:
        widest = max(w for w, wraps in zip(widths, wrappable, strict=True) if wraps)
        second = max(
            w if wraps and w != widest else 0 for w, wraps in zip(widths, wrappable, strict=True)
        )
        ratios = [int(w == widest and wraps) for w, wraps in zip(widths, wrappable, strict=True)]
        if not any(ratios) or widest == second:
            break
        widths = _reduce(excess, ratios, [min(excess, widest - second)] * len(widths), widths)
        total = sum(widths)
        excess = total - room
    return widths


def _reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """Take `total` off `values` in proportion to `ratios`, each at most its maximum."""
    ratios = [ratio if most else 0 for ratio, most in zip(ratios, maximums, strict=True)]
    remaining_ratio = sum(ratios)
    if not remaining_ratio:
        return values[:]
    remaining = total
    result = []
    for ratio, most, value in zip(ratios, maximums, values, strict=True):
        if ratio and remaining_ratio > 0:
            taken = min(most, round(ratio * remaining / remaining_ratio))
            result.append(value - taken)
            remaining -= taken
            remaining_ratio -= ratio
        else:
            result.append(value)
    return result


def _row(
    cells: list[Cell],
    widths: list[int],
    pads: list[tuple[int, int]],
    keep: int,
    color: bool,
    *,
    bottom: bool = False,
) -> list[str]:
    """The lines of one row; a short cell is padded below, or above (`bottom`: rich
    aligns a header row's cells to its bottom)."""
    blocks = []
    for index, (cell, width, (left, right)) in enumerate(zip(cells, widths, pads, strict=True)):
        inner = width - left - right
        if inner < 1:  # squeezed out: rich leaves the cell (and its padding) out
            blocks.append([" " * width])
            continue
        lines = _crop(cell.text, inner) if index < keep else _wrap(cell.text, inner)
        blocks.append(
            [
                " " * left + _styled(_pad(line, inner), cell.style, color) + " " * right
                for line in lines
            ]
        )
    height = max(len(block) for block in blocks)
    for lines, width in zip(blocks, widths, strict=True):
        at = 0 if bottom else len(lines)
        lines[at:at] = [" " * width] * (height - len(lines))
    return [" ".join(block[line] for block in blocks) for line in range(height)]


def _crop(text: str, width: int) -> list[str]:
    return [set_cell_size(line, width) for line in text.split("\n")]


def _wrap(text: str, width: int) -> list[str]:
    """Each line word-wrapped to `width` cells, a word wider than that folded."""
    if "\n" not in text and cell_len(text) <= width:  # most cells: one line that fits
        return [text]
    lines = []
    for line in text.split("\n"):
        lines += [_fit(piece, width) for piece in _divide(line, width)]
    return lines


def _fit(piece: str, width: int) -> str:
    """A piece wider than `width` loses the spaces at its end beyond it, then is cropped."""
    if cell_len(piece) <= width:
        return piece
    found = _TRAILING_SPACE.search(piece)
    if found is not None:
        piece = piece[: len(piece) - min(len(found.group(0)), len(piece) - width)]
    return set_cell_size(piece, width) if cell_len(piece) > width else piece


def _divide(line: str, width: int) -> list[str]:
    """The pieces of `line` that each fit `width`: a break before each word that does not
    fit on the current line, and inside a word wider than a whole line."""
    breaks: list[int] = []
    offset = 0
    for found in _WORD.finditer(line):
        start, word = found.start(), found.group(0)
        length = cell_len(word.rstrip())
        if width - offset >= length:
            offset += cell_len(word)
        elif length > width:
            folded = chop_cells(word, width)
            for number, piece in enumerate(folded):
                if start:
                    breaks.append(start)
                if number == len(folded) - 1:
                    offset = cell_len(piece)
                else:
                    start += len(piece)
        elif offset and start:
            breaks.append(start)
            offset = cell_len(word)
    bounds = [0, *breaks, len(line)]
    return [line[a:b] for a, b in itertools.pairwise(bounds)]


def _pad(text: str, width: int) -> str:
    return text + " " * (width - cell_len(text))


def _styled(text: str, style: str, color: bool) -> str:
    if not (color and style):
        return text
    codes = ";".join(_SGR[word] for word in style.split() if word in _SGR)
    return f"\x1b[{codes}m{text}\x1b[0m" if codes else text
