"""Field parsers: one per kind of value, one signature for all, used by every domain.

`parse(data, name, errors, *, …)` reads `data[name]` (a form, an op's JSON `data`, or
typed values from tests and scripts: each parser accepts both), returns the clean value,
and on a problem adds `FieldError(code)` under `name` in `errors` (the first problem of a
field is the one kept) and returns an empty value. The caller checks every field, then
raises `Invalid(errors)` once, so a form shows all its mistakes together. The codes are
turned into sentences by web/validation.py: a code here never changes.

Text follows core/text.py's policy: control characters removed, a lone surrogate refused
(`invalid_text`), line breaks kept in multi-line fields only. Domains import this module
as `parse` (`from core import fields as parse`): their own `fields` names are taken.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, MutableMapping
from datetime import date as Date
from datetime import datetime
from datetime import time as Time
from typing import Any
from uuid import UUID

from core import clock
from core import text as texts
from core.errors import FieldError
from core.ids import parse_id, parse_uuid

# Field name → error: a plain dict, or core.errors.Errors.
FieldErrors = MutableMapping[str, FieldError]

WHOLE_NUMBER = re.compile(r"-?[0-9]{1,6}")
TIME = re.compile(r"\s*([0-9]{1,2})[:hH.]([0-9]{2})\s*")
MOMENT_MAX = 40  # longer than any ISO 8601 date and time with an offset
TRUE = ("1", "on", "true", "yes", "y")
FALSE = ("", "0", "off", "false", "no", "n")


def fail(errors: FieldErrors, name: str, code: str, **params: Any) -> None:
    """Add `code` under `name`, unless the field already has an error."""
    errors.setdefault(name, FieldError(code, params))


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _missing(errors: FieldErrors, name: str, required: bool) -> None:
    if required:
        fail(errors, name, "required")


# --- Text --------------------------------------------------------------------------------


def text(
    data: Mapping[str, Any],
    name: str,
    errors: FieldErrors,
    *,
    limit: int,
    required: bool = False,
    multiline: bool = False,
) -> str:
    """Text on one line, spaces collapsed; `multiline=True` keeps the text as typed (line
    breaks and spacing), without control characters. Ends are trimmed."""
    value = _raw_text(data, name, errors)
    if value is None:
        return ""
    if multiline:
        value = texts.strip_controls(value).strip()
    else:
        value = " ".join(texts.single_line(value).split())
    return _length(errors, name, value, limit, required)


def lines(
    data: Mapping[str, Any],
    name: str,
    errors: FieldErrors,
    *,
    limit: int,
    required: bool = False,
) -> str:
    """A short list typed one item a line: spaces collapsed in each line, blank lines
    dropped."""
    value = _raw_text(data, name, errors)
    if value is None:
        return ""
    value = texts.strip_controls(value)
    value = "\n".join(" ".join(line.split()) for line in value.splitlines() if line.strip())
    return _length(errors, name, value, limit, required)


def _raw_text(data: Mapping[str, Any], name: str, errors: FieldErrors) -> str | None:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        fail(errors, name, "not_text")
        return None
    if texts.has_lone_surrogate(value):  # the database could not store it
        fail(errors, name, "invalid_text")
        return None
    return value


def _length(errors: FieldErrors, name: str, value: str, limit: int, required: bool) -> str:
    if not value:
        _missing(errors, name, required)
    elif len(value) > limit:
        fail(errors, name, "too_long", max=limit)
    return value


# --- Choices -----------------------------------------------------------------------------


def choice(
    data: Mapping[str, Any],
    name: str,
    errors: FieldErrors,
    *,
    choices: Iterable[str],
    default: str | None = None,
) -> str:
    """One of `choices`; empty is `default`, or `required` when there is none."""
    value = data.get(name)
    if _empty(value):
        if default is None:
            fail(errors, name, "required")
            return ""
        return default
    if not isinstance(value, str) or value.strip() not in tuple(choices):
        fail(errors, name, "unknown_choice")
        return ""
    return value.strip()


def choices(
    data: Mapping[str, Any], name: str, errors: FieldErrors, *, choices: tuple[str, ...]
) -> tuple[str, ...]:
    """Some of `choices` (a list, or one string), in `choices`' order, once each."""
    value = data.get(name)
    if value in (None, ""):
        return ()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(item, str) for item in values):
        fail(errors, name, "unknown_choice")
        return ()
    if any(item not in choices for item in values):
        fail(errors, name, "unknown_choice")
        return ()
    return tuple(code for code in choices if code in values)


def flag(data: Mapping[str, Any], name: str, errors: FieldErrors, *, default: bool = False) -> bool:
    """A checkbox ("on", "1", "yes"…) or a JSON boolean; absent is `default`."""
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE:
        return True
    if isinstance(value, str) and value.strip().lower() in FALSE:
        return False
    fail(errors, name, "not_boolean")
    return False


# --- Numbers and identifiers -------------------------------------------------------------


def integer(
    data: Mapping[str, Any],
    name: str,
    errors: FieldErrors,
    *,
    within: tuple[int, int],
    required: bool = False,
) -> int | None:
    """A whole number within `within` (both ends included), or None if empty."""
    value = data.get(name)
    if _empty(value):
        _missing(errors, name, required)
        return None
    if isinstance(value, bool):
        fail(errors, name, "not_a_number")
        return None
    if not isinstance(value, int):
        digits = str(value).strip() if isinstance(value, str) else ""
        if not WHOLE_NUMBER.fullmatch(digits):
            fail(errors, name, "not_a_whole_number")
            return None
        value = int(digits)
    low, high = within
    if not low <= value <= high:
        fail(errors, name, "out_of_range", min=low, max=high)
        return None
    return value


def number(
    data: Mapping[str, Any],
    name: str,
    errors: FieldErrors,
    *,
    within: tuple[float, float],
    digits: int | None = None,
    required: bool = False,
) -> float | None:
    """A decimal number (a comma is accepted) within `within` (both ends included),
    rounded to `digits` if given, or None if empty."""
    value = data.get(name)
    if _empty(value):
        _missing(errors, name, required)
        return None
    parsed = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            parsed = float(value)
        except OverflowError:  # an integer beyond any float
            parsed = math.inf
    elif isinstance(value, str) and len(value) <= 100:
        try:
            parsed = float(value.strip().replace(",", "."))
        except ValueError:
            parsed = None
    if parsed is None or math.isnan(parsed):
        fail(errors, name, "not_a_number")
        return None
    low, high = within
    if not low <= parsed <= high:
        fail(errors, name, "out_of_range", min=low, max=high)
        return None
    return round(parsed, digits) if digits is not None else parsed


def coordinates(
    data: Mapping[str, Any], errors: FieldErrors, *, digits: int | None = None
) -> tuple[float | None, float | None]:
    """`latitude` and `longitude` (degrees), both or neither: one alone is
    `both_coordinates` on the one missing."""
    latitude = number(data, "latitude", errors, within=(-90, 90), digits=digits)
    longitude = number(data, "longitude", errors, within=(-180, 180), digits=digits)
    if (latitude is None) != (longitude is None) and not {"latitude", "longitude"} & set(errors):
        fail(errors, "latitude" if latitude is None else "longitude", "both_coordinates")
    return latitude, longitude


def postcode(data: Mapping[str, Any], name: str, errors: FieldErrors) -> str:
    """A Belgian postcode: four digits, else `invalid_postcode` (required)."""
    value = str(data.get(name) or "").strip()
    if not (len(value) == 4 and value.isdigit()):
        fail(errors, name, "invalid_postcode")
    return value


def uuid(
    data: Mapping[str, Any], name: str, errors: FieldErrors, *, required: bool = False
) -> UUID | None:
    """A record's UUID (made by a phone or the server), or None if empty."""
    value = data.get(name)
    if value in (None, ""):
        _missing(errors, name, required)
        return None
    if isinstance(value, UUID):
        return value
    parsed = parse_uuid(value) if isinstance(value, str) else None
    if parsed is None:
        fail(errors, name, "invalid_uuid")
    return parsed


def ids(data: Mapping[str, Any], name: str, errors: FieldErrors) -> list[int]:
    """Record ids picked from a list (one, or several), sorted, once each."""
    value = data.get(name)
    if value in (None, ""):
        return []
    values = [value] if isinstance(value, (str, int)) else value
    if not isinstance(values, (list, tuple, set)):
        fail(errors, name, "unknown_choice")
        return []
    found: set[int] = set()
    for item in values:
        if isinstance(item, int) and not isinstance(item, bool):
            found.add(item)
        elif isinstance(item, str) and (parsed := parse_id(item)) is not None:
            found.add(parsed)
        else:
            fail(errors, name, "unknown_choice")
    return sorted(found)


# --- Dates and times ---------------------------------------------------------------------


def parse_time(raw: Any) -> Time | None:
    """'9:05', '09:05', '9h05' or a time → a time; None when it is not one."""
    if isinstance(raw, Time):
        return raw
    match = TIME.fullmatch(str(raw or "")) if not isinstance(raw, (int, float)) else None
    if not match:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if hours > 23 or minutes > 59:
        return None
    return Time(hours, minutes)


def time(
    data: Mapping[str, Any], name: str, errors: FieldErrors, *, required: bool = False
) -> Time | None:
    """A time of day, or None if empty."""
    value = data.get(name)
    if _empty(value):
        _missing(errors, name, required)
        return None
    parsed = parse_time(value)
    if parsed is None:
        fail(errors, name, "invalid_time")
    return parsed


def date(
    data: Mapping[str, Any], name: str, errors: FieldErrors, *, required: bool = False
) -> Date | None:
    """A day (ISO, within clock's years), or None if empty."""
    value = data.get(name)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, Date):
        return value
    if _empty(value):
        _missing(errors, name, required)
        return None
    day = clock.parse_day(value) if isinstance(value, str) else None
    if day is None:
        fail(errors, name, "invalid_date")
    return day


def _brussels_wall_time(wall: datetime, written_at: datetime | None) -> datetime:
    """A naive Brussels wall time in UTC; the repeated autumn hour as `moment` says (a
    wall time of the spring gap, which no clock shows, keeps its first reading)."""
    if written_at is not None and clock.read_twice(wall):
        second = clock.as_utc(wall.replace(tzinfo=clock.BRUSSELS, fold=1))
        if second <= clock.as_utc(written_at):
            return second
    return clock.as_utc(wall.replace(tzinfo=clock.BRUSSELS))


def moment(
    data: Mapping[str, Any],
    name: str,
    errors: FieldErrors,
    *,
    required: bool = False,
    written_at: datetime | None = None,
) -> datetime | None:
    """A date and time in UTC, from ISO 8601 ('2026-03-29T09:00', '… 09:00', '…Z',
    '…+02:00'); without an offset it is Brussels time (a datetime-local field).

    A wall time that the autumn change repeats (02:00 to 02:59 on its night) is its
    second instant when that one was not after `written_at` (a past event written down
    then: during the second 02:xx, or later), else its first."""
    value = data.get(name)
    if _empty(value):
        _missing(errors, name, required)
        return None
    parsed = value if isinstance(value, datetime) else None
    if isinstance(value, str) and len(value) <= MOMENT_MAX:
        try:
            parsed = datetime.fromisoformat(value.strip().replace(" ", "T").replace("Z", "+00:00"))
        except ValueError:
            parsed = None
    if parsed is None:
        fail(errors, name, "invalid_datetime")
        return None
    try:
        if parsed.tzinfo is None:
            return _brussels_wall_time(parsed, written_at)
        return clock.as_utc(parsed)
    except (OverflowError, ValueError):  # year 1 or 9999 shifted out of range
        fail(errors, name, "invalid_datetime")
        return None
