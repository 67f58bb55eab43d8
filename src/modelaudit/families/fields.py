"""Typed access to decoded JSON, which arrives as `object`.

Providers leave fields out, send `null`, or send a number where the docs say a string.
These helpers answer "the value if it has the expected type, else None" so that parsers
read as a list of fields instead of a thicket of isinstance checks.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime

JsonObject = dict[str, object]
MAX_JSON_BYTES = 4 * 1024 * 1024
"""The largest body decoded as JSON: twice the longest model list seen (OpenRouter's, with a
description per model, is under 2 MiB). Decoded, JSON can take 40 times its size (4 MiB of
`[[]],[[]],...` is about 150 MB of Python objects): this cap is what keeps a hostile reply
within the process's 300 MB."""
MAX_INTEGER = 2**53
"""Counts (tokens, statuses) beyond this are not counts: a server's nonsense is ignored."""


def _not_a_number(constant: str) -> float:
    raise ValueError(f"`{constant}` is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999
        raise ValueError(f"the number {text[:20]} is too large")
    return number


def load_json(body: bytes | str) -> object:
    """Decoded JSON; raises ValueError for anything that is not (bytes that are not UTF-8,
    nesting too deep to decode, NaN/Infinity and numbers too large for a float, and bodies
    over MAX_JSON_BYTES included)."""
    if len(body) > MAX_JSON_BYTES:
        raise ValueError(f"body is over {MAX_JSON_BYTES // 1_048_576} MiB: not decoded")
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return json.loads(text, parse_constant=_not_a_number, parse_float=_finite)
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
    """An int (not a bool), or a string of digits, else None; None too beyond +-2**53."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 16:
        value = int(value.strip())
    if isinstance(value, int) and -MAX_INTEGER <= value <= MAX_INTEGER:
        return value
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
