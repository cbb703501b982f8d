"""SMS received: OUI / NON answer the reminder, STOP withdraws consent, the rest waits
for reception, and a number nobody has learns nothing."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import audit, clock
from notifications import outbox, replies, texts
from notifications.contacts import create_contact, set_consent
from notifications.dispatch import record_sent
from notifications.gateways import ProviderMessage
from notifications.models import CONSENT_CATEGORIES, Consent, ConsentEvent, InboundSms
from notifications.outbox import ReplyOutcome, SubjectKind

_sids = itertools.count(1)


def sid() -> str:
    return f"SMtest{next(_sids):026d}"


class FakeAppointments:
    """A subject kind like the appointments domain's: it records the replies it got."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.cancelled: set[str] = set()

    def is_current(self, _session, record_id: str) -> bool:
        return record_id not in self.cancelled

    def on_reply(self, _session, record_id: str, answer: str) -> ReplyOutcome:
        self.calls.append((record_id, answer))
        template = "reply_confirmed" if answer == "confirm" else "reply_cancelled"
        return ReplyOutcome(True, template, {"date": f"jour {record_id}", "time": "14h30"})


@pytest.fixture()
def appointments():
    fake = FakeAppointments()
    outbox.register_subject_kind(SubjectKind("testappt", fake.is_current, fake.on_reply))
    yield fake
    outbox._SUBJECT_KINDS.pop("testappt", None)


def person(db, number="0470 99 00 01", language="fr", categories=CONSENT_CATEGORIES, name="A"):
    contact = create_contact(
        db, actor=None, display_name=f"Test {name}", language=language, phones=[number]
    )
    for category in categories:
        set_consent(db, contact, category=category, granted=True, method="form", actor=None)
    db.flush()
    return contact


def sent(db, contact, *, subject="testappt:1", category="reminder", ago=timedelta(hours=1)):
    """A message to `contact`, sent `ago`."""
    message = outbox.enqueue(
        db,
        key=f"test:{subject}:{category}:{next(_sids)}",
        contact=contact,
        category=category,
        body="Rappel de votre rendez-vous. Répondez OUI ou NON.",
        subject=subject,
    )
    record_sent(db, message, ProviderMessage(sid(), "sent"), "memory", source="dispatcher")
    message.sent_at = clock.now() - ago
    db.flush()
    return message


def receive(db, body, number="+32470990001", provider_id=None):
    return replies.handle_inbound(
        db, provider_id=provider_id or sid(), from_number=number, body=body
    )


def confirmed_text(db, language, record_id="1"):
    return texts.render(
        db, "reply_confirmed", language, {"date": f"jour {record_id}", "time": "14h30"}
    )[0]


def neutral_text(db):
    return texts.render(db, "reply_received", None, {})[0]


def unknown_text(db):
    """What a number no contact has gets: the neutral answer, or, when several CPAS share
    the installation's number (as in the demo), "contact your CPAS directly"."""
    if replies.shared_number_cpas(db) is not None:
        return neutral_text(db)
    return texts.render(db, "reply_no_cpas", None, {})[0]


def consent_state(db, contact_id):
    return {
        (c.category, c.granted, c.method)
        for c in db.scalars(select(Consent).where(Consent.contact_id == contact_id))
    }


# --- Keywords ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ("Oui!", "OUI"),
        ("oui.", "OUI"),
        (" OUI merci", "OUI"),
        ("non merci je viendrai", "NON"),
        ("ARRÊT", "ARRET"),
        ("arrêt.", "ARRET"),
        ("Stoppen", "STOPPEN"),
        ("¿Oui?", "OUI"),
        ("👍", ""),
        ("", ""),
        ("Ouiii", "OUIII"),
    ],
)
def test_keyword_is_the_first_word_without_accents_or_punctuation(body, word):
    assert replies.keyword(body) == word


# --- OUI / NON ----------------------------------------------------------------------------


def test_oui_confirms_the_reminder_once_and_a_replay_changes_nothing(db, appointments):
    contact = person(db)
    message = sent(db, contact)
    provider_id = sid()
    result = receive(db, "Oui!", provider_id=provider_id)
    assert appointments.calls == [("1", "confirm")]
    assert result.reply == confirmed_text(db, "fr")
    assert result.inbound.outcome == "confirmed"
    assert result.inbound.contact_id == contact.id
    assert result.inbound.in_reply_to_id == message.id
    assert result.inbound.handled_at is not None  # nothing left for reception
    entry = db.scalar(
        select(audit.AuditEntry).where(
            audit.AuditEntry.entity_type == "sms_inbound",
            audit.AuditEntry.entity_id == str(result.inbound.id),
        )
    )
    assert entry is not None and entry.actor_id is None
    assert entry.details == {"outcome": "confirmed", "subject": "testappt:1"}

    again = receive(db, "Oui!", provider_id=provider_id)
    assert appointments.calls == [("1", "confirm")]
    assert again.reply == result.reply
    assert again.inbound.id == result.inbound.id
    count = db.scalar(
        select(func.count()).select_from(InboundSms).where(InboundSms.provider_id == provider_id)
    )
    assert count == 1


@pytest.mark.parametrize("body", ["NON", "non.", "Non merci", "non merci je viendrai", "Nee"])
def test_non_cancels_the_reminder(db, appointments, body):
    contact = person(db, language="nl")
    sent(db, contact)
    result = receive(db, body)
    assert appointments.calls == [("1", "cancel")]
    assert result.inbound.outcome == "cancelled"
    expected = texts.render(db, "reply_cancelled", "nl", {"date": "jour 1", "time": "14h30"})
    assert result.reply == expected[0]


def test_a_keyword_with_more_to_say_stays_open_for_reception(db, appointments):
    contact = person(db)
    sent(db, contact)
    result = receive(db, "Oui mais je serai en retard de 10 minutes")
    assert appointments.calls == [("1", "confirm")]
    assert result.inbound.outcome == "confirmed"
    assert result.inbound.handled_at is None
    assert result.inbound in replies.inbox(db)


def test_the_reply_answers_the_most_recent_reminder(db, appointments):
    contact = person(db)
    sent(db, contact, subject="testappt:1", ago=timedelta(days=2))
    latest = sent(db, contact, subject="testappt:2", ago=timedelta(hours=3))
    sent(db, contact, subject="testappt:3", ago=timedelta(days=1))
    result = receive(db, "YES")
    assert appointments.calls == [("2", "confirm")]
    assert result.inbound.in_reply_to_id == latest.id
    assert result.reply == confirmed_text(db, "fr", "2")


def test_a_later_message_without_replies_does_not_hide_the_reminder(db, appointments):
    contact = person(db)
    reminder = sent(db, contact, subject="testappt:7", ago=timedelta(days=1))
    sent(db, contact, subject=None, category="information", ago=timedelta(hours=1))
    result = receive(db, "oui")
    assert appointments.calls == [("7", "confirm")]
    assert result.inbound.in_reply_to_id == reminder.id


def test_oui_without_a_reminder_goes_to_the_inbox_with_a_neutral_answer(db, appointments):
    contact = person(db)
    sent(db, contact, ago=timedelta(days=8))  # too old to be answered
    waiting = outbox.enqueue(  # not sent yet
        db, key="test:waiting", contact=contact, category="reminder", body="x", subject="testappt:9"
    )
    result = receive(db, "OUI")
    assert appointments.calls == []
    assert result.inbound.outcome == "inbox"
    assert result.inbound.contact_id == contact.id
    assert result.inbound.handled_at is None
    assert result.reply == texts.render(db, "reply_received", "fr", {})[0]
    assert waiting.status == "pending"


def test_oui_about_a_cancelled_appointment_goes_to_the_inbox(db, appointments):
    contact = person(db)
    message = sent(db, contact, subject="testappt:5")
    appointments.cancelled.add("5")
    result = receive(db, "oui")
    assert appointments.calls == []
    assert result.inbound.outcome == "inbox"
    assert result.inbound.in_reply_to_id == message.id
    assert result.reply == texts.render(db, "reply_received", "fr", {})[0]


def test_a_domain_that_could_not_do_it_leaves_the_reply_for_reception(db, appointments):
    # The fixture unregisters "testappt" afterwards, this refusing kind included.
    contact = person(db)
    sent(db, contact, subject="testappt:6")
    outbox.register_subject_kind(
        SubjectKind(
            "testappt",
            lambda _s, _i: True,
            lambda _s, _i, _a: ReplyOutcome(False, "reply_received", {}),
        )
    )
    result = receive(db, "non")
    assert result.inbound.outcome == "inbox"
    assert result.inbound.handled_at is None
    assert result.reply == texts.render(db, "reply_received", "fr", {})[0]


def test_a_reminder_to_someone_who_no_longer_has_the_number_is_not_answered(db, appointments):
    old_owner = person(db, number="0470 99 00 02", name="old")
    message = sent(db, old_owner)
    message.to = "+32470990003"  # the number the message went to, now someone else's
    new_owner = person(db, number="0470 99 00 03", name="new")
    result = receive(db, "NON", number="+32470990003")
    assert appointments.calls == []
    assert result.inbound.outcome == "inbox"
    assert result.inbound.contact_id == new_owner.id


# --- STOP ---------------------------------------------------------------------------------


def test_stop_withdraws_the_category_of_the_last_message(db, appointments):
    contact = person(db)
    waiting = outbox.enqueue(
        db, key="test:stop:waiting", contact=contact, category="reminder", body="plus tard"
    )
    other = outbox.enqueue(
        db, key="test:stop:info", contact=contact, category="information", body="info"
    )
    sent(db, contact)
    result = receive(db, "STOP")
    assert result.inbound.outcome == "stopped"
    assert result.inbound.contact_id == contact.id
    assert (
        result.reply
        == texts.render(db, "reply_stopped", "fr", {"topic": "rappels de rendez-vous"})[0]
    )
    assert "rappels de rendez-vous" in result.reply
    assert consent_state(db, contact.id) == {
        ("reminder", False, "sms_reply"),
        ("service_change", True, "form"),
        ("information", True, "form"),
    }
    events = db.scalars(
        select(ConsentEvent).where(
            ConsentEvent.contact_id == contact.id, ConsentEvent.method == "sms_reply"
        )
    ).all()
    assert [(e.category, e.granted, e.recorded_by_id) for e in events] == [
        ("reminder", False, None)
    ]
    assert waiting.status == "blocked" and waiting.error_code == "withdrawn"
    assert other.status == "pending"
    assert appointments.calls == []


def test_arret_with_an_accent_works_and_a_second_stop_adds_no_event(db):
    contact = person(db)
    sent(db, contact, subject=None, category="service_change")
    receive(db, "Arrêt")
    assert ("service_change", False, "sms_reply") in consent_state(db, contact.id)
    receive(db, "ARRET")
    withdrawals = db.scalar(
        select(func.count())
        .select_from(ConsentEvent)
        .where(ConsentEvent.contact_id == contact.id, ConsentEvent.method == "sms_reply")
    )
    assert withdrawals == 1


def test_stoppen_answers_in_dutch(db):
    contact = person(db, language="nl")
    sent(db, contact, subject=None)
    result = receive(db, "stoppen")
    assert (
        result.reply
        == texts.render(db, "reply_stopped", "nl", {"topic": "herinneringen aan afspraken"})[0]
    )
    assert ("reminder", False, "sms_reply") in consent_state(db, contact.id)


def test_stop_without_a_recent_message_withdraws_everything_and_says_so_in_both_languages(db):
    contact = person(db, language=None)
    sent(db, contact, subject=None, ago=timedelta(days=31))
    result = receive(db, "STOP")
    assert consent_state(db, contact.id) == {
        ("reminder", False, "sms_reply"),
        ("service_change", False, "sms_reply"),
        ("information", False, "sms_reply"),
    }
    french, dutch = result.reply.split("\n")
    assert "rappels de rendez-vous, changements de service, informations" in french
    assert "herinneringen aan afspraken, wijzigingen van diensten, informatie" in dutch


def test_stop_reaches_every_contact_with_the_number(db):
    first = person(db, number="0470 99 00 04", name="one")
    second = person(db, number="0470 99 00 04", name="two", language="nl")
    sent(db, first, subject=None)
    result = receive(db, "STOP", number="0470990004")
    assert result.inbound.contact_id is None  # two files: reception picks
    for contact in (first, second):
        assert ("reminder", False, "sms_reply") in consent_state(db, contact.id)
    assert "\n" in result.reply  # their languages differ: both


# --- Anything else, unknown numbers ----------------------------------------------------------


def test_anything_else_lands_in_the_inbox_linked_to_the_sender(db, appointments):
    contact = person(db)
    message = sent(db, contact, subject=None, category="information")
    result = receive(db, "Bonjour, je ne peux pas venir jeudi, je suis malade.")
    assert result.inbound.outcome == "inbox"
    assert result.inbound.contact_id == contact.id
    assert result.inbound.in_reply_to_id == message.id
    assert result.reply == texts.render(db, "reply_received", "fr", {})[0]
    assert replies.open_count(db) >= 1
    assert replies.inbox(db)[0].id == result.inbound.id


def test_several_contacts_with_the_number_leave_the_choice_to_reception(db):
    first = person(db, number="0470 99 00 05", name="one")
    second = person(db, number="0470 99 00 05", name="two")
    result = receive(db, "Bonjour", number="+32470990005")
    assert result.inbound.contact_id is None
    assert {c.id for c in replies.senders(db, result.inbound)} == {first.id, second.id}


@pytest.mark.parametrize("body", ["OUI", "NON", "STOP", "stoppen", "Bonjour c'est Marie"])
def test_an_unknown_number_learns_nothing(db, appointments, body):
    contact = person(db)
    message = sent(db, contact)
    message.to = "+32470990099"  # a number that belonged to someone, now nobody's
    before = consent_state(db, contact.id)
    events_before = db.scalar(select(func.count()).select_from(ConsentEvent))
    result = receive(db, body, number="+32470990099")
    assert result.reply == unknown_text(db)
    assert "\n" in result.reply  # French and Dutch, whatever the body
    assert result.inbound.outcome == "inbox"
    assert result.inbound.contact_id is None
    assert appointments.calls == []
    assert consent_state(db, contact.id) == before
    assert db.scalar(select(func.count()).select_from(ConsentEvent)) == events_before


def test_an_unreadable_sender_is_kept_as_given(db):
    result = receive(db, "OUI", number="CPAS-INFO-SENDER-NAME-TOO-LONG")
    assert result.inbound.from_e164 == "CPAS-INFO-SENDER-NAM"
    assert result.inbound.outcome == "inbox"
    assert result.reply == unknown_text(db)


def test_a_very_long_body_is_kept_up_to_the_limit(db):
    result = receive(db, "x" * 5000, number="+32470990098")
    assert len(result.inbound.body) == 1600


# --- The inbox ----------------------------------------------------------------------------


def test_inbox_reading_and_handling_are_audited_and_idempotent(db):
    from core import accounts

    reception = accounts.find_user(db, "accueil")
    result = receive(db, "Question", number="+32470990097")
    inbound = result.inbound
    assert inbound in replies.inbox(db)
    opened = replies.get_inbound(db, inbound.id, reader=reception)
    assert opened is inbound
    assert replies.mark_handled(db, inbound, reception) is True
    assert replies.mark_handled(db, inbound, reception) is False
    assert inbound.handled_by_id == reception.id
    assert inbound not in replies.inbox(db)
    assert inbound in replies.inbox(db, open_only=False)
    entries = db.scalars(
        select(audit.AuditEntry.action).where(
            audit.AuditEntry.entity_type == "sms_inbound",
            audit.AuditEntry.entity_id == str(inbound.id),
        )
    ).all()
    assert sorted(entries) == ["read", "update"]
    assert "sms_inbound" in audit.ENTITY_TYPES


def test_inbox_is_newest_first(db):
    with clock.frozen(clock.now()) as time:
        first = receive(db, "un", number="+32470990096").inbound
        time.advance(minutes=1)
        second = receive(db, "deux", number="+32470990096").inbound
    rows = replies.inbox(db, open_only=False, limit=500)
    assert rows.index(second) < rows.index(first)


def test_the_same_sms_delivered_concurrently_is_acted_on_once():
    """Twilio retries a slow answer: the copies wait on the unique MessageSid, then
    find the first one's row; the appointment hears one OUI."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from core.db import make_engine, make_session_factory
    from tests.support import migrated_database

    calls: list[str] = []
    lock = threading.Lock()

    def on_reply(_session, record_id: str, answer: str) -> ReplyOutcome:
        time.sleep(0.05)  # widen the window
        with lock:
            calls.append(answer)
        return ReplyOutcome(True, "reply_confirmed", {"date": "lundi", "time": "9h"})

    outbox.register_subject_kind(SubjectKind("testappt", lambda _s, _i: True, on_reply))
    try:
        with migrated_database("replies") as url:
            engine = (
                make_engine(url, pool_size=8) if not url.startswith("sqlite") else make_engine(url)
            )
            sessions = make_session_factory(engine)
            with sessions() as session:
                contact = person(session)
                sent(session, contact)
                session.commit()

            def deliver(_: int) -> tuple[int, str | None]:
                with sessions() as session:
                    result = receive(session, "OUI", provider_id="SMconcurrent")
                    session.commit()
                    return result.inbound.id, result.reply

            with ThreadPoolExecutor(max_workers=6) as pool:
                results = list(pool.map(deliver, range(6)))
            with sessions() as session:
                rows = session.scalar(select(func.count()).select_from(InboundSms))
            engine.dispose()
    finally:
        outbox._SUBJECT_KINDS.pop("testappt", None)
    assert calls == ["confirm"]
    assert rows == 1
    assert len(set(results)) == 1
