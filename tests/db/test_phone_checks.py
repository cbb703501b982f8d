"""One-time SMS codes (appointments/verification.py) and booking with a verified number
(appointments/online.py) on the database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from appointments import online, verification
from appointments.models import Appointment, Location, WaitingEntry
from appointments.verification import PhoneCheck
from core import clock
from core.sync import Invalid
from notifications.models import Message
from tests.db.test_appointment_booking import NOW, Agenda, at, mobile
from tests.support import sms_text

SECRET = "test-secret"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


def start(db, number: str, *, address: str = "192.0.2.1", language: str = "fr") -> PhoneCheck:
    return verification.start(
        db, raw_phone=number, language=language, address=address, secret=SECRET
    )


def sent_code(db, check: PhoneCheck) -> str:
    message = db.scalar(select(Message).where(Message.key == f"phone-check:{check.id}"))
    assert message is not None
    assert not re.search(r"\d{6}", message.body)  # masked in the outbox
    found = re.search(r"\b(\d{6})\b", sms_text(message, SECRET))
    assert found
    return found.group(1)


def code_error(excinfo) -> str:
    return excinfo.value.errors["code"].code


def test_a_check_stores_hashes_only_and_sends_the_code(db):
    number = mobile()
    check = start(db, number, language="nl")
    code = sent_code(db, check)
    assert check.code_hash != code and code not in check.code_hash
    assert number not in check.phone_hash and len(check.phone_hash) == 64
    assert check.expires_at == clock.now() + timedelta(minutes=10)
    message = db.scalar(select(Message).where(Message.key == f"phone-check:{check.id}"))
    assert message.category == "verification"
    assert message.status == "pending"  # no consent needed for a code
    assert message.to == number
    assert message.body.startswith("OCMW")  # the chosen language
    assert message.contact.display_name == verification.CONTACT_NAME


def test_landlines_and_bad_numbers_get_no_code(db):
    for raw, expected in (
        ("", "required"),
        ("12", "invalid_phone"),
        ("02 512 34 56", "not_mobile"),
        ("+44 7400 123456", "country_not_served"),  # a UK mobile: no codes abroad
        ("+242 06 612 3456", "country_not_served"),
    ):
        with pytest.raises(Invalid) as excinfo:
            start(db, raw)
        assert excinfo.value.errors["phone"].code == expected
    assert db.scalar(select(func.count(PhoneCheck.id))) == 0


def test_the_right_code_gives_a_proof_and_again_the_same(db):
    number = mobile()
    check = start(db, number)
    code = sent_code(db, check)
    proof = verification.verify(db, check, f" {code[:3]} {code[3:]} ", secret=SECRET)
    assert check.verified_at is not None and check.tries == 1
    assert verification.verify(db, check, code, secret=SECRET) == proof
    assert verification.confirmed(db, check.id, proof, number, secret=SECRET) is check


def test_a_proof_is_for_one_number_and_one_check(db):
    number = mobile()
    check = start(db, number)
    proof = verification.verify(db, check, sent_code(db, check), secret=SECRET)
    for check_id, given, phone in (
        (check.id, proof, mobile()),  # another number
        (check.id, proof[:-1] + "x", number),
        (check.id + 1000, proof, number),
        ("1", proof, number),
    ):
        with pytest.raises(Invalid) as excinfo:
            verification.confirmed(db, check_id, given, phone, secret=SECRET)
        assert excinfo.value.errors["phone"].code == "not_verified"


def test_a_verified_number_is_good_for_half_an_hour(db, frozen):
    number = mobile()
    check = start(db, number)
    proof = verification.verify(db, check, sent_code(db, check), secret=SECRET)
    frozen.advance(minutes=31)
    with pytest.raises(Invalid):
        verification.confirmed(db, check.id, proof, number, secret=SECRET)


def test_wrong_codes_count_and_the_sixth_try_is_refused(db):
    check = start(db, mobile())
    code = sent_code(db, check)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    with pytest.raises(Invalid) as excinfo:
        verification.verify(db, check, "12ab56", secret=SECRET)
    assert code_error(excinfo) == "code_format" and check.tries == 0
    for left in (4, 3, 2, 1):
        with pytest.raises(Invalid) as excinfo:
            verification.verify(db, check, wrong, secret=SECRET)
        assert code_error(excinfo) == "wrong_code"
        assert excinfo.value.errors["code"].params["left"] == left
    with pytest.raises(Invalid) as excinfo:
        verification.verify(db, check, wrong, secret=SECRET)
    assert code_error(excinfo) == "too_many_tries"
    with pytest.raises(Invalid) as excinfo:
        verification.verify(db, check, code, secret=SECRET)  # even the right one, now
    assert code_error(excinfo) == "too_many_tries"
    assert check.tries == 5 and check.verified_at is None


def test_a_code_expires_after_ten_minutes(db, frozen):
    check = start(db, mobile())
    code = sent_code(db, check)
    frozen.advance(minutes=10)
    with pytest.raises(Invalid) as excinfo:
        verification.verify(db, check, code, secret=SECRET)
    assert code_error(excinfo) == "code_expired"


def test_a_new_code_waits_a_minute(db, frozen):
    number = mobile()
    first = start(db, number)
    with pytest.raises(verification.RateLimited) as excinfo:
        start(db, number)
    assert excinfo.value.scope == "resend" and excinfo.value.retry_after == 60
    frozen.advance(seconds=61)
    second = start(db, number)
    assert second.id != first.id and sent_code(db, second)


def test_codes_per_number_and_per_address_are_limited(db, frozen):
    number = mobile()
    for _ in range(verification.CODES_PER_NUMBER):
        start(db, number, address=f"198.51.100.{_}")
        frozen.advance(seconds=61)
    with pytest.raises(verification.RateLimited) as excinfo:
        start(db, number, address="198.51.100.200")
    assert excinfo.value.scope == "number"
    frozen.advance(hours=1)
    start(db, number)  # a new hour

    for _ in range(verification.CODES_PER_ADDRESS):
        start(db, mobile(), address="203.0.113.9")
    with pytest.raises(verification.RateLimited) as excinfo:
        start(db, mobile(), address="203.0.113.9")
    assert excinfo.value.scope == "address"
    assert excinfo.value.retry_after > 3000


def test_an_ipv6_line_counts_as_one_address_and_the_site_has_a_ceiling(db, frozen, monkeypatch):
    # One home line hands out a whole /64: its addresses count together.
    for n in range(verification.CODES_PER_ADDRESS):
        start(db, mobile(), address=f"2001:db8:1:2::{n + 1:x}")
    with pytest.raises(verification.RateLimited) as excinfo:
        start(db, mobile(), address="2001:db8:1:2:ffff::1")
    assert excinfo.value.scope == "address"
    start(db, mobile(), address="2001:db8:1:3::1")  # another line
    # Numbers and addresses rotated by a script still meet the site's hourly ceiling.
    monkeypatch.setattr(verification, "CODES_PER_HOUR_ALL", 25)
    with pytest.raises(verification.RateLimited) as excinfo:
        for n in range(10):
            start(db, mobile(), address=f"198.18.0.{n}")
    assert excinfo.value.scope == "all"


def test_purge_deletes_checks_after_a_day(db, frozen):
    check = start(db, mobile())
    check_id = check.id
    frozen.advance(hours=23)
    assert verification.purge(db) == 0
    frozen.advance(hours=2)
    assert verification.purge(db) >= 1
    db.expire_all()
    assert db.get(PhoneCheck, check_id) is None


# --- Booking and the waiting list with a verified number ----------------------------------


def verified(db, number: str) -> tuple[int, str]:
    check = start(db, number)
    return check.id, verification.verify(db, check, sent_code(db, check), secret=SECRET)


def test_book_verified_books_once_per_check(db):
    agenda = Agenda(db)
    number = mobile()
    check_id, proof = verified(db, number)
    arguments = {
        "check_id": check_id,
        "proof": proof,
        "secret": SECRET,
        "service": agenda.service,
        "location": agenda.location,
        "start": at(10),
        "person_name": "Amina Test",
        "phone": number,
        "language": "fr",
        "link_base": "https://terrain.example",
    }
    first = online.book_verified(db, **arguments)
    assert first.token and not first.again
    assert first.appointment.person.phone == number
    again = online.book_verified(db, **{**arguments, "start": at(11)})
    assert again.again and again.appointment.id == first.appointment.id and again.token is None
    count = db.scalar(
        select(func.count(Appointment.id)).where(Appointment.service_id == agenda.service.id)
    )
    assert count == 1


def test_book_verified_refuses_another_number(db):
    agenda = Agenda(db)
    check_id, proof = verified(db, mobile())
    with pytest.raises(Invalid) as excinfo:
        online.book_verified(
            db,
            check_id=check_id,
            proof=proof,
            secret=SECRET,
            service=agenda.service,
            location=agenda.location,
            start=at(10),
            person_name="Amina Test",
            phone=mobile(),
            language="fr",
        )
    assert excinfo.value.errors["phone"].code == "not_verified"


def test_join_the_waiting_list_once(db, frozen):
    agenda = Agenda(db)
    number = mobile()
    check_id, proof = verified(db, number)
    arguments = {
        "check_id": check_id,
        "proof": proof,
        "secret": SECRET,
        "service": agenda.service,
        "location": agenda.location,
        "person_name": "Amina Test",
        "phone": number,
        "language": "nl",
    }
    entry = online.join_waiting_list(db, **arguments)
    assert entry.status == "waiting" and entry.location_id == agenda.location.id
    assert online.join_waiting_list(db, **arguments).id == entry.id
    frozen.advance(seconds=61)
    check_id, proof = verified(db, number)
    again = online.join_waiting_list(db, **{**arguments, "check_id": check_id, "proof": proof})
    assert again.id == entry.id  # one entry per person and service
    assert db.scalar(select(func.count(WaitingEntry.id)).where(WaitingEntry.id == entry.id)) == 1
    # A freed slot is offered to them (consent for service changes was recorded).
    appointment = agenda.book(at(10))
    from appointments import booking

    booking.cancel(db, appointment, by="person", link_base="https://terrain.example")
    db.refresh(entry)
    assert entry.status == "offered"
    offer = db.scalar(select(Message).where(Message.key.like(f"waiting-offer:{entry.id}:%")))
    assert offer is not None and offer.status == "pending"


# --- Places --------------------------------------------------------------------------------


def test_haversine_brussels_charleroi():
    assert online.haversine_km(50.8364, 4.3478, 50.4185, 4.4265) == pytest.approx(46.8, abs=0.5)


def test_places_nearest_by_position_and_by_postcode(db):
    agenda = Agenda(db)
    near = agenda.location
    near.latitude, near.longitude, near.postcode = 50.84, 4.35, "1000"
    far = Location(code="tb-far", name="Far away", postcode="6020", latitude=50.42, longitude=4.43)
    no_position = Location(code="tb-none", name="A nowhere", postcode="1030")
    db.add_all([far, no_position])
    db.flush()
    from appointments.models import ServiceLocation

    for location in (far, no_position):
        db.add(ServiceLocation(service_id=agenda.service.id, location_id=location.id))
    db.flush()
    by_position = online.places_for(db, agenda.service, position=(50.41, 4.44))
    assert [place.location.code for place in by_position] == ["tb-far", near.code, "tb-none"]
    assert by_position[-1].distance_km is None
    by_postcode = online.places_for(db, agenda.service, postcode="1020")
    assert [(place.location.code, place.match) for place in by_postcode] == [
        ("tb-none", "area"),
        (near.code, "area"),
        ("tb-far", "other"),
    ] or [place.match for place in by_postcode] == ["area", "area", "other"]
    assert online.places_for(db, agenda.service, postcode="6020")[0].location.code == "tb-far"
    for raw in ("", "abc", "0999", "10000"):
        with pytest.raises(Invalid):
            online.read_postcode(raw)
    with pytest.raises(Invalid):
        online.read_position("nan", "4")
    with pytest.raises(Invalid):
        online.read_position("91", "4")
