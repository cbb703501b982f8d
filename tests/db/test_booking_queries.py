"""How many statements one booking costs (issue 20: at most 15 per booking on
PostgreSQL).

Each test books through `booking.book`, the one path of every booking, on the suite's
database (SQLite or PostgreSQL), and counts every statement sent on the engine
(`before_cursor_execute`), from the first check to the audit row, in all and from the
statement that takes the agent's lock (the first one on `appointment_agent_locks`) to
the end: that is what other bookings of the agent wait for. Nothing is given up for
it: the tests check the consents, the three messages and their events, the audit
entries and the agent's count.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from sqlalchemy import event, select

from appointments import booking, slots
from appointments.models import AgentLock, Location, Service
from core import accounts, audit
from notifications.models import Consent, Message, MessageEvent
from tests.db.appointments_world import Agenda, at, mobile, now  # noqa: F401
from tests.support import postgres_url

# A booking of a new person with a number (online: person, contact, consents, three
# messages, audit), in all: issue 20's 15 on PostgreSQL. Before the lock (5): the place's
# CPAS with the offer, the number's bookings and the person (one statement), the slot
# rule (one UNION ALL), the texts with the quiet hours (one), the new person's INSERT,
# the savepoint. Under the lock (PostgreSQL 10): the lock (one statement, the row made
# if need be), the re-check, the appointment, the savepoint released, the contact, its
# number and team, the consents' events, the consents, and the three messages with
# their events and the booking's audit entries in one statement (data-modifying CTEs).
# SQLite 3 more: the consents' events one INSERT a row (the ORM cannot batch
# RETURNING there), and the messages, their events and the audit entries in three
# INSERTs (no data-modifying CTE in SQLite).
TOTAL = {"postgresql": 15, "sqlite": 18}
UNDER_LOCK = {"postgresql": 10, "sqlite": 13}
BEFORE_LOCK = 5
# An agent found taken meanwhile: its lock, its check, the savepoint rolled back (which
# gives the lock and the count back), the next savepoint, the next lock.
PER_TAKEN_AGENT = 5
# Staff booking a returning person on the phone, in a new session: the contact with its
# numbers, consents and teams in one statement, no person, contact or consent to make.
RETURNING = {"postgresql": 10, "sqlite": 12}


@contextmanager
def counted(connection) -> Iterator[list[str]]:
    """The statements sent on the engine inside the block."""
    statements: list[str] = []

    def before(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        statements.append(" ".join(statement.split()))

    engine = connection.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def split_at_lock(statements: list[str]) -> tuple[list[str], list[str]]:
    """(before the agent's lock, from the lock on)."""
    first = next(i for i, s in enumerate(statements) if "appointment_agent_locks" in s)
    return statements[:first], statements[first:]


def report(statements: list[str]) -> str:
    return "\n".join(f"{i:2}. {s[:150]}" for i, s in enumerate(statements, 1))


def check_budget(
    statements: list[str], *, taken_agents: int = 0, total: dict[str, int] = TOTAL
) -> None:
    before, under = split_at_lock(statements)
    backend = "sqlite" if postgres_url() is None else "postgresql"
    extra = PER_TAKEN_AGENT * taken_agents
    assert len(statements) <= total[backend] + extra, report(statements)
    assert len(under) <= UNDER_LOCK[backend] + extra, report(under)
    assert len(before) <= BEFORE_LOCK, report(before)


def fresh(db) -> None:
    """As a new request finds the session: nothing loaded, no text or rule read yet."""
    db.flush()
    db.expunge_all()
    db.info.pop("sms_read_templates", None)
    db.info.pop("sms_category_rules", None)


def test_an_online_booking_of_a_new_person_stays_within_the_budget(db, connection):
    agenda = Agenda(db, agents=2)
    db.flush()
    with counted(connection) as statements:
        appointment = agenda.book(at(10), phone=mobile())
        db.flush()
    check_budget(statements)

    # Nothing was given up for it: consents, the three messages and their events, the
    # audit entries of the contact, its consents and the appointment.
    subject = f"appointment:{appointment.id}"
    sent = list(db.scalars(select(Message).where(Message.subject == subject)))
    assert {message.key for message in sent} == {
        f"confirmation:{subject}",
        f"reminder:{subject}:J-1",
        f"reminder:{subject}:H-2",
    }
    assert {message.status for message in sent} == {"pending"}
    for message in sent:
        events = db.scalars(select(MessageEvent).where(MessageEvent.message_id == message.id))
        assert [e.status for e in events] == ["pending"]
    contact = booking.contact_for(db, appointment.person)
    consents = db.scalars(select(Consent).where(Consent.contact_id == contact.id))
    assert {(c.category, c.granted, c.method) for c in consents} == {
        ("reminder", True, "online"),
        ("service_change", True, "online"),
    }
    entries = [
        (entry.entity_type, entry.action)
        for entity_type, entity_id in (
            ("appointment", appointment.id),
            ("sms_contact", contact.id),
            ("sms_consent", contact.id),
        )
        for entry in audit.search(
            db, audit.AuditFilter(entity_type=entity_type, entity_id=str(entity_id))
        ).entries
    ]
    assert ("appointment", "create") in entries
    assert ("sms_contact", "create") in entries
    assert entries.count(("sms_consent", "update")) == 2
    assert db.get(AgentLock, appointment.agent_id).bookings == 1


def test_a_staff_booking_of_a_returning_person_stays_within_the_budget(db, connection):
    agenda = Agenda(db, agents=3)
    staff = accounts.find_user(db, "accueil")
    number = mobile()
    first = agenda.book(at(9), phone=number, source="phone", actor=staff)
    first_person = first.person_id
    fresh(db)
    # What the view has loaded before it books (outside the count).
    staff = accounts.find_user(db, "accueil")
    agenda.service = db.get(Service, agenda.service.id)
    agenda.location = db.get(Location, agenda.location.id)
    with counted(connection) as statements:
        second = agenda.book(at(10), phone=number, source="phone", actor=staff)
        db.flush()
    check_budget(statements, total=RETURNING)
    assert second.person_id == first_person
    subject = f"appointment:{second.id}"
    assert (
        db.scalars(select(Message.status).where(Message.subject == subject)).all()
        == ["pending"] * 3
    )


def test_a_booking_that_meets_a_taken_agent_pays_only_for_that_agent(db, connection):
    """The first agent (lowest id) was booked after the slot search read it free: it is
    locked, found taken, its count given back, and the next agent gets the booking."""
    agenda = Agenda(db, agents=2)
    first, second = agenda.agents
    taken = agenda.book(at(10), agent_id=first.id)
    db.flush()
    with (
        mock.patch.object(
            slots, "agents_at_start", return_value=([first.id, second.id], [first.id, second.id])
        ),
        counted(connection) as statements,
    ):
        appointment = agenda.book(at(10))
        db.flush()
    assert appointment.agent_id == second.id
    check_budget(statements, taken_agents=1)
    # The count of the taken agent is still its one booking.
    assert db.get(AgentLock, taken.agent_id).bookings == 1
    assert db.get(AgentLock, second.id).bookings == 1


def test_a_start_already_taken_is_refused_from_the_slot_rule_s_one_load(db, connection):
    """The common answer under contention: the checks' statement and the slot rule's,
    nothing after it (no lock, no query of its own to tell taken from never a slot);
    the next free starts come from the same load."""
    agenda = Agenda(db)
    agenda.book(at(10))
    fresh(db)
    staff = accounts.find_user(db, "accueil")
    agenda.service = db.get(Service, agenda.service.id)
    agenda.location = db.get(Location, agenda.location.id)
    with counted(connection) as statements, pytest.raises(booking.SlotTaken) as taken:
        agenda.book(at(10), source="phone", actor=staff)
    assert len(statements) == 2, report(statements)
    assert "appointment_working_plans" in statements[-1], report(statements)
    assert [slot.start for slot in taken.value.next_slots] == [at(10, 30), at(11), at(11, 30)]


def test_a_booking_without_a_number_stays_within_the_budget(db, connection):
    agenda = Agenda(db)
    staff = accounts.find_user(db, "accueil")
    with counted(connection) as statements:
        appointment = agenda.book(at(10), phone="", source="desk", actor=staff)
        db.flush()
    check_budget(statements)
    assert appointment.person.phone is None
    assert not db.scalars(
        select(Message).where(Message.subject == f"appointment:{appointment.id}")
    ).all()


def test_enqueue_many_makes_each_key_once_and_keeps_the_order(db):
    """The multi-row INSERT keeps the outbox's rules: a key made before gives its row
    back (no second row, no second event); each row its own reachability."""
    from notifications import contacts, outbox

    contact = contacts.create_contact(
        db, actor=None, display_name="Many Test", language="fr", phones=["0471 99 88 77"]
    )
    contacts.set_consent(db, contact, category="reminder", granted=True, method="form", actor=None)
    db.flush()

    def item(key: str, category: str = "reminder") -> outbox.Outgoing:
        return outbox.Outgoing(key=key, contact=contact, category=category, body="CPAS: test.")

    first = outbox.enqueue(db, key="many:b", contact=contact, category="reminder", body="x")
    made = outbox.enqueue_many(
        db, [item("many:a"), item("many:b"), item("many:c", category="service_change")]
    )
    db.flush()
    assert [message.key for message in made] == ["many:a", "many:b", "many:c"]
    assert made[1].id == first.id and made[1].body == "x"  # the row made before
    assert [message.status for message in made] == ["pending", "pending", "blocked"]
    assert made[2].error_code == "no_consent"
    keys = db.scalars(select(Message.key).where(Message.key.like("many:%"))).all()
    assert sorted(keys) == ["many:a", "many:b", "many:c"]
    for message in made:
        events = db.scalars(select(MessageEvent).where(MessageEvent.message_id == message.id))
        assert len(events.all()) == 1
    assert outbox.enqueue_many(db, []) == []


def test_enqueue_ids_keeps_the_outbox_rules_in_core_statements(db):
    """A booking's path (`enqueue_ids`: Core statements, no Message object): the same
    rows and events as `enqueue_many`, one row per key (a key made before gives its id,
    no second row, no second event), the ids in the order given, in two INSERTs."""
    from notifications import contacts, outbox

    contact = contacts.create_contact(
        db, actor=None, display_name="Ids Test", language="fr", phones=["0471 99 88 66"]
    )
    contacts.set_consent(db, contact, category="reminder", granted=True, method="form", actor=None)
    db.flush()

    def item(key: str, category: str = "reminder") -> outbox.Outgoing:
        return outbox.Outgoing(key=key, contact=contact, category=category, body="CPAS: test.")

    first = outbox.enqueue(db, key="ids:b", contact=contact, category="reminder", body="x")
    db.flush()
    with counted(db.connection()) as statements:
        ids = outbox.enqueue_ids(
            db, [item("ids:a"), item("ids:b"), item("ids:c", category="service_change")]
        )
    # The rows made in one INSERT, their events in one (on PostgreSQL both in one
    # statement); the existing key read back once.
    if postgres_url() is None:
        inserts = [line.split(" (")[0] for line in statements if line.startswith("INSERT")]
        assert inserts == ["INSERT INTO sms_messages", "INSERT INTO sms_message_events"]
    else:
        (written,) = [line for line in statements if line.startswith("WITH")]
        assert "INSERT INTO sms_messages" in written
        assert "INSERT INTO sms_message_events" in written
    read_back = [line for line in statements if line.startswith("SELECT sms_messages.")]
    assert len(read_back) == 1, statements
    rows = {
        message.key: message
        for message in db.scalars(select(Message).where(Message.key.like("ids:%")))
    }
    assert ids == [rows["ids:a"].id, first.id, rows["ids:c"].id]
    assert rows["ids:b"].body == "x"
    assert (rows["ids:a"].status, rows["ids:c"].status) == ("pending", "blocked")
    assert rows["ids:c"].error_code == "no_consent"
    for message in rows.values():
        events = db.scalars(select(MessageEvent).where(MessageEvent.message_id == message.id))
        assert len(events.all()) == 1
    assert outbox.enqueue_ids(db, [item("ids:a")]) == [rows["ids:a"].id]
    assert outbox.enqueue_ids(db, []) == []
