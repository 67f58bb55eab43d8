"""Load `providers.yaml`: file → safe YAML → schema → cross-checks, or every problem at once.

Each problem is one line a person can act on:
`providers.yaml:12:7: providers[2].models[0].retires: what is wrong (how to fix)`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import typing
from dataclasses import dataclass
from datetime import date
from pathlib import Path as FilePath

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from modelaudit.errors import ConfigError, UsageError
from modelaudit.redact import looks_like_key
from modelaudit.registry import yamlsafe
from modelaudit.registry.alerting import NOT_A_URL_REF
from modelaudit.registry.crosscheck import crosscheck, unchecked_provider_conflicts
from modelaudit.registry.schema import (
    CONFLICTS_ERROR,
    CREDENTIAL_FORMS,
    NOT_A_KEY_REF,
    FieldConflict,
    Registry,
)
from modelaudit.registry.yamlsafe import Path, Position, YamlProblem

MAX_BYTES = 2 * 1024 * 1024
CONFIG_ENV = "MODELAUDIT_CONFIG"
DEFAULT_NAME = "providers.yaml"


@dataclass(frozen=True)
class LoadedRegistry:
    registry: Registry
    path: FilePath
    sha256: str
    """Of the file's bytes: identifies the registry a run used."""
    document: yamlsafe.Document

    def line_of(self, path: Path) -> int:
        """The line where the value at `path` starts (1 when unknown)."""
        return _position_of(self.document, path).line

    def model_path(self, provider_name: str, model_id: str) -> Path:
        for p_index, provider in enumerate(self.registry.providers):
            if provider.name != provider_name:
                continue
            for m_index, model in enumerate(provider.models):
                if model.id == model_id:
                    return ("providers", p_index, "models", m_index)
        return ()


def discover(option: FilePath | None) -> FilePath:
    """`--config`, then `$MODELAUDIT_CONFIG`, then `./providers.yaml`."""
    if option is not None:
        return option
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return FilePath(from_env)
    default = FilePath(DEFAULT_NAME)
    if default.exists():
        return default
    raise UsageError(
        f"no {DEFAULT_NAME} here: pass --config PATH, set {CONFIG_ENV}, "
        f"or run from a directory that has one"
    )


def load(path: FilePath) -> LoadedRegistry:
    raw = _read(path)
    label = str(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{label}:1:1: the file is not UTF-8 text ({exc.reason})"]) from None
    try:
        document, problems = yamlsafe.parse(text)
    except yamlsafe.YamlSyntaxError as exc:
        raise ConfigError([_format(label, exc.problem)]) from None
    if problems and not document.values:
        raise ConfigError([_format(label, p) for p in problems])
    from modelaudit.collector import paused

    with paused():  # the registry lives on: the collector's passes over it would free nothing
        registry, schema_problems = _validate(document)
        # A value the YAML reader refused (an unsupported tag) is read as nothing: the
        # schema's complaint about that same value would only repeat the problem.
        refused = {p.path for p in problems}
        schema_problems = [p for p in schema_problems if p.path not in refused]
        problems = [*problems, *schema_problems, *_cross_problems(document)]
    if problems or registry is None:
        ordered = sorted(problems, key=lambda p: (p.position.line, p.position.column))
        raise ConfigError([_format(label, p) for p in ordered])
    return LoadedRegistry(registry, path, hashlib.sha256(raw).hexdigest(), document)


def _read(path: FilePath) -> bytes:
    """A regular file of at most MAX_BYTES (`fileio.read_bytes`): a FIFO or a device is
    refused before it is read, so it can neither hang the command nor fill its memory."""
    from modelaudit.fileio import FileError, read_bytes

    with contextlib.suppress(OSError):
        size = path.stat().st_size
        if size > MAX_BYTES and path.is_file():
            raise _too_big(path, f"{size / 1_048_576:.1f} MiB")
    try:
        return read_bytes(path, MAX_BYTES)
    except FileError as exc:
        if exc.missing:
            raise UsageError(f"{path}: no such file") from None
        if exc.too_big:  # it grew since its size was checked
            raise _too_big(path, f"more than {MAX_BYTES // 1_048_576} MiB") from None
        raise UsageError(f"{path}: {exc.reason}") from None


def _too_big(path: FilePath, size: str) -> ConfigError:
    return ConfigError(
        [
            f"{path}:1:1: the file is {size}; a registry is capped at "
            f"{MAX_BYTES // 1_048_576} MiB (is this the right file?)"
        ]
    )


def _format(label: str, problem: YamlProblem) -> str:
    where = f"{label}:{problem.position.line}:{problem.position.column}"
    dotted = dotted_path(problem.path)
    return f"{where}: {dotted}: {problem.message}" if dotted else f"{where}: {problem.message}"


def dotted_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _position_of(document: yamlsafe.Document, path: Path, *, key: bool = False) -> Position:
    if key and path in document.keys:
        return document.keys[path]
    while path and path not in document.values:
        path = path[:-1]
    return document.values.get(path, Position(1, 1))


def _cross_problems(document: yamlsafe.Document) -> list[YamlProblem]:
    return _located(document, crosscheck(document.data))


def _located(document: yamlsafe.Document, found: list[tuple[Path, str]]) -> list[YamlProblem]:
    return [YamlProblem(_position_of(document, path), path, message) for path, message in found]


def _validate(document: yamlsafe.Document) -> tuple[Registry | None, list[YamlProblem]]:
    try:
        return Registry.model_validate(document.data), []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    problems = [
        problem
        for error in errors
        if not _follows_from_item_errors(error)
        for problem in _problems(document, error)
    ]
    unchecked = unchecked_provider_conflicts(document.data, _invalid_provider_fields(errors))
    return None, list(dict.fromkeys([*problems, *_located(document, unchecked)]))


def _invalid_provider_fields(errors: list[ErrorDetails]) -> dict[int, set[str]]:
    """By provider index, its fields that failed (so its cross-field checks did not run)."""
    invalid: dict[int, set[str]] = {}
    for error in errors:
        loc = error["loc"]
        if len(loc) > 2 and loc[0] == "providers" and isinstance(loc[1], int):
            invalid.setdefault(loc[1], set()).add(str(loc[2]))
    return invalid


def _problems(document: yamlsafe.Document, error: ErrorDetails) -> list[YamlProblem]:
    if error["type"] != CONFLICTS_ERROR:
        return [_problem(document, error)]
    conflicts: tuple[FieldConflict, ...] = error.get("ctx", {})["conflicts"]
    found: list[tuple[Path, str]] = [((*error["loc"], c.field), c.message) for c in conflicts]
    return _located(document, found)


def _follows_from_item_errors(error: ErrorDetails) -> bool:
    """pydantic adds "too short after validation" to a list whose items all failed."""
    value = error.get("input")
    return error["type"] == "too_short" and isinstance(value, list) and len(value) > 0


def _problem(document: yamlsafe.Document, error: ErrorDetails) -> YamlProblem:
    path: Path = tuple(error["loc"])
    kind = error["type"]
    if path[:1] == ("providers",) and path[2:3] == ("api_key",) and kind != "value_error":
        # pydantic's messages may quote what was written (a value, an unknown field's
        # name): under api_key that may be the key itself. Our validators never quote it.
        return YamlProblem(_position_of(document, path[:3]), path[:3], NOT_A_KEY_REF)
    if path[:1] == ("providers",) and path[2:3] == ("credentials",):
        # The same for a credential part; and the form itself is told, not quoted back.
        if path[3:4] == ("parts",) and len(path) > 4 and kind != "value_error":
            return YamlProblem(_position_of(document, path[:5]), path[:5], NOT_A_KEY_REF)
        if kind not in ("value_error", "extra_forbidden"):
            return YamlProblem(_position_of(document, path[:3]), path[:3], CREDENTIAL_FORMS)
    if path[:2] == ("alerts", "routes") and path[3:4] == ("urls",) and kind != "value_error":
        # A route's URL reference written as a mapping: never quote what was written.
        return YamlProblem(_position_of(document, path[:5]), path[:5], NOT_A_URL_REF)
    if kind == "missing":
        parent = path[:-1]
        return YamlProblem(_position_of(document, parent), path, _missing(path))
    if kind == "extra_forbidden":
        return YamlProblem(_position_of(document, path, key=True), path, _unknown_field(path))
    return YamlProblem(_position_of(document, path), path, _message(path, error))


_EXAMPLES: dict[str, str] = {
    "version": "version: 1",
    "providers": "providers: followed by a list of providers",
    "name": "name: openai",
    "api": "api: openai",
    "base_url": "base_url: https://api.openai.com/v1",
    "hosting": "hosting: vendor, third-party or self-hosted",
    "models": "models: followed by a list of models",
    "id": "id: gpt-4o-mini",
    "weights": "weights: open or closed",
}


def _missing(path: Path) -> str:
    field = path[-1]
    example = _EXAMPLES.get(str(field))
    hint = f" (add `{example}`)" if example else ""
    return f"required field `{field}` is missing{hint}"


def _unknown_field(path: Path) -> str:
    field = str(path[-1])
    allowed = sorted(_fields_at(path[:-1]))
    close = _closest(field, allowed)
    hint = f"did you mean `{close}`?" if close else f"allowed: {', '.join(allowed)}"
    return f"unknown field `{field}` ({hint})"


def _fields_at(path: Path) -> set[str]:
    """The field names of the schema model found at `path`."""
    model: type[BaseModel] = Registry
    for part in path:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        found = _model_in(info.annotation) if info else None
        if found is None:
            return set()
        model = found
    return set(model.model_fields)


def _model_in(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


_TYPE_MESSAGES: dict[str, str] = {
    "string_type": "expected text",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "list_type": "expected a list (items written `- item`)",
    "tuple_type": "expected a list (items written `- item`)",
    "dict_type": "expected a mapping of `key: value` lines",
    "model_type": "expected a mapping of `key: value` lines",
    "model_attributes_type": "expected a mapping of `key: value` lines",
}


def _message(path: Path, error: ErrorDetails) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind == "string_type" and isinstance(value, date):
        return "expected text, got a date: quote it (YAML reads an unquoted YYYY-MM-DD as a date)"
    if kind in _TYPE_MESSAGES:
        return f"{_TYPE_MESSAGES[kind]}, got {_kind_of(value)}"
    if kind.startswith("date") or kind.startswith("datetime"):
        return f"`{value}` is not a valid date (write YYYY-MM-DD, e.g. 2026-06-30)"
    if kind in ("enum", "literal_error"):
        if path == ("version",):
            return f"`{value}` is not a supported schema version (write `version: 1`)"
        return _not_one_of(value, str(error.get("ctx", {}).get("expected", "")))
    if kind == "too_short":
        return "must list at least one item"
    if kind == "string_too_long":
        limit = error.get("ctx", {}).get("max_length")
        return f"is longer than {limit} characters: is this the right value?"
    if kind == "finite_number":
        return "must be a finite number (not .inf or .nan)"
    return str(error["msg"]).replace("Input should be", "must be")


def _not_one_of(value: object, expected: str) -> str:
    """`expected` is pydantic's "'a', 'b' or 'c'"."""
    choices = [c.strip().strip("'") for c in expected.replace(" or ", ", ").split(",")]
    close = _closest(str(value), choices)
    hint = f" (did you mean `{close}`?)" if close else ""
    return f"`{value}` is not one of: {', '.join(choices)}{hint}"


def _kind_of(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        short = len(value) <= 40 and not looks_like_key(value)
        return f"`{value}`" if short else "a text"
    return f"`{value}`"


def _closest(word: str, choices: list[str]) -> str | None:
    """The choice `word` most likely misspells, if one is close enough."""
    import difflib  # imported only for a misspelling: ~3 ms of every load otherwise

    close = difflib.get_close_matches(word, choices, n=1)
    return close[0] if close else None
