"""The SMS pages on a phone: the outbox and consent (reception), the template editor's
live counter (coordinator), a broadcast followed live, and the replies' inbox.

Real Chromium against a live server of this module's own (`live_site("smsb")`): its
environment carries TWILIO_AUTH_TOKEN, so an inbound SMS is posted to /sms/inbound
signed as Twilio signs it, and what these tests change (consents, texts, quiet hours)
stays away from the other browser tests. The scheduler's work (expanding a broadcast,
sending what is due) is run from the test process on the live site's database, with
the console gateway, as `terrain scheduler` would.

The reception and the coordinator each log in once for the module, on a phone of their
own, and switch to English first (saved in their profile on this site): the French and
Dutch wording of the SMS pages may change, the msgids do not. Each test starts on the
home page, where the login left them; the tests run in order (the broadcast counts on
the consent withdrawn in the first one).
"""

from __future__ import annotations

import re
import secrets
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from playwright.sync_api import Browser, Locator, Page, expect
from twilio.request_validator import RequestValidator

from core import clock
from notifications import texts
from notifications.broadcasts import expand_pending
from notifications.dispatch import dispatch_due
from notifications.gateways import ConsoleGateway
from notifications.sms import count_segments
from tests.browser.helpers import (
    LiveServer,
    check_page,
    en,
    live_server_fixture,
    live_sessions_fixture,
    log_in,
    new_phone_context,
    open_from_menu,
    put_caret_at_end,
)

pytestmark = pytest.mark.browser

TOKEN = f"sms-browser-{secrets.token_hex(12)}"
BRUSSELS = ZoneInfo("Europe/Brussels")
POLL_WAIT = 15_000  # ms: the broadcast page asks for its progress every 2 s


def flat(text: str) -> str:
    """Whitespace (CLDR's narrow no-break spaces included) as single spaces."""
    return " ".join(text.split())


# --- The live site ----------------------------------------------------------------------


sms_server = live_server_fixture("smsb", TWILIO_AUTH_TOKEN=TOKEN, TERRAIN_SMS_GATEWAY="console")
sessions = live_sessions_fixture("sms_server")


def logged_in_page(chromium: Browser, server: LiveServer, username: str) -> Iterator[Page]:
    """A phone of its own, logged in through the form as `username` (in English), for
    the whole module: each test starts on its home page (where log_in leaves it)."""
    context = new_phone_context(chromium, server.url)
    try:
        page = context.new_page()
        log_in(page, username)
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def reception_phone(chromium: Browser, sms_server: LiveServer) -> Iterator[Page]:
    yield from logged_in_page(chromium, sms_server, "accueil")


@pytest.fixture(scope="module")
def coordinator_phone(chromium: Browser, sms_server: LiveServer) -> Iterator[Page]:
    yield from logged_in_page(chromium, sms_server, "coordination")


@pytest.fixture()
def reception(reception_phone: Page) -> Page:
    """The reception's phone, logged in once for the module, on its home page."""
    reception_phone.goto("/")
    return reception_phone


@pytest.fixture()
def coordinator(coordinator_phone: Page) -> Page:
    """The coordinator's phone, logged in once for the module, on its home page."""
    coordinator_phone.goto("/")
    return coordinator_phone


def open_sms(page: Page) -> None:
    """The SMS entry of the main menu."""
    open_from_menu(page, "/sms/")
    expect(page).to_have_url(re.compile(r"/sms/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(en("Sent SMS"))


def tab(page: Page, href: str) -> None:
    """A tab of the SMS section's own menu."""
    page.locator(f"nav.sms-tabs a[href='{href}']").click()
    expect(page).to_have_url(re.compile(re.escape(href) + "$"))
    expect(page.locator(f"nav.sms-tabs a[href='{href}']")).to_have_attribute("aria-current", "page")


def segments_of(body: str) -> int:
    """The segments of an appointment reminder with the example values filled in."""
    kind = texts.get_kind("appointment_reminder")
    assert kind is not None
    return count_segments(texts.fill(body, kind.example)).segments


def short_times(*moments: datetime) -> list[str]:
    """How the pages show these moments (short, Brussels time, English)."""
    return [flat(format_datetime(m.astimezone(BRUSSELS), "short", locale="en")) for m in moments]


# --- 1. Reception: the outbox, a contact's consent ---------------------------------------


def consent_card(page: Page, category: str) -> Locator:
    return page.locator(f"section[aria-labelledby='consent-{category}-title']")


def test_reception_reads_the_outbox_and_records_then_withdraws_a_consent(reception: Page):
    page = reception
    open_sms(page)

    # The demo's messages: tomorrow's reminders at the Marolles; not the closure for Hilde,
    # a contact of the home-care service: the desk sees its own antenne's (docs/cpas.md).
    messages = page.locator("ul.sms-messages > li.sms-message")
    reminders = messages.filter(has_text=en("Appointment reminders"))
    for name in ("Aïcha Bennani", "Rosa Martins", "Didier Lambotte", "Jan Verhoeven"):
        expect(reminders.filter(has_text=name)).to_have_count(1)
    expect(messages.filter(has_text="Hilde Peeters")).to_have_count(0)
    # Not sent, and why in words: Didier only has a landline, Jan's number sent STOP.
    didier = reminders.filter(has_text="Didier Lambotte")
    expect(didier).to_have_attribute("data-status", "blocked")
    expect(didier.locator(".badge")).to_have_text(en("Not sent"))
    expect(didier.locator(".sms-why")).to_have_text(
        en("No mobile number: a landline never gets SMS.")
    )
    jan = reminders.filter(has_text="Jan Verhoeven")
    expect(jan).to_have_attribute("data-status", "blocked")
    expect(jan.locator(".sms-why")).to_have_text(
        en("The number is unsubscribed at the operator (the person sent STOP).")
    )
    # The count per status agrees with the list (one page of messages).
    blocked = page.locator("li.sms-message[data-status=blocked]")
    expect(page.locator("a[href='/sms/?status=blocked'] .count")).to_have_text(str(blocked.count()))
    check_page(page)

    # Rosa's file, from her message.
    rosa = reminders.filter(has_text="Rosa Martins")
    rosa.locator("a[href^='/sms/contacts/']").click()
    expect(page).to_have_url(re.compile(r"/sms/contacts/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Rosa Martins")
    card = consent_card(page, "information")
    expect(card.locator(".badge")).to_have_text(en("Never asked"))
    expect(card.locator(".sms-why")).to_contain_text(en("No consent for this kind of message."))
    history = page.locator("ul.sms-timeline > li")
    before = history.count()

    # Rosa says yes on the phone.
    card.locator("select[name=method]").select_option("phone_call")
    card.locator("input[name=note]").fill("Asked at the desk")
    start = clock.now()
    card.locator("button[name=granted][value='1']").click()
    # (A boosted form follows the redirect by XHR: the #consents fragment is dropped.)
    expect(page).to_have_url(re.compile(r"/sms/contacts/\d+(#consents)?$"))
    expect(page.locator(".flashes")).to_contain_text(
        en("Consent recorded: %(category)s.", category=en("Information"))
    )
    card = consent_card(page, "information")
    expect(card.locator(".badge")).to_have_text(en("Given"))
    expect(card).to_contain_text(f"{en('By phone')} · Julie Lambert")
    expect(card.locator(".detail")).to_have_text("Asked at the desk")
    expect(card.locator(".sms-ok")).to_have_text(
        en("SMS of this kind go to %(number)s.", number="0478 11 22 03")
    )
    # When: now, as the page shows times (the minute may have turned meanwhile).
    shown = flat(card.locator("p").first.inner_text())
    assert any(when in shown for when in short_times(start, clock.now())), shown
    expect(history).to_have_count(before + 1)
    given = history.first
    expect(given).to_contain_text(f"{en('Information')}: {en('given')}")
    expect(given).to_contain_text(f"{en('By phone')} · Julie Lambert")
    # The withdraw button is offered, the grant button is not any more.
    expect(card.locator("button[name=granted][value='1']")).to_have_count(0)
    check_page(page)

    # Later, Rosa withdraws it.
    card.locator("select[name=method]").select_option("oral")
    card.locator("button[name=granted][value='0']").click()
    expect(page.locator(".flashes")).to_contain_text(
        en(
            "Consent withdrawn: %(category)s. Waiting messages of this kind will not be sent.",
            category=en("Information"),
        )
    )
    card = consent_card(page, "information")
    expect(card.locator(".badge")).to_have_text(en("Withdrawn"))
    expect(card).to_contain_text(f"{en('Said in person')} · Julie Lambert")
    expect(card.locator(".sms-why")).to_contain_text(
        en("The person withdrew consent for this kind of message.")
    )
    expect(history).to_have_count(before + 2)
    expect(history.first).to_contain_text(f"{en('Information')}: {en('withdrawn')}")
    # Her reminders are untouched.
    expect(consent_card(page, "reminder").locator(".badge")).to_have_text(en("Given"))
    check_page(page)


# --- 2. Coordinator: a text, its live counter, a wrong placeholder ----------------------


def test_coordinator_edits_a_text_with_the_live_counter(coordinator: Page, sessions):
    editor_path = "/sms/templates/appointment_reminder/fr"
    page = coordinator
    open_sms(page)
    tab(page, "/sms/templates")
    page.locator(f"a[href='{editor_path}']").click()
    expect(page).to_have_url(re.compile(re.escape(editor_path) + "$"))

    body = page.locator("textarea#f-body")
    counter = page.locator("#segment-counter .sms-counter")
    expect(counter).to_have_attribute("data-encoding", "GSM-7")
    original = body.input_value()
    expect(counter).to_have_attribute("data-segments", str(segments_of(original)))
    expect(counter.locator(".sms-suggestion")).to_have_count(0)

    # One "ô" turns the whole SMS into UCS-2: it costs more segments (counted with the
    # example values in the placeholders, as the page does). The suggestion rewords
    # rather than misspells ("bientot").
    typed, plain = f"{original} Merci, à bientôt !", f"{original} Merci, à très vite !"
    ucs2, gsm = segments_of(typed), segments_of(plain)
    assert ucs2 > gsm
    put_caret_at_end(body)  # the end of the text, not of the wrapped line
    body.press_sequentially(" Merci, à bientôt !")
    expect(body).to_have_value(typed)
    expect(counter).to_have_attribute("data-encoding", "UCS-2")
    expect(counter).to_have_attribute("data-segments", str(ucs2))
    expect(counter).to_contain_text(en("Special characters (UCS-2): costs about twice as much"))
    expect(counter.locator(".sms-char")).to_have_text(["ô"])
    suggestion = counter.locator(".sms-suggestion")
    expect(suggestion).to_contain_text(
        en(
            "With standard characters only: %(before)d → %(after)d segments.",
            before=ucs2,
            after=gsm,
        )
    )
    expect(suggestion.locator(".sms-body")).to_have_text(plain)
    check_page(page)

    # "Use this text": back in the form, not saved yet.
    suggestion.get_by_role("button", name=en("Use this text")).click()
    expect(body).to_have_value(plain)
    expect(counter).to_have_attribute("data-encoding", "GSM-7")
    expect(page.locator(".badge.off")).to_have_text(en("default"))
    with sessions() as session:
        assert texts.template_text(session, "appointment_reminder", "fr") == original

    page.locator("button[name=action][value=save]").click()
    expect(page).to_have_url(re.compile(r"/sms/templates(#t-appointment_reminder-fr)?$"))
    expect(page.locator(".flashes")).to_contain_text(en("Text saved."))
    row = page.locator("#t-appointment_reminder-fr")
    expect(row.locator(".badge")).to_have_text(en("edited"))
    expect(row.locator(".sms-body")).to_have_text(plain)
    expect(row).to_contain_text(en("standard characters"))
    check_page(page)

    # A placeholder the reminder does not have: refused next to the field, not saved.
    row.locator(f"a[href='{editor_path}']").click()
    expect(body).to_have_value(plain)
    wrong = f"{original} Bonne fete {{foo}} !"
    body.fill(wrong)
    page.locator("button[name=action][value=save]").click()
    error = page.locator("#body-error")
    expect(error).to_contain_text("{foo}")
    expect(page.locator("p.error[role=alert]")).to_have_text(
        en("The text was not saved. See below.")
    )
    expect(body).to_have_attribute("aria-invalid", "true")
    expect(body).to_have_attribute("aria-describedby", re.compile(r"\bbody-error\b"))
    assert error.evaluate(
        "(error) => error.closest('.field') === document.querySelector('#f-body').closest('.field')"
    )
    expect(body).to_have_value(wrong)  # kept for correcting
    expect(page).to_have_url(re.compile(re.escape(editor_path) + "$"))
    check_page(page)
    with sessions() as session:
        saved = texts.template_text(session, "appointment_reminder", "fr")
    assert saved == plain


def test_the_report_on_a_phone_stacks_its_rows_and_the_menu_stays_small(coordinator: Page):
    page = coordinator
    page.goto("/sms/report")
    expect(page.get_by_role("heading", level=1)).to_contain_text(en("SMS report"))
    # The section's menu: one row that scrolls sideways, not 40 % of the first screen.
    menu = page.locator("nav.sms-tabs").bounding_box()
    assert menu is not None and menu["height"] <= 64, menu
    # Each row of the table a card whose cells say what they are.
    cell = page.locator(".table-stack tbody td").first
    assert cell.evaluate("el => getComputedStyle(el).display") == "flex"
    label = cell.evaluate("el => getComputedStyle(el, '::before').content")
    assert en("Created") in label
    expect(page.locator("#segments-explained")).to_contain_text("GSM-7")
    check_page(page)


# --- 3. Coordinator: a broadcast, followed live ------------------------------------------


def test_coordinator_sends_a_broadcast_and_follows_it_live(coordinator: Page, sessions):
    tag = secrets.token_hex(3)
    page = coordinator
    open_sms(page)

    # No quiet hours for news (same time twice), so the test sends at any hour.
    tab(page, "/sms/settings")
    page.locator("#f-information-quiet_from").fill("00:00")
    page.locator("#f-information-quiet_until").fill("00:00")
    check_page(page)
    page.locator("form[action='/sms/settings'] button[type=submit]").click()
    expect(page.locator(".flashes")).to_contain_text(en("Quiet hours saved."))
    expect(page.locator("#f-information-quiet_until")).to_have_value("00:00")

    tab(page, "/sms/broadcasts")
    page.locator("a[href='/sms/broadcasts/new']").click()
    expect(page).to_have_url(re.compile(r"/sms/broadcasts/new$"))
    form = page.locator("form[action='/sms/broadcasts/new']")
    # Choosing the audience brings its own fields (htmx swaps #audience-params).
    params = page.locator("#audience-params")
    params.evaluate("(params) => { params.dataset.before = 'yes'; }")
    form.locator("#f-audience").select_option("team_contacts")
    expect(page.locator("#audience-params[data-before]")).to_have_count(0)
    expect(params.locator("label[for=f-team_id]")).to_have_text(en("Team"))
    team = form.locator("#f-team_id")
    team.select_option(label="Antenne Marolles")
    form.locator("#f-category").select_option("information")
    french = f"CPAS: l'antenne Marolles est fermee lundi {tag}."
    dutch = f"OCMW: de antenne Marollen is maandag gesloten {tag}."
    form.locator("#f-body_fr").fill(french)
    form.locator("#f-body_nl").fill(dutch)
    expect(page.locator("#counter-fr .sms-counter")).to_have_attribute("data-encoding", "GSM-7")
    page.evaluate("window.terrainPreviewMarker = 'same document'")
    form.locator("button[name=action][value=preview]").click()

    preview = page.locator("#preview")
    expect(preview).to_be_visible()
    # In place (htmx, no page load back at the top), and the focus on it.
    assert page.evaluate("window.terrainPreviewMarker") == "same document"
    expect(preview).to_be_focused()
    # Those left out, by name, for staff who may phone them instead: not the one who
    # withdrew her consent (counted below, never offered to phone).
    expect(preview.locator(".sms-excluded-list li")).to_have_count(2)
    # Aïcha is the one person of the Marolles who agreed to news; Jan, Didier and Rosa
    # did not (Rosa withdrew it in the test above).
    expect(preview).to_contain_text(en("%(num)d person will get it.", num=1))
    expect(preview).to_contain_text(en("%(num)d people will not get it:", num=3))
    excluded = preview.locator("ul").first.locator("li")
    reasons = {
        en("No consent for this kind of message."),
        en("The person withdrew consent for this kind of message."),
    }
    expect(excluded.filter(has_text=en("No consent for this kind of message."))).to_have_count(1)
    for item in excluded.all_inner_texts():
        assert item.split(" · ", 1)[1] in reasons, item
    # What was typed and chosen is kept with the preview.
    expect(form.locator("#f-audience")).to_have_value("team_contacts")
    expect(team.locator("option:checked")).to_have_text("Antenne Marolles")
    expect(form.locator("#f-body_fr")).to_have_value(french)
    check_page(page)

    send = form.locator("button[name=action][value=send]")
    expect(send).to_have_text(en("Send to %(num)d person", num=1))
    send.click()
    expect(page).to_have_url(re.compile(r"/sms/broadcasts/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Antenne Marolles")
    progress = page.locator("#broadcast-progress")
    sent_bar = progress.locator("progress#progress-sent")
    expect(sent_bar).to_have_attribute("value", "0")
    expect(progress).to_have_attribute("hx-trigger", "every 2s")
    page.evaluate("window.terrainTestMarker = 'same document'")

    # The scheduler's work: make the outbox rows, send what is due, close the broadcast.
    assert expand_pending(sessions) >= 1
    report = dispatch_due(sessions, ConsoleGateway())
    assert report.sent >= 1, report
    expand_pending(sessions)

    # The page polls: 100 %, finished, and polling stops; no reload.
    expect(progress.locator("progress#progress-sent")).to_have_attribute(
        "value", "100", timeout=POLL_WAIT
    )
    expect(progress.locator("progress#progress-delivered")).to_have_attribute("value", "100")
    expect(progress.get_by_role("status")).to_have_text(en("Finished."))
    expect(progress).not_to_have_attribute("hx-trigger", re.compile(".*"))
    expect(progress.locator("h2")).to_contain_text(en("Finished"))
    assert page.evaluate("window.terrainTestMarker") == "same document"
    # The result per person came with the last poll, still without a reload.
    everyone = page.locator("#recipients li.record")
    expect(everyone).to_have_count(4)  # Aïcha, and Jan, Rosa, Didier left out
    expect(page.locator("#recipients li.record[data-status='delivered']")).to_contain_text(
        "Aïcha Bennani"
    )
    check_page(page)

    # The result per person, from the progress box's "Delivered" count.
    progress.locator("a[href*='status=delivered']").click()
    expect(page).to_have_url(re.compile(r"/sms/broadcasts/\d+\?status=delivered#recipients$"))
    people = page.locator("#recipients li.record")
    expect(people).to_have_count(1)
    expect(people.first).to_contain_text("Aïcha Bennani")
    expect(people.first).to_have_attribute("data-status", "delivered")
    expect(people.first.locator(".badge")).to_have_text(en("Delivered"))
    expect(people.first).to_contain_text("0470 11 22 01")
    check_page(page)

    # Those who did not get it, and why.
    page.locator("#recipients nav a[href*='status=not_sent']").click()
    expect(page).to_have_url(re.compile(r"/sms/broadcasts/\d+\?status=not_sent#recipients$"))
    expect(people).to_have_count(3)
    for name in ("Jan Verhoeven", "Rosa Martins", "Didier Lambotte"):
        person = people.filter(has_text=name)
        expect(person).to_have_attribute("data-status", "blocked")
        expect(person.locator(".sms-why")).to_have_text(
            re.compile("|".join(map(re.escape, reasons)))
        )


# --- 4. Reception: a reply that needs a person ------------------------------------------


def post_inbound(server: LiveServer, params: dict[str, str]) -> tuple[int, str]:
    """POST /sms/inbound signed with the site's TWILIO_AUTH_TOKEN, as Twilio does."""
    url = f"{server.url}/sms/inbound"
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    request = urllib.request.Request(  # noqa: S310 - the local live server
        url,
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": signature},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, response.read().decode()


def test_reception_handles_a_reply_from_the_inbox(reception: Page, sms_server: LiveServer):
    tag = secrets.token_hex(3)
    text = f"Bonjour, je peux passer jeudi plutot ? {tag}"
    status, twiml = post_inbound(
        sms_server,
        {
            "MessageSid": f"SM{secrets.token_hex(16)}",
            "From": "+32470112201",  # Aïcha Bennani
            "To": "+32460000000",
            "Body": text,
        },
    )
    assert status == 200 and "<Response" in twiml, twiml

    page = reception
    open_sms(page)
    tab(page, "/sms/inbox")
    expect(page.get_by_role("heading", level=1)).to_contain_text(en("Replies received"))
    item = page.locator("#inbound-list > li").filter(has_text=tag)
    expect(item).to_have_count(1)
    expect(item).to_contain_text(text)
    sender = item.locator("h2 a")
    expect(sender).to_have_text("Aïcha Bennani")
    expect(sender).to_have_attribute("href", re.compile(r"^/sms/contacts/\d+$"))
    expect(item.locator(".badge")).to_have_text(en("Needs an answer"))
    check_page(page)

    inbound_id = item.get_attribute("data-inbound-id")
    item.locator(f"a[href='/sms/inbox/{inbound_id}']").click()
    expect(page).to_have_url(re.compile(rf"/sms/inbox/{inbound_id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        en("SMS from %(sender)s", sender="Aïcha Bennani")
    )
    expect(page.locator("#inbound-body")).to_have_text(text)
    facts = page.locator("dl.facts")
    expect(facts.locator("a[href^='/sms/contacts/']")).to_have_text("Aïcha Bennani")
    expect(facts).to_contain_text(en("Not yet"))
    check_page(page)

    start = clock.now()
    page.locator(f"form[action='/sms/inbox/{inbound_id}/handled'] button[type=submit]").click()
    expect(page.locator(".flashes")).to_contain_text(en("Marked as handled."))
    expect(page.locator(f"form[action='/sms/inbox/{inbound_id}/handled']")).to_have_count(0)
    handled = facts.locator("div").filter(has=page.locator("dt", has_text=en("Handled")))
    expect(handled.locator("dd")).to_contain_text("Julie Lambert")
    shown = flat(handled.locator("dd").inner_text())
    assert any(when in shown for when in short_times(start, clock.now())), shown
    check_page(page)

    # Gone from the open replies; still there among all of them.
    tab(page, "/sms/inbox")
    expect(page.locator("#inbound-list > li").filter(has_text=tag)).to_have_count(0)
    page.locator("a[href='/sms/inbox?all=1']").click()
    expect(page).to_have_url(re.compile(r"/sms/inbox\?all=1$"))
    done = page.locator("#inbound-list > li").filter(has_text=tag)
    expect(done.locator(".badge.off")).to_have_text(en("Handled"))
    check_page(page)
