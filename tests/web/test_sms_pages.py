"""The staff SMS pages: the outbox, a message's history, contacts and consent, the texts
and their live counter, the quiet hours.

Users are switched to English so the assertions read the msgids, whatever the state of
the French and Dutch catalogues.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from core import accounts, clock
from core.audit import AuditEntry
from notifications import contacts, outbox
from notifications.models import Consent, Contact, Message, Template
from tests.support import text_of

PAGES_FOR_OFFICE = ("/sms/", "/sms/contacts", "/sms/contacts/new")
PAGES_FOR_SETTINGS = (
    "/sms/templates",
    "/sms/templates/appointment_reminder/fr",
    "/sms/settings",
)


def demo_message(db) -> Message:
    return db.scalar(select(Message).where(Message.key == "demo:reminder:aicha"))


def make_contact(db, name="Page Person", phones=("0471 23 45 67",), consents=()):
    # Of the Marolles antenne (accueil's): a contact of no team is no CPAS's.
    contact = contacts.create_contact(
        db,
        actor=None,
        display_name=name,
        language="fr",
        phones=list(phones),
        team_ids=[accounts.get_team(db, "bxl-marolles").id],
    )
    for category in consents:
        contacts.set_consent(
            db, contact, category=category, granted=True, method="form", actor=None
        )
    db.flush()
    return contact


def test_office_roles_see_the_pages_field_staff_do_not(login, db):
    message_page = f"/sms/messages/{demo_message(db).id}"
    contact_id = demo_message(db).contact_id
    contact_pages = (f"/sms/contacts/{contact_id}", f"/sms/contacts/{contact_id}/edit")
    coordinator = login("coordination")
    for path in (*PAGES_FOR_OFFICE, *PAGES_FOR_SETTINGS, message_page, *contact_pages):
        assert coordinator.get(path).status_code == 200, path
    reception = login("accueil")
    for path in (*PAGES_FOR_OFFICE, message_page, *contact_pages):
        assert reception.get(path).status_code == 200, path
    for path in PAGES_FOR_SETTINGS:
        assert reception.get(path).status_code == 403, path
    for username in ("aide1", "rue1"):
        field = login(username)
        for path in (*PAGES_FOR_OFFICE, *PAGES_FOR_SETTINGS, message_page, *contact_pages):
            assert field.get(path).status_code == 403, (username, path)


def test_unknown_records_answer_404(login):
    browser = login("coordination")
    for path in (
        "/sms/messages/999999",
        "/sms/contacts/999999",
        "/sms/contacts/999999/edit",
        "/sms/templates/no_such_text/fr",
        "/sms/templates/appointment_reminder/de",
    ):
        assert browser.get(path).status_code == 404, path


# --- The outbox --------------------------------------------------------------------------


def test_the_outbox_shows_every_message_with_why_and_filters(login, db):
    waiting = make_contact(db, name="Waiting Outboxtest", consents=["reminder"])
    blocked = make_contact(db, name="Blocked Outboxtest")
    outbox.enqueue(db, key="t:w", contact=waiting, category="reminder", body="Hello")
    outbox.enqueue(db, key="t:b", contact=blocked, category="information", body="Hello")
    db.flush()
    browser = login("accueil")

    page = text_of(browser.get("/sms/?q=outboxtest"))
    assert "Waiting Outboxtest" in page and "Blocked Outboxtest" in page
    assert "0471 23 45 67" in page  # the number, nationally formatted
    assert "No consent for this kind of message." in page
    assert "2 messages" in page
    assert f'href="/sms/contacts/{waiting.id}"' in page

    blocked_only = text_of(browser.get("/sms/?q=outboxtest&status=blocked"))
    assert "Blocked Outboxtest" in blocked_only and "Waiting Outboxtest" not in blocked_only
    by_category = text_of(browser.get("/sms/?q=outboxtest&category=reminder"))
    assert "Waiting Outboxtest" in by_category and "Blocked Outboxtest" not in by_category

    everything = text_of(browser.get("/sms/"))
    assert "Aïcha Bennani" in everything  # the demo's messages, console gateway included

    wrong = browser.get("/sms/?status=lost")
    assert wrong.status_code == 422
    assert "Choose from the list." in text_of(wrong)


def test_a_message_made_in_the_quiet_hours_says_until_when_it_waits(login, db):
    contact = make_contact(db, name="Night Outboxtest", consents=["reminder"])
    tomorrow = clock.to_local(clock.now()).date() + timedelta(days=1)
    late = clock.as_utc(datetime.combine(tomorrow, time(22, 30), tzinfo=clock.BRUSSELS))
    with clock.frozen(late):
        browser = login("accueil")
        message = outbox.enqueue(db, key="t:night", contact=contact, category="reminder", body="Hi")
        db.flush()
        page = text_of(browser.get("/sms/?q=night+outboxtest"))
        assert "Quiet hours: waits until 8:00" in page  # English short time: 8:00 AM
        detail = text_of(browser.get(f"/sms/messages/{message.id}"))
        assert "Quiet hours: waits until 8:00" in detail


def test_the_outbox_pages(login, db):
    contact = make_contact(db, name="Many Pagertest", consents=["reminder"])
    for number in range(35):
        outbox.enqueue(db, key=f"t:{number}", contact=contact, category="reminder", body="Hi")
    db.flush()
    browser = login("accueil")
    first = text_of(browser.get("/sms/?q=pagertest"))
    assert "Page 1 of 2" in first and "page=2" in first
    # The "Older" link carries the last message shown (keyset paging, issue 20).
    older = re.search(r'href="(/sms/\?[^"]*before=[^"]+)"', first)
    assert older, first
    second = text_of(browser.get(html.unescape(older.group(1))))
    assert "Page 2 of 2" in second and second.count("Many Pagertest</a>") == 5
    assert "Older</a>" not in second  # the last page
    newer = re.search(r'href="(/sms/\?[^"]*)">Newer', second)
    assert newer and "after=" not in newer.group(1)  # page 1: the newest, afresh
    # An address typed by hand still pages by number; a broken cursor is no cursor.
    typed = text_of(browser.get("/sms/?q=pagertest&page=2"))
    assert "Page 2 of 2" in typed and typed.count("Many Pagertest</a>") == 5
    broken = browser.get("/sms/?q=pagertest&before=nonsense&page=2")
    assert broken.status_code == 200


def test_a_message_page_shows_its_history_and_the_read_is_audited(login, db):
    message = demo_message(db)
    browser = login("accueil")
    page = text_of(browser.get(f"/sms/messages/{message.id}"))
    assert message.body in page
    assert "Waiting" in page and "Automatic" in page  # the event and its source
    assert "Standard characters (GSM-7)" in page
    user = accounts.find_user(db, "accueil")
    reads = db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.entity_type == "sms_message",
            AuditEntry.entity_id == str(message.id),
            AuditEntry.action == "read",
            AuditEntry.actor_id == user.id,
        )
    )
    assert reads == 1


def test_a_waiting_message_can_be_cancelled_once(login, db):
    message = demo_message(db)
    browser = login("accueil")
    assert "Cancel this SMS" in text_of(browser.get(f"/sms/messages/{message.id}"))
    response = browser.post(f"/sms/messages/{message.id}/cancel")
    assert response.status_code == 302
    page = text_of(browser.get(response.headers["Location"]))
    assert "The message is cancelled" in page
    assert "Cancelled by a member of staff." in page and "Cancel this SMS" not in page
    db.refresh(message)
    assert message.status == "cancelled"
    again = browser.post(f"/sms/messages/{message.id}/cancel")
    assert "no longer waits" in text_of(browser.get(again.headers["Location"]))


# --- Contacts ----------------------------------------------------------------------------


def test_a_contact_with_an_invalid_number_is_not_created(login, db):
    browser = login("accueil")
    response = browser.post(
        "/sms/contacts/new",
        {"display_name": "Invalid Numbertest", "language": "fr", "phone_0": "", "phone_1": "12345"},
    )
    assert response.status_code == 422
    page = text_of(response)
    assert 'id="phone_1-error"' in page and "not a phone number" in page
    assert 'value="Invalid Numbertest"' in page  # what was typed is kept
    count = db.scalar(
        select(func.count())
        .select_from(Contact)
        .where(Contact.display_name == "Invalid Numbertest")
    )
    assert count == 0


def test_empty_name_and_unknown_language_are_shown_next_to_their_fields(login):
    browser = login("accueil")
    response = browser.post("/sms/contacts/new", {"display_name": " ", "language": "de"})
    assert response.status_code == 422
    page = text_of(response)
    assert 'id="display_name-error"' in page and 'id="language-error"' in page


def test_a_contact_with_only_a_landline_is_kept_with_a_warning(login, db):
    browser = login("accueil")
    team = accounts.get_team(db, "bxl-marolles")
    response = browser.post(
        "/sms/contacts/new",
        {
            "display_name": "Landline Pagetest",
            "language": "",
            "phone_0": "02 511 22 33",
            "teams": str(team.id),
        },
    )
    assert response.status_code == 302
    page = text_of(browser.get(response.headers["Location"]))
    assert "Only a landline" in page
    assert "Landline: never gets SMS" in page
    assert "Unknown: French and Dutch" in page
    assert team.name in page
    contact = db.scalar(select(Contact).where(Contact.display_name == "Landline Pagetest"))
    assert [p.e164 for p in contact.phones] == ["+3225112233"]


def test_editing_a_contact(login, db):
    contact = make_contact(db)
    browser = login("accueil")
    form = text_of(browser.get(f"/sms/contacts/{contact.id}/edit"))
    assert 'value="0471 23 45 67"' in form
    fields = {"display_name": "Renamed Pagetest", "language": "nl", "phone_0": "0471 23 45 67"}
    # With several CPAS a contact needs a team of the author's CPAS (else it would be
    # every CPAS's): refused, nothing saved.
    refused = browser.post(f"/sms/contacts/{contact.id}/edit", fields)
    assert refused.status_code == 422
    db.refresh(contact)
    assert contact.display_name == "Page Person"
    marolles = accounts.get_team(db, "bxl-marolles")
    response = browser.post(
        f"/sms/contacts/{contact.id}/edit", {**fields, "teams": [str(marolles.id)]}
    )
    assert response.status_code == 302
    db.refresh(contact)
    assert (contact.display_name, contact.language) == ("Renamed Pagetest", "nl")
    assert {link.team_id for link in contact.teams} == {marolles.id}


def test_consent_is_given_and_withdrawn_with_who_when_and_how(login, db):
    contact = make_contact(db)
    user = accounts.find_user(db, "accueil")
    browser = login("accueil")
    page = text_of(browser.get(f"/sms/contacts/{contact.id}"))
    assert page.count("Never asked") == 3
    assert "No consent for this kind of message." in page

    given = browser.post(
        f"/sms/contacts/{contact.id}/consent",
        {"category": "reminder", "granted": "1", "method": "oral", "note": "at the desk"},
    )
    assert given.status_code == 302
    page = text_of(browser.get(f"/sms/contacts/{contact.id}"))
    assert "Consent recorded" in page
    assert "Said in person" in page and user.display_name in page and "at the desk" in page
    assert "SMS of this kind go to 0471 23 45 67." in page
    consent = db.get(Consent, (contact.id, "sms", "reminder"))
    assert (consent.granted, consent.method, consent.recorded_by_id) == (True, "oral", user.id)

    waiting = outbox.enqueue(db, key="t:consent", contact=contact, category="reminder", body="Hi")
    db.flush()
    withdrawn = browser.post(
        f"/sms/contacts/{contact.id}/consent",
        {"category": "reminder", "granted": "0", "method": "phone_call"},
    )
    assert withdrawn.status_code == 302
    page = text_of(browser.get(f"/sms/contacts/{contact.id}"))
    assert "Withdrawn" in page and "By phone" in page
    assert "The person withdrew consent for this kind of message." in page
    assert "Appointment reminders: withdrawn" in page and "Appointment reminders: given" in page
    db.refresh(waiting)
    assert (waiting.status, waiting.error_code) == ("blocked", "withdrawn")


def test_a_consent_without_a_known_method_changes_nothing(login, db):
    contact = make_contact(db)
    browser = login("accueil")
    response = browser.post(
        f"/sms/contacts/{contact.id}/consent",
        {"category": "reminder", "granted": "1", "method": "telepathy"},
    )
    assert response.status_code == 422
    assert 'id="method-reminder-error"' in text_of(response)
    assert db.get(Consent, (contact.id, "sms", "reminder")) is None


def test_the_contacts_search(login, db):
    make_contact(db, name="Searchable Pagetest")
    browser = login("accueil")
    assert "Searchable Pagetest" in text_of(browser.get("/sms/contacts?q=searchable"))
    assert "Searchable Pagetest" in text_of(browser.get("/sms/contacts?q=0471234567"))
    assert "Searchable Pagetest" not in text_of(browser.get("/sms/contacts?q=nobody"))


# --- Templates -----------------------------------------------------------------------------


def test_the_texts_list_every_kind_and_language(login):
    page = text_of(login("coordination").get("/sms/templates"))
    assert "Appointment reminder" in page and "Verification code" in page
    assert page.count("/sms/templates/appointment_reminder/") == 3
    assert "default" in page


def test_an_unknown_placeholder_is_refused_and_nothing_is_saved(login, db):
    browser = login("coordination")
    response = browser.post(
        "/sms/templates/appointment_reminder/fr",
        {"body": "CPAS: rendez-vous de {nom} le {date}.", "action": "save"},
    )
    assert response.status_code == 422
    page = text_of(response)
    assert 'id="body-error"' in page
    assert "{nom}" in page and "{service}, {date}, {time}, {place}" in page
    assert "rendez-vous de {nom} le {date}." in page  # the draft is kept in the textarea
    assert db.get(Template, ("appointment_reminder", "fr")) is None


def test_a_text_is_saved_then_reset(login, db):
    browser = login("coordination")
    response = browser.post(
        "/sms/templates/appointment_reminder/nl",
        {"body": "OCMW: afspraak {service} op {date} om {time}.", "action": "save"},
    )
    assert response.status_code == 302
    assert db.get(Template, ("appointment_reminder", "nl")).body.startswith("OCMW: afspraak")
    assert "edited" in text_of(browser.get("/sms/templates"))
    reset = browser.post("/sms/templates/appointment_reminder/nl/reset")
    assert reset.status_code == 302
    db.expire_all()
    assert db.get(Template, ("appointment_reminder", "nl")) is None


ACCENTED = (
    "CPAS: votre fenêtre de rendez-vous {service} est le {date} à {time}. Merci d'être à l'heure."
)


def test_the_live_counter_speaks_of_encoding_and_offers_a_gsm_text(login):
    browser = login("coordination")
    response = browser.post(
        "/sms/templates/count",
        {"body": ACCENTED, "code": "appointment_reminder", "language": "fr"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    fragment = text_of(response)
    assert "<html" not in fragment
    assert 'data-encoding="UCS-2"' in fragment and 'data-segments="2"' in fragment
    assert "costs about twice as much" in fragment
    assert '<span class="sms-char">ê</span>' in fragment
    # No misspelt suggestion ("fenetre", "d'etre"): the word to reword instead.
    assert "fenetre" not in fragment and "etre" not in fragment.replace("être", "")
    assert "reword: fenêtre." in fragment and "Use this text" not in fragment
    # Reworded where a rewording is known ("d'être à l'heure" → "de venir à l'heure").
    reworded = ACCENTED.replace("fenêtre de ", "")
    fragment = text_of(
        browser.post(
            "/sms/templates/count",
            {"body": reworded, "code": "appointment_reminder", "language": "fr"},
            headers={"HX-Request": "true"},
        )
    )
    assert "2 → 1 segments" in fragment
    assert "Merci de venir à l&#39;heure." in fragment
    assert 'form="use-suggestion"' in fragment and "Use this text" in fragment

    plain = text_of(browser.post("/sms/templates/count", {"body": "CPAS: merci."}))
    assert 'data-encoding="GSM-7"' in plain and "Use this text" not in plain
    assert "148 left in this segment" in plain


def test_using_the_suggestion_puts_it_in_the_form_without_saving(login, db):
    browser = login("coordination")
    page = text_of(
        browser.post(
            "/sms/templates/appointment_reminder/fr",
            {"body": "CPAS: fenetre {service}.", "action": "draft"},
        )
    )
    assert "CPAS: fenetre {service}.</textarea>" in page
    assert db.get(Template, ("appointment_reminder", "fr")) is None


def test_the_counter_needs_the_settings_permission(login):
    assert login("accueil").post("/sms/templates/count", {"body": "x"}).status_code == 403


# --- Quiet hours -----------------------------------------------------------------------------


def settings_form(**changes: str) -> dict[str, str]:
    form = {}
    for category in ("reminder", "service_change", "information", "verification"):
        form[f"{category}-quiet_from"] = "21:00" if category != "verification" else "00:00"
        form[f"{category}-quiet_until"] = "08:00" if category != "verification" else "00:00"
        form[f"{category}-validity_hours"] = "24"
    form["service_change-urgent_may_bypass"] = "1"
    form.update(changes)
    return form


def test_quiet_hours_are_saved(login, db):
    browser = login("coordination")
    page = text_of(browser.get("/sms/settings"))
    assert 'name="reminder-quiet_from" type="time" step="60" value="21:00"' in page
    response = browser.post(
        "/sms/settings",
        settings_form(**{"information-quiet_from": "20:30", "information-validity_hours": "12"}),
    )
    assert response.status_code == 302
    rules = outbox.category_rules(db, "information")
    assert (rules.quiet_from, rules.quiet_until, rules.validity_hours) == (20 * 60 + 30, 480, 12)
    assert rules.urgent_may_bypass is False
    assert outbox.category_rules(db, "service_change").urgent_may_bypass is True
    assert 'value="20:30"' in text_of(browser.get("/sms/settings"))


def test_bad_quiet_hours_show_errors_and_save_nothing(login, db):
    browser = login("coordination")
    response = browser.post(
        "/sms/settings",
        settings_form(
            **{
                "reminder-quiet_from": "25:00",
                "information-validity_hours": "100",
                "service_change-quiet_from": "19:00",
            }
        ),
    )
    assert response.status_code == 422
    page = text_of(response)
    assert 'id="reminder-quiet_from-error"' in page and "Give a time like 21:00." in page
    assert 'id="information-validity_hours-error"' in page
    assert outbox.category_rules(db, "service_change") == outbox.DEFAULT_RULES["service_change"]


def test_a_reminder_planned_ahead_is_not_called_quiet_hours(login, db):
    contact = make_contact(db, name="Planned Outboxtest", consents=["reminder"])
    tomorrow = clock.to_local(clock.now()).date() + timedelta(days=1)
    late = clock.as_utc(datetime.combine(tomorrow, time(22, 30), tzinfo=clock.BRUSSELS))
    leaves = clock.as_utc(
        datetime.combine(tomorrow + timedelta(days=1), time(17, 0), tzinfo=clock.BRUSSELS)
    )
    with clock.frozen(late):
        browser = login("accueil")
        message = outbox.enqueue(
            db, key="t:planned", contact=contact, category="reminder", body="Hi", not_before=leaves
        )
        db.flush()
        detail = text_of(browser.get(f"/sms/messages/{message.id}"))
    assert "Quiet hours" not in detail.split('id="status-title"')[1].split("</section>")[0]
    assert "A reminder planned ahead: it leaves on" in detail


def test_a_message_page_speaks_words_not_codes(login, db):
    from appointments import verification

    contact = make_contact(db, name=verification.CONTACT_NAME, consents=["reminder"])
    message = outbox.enqueue(
        db, key="t:codes", contact=contact, category="reminder", body="Hi", subject="appointment:0"
    )
    outbox.cancel_for_subject(db, "appointment:0", reason="appointment_cancelled")
    db.flush()
    assert message.status == "cancelled" and message.error_code == "appointment_cancelled"
    browser = login("accueil")
    page = text_of(browser.get(f"/sms/messages/{message.id}"))
    assert "appointment_cancelled" not in page and "appointment:0" not in page
    assert "The appointment was cancelled." in page
    assert "An appointment that no longer exists" in page
    user = accounts.find_user(db, "accueil")
    user.language = "fr"
    db.flush()
    page = text_of(browser.get(f"/sms/messages/{message.id}"))
    assert "Code SMS (réservation en ligne)" in page and verification.CONTACT_NAME not in page


def test_a_message_page_says_which_appointment_it_is_about(login, db):
    from tests.web.appointment_settings import book_at_marolles

    appointment = book_at_marolles(db)
    contact = make_contact(db, name="About Person", consents=["reminder"])
    about = outbox.enqueue(
        db,
        key="t:about",
        contact=contact,
        category="reminder",
        body="Hi",
        subject=f"appointment:{appointment.id}",
    )
    other = outbox.enqueue(
        db, key="t:other", contact=contact, category="reminder", body="Hi", subject="visit:7"
    )
    db.flush()
    browser = login("accueil")
    page = text_of(browser.get(f"/sms/messages/{about.id}"))
    start = clock.to_local(appointment.start_at)
    assert f"The appointment of {start.month}/{start.day}/" in page  # 12/21/26, 9:30 AM
    assert "Another record" in text_of(browser.get(f"/sms/messages/{other.id}"))
