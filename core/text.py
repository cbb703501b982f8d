"""Text received from outside: the characters no field keeps, JSON nesting, number sizes.

One policy for every input path (forms, query strings, JSON bodies, sync ops): control
characters are removed (PostgreSQL refuses NUL where SQLite stores it, and the others are
invisible in a page or a CSV), newline and tab stay in multi-line notes only. A lone UTF-16
surrogate ("\\ud800" in JSON) cannot be stored at all: the field is refused.
"""

from __future__ import annotations

import json
import re
from typing import Any

# NUL and the other C0 controls except tab, line feed and carriage return; DEL; C1.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
LINE_BREAKS = re.compile("[\t\r\n\v\f\x85\u2028\u2029]+")
# After json.loads a surrogate code point is always a lone one (pairs become one character).
SURROGATE = re.compile("[\ud800-\udfff]")

MAX_JSON_DEPTH = 32
INT64_MAX = 2**63 - 1

# A JSON string (with its escapes) or a bracket: strings are skipped whole, so "[[[" in a
# note does not count as nesting.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]+|\\.)*"|[\[{]|[\]}]', re.DOTALL)


def strip_controls(value: str) -> str:
    """`value` without control characters (newline and tab stay)."""
    return CONTROL.sub("", value) if CONTROL.search(value) else value


def single_line(value: str) -> str:
    """`value` on one line: control characters removed, line breaks and tabs as spaces."""
    return LINE_BREAKS.sub(" ", strip_controls(value))


def has_lone_surrogate(value: str) -> bool:
    return SURROGATE.search(value) is not None


def clean_json(value: Any) -> Any:
    """Parsed JSON with control characters removed from every string and key."""
    if isinstance(value, str):
        return strip_controls(value)
    if isinstance(value, list):
        return [clean_json(item) for item in value]
    if isinstance(value, dict):
        return {strip_controls(key): clean_json(item) for key, item in value.items()}
    return value


def json_problem(value: Any) -> str | None:
    """The field error code of the first value no field can take (a lone surrogate, a
    number beyond 64 bits), or None. Parsed JSON is at most MAX_JSON_DEPTH deep."""
    if isinstance(value, str):
        return "invalid_text" if has_lone_surrogate(value) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return "number_too_large" if abs(value) > INT64_MAX else None
    if isinstance(value, float):
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value or ())
    for key, item in items:
        if isinstance(key, str) and has_lone_surrogate(key):
            return "invalid_text"
        code = json_problem(item)
        if code is not None:
            return code
    return None


def json_problems(body: Any) -> dict[str, str]:
    """Field name → error code for each member of a JSON object that has a problem; the
    members of an object inside (the API's "person") are named by their own names."""
    if not isinstance(body, dict):
        code = json_problem(body)
        return {"body": code} if code else {}
    problems = {}
    for key, item in body.items():
        if has_lone_surrogate(key):
            problems["field"] = "invalid_text"
        elif isinstance(item, dict):
            problems.update(json_problems(item))
        elif (code := json_problem(item)) is not None:
            problems[key] = code
    return problems


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `text` nests arrays or objects more than `limit` deep, read without parsing
    (the parser would recurse, and fail, on 100,000 brackets)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        first = match.group()[0]
        if first in "[{":
            depth += 1
            if depth > limit:
                return True
        elif first in "]}":
            depth -= 1
    return False


def decode_json_bytes(data: bytes | str) -> str:
    """The text of a JSON body, decoded as json.loads would (UTF-8, -16 or -32)."""
    if isinstance(data, str):
        return data
    return data.decode(json.detect_encoding(data), "surrogatepass")
