"""Booking for somebody without a mobile phone (staff only): no number stored, no contact,
no consent, no SMS of any kind; and the outreach referral an appointment is booked for."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from appointments import booking
from appointments import services as appointments
from appointments.models import BookingPerson
from core import clock
from core.audit import AuditEntry
from core.errors import Invalid
from notifications.models import Contact, Message
from tests.db.appointments_world import NOW, Agenda, at, messages


@pytest.fixture(autouse=True)
def now() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


def contacts_of(db, person: BookingPerson) -> int:
    reference = booking.contact_reference(person)
    return db.scalar(select(func.count(Contact.id)).where(Contact.reference == reference))


@pytest.mark.parametrize("source", ["desk", "phone"])
def test_staff_book_without_a_number_and_nothing_is_sent(db, source):
    agenda = Agenda(db)
    before = db.scalar(select(func.count(Message.id)))
    made = agenda.book(at(10), phone="", source=source, actor=None, person_name="Jean Sanstel")
    db.flush()
    person = db.get(BookingPerson, made.person_id)
    assert person.phone is None and person.name == "Jean Sanstel"
    assert made.status == "booked" and made.agent_id == agenda.agents[0].id
    assert messages(db, made) == {}  # no confirmation, no reminder
    assert db.scalar(select(func.count(Message.id))) == before
    assert contacts_of(db, person) == 0  # no contact, hence no consent either
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "appointment", AuditEntry.entity_id == str(made.id)
        )
    )
    assert entry.details["phone_given"] is False


def test_online_still_needs_a_number(db):
    agenda = Agenda(db)
    with pytest.raises(Invalid) as refused:
        agenda.book(at(10), phone="", source="online")
    assert refused.value.errors["phone"].code == "required"


def test_a_bad_number_is_still_refused_for_staff(db):
    agenda = Agenda(db)
    with pytest.raises(Invalid) as refused:
        agenda.book(at(10), phone="12", source="desk", actor=None)
    assert refused.value.errors["phone"].code == "invalid_phone"


def test_two_people_without_a_number_are_never_taken_for_one(db):
    agenda = Agenda(db, agents=2)
    first = agenda.book(at(10), phone="", source="desk", person_name="Marc D.")
    second = agenda.book(at(10), phone="", source="desk", person_name="Marc D.")
    assert first.person_id != second.person_id


def test_the_referral_is_kept_and_follows_a_move_which_sends_nothing(db):
    agenda = Agenda(db)
    referral_id = uuid.uuid4()
    made = agenda.book(at(10), phone="", source="desk", referral_id=referral_id)
    db.flush()
    assert appointments.referral_appointments(db, [referral_id]) == {referral_id: made}
    moved = booking.reschedule(db, made, at(11), by="staff", secret_key="k", link_base="")
    db.flush()
    assert moved.referral_id == referral_id and messages(db, moved) == {}
    assert appointments.referral_appointments(db, [referral_id]) == {referral_id: moved}
    booking.cancel(db, moved, by="staff")
    assert appointments.referral_appointments(db, [referral_id]) == {}


def test_with_a_number_the_confirmation_is_still_queued(db):
    agenda = Agenda(db)
    made = agenda.book(at(10), source="desk", actor=None)
    db.flush()
    assert f"confirmation:appointment:{made.id}" in messages(db, made)
