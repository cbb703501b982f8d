"""Home-care records in a real browser on a 360 px phone (issue 17): the coordinator
opens Households from the menu, creates a household, adds a care plan, sees the
sentence for a bad window (home help crossing midnight) and nothing saved, then the
plan saved on the file; the aides' list with its expiry warning. axe-core on every
page, nothing wider than the phone, no CSP complaint.

A live site of this module's own (`live_site("hcrec")`). The coordinator logs in once
(and switches to English): her phone's tests share that page, the tablet starts with its
cookies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from core import clock
from tests.browser.helpers import (
    VIEWPORT,
    LiveServer,
    check_page,
    en,
    fresh_start,
    live_server_fixture,
    logged_in_page,
    new_page,
    open_from_menu,
)

pytestmark = pytest.mark.browser

BASE = "/aide-a-domicile"

records_server = live_server_fixture("hcrec")


@pytest.fixture(scope="module")
def coordinator_phone(chromium: Browser, records_server: LiveServer) -> Iterator[Page]:
    """The coordinator's phone, logged in once for the module's tests."""
    yield from logged_in_page(chromium, records_server, VIEWPORT, "coordination")


@pytest.fixture()
def phone_page(coordinator_phone: Page) -> Page:
    return fresh_start(coordinator_phone)


def test_create_a_household_and_a_care_plan_on_a_phone(phone_page: Page):
    page = phone_page
    open_from_menu(page, f"{BASE}/beneficiaires")
    expect(page.get_by_role("heading", level=1)).to_have_text(en("Households helped at home"))
    check_page(page)

    page.get_by_role("link", name=en("New household")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(en("New household"))
    check_page(page)
    page.get_by_label(en("Name")).fill("Odette Navigateur")
    page.get_by_label(en("Street and number")).fill("Rue Verte 12")
    page.get_by_label(en("Postcode")).fill("12")  # refused first
    page.get_by_label(en("Municipality")).fill("Saint-Josse-ten-Noode")
    page.get_by_label(en("Phone %(n)s (optional)", n=1)).fill("0470 98 76 54")
    page.get_by_label(en("Reminders of visits")).check()
    page.get_by_role("button", name=en("Save"), exact=True).click()
    expect(page.get_by_label(en("Postcode"))).to_have_attribute("aria-invalid", "true")
    check_page(page)
    page.get_by_label(en("Postcode")).fill("1210")
    page.get_by_role("button", name=en("Save"), exact=True).click()
    expect(page).to_have_url(re.compile(BASE + r"/beneficiaires/[0-9a-f-]{36}$"))
    expect(page.locator(".flash-success")).to_have_text(en("Household saved."))
    expect(page.get_by_role("heading", level=1)).to_have_text("Odette Navigateur")
    check_page(page)

    page.get_by_role("link", name=en("New care plan")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(en("New care plan"))
    check_page(page)
    form = page.locator("#plan-form")
    form.get_by_label(en("Service")).select_option("home_help")
    form.get_by_label(en("Tuesday"), exact=True).check()
    form.get_by_label(en("Friday"), exact=True).check()
    # A home help crossing midnight: only a night sitting may.
    form.get_by_label(en("Window from")).fill("22:00")
    form.get_by_label(en("Window to")).fill("06:00")
    form.get_by_label(en("Visit length (minutes)")).fill("120")
    form.get_by_label(en("Housework")).check()
    form.get_by_role("button", name=en("Save the plan")).click()
    window_end = page.get_by_label(en("Window to"))
    expect(window_end).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#plan-window_end-error")).to_have_text(
        en("Only a night watch may run past midnight. Check the start and end times.")
    )
    expect(page.get_by_role("alert")).to_have_text(
        en("Some fields need a correction. Nothing was saved.")
    )
    check_page(page)

    window_start = page.get_by_label(en("Window from"))
    window_start.fill("09:00")
    window_end.fill("11:00")
    page.locator("#plan-form").get_by_role("button", name=en("Save the plan")).click()
    expect(page).to_have_url(re.compile(BASE + r"/beneficiaires/[0-9a-f-]{36}(#plans)?$"))
    expect(page.locator(".flash-success")).to_have_text(en("Care plan saved."))
    expect(page.locator("#plans")).to_contain_text(en("Home help"))
    expect(page.locator("#plans")).to_contain_text("09:00–11:00")
    check_page(page)

    # One GPS fix at the door (the device's position, no map) replaces the coordinates.
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 50.85871, "longitude": 4.36412})
    page.get_by_role("button", name=en("Use my position")).click()
    expect(page.locator("[data-hc-status]")).to_contain_text("50.858710, 4.364120")
    page.get_by_role("button", name=en("Save this position")).click()
    expect(page.locator(".flash-success")).to_have_text(
        en("The position taken at the door is saved.")
    )
    expect(page.locator("#where")).to_contain_text(en("GPS fix at the door"))
    check_page(page)


def test_the_aides_list_warns_of_qualifications_to_renew(phone_page: Page):
    page = phone_page
    page.goto(f"{BASE}/aides")
    expect(page.locator("#expiry-warning")).to_contain_text(en("Qualifications to renew"))
    check_page(page)
    page.locator("#aides a").first.click()
    expect(page.get_by_role("heading", name=en("Working terms"))).to_be_visible()
    check_page(page)


TABLET = {"width": 820, "height": 1180}


@pytest.fixture()
def tablet_page(
    chromium: Browser, records_server: LiveServer, coordinator_phone: Page
) -> Iterator[Page]:
    """The coordinator's tablet, logged in with her phone's cookies."""
    state = coordinator_phone.context.storage_state()
    yield from new_page(chromium, records_server, TABLET, watch_csp=True, storage_state=state)


def test_the_file_and_the_plan_form_read_well_on_a_tablet(tablet_page: Page):
    page = tablet_page
    page.goto(f"{BASE}/beneficiaires?q=Jeanne")
    page.locator("#households a").first.click()
    expect(page.locator("#life-book")).to_contain_text(en("Carnet de vie"))
    check_page(page)
    page.locator("#plans a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(en("Change the care plan"))
    check_page(page)
    # A suspension still running offers to end it earlier (issue 19): that form too.
    today = clock.to_local(clock.now()).date()
    page.fill("#f-suspension-starts_on", (today + timedelta(days=20)).isoformat())
    page.fill("#f-suspension-ends_on", (today + timedelta(days=25)).isoformat())
    page.get_by_role("button", name=en("Suspend the plan")).click()
    expect(page.locator("#suspensions")).to_contain_text(en("End the suspension on"))
    check_page(page)
