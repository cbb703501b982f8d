"""Notifications on the database: contacts, consent, templates, the outbox's rules
(idempotent keys, quiet hours, reminders, staleness) and the staff queries."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from core import accounts, clock
from core.audit import AuditEntry
from core.errors import Invalid
from notifications import contacts, outbox, queries, texts
from notifications.models import Contact, ContactPhone, Message, MessageEvent, Template

MOBILE = "0471 23 45 67"
MOBILE_E164 = "+32471234567"
LANDLINE = "02 511 22 33"
LANDLINE_E164 = "+3225112233"
# 22:30 in Brussels (winter time, UTC+1).
LATE_EVENING = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)
# 10:00 in Brussels.
MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def brussels(*args: int) -> datetime:
    return clock.as_utc(datetime(*args, tzinfo=clock.BRUSSELS))


@pytest.fixture()
def staff(db):
    return accounts.find_user(db, "accueil")


def make_contact(db, name="Test Person", phones=(MOBILE,), language="fr", consents=()):
    contact = contacts.create_contact(
        db, actor=None, display_name=name, language=language, phones=list(phones)
    )
    for category in consents:
        contacts.set_consent(
            db, contact, category=category, granted=True, method="form", actor=None
        )
    db.flush()
    return contact


def send(db, contact, key="test:1", category="reminder", **kwargs):
    kwargs.setdefault("body", "CPAS: test.")
    return outbox.enqueue(db, key=key, contact=contact, category=category, **kwargs)


def contacts_named(db, name: str) -> int:
    return db.scalar(select(func.count()).select_from(Contact).where(Contact.display_name == name))


# --- Contacts --------------------------------------------------------------------------


def test_numbers_are_kept_in_e164_and_a_landline_is_kept_but_never_used(db):
    contact = make_contact(db, phones=[LANDLINE, "+32 471 23 45 67"], consents=["reminder"])
    assert [(p.e164, p.is_mobile, p.position) for p in contact.phones] == [
        (LANDLINE_E164, False, 0),
        (MOBILE_E164, True, 1),
    ]
    reach = contacts.reachability(db, contact, "reminder")
    assert reach.ok and reach.phone.e164 == MOBILE_E164

    only_landline = make_contact(db, name="Landline Only", phones=[LANDLINE], consents=["reminder"])
    assert only_landline.phones[0].is_mobile is False
    reach = contacts.reachability(db, only_landline, "reminder")
    assert not reach.ok and reach.reason == "no_mobile"
    message = send(db, only_landline, key="test:landline")
    assert (message.status, message.error_code, message.to) == ("blocked", "no_mobile", "")


def test_the_same_number_twice_is_kept_once(db):
    contact = make_contact(db, phones=[MOBILE, "+32471234567", "0032 471 23 45 67"])
    assert [p.e164 for p in contact.phones] == [MOBILE_E164]


def test_an_invalid_number_is_refused_naming_its_field_and_nothing_is_saved(db):
    with pytest.raises(Invalid) as refused:
        contacts.create_contact(
            db, actor=None, display_name="Nobody Saved", language="fr", phones=[MOBILE, "12345"]
        )
    assert refused.value.errors["phone_1"].code == "invalid_phone"
    # An empty first field does not shift the error onto the wrong field.
    with pytest.raises(Invalid) as refused:
        contacts.create_contact(
            db, actor=None, display_name="Nobody Saved", language="fr", phones=["", "12345"]
        )
    assert set(refused.value.errors) == {"phone_1"}
    db.flush()
    assert contacts_named(db, "Nobody Saved") == 0


def test_identity_errors_come_together(db):
    with pytest.raises(Invalid) as refused:
        contacts.create_contact(
            db, actor=None, display_name="  ", language="de", phones=["not a number"]
        )
    assert {name: error.code for name, error in refused.value.errors.items()} == {
        "display_name": "required",
        "language": "unknown_choice",
        "phone_0": "invalid_phone",
    }


def test_at_most_three_numbers(db):
    numbers = ["0471 00 00 01", "0471 00 00 02", "0471 00 00 03", "0471 00 00 04"]
    with pytest.raises(Invalid) as refused:
        make_contact(db, name="Four Numbers", phones=numbers)
    assert refused.value.errors["phones"].code == "too_many"
    assert refused.value.errors["phones"].params == {"max": 3}
    assert len(make_contact(db, name="Three Numbers", phones=numbers[:3]).phones) == 3


def test_update_keeps_a_refused_number_refused_and_is_audited(db, staff):
    contact = make_contact(db, consents=["reminder"])
    contacts.mark_phone(db, MOBILE_E164, "opted_out", "21610")
    contacts.update_contact(
        db,
        contact,
        actor=staff,
        display_name="Renamed Person",
        language="nl",
        phones=["0471 99 99 99", MOBILE],
        team_ids=[],
    )
    db.flush()
    assert [(p.e164, p.state, p.position) for p in contact.phones] == [
        ("+32471999999", "active", 0),
        (MOBILE_E164, "opted_out", 1),
    ]
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "sms_contact",
            AuditEntry.entity_id == str(contact.id),
            AuditEntry.action == "update",
        )
    )
    assert entry.details == {"fields": ["display_name", "language", "phones"]}


def test_opening_a_contact_for_staff_is_audited(db, staff):
    contact = make_contact(db)
    assert contacts.get_contact(db, contact.id) is not None  # no reader: not logged
    contacts.get_contact(db, contact.id, reader=staff)
    db.flush()
    reads = db.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "read",
            AuditEntry.entity_type == "sms_contact",
            AuditEntry.entity_id == str(contact.id),
        )
    ).all()
    assert [entry.actor_id for entry in reads] == [staff.id]


def test_search_by_name_or_number(db):
    contact = make_contact(db, name="Zoë Searchable")
    assert contact in contacts.search_contacts(db, "searchable")
    assert contact in contacts.search_contacts(db, "0471 23 45 67")
    assert contact in contacts.search_contacts(db, "+32 471 234")
    assert contact not in contacts.search_contacts(db, "nobody at all")


# --- Consent ---------------------------------------------------------------------------


def test_no_consent_no_send_and_the_row_says_why(db):
    contact = make_contact(db)
    message = send(db, contact)
    assert (message.status, message.error_code) == ("blocked", "no_consent")
    assert [(e.status, e.error_code) for e in message.events] == [("blocked", "no_consent")]


def test_verification_codes_need_no_consent(db):
    contact = make_contact(db)
    assert send(db, contact, category="verification").status == "pending"


def test_consent_given_then_withdrawn_blocks_only_that_category(db, staff):
    contact = make_contact(db)
    contacts.set_consent(
        db, contact, category="reminder", granted=True, method="oral", actor=staff, note="desk"
    )
    contacts.set_consent(
        db, contact, category="service_change", granted=True, method="form", actor=staff
    )
    reminder = send(db, contact, key="test:reminder")
    change = send(db, contact, key="test:change", category="service_change")
    assert (reminder.status, reminder.to) == ("pending", MOBILE_E164)
    assert change.status == "pending"

    contacts.set_consent(
        db, contact, category="reminder", granted=False, method="phone_call", actor=staff
    )
    db.flush()
    db.refresh(reminder)
    db.refresh(change)
    assert (reminder.status, reminder.error_code) == ("blocked", "withdrawn")
    assert change.status == "pending"
    assert [e.status for e in reminder.events] == ["pending", "blocked"]
    assert send(db, contact, key="test:reminder-2").error_code == "withdrawn"

    history = contacts.consent_history(db, contact.id)
    reminder_history = [e for e in history if e.category == "reminder"]
    assert [(e.granted, e.method, e.recorded_by_id) for e in reminder_history] == [
        (False, "phone_call", staff.id),
        (True, "oral", staff.id),
    ]
    assert reminder_history[1].note == "desk"


def test_a_consent_with_an_unknown_method_changes_nothing(db, staff):
    contact = make_contact(db)
    with pytest.raises(Invalid) as refused:
        contacts.set_consent(
            db, contact, category="reminder", granted=True, method="fax", actor=staff
        )
    assert refused.value.errors["method"].code == "unknown_choice"
    with pytest.raises(Invalid):
        contacts.set_consent(
            db, contact, category="verification", granted=True, method="form", actor=staff
        )
    assert contacts.consent_history(db, contact.id) == []


def test_reachability_reasons(db):
    contact = make_contact(db)
    assert contacts.reachability(db, contact, "reminder").reason == "no_consent"
    contacts.set_consent(db, contact, category="reminder", granted=False, method="form", actor=None)
    assert contacts.reachability(db, contact, "reminder").reason == "withdrawn"
    contacts.set_consent(db, contact, category="reminder", granted=True, method="form", actor=None)
    assert contacts.reachability(db, contact, "reminder").ok

    contacts.mark_phone(db, MOBILE_E164, "opted_out", "21610")
    db.refresh(contact)
    assert contacts.reachability(db, contact, "reminder").reason == "opted_out"

    other = make_contact(db, name="Bad Number", phones=["0472 00 00 01"], consents=["reminder"])
    contacts.mark_phone(db, "+32472000001", "invalid", "21211")
    db.refresh(other)
    assert contacts.reachability(db, other, "reminder").reason == "invalid_number"


def test_a_number_refused_by_the_carrier_blocks_what_waits_for_it(db):
    contact = make_contact(db, consents=["reminder"])
    waiting = send(db, contact)
    assert contacts.mark_phone(db, MOBILE_E164, "opted_out", "21610") == 1
    db.flush()
    db.refresh(waiting)
    assert (waiting.status, waiting.error_code) == ("blocked", "opted_out")
    assert contacts.mark_phone(db, MOBILE_E164, "opted_out", "21610") == 0  # already marked


# --- Templates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "required"),
        ("   ", "required"),
        ("Bonjour {nom}", "unknown_placeholder"),
        ("Bonjour {service", "malformed_placeholder"),
        ("Bonjour {0}", "malformed_placeholder"),
        ("CPAS: " + "rappel {service} " * 40, "too_many_segments"),
    ],
)
def test_a_bad_template_is_refused_and_nothing_is_saved(db, body, code):
    with pytest.raises(Invalid) as refused:
        texts.save_template(
            db, code="appointment_reminder", language="fr", body=body, actor_id=None
        )
    assert refused.value.errors["body"].code == code
    db.flush()
    assert db.get(Template, ("appointment_reminder", "fr")) is None


def test_an_unknown_placeholder_names_it_and_the_allowed_ones(db):
    with pytest.raises(Invalid) as refused:
        texts.save_template(
            db, code="appointment_reminder", language="fr", body="{nom} {date}", actor_id=None
        )
    params = refused.value.errors["body"].params
    assert params["name"] == "nom"
    assert params["allowed"] == "{cpas}, {service}, {date}, {time}, {place}"


def test_an_edited_text_is_used_and_can_be_reset(db, staff):
    values = {"service": "Permanence", "date": "lundi 24/11", "time": "14h30", "place": "Rue Haute"}
    texts.save_template(
        db,
        code="appointment_reminder",
        language="fr",
        body="CPAS: RDV {service} le {date} a {time}.",
        actor_id=staff.id,
    )
    db.flush()
    assert texts.render(db, "appointment_reminder", "fr", values) == (
        "CPAS: RDV Permanence le lundi 24/11 a 14h30.",
        "fr",
    )
    assert texts.render(db, "appointment_reminder", "nl", values)[0].startswith("OCMW:")
    texts.reset_template(db, code="appointment_reminder", language="fr")
    db.flush()
    assert texts.render(db, "appointment_reminder", "fr", values)[0].startswith(
        "CPAS: rappel de votre rendez-vous Permanence"
    )


def test_unknown_language_gets_french_then_dutch(db):
    text, language = texts.render(db, "verification_code", None, {"code": "123456"})
    assert language == "fr+nl"
    french, dutch = text.split("\n")
    assert french == "CPAS: votre code est 123456. Il est valable 10 minutes."
    assert dutch == "OCMW: uw code is 123456. Hij is 10 minuten geldig."
    contact = make_contact(db, language=None)
    message = send(
        db,
        contact,
        category="verification",
        body=None,
        template="verification_code",
        values={"code": "123456"},
    )
    assert (message.language, message.body) == ("fr+nl", text)


def test_a_gsm_text_stays_gsm_when_a_value_has_an_accent(db):
    text, _language = texts.render(
        db,
        "appointment_reminder",
        "fr",
        {"service": "Aide à l'être", "date": "août", "time": "9h", "place": "x"},
    )
    assert "être" not in text and "etre" in text and "aout" in text


# --- The outbox ------------------------------------------------------------------------


def test_the_same_key_twice_makes_one_row(db):
    contact = make_contact(db, consents=["reminder"])
    first = send(db, contact, key="test:once")
    second = send(db, contact, key="test:once", body="Another text")
    assert first.id == second.id and second.body == "CPAS: test."
    count = db.scalar(select(func.count()).select_from(Message).where(Message.key == "test:once"))
    assert count == 1
    events = db.scalar(
        select(func.count()).select_from(MessageEvent).where(MessageEvent.message_id == first.id)
    )
    assert events == 1


def test_an_empty_or_too_long_body_is_refused(db):
    contact = make_contact(db, consents=["reminder"])
    with pytest.raises(Invalid):
        send(db, contact, key="test:empty", body="  ")
    with pytest.raises(Invalid):
        send(db, contact, key="test:long", body="x" * 919)
    with pytest.raises(Invalid):
        send(db, contact, key="test:category", category="gossip")
    assert (
        db.scalar(select(func.count()).select_from(Message).where(Message.key.like("test:%"))) == 0
    )


def test_a_message_made_in_the_quiet_hours_waits_until_eight(db):
    contact = make_contact(db, consents=["reminder", "service_change"])
    with clock.frozen(LATE_EVENING):
        message = send(db, contact)
        assert clock.to_local(message.not_before) == datetime(
            2026, 11, 24, 8, 0, tzinfo=clock.BRUSSELS
        )
        # Urgent service changes may bypass (the default), urgent reminders may not.
        urgent_change = send(db, contact, key="test:urgent", category="service_change", urgent=True)
        assert urgent_change.not_before == LATE_EVENING
        urgent_reminder = send(db, contact, key="test:urgent-reminder", urgent=True)
        assert urgent_reminder.not_before == brussels(2026, 11, 24, 8, 0)
    # After midnight, it waits until eight the same day.
    with clock.frozen(brussels(2026, 11, 24, 3, 15)):
        assert send(db, contact, key="test:night").not_before == brussels(2026, 11, 24, 8, 0)
    with clock.frozen(MORNING):
        assert send(db, contact, key="test:day").not_before == MORNING


def test_quiet_hours_follow_each_categorys_settings(db, staff):
    contact = make_contact(db, consents=["information", "reminder"])
    outbox.save_category_rules(
        db, outbox.CategoryRules("information", 12 * 60, 14 * 60, False, 12), actor=staff
    )
    outbox.save_category_rules(
        db, outbox.CategoryRules("reminder", 9 * 60, 9 * 60, False, 24), actor=staff
    )
    db.flush()
    assert outbox.category_rules(db, "information").validity_hours == 12
    with clock.frozen(brussels(2026, 11, 23, 13, 0)):
        info = send(db, contact, key="test:info", category="information")
        assert info.not_before == brussels(2026, 11, 23, 14, 0)
        assert info.valid_until == brussels(2026, 11, 23, 14, 0) + timedelta(hours=12)
    with clock.frozen(LATE_EVENING):
        # from == until: no quiet hours at all for reminders now.
        assert send(db, contact, key="test:no-quiet").not_before == LATE_EVENING
        # verification codes have none by default
        assert outbox.in_quiet_hours(outbox.DEFAULT_RULES["verification"], LATE_EVENING) is False


def test_bad_quiet_hours_are_refused(db, staff):
    with pytest.raises(Invalid) as refused:
        outbox.save_category_rules(
            db, outbox.CategoryRules("reminder", 24 * 60, -1, False, 0), actor=staff
        )
    assert {name: error.code for name, error in refused.value.errors.items()} == {
        "quiet_from": "invalid_time",
        "quiet_until": "invalid_time",
        "validity_hours": "out_of_range",
    }
    assert outbox.category_rules(db, "reminder") == outbox.DEFAULT_RULES["reminder"]


APPOINTMENT = {"service": "Permanence sociale", "place": "Rue Haute 298"}


def test_reminders_the_day_before_at_five_and_two_hours_before(db):
    contact = make_contact(db, consents=["reminder"])
    start = brussels(2026, 11, 25, 14, 30)
    with clock.frozen(MORNING):
        made = outbox.schedule_reminders(
            db, subject="appointment:1", contact=contact, start_at=start, values=APPOINTMENT
        )
        again = outbox.schedule_reminders(
            db, subject="appointment:1", contact=contact, start_at=start, values=APPOINTMENT
        )
    assert [m.key for m in made] == ["reminder:appointment:1:J-1", "reminder:appointment:1:H-2"]
    assert [m.id for m in again] == [m.id for m in made]
    assert [m.not_before for m in made] == [
        brussels(2026, 11, 24, 17, 0),
        brussels(2026, 11, 25, 12, 30),
    ]
    assert all(m.valid_until == start and m.subject == "appointment:1" for m in made)
    assert all(m.status == "pending" and m.category == "reminder" for m in made)
    assert "mercredi 25/11" in made[0].body and "14h30" in made[0].body


def test_a_reminder_whose_time_has_passed_is_not_made(db):
    contact = make_contact(db, consents=["reminder"])
    start = brussels(2026, 11, 25, 14, 30)
    with clock.frozen(brussels(2026, 11, 24, 18, 0)):
        made = outbox.schedule_reminders(
            db, subject="appointment:2", contact=contact, start_at=start, values=APPOINTMENT
        )
    assert [m.key for m in made] == ["reminder:appointment:2:H-2"]
    with clock.frozen(brussels(2026, 11, 25, 13, 0)):
        assert (
            outbox.schedule_reminders(
                db, subject="appointment:3", contact=contact, start_at=start, values=APPOINTMENT
            )
            == []
        )


def test_an_early_reminder_waits_for_the_end_of_the_quiet_hours(db):
    contact = make_contact(db, consents=["reminder"])
    start = brussels(2026, 11, 25, 9, 0)  # H-2 would be 07:00
    with clock.frozen(MORNING):
        made = outbox.schedule_reminders(
            db,
            subject="appointment:4",
            contact=contact,
            start_at=start,
            values=APPOINTMENT,
            rules=[outbox.ReminderRule("H-2", hours_before=2)],
        )
    assert made[0].not_before == brussels(2026, 11, 25, 8, 0)


def test_a_reminder_rule_at_a_wall_clock_time_across_dst(db):
    rule = outbox.ReminderRule("J-1", days_before=1, at=time(17, 0))
    # The day before the last Sunday of March is still winter time (UTC+1).
    assert rule.send_time(brussels(2026, 3, 29, 10, 0)) == datetime(2026, 3, 28, 16, 0, tzinfo=UTC)
    # The day before the last Sunday of October is still summer time (UTC+2).
    assert rule.send_time(brussels(2026, 10, 25, 10, 0)) == datetime(
        2026, 10, 24, 15, 0, tzinfo=UTC
    )


def test_cancel_for_subject_drops_only_what_waits_about_it(db):
    contact = make_contact(db, consents=["reminder"])
    start = brussels(2026, 11, 25, 14, 30)
    with clock.frozen(MORNING):
        made = outbox.schedule_reminders(
            db, subject="appointment:5", contact=contact, start_at=start, values=APPOINTMENT
        )
        other = outbox.schedule_reminders(
            db, subject="appointment:6", contact=contact, start_at=start, values=APPOINTMENT
        )
        made[0].status = "sent"
        db.flush()
        assert outbox.cancel_for_subject(db, "appointment:5") == 1
        assert outbox.cancel_for_subject(db, "appointment:5") == 0
    db.flush()
    for message in (*made, *other):
        db.refresh(message)
    assert [m.status for m in made] == ["sent", "cancelled"]
    assert made[1].error_code == "subject_gone"
    assert made[1].events[-1].status == "cancelled"
    assert [m.status for m in other] == ["pending", "pending"]


# --- Staff queries ---------------------------------------------------------------------


def test_the_outbox_list_filters_counts_and_pages(db):
    alice = make_contact(db, name="Alice Filtertest", consents=["reminder"])
    bob = make_contact(db, name="Bob Filtertest", phones=["0472 11 11 11"])
    with clock.frozen(MORNING) as travel:
        for number in range(3):
            send(db, alice, key=f"test:alice:{number}")
            travel.advance(minutes=1)
        send(db, bob, key="test:bob", category="information")
    db.flush()
    everyone = queries.list_messages(db, queries.OutboxFilter(text="filtertest"))
    assert [m.key for m in everyone.messages] == [
        "test:bob",
        "test:alice:2",
        "test:alice:1",
        "test:alice:0",
    ]
    blocked = queries.list_messages(db, queries.OutboxFilter(status="blocked", text="FILTERTEST"))
    assert [m.contact_id for m in blocked.messages] == [bob.id]
    by_category = queries.list_messages(
        db, queries.OutboxFilter(category="reminder", text="filtertest")
    )
    assert by_category.total == 3
    second = queries.list_messages(db, queries.OutboxFilter(text="alice"), page=2, per_page=2)
    assert (second.total, second.pages, [m.key for m in second.messages]) == (
        3,
        2,
        ["test:alice:0"],
    )
    counts = queries.count_by_status(db, queries.OutboxFilter(status="blocked", text="filtertest"))
    assert counts["pending"] == 3 and counts["blocked"] == 1 and counts["sent"] == 0
    with pytest.raises(Invalid):
        queries.list_messages(db, queries.OutboxFilter(status="lost"))


def test_a_waiting_message_can_be_cancelled_once_and_it_is_audited(db, staff):
    contact = make_contact(db, consents=["reminder"])
    message = send(db, contact)
    assert queries.cancel_message(db, message.id, actor=staff) is True
    assert queries.cancel_message(db, message.id, actor=staff) is False
    db.flush()
    found = queries.get_message(db, message.id, reader=staff)
    assert (found.status, found.error_code) == ("cancelled", "staff")
    assert [(e.status, e.source) for e in found.events] == [
        ("pending", "job"),
        ("cancelled", "staff"),
    ]
    db.flush()
    entries = db.scalars(
        select(AuditEntry.action).where(
            AuditEntry.entity_type == "sms_message", AuditEntry.entity_id == str(message.id)
        )
    ).all()
    assert sorted(entries) == ["read", "update"]
    blocked = send(db, make_contact(db, name="No Consent"), key="test:blocked")
    assert queries.cancel_message(db, blocked.id, actor=staff) is False
    assert db.get(Message, blocked.id).status == "blocked"


def test_contact_messages_are_newest_first(db):
    contact = make_contact(db, consents=["reminder"])
    with clock.frozen(MORNING) as travel:
        send(db, contact, key="test:a")
        travel.advance(minutes=5)
        send(db, contact, key="test:b")
    assert [m.key for m in queries.contact_messages(db, contact.id)] == ["test:b", "test:a"]
    assert (
        db.scalar(
            select(func.count())
            .select_from(ContactPhone)
            .where(ContactPhone.contact_id == contact.id)
        )
        == 1
    )


def test_quiet_hours_do_not_use_up_the_validity(db, staff):
    contact = make_contact(db, consents=["information"])
    outbox.save_category_rules(
        db, outbox.CategoryRules("information", 21 * 60, 8 * 60, False, 6), actor=staff
    )
    with clock.frozen(LATE_EVENING):
        message = send(db, contact, key="test:valid", category="information")
    # Made at 22:30, may leave at 08:00: still worth sending until 14:00, not 04:30.
    assert message.not_before == brussels(2026, 11, 24, 8, 0)
    assert message.valid_until == brussels(2026, 11, 24, 14, 0)
