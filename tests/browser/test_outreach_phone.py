"""Street outreach on a 360 px phone, offline: a maraude started offline, 10 encounters
across 3 places, a reload without network, the end of the maraude and its summary, then
back online → everything synced once (checked in the database). The quick encounter in
at most 4 taps, the minor's protective path, the places offline, axe on every page.

A live site of this module's own (`live_site("ophone")`): a maraude under way changes
the banner of every outreach page, which must not leak into other tests. Users switch to
English first.
"""

from __future__ import annotations

import re
import secrets
import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core import accounts
from outreach import minors
from outreach.demo import demo_id
from outreach.models import Encounter, Maraude, MinorAlert, Person
from tests.browser.helpers import (
    assert_accessible,
    live_server_fixture,
    live_sessions_fixture,
)
from tests.browser.offline import outbox, wait_for_outbox
from tests.browser.outreach_phone import (
    OFFLINE_VIEWS,
    Phones,
    english,
    form,
    indicator,
    phones_fixture,
    save,
    user_id,
)
from tests.support import cpas_admin

pytestmark = pytest.mark.browser

GARE_DU_NORD = {"latitude": 50.86035, "longitude": 4.36165}  # a few metres from quai 3
PLACES = (
    "Gare du Nord, quai 3",
    "Parc Maximilien, côté Petit-Château",
    "Place Liedts, sous l'abribus",
)
# The script's pointer taps, counted from when the form is open.
COUNT_TAPS = """() => {
    window.__taps = 0;
    document.addEventListener("pointerdown", () => { window.__taps += 1; }, true);
}"""


phone_server = live_server_fixture("ophone")
sessions = live_sessions_fixture("phone_server")


# Each user's phone, logged in in English, kept from one test to the next (Phones): a
# phone standing at the Gare du Nord, which lets the app read its position.
kept_phones, phones = phones_fixture(
    "phone_server", english, geolocation=GARE_DU_NORD, permissions=["geolocation"]
)


def open_form(page: Page) -> None:
    page.goto("/outreach/encounters/new")
    expect(form(page)).to_have_attribute("data-phone-ready", "")


def ready_form(page: Page) -> None:
    """After a save: the form is made ready for the next encounter."""
    expect(form(page)).not_to_have_attribute("data-saving", re.compile(".*"))


def record(page: Page, place: str, nickname: str = "", known: str = "") -> None:
    """One encounter: a known person (one tap in the quick list) or a new one."""
    entry = form(page)
    saved = len(outbox(page)["ops"])
    if known:
        entry.locator("[data-person-search]").fill(known)
        entry.locator("[data-pick-person]", has_text=known).first.tap()
    else:
        entry.locator("select[name=person_id]").select_option(index=0)
        entry.locator("[name=nickname]").fill(nickname)
        entry.locator("[name=age_band]").select_option("18_25")
    entry.locator("select[name=place_id]").select_option(label=place)
    entry.locator("select[name=ethos]").select_option("ethos_1")
    save(page)
    wait_for_outbox(page, f"(o) => o.ops.length > {saved}")
    ready_form(page)


def test_a_maraude_offline_with_10_encounters_at_3_places_syncs_once(
    phones: Phones, sessions: sessionmaker[Session]
):
    tag = secrets.token_hex(3)
    phone, page = phones.of("rue1")
    page.goto("/outreach/maraude")
    start_form = page.locator("form[data-offline-op='outreach.maraude.start']")
    expect(start_form).to_be_visible()
    expect(page.locator("form[data-offline-op='outreach.maraude.end']")).to_be_hidden()

    phone.set_offline(True)
    start_form.locator("[name=area]").fill(f"Gare du Nord {tag}")
    start_form.locator("button[type=submit]").tap()
    # Saved on the phone, and on to the encounter form (kept offline).
    expect(page).to_have_url(re.compile(r"/outreach/encounters/new$"))
    expect(form(page)).to_have_attribute("data-phone-ready", "")
    ops = outbox(page)["ops"]
    assert [op["type"] for op in ops] == ["outreach.maraude.start"], ops
    maraude_id = ops[0]["data"]["id"]
    expect(page.locator("[data-maraude-banner]")).to_contain_text("Contacts: 0")
    expect(form(page).locator("[name=maraude_id]")).to_have_value(maraude_id)

    # 10 encounters across the 3 places: 6 new people, 4 known ones.
    for number in range(10):
        place = PLACES[number % 3]
        if number in (2, 5):
            record(page, place, known="Momo")
        elif number in (7, 9):
            record(page, place, known="Piet")
        else:
            record(page, place, nickname=f"P{number} {tag}")
    expect(page.locator("[data-maraude-banner]")).to_contain_text("Contacts: 10")
    expect(indicator(page)).to_contain_text("11 waiting")

    # A reload without network: the kept page, the outbox, the maraude still under way.
    page.reload()
    expect(form(page)).to_have_attribute("data-phone-ready", "")
    expect(indicator(page)).to_contain_text("11 waiting")
    expect(page.locator("[data-maraude-banner]")).to_contain_text("Contacts: 10")
    expect(form(page).locator("[name=maraude_id]")).to_have_value(maraude_id)
    encounter_ops = [op for op in outbox(page)["ops"] if op["type"].startswith("outreach.enc")]
    assert len(encounter_ops) == 10
    assert {op["data"]["maraude_id"] for op in encounter_ops} == {maraude_id}

    # The places offline: a place never opened shows its visits drawn by the phone.
    page.goto("/outreach/places/")
    page.locator("a[data-place-link]", has_text=PLACES[1]).tap()
    detail = page.locator("[data-place-detail]")
    expect(detail).to_be_visible()
    expect(detail.locator("li")).to_have_count(3 + 1)  # 3 tonight + La grande (demo)
    expect(detail).to_contain_text(f"P4 {tag}")
    expect(detail).not_to_contain_text("Veste verte")  # nicknames only

    # End the maraude offline: its summary, counted on the phone.
    page.goto("/outreach/maraude")
    end_form = page.locator("form[data-offline-op='outreach.maraude.end']")
    expect(end_form).to_be_visible()
    expect(end_form.locator("[name=id]")).to_have_value(maraude_id)
    end_form.locator("[name=km]").fill("7,5")
    end_form.locator("[name=incidents]").fill("Rien à signaler")
    end_form.locator("button[type=submit]").tap()
    summary = page.locator("[data-maraude-summary]")
    expect(summary).to_be_visible()
    expect(summary.locator("[data-summary=contacts]")).to_have_text("10")
    expect(summary.locator("[data-summary=people]")).to_have_text("8")
    expect(summary.locator("[data-summary=new_people]")).to_have_text("6")
    expect(summary.locator("[data-summary=km]")).to_have_text("7.5 km")
    expect(summary.locator("[data-summary=hours]")).to_have_text(
        re.compile(r"^(\d+ h \d\d|\d+ min)$")
    )
    expect(page.locator("[data-maraude-banner]")).to_be_hidden()
    # The summary first and alone: no fresh start form under it, no "Sending…" left.
    expect(page.locator("form[data-offline-op='outreach.maraude.start']")).to_be_hidden()
    expect(page.locator("form[data-offline-op='outreach.maraude.end']")).to_be_hidden()
    expect(page.locator("[data-offline-status]")).not_to_have_text("Sending…")
    expect(indicator(page)).to_have_text("Offline · 12 waiting")

    # Back online: everything goes, once.
    phone.set_offline(False)
    wait_for_outbox(page, "(o) => o.ops.length === 0")
    with sessions() as session:
        maraude = session.get(Maraude, uuid.UUID(maraude_id))
        assert maraude is not None and maraude.ended_at is not None and maraude.km == 7.5
        assert (
            session.scalar(
                select(func.count())
                .select_from(Maraude)
                .where(Maraude.area == f"Gare du Nord {tag}")
            )
            == 1
        )
        tonight = session.scalars(select(Encounter).where(Encounter.maraude_id == maraude.id)).all()
        assert len(tonight) == 10
        assert len({encounter.id for encounter in tonight}) == 10
        assert {encounter.place_id for encounter in tonight} == {
            demo_id("gare-nord"),
            demo_id("maximilien"),
            demo_id("liedts"),
        }
        assert {encounter.ethos for encounter in tonight} == {"ethos_1"}
    # The summary the server computed agrees with the phone's.
    page.goto(f"/outreach/maraudes/{maraude_id}")
    expect(page.locator("[data-summary=contacts]")).to_have_text("10")
    expect(page.locator("[data-summary=people]")).to_have_text("8")
    expect(page.locator("[data-summary=new_people]")).to_have_text("6")
    assert user_id(page)


def test_a_known_person_at_the_nearest_place_takes_at_most_4_taps(phones: Phones):
    phone, page = phones.of("rue2")
    open_form(page)
    entry = form(page)
    # One position when the form opens: the nearest place is chosen already.
    expect(entry.locator("select[name=place_id]")).to_have_value(str(demo_id("gare-nord")))
    expect(entry.locator("[data-pick-place]").first).to_contain_text("Gare du Nord, quai 3")
    phone.set_offline(True)
    page.evaluate(COUNT_TAPS)

    entry.locator("[data-person-search]").tap()  # who: the search (typing is no tap)
    page.keyboard.type("piet")
    entry.locator(f"[data-pick-person='{demo_id('piet')}']").tap()
    entry.locator("button[type=submit]").tap()  # save: where and what are the defaults
    wait_for_outbox(page, "(o) => o.ops.length === 1")

    taps = page.evaluate("window.__taps")
    assert taps <= 4, taps
    data = outbox(page)["ops"][0]["data"]
    assert data["person_id"] == str(demo_id("piet"))
    assert data["place_id"] == str(demo_id("gare-nord"))
    assert data["contact_type"] == "conversation"
    assert data["needs"] == [] and data["given"] == []
    assert data["ethos"] == "ethos_1"  # Piet's living situation the last time
    phone.set_offline(False)
    wait_for_outbox(page, "(o) => o.ops.length === 0")


def test_a_minor_shows_who_the_team_alerts_and_the_search_filters(phones: Phones):
    _, page = phones.of("rue1")
    open_form(page)
    entry = form(page)
    notice = entry.locator("[data-minor-notice]")
    expect(notice).to_be_hidden()
    entry.locator("select[name=person_id]").select_option(index=0)
    entry.locator("[name=age_band]").select_option("under_18")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("A minor. ")
    expect(notice).to_contain_text("Lotte Peeters will be told in Terrain")
    # "Under 18 all the same" means nothing once the age says under 18: hidden.
    expect(entry.locator("[data-minor-box]")).to_be_hidden()
    entry.locator("[name=age_band]").select_option("18_25")
    expect(notice).to_be_hidden()
    entry.locator("[name=minor]").check()
    expect(notice).to_be_visible()

    # The search filters the people the phone knows, by nickname or description.
    search = entry.locator("[data-person-search]")
    search.fill("velo")  # "Veste verte, toujours avec un vélo": accents do not matter
    expect(entry.locator("[data-pick-person]")).to_have_count(1)
    expect(entry.locator("[data-pick-person]")).to_contain_text("Momo")
    search.press("Enter")  # filters, never sends
    assert outbox(page)["ops"] == []
    search.fill("nobody-like-this")
    expect(entry.locator("[data-pick-person]")).to_have_count(0)


def test_the_phone_pages_are_accessible_at_360_px(phones: Phones):
    _, page = phones.of("rue2")
    paths = [
        "/outreach/",
        "/outreach/encounters/new",
        "/outreach/maraude",
        "/outreach/places/",
        f"/outreach/places/{demo_id('gare-nord')}",
        f"/outreach/maraudes/{demo_id('m1')}",
    ]
    for path in paths:
        page.goto(path)
        expect(indicator(page)).to_be_visible()
        if path == "/outreach/encounters/new":
            expect(form(page).locator("[data-pick-person]").first).to_be_visible()
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 360, f"{path} scrolls sideways: {width} px"
        assert_accessible(page)
    # With a maraude under way: the banner and the end form.
    page.goto("/outreach/maraude")
    page.locator("form[data-offline-op='outreach.maraude.start'] button[type=submit]").tap()
    expect(page).to_have_url(re.compile(r"/outreach/encounters/new$"))
    expect(page.locator("[data-maraude-banner]")).to_be_visible()
    assert_accessible(page)
    page.goto("/outreach/maraude")
    expect(page.locator("form[data-offline-op='outreach.maraude.end']")).to_be_visible()
    assert_accessible(page)
    page.locator("form[data-offline-op='outreach.maraude.end'] button[type=submit]").tap()
    expect(page.locator("[data-maraude-summary]")).to_be_visible()
    assert_accessible(page)


def set_path(sessions: sessionmaker[Session], user: str | None, contact: str) -> None:
    with sessions() as session:
        street = accounts.find_user(session, "rue1").team
        # The administrator of the street team's CPAS (the demo's `admin` manages none).
        admin = cpas_admin(session, street.code)
        team_id = street.id
        colleague = accounts.find_user(session, user) if user else None
        minors.set_protective_path(
            session,
            admin,
            team_id,
            {"user_ids": [colleague.id] if colleague else [], "contact": contact},
        )
        session.commit()


def test_a_minor_without_then_with_a_protective_path(
    phones: Phones, sessions: sessionmaker[Session]
):
    tag = secrets.token_hex(3)
    set_path(sessions, None, "")
    try:
        phone, page = phones.of("rue1")
        # The header says it in words on a 360 px phone.
        expect(indicator(page)).to_have_text("Online · all sent")
        open_form(page)
        phone.set_offline(True)
        entry = form(page)
        entry.locator("select[name=person_id]").select_option(index=0)
        entry.locator("[name=nickname]").fill(f"Petit {tag}")
        entry.locator("[name=age_band]").select_option("under_18")
        notice = entry.locator("[data-minor-notice]")
        expect(notice).to_contain_text("Your team has nobody to tell about minors yet.")
        save(page)
        # Refused on the phone, before the outbox: nothing queued, everything kept.
        expect(page.locator("[data-offline-status]")).to_contain_text("nothing you typed is lost")
        assert outbox(page)["ops"] == []
        expect(entry.locator("[name=nickname]")).to_have_value(f"Petit {tag}")
        assert_accessible(page)
    finally:
        set_path(sessions, "rue2", "SAJ de Bruxelles")
    phone.set_offline(False)
    page.reload()
    expect(form(page)).to_have_attribute("data-phone-ready", "")
    entry = form(page)
    entry.locator("select[name=person_id]").select_option(index=0)
    entry.locator("[name=nickname]").fill(f"Petit {tag}")
    entry.locator("[name=age_band]").select_option("under_18")
    expect(entry.locator("[data-minor-notice]")).to_contain_text(
        "Lotte Peeters will be told in Terrain"
    )
    expect(entry.locator("[data-minor-notice]")).to_contain_text("SAJ de Bruxelles")
    # The save button stays in reach at the bottom of the screen (sticky).
    button = entry.locator("button[type=submit]")
    expect(button).to_be_in_viewport()
    save(page)
    wait_for_outbox(page, "(o) => o.ops.length === 0")
    with sessions() as session:
        person = session.scalar(select(Person).where(Person.nickname == f"Petit {tag}"))
        assert person is not None
        alert = session.scalar(select(MinorAlert).where(MinorAlert.person_id == person.id))
        assert alert is not None and alert.alert_user_ids == [
            accounts.find_user(session, "rue2").id
        ]


def test_a_maraude_ended_online_shows_its_summary_first(phones: Phones):
    _, page = phones.of("rue1")  # rue2 may have a maraude left under way by the test above
    page.goto("/outreach/maraude")
    page.locator("form[data-offline-op='outreach.maraude.start'] button[type=submit]").tap()
    expect(page).to_have_url(re.compile(r"/outreach/encounters/new$"))
    page.goto("/outreach/maraude")
    end_form = page.locator("form[data-offline-op='outreach.maraude.end']")
    expect(end_form.get_by_label("End time")).to_be_visible()
    # One "End the maraude" on the screen: the banner's link is not repeated here.
    expect(page.locator("[data-banner-end]")).to_be_hidden()
    end_form.locator("[name=km]").fill("1,3")
    end_form.locator("button[type=submit]").tap()
    summary = page.locator("[data-maraude-summary]")
    expect(summary).to_be_visible()
    expect(summary.locator("[data-summary=km]")).to_have_text("1.3 km")
    expect(summary.locator("[data-summary=hours]")).to_have_text(re.compile(r"^\d+ min$"))
    expect(summary.locator("[data-summary-note]")).to_have_text("")  # the server's figures
    expect(end_form).to_be_hidden()
    expect(page.locator("form[data-offline-op='outreach.maraude.start']")).to_be_hidden()
    expect(page.locator("[data-offline-status]")).to_have_text("")
    box = summary.bounding_box()
    assert box is not None and box["y"] < 400  # first on the screen
    assert_accessible(page)


def test_the_offline_page_leads_on_and_the_list_refreshes_after_a_sync(phones: Phones):
    tag = secrets.token_hex(3)
    phone, page = phones.of("rue2")
    open_form(page)
    phone.set_offline(True)
    record(page, PLACES[0], nickname=f"Nuit {tag}")
    # A page the phone does not keep: the offline page, no dead end any more.
    page.goto("/menu")
    home = page.locator("[data-offline-home]")
    expect(home).to_be_visible()
    expect(home.locator("[data-offline-waiting]")).to_have_text(
        re.compile(r"^1 change waits on this phone")
    )
    for path in OFFLINE_VIEWS:
        expect(home.locator(f"a[href='{path}']")).to_be_visible()
    assert_accessible(page)
    home.locator("a[href='/outreach/']").tap()
    expect(page).to_have_url(re.compile(r"/outreach/$"))
    expect(page.locator("[data-pending-list]")).to_contain_text(f"Nuit {tag}")
    expect(page.locator("#recent-encounters-section")).not_to_contain_text(f"Nuit {tag}")
    # Back online: sent, and the team's list (drawn by the server) shows it, no reload.
    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#recent-encounters-section")).to_contain_text(
        f"Nuit {tag}", timeout=15_000
    )
    expect(page.locator("#pending-encounters")).to_be_hidden()
