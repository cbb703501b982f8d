"""The public booking pages (/rendez-vous) and moving an appointment from its link
(/r/<token>/move), through the test client: every step and every refusal, no JavaScript.

Each flow test builds its own service and place (`Agenda` of tests/db/appointments_world.py,
open every day 09:00–12:00); "now" is Tuesday 1 December 2026, 09:00 in Brussels.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from appointments import booking, verification
from appointments.models import Appointment, BookingPerson, WaitingEntry
from appointments.online import start_value
from appointments.verification import PhoneCheck
from core import clock
from notifications.models import Message
from tests.db.appointments_world import NOW, Agenda, at, mobile
from tests.support import sms_text, text_of
from tests.web.booking_steps import book_path, choose, details, last_code, times_url

LANDLINE = "02 512 34 56"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


@pytest.fixture()
def agenda(db) -> Agenda:
    agenda = Agenda(db)
    agenda.location.postcode, agenda.location.city = "1000", "Bruxelles"
    db.commit()
    return agenda


@pytest.fixture()
def en(browser):
    browser.client.set_cookie("terrain_lang", "en")
    return browser


def appointments_of(db, number: str) -> list[Appointment]:
    db.expire_all()
    return list(
        db.scalars(
            select(Appointment)
            .join(BookingPerson, BookingPerson.id == Appointment.person_id)
            .where(BookingPerson.phone == number)
            .order_by(Appointment.id)
        )
    )


# --- Step 1 and 2 ---------------------------------------------------------------------------


def test_services_list_the_three_kinds(en):
    # Three CPAS in the demo: the person says where they live first (or picks one); a
    # service link without a CPAS chosen goes to that step first.
    response = en.post("/rendez-vous/permanence-sociale/nearest", {"postcode": "1000"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/rendez-vous/")
    page = text_of(en.get("/rendez-vous"))
    assert "Your postcode or your commune" in page
    assert 'href="/rendez-vous/bruxelles"' in page and 'href="/rendez-vous/charleroi"' in page
    response = en.get("/rendez-vous/bruxelles")
    page = text_of(response)
    assert response.status_code == 200
    assert "Step 1 of 5" in page
    assert 'href="/rendez-vous/permanence-sociale"' in page  # online
    assert "30 minutes" in page
    assert "This appointment is made by phone. Call your antenne" in page  # energie
    assert "Antenne Marolles" in page and "Rue Haute 298, 1000 Bruxelles" in page
    # Schaerbeek's drop-in is Schaerbeek's: not on Brussels' page, on its own.
    assert "No appointment needed: come during the opening hours." not in page
    schaerbeek = text_of(en.get("/rendez-vous/schaerbeek"))
    assert "No appointment needed: come during the opening hours." in schaerbeek  # walk-in
    assert "Le22Rogier" in schaerbeek and "Antenne Marolles" not in schaerbeek
    assert "Monday – Friday" in page and "08:30–12:00, 13:00–16:00" in page
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert "<script" not in page.split("</head>")[1]  # no script needed on this page
    assert en.get("/rendez-vous/").status_code == 200


def test_the_login_page_links_to_booking(en):
    assert 'href="/rendez-vous/"' in text_of(en.get("/login"))


def test_an_unknown_service_or_place_is_a_friendly_404(en, agenda):
    response = en.get("/rendez-vous/no-such-service")
    assert response.status_code == 404
    assert "We cannot find this service" in text_of(response)
    response = en.get(f"/rendez-vous/{agenda.service.code}/no-such-place")
    assert response.status_code == 404 and "We cannot find this place" in text_of(response)
    # A place that does not offer the service is unknown too.
    assert en.get(f"/rendez-vous/{agenda.service.code}/bxl-marolles").status_code == 404
    response = en.post(f"/rendez-vous/no-such-service/{agenda.location.code}", {"start": "x"})
    assert response.status_code == 404


def test_phone_only_services_go_back_to_the_list(en):
    response = en.get("/rendez-vous/energie")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/rendez-vous/#s-energie")


def test_places_sorted_by_postcode(en):
    assert en.get("/rendez-vous/clr-permanence-sociale").status_code == 302  # no CPAS yet
    en.get("/rendez-vous/charleroi")
    page = text_of(en.get("/rendez-vous/clr-permanence-sociale"))
    assert "Step 2 of 5" in page and "Use my position" in page
    response = en.post("/rendez-vous/clr-permanence-sociale/nearest", {"postcode": "6020"})
    assert response.status_code == 302
    assert "6020" not in response.headers["Location"]  # in the session, not the URL
    page = text_of(en.get("/rendez-vous/clr-permanence-sociale"))
    assert "It is a guess, not a distance." in page
    order = [page.index(name) for name in ("Espace citoyen Dampremy", "Espace citoyen Docherie")]
    assert order == sorted(order)
    assert "Same postcode" in page
    assert "Antenne Marolles" not in page and "Le22Rogier" not in page  # other CPAS


def test_places_sorted_by_position(en):
    en.get("/rendez-vous/bruxelles")
    response = en.post(
        "/rendez-vous/permanence-sociale/nearest",
        {"how": "position", "lat": "50.8370", "lon": "4.3480"},
    )
    assert response.status_code == 302 and "50.8" not in response.headers["Location"]
    page = text_of(en.get("/rendez-vous/permanence-sociale"))
    assert "as the crow flies" in page
    first = page.index("Antenne Marolles")
    assert first < page.index("Antenne Nord-Est")
    assert "Espace citoyen Dampremy" not in page  # Charleroi's: not in Brussels' booking
    assert re.search(r"About 0\.\d km", page)  # the position is rounded to ~1 km


def test_bad_postcode_or_position_is_422(en):
    en.get("/rendez-vous/bruxelles")
    response = en.post("/rendez-vous/permanence-sociale/nearest", {"postcode": "12"})
    assert response.status_code == 422
    page = text_of(response)
    assert (
        "Give a Belgian postcode" in page
        and 'aria-describedby="postcode-hint postcode-error"' in page
    )
    response = en.post(
        "/rendez-vous/permanence-sociale/nearest", {"how": "position", "lat": "x", "lon": "4"}
    )
    assert response.status_code == 422


# --- Step 3 -----------------------------------------------------------------------------------


def test_times_grouped_by_day_with_week_paging(en, agenda):
    page = text_of(en.get(times_url(agenda)))
    assert "Step 3 of 5" in page
    # Today's first time is 11:00 (2 hours' notice); Thursday has 09:00 … 11:30.
    assert "Thursday, December 3, 2026" in page
    assert 'value="2026-12-03T09:00:00+01:00"' in page
    assert 'value="2026-12-01T10:30:00+01:00"' not in page  # too soon
    assert "Earlier" not in page and f"{times_url(agenda)}?from=2026-12-08" in page
    later = text_of(en.get(f"{times_url(agenda)}?from=2026-12-08"))
    assert "Tuesday, December 8, 2026" in later and "Thursday, December 3" not in later
    assert f"{times_url(agenda)}?from=2026-12-01" in later
    # Dates in the person's language.
    en.client.set_cookie("terrain_lang", "nl")
    assert "donderdag 3 december 2026" in text_of(en.get(times_url(agenda)))


def test_past_or_off_grid_times_are_refused(en, agenda, db):
    en.get(times_url(agenda))
    for start, sentence in (
        (at(8, day=NOW.date() - timedelta(days=1)), "This time has already passed."),
        (at(10, 10), "This time is not a free slot"),
        (at(13), "This time is not a free slot"),  # closed
        (None, "Choose from the list."),
    ):
        value = start_value(start) if start else "not-a-date"
        response = en.post(times_url(agenda), {"start": value})
        assert response.status_code == 422, value
        assert sentence in text_of(response)
    with en.client.session_transaction() as session:
        assert "start" not in session.get("booking", {})


def test_no_free_time_offers_the_waiting_list(en, agenda):
    page = text_of(en.get(f"{times_url(agenda)}?from=2027-06-01"))  # beyond the horizon
    assert "Join the waiting list" in page


# --- Steps 4 to 6 -----------------------------------------------------------------------------


def test_the_whole_path_books_once(en, agenda, db):
    number = mobile()
    locations = []
    response = choose(en, agenda)
    locations.append(response.headers["Location"])
    page = text_of(en.get("/rendez-vous/details"))
    assert "Step 4 of 5" in page and "You will get a confirmation and reminders by SMS." in page
    assert 'value="fr" checked' in page or 'value="en" checked' in page
    response = details(en, number, language="en")
    assert response.status_code == 302
    locations.append(response.headers["Location"])
    check = db.scalar(select(PhoneCheck).order_by(PhoneCheck.id.desc()))
    message = db.scalar(select(Message).where(Message.key == f"phone-check:{check.id}"))
    # The place is Marolles' team's: the code speaks for the CPAS de Bruxelles.
    assert message.to == number and message.body.startswith("CPAS de Bruxelles: your code is")
    page = text_of(en.get("/rendez-vous/code"))
    assert "Step 5 of 5" in page and number not in page
    assert "You can ask for a new code in 60 seconds." in page
    response = en.post("/rendez-vous/code", {"code": last_code(db)})
    assert response.status_code == 302
    locations.append(response.headers["Location"])
    assert locations[-1].endswith("/rendez-vous/done")
    done = en.get("/rendez-vous/done")
    page = text_of(done)
    assert "Your appointment is booked" in page
    assert "Thursday, December 3, 2026" in page and "10:00" in page
    assert "Antenne Test" in page and "Rue Haute 298, 1000 Bruxelles" in page
    token = re.search(r'href="/r/([^"/]+)"', page).group(1)
    assert f"/r/{token}/appointment.ics" in page
    booked = appointments_of(db, number)
    assert len(booked) == 1 and booked[0].source == "online"
    assert booking.find_by_token(db, token).id == booked[0].id
    assert booked[0].person.language == "en"
    confirmation = db.scalar(
        select(Message).where(Message.key == f"confirmation:appointment:{booked[0].id}")
    )
    assert confirmation is not None and f"/r/{token}" in sms_text(confirmation)
    assert token not in confirmation.body and "/r/…" in confirmation.body
    # A second tap on the last button books nothing more and still shows the booking.
    again = en.post("/rendez-vous/code", {"code": last_code(db)})
    assert again.status_code in (302, 303)
    assert len(appointments_of(db, number)) == 1
    # No name or number in any URL, nor left in the session.
    for location in locations:
        assert number not in location and "Amina" not in location and "+32" not in location
    with en.client.session_transaction() as session:
        assert "phone" not in session.get("booking", {}) and "name" not in session.get(
            "booking", {}
        )


def test_final_post_twice_at_once_books_once(en, agenda, db):
    """The same code posted again (a double tap) sees the check used: one booking."""
    number = mobile()
    choose(en, agenda)
    details(en, number)
    code = last_code(db)
    with en.client.session_transaction() as session:
        saved = dict(session)
    assert en.post("/rendez-vous/code", {"code": code}).status_code == 302
    with en.client.session_transaction() as session:  # the second tap's older cookie
        session.clear()
        session.update(saved)
    response = en.post("/rendez-vous/code", {"code": code})
    assert response.status_code == 302 and response.headers["Location"].endswith("/done")
    page = text_of(en.get("/rendez-vous/done"))
    assert "Your appointment is booked" in page and "open the link in the SMS" in page
    assert len(appointments_of(db, number)) == 1


@pytest.mark.parametrize(
    ("phone", "sentence"),
    [
        ("", "This is needed."),
        ("12345", "This is not a phone number we can reach."),
        (LANDLINE, "Give a mobile number: the confirmation comes by SMS."),
    ],
)
def test_bad_numbers_are_refused_and_send_nothing(en, agenda, db, phone, sentence):
    choose(en, agenda)
    before = db.scalar(select(func.count(Message.id)))
    response = details(en, phone)
    assert response.status_code == 422
    page = text_of(response)
    assert sentence in page and 'aria-describedby="phone-hint phone-error"' in page
    assert db.scalar(select(func.count(Message.id))) == before


def test_name_is_needed(en, agenda):
    choose(en, agenda)
    response = details(en, mobile(), name=" ")
    assert response.status_code == 422 and 'id="name-error"' in text_of(response)


def test_wrong_code_then_too_many_tries(en, agenda, db):
    choose(en, agenda)
    details(en, mobile())
    code = last_code(db)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    response = en.post("/rendez-vous/code", {"code": wrong})
    assert response.status_code == 422
    assert "This code is not right. You can try 4 more times." in text_of(response)
    response = en.post("/rendez-vous/code", {"code": "12"})
    assert response.status_code == 422 and "Type the 6 digits" in text_of(response)
    for _ in range(4):
        response = en.post("/rendez-vous/code", {"code": wrong})
    assert response.status_code == 422
    assert "Too many wrong codes. Ask for a new code." in text_of(response)
    response = en.post("/rendez-vous/code", {"code": code})
    assert response.status_code == 422
    assert (
        db.scalar(
            select(func.count(Appointment.id)).where(Appointment.service_id == agenda.service.id)
        )
        == 0
    )


def test_expired_code_and_a_new_one(en, agenda, db, frozen):
    number = mobile()
    choose(en, agenda)
    details(en, number)
    old = last_code(db)
    response = en.post("/rendez-vous/code/new")
    assert response.status_code == 429 and "Wait 60 seconds" in text_of(response)
    frozen.advance(minutes=11)
    response = en.post("/rendez-vous/code", {"code": old})
    assert response.status_code == 422 and "This code is too old." in text_of(response)
    response = en.post("/rendez-vous/code/new")
    assert response.status_code == 302
    assert en.post("/rendez-vous/code", {"code": old}).status_code == 422
    assert en.post("/rendez-vous/code", {"code": last_code(db)}).status_code == 302
    assert len(appointments_of(db, number)) == 1


def test_codes_are_limited_per_number(en, agenda, db, frozen):
    number = mobile()
    choose(en, agenda)
    for attempt in range(verification.CODES_PER_NUMBER):
        en.client.environ_base["REMOTE_ADDR"] = f"198.51.100.{attempt}"
        assert details(en, number).status_code == 302
        frozen.advance(seconds=61)
        with en.client.session_transaction() as session:
            session["booking"] = {**session["booking"], "phone": None}
            session["booking"].pop("phone")
    en.client.environ_base["REMOTE_ADDR"] = "198.51.100.99"
    response = details(en, number)
    assert response.status_code == 429
    assert "Too many codes were sent to this number" in text_of(response)
    assert int(response.headers["Retry-After"]) > 0


def patient_details(browser, frozen, number: str):
    """Step 4, waiting as long as the growing delays between codes ask."""
    while True:
        response = details(browser, number)
        if response.status_code != 429 or "Many codes were asked from here just now" not in (
            text_of(response)
        ):
            return response
        frozen.advance(seconds=int(response.headers["Retry-After"]))


def test_codes_are_limited_per_address(en, agenda, db, frozen):
    en.client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    choose(en, agenda)
    for _ in range(verification.CODES_PER_ADDRESS):
        assert patient_details(en, frozen, mobile()).status_code == 302
    response = details(en, mobile())
    assert response.status_code == 429
    assert "Too many codes were asked from here" in text_of(response)


def test_codes_asked_fast_wait_longer_each_time(en, agenda, db, frozen):
    en.client.environ_base["REMOTE_ADDR"] = "203.0.113.78"
    choose(en, agenda)
    for _ in range(verification.ADDRESS_PACE.free_failures):
        assert details(en, mobile()).status_code == 302
    for seconds in (15, 30, 60):
        response = details(en, mobile())
        assert response.status_code == 429 and response.headers["Retry-After"] == str(seconds)
        assert f"Wait {seconds} seconds, then try again" in text_of(response)
        frozen.advance(seconds=seconds)
        assert details(en, mobile()).status_code == 302
    response = details(en, mobile())
    assert response.headers["Retry-After"] == "120"
    assert "Wait 2 minutes, then try again" in text_of(response)


@pytest.mark.parametrize(
    ("language", "heading", "call", "hours"),
    [
        ("en", "Book by phone instead", "Call 02 512 34 56", "Opening hours"),
        ("fr", "Prendre rendez-vous par téléphone", "Appeler le 02 512 34 56", "Heures"),
        ("nl", "Maak de afspraak telefonisch", "Bel 02 512 34 56", "Openingsuren"),
    ],
)
def test_when_no_code_can_be_sent_the_page_gives_the_place_phone_and_hours(
    browser, agenda, db, monkeypatch, language, heading, call, hours
):
    agenda.location.phone = "+3225123456"
    db.commit()
    monkeypatch.setattr(verification, "CODES_PER_HOUR_ALL", 1)  # the site's ceiling
    monkeypatch.setattr(verification, "CODES_KEPT_FOR_KNOWN", 0)
    browser.client.set_cookie("terrain_lang", language)
    choose(browser, agenda)
    browser.client.environ_base["REMOTE_ADDR"] = "198.51.100.1"
    assert details(browser, mobile()).status_code == 302  # someone else, a moment before
    browser.client.environ_base["REMOTE_ADDR"] = "203.0.113.1"
    response = details(browser, mobile())
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    page = text_of(response)
    assert heading in page and call in page and hours in page
    assert 'href="tel:+3225123456"' in response.get_data(as_text=True)
    assert "09:00–12:00" in page  # the place's hours, every day here
    assert db.scalar(select(func.count(PhoneCheck.id))) == 1  # nothing more was sent


def test_a_fourth_booking_from_one_number_is_refused(en, agenda, db):
    number = mobile()
    for hour in (9, 10, 11):
        agenda.book(at(hour), phone=number)
    db.commit()
    response = book_path(en, db, agenda, number, at(9, 30))
    assert response.status_code == 422
    assert "This number already has 3 appointments to come." in text_of(response)
    assert len(appointments_of(db, number)) == 3


def test_a_time_taken_meanwhile_goes_back_to_the_times(en, agenda, db):
    number = mobile()
    choose(en, agenda, at(10))
    details(en, number)
    agenda.book(at(10))  # someone else, a moment before
    db.commit()
    response = en.post("/rendez-vous/code", {"code": last_code(db)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(times_url(agenda))
    page = text_of(en.get(times_url(agenda)))
    assert "This time was just taken by someone else." in page
    assert "The next free times" in page
    assert 'value="2026-12-03T10:30:00+01:00"' in page
    # Another time, the same number: no second code needed.
    codes = db.scalar(select(func.count(Message.id)).where(Message.key.like("phone-check:%")))
    en.post(times_url(agenda), {"start": start_value(at(10, 30))})
    response = details(en, number)
    assert response.status_code == 302 and response.headers["Location"].endswith("/done")
    assert (
        db.scalar(select(func.count(Message.id)).where(Message.key.like("phone-check:%"))) == codes
    )
    assert [a.start_at for a in appointments_of(db, number)] == [at(10, 30)]


def test_steps_out_of_order_start_again(en):
    for path in ("/rendez-vous/details", "/rendez-vous/code", "/rendez-vous/done"):
        response = en.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith(
            "/rendez-vous/"
        )


def test_posts_need_the_csrf_token(client, agenda):
    assert client.post(times_url(agenda), data={"start": start_value(at(10))}).status_code == 400
    assert client.post("/rendez-vous/code", data={"code": "123456"}).status_code == 400


def test_join_the_waiting_list(en, agenda, db):
    number = mobile()
    en.get(times_url(agenda))
    response = en.post(f"{times_url(agenda)}/waiting")
    assert response.status_code == 302 and response.headers["Location"].endswith("/details")
    page = text_of(en.get("/rendez-vous/details"))
    assert "Waiting list" in page and "You will get an SMS when a time becomes free." in page
    assert details(en, number, language="nl").status_code == 302
    response = en.post("/rendez-vous/code", {"code": last_code(db)})
    assert response.status_code == 302
    page = text_of(en.get("/rendez-vous/done"))
    assert "You are on the waiting list" in page
    entry = db.scalar(select(WaitingEntry).where(WaitingEntry.service_id == agenda.service.id))
    assert entry is not None and entry.status == "waiting"
    assert entry.location_id == agenda.location.id


def test_joining_the_same_waiting_list_twice_says_so(en, agenda, db, frozen):
    number = mobile()
    for name in ("Amina Test", "Amina T."):  # another code, another name, the same number
        en.get(times_url(agenda))
        en.post(f"{times_url(agenda)}/waiting")
        assert details(en, number, name=name).status_code == 302
        assert en.post("/rendez-vous/code", {"code": last_code(db)}).status_code == 302
        frozen.advance(seconds=61)
    response = en.get("/rendez-vous/done")
    assert response.status_code == 200
    page = text_of(response)
    assert "You are already on the waiting list" in page and "nothing was added" in page
    entries = select(func.count(WaitingEntry.id)).where(WaitingEntry.phone == number)
    assert db.scalar(entries) == 1


# --- Moving from the link ----------------------------------------------------------------------


@pytest.fixture()
def booked(db, agenda) -> tuple[Appointment, str]:
    appointment = agenda.book(at(10))
    token = booking.issued_token(appointment)
    db.commit()
    return appointment, token


def test_move_shows_the_times_then_asks_then_moves(en, db, booked, agenda):
    appointment, token = booked
    page = text_of(en.get(f"/r/{token}"))
    assert f'href="/r/{token}/move"' in page and "Move this appointment" in page
    page = text_of(en.get(f"/r/{token}/move"))
    assert "Move your appointment" in page
    assert 'value="2026-12-03T11:00:00+01:00"' in page
    response = en.post(f"/r/{token}/move", {"start": start_value(at(11))})
    page = text_of(response)
    assert response.status_code == 200 and "Move your appointment?" in page
    assert 'name="confirm" value="1"' in page
    db.refresh(appointment)
    assert appointment.status == "booked"
    response = en.post(f"/r/{token}/move", {"start": start_value(at(11)), "confirm": "1"})
    assert response.status_code == 302
    new_token = re.search(r"/r/([^/?]+)\?moved=1", response.headers["Location"]).group(1)
    assert new_token != token
    page = text_of(en.get(f"/r/{new_token}?moved=1"))
    assert "Your appointment is moved." in page and "11:00" in page
    db.refresh(appointment)
    assert appointment.status == "cancelled" and appointment.cancelled_by == "person"
    # The old link says where it went and leads to the new one (not "Cancelled").
    page = text_of(en.get(f"/r/{token}"))
    assert "Your appointment was moved" in page and "Moved to:" in page
    assert "Thursday, December 3, 2026 at 11:00" in page  # the new time
    assert "<s>Thursday, December 3, 2026 at 10:00" in page  # the old one, struck
    assert "Cancelled" not in page and f'href="/r/{token}/move"' in page


def test_move_to_a_taken_or_bad_time(en, db, booked, agenda):
    _appointment, token = booked
    agenda.book(at(11))
    db.commit()
    response = en.post(f"/r/{token}/move", {"start": start_value(at(11)), "confirm": "1"})
    assert response.status_code == 409
    page = text_of(response)
    assert "This time was just taken by someone else." in page
    assert "The next free times" in page
    response = en.post(f"/r/{token}/move", {"start": start_value(at(10, 10)), "confirm": "1"})
    assert response.status_code == 422 and "not a free slot" in text_of(response)
    response = en.post(f"/r/{token}/move", {"start": "nonsense"})
    assert response.status_code == 422


def test_move_with_an_unknown_or_expired_link_is_404(en, booked, frozen):
    _appointment, token = booked
    assert en.get("/r/not-a-token/move").status_code == 404
    frozen.advance(days=3)
    assert en.get(f"/r/{token}/move").status_code == 404
    assert en.post(f"/r/{token}/move", {"start": "x"}).status_code == 404


def test_a_new_code_refused_by_the_ceiling_also_gives_the_place(
    en, agenda, db, frozen, monkeypatch
):
    agenda.location.phone = "+3225123456"
    db.commit()
    choose(en, agenda)
    assert details(en, mobile()).status_code == 302
    response = en.post("/rendez-vous/code/new")  # within the minute: just wait
    assert response.status_code == 429 and "Book by phone instead" not in text_of(response)
    frozen.advance(seconds=61)
    monkeypatch.setattr(verification, "CODES_PER_HOUR_ALL", 1)
    monkeypatch.setattr(verification, "CODES_KEPT_FOR_KNOWN", 0)
    response = en.post("/rendez-vous/code/new")
    assert response.status_code == 429
    page = text_of(response)
    assert "We cannot send more codes for now" in page
    assert "Book by phone instead" in page and "Call 02 512 34 56" in page


# --- A day of real use (issue 16) -----------------------------------------------------------


def test_phone_only_services_give_each_places_number_and_hours(en):
    page = text_of(en.get("/rendez-vous/bruxelles"))
    energy = page.split('id="s-energie"')[1].split("</section>")[0]
    assert 'href="tel:+3225436111"' in energy and "Call 02 543 61 11" in energy
    assert "Monday – Friday" in energy and "08:30–12:00, 13:00–16:00" in energy


def test_dutch_pages_give_dutch_street_names(browser):
    browser.client.set_cookie("terrain_lang", "nl")
    page = text_of(browser.get("/rendez-vous/bruxelles"))
    assert "Antenne Marollen" in page and "Hoogstraat 298, 1000 Brussel" in page
    assert "Rue Haute" not in page
    # Charleroi has no Dutch names: its French ones stay.
    browser.client.set_cookie("terrain_lang", "fr")
    page = text_of(browser.get("/rendez-vous/bruxelles"))
    assert "Antenne Marolles" in page and "Rue Haute 298, 1000 Bruxelles" in page


def test_week_links_say_which_week_and_back_links_are_finger_sized(en, agenda):
    page = text_of(en.get(times_url(agenda)))
    assert ">Next week</a>" in page and ">Later<" not in page
    assert '<a class="back-link" href="/rendez-vous/' in page


def test_a_booking_at_night_gets_its_confirmation_at_once(en, db, agenda, frozen):
    night = datetime(2026, 12, 1, 23, 30, tzinfo=clock.BRUSSELS)
    frozen.advance(seconds=(night - clock.now()).total_seconds())
    number = mobile()
    assert book_path(en, db, agenda, number).status_code == 302
    page = text_of(en.get("/rendez-vous/done"))
    assert "We also sent you an SMS with these details." in page
    (appointment,) = appointments_of(db, number)
    confirmation = db.scalar(
        select(Message).where(Message.key == f"confirmation:appointment:{appointment.id}")
    )
    assert confirmation is not None and confirmation.requested
    # Not held until 08:00: the person asked for it just now.
    assert clock.as_utc(confirmation.not_before) == clock.as_utc(night)
    reminders = db.scalars(
        select(Message).where(Message.key.like(f"reminder:appointment:{appointment.id}:%"))
    ).all()
    assert reminders and not any(message.requested for message in reminders)


def test_the_done_page_says_when_a_held_sms_will_arrive(en, db, agenda, frozen):
    number = mobile()
    assert book_path(en, db, agenda, number).status_code == 302
    (appointment,) = appointments_of(db, number)
    confirmation = db.scalar(
        select(Message).where(Message.key == f"confirmation:appointment:{appointment.id}")
    )
    later = datetime(2026, 12, 2, 8, 0, tzinfo=clock.BRUSSELS)
    confirmation.not_before = later
    db.commit()
    page = text_of(en.get("/rendez-vous/done"))
    assert "We also sent you an SMS" not in page
    assert "We will send you an SMS with these details on Wednesday, December 2, 2026 at 8:00" in (
        page
    )


def test_a_move_at_night_by_the_person_is_confirmed_at_once_by_staff_it_waits(db, agenda, frozen):
    night = datetime(2026, 12, 1, 22, 0, tzinfo=clock.BRUSSELS)
    frozen.advance(seconds=(night - clock.now()).total_seconds())
    for by, leaves in (
        ("person", night),
        ("staff", datetime(2026, 12, 2, 8, 0, tzinfo=clock.BRUSSELS)),
    ):
        appointment = agenda.book(at(10))
        moved = booking.reschedule(
            db, appointment, at(11), by=by, link_base="https://t.example", secret_key="k"
        )
        db.commit()
        changed = db.scalar(select(Message).where(Message.key == f"changed:appointment:{moved.id}"))
        assert changed is not None and changed.requested == (by == "person")
        assert clock.as_utc(changed.not_before) == clock.as_utc(leaves)
        booking.cancel(db, moved, by="staff")
        db.commit()


def test_the_sms_of_a_phone_only_appointment_gives_the_number_not_the_street(db, agenda):
    agenda.service.booking_mode = "phone"
    agenda.location.phone = "+3225436111"
    agenda.location.address_nl = "Hoogstraat 298"
    db.commit()
    for language, expected in (("fr", "tél. 02 543 61 11"), ("nl", "tel. 02 543 61 11")):
        appointment = agenda.book(at(10), source="phone", language=language)
        db.commit()
        confirmation = db.scalar(
            select(Message).where(Message.key == f"confirmation:appointment:{appointment.id}")
        )
        assert expected in confirmation.body
        assert "Rue Haute" not in confirmation.body and "Hoogstraat" not in confirmation.body
        booking.cancel(db, appointment, by="staff")
        db.commit()


def test_a_dutch_sms_gives_the_dutch_street(db, agenda):
    agenda.location.name_nl, agenda.location.address_nl = "Antenne Marollen", "Hoogstraat 298"
    db.commit()
    appointment = agenda.book(at(10), language="nl")
    db.commit()
    confirmation = db.scalar(
        select(Message).where(Message.key == f"confirmation:appointment:{appointment.id}")
    )
    assert "Antenne Marollen, Hoogstraat 298" in confirmation.body


def test_moving_from_the_old_link_after_a_first_move(en, db, booked, agenda):
    appointment, old_token = booked
    response = en.post(f"/r/{old_token}/move", {"start": start_value(at(11)), "confirm": "1"})
    assert response.status_code == 302
    # The person kept the first SMS and moves again from it: the current one moves.
    response = en.post(f"/r/{old_token}/move", {"start": start_value(at(11, 30)), "confirm": "1"})
    assert response.status_code == 302
    db.expire_all()
    chain = db.scalars(
        select(Appointment)
        .where(Appointment.person_id == appointment.person_id)
        .order_by(Appointment.id)
    ).all()
    assert [a.status for a in chain] == ["cancelled", "cancelled", "booked"]
    assert chain[0].moved_to_id == chain[1].id and chain[1].moved_to_id == chain[2].id
    page = text_of(en.get(f"/r/{old_token}"))
    assert "Moved to: <strong>Thursday, December 3, 2026 at 11:30" in page
