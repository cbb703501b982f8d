"""Street outreach follow-up pages in a real browser, on a 360 px phone and on a desktop:
two anonymous records merged (both timelines kept) then the merge undone from the file; a
referral moved to done; the directory, the settings and the purge reports. axe-core on
every page, nothing wider than the window.

A live site of this module's own (`live_site("ofiles")`). Users switch to English first.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core import accounts, clock
from outreach import services
from outreach.demo import demo_id
from outreach.models import Encounter, Referral
from tests.browser.helpers import (
    VIEWPORT,
    LiveServer,
    check_page,
    en,
    live_server_fixture,
    live_sessions_fixture,
    log_in,
    new_page,
    open_from_menu,
)

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}

files_server = live_server_fixture("ofiles")
sessions = live_sessions_fixture("files_server")


@pytest.fixture(scope="module")
def logged_in(chromium: Browser, files_server: LiveServer) -> Iterator[Callable[[str, str], Page]]:
    """`logged_in(username, "phone" or "desktop")`: that user's page on that screen,
    logged in through the form (in English) once for the module's tests."""
    opened: dict[tuple[str, str], tuple[Iterator[Page], Page]] = {}

    def page_of(username: str, screen: str) -> Page:
        if (username, screen) not in opened:
            pages = new_page(chromium, files_server, VIEWPORT if screen == "phone" else DESKTOP)
            page = next(pages)
            opened[username, screen] = pages, page
            log_in(page, username)
        return opened[username, screen][1]

    yield page_of
    for pages, _ in opened.values():
        pages.close()  # closes the context


def flash(page: Page, text: str) -> Locator:
    # The messages of one answer (a cookie session written by two requests at once may
    # bring back an older one: only ours is looked for).
    return page.locator(".flash-success", has_text=text)


def press(button: Locator) -> None:
    """Focus then Enter, as with a keyboard: the button scrolls clear of the fixed menu."""
    button.focus()
    button.press("Enter")


def meet(sessions: sessionmaker[Session], nickname: str, note: str, days_ago: int) -> uuid.UUID:
    """A new anonymous person of the street team, met once (as the phone would send it)."""
    person_id = uuid.uuid4()
    with sessions() as session:
        data = {
            "id": str(uuid.uuid4()),
            "person_id": str(person_id),
            "nickname": nickname,
            "description": f"{nickname}, bonnet rouge",
            "age_band": "18_25",
            "place_id": str(demo_id("maximilien")),
            "occurred_at": clock.to_local(clock.now() - timedelta(days=days_ago)).isoformat(),
            "contact_type": "conversation",
            "needs": ["food"],
            "note": note,
        }
        actor = accounts.find_user(session, "rue1")
        services.save_encounter(session, actor, services.read_encounter(data))
        session.commit()
    return person_id


def encounters_of(sessions: sessionmaker[Session], person_id: uuid.UUID) -> int:
    with sessions() as session:
        return session.scalar(
            select(func.count()).select_from(Encounter).where(Encounter.person_id == person_id)
        )


def test_merge_two_anonymous_people_keeps_both_timelines_then_undo(
    logged_in: Callable[[str, str], Page], sessions: sessionmaker[Session]
):
    tag = secrets.token_hex(2)
    first = meet(sessions, f"Bonnet {tag}", f"Premier récit {tag}", days_ago=6)
    second = meet(sessions, f"Bonnet rouge {tag}", f"Second récit {tag}", days_ago=1)

    page = logged_in("rue1", "phone")
    open_from_menu(page, "/outreach/personnes")
    expect(page.get_by_role("heading", level=1)).to_have_text(en("People"))
    check_page(page)
    page.get_by_label(en("Search by nickname or description")).fill(tag)
    page.get_by_role("button", name=en("Search"), exact=True).click()
    people = page.locator("#people-list")
    expect(people.locator(".record")).to_have_count(2)
    people.locator(f"a[href='/outreach/personnes/{first}']").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Bonnet {tag}")
    check_page(page)

    page.get_by_role("link", name=en("Merge with another record")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(en("Merge two records"))
    page.get_by_label(en("Search the other record by nickname or description")).fill(tag)
    page.get_by_role("button", name=en("Search"), exact=True).click()
    check_page(page)
    page.locator(f"a[href*='merged_id={second}']").click()
    expect(page.get_by_role("heading", name=en("Check before merging"))).to_be_visible()
    expect(page.locator(".outreach-side")).to_have_count(2)
    check_page(page)
    page.get_by_role("button", name=en("Merge the two records")).click()

    expect(
        flash(page, en("The two records are now one file. You can undo it below, under Merges."))
    ).to_be_visible()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(f"Premier récit {tag}")
    expect(timeline).to_contain_text(f"Second récit {tag}")
    check_page(page)
    assert encounters_of(sessions, first) == 2 and encounters_of(sessions, second) == 0

    page.locator("#merges").get_by_role("button", name=re.compile(en("Undo the merge"))).click()
    expect(
        flash(page, en("The merge is undone: the two records are separate again."))
    ).to_be_visible()
    expect(page.locator("#timeline")).not_to_contain_text(f"Second récit {tag}")
    expect(page.locator("#merges")).to_contain_text(re.compile("Undone on"))
    check_page(page)
    assert encounters_of(sessions, first) == 1 and encounters_of(sessions, second) == 1


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_referral_is_made_then_moved_to_done(
    viewport: str, logged_in: Callable[[str, str], Page], sessions: sessionmaker[Session]
):
    tag = secrets.token_hex(2)
    person = meet(sessions, f"Orienté {tag}", f"Besoin d'un lit {tag}", days_ago=2)
    page = logged_in("rue1", viewport)
    page.goto(f"/outreach/personnes/{person}")
    check_page(page)
    form = page.locator("#new-referral")
    form.get_by_label(en("For which need")).select_option("shelter")
    form.get_by_label(en("To"), exact=True).select_option(
        label=f"Abri de nuit Porte de Flandre ({en('Night shelter')})"
    )
    form.get_by_role("button", name=en("Record the referral")).click()
    expect(flash(page, en("Referral recorded."))).to_be_visible()
    referral = page.locator(".outreach-referral").first
    expect(referral.locator(".badge")).to_have_text(en("Proposed"))
    check_page(page)
    referral.get_by_role("button", name=re.compile("^" + en("Accepted"))).click()
    expect(flash(page, en("Referral updated."))).to_be_visible()
    referral = page.locator(".outreach-referral").first
    expect(referral.locator(".badge")).to_have_text(en("Accepted"))
    referral.get_by_role("button", name=re.compile("^" + en("Done"))).click()
    referral = page.locator(".outreach-referral").first
    expect(referral.locator(".badge")).to_have_text(en("Done"))
    expect(page.locator("#facts")).not_to_contain_text(en("Not yet (no referral accepted)"))
    check_page(page)
    with sessions() as session:
        statuses = list(
            session.scalars(select(Referral.status).where(Referral.person_id == person))
        )
    assert statuses == ["done"]


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_directory_settings_alerts_and_purges_are_accessible(
    viewport: str, logged_in: Callable[[str, str], Page]
):
    page = logged_in("admin", viewport)
    open_from_menu(page, "/outreach/partenaires")
    expect(page.get_by_role("heading", level=1)).to_have_text(en("Services directory"))
    check_page(page)
    page.get_by_role("link", name=en("Add a service")).click()
    page.get_by_label(en("Name")).fill(f"Service essai {viewport}")
    press(page.get_by_role("button", name=en("Save"), exact=True))  # no kind: refused
    expect(page.get_by_label(en("Kind of service"))).to_have_attribute("aria-invalid", "true")
    check_page(page)
    page.get_by_label(en("Kind of service")).select_option("food")
    press(page.get_by_role("button", name=en("Save"), exact=True))
    expect(flash(page, en("Service saved."))).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"Service essai {viewport}")
    for path, heading in (
        ("/outreach/reglages", "Minors and retention"),
        ("/outreach/purges", "Purge reports"),
    ):
        page.locator(f"nav.sms-tabs a[href='{path}']").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(en(heading))
        check_page(page)
    page = logged_in("rue1", viewport)
    page.goto("/outreach/alertes")
    expect(page.get_by_role("heading", level=1)).to_have_text(en("Minors: to do"))
    check_page(page)
    page.goto(f"/outreach/personnes/{demo_id('piet')}")
    check_page(page)
