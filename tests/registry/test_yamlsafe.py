"""The safe YAML reader: a character YAML does not allow is found where it is."""

from __future__ import annotations

import gc
from datetime import date, datetime, timedelta, timezone

import pytest

from modelaudit.registry.yamlsafe import Position, YamlSyntaxError, parse, position_in


def problem_of(text: str) -> tuple[Position, str]:
    with pytest.raises(YamlSyntaxError) as caught:
        parse(text)
    return caught.value.problem.position, caught.value.problem.message


@pytest.mark.parametrize(
    ("text", "where", "starts"),
    [
        ("a: b\nc: d\x07\n", Position(2, 5), "U+0007 (a control character)"),
        # libyaml counts bytes: the column must count characters.
        ("a: é\nb: 😀é\x1b\n", Position(2, 6), "U+001B (a control character)"),
        ("a: b\r\nc: \x7f", Position(2, 4), "U+007F (a control character)"),
        ("\x00" * 64, Position(1, 1), "U+0000 (a NUL byte)"),
        ("a: \ufffe", Position(1, 4), "U+FFFE (not a character)"),
    ],
)
def test_a_character_yaml_refuses_is_named_at_its_line_and_column(
    text: str, where: Position, starts: str
) -> None:
    position, message = problem_of(text)

    assert position == where
    assert message.startswith(starts)
    assert "\n" not in message


def test_positions_count_yaml_line_breaks() -> None:
    text = "a\r\nb\rc\x85d\n  e"
    assert position_in(text, text.index("e")) == Position(5, 3)
    assert position_in(text, 0) == Position(1, 1)


def test_a_timestamp_is_kept_whole_not_cut_to_its_date() -> None:
    document, problems = parse("when: 2027-01-01T23:30:00-05:00\nday: 2027-01-01\n")

    assert problems == []
    assert document.data == {
        "when": datetime(2027, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
        "day": date(2027, 1, 1),
    }


def test_the_value_cap_says_whether_aliases_made_it_overflow() -> None:
    _, written = problem_of("[" + "0, " * 100_001 + "]")
    bomb = "a: &a [" + ", ".join(["x"] * 400) + "]\nb: [" + ", ".join(["*a"] * 400) + "]"
    _, expanded = problem_of(bomb)

    assert written.startswith("the document has more than 100,000 values;")
    assert "alias" not in written
    assert expanded.startswith("the document expands to more than 100,000 values once aliases")


def test_a_value_repeated_plain_and_quoted_keeps_each_ones_type() -> None:
    """Tags and values are made once per distinct scalar: a quoted `1` stays a string
    beside a plain one, however often each repeats, and every position is its own."""
    text = "".join(
        "- [1, '1', yes, 'yes', 2026-01-02, '2026-01-02', 1.5, ~, x]\n" for _ in range(3)
    )

    document, problems = parse(text)

    assert problems == []
    row = [1, "1", True, "yes", date(2026, 1, 2), "2026-01-02", 1.5, None, "x"]
    assert document.data == [row] * 3
    assert document.values[(2, 1)] == Position(3, 7)


def test_reading_leaves_the_garbage_collector_as_it_found_it() -> None:
    parse("a: 1\n")
    assert gc.isenabled()
    gc.disable()
    try:
        parse("a: 1\n")
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(YamlSyntaxError):
        parse("a: [\n")
    assert gc.isenabled()


def test_a_read_document_leaves_no_node_behind_for_the_collector() -> None:
    # A report pauses the collector for its whole run: nodes kept alive by a reference
    # cycle would stay in memory to the end (a 10,000-model registry's 37,000 of them).
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        parse("providers:\n  - name: a\n    models: [x, y, 1, 2026-01-02]\n")
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage if type(o).__module__.startswith("yaml")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []
