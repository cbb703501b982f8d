"""Booking, cancelling and moving appointments (appointments/booking.py) on the database.

Each test builds its own service, location and agents (`Agenda`), so the demo data
does not matter. "Now" is Tuesday 1 December 2026, 09:00 in Brussels; bookings are for
Thursday 3 December, when the location is open 09:00–12:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from sqlalchemy import func, select

from appointments import booking, slots
from appointments import services as appointments
from appointments.models import AgentLock, Appointment, BookingPerson, Location, WaitingEntry
from core import accounts, audit, clock
from core.errors import Invalid
from notifications import replies
from notifications.contacts import contact_by_reference, reachability, set_consent
from notifications.dispatch import record_sent
from notifications.gateways import ProviderMessage
from notifications.models import Message
from tests.db.appointments_world import (
    BRUSSELS,
    LINK,
    NOW,
    SECRET,
    THURSDAY,
    Agenda,
    _counter,
    at,
    messages,
    mobile,
    now,
)
from tests.support import place_team, sms_text

__all__ = ["now"]  # the autouse fixture, from tests/db/appointments_world.py


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


# --- Booking ----------------------------------------------------------------------------


def test_booking_makes_the_appointment_its_confirmation_and_reminders(db):
    agenda = Agenda(db)
    number = mobile()
    appointment = agenda.book(at(10), phone="0" + number[3:].replace("+", ""), language="fr")
    db.flush()

    assert appointment.status == "booked"
    assert appointment.agent_id == agenda.agents[0].id
    assert appointment.start_at == at(10)
    assert appointment.end_at == at(10, 30)
    assert appointment.busy_until == at(10, 30)
    assert appointment.source == "online"
    person = db.get(BookingPerson, appointment.person_id)
    assert (person.name, person.phone, person.language) == ("Amina Test", number, "fr")

    token = booking.issued_token(appointment)
    assert token and len(token) >= 20
    assert appointment.manage_token_hash == booking.hash_token(token)
    assert token not in appointment.manage_token_hash

    sent = messages(db, appointment)
    key = f"appointment:{appointment.id}"
    assert set(sent) == {f"confirmation:{key}", f"reminder:{key}:J-1", f"reminder:{key}:H-2"}
    confirmation = sent[f"confirmation:{key}"]
    assert confirmation.status == "pending"  # consent recorded by the booking
    assert confirmation.to == number
    # The outbox shows the link masked; the gateway gets it whole (sms_text).
    assert f"{LINK}/r/…" in confirmation.body and token not in confirmation.body
    assert f"{LINK}/r/{token}" in sms_text(confirmation, SECRET)
    assert "Permanence sociale" in confirmation.body
    assert "10h00" in confirmation.body
    assert "Rue Haute 298" in confirmation.body
    assert sent[f"reminder:{key}:J-1"].not_before == datetime(
        2026, 12, 2, 17, 0, tzinfo=BRUSSELS
    ).astimezone(UTC)
    assert sent[f"reminder:{key}:H-2"].not_before == at(8)

    contact = contact_by_reference(db, f"appointments.person:{person.id}")
    assert contact is not None and contact.language == "fr"
    assert reachability(db, contact, "reminder").ok
    assert reachability(db, contact, "service_change").ok
    assert {c.method for c in contact.consents} == {"online"}

    lock = db.get(AgentLock, appointment.agent_id)
    assert lock is not None and lock.bookings >= 1
    entries = audit.search(db, audit.AuditFilter(entity_type="appointment"))
    assert any(entry.entity_id == str(appointment.id) for entry in entries.entries)


def test_staff_booking_records_how_consent_was_given_and_who_booked(db):
    agenda = Agenda(db)
    staff = accounts.find_user(db, "accueil")
    by_phone = agenda.book(at(10), source="phone", actor=staff)
    at_desk = agenda.book(at(10, 30), source="desk", actor=staff, phone="02 512 34 56")
    assert by_phone.created_by_id == staff.id
    contact = contact_by_reference(db, f"appointments.person:{by_phone.person_id}")
    assert {c.method for c in contact.consents} == {"phone_call"}
    # A landline is accepted from staff (reception may call it); no SMS can go to it.
    desk_contact = contact_by_reference(db, f"appointments.person:{at_desk.person_id}")
    assert {c.method for c in desk_contact.consents} == {"oral"}
    confirmation = messages(db, at_desk)[f"confirmation:appointment:{at_desk.id}"]
    assert (confirmation.status, confirmation.error_code) == ("blocked", "no_mobile")


def test_staff_book_from_now_on_the_minimum_notice_is_for_online_bookings(db):
    # NOW is 09:00 on Tuesday 1 December; the service asks 2 hours' notice online.
    agenda = Agenda(db)
    soon = at(9, 30, NOW.date())
    with pytest.raises(Invalid) as refused:
        agenda.book(soon)
    assert refused.value.errors["start"].code == "too_soon"
    staff = accounts.find_user(db, "accueil")
    booked = agenda.book(soon, source="desk", actor=staff)
    assert booked.start_at == soon
    # The staff move it to the next start, still within the notice; the person could not.
    later = agenda.book(at(11, 0), source="phone", actor=staff)
    with pytest.raises(Invalid) as refused:
        booking.reschedule(db, later, at(10, 0, NOW.date()), by="person")
    assert refused.value.errors["start"].code == "too_soon"
    moved = booking.reschedule(db, booked, at(10, 0, NOW.date()), by="staff", actor=staff)
    assert moved.start_at == at(10, 0, NOW.date())
    # Taken by staff within the notice: the next slots offered to staff start now too.
    with pytest.raises(booking.SlotTaken) as taken:
        agenda.book(at(10, 0, NOW.date()), source="desk", actor=staff)
    assert taken.value.next_slots[0].start == at(10, 30, NOW.date())


def test_without_consent_the_messages_are_blocked_and_say_why(db):
    agenda = Agenda(db)
    appointment = agenda.book(at(10), sms_consent=False, source="desk")
    statuses = {message.status for message in messages(db, appointment).values()}
    assert statuses == {"blocked"}


def test_the_same_number_and_name_is_the_same_person(db):
    agenda = Agenda(db)
    number = mobile()
    first = agenda.book(at(10), phone=number)
    second = agenda.book(at(11), phone=number, person_name="amina test")
    other = agenda.book(at(11, 30), phone=number, person_name="Yassine Test")
    assert first.person_id == second.person_id != other.person_id


def test_one_agent_one_slot_the_second_booking_hears_slot_taken_with_next_slots(db):
    agenda = Agenda(db)
    first = agenda.book(at(10))
    people = count(db, BookingPerson)
    with pytest.raises(booking.SlotTaken) as taken:
        agenda.book(at(10))
    starts = [slot.start for slot in taken.value.next_slots]
    assert starts == [at(10, 30), at(11), at(11, 30)]
    assert all(slot.free == 1 for slot in taken.value.next_slots)
    assert count(db, BookingPerson) == people  # nobody made for a refused booking
    assert (
        db.scalar(
            select(func.count())
            .select_from(Appointment)
            .where(Appointment.agent_id == first.agent_id, Appointment.status == "booked")
        )
        == 1
    )


def test_two_agents_take_two_bookings_of_one_start_then_it_is_taken(db):
    agenda = Agenda(db, agents=2)
    [slot] = [
        slot
        for slot in slots.free_slots(
            db, service=agenda.service, location=agenda.location, first_day=THURSDAY, days=1
        )
        if slot.start == at(10)
    ]
    assert slot.free == 2
    first = agenda.book(at(10))
    second = agenda.book(at(10))
    assert {first.agent_id, second.agent_id} == {agent.id for agent in agenda.agents}
    with pytest.raises(booking.SlotTaken):
        agenda.book(at(10))


def test_an_agent_chosen_by_staff_and_busy_at_the_start_means_taken_not_no_slot(db):
    """Staff may ask for one agent: busy at that start, SlotTaken (with the next starts),
    though the other agent is free then; a start on nobody's grid stays not_a_slot."""
    agenda = Agenda(db, agents=2)
    first, second = agenda.agents
    agenda.book(at(10), agent_id=first.id)
    with pytest.raises(booking.SlotTaken) as taken:
        agenda.book(at(10), agent_id=first.id, source="phone")
    assert taken.value.next_slots[0].start == at(10, 30)
    assert agenda.book(at(10), agent_id=second.id, source="phone").agent_id == second.id
    with pytest.raises(Invalid) as invalid:
        agenda.book(at(10, 10), agent_id=first.id, source="phone")
    assert invalid.value.errors["start"].code == "not_a_slot"


def test_the_buffer_holds_the_agents_time(db):
    agenda = Agenda(db, minutes=30, buffer=15)
    long = agenda.book(at(9))
    assert long.busy_until == at(9, 45)
    # Another service of the same agent, on a 30-minute grid: 09:30 overlaps the buffer.
    short = agenda.new_service(minutes=30)
    with pytest.raises(booking.SlotTaken) as taken:
        agenda.book(at(9, 30), service=short)
    assert taken.value.next_slots[0].start == at(10)
    assert agenda.book(at(10), service=short).agent_id == long.agent_id


def test_the_check_inside_the_lock_catches_a_booking_made_meanwhile(db):
    """The free agents read before another booking committed: the overlap check done
    under the agent's lock still sees it."""
    agenda = Agenda(db)
    agenda.book(at(10))
    stale = [agenda.agents[0].id]
    with (
        mock.patch.object(slots, "agents_at_start", lambda *a, **k: (stale, stale)),
        pytest.raises(booking.SlotTaken),
    ):
        agenda.book(at(10))


def test_a_booking_refused_under_the_lock_answers_from_the_day_read_again(db):
    """The race's losers: free before the lock, taken under it. They answer with the day's
    later starts as they are now (one day read again), the same as `next_free_slots`,
    whose 14 days are not read; near the day's end, where fewer than three are left,
    `next_free_slots` still answers."""
    agenda = Agenda(db)  # 09:00 to 12:00, 30 minutes
    agenda.book(at(10))
    real = slots.agents_at_start
    first_read: list[bool] = []

    def stale_then_real(*args, **kwargs):
        if not first_read:  # before the lock: as read before the bookings above
            first_read.append(True)
            return [agenda.agents[0].id], [agenda.agents[0].id]
        return real(*args, **kwargs)

    expected = slots.next_free_slots(
        db, service=agenda.service, location=agenda.location, after=at(10), limit=3
    )
    with (
        mock.patch.object(slots, "agents_at_start", stale_then_real),
        mock.patch.object(slots, "next_free_slots", side_effect=AssertionError("14 days")),
        pytest.raises(booking.SlotTaken) as taken,
    ):
        agenda.book(at(10))
    assert taken.value.next_slots == expected
    assert [slot.start for slot in expected] == [at(10, 30), at(11), at(11, 30)]

    # The day's last start, taken: what is left of the day is not enough.
    last = at(11, 30)
    agenda.book(last)
    first_read.clear()
    with (
        mock.patch.object(slots, "agents_at_start", stale_then_real),
        pytest.raises(booking.SlotTaken) as taken,
    ):
        agenda.book(last)
    assert taken.value.next_slots == slots.next_free_slots(
        db, service=agenda.service, location=agenda.location, after=last, limit=3
    )
    assert taken.value.next_slots[0].start.date() > last.date()


def test_a_start_off_the_grid_or_outside_the_hours_is_invalid(db):
    agenda = Agenda(db)
    for start in (at(10, 10), at(14), at(8, 30)):
        with pytest.raises(Invalid) as invalid:
            agenda.book(start)
        assert invalid.value.errors["start"].code == "not_a_slot", start


def _bad_inputs(agenda: Agenda, db) -> list[tuple[dict, str, str]]:
    inactive = agenda.new_service(active=False)
    walk_in = agenda.new_service(booking_mode="walk_in")
    by_phone = agenda.new_service(booking_mode="phone")
    elsewhere = Location(code=f"tb-loc-x{next(_counter)}", name="Ailleurs", team_id=place_team(db))
    db.add(elsewhere)
    db.flush()
    return [
        ({"service": None}, "service", "unknown_choice"),
        ({"service": inactive}, "service", "unknown_choice"),
        ({"service": walk_in}, "service", "walk_in_only"),
        ({"service": by_phone}, "service", "not_online"),
        ({"location": None}, "location", "unknown_choice"),
        ({"location": elsewhere}, "location", "not_offered"),
        ({"start": at(8, 0, date(2026, 11, 30))}, "start", "in_past"),
        ({"start": NOW.astimezone(UTC) + timedelta(minutes=30)}, "start", "too_soon"),
        ({"start": at(10, 0, THURSDAY + timedelta(days=60))}, "start", "too_far"),
        ({"start": at(10, 10)}, "start", "not_a_slot"),
        ({"phone": "12"}, "phone", "invalid_phone"),
        ({"phone": ""}, "phone", "required"),
        ({"phone": "02 512 34 56"}, "phone", "not_mobile"),
        ({"person_name": "  "}, "name", "required"),
        ({"person_name": "x" * 121}, "name", "too_long"),
        ({"language": "de"}, "language", "unknown_choice"),
        ({"source": "fax"}, "source", "unknown_choice"),
    ]


def test_bad_inputs_are_refused_and_nothing_is_made(db):
    agenda = Agenda(db)
    cases = _bad_inputs(agenda, db)
    before = (count(db, Appointment), count(db, BookingPerson), count(db, Message))
    for overrides, field, code in cases:
        with pytest.raises(Invalid) as invalid:
            agenda.book(**overrides)
        assert invalid.value.errors[field].code == code, (overrides, invalid.value.errors)
    assert (count(db, Appointment), count(db, BookingPerson), count(db, Message)) == before


def test_one_number_may_hold_three_upcoming_online_bookings(db):
    agenda = Agenda(db)
    number = mobile()
    for hour, minute in ((9, 0), (9, 30), (10, 0)):
        agenda.book(at(hour, minute), phone=number)
    with pytest.raises(Invalid) as invalid:
        agenda.book(at(10, 30), phone=number)
    assert invalid.value.errors["phone"].code == "too_many_bookings"
    # Staff may still book for them (a person at the desk is not a robot).
    agenda.book(at(10, 30), phone=number, source="desk")


# --- Tokens ---------------------------------------------------------------------------------


def test_the_manage_token_finds_the_appointment_until_its_end(db, now):
    agenda = Agenda(db)
    appointment = agenda.book(at(10))
    token = booking.issued_token(appointment)
    assert booking.find_by_token(db, token) is appointment
    assert booking.find_by_token(db, token + "x") is None
    assert booking.find_by_token(db, "") is None
    with clock.frozen(at(10, 29)):
        assert booking.find_by_token(db, token) is appointment
    with clock.frozen(at(10, 30)):
        assert booking.find_by_token(db, token) is None
    # A fresh object from the database does not know the plain token.
    db.expunge(appointment)
    assert booking.issued_token(db.get(Appointment, appointment.id)) is None


# --- Cancelling, the waiting list -------------------------------------------------------------


def _waiting(db, agenda: Agenda, *, location: Location | None = None) -> WaitingEntry:
    person = BookingPerson(name="Waiting Test", phone=mobile(), language="nl")
    db.add(person)
    db.flush()
    contact = booking.contact_for(db, person)
    set_consent(db, contact, category="service_change", granted=True, method="form", actor=None)
    entry = WaitingEntry(
        service_id=agenda.service.id,
        location_id=location.id if location else None,
        person_id=person.id,
        phone=person.phone,
        created_at=clock.now() - timedelta(days=1),
    )
    db.add(entry)
    db.flush()
    return entry


def test_a_slot_freed_within_the_notice_is_offered_to_nobody(db):
    # Nobody could book it online any more: the first person waiting keeps their place.
    agenda = Agenda(db)
    waiting = _waiting(db, agenda)
    staff = accounts.find_user(db, "accueil")
    soon = agenda.book(at(10, 0, NOW.date()), source="desk", actor=staff)  # in one hour
    booking.cancel(db, soon, by="staff", actor=staff, link_base=LINK)
    assert waiting.status == "waiting"


def test_cancel_frees_the_slot_drops_reminders_and_offers_it_to_the_waiting_list(db):
    agenda = Agenda(db)
    first_waiting = _waiting(db, agenda)
    second_waiting = _waiting(db, agenda)
    second_waiting.created_at = clock.now()
    appointment = agenda.book(at(10))
    with pytest.raises(booking.SlotTaken):
        agenda.book(at(10))

    staff = accounts.find_user(db, "accueil")
    booking.cancel(db, appointment, by="staff", actor=staff, link_base=LINK)
    assert appointment.status == "cancelled"
    assert appointment.cancelled_by == "staff"
    assert appointment.cancelled_at == clock.now()
    assert {m.status for m in messages(db, appointment).values()} == {"cancelled"}

    assert first_waiting.status == "offered"
    assert first_waiting.offered_at == clock.now()
    assert second_waiting.status == "waiting"
    offer = db.scalar(
        select(Message).where(Message.key == f"waiting-offer:{first_waiting.id}:{appointment.id}")
    )
    assert offer is not None and offer.status == "pending"
    assert offer.category == "service_change"
    assert f"{LINK}/rendez-vous" in offer.body
    assert "OCMW" in offer.body  # Dutch, the waiting person's language

    again = agenda.book(at(10))  # the slot is back in the pool
    assert again.agent_id == appointment.agent_id
    # Idempotent: cancelling twice changes nothing and offers nothing more.
    booking.cancel(db, appointment, by="staff", actor=staff)
    assert second_waiting.status == "waiting"


def test_only_a_booked_or_present_appointment_can_be_cancelled(db, now):
    agenda = Agenda(db)
    appointment = agenda.book(at(10))
    now.advance(days=2, hours=1, minutes=30)  # Thursday 10:30
    booking.mark_done(db, appointment, actor=None)
    with pytest.raises(Invalid) as invalid:
        booking.cancel(db, appointment, by="person")
    assert invalid.value.errors["status"].code == "wrong_status"


# --- SMS replies ------------------------------------------------------------------------------


def _sent(db, appointment: Appointment) -> Message:
    message = messages(db, appointment)[f"confirmation:appointment:{appointment.id}"]
    record_sent(
        db,
        message,
        ProviderMessage(f"SMbook{message.id:028d}", "sent"),
        "memory",
        source="dispatcher",
    )
    db.flush()
    return message


def test_oui_confirms_the_appointment(db):
    agenda = Agenda(db)
    appointment = agenda.book(at(10))
    message = _sent(db, appointment)
    result = replies.handle_inbound(
        db, provider_id="SMbookoui0001", from_number=message.to, body="Oui"
    )
    assert appointment.confirmed_at == clock.now()
    assert appointment.status == "booked"
    assert result.inbound.outcome == "confirmed"
    assert "confirmé" in (result.reply or "")


def test_non_cancels_the_appointment_by_sms(db):
    agenda = Agenda(db)
    waiting = _waiting(db, agenda)
    appointment = agenda.book(at(10))
    message = _sent(db, appointment)
    result = replies.handle_inbound(
        db, provider_id="SMbooknon0001", from_number=message.to, body="NON merci"
    )
    assert appointment.status == "cancelled"
    assert appointment.cancelled_by == "sms"
    assert result.inbound.outcome == "cancelled"
    assert "annulé" in (result.reply or "")
    assert waiting.status == "offered"
    assert {m.status for k, m in messages(db, appointment).items() if "reminder" in k} == {
        "cancelled"
    }


def test_the_subject_kind_says_whether_a_message_is_still_current(db, now):
    from appointments import notifications

    agenda = Agenda(db)
    appointment = agenda.book(at(10))
    record_id = str(appointment.id)
    assert notifications.is_current(db, record_id)
    assert not notifications.is_current(db, "999999999")
    assert not notifications.is_current(db, "nope")
    with clock.frozen(at(10)):
        assert not notifications.is_current(db, record_id)
    booking.cancel(db, appointment, by="person")
    assert not notifications.is_current(db, record_id)


# --- Moving -----------------------------------------------------------------------------------


def test_reschedule_books_the_new_start_and_cancels_the_old_one_at_once(db):
    agenda = Agenda(db)
    waiting = _waiting(db, agenda)
    old = agenda.book(at(10))
    old_token = booking.issued_token(old)
    moved = booking.reschedule(db, old, at(10, 30), by="person", link_base=LINK, secret_key=SECRET)
    assert moved.id != old.id
    assert (moved.start_at, moved.status, moved.person_id) == (at(10, 30), "booked", old.person_id)
    assert (old.status, old.cancelled_by) == ("cancelled", "person")
    new_token = booking.issued_token(moved)
    assert new_token and new_token != old_token
    assert booking.find_by_token(db, new_token) is moved
    assert booking.find_by_token(db, old_token) is old  # the old link says "cancelled"

    assert {m.status for m in messages(db, old).values()} == {"cancelled"}
    sent = messages(db, moved)
    key = f"appointment:{moved.id}"
    assert set(sent) == {f"changed:{key}", f"reminder:{key}:J-1", f"reminder:{key}:H-2"}
    assert new_token not in sent[f"changed:{key}"].body
    assert f"{LINK}/r/{new_token}" in sms_text(sent[f"changed:{key}"], SECRET)
    assert waiting.status == "offered"  # 10:00 freed
    assert agenda.book(at(10)).agent_id == old.agent_id


def test_reschedule_may_overlap_its_own_old_time(db):
    agenda = Agenda(db, minutes=60)
    old = agenda.book(at(9))
    # 60-minute grid 09:00, 10:00, 11:00; moving to 10:00 with a single agent works.
    moved = booking.reschedule(db, old, at(10), by="staff")
    assert moved.agent_id == old.agent_id


def test_reschedule_to_a_taken_start_changes_nothing(db):
    agenda = Agenda(db)
    old = agenda.book(at(10))
    agenda.book(at(11))
    with pytest.raises(booking.SlotTaken):
        booking.reschedule(db, old, at(11), by="person")
    assert old.status == "booked"
    with pytest.raises(Invalid) as invalid:
        booking.reschedule(db, old, at(11, 10), by="person")
    assert invalid.value.errors["start"].code == "not_a_slot"


# --- Reception --------------------------------------------------------------------------------


def test_check_in_no_show_and_done_are_audited_and_idempotent(db, now):
    agenda = Agenda(db)
    staff = accounts.find_user(db, "accueil")
    present = agenda.book(at(10))
    absent = agenda.book(at(10, 30))
    with pytest.raises(Invalid) as invalid:
        booking.mark_no_show(db, absent, actor=staff)
    assert invalid.value.errors["status"].code == "not_started"

    now.advance(days=2, minutes=55)  # Thursday 09:55
    booking.check_in(db, present, actor=staff)
    first_arrival = present.checked_in_at
    booking.check_in(db, present, actor=staff)
    assert (present.status, present.checked_in_at) == ("checked_in", first_arrival)
    booking.mark_done(db, present, actor=staff)
    booking.mark_done(db, present, actor=staff)
    assert present.status == "done"
    with pytest.raises(Invalid):
        booking.check_in(db, present, actor=staff)

    now.advance(minutes=40)  # 10:35
    booking.mark_no_show(db, absent, actor=staff)
    booking.mark_no_show(db, absent, actor=staff)
    assert absent.status == "no_show"

    details = [
        entry.details["status"]
        for entry in audit.search(db, audit.AuditFilter(entity_type="appointment")).entries
        if entry.entity_id in (str(present.id), str(absent.id)) and entry.action == "update"
    ]
    assert sorted(details) == ["checked_in", "done", "no_show"]


# --- Reports, audiences, lookups -----------------------------------------------------------------


def test_attendance_source_reports_each_held_appointment(db, now):
    from appointments import notifications

    agenda = Agenda(db, agents=2)
    came = agenda.book(at(9))
    missed = agenda.book(at(9, 30))
    unknown = agenda.book(at(10))
    cancelled = agenda.book(at(10, 30))
    booking.cancel(db, cancelled, by="person")
    now.advance(days=2, hours=3)  # Thursday 12:00
    booking.check_in(db, came, actor=None)
    booking.mark_no_show(db, missed, actor=None)
    found = dict(notifications.attendance(db, at(0), at(23, 59)))
    assert found[f"appointment:{came.id}"] is True
    assert found[f"appointment:{missed.id}"] is False
    assert found[f"appointment:{unknown.id}"] is None
    assert f"appointment:{cancelled.id}" not in found


def test_audience_of_the_appointments_of_a_day(db):
    from notifications import broadcasts

    agenda = Agenda(db)
    thursday = agenda.book(at(10))
    friday = agenda.book(at(10, 0, THURSDAY + timedelta(days=1)))
    cancelled = agenda.book(at(11))
    booking.cancel(db, cancelled, by="person")
    audience = broadcasts.get_audience("appointments_on_day")
    assert audience is not None

    def contacts(params):
        return set(db.scalars(audience.contact_ids(db, params)))

    def contact_id(appointment):
        return contact_by_reference(db, f"appointments.person:{appointment.person_id}").id

    assert contacts({"date": THURSDAY.isoformat()}) >= {contact_id(thursday)}
    assert contact_id(friday) not in contacts({"date": THURSDAY.isoformat()})
    assert contact_id(cancelled) not in contacts({"date": THURSDAY.isoformat()})
    assert contacts({"date": THURSDAY.isoformat(), "location": agenda.location.code}) == {
        contact_id(thursday)
    }
    with pytest.raises(Invalid):
        contacts({"date": THURSDAY.isoformat(), "location": "nowhere"})
    assert "2026-12-03" in audience.describe(db, {"date": THURSDAY.isoformat()})


def test_lookups_list_bookable_services_with_their_locations(db):
    agenda = Agenda(db)
    walk_in = agenda.new_service(booking_mode="walk_in")
    listed = {item.service.code: item for item in appointments.list_services(db)}
    assert agenda.location in listed[agenda.service.code].locations
    assert walk_in.code not in listed
    assert appointments.get_service(db, agenda.service.code) is agenda.service
    assert appointments.get_service(db, "") is None
    assert appointments.get_location(db, agenda.location.code) is agenda.location
    assert appointments.get_location(db, "nowhere") is None
