"""The kitchen's list, a meal round's delivery sheet (and its print CSS) and the rounds
indicators with their per-day drill-down in a real browser on a 360 px phone (issue 19):
axe-core on every page, nothing wider than the phone, no CSP complaint; the sheet
printed hides the navigation and its buttons and fits an A4 page's width.

A live site of this module's own (`live_site("rounds-more")`). The mobile team's
coordinator logs in once: her tests share that phone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from core import accounts, clock
from rounds import services
from rounds.models import Round
from tests.browser.helpers import (
    DEMO_PASSWORD,
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

more_server = live_server_fixture("rounds-more")
sessions = live_sessions_fixture("more_server")


@pytest.fixture()
def phone_page(chromium: Browser, more_server: LiveServer) -> Iterator[Page]:
    yield from new_page(chromium, more_server, VIEWPORT, watch_csp=True)


@pytest.fixture(scope="module")
def mobile_coord_phone(chromium: Browser, more_server: LiveServer) -> Iterator[Page]:
    """The mobile team's coordinator's phone, logged in once for the module's tests."""
    yield from logged_in_page(chromium, more_server, VIEWPORT, "mobile-coord")


@pytest.fixture()
def coord_page(mobile_coord_phone: Page) -> Iterator[Page]:
    # From the home page, where her login led her (a test printed the page before).
    page = fresh_start(mobile_coord_phone, at="/")
    yield page
    page.emulate_media(media="null")  # a test printed: the screen again, at 360 px
    page.set_viewport_size(VIEWPORT)


def _meal_round_of_today(sessions, server: LiveServer) -> Round:
    """The demo's meal round of its day (made by hand on a weekend day, which has none):
    it holds the day's planned orders."""
    today = clock.to_local(server.now()).date()
    with sessions() as session:
        coord = accounts.find_user(session, "mobile-coord")
        found = session.scalar(
            select(Round).where(
                Round.team_id == coord.team_id,
                Round.day == today,
                Round.kind == "meals",
                Round.status != "cancelled",
            )
        )
        if found is None:
            van = next(v for v in services.vehicles(session, coord.team_id) if v.meal_capacity)
            found = services.create_round(
                session,
                coord,
                coord.team_id,
                {
                    "vehicle_id": str(van.id),
                    "name": "Repas du jour",
                    "kind": "meals",
                    "day": today.isoformat(),
                    "starts": "09:00",
                    "ends": "14:00",
                },
            )
            session.commit()
        if not services.round_stops(session, found.id):
            _plan_today(session, coord, today)
        session.expunge(found)
        return found


def _plan_today(session, coord, today) -> None:
    """Plan the day as its coordinator would: the demo planned the day it was seeded on,
    and a run that crossed midnight since finds the new day's orders (its weekly ones)
    not planned yet, or none (a weekend day): one is ordered then."""
    if not [o for o in services.meal_orders(session, coord.team_id, today) if not o.cancelled]:
        services.create_meal_order(
            session,
            coord,
            coord.team_id,
            {
                "day": today.isoformat(),
                "household": "Mme Testeur",
                "address": "Rue de Marchienne 5",
                "postcode": "6000",
                "city": "Charleroi",
                "latitude": "50.4089",
                "longitude": "4.4367",
                "meals": "1",
                "diet": "diabetic",
                "window_start": "10:00",
                "window_end": "12:00",
            },
        )
    # As the demo plans its day: a thousand iterations place every order, on any machine.
    services.plan_day(session, coord.team_id, today, seconds=5.0, iterations=1000, actor=coord)
    session.commit()


def test_the_kitchen_list_and_a_delivery_sheet_on_a_phone_and_printed(
    coord_page: Page, more_server: LiveServer, sessions
):
    dated = _meal_round_of_today(sessions, more_server)
    page = coord_page
    open_from_menu(page, "/tournees/")
    page.get_by_role("link", name=en("Kitchen")).click()
    expect(page.locator("#kitchen-list")).to_be_visible()
    check_page(page)
    # The round's day, which the menu's today may have left since (--clock=midnight).
    page.goto(f"{more_server.url}/tournees/cuisine?jour={dated.day.isoformat()}")
    page.locator(f"a[href='/tournees/repas/feuille/{dated.id}']").click()
    expect(page.locator("#sheet-stops")).to_be_visible()
    check_page(page)
    page.emulate_media(media="print")
    expect(page.locator("nav.appnav")).to_be_hidden()
    expect(page.get_by_role("button", name=en("Print"))).to_be_hidden()
    expect(page.locator("#sheet-stops")).to_be_visible()
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 794, f"the printed sheet is {width} px wide"
    assert page.pdf(format="A4", print_background=True).startswith(b"%PDF")


def test_the_indicators_and_a_day_drilled_down_on_a_phone(
    coord_page: Page, more_server: LiveServer
):
    page = coord_page
    open_from_menu(page, "/tournees/")
    page.get_by_role("link", name=en("Indicators")).click()
    expect(page.locator("#round-indicators")).to_be_visible()
    expect(page.locator("#day-indicators")).to_be_visible()
    check_page(page)
    page.locator("#day-indicators tbody a").first.click()
    expect(page).to_have_url(re.compile(r"jour=\d{4}-\d{2}-\d{2}$"))
    month = f"{clock.to_local(more_server.now()):%m/%Y}"
    back = page.get_by_role("link", name=en("Back to the month %(month)s", month=month))
    expect(back).to_be_visible()
    expect(page.locator("#day-indicators")).to_have_count(0)
    expect(page.locator("#round-indicators")).to_be_visible()
    check_page(page)
    back.click()
    expect(page.locator("#day-indicators")).to_be_visible()


def test_a_cpas_administrator_opens_the_links_page_from_her_menu(
    phone_page: Page, more_server: LiveServer, sessions
):
    """The CPAS administrator of Charleroi (a mobile team there) has « Minibus stops and
    places » in her menu (through "More" on a phone) and the page is clean at 360 px."""
    with sessions() as session:
        if accounts.find_user(session, "admin-clr-browser") is None:
            accounts.create_user(
                session,
                username="admin-clr-browser",
                display_name="Admin Charleroi",
                password=DEMO_PASSWORD,
                role="admin",
                team=accounts.get_team(session, "clr-dampremy"),
                language="en",
                check_password=False,
            )
            session.commit()
    page = phone_page
    log_in(page, "admin-clr-browser")
    open_from_menu(page, "/tournees/lieux")
    expect(page.locator("h1")).to_be_visible()
    check_page(page)
