"""The page of the SMS link (/r/<token>): see, cancel, add to a calendar; a friendly 404
for unknown or expired links; lookups rate-limited per client address."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from appointments import booking, online
from appointments.models import Appointment
from core import clock
from notifications.models import Message
from tests.db.appointments_world import NOW, Agenda, at
from web.appointments import public as appointments_public

GONE = "This link no longer works."


@pytest.fixture(autouse=True)
def frozen() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


@pytest.fixture()
def booked(db) -> tuple[Appointment, str]:
    agenda = Agenda(db)
    agenda.location.postcode, agenda.location.city = "1000", "Bruxelles"
    appointment = agenda.book(at(10, 30))
    token = booking.issued_token(appointment)
    assert token
    db.commit()
    return appointment, token


def english(browser):
    browser.client.set_cookie("terrain_lang", "en")
    return browser


def test_the_page_shows_the_appointment(browser, booked):
    _appointment, token = booked
    response = english(browser).get(f"/r/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Social desk" in page
    assert "Thursday, December 3, 2026" in page
    assert "10:30" in page  # Brussels time (09:30 UTC)
    assert "Antenne Test" in page and "Rue Haute 298, 1000 Bruxelles" in page
    assert "Booked" in page
    assert f"/r/{token}?confirm=1" in page
    assert f"/r/{token}/appointment.ics" in page
    # Nothing personal beyond what the SMS said.
    assert "Amina" not in page and "+32" not in page
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script>" not in page and "style=" not in page


def test_the_page_says_what_to_bring_while_booked(browser, db, booked):
    appointment, token = booked
    appointment.service.bring_fr = "Carte d'identité\nExtraits de compte"
    appointment.service.bring_en = "Identity card\nBank statements"
    db.commit()
    page = english(browser).get(f"/r/{token}").get_data(as_text=True)
    assert "What to bring" in page
    assert "<li>Identity card</li><li>Bank statements</li>" in page


def test_the_page_speaks_the_visitors_language(browser, booked):
    _appointment, token = booked
    browser.client.set_cookie("terrain_lang", "nl")
    page = browser.get(f"/r/{token}").get_data(as_text=True)
    assert "Sociale permanentie" in page


def test_an_unknown_token_hears_a_friendly_404(browser, booked):
    response = english(browser).get("/r/not-a-real-token")
    assert response.status_code == 404
    assert GONE in response.get_data(as_text=True)
    assert english(browser).get("/r/not-a-real-token/appointment.ics").status_code == 404
    assert browser.post("/r/not-a-real-token/cancel").status_code == 404


def test_an_expired_link_hears_the_same_404(browser, booked, frozen):
    appointment, token = booked
    frozen.advance(days=3)
    assert clock.now() > appointment.end_at
    response = english(browser).get(f"/r/{token}")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert GONE in page and "Social desk" not in page


def test_cancel_asks_first_then_cancels_once(browser, db, booked):
    appointment, token = booked
    confirm = english(browser).get(f"/r/{token}?confirm=1")
    page = confirm.get_data(as_text=True)
    assert "Are you sure?" in page
    assert f'action="/r/{token}/cancel"' in page and 'name="csrf_token"' in page
    db.refresh(appointment)
    assert appointment.status == "booked"

    response = browser.post(f"/r/{token}/cancel")
    assert response.status_code == 200
    assert "Your appointment is cancelled" in response.get_data(as_text=True)
    db.refresh(appointment)
    assert appointment.status == "cancelled"
    assert appointment.cancelled_by == "person"
    messages = db.scalars(
        select(Message).where(Message.subject == booking.subject_of(appointment))
    ).all()
    reminders = [message for message in messages if message.key.startswith("reminder:")]
    assert reminders and all(message.status == "cancelled" for message in reminders)

    again = browser.post(f"/r/{token}/cancel")
    assert again.status_code == 200
    assert "already cancelled" in again.get_data(as_text=True)
    db.refresh(appointment)
    assert appointment.status == "cancelled"

    page = browser.get(f"/r/{token}").get_data(as_text=True)
    assert "Cancelled" in page and "?confirm=1" not in page


def test_cancel_needs_the_csrf_token(client, db, booked):
    appointment, token = booked
    assert client.post(f"/r/{token}/cancel").status_code == 400
    db.refresh(appointment)
    assert appointment.status == "booked"


def test_the_calendar_file(browser, booked):
    appointment, token = booked
    response = english(browser).get(f"/r/{token}/appointment.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == 'attachment; filename="appointment.ics"'
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")
    assert "DTSTART:20261203T093000Z\r\n" in body
    assert "DTEND:20261203T100000Z\r\n" in body
    assert re.search(r"DTSTAMP:\d{8}T\d{6}Z\r\n", body)
    assert f"UID:appointment-{appointment.id}@" in body
    assert "SUMMARY:Social desk\r\n" in body
    assert "DESCRIPTION:CPAS appointment\r\n" in body
    unfolded = body.replace("\r\n ", "")
    assert "LOCATION:Antenne Test" in unfolded and "\\, Rue Haute 298\\, 1000 Bruxelles" in unfolded
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))


def test_ics_escaping_and_folding():
    assert online.ics_escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "LOCATION:" + "é" * 60
    folded = online.ics_fold(line)
    parts = folded.split("\r\n")
    assert len(parts) > 1 and all(part.startswith(" ") for part in parts[1:])
    assert all(len(part.encode()) <= 75 for part in parts)
    assert folded.replace("\r\n ", "") == line


def test_lookups_are_rate_limited(browser, booked, monkeypatch):
    _appointment, token = booked
    monkeypatch.setattr(appointments_public, "LOOKUPS_PER_MINUTE", 2)
    english(browser)
    assert browser.get(f"/r/{token}").status_code == 200
    assert browser.get("/r/guess").status_code == 404
    refused = browser.get(f"/r/{token}")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Social desk" not in refused.get_data(as_text=True)
    # Not a dead end: whom to call.
    assert "Call your antenne" in refused.get_data(as_text=True)


# --- A day of real use (issue 16): moves, languages, dead ends ------------------------------


def _move(db, appointment: Appointment, start, *, by: str = "person") -> tuple[Appointment, str]:
    moved = booking.reschedule(
        db,
        appointment,
        start,
        by=by,
        link_base="https://terrain.example",
        secret_key="test-secret",
    )
    token = booking.issued_token(moved)
    assert token
    db.commit()
    return moved, token


def test_the_old_link_of_a_moved_appointment_leads_to_the_new_one(browser, db, booked):
    appointment, old_token = booked
    moved, new_token = _move(db, appointment, at(11))
    db.refresh(appointment)
    assert appointment.moved_to_id == moved.id

    response = english(browser).get(f"/r/{old_token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Your appointment was moved" in page
    assert "Moved to: <strong>Thursday, December 3, 2026 at 11:00" in page
    assert "<s>Thursday, December 3, 2026 at 10:30" in page
    assert "Cancelled" not in page  # it was, in the database: the person sees where it went
    # The old link works the new appointment: calendar, move, cancel.
    assert f'href="/r/{old_token}/move"' in page and f"/r/{old_token}?confirm=1" in page

    body = browser.get(f"/r/{old_token}/appointment.ics").get_data(as_text=True)
    assert "DTSTART:20261203T100000Z\r\n" in body and "STATUS:CONFIRMED" in body

    response = browser.post(f"/r/{old_token}/cancel")
    assert response.status_code == 200
    db.refresh(moved)
    assert moved.status == "cancelled" and moved.cancelled_by == "person"
    page = browser.get(f"/r/{new_token}").get_data(as_text=True)
    assert "Cancelled" in page
    page = browser.get(f"/r/{old_token}").get_data(as_text=True)
    assert "It was moved, then cancelled." in page and "Book a new appointment" in page
    assert f"/r/{old_token}/move" not in page


def test_the_new_link_shows_the_new_time_large_and_the_old_small(browser, db, booked):
    appointment, _token = booked
    _moved, new_token = _move(db, appointment, at(11))
    page = english(browser).get(f"/r/{new_token}?moved=1").get_data(as_text=True)
    assert 'class="moment-new">New time: <strong>Thursday, December 3, 2026 at 11:00' in page
    assert 'class="moment-old">Old time: <s>Thursday, December 3, 2026 at 10:30' in page


def test_a_moved_appointments_calendar_entry_keeps_its_uid(browser, db, booked):
    appointment, old_token = booked
    first = english(browser).get(f"/r/{old_token}/appointment.ics").get_data(as_text=True)
    assert f"UID:appointment-{appointment.id}@" in first and "SEQUENCE:0\r\n" in first
    moved, token = _move(db, appointment, at(11))
    again, token = _move(db, moved, at(11, 30))
    body = browser.get(f"/r/{token}/appointment.ics").get_data(as_text=True)
    # The calendar moves the entry it has (same UID, newer SEQUENCE) instead of adding one.
    assert f"UID:appointment-{appointment.id}@" in body and "SEQUENCE:2\r\n" in body
    assert "DTSTART:20261203T103000Z\r\n" in body
    assert again.id != appointment.id


def test_the_link_speaks_the_language_chosen_for_the_sms(client, db):
    agenda = Agenda(db)
    agenda.location.postcode, agenda.location.city = "1000", "Bruxelles"
    agenda.location.name_nl, agenda.location.address_nl = "Antenne Marollen", "Hoogstraat 298"
    agenda.location.city_nl = "Brussel"
    appointment = agenda.book(at(10, 30), language="nl")
    token = booking.issued_token(appointment)
    db.commit()
    # No cookie, a French phone: the SMS was in Dutch, so is the page.
    response = client.get(f"/r/{token}", headers={"Accept-Language": "fr-BE,fr"})
    page = response.get_data(as_text=True)
    assert '<html lang="nl"' in page
    assert "Sociale permanentie" in page
    assert "Antenne Marollen" in page and "Hoogstraat 298, 1000 Brussel" in page
    assert 'download="afspraak.ics"' in page
    ics = client.get(f"/r/{token}/appointment.ics", headers={"Accept-Language": "fr"})
    assert ics.headers["Content-Disposition"] == 'attachment; filename="afspraak.ics"'
    assert "Hoogstraat 298" in ics.get_data(as_text=True)
    # The switcher's choice wins.
    client.set_cookie("terrain_lang", "fr")
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert '<html lang="fr"' in page and "Rue Haute 298, 1000 Bruxelles" in page


def test_an_expired_link_gives_the_places_phone_and_hours(browser, db, booked, frozen):
    appointment, token = booked
    appointment.location.phone = "+3225436111"
    db.commit()
    frozen.advance(days=3)
    response = english(browser).get(f"/r/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert 'href="tel:+3225436111"' in page and "Call 02 543 61 11" in page
    assert "Opening hours" in page and "09:00–12:00" in page
    assert "Social desk" not in page  # nothing about the appointment itself


def test_an_unknown_link_lists_the_antennes_to_call(browser, db, booked):
    appointment, _token = booked
    appointment.location.phone = "+3225436111"
    db.commit()
    page = english(browser).get("/r/not-a-real-token").get_data(as_text=True)
    assert "Call your antenne" in page and "An antenne is an office of the CPAS" in page
    assert 'href="tel:+3225436111"' in page and appointment.location.name in page


def test_after_cancelling_a_link_to_book_again(browser, db, booked):
    appointment, token = booked
    response = english(browser).post(f"/r/{token}/cancel")
    page = response.get_data(as_text=True)
    assert "Book a new appointment" in page
    assert f'href="/rendez-vous/{appointment.service.code}"' in page


def test_no_file_extension_in_the_words(browser, booked):
    _appointment, token = booked
    page = english(browser).get(f"/r/{token}").get_data(as_text=True)
    assert "Add to my calendar<" in page and "(.ics)" not in page
