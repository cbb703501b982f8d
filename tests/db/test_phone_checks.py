"""One-time SMS codes (appointments/verification.py) and booking with a verified number
(appointments/online.py) on the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from appointments import online, verification
from appointments.models import Appointment, Location, Service, ServiceLocation, WaitingEntry
from appointments.verification import PhoneCheck
from core import clock
from core.errors import Invalid
from notifications.models import Message
from tests.db.appointments_world import NOW, Agenda, at, mobile
from tests.db.phone_codes import SECRET, sent_code, start, verified
from tests.support import migrated_database, place_team


@pytest.fixture(autouse=True)
def frozen() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


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


def patiently(db, frozen, number: str, address: str) -> int:
    """A code for `number` from `address`, waiting as long as the growing delays ask;
    returns how many seconds were waited. Other refusals are raised."""
    waited = 0
    while True:
        try:
            start(db, number, address=address)
            return waited
        except verification.RateLimited as limited:
            if limited.scope != "slow":
                raise
            frozen.advance(seconds=limited.retry_after)
            waited += limited.retry_after


def test_codes_per_number_and_per_address_are_limited(db, frozen):
    number = mobile()
    for _ in range(verification.CODES_PER_NUMBER):
        start(db, number, address=f"198.51.{_}.1")
        frozen.advance(seconds=61)
    with pytest.raises(verification.RateLimited) as excinfo:
        start(db, number, address="198.51.200.1")
    assert excinfo.value.scope == "number"
    frozen.advance(hours=1)
    start(db, number)  # a new hour

    for _ in range(verification.CODES_PER_ADDRESS):
        patiently(db, frozen, mobile(), "203.0.113.9")
    with pytest.raises(verification.RateLimited) as excinfo:
        start(db, mobile(), address="203.0.113.9")
    assert excinfo.value.scope == "address"
    assert excinfo.value.retry_after > 1000  # until the hour that began with the first code


def test_codes_from_one_address_wait_longer_and_longer(db, frozen):
    address = "203.0.113.50"
    for _ in range(verification.ADDRESS_PACE.free_failures):
        start(db, mobile(), address=address)  # a family: a few codes at once
    for expected in (15, 30, 60, 120, 120):
        with pytest.raises(verification.RateLimited) as excinfo:
            start(db, mobile(), address=address)
        assert (excinfo.value.scope, excinfo.value.retry_after) == ("slow", expected)
        frozen.advance(seconds=expected // 2)
        with pytest.raises(verification.RateLimited) as excinfo:
            start(db, mobile(), address=address)  # tapping again does not add to the wait
        assert excinfo.value.retry_after == expected - expected // 2
        frozen.advance(seconds=expected - expected // 2)
        start(db, mobile(), address=address)
    frozen.advance(hours=1)  # a new hour: the first codes go at once again
    start(db, mobile(), address=address)
    start(db, mobile(), address=address)


def test_fifteen_addresses_of_one_network_are_stopped_long_before_the_site_ceiling(db, frozen):
    """The attack of the security review: 20 codes from each of 15 addresses of one
    /24 (277 codes in 3 s) used up the site's 300 an hour. Now the network's count
    stops them at CODES_PER_PREFIX, and a burst gets only the network's first codes."""
    addresses = [f"203.0.113.{n + 10}" for n in range(15)]
    sent = refused = 0
    for address in addresses:  # the burst: no time passes
        for _ in range(20):
            try:
                start(db, mobile(), address=address)
                sent += 1
            except verification.RateLimited:
                refused += 1
    assert sent == verification.PREFIX_PACE.free_failures and refused == 300 - sent

    # A patient script waits every delay, turning through the addresses: still capped.
    stopped = None
    while stopped is None:
        for address in addresses:
            try:
                patiently(db, frozen, mobile(), address)
                sent += 1
            except verification.RateLimited as limited:
                stopped = limited
                break
    assert stopped.scope == "prefix" and stopped.retry_after > 60
    assert sent == verification.CODES_PER_PREFIX
    assert clock.now() - NOW < timedelta(hours=1)  # all within the hour
    assert sent < (verification.CODES_PER_HOUR_ALL - verification.CODES_KEPT_FOR_KNOWN) / 5
    # Everyone else still gets codes.
    start(db, mobile(), address="198.51.100.7")
    start(db, mobile(), address="2001:db8:5::1")


def test_an_ipv6_line_counts_as_one_address_and_the_site_has_a_ceiling(db, frozen, monkeypatch):
    # One home line hands out a whole /64: its addresses count together.
    for n in range(verification.CODES_PER_ADDRESS):
        patiently(db, frozen, mobile(), f"2001:db8:1:2::{n + 1:x}")
    with pytest.raises(verification.RateLimited) as excinfo:
        start(db, mobile(), address="2001:db8:1:2:ffff::1")
    assert excinfo.value.scope == "address"
    patiently(db, frozen, mobile(), "2001:db8:1:3::1")  # another line of the same network
    # Numbers and networks rotated by a script still meet the site's hourly ceiling.
    monkeypatch.setattr(verification, "CODES_PER_HOUR_ALL", 30)
    monkeypatch.setattr(verification, "CODES_KEPT_FOR_KNOWN", 5)
    with pytest.raises(verification.RateLimited) as excinfo:
        for n in range(10):
            start(db, mobile(), address=f"198.18.{n}.1")
    assert excinfo.value.scope == "all"


def test_a_number_that_booked_here_still_gets_a_code_when_the_ceiling_is_taken(
    db, frozen, monkeypatch
):
    monkeypatch.setattr(verification, "CODES_PER_HOUR_ALL", 30)
    monkeypatch.setattr(verification, "CODES_KEPT_FOR_KNOWN", 5)
    agenda = Agenda(db)
    known = mobile()
    agenda.book(at(10), phone=known)  # booked last week, say: now moving it
    waiting = mobile()
    from appointments.models import BookingPerson

    person = BookingPerson(name="Waiting Test", phone=waiting, language="fr")
    db.add(person)
    db.flush()
    db.add(
        WaitingEntry(
            service_id=agenda.service.id,
            location_id=None,
            person_id=person.id,
            phone=waiting,
            status="waiting",
        )
    )
    db.flush()
    # A script with fresh numbers from many networks takes the ordinary part.
    for n in range(25):
        start(db, mobile(), address=f"198.18.{n}.1")
    with pytest.raises(verification.RateLimited) as excinfo:
        start(db, mobile(), address="198.19.0.1")
    assert excinfo.value.scope == "all"
    # The people who booked here still get their code, from the part kept for them.
    assert sent_code(db, start(db, known, address="192.0.2.77"))
    assert sent_code(db, start(db, waiting, address="192.0.2.78"))
    # The kept part has its own ceiling: 5 here, 2 used.
    more = [mobile() for _ in range(4)]
    for number, moment in zip(more, (at(9), at(9, 30), at(10, 30), at(11)), strict=True):
        agenda.book(moment, phone=number)
    for number in more[:3]:
        start(db, number, address="192.0.2.79")
    with pytest.raises(verification.RateLimited) as excinfo:
        start(db, more[3], address="192.0.2.80")
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
    joined = online.join_waiting_list(db, **arguments)
    entry = joined.entry
    assert not joined.already and entry.phone == number
    assert entry.status == "waiting" and entry.location_id == agenda.location.id
    tapped = online.join_waiting_list(db, **arguments)
    assert tapped.entry.id == entry.id and tapped.again
    frozen.advance(seconds=61)
    check_id, proof = verified(db, number)
    # Another code, even another name: the same number is on this list already.
    again = online.join_waiting_list(
        db, **{**arguments, "check_id": check_id, "proof": proof, "person_name": "A. Test"}
    )
    assert again.entry.id == entry.id and again.already
    waiting = select(func.count(WaitingEntry.id)).where(
        WaitingEntry.phone == number, WaitingEntry.service_id == agenda.service.id
    )
    assert db.scalar(waiting) == 1
    # A freed slot is offered to them (consent for service changes was recorded).
    appointment = agenda.book(at(10))
    from appointments import booking

    booking.cancel(db, appointment, by="person", link_base="https://terrain.example")
    db.refresh(entry)
    assert entry.status == "offered"
    offer = db.scalar(select(Message).where(Message.key.like(f"waiting-offer:{entry.id}:%")))
    assert offer is not None and offer.status == "pending"


def test_the_database_refuses_a_second_waiting_entry_for_a_number(db):
    from sqlalchemy.exc import IntegrityError

    from appointments.models import BookingPerson

    agenda = Agenda(db)
    number = mobile()
    person = BookingPerson(name="Twice Test", phone=number, language="fr")
    db.add(person)
    db.flush()

    def entry(location_id: int | None, status: str = "waiting") -> WaitingEntry:
        return WaitingEntry(
            service_id=agenda.service.id,
            location_id=location_id,
            person_id=person.id,
            phone=number,
            status=status,
        )

    for location_id in (agenda.location.id, None):  # at a place, and "anywhere"
        db.add(entry(location_id))
        db.flush()
        with pytest.raises(IntegrityError), db.begin_nested():
            db.add(entry(location_id))
            db.flush()
        # An entry that stopped waiting (offered, withdrawn) does not hold the place.
        db.add(entry(location_id, "withdrawn"))
        db.flush()


def test_two_concurrent_joins_make_one_entry():
    """Two codes for one number, both typed at once: one entry, the other request is
    told it is already on the list (PostgreSQL: the unique index decides)."""
    import threading

    from core.db import make_engine, make_session_factory

    number = mobile()
    with migrated_database("waiting") as url:
        engine = make_engine(url, pool_size=4) if not url.startswith("sqlite") else make_engine(url)
        sessions = make_session_factory(engine)
        with sessions() as session:
            location = Location(code="tb-wait", name="Antenne Attente", team_id=place_team(session))
            service = Service(
                code="tb-wait-svc",
                name_fr="Permanence",
                name_nl="Permanentie",
                name_en="Desk",
                duration_minutes=30,
            )
            session.add_all([location, service])
            session.flush()
            session.add(ServiceLocation(service_id=service.id, location_id=location.id))
            proofs = []
            for n in range(2):
                check = verification.start(
                    session,
                    raw_phone=number,
                    language="fr",
                    address=f"192.0.2.{n}",
                    secret=SECRET,
                    purpose="waiting",
                )
                proof = verification.verify(
                    session, check, sent_code(session, check), secret=SECRET
                )
                proofs.append((check.id, proof))
                check.created_at -= timedelta(minutes=2)  # the next code is not a resend
                session.flush()
            session.commit()
            service_id, location_id = service.id, location.id

        # Both requests read "not on the list" before either inserts.
        barrier = threading.Barrier(2, timeout=2)
        broken: list[bool] = []
        real_person_for = online.booking.person_for

        def person_for(*args, **kwargs):
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                broken.append(True)  # SQLite: transactions take turns (BEGIN IMMEDIATE)
            return real_person_for(*args, **kwargs)

        results: list[online.Joined] = []
        failures: list[BaseException] = []

        def join(n: int) -> None:
            try:
                with sessions() as session:
                    check_id, proof = proofs[n]
                    joined = online.join_waiting_list(
                        session,
                        check_id=check_id,
                        proof=proof,
                        secret=SECRET,
                        service=session.get(Service, service_id),
                        location=session.get(Location, location_id),
                        person_name=f"Person {n}",
                        phone=number,
                        language="fr",
                    )
                    session.commit()
                    results.append(joined)
            except BaseException as error:  # reported below
                failures.append(error)

        from unittest import mock

        with mock.patch.object(online.booking, "person_for", person_for):
            threads = [threading.Thread(target=join, args=(n,)) for n in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        with sessions() as session:
            entries = session.scalar(
                select(func.count(WaitingEntry.id)).where(WaitingEntry.phone == number)
            )
        engine.dispose()
        raced = not url.startswith("sqlite")
    assert failures == []
    assert not (raced and broken)  # PostgreSQL: both had read "not on the list"
    assert entries == 1
    assert sorted(joined.already for joined in results) == [False, True]
    assert len({joined.entry.id for joined in results}) == 1


# --- Places --------------------------------------------------------------------------------


def test_haversine_brussels_charleroi():
    assert online.haversine_km(50.8364, 4.3478, 50.4185, 4.4265) == pytest.approx(46.8, abs=0.5)


def test_places_nearest_by_position_and_by_postcode(db):
    agenda = Agenda(db)
    near = agenda.location
    near.latitude, near.longitude, near.postcode = 50.84, 4.35, "1000"
    team_id = place_team(db)
    far = Location(
        code="tb-far",
        name="Far away",
        postcode="6020",
        latitude=50.42,
        longitude=4.43,
        team_id=team_id,
    )
    no_position = Location(code="tb-none", name="A nowhere", postcode="1030", team_id=team_id)
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
