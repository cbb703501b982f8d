"""Open visits and timesheets in a real browser on a 360 px phone (issue 18): the
coordinator withdraws the demo's offer and offers the visit again from its page; the
aide sees it under "Visits offered" on her day; she opens her timesheet and signs it
with her password (a wrong one first). axe-core on every page, nothing wider than the
phone, no CSP complaint on the pages of this change.

A live site of this module's own (`live_site("hcopen")`). Everybody switches to English.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core import accounts, clock
from core.demo import DEMO_PASSWORD
from homecare.calendar import local_moment
from homecare.demo import demo_id
from homecare.models import Visit
from tests.browser.helpers import (
    VIEWPORT,
    LiveServer,
    check_page,
    en,
    live_server_fixture,
    live_sessions_fixture,
    log_in,
    new_page,
)

pytestmark = pytest.mark.browser

open_server = live_server_fixture("hcopen")
open_sessions = live_sessions_fixture("open_server")
OFFER_PAGE = f"/aide-a-domicile/planning/visits/{demo_id('example-offer-visit')}/offre"


@pytest.fixture()
def phone_page(chromium: Browser, open_server: LiveServer) -> Iterator[Page]:
    yield from new_page(chromium, open_server, VIEWPORT, watch_csp=True)


def _give_done(sessions: sessionmaker[Session], username: str) -> tuple[date, str]:
    """One visit done by `username` yesterday 10:00-11:00; its day and its id."""
    with sessions() as session:
        day = clock.to_local(clock.now()).date() - timedelta(days=1)
        aide = accounts.find_user(session, username)
        visit = session.scalars(
            select(Visit).where(Visit.status == "planned").order_by(Visit.id)
        ).first()
        start = local_moment(day, time(10))
        visit.aide_id, visit.day, visit.status = aide.id, day, "done"
        visit.validation = "coordinator"  # only validated visits count (homecare/hours.py)
        visit.earliest_start = visit.latest_start = visit.planned_start = start
        visit.actual_start, visit.actual_end, visit.km = start, start + timedelta(hours=1), 2.0
        session.commit()
        return day, str(visit.id)


def test_the_coordinator_offers_again_and_the_aide_sees_it_and_signs(
    phone_page: Page, open_sessions: sessionmaker[Session]
):
    page = phone_page
    done_day, done_visit = _give_done(open_sessions, "aide2")
    log_in(page, "coordination")
    page.goto(OFFER_PAGE)
    expect(page.get_by_role("heading", level=1)).to_have_text(en("Offer a visit to the aides"))
    check_page(page)
    page.get_by_role("button", name=en("Withdraw the offer")).click()
    expect(page.locator("[data-candidate]").first).to_be_checked()
    check_page(page)
    page.get_by_role("button", name=en("Offer to these aides")).click()
    expect(page.locator("[data-offer-status=open]")).to_have_count(1)
    check_page(page)
    page.goto("/aide-a-domicile/heures/feuilles")
    expect(page.get_by_role("heading", level=1)).to_contain_text(en("Timesheets signed"))
    check_page(page)
    page.goto("/logout")
    page.context.clear_cookies()

    log_in(page, "aide2")
    page.goto("/aide-a-domicile/ma-journee")
    offers = page.locator("[data-offers]")
    expect(offers.get_by_role("heading", level=2)).to_have_text(en("Visits offered"))
    expect(offers.get_by_role("button", name=en("I take this visit"))).to_be_visible()
    check_page(page)
    page.get_by_role("link", name=en("My timesheet")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(en("My timesheet"))
    check_page(page)
    page.get_by_role("link", name=en("Month")).click()
    # The month's page, not the week's still on screen while the link loads.
    expect(page.get_by_role("link", name=en("Month"))).to_have_attribute("aria-current", "page")
    check_page(page)
    page.goto(f"/aide-a-domicile/ma-feuille-d-heures?period=week&day={done_day.isoformat()}")
    # Her visit of yesterday among the week's lines (the demo's done visits of that week
    # are hers too on some days: from a Monday, yesterday's week is last week).
    expect(page.locator(f'[data-sheet-line="{done_visit}"]')).to_have_count(1)
    page.get_by_label(en("Your password, to sign")).fill("not-her-password")
    page.get_by_role("button", name=en("I sign this timesheet")).click()
    expect(page.get_by_text(en("This is not your password. Nothing was signed."))).to_be_visible()
    expect(page.get_by_label(en("Your password, to sign"))).to_have_attribute(
        "aria-invalid", "true"
    )
    check_page(page)
    page.get_by_label(en("Your password, to sign")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=en("I sign this timesheet")).click()
    expect(page.locator("[data-sheet-state=signed]")).to_be_visible()
    check_page(page)
