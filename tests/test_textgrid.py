"""`textgrid` lays tables out as rich does (the report's table format relied on rich's
`Table` and its golden output must not move): the same text for any cells, widths and
unwrapped columns, compared with rich itself."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from modelaudit import textgrid

WORDS = st.text(alphabet="abcdefghij-/.:%", min_size=1, max_size=18)
CELLS = st.lists(WORDS, min_size=0, max_size=6).map(" ".join) | st.sampled_from(
    ["", "  spaced  out ", "line one\nline two", "词语 and wide 字符", "a" * 45]
)


def by_rich(title: str, headers: list[str], rows: list[list[str]], width: int, keep: int) -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=title or None,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
    )
    for index, header in enumerate(headers):
        table.add_column(header, overflow="fold", no_wrap=index < keep)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    out = io.StringIO()
    Console(file=out, width=width, no_color=True, markup=False, highlight=False, emoji=False).print(
        table
    )
    return out.getvalue()


@st.composite
def tables(draw: st.DrawFn) -> tuple[str, list[str], list[list[str]], int, int]:
    columns = draw(st.integers(1, 6))
    headers = [draw(WORDS) for _ in range(columns)]
    rows = [[draw(CELLS) for _ in range(columns)] for _ in range(draw(st.integers(0, 6)))]
    title = draw(st.sampled_from(["", "Models, most urgent first", "a much longer title " * 4]))
    # (At under about eight cells a column, rich itself leaves cells out.)
    width = draw(st.integers(8 * columns + 4, 160))
    return title, headers, rows, width, draw(st.integers(0, columns))


@settings(max_examples=300, deadline=None)
@given(tables())
def test_a_table_reads_as_rich_lays_it_out(
    table: tuple[str, list[str], list[list[str]], int, int],
) -> None:
    title, headers, rows, width, keep = table
    ours = textgrid.render(headers, rows, width, title=title, keep=keep)
    assert ours == by_rich(title, headers, rows, width, keep)


def test_a_paragraph_wraps_as_rich_prints_text() -> None:
    from rich.console import Console
    from rich.text import Text

    words = "modelaudit report: last 30d " + "model-0042 answered, " * 12 + "x" * 50
    out = io.StringIO()
    Console(file=out, width=40, no_color=True, markup=False, highlight=False).print(Text(words))
    assert textgrid.paragraph(words, 40) == out.getvalue()


def test_colour_wraps_each_styled_cell_and_the_header_in_sgr() -> None:
    found = textgrid.render(["risk"], [[textgrid.Cell("79 high", "bold red")]], 40, color=True)
    assert found == "\x1b[1mrisk   \x1b[0m\n───────\n\x1b[1;31m79 high\x1b[0m\n"
