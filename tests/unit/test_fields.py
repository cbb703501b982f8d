"""core/fields.py: every parser's clean values, and the code it gives each bad input."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from core import fields as parse
from core.errors import Errors, FieldError, Invalid


def _run(parser: Any, value: Any, **options: Any) -> tuple[Any, str | None]:
    """The parser's value for `value` under "f", and the code it added (or None)."""
    errors: dict[str, FieldError] = {}
    result = parser({"f": value}, "f", errors, **options)
    assert set(errors) <= {"f"}
    return result, errors["f"].code if errors else None


# --- Text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "options", "expected"),
    [
        ("  Jean  ", {}, ("Jean", None)),
        ("Jean\n  Pierre\t", {}, ("Jean Pierre", None)),  # one line, spaces collapsed
        ("a\x00b\x1fc\x7f", {}, ("abc", None)),  # control characters removed
        ("line 1\n\n  line 2 ", {"multiline": True}, ("line 1\n\n  line 2", None)),
        ("a\x00\nb", {"multiline": True}, ("a\nb", None)),
        (None, {}, ("", None)),
        (None, {"required": True}, ("", "required")),
        ("   ", {"required": True}, ("", "required")),
        ("\x00\x01", {"required": True}, ("", "required")),  # nothing left once cleaned
        ("x" * 21, {}, ("x" * 21, "too_long")),
        ("x" * 20, {}, ("x" * 20, None)),
        ("ok\ud800", {}, ("", "invalid_text")),  # a lone surrogate: the database refuses it
        ("\udfff", {"multiline": True}, ("", "invalid_text")),
        ("😀 é", {}, ("😀 é", None)),  # a surrogate pair is one character
        (42, {}, ("", "not_text")),
        (["a"], {}, ("", "not_text")),
        ({"a": 1}, {}, ("", "not_text")),
        (True, {}, ("", "not_text")),
    ],
)
def test_text(value, options, expected):
    assert _run(parse.text, value, limit=20, **options) == expected


def test_too_long_text_says_the_limit():
    errors: dict[str, FieldError] = {}
    parse.text({"f": "x" * 200}, "f", errors, limit=120)
    assert errors["f"] == FieldError("too_long", {"max": 120})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  ID card \n\n   proof  of income \n", ("ID card\nproof of income", None)),
        ("a\x00b", ("ab", None)),
        ("x\ud800", ("", "invalid_text")),
        (3, ("", "not_text")),
        ("1234567890\n1234567890\n1234567890", ("1234567890\n1234567890\n1234567890", "too_long")),
    ],
)
def test_lines(value, expected):
    assert _run(parse.lines, value, limit=30) == expected


# --- Choices -----------------------------------------------------------------------------

COLOURS = ("red", "green", "blue")


@pytest.mark.parametrize(
    ("value", "options", "expected"),
    [
        ("green", {}, ("green", None)),
        (" green ", {}, ("green", None)),
        ("", {}, ("", "required")),
        (None, {}, ("", "required")),
        (None, {"default": "red"}, ("red", None)),
        ("", {"default": ""}, ("", None)),
        ("pink", {}, ("", "unknown_choice")),
        ("Green", {}, ("", "unknown_choice")),
        (1, {}, ("", "unknown_choice")),
        (["red"], {}, ("", "unknown_choice")),
        ("red\ud800", {}, ("", "unknown_choice")),
    ],
)
def test_choice(value, options, expected):
    assert _run(parse.choice, value, choices=COLOURS, **options) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["blue", "red", "blue"], (("red", "blue"), None)),  # the choices' order, once each
        ("green", (("green",), None)),
        (None, ((), None)),
        ([], ((), None)),
        (["red", "pink"], ((), "unknown_choice")),
        ([1], ((), "unknown_choice")),
        ({"red": True}, ((), "unknown_choice")),
    ],
)
def test_choices(value, expected):
    assert _run(parse.choices, value, choices=COLOURS) == expected


@pytest.mark.parametrize(
    ("value", "options", "expected"),
    [
        ("on", {}, (True, None)),
        ("1", {}, (True, None)),
        (" Yes ", {}, (True, None)),
        (True, {}, (True, None)),
        (1, {}, (True, None)),
        ("", {}, (False, None)),
        ("off", {}, (False, None)),
        ("false", {}, (False, None)),
        (False, {}, (False, None)),
        (0, {}, (False, None)),
        (None, {}, (False, None)),
        (None, {"default": True}, (True, None)),
        ("", {"default": True}, (False, None)),  # a box sent empty is unticked
        ("maybe", {}, (False, "not_boolean")),
        (2, {}, (False, "not_boolean")),
        ([True], {}, (False, "not_boolean")),
    ],
)
def test_flag(value, options, expected):
    assert _run(parse.flag, value, **options) == expected


# --- Numbers and identifiers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "options", "expected"),
    [
        ("30", {}, (30, None)),
        (" 30 ", {}, (30, None)),
        (30, {}, (30, None)),
        ("-5", {}, (None, "out_of_range")),
        ("", {}, (None, None)),
        (None, {"required": True}, (None, "required")),
        ("  ", {"required": True}, (None, "required")),
        ("3.5", {}, (None, "not_a_whole_number")),
        (30.0, {}, (None, "not_a_whole_number")),
        ("thirty", {}, (None, "not_a_whole_number")),
        ("9" * 5000, {}, (None, "not_a_whole_number")),  # never parsed: no slow int()
        (True, {}, (None, "not_a_number")),
        (10**30, {}, (None, "out_of_range")),  # a huge JSON integer
        (-(2**70), {}, (None, "out_of_range")),
        (["1"], {}, (None, "not_a_whole_number")),
    ],
)
def test_integer(value, options, expected):
    assert _run(parse.integer, value, within=(0, 100), **options) == expected


def test_integer_out_of_range_says_the_bounds():
    errors: dict[str, FieldError] = {}
    parse.integer({"f": 500}, "f", errors, within=(5, 240))
    assert errors["f"] == FieldError("out_of_range", {"min": 5, "max": 240})


@pytest.mark.parametrize(
    ("value", "options", "expected"),
    [
        ("50.86034", {}, (50.86034, None)),
        ("50,86", {}, (50.86, None)),
        (50, {}, (50.0, None)),
        ("4.123456789", {"digits": 6}, (4.123457, None)),
        ("", {}, (None, None)),
        (None, {"required": True}, (None, "required")),
        ("abc", {}, (None, "not_a_number")),
        ("nan", {}, (None, "not_a_number")),
        (float("nan"), {}, (None, "not_a_number")),
        ("inf", {}, (None, "out_of_range")),
        ("-1e400", {}, (None, "out_of_range")),
        (10**400, {}, (None, "out_of_range")),  # beyond any float
        ("1" * 5000, {}, (None, "not_a_number")),
        (True, {}, (None, "not_a_number")),
        ([50], {}, (None, "not_a_number")),
        ("91", {}, (None, "out_of_range")),
    ],
)
def test_number(value, options, expected):
    assert _run(parse.number, value, within=(-90, 90), **options) == expected


RECORD = uuid.UUID("0192a4c2-7b1e-7c3a-9f00-123456789abc")


@pytest.mark.parametrize(
    ("value", "options", "expected"),
    [
        (str(RECORD), {}, (RECORD, None)),
        (RECORD, {}, (RECORD, None)),
        ("", {}, (None, None)),
        (None, {"required": True}, (None, "required")),
        ("not-a-uuid", {}, (None, "invalid_uuid")),
        (12, {}, (None, "invalid_uuid")),
        ("0192a4c2\ud800", {}, (None, "invalid_uuid")),
    ],
)
def test_uuid(value, options, expected):
    assert _run(parse.uuid, value, **options) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["3", "1", 3], ([1, 3], None)),
        ("7", ([7], None)),
        (7, ([7], None)),
        (None, ([], None)),
        ("", ([], None)),
        (["x"], ([], "unknown_choice")),
        ([True], ([], "unknown_choice")),
        ({"a": 1}, ([], "unknown_choice")),
        (["99999999999999999999999"], ([], "unknown_choice")),  # beyond an id column
    ],
)
def test_ids(value, expected):
    assert _run(parse.ids, value) == expected


# --- Dates and times ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "options", "expected"),
    [
        ("9:05", {}, (time(9, 5), None)),
        ("09h05", {}, (time(9, 5), None)),
        (time(21), {}, (time(21), None)),
        ("", {}, (None, None)),
        (None, {"required": True}, (None, "required")),
        ("24:00", {}, (None, "invalid_time")),
        ("9", {}, (None, "invalid_time")),
        (905, {}, (None, "invalid_time")),
    ],
)
def test_time(value, options, expected):
    assert _run(parse.time, value, **options) == expected


@pytest.mark.parametrize(
    ("value", "options", "expected"),
    [
        ("2026-11-23", {}, (date(2026, 11, 23), None)),
        (date(2026, 11, 23), {}, (date(2026, 11, 23), None)),
        (datetime(2026, 11, 23, 9), {}, (date(2026, 11, 23), None)),
        ("", {}, (None, None)),
        (None, {"required": True}, (None, "required")),
        ("2026-02-30", {}, (None, "invalid_date")),
        ("0001-01-01", {}, (None, "invalid_date")),
        ("23/11/2026", {}, (None, "invalid_date")),
        (20261123, {}, (None, "invalid_date")),
    ],
)
def test_date(value, options, expected):
    assert _run(parse.date, value, **options) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-29T09:00", (datetime(2026, 3, 29, 7, tzinfo=UTC), None)),  # summer time
        ("2026-03-28 09:00", (datetime(2026, 3, 28, 8, tzinfo=UTC), None)),
        ("2026-03-29T09:00Z", (datetime(2026, 3, 29, 9, tzinfo=UTC), None)),
        ("2026-03-29T09:00+02:00", (datetime(2026, 3, 29, 7, tzinfo=UTC), None)),
        (datetime(2026, 3, 28, 9), (datetime(2026, 3, 28, 8, tzinfo=UTC), None)),
        ("", (None, "required")),
        ("tomorrow", (None, "invalid_datetime")),
        ("2026-03-29T09:00" + " " * 100, (None, "invalid_datetime")),
        ("0001-01-01T00:00", (None, "invalid_datetime")),  # shifted out of range
        (1774774800, (None, "invalid_datetime")),
    ],
)
def test_moment(value, expected):
    assert _run(parse.moment, value, required=True) == expected


@pytest.mark.parametrize(
    ("value", "written_at", "expected"),
    [
        # 2027-10-31: 02:00-02:59 twice, CEST (+02:00) then CET (+01:00).
        ("2027-10-31T02:30", None, datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
        (
            "2027-10-31T02:30",
            datetime(2027, 10, 31, 0, 40, tzinfo=UTC),
            datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
        ),
        (
            "2027-10-31T02:30",
            datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
            datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
        ),
        (
            "2027-10-31T02:30",
            datetime(2027, 11, 1, 9, tzinfo=UTC),
            datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
        ),
        (
            "2027-10-31T02:30+02:00",
            datetime(2027, 11, 1, 9, tzinfo=UTC),
            datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
        ),
        (
            "2027-10-31T03:30",
            datetime(2027, 11, 1, 9, tzinfo=UTC),
            datetime(2027, 10, 31, 2, 30, tzinfo=UTC),
        ),
        # The spring gap (2027-03-28, 02:00-02:59 never shown): as before, whatever the hour.
        ("2027-03-28T02:30", None, datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
        (
            "2027-03-28T02:30",
            datetime(2027, 3, 29, 9, tzinfo=UTC),
            datetime(2027, 3, 28, 1, 30, tzinfo=UTC),
        ),
    ],
)
def test_a_wall_time_the_autumn_change_repeats_is_the_one_already_past_when_written(
    value, written_at, expected
):
    errors = Errors()
    assert parse.moment({"f": value}, "f", errors, written_at=written_at) == expected
    assert not errors


# --- Errors ------------------------------------------------------------------------------


def test_the_first_problem_of_a_field_is_the_one_kept():
    errors = Errors()
    parse.text({"f": "x" * 20}, "f", errors, limit=10)
    errors.add("f", "invalid_code")
    parse.fail(errors, "f", "required")
    assert errors == {"f": FieldError("too_long", {"max": 10})}
    with pytest.raises(Invalid) as raised:
        errors.check()
    assert raised.value.errors == {"f": FieldError("too_long", {"max": 10})}
    Errors().check()  # nothing wrong: nothing raised


@pytest.mark.parametrize(
    ("data", "expected", "codes"),
    [
        ({"latitude": "50.8603", "longitude": "4,3517"}, (50.8603, 4.3517), {}),
        ({}, (None, None), {}),
        ({"latitude": "50.86"}, (50.86, None), {"longitude": "both_coordinates"}),
        ({"longitude": 4.35, "latitude": ""}, (None, 4.35), {"latitude": "both_coordinates"}),
        ({"latitude": "91", "longitude": "4"}, (None, 4.0), {"latitude": "out_of_range"}),
        ({"latitude": "x"}, (None, None), {"latitude": "not_a_number"}),
    ],
)
def test_coordinates(data, expected, codes):
    errors: dict[str, FieldError] = {}
    assert parse.coordinates(data, errors) == expected
    assert {name: error.code for name, error in errors.items()} == codes


@pytest.mark.parametrize(
    ("raw", "value", "error"),
    [
        (" 1030 ", "1030", None),
        ("6000", "6000", None),
        ("", "", "invalid_postcode"),
        (None, "", "invalid_postcode"),
        ("103", "103", "invalid_postcode"),
        ("10300", "10300", "invalid_postcode"),
        ("1O30", "1O30", "invalid_postcode"),
    ],
)
def test_a_belgian_postcode_is_four_digits(raw, value, error):
    errors: dict = {}
    assert parse.postcode({"postcode": raw}, "postcode", errors) == value
    assert (errors["postcode"].code if errors else None) == error
