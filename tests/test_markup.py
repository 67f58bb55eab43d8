"""HTML is built with autoescaping (`modelaudit.output.markup`): a value becomes text unless
it is markup already, whatever its type and wherever its hole is."""

from __future__ import annotations

import pytest
from markupsafe import escape

from modelaudit.output.markup import Markup, Template, html, join

HOSTILE = '<script>alert("x")</script>\'&</style>{}{0}'


def test_every_value_is_escaped_unless_it_is_markup() -> None:
    page = html('<p title="{}">{} {} {}</p>', HOSTILE, HOSTILE, Markup("<b>ours</b>"), 2.5)

    assert page == (f'<p title="{escape(HOSTILE)}">{escape(HOSTILE)} <b>ours</b> 2.5</p>')
    assert isinstance(page, Markup)


def test_braces_in_the_template_or_a_value_are_text_not_holes() -> None:
    assert html("a { b } {}", "{}") == "a { b } {}"
    assert Template(Markup("<td {x}>"), "</td>")("{0}") == "<td {x}>{0}</td>"


def test_join_escapes_each_item_that_is_not_markup() -> None:
    assert join([Markup("<i>"), "<i>", 3], ", ") == "<i>, &lt;i&gt;, 3"


def test_a_hole_without_a_value_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(TypeError, match="2 holes, 1 values"):
        html("<a>{}{}</a>", "x")


def test_a_str_subclass_and_other_objects_are_escaped_as_markupsafe_does() -> None:
    class Name(str):
        pass

    for value in (Name(HOSTILE), True, None, ValueError(HOSTILE)):
        assert html("{}", value) == escape(value)
