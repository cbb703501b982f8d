"""The rounds' edit pages in a real browser on a 360 px phone (issue 19): a demo weekly
meal order opened from the weekly orders and refused with a sentence on bad input, a
template's stop changed in place (its times out of order refused), the one-off round
form (refused without a name), a skipped stop of a dated round restored, and home care's
care plan ordering meals on wheels in one step. axe-core on every page, nothing wider
than the phone, no CSP complaint.

A live site of this module's own (`live_site("rounds-edits")`). The mobile team's
coordinator logs in once: her tests share that phone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from core import accounts
from homecare.demo import demo_id
from tests.browser.helpers import (
    VIEWPORT,
    LiveServer,
    check_page,
    en,
    fresh_start,
    live_server_fixture,
    live_sessions_fixture,
    log_in,
    logged_in_page,
    new_page,
    open_from_menu,
)

pytestmark = pytest.mark.browser

edits_server = live_server_fixture("rounds-edits")


@pytest.fixture()
def phone_page(chromium: Browser, edits_server: LiveServer) -> Iterator[Page]:
    yield from new_page(chromium, edits_server, VIEWPORT, watch_csp=True)


@pytest.fixture(scope="module")
def mobile_coord_phone(chromium: Browser, edits_server: LiveServer) -> Iterator[Page]:
    """The mobile team's coordinator's phone, logged in once for the module's tests."""
    yield from logged_in_page(chromium, edits_server, VIEWPORT, "mobile-coord")


@pytest.fixture()
def coord_page(mobile_coord_phone: Page) -> Page:
    return fresh_start(mobile_coord_phone)


def test_weekly_order_permanence_and_one_off_round_on_a_phone(coord_page: Page):
    page = coord_page
    open_from_menu(page, "/tournees/")

    page.get_by_role("link", name=en("Weekly meals")).click()
    page.get_by_role("link", name="Mme Verlinden").click()
    expect(page.get_by_role("heading", level=2, name=en("End the weekly order"))).to_be_visible()
    check_page(page)
    page.locator("#f-weekly-meals").fill("")
    page.get_by_role("button", name=en("Save the weekly order")).click()
    expect(page.locator("#f-weekly-meals")).to_have_attribute("aria-invalid", "true")
    check_page(page)

    page.get_by_role("link", name=en("Round templates")).click()
    page.get_by_role("link", name="Minibus Nord – lundi").click()
    page.locator("#template-stops a").first.click()
    expect(page.get_by_label(en("Arrives"))).to_be_visible()
    check_page(page)
    page.get_by_label(en("Arrives")).fill("12:00")
    page.get_by_label(en("Leaves")).fill("11:00")
    page.get_by_role("button", name=en("Save")).click()
    expect(page.get_by_label(en("Leaves"))).to_have_attribute("aria-invalid", "true")
    check_page(page)

    page.get_by_role("link", name=en("Dated rounds")).click()
    page.get_by_role("link", name=en("New one-off round")).click()
    expect(page.get_by_label(en("Kind of round"))).to_be_visible()
    check_page(page)
    page.get_by_role("button", name=en("Save")).click()
    expect(page.locator("#f-round-name")).to_have_attribute("aria-invalid", "true")
    check_page(page)


def test_a_skipped_stop_restored_on_a_phone(coord_page: Page, edits_server: LiveServer):
    page = coord_page
    next_week = (edits_server.now() + timedelta(days=7)).date().isoformat()
    page.goto(f"{edits_server.url}/tournees/dates?jour={next_week}")
    # A planned one: a day of next week may be a holiday, its round cancelled (under
    # --clock=dst, Easter Monday 29 March 2027).
    rows = page.locator("#dated-rounds tbody tr", has_text="Minibus Nord")
    rows.filter(has_text=en("Planned")).first.get_by_role("link").click()
    page.get_by_text(en("Skip or move this stop")).first.click()
    page.locator("[id^=f-skip-][id$=-reason]").first.fill("Travaux")
    page.get_by_role("button", name=en("Skip"), exact=True).first.click()
    restore = page.get_by_role("button", name=en("Restore the stop")).first
    expect(restore).to_be_visible()
    check_page(page)
    restore.click()
    expect(page.get_by_text(en("Stop restored."))).to_be_visible()
    expect(page.get_by_role("button", name=en("Restore the stop"))).to_have_count(0)
    check_page(page)


sessions = live_sessions_fixture("edits_server")


def test_meals_ordered_from_a_care_plan_on_a_phone(
    phone_page: Page, edits_server: LiveServer, sessions
):
    """The care plan's meals section at 360 px: refused without days, then ordered."""
    with sessions() as session:
        home = accounts.find_user(session, "coordination")
        if accounts.get_team(session, "bxl-repas-browser") is None:
            accounts.create_team(
                session,
                code="bxl-repas-browser",
                name="Repas Bruxelles",
                kind="mobile",
                cpas_code=home.team.cpas.code,
                city="Bruxelles",
            )
            session.commit()
    page = phone_page
    log_in(page, "coordination")
    page.goto(f"{edits_server.url}/aide-a-domicile/plans/{demo_id('plan-0')}/modifier")
    section = page.locator("#meals")
    expect(section.get_by_role("heading", name=en("Meals on wheels"))).to_be_visible()
    check_page(page)
    for box in section.get_by_role("checkbox").all():
        box.uncheck()
    section.get_by_role("button", name=en("Order the meals")).click()
    expect(page.locator("#meals .field-invalid")).not_to_have_count(0)
    check_page(page)
    page.locator("#meals").get_by_label(en("Monday")).check()
    page.locator("#meals").get_by_role("button", name=en("Order the meals")).click()
    done = en("Meals ordered: the meal service delivers them from the first day.")
    expect(page.get_by_text(done)).to_be_visible()
    expect(page.locator("#meals")).to_have_count(0)
    check_page(page)
