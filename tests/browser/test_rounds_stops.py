"""A minibus stop and its appointments place in a real browser on a 360 px phone (issue
19): the coordinator opens the links page from the stops' page, unlinks the demo's
Mont-sur-Marchienne stop from appointments' place and links it again (an empty choice
refused with a sentence, nothing saved), reads a stop's subscriber count; the rounds'
live page polls only while the tab is visible. axe-core on every page, nothing wider
than the phone, no CSP complaint.

A live site of this module's own (`live_site("rstops")`). The coordinator logs in once:
her tests share that phone.
"""

from __future__ import annotations

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
    open_from_menu,
)

pytestmark = pytest.mark.browser

stops_server = live_server_fixture("rstops")
MONT = "Mont-sur-Marchienne, parking de l'église"
PLACE = "Minibus social : arrêt Mont-sur-Marchienne"
LIVE = "/tournees/suivi"


@pytest.fixture(scope="module")
def mobile_coord_phone(chromium: Browser, stops_server: LiveServer) -> Iterator[Page]:
    """The mobile team's coordinator's phone, logged in once for the module's tests."""
    yield from logged_in_page(chromium, stops_server, VIEWPORT, "mobile-coord")


@pytest.fixture()
def phone_page(mobile_coord_phone: Page) -> Page:
    return fresh_start(mobile_coord_phone)


def test_linking_a_stop_to_its_place_on_a_phone(phone_page: Page):
    page = phone_page
    open_from_menu(page, "/tournees/")
    page.get_by_role("link", name=en("Stops and appointments places")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(en("Stops and appointments places"))
    mont = page.locator("li.record", has_text=MONT)
    expect(mont).to_contain_text(en("Appointments place: %(place)s", place=PLACE))
    check_page(page)

    mont.get_by_role("button", name=en("Unlink %(stop)s", stop=MONT)).click()
    expect(page.get_by_role("status").or_(page.locator(".flash")).first).to_be_visible()
    mont = page.locator("li.record", has_text=MONT)
    expect(mont.get_by_role("button", name=en("Link %(stop)s", stop=MONT))).to_be_visible()
    check_page(page)

    # Linking without choosing a place: a sentence next to the field, nothing saved.
    mont.get_by_role("button", name=en("Link %(stop)s", stop=MONT)).click()
    mont = page.locator("li.record", has_text=MONT)
    expect(mont.get_by_label(en("Appointments place"))).to_have_attribute("aria-invalid", "true")
    check_page(page)
    mont.get_by_label(en("Appointments place")).select_option(label=PLACE)
    mont.get_by_role("button", name=en("Link %(stop)s", stop=MONT)).click()
    mont = page.locator("li.record", has_text=MONT)
    expect(mont).to_contain_text(en("Appointments place: %(place)s", place=PLACE))
    check_page(page)

    # The stop's own page: how many follow it by SMS, never who.
    open_from_menu(page, "/tournees/")
    page.locator("#stops").get_by_role("link", name=MONT).click()
    expect(page.locator("#stop-follow")).to_contain_text(en("This stop is an appointments place."))
    check_page(page)


def test_the_live_page_polls_only_while_visible(phone_page: Page):
    page = phone_page
    page.goto(LIVE)
    expect(page.locator("[data-rounds-live]")).to_be_visible()
    check_page(page)
    polls: list[str] = []
    page.on(
        "request",
        lambda request: (
            LIVE in request.url and request.headers.get("hx-request") and polls.append(request.url)
        ),
    )
    page.evaluate(
        "() => { Object.defineProperty(document, 'hidden',"
        " {configurable: true, get: () => true});"
        " htmx.trigger(document.querySelector('[data-rounds-live]'), 'rounds-live-refresh'); }"
    )
    page.wait_for_timeout(500)
    assert polls == []
    with page.expect_request(lambda request: LIVE in request.url):
        page.evaluate(
            "() => { Object.defineProperty(document, 'hidden',"
            " {configurable: true, get: () => false});"
            " document.dispatchEvent(new Event('visibilitychange')); }"
        )
    expect(page.locator("[data-rounds-live]")).to_be_visible()
    assert len(polls) == 1
    check_page(page)


def test_the_live_page_of_a_day_with_stops_fits_a_phone(phone_page: Page, stops_server: LiveServer):
    """The live page of the first day from today whose rounds have stops (the demo's
    weekdays): its tables scroll in their cards, the page is no wider than the phone."""
    page = phone_page
    today = clock.to_local(stops_server.now()).date()
    for offset in range(8):
        page.goto(f"{LIVE}?jour={(today + timedelta(days=offset)).isoformat()}")
        expect(page.locator("[data-rounds-live]")).to_be_visible()
        if page.locator("[data-round] tr[data-stop]").count():
            break
    else:
        raise AssertionError("no round with stops in the coming week")
    check_page(page)
