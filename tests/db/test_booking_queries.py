"""How many statements one booking costs (issue 20: at most 15 under the agent's lock on
PostgreSQL).

Each test books through `booking.book`, the one path of every booking, on the suite's
database (SQLite or PostgreSQL), and counts every statement sent on the engine
(`before_cursor_execute`), from the first check to the audit row. The budget applies
from the statement that takes the agent's lock (the first one on
`appointment_agent_locks`: an `UPDATE … SKIP LOCKED` on PostgreSQL, an upsert when the
row is new and on SQLite) to the end: that is what other bookings of the agent wait for.
What comes before (the checks, the slot rule, reading the person, their contact and the
texts, inserting a new person, the savepoint) is bounded too, more loosely. Nothing is
given up for it: the tests check the consents, the three messages and the audit entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from sqlalchemy import event, select

from appointments import booking, slots
from appointments.models import AgentLock
from core import accounts, audit
from notifications.models import Consent, Message, MessageEvent
from tests.db.test_appointment_booking import Agenda, at, mobile, now  # noqa: F401
from tests.support import postgres_url

# Issue 20's 15 on PostgreSQL, where the ORM sends the audit rows (and the consent
# events) of a flush in one multi-row INSERT … RETURNING. SQLite gets one statement per
# row there (no batched RETURNING for them), so one more: the contact's team (an INSERT
# of notification_contact_teams, every place having a team since 0052_cpas_place_team).
UNDER_LOCK = {"postgresql": 15, "sqlite": 16}
# Before the lock: the checks (service offered, bookings of the number), the slot rule
# (6), the person, the contact with numbers and consents, the place's CPAS (its regime
# and whether its sender takes replies), the texts, the quiet hours. 13 at a place of no
# team; every place has one since 0052_cpas_place_team, and a place of a CPAS reads its
# team's CPAS (with its postcodes, loaded with it) and that CPAS's holidays: 16; then a
# new person's INSERT and the savepoint the agent's lock is taken in: 18.
BEFORE_LOCK = 18
# An agent found taken meanwhile: its lock (2 statements when its row is made), its
# check, the savepoint rolled back (which gives the lock and the count back), the next.
PER_TAKEN_AGENT = 5


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


def check_budget(statements: list[str], *, taken_agents: int = 0) -> None:
    before, under = split_at_lock(statements)
    budget = UNDER_LOCK["sqlite" if postgres_url() is None else "postgresql"]
    assert len(under) <= budget + PER_TAKEN_AGENT * taken_agents, report(under)
    assert len(before) <= BEFORE_LOCK, report(before)


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
    db.flush()
    with counted(connection) as statements:
        second = agenda.book(at(10), phone=number, source="phone", actor=staff)
        db.flush()
    check_budget(statements)
    assert second.person_id == first.person_id
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
    # The rows made in one INSERT, their events in one; the existing key read back once.
    inserts = [line.split(" (")[0] for line in statements if line.startswith("INSERT")]
    assert inserts == ["INSERT INTO sms_messages", "INSERT INTO sms_message_events"], statements
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
