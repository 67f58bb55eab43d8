"""Typed access to decoded JSON, which arrives as `object`.

Providers leave fields out, send `null`, or send a number where the docs say a string.
These helpers answer "the value if it has the expected type, else None" so that parsers
read as a list of fields instead of a thicket of isinstance checks.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

JsonObject = dict[str, object]


def load_json(body: bytes | str) -> object:
    """Decoded JSON; raises ValueError for anything that is not (bytes that are not UTF-8,
    and nesting too deep to decode, included)."""
    try:
        return json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except UnicodeDecodeError as exc:
        raise ValueError(f"body is not UTF-8: {exc}") from exc
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


def load_json_object(body: bytes, what: str) -> JsonObject:
    """The body as a JSON object; raises ValueError naming `what` was expected otherwise."""
    value = load_json(body)
    found = as_object(value)
    if found is None:
        raise ValueError(f"expected {what} (a JSON object), got {type(value).__name__}")
    return found


def as_object(value: object) -> JsonObject | None:
    return value if isinstance(value, dict) else None


def as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def text(value: object) -> str | None:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def integer(value: object) -> int | None:
    """An int (not a bool), or a string of digits, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def code_text(value: object) -> str | None:
    """An error code as text: providers send `"1211"`, `429` or `"rate_limit_exceeded"`."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return text(value)


def path(value: object, *keys: str) -> object:
    """Follow nested object keys; None as soon as one is missing."""
    for key in keys:
        found = as_object(value)
        if found is None:
            return None
        value = found.get(key)
    return value


def first_object(value: object) -> JsonObject | None:
    """The first element of a list when it is an object (e.g. `choices[0]`)."""
    items = as_list(value)
    return as_object(items[0]) if items else None


_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def day(value: object) -> date | None:
    """A calendar day from unix seconds (int/float, or milliseconds when implausibly large)
    or an ISO 8601 date / date-time string. None when absent or unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        seconds = float(value)
        if seconds > 1e11:  # milliseconds: no shutdown date lies in the year 5000
            seconds /= 1000
        try:
            return datetime.fromtimestamp(seconds, tz=UTC).date()
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.isdigit():
            return day(int(stripped))
        match = _ISO_DAY.match(stripped)
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return None
    return None
