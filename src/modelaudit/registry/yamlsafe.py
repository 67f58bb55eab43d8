"""A YAML reader that keeps line numbers and refuses what PyYAML lets through.

PyYAML's safe loader still silently keeps the last of two duplicate keys and expands
aliases without limit (the "billion laughs" bomb). This module composes the node tree
with the safe loader (no object is ever constructed from a tag), then builds plain
Python values itself: duplicate keys, unknown tags, merge keys and oversized expansions
become `YamlProblem`s, and every value's position is recorded by its path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from modelaudit.collector import paused

Path = tuple[str | int, ...]

# The most values a document may expand to once aliases are followed.
MAX_VALUES = 100_000
MAX_DEPTH = 64

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_SEQ_TAG = "tag:yaml.org,2002:seq"
# libyaml's parser when PyYAML was built with it (the wheels are): about 10x faster.
_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _NodeLoader(_Parser):  # type: ignore[misc, valid-type]
    """The safe loader, resolving each distinct plain scalar's tag once: a registry of
    10,000 models writes the same keys and values (`id`, `weights`, `open`) tens of
    thousands of times, and the resolver's regular expressions ran for every one."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._tags: dict[tuple[object, ...], str] = {}

    def resolve(self, kind: type[Node], value: object, implicit: object) -> str:
        if kind is not ScalarNode or self.yaml_path_resolvers:  # a path makes it depend
            return str(super().resolve(kind, value, implicit))
        key = (value, implicit)
        found = self._tags.get(key)
        if found is None:
            found = self._tags[key] = super().resolve(kind, value, implicit)
        return found


_MAP_TAG = "tag:yaml.org,2002:map"


@dataclass(frozen=True)
class Position:
    line: int
    """1-based."""
    column: int
    """1-based."""


@dataclass(frozen=True)
class YamlProblem:
    position: Position
    path: Path
    message: str


@dataclass
class Document:
    data: object
    values: dict[Path, Position] = field(default_factory=dict)
    """Where each value starts."""
    keys: dict[Path, Position] = field(default_factory=dict)
    """Where each mapping key starts (path of the value it names)."""


class YamlSyntaxError(Exception):
    def __init__(self, problem: YamlProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _TooBigError(Exception):
    pass


def _position(node: Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _short_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


class _Builder:
    def __init__(self) -> None:
        self.document = Document(data=None)
        self.problems: list[YamlProblem] = []
        self._count = 0
        self._scalar = yaml.SafeLoader("")  # only its scalar constructors are used
        self._scalars: dict[tuple[str, str], object] = {}

    def release(self) -> None:
        """The scalar loader keeps every node it constructed, and sits in a reference cycle:
        without this, the scalar nodes of a document (and their marks) would outlive it
        until the collector's next full pass, or for good while the collector rests."""
        self._scalar.constructed_objects.clear()
        self._scalar.dispose()

    def build(self, node: Node, path: Path, active: tuple[int, ...]) -> object:
        self._count += 1
        if self._count > MAX_VALUES:
            raise _TooBigError
        if id(node) in active or len(active) > MAX_DEPTH:
            self.problems.append(
                YamlProblem(_position(node), path, "an alias refers to itself (recursive YAML)")
            )
            return None
        self.document.values.setdefault(path, _position(node))
        if isinstance(node, ScalarNode):
            return self._build_scalar(node, path)
        active = (*active, id(node))
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ_TAG:
                return self._bad_tag(node, path)
            return [self.build(item, (*path, i), active) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            if node.tag != _MAP_TAG:
                return self._bad_tag(node, path)
            return self._build_mapping(node, path, active)
        return self._bad_tag(node, path)

    def _build_scalar(self, node: ScalarNode, path: Path) -> object:
        if node.tag not in _SCALAR_TAGS:
            return self._bad_tag(node, path)
        if node.tag == "tag:yaml.org,2002:timestamp":
            # An impossible date such as 2026-02-30 stays a string for the schema to reject.
            # A timestamp stays a datetime (never cut to its date: with an offset that may
            # be another day in UTC): a date field refuses it.
            try:
                return self._scalar.construct_yaml_timestamp(node)
            except ValueError:
                return node.value
        key = (node.tag, node.value)  # the value of an immutable scalar, made once
        if key not in self._scalars:
            self._scalars[key] = self._scalar.construct_object(node, deep=True)
        value = self._scalars[key]
        assert value is None or isinstance(value, str | int | float | bool | date)
        return value

    def _build_mapping(self, node: MappingNode, path: Path, active: tuple[int, ...]) -> object:
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(
                    YamlProblem(
                        _position(key_node),
                        path,
                        "YAML merge keys (<<) are not supported: write the fields out",
                    )
                )
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                self.problems.append(
                    YamlProblem(
                        _position(key_node),
                        path,
                        f"keys must be plain words; `{_describe(key_node)}` is not",
                    )
                )
                continue
            key = key_node.value
            if key in result:
                first = self.document.keys[(*path, key)]
                self.problems.append(
                    YamlProblem(
                        _position(key_node),
                        (*path, key),
                        f"duplicate key `{key}` (first at line {first.line}); "
                        "YAML would silently keep only the last, so remove one",
                    )
                )
                continue
            self.document.keys[(*path, key)] = _position(key_node)
            result[key] = self.build(value_node, (*path, key), active)
        return result

    def _bad_tag(self, node: Node, path: Path) -> object:
        self.problems.append(
            YamlProblem(
                _position(node),
                path,
                f"unsupported YAML tag `{_short_tag(node.tag)}` "
                "(providers.yaml is plain YAML: remove the tag)",
            )
        )
        return None


def _describe(node: Node) -> str:
    if isinstance(node, ScalarNode):
        return str(node.value)
    return "a list" if isinstance(node, SequenceNode) else "a mapping"


def parse(text: str) -> tuple[Document, list[YamlProblem]]:
    """Parse one YAML document. Raises `YamlSyntaxError` when the text is not YAML."""
    with paused():  # every node and value made is kept to the end
        return _parse(text)


def _parse(text: str) -> tuple[Document, list[YamlProblem]]:
    loader = _NodeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise YamlSyntaxError(_syntax_problem(exc)) from None
    except yaml.YAMLError as exc:  # a reader error: a character YAML does not allow
        raise YamlSyntaxError(_character_problem(text, exc)) from None
    finally:
        loader.dispose()
    builder = _Builder()
    if node is None:
        return builder.document, [YamlProblem(Position(1, 1), (), "the file is empty")]
    try:
        builder.document.data = builder.build(node, (), ())
    except _TooBigError:
        # What was written is counted only now: a document that builds within the cap
        # was written within it too (a 10,000-model registry spent 30 ms counting).
        if _written_values(node) > MAX_VALUES:
            message = (
                f"the document has more than {MAX_VALUES:,} values; a registry needs far "
                "fewer (is this the right file?)"
            )
        else:
            message = (
                f"the document expands to more than {MAX_VALUES:,} values once aliases are "
                "followed (an alias bomb?): write it out plainly"
            )
        raise YamlSyntaxError(YamlProblem(_position(node), (), message)) from None
    finally:
        builder.release()
    return builder.document, builder.problems


def _written_values(root: Node) -> int:
    """The values written in the file (an alias's target counted once), up to the cap + 1."""
    seen: set[int] = set()
    stack = [root]
    while stack and len(seen) <= MAX_VALUES:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            stack.extend(value for _, value in node.value)
    return len(seen)


def _character_problem(text: str, exc: yaml.YAMLError) -> YamlProblem:
    # libyaml's ReaderError gives a byte offset, PyYAML's a character index: find the
    # character in the text instead.
    found = _NOT_ALLOWED.search(text)
    if found is None:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return YamlProblem(Position(1, 1), (), f"not valid YAML: {first_line}")
    code = ord(found.group())
    if code == 0:
        what = "U+0000 (a NUL byte) cannot appear in YAML: is this the right file? If so, delete it"
    else:
        kind = "a control character" if code < 0xA0 else "not a character"
        what = (
            f"U+{code:04X} ({kind}) cannot appear in YAML: delete it "
            "(editors often do not show it; retype the line)"
        )
    return YamlProblem(position_in(text, found.start()), (), what)


# What YAML 1.1 lets a stream contain (PyYAML's reader rule), negated.
_NOT_ALLOWED = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def position_in(text: str, index: int) -> Position:
    """The 1-based line and column of `text[index]`, counting line breaks as YAML does."""
    line, line_start = 1, 0
    for brk in _LINE_BREAK.finditer(text, 0, index):
        line, line_start = line + 1, brk.end()
    return Position(line, index - line_start + 1)


def _syntax_problem(exc: yaml.MarkedYAMLError) -> YamlProblem:
    mark = exc.problem_mark or exc.context_mark
    position = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
    problem = exc.problem or "not valid YAML"
    hint = _SYNTAX_HINTS.get(problem, "")
    context = ""
    if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
        where = f"line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
        context = f" ({exc.context} that starts at {where})"
    elif exc.context:
        context = f" ({exc.context})"
    return YamlProblem(position, (), f"YAML syntax error: {problem}{context}{hint}")


_INDENT_HINT = " (check the indentation, or quote a value that contains ': ')"
_SYNTAX_HINTS = {  # PyYAML's wording and libyaml's
    "mapping values are not allowed here": _INDENT_HINT,
    "mapping values are not allowed in this context": _INDENT_HINT,
    "found character '\\t' that cannot start any token": " (indent with spaces, not tabs)",
    "could not find expected ':'": " (a key is missing its ':', or a quote is not closed)",
    "did not find expected key": " (check the indentation of this line and the one above)",
    "did not find expected '-' indicator": " (check the indentation of this list item)",
}
