"""Dates of year 1 or 9999, digits that are not ASCII, ids longer than an int column:
every page answers with a message or a 404, never a server error (found in review)."""

from __future__ import annotations

import pytest

from core import clock
from core.ids import parse_id
from outreach.demo import demo_id
from web.appointments_booking import parse_start

MOMO = demo_id("momo")
FAR = ("0001-01-01", "9999-12-31")


def test_parsers_refuse_what_would_overflow_or_is_not_an_ascii_number():
    assert parse_id("42") == 42
    for raw in ("²", "٣", "-1", "", " ", "9999999999", "1e3", None):
        assert parse_id(raw) is None, raw
    for raw in (*FAR, "2026-13-01", "x"):
        assert clock.parse_day(raw) is None, raw
    assert clock.parse_month("2026-11").isoformat() == "2026-11-01"
    assert clock.parse_month("9999-12") is None
    assert parse_start("0001-01-01T00:00:00") is None
    assert parse_start("9999-12-31T23:59:59-01:00") is None


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("accueil", f"/accueil/?day={FAR[0]}"),
        ("accueil", f"/accueil/?day={FAR[1]}"),
        ("coordination", "/parametres/rendez-vous/indicateurs?month=9999-12"),
        ("coordination", "/parametres/rendez-vous/indicateurs.csv?month=0001-01"),
        ("coordination", "/outreach/indicateurs?month=9999-12"),
        ("coordination", "/sms/report?month=9999-12"),
        ("admin", f"/admin/audit?date_from={FAR[0]}&date_to={FAR[1]}"),
        (
            "accueil",
            "/api/appointments/slots?service=permanence-sociale"
            f"&location=bxl-marolles&from={FAR[0]}",
        ),
    ],
)
def test_far_dates_get_a_message_not_a_server_error(login, username, path):
    response = login(username).get(path)
    assert response.status_code < 500, (path, response.status_code)


def test_ids_beyond_an_int_column_are_not_found(login):
    browser = login("accueil")
    response = browser.post("/accueil/appointments/99999999999999999999/move", {})
    assert response.status_code == 404
    response = browser.post("/accueil/appointments/1/call", {"agent": "²"})
    assert response.status_code < 500


def test_a_consent_dated_year_one_is_refused_with_a_message(login):
    response = login("rue1").post(
        f"/outreach/personnes/{MOMO}/consentements",
        {"scopes": ["identity"], "method": "oral", "given_at": "0001-01-01T00:00"},
    )
    assert response.status_code == 422
