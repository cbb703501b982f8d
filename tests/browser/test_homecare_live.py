"""The coordinator's live day in a real browser on an 820 px tablet (issue 18): opened
from the menu, a late visit shown with its "tell the household" button (this demo
household gave no SMS consent: the sentence says to call, nothing is sent), the section
polling itself only while the tab is visible. axe-core on each page, no CSP complaint.

A live site of this module's own (`live_site("hclive")`), its clock at 14:00 (HOMECARE_CLOCK).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core import accounts, clock, sync
from homecare.calendar import local_moment
from homecare.models import Visit
from tests.browser.helpers import (
    HOMECARE_CLOCK,
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

LIVE = "/aide-a-domicile/aujourdhui"
TABLET = {"width": 820, "height": 1180}

live_server = live_server_fixture("hclive", **HOMECARE_CLOCK)
sessions = live_sessions_fixture("live_server")


@pytest.fixture()
def tablet_page(chromium: Browser, live_server: LiveServer) -> Iterator[Page]:
    yield from new_page(chromium, live_server, TABLET, watch_csp=True)


def _late_visit(sessions: sessionmaker[Session], today: date) -> str:
    """A visit of the site's day `today` moved to 06:00 with aide1: late at 14:00."""
    with sessions() as session:
        visit = session.scalars(
            select(Visit)
            .where(Visit.status == "planned", Visit.aide_id.is_(None))
            .order_by(Visit.day.desc(), Visit.id)
        ).first()
        assert visit is not None
        aide = accounts.find_user(session, "aide1")
        assert aide is not None
        visit.aide_id, visit.day = aide.id, today
        visit.earliest_start = visit.latest_start = visit.planned_start = local_moment(
            today, time(6)
        )
        sync.stamp(session, visit, sync.team_scope(visit.team_id), aide, None)
        session.commit()
        return str(visit.id)


def test_the_live_day_on_a_tablet_polls_only_while_visible(
    tablet_page: Page, live_server: LiveServer, sessions: sessionmaker[Session]
):
    page = tablet_page
    visit_id = _late_visit(sessions, clock.to_local(live_server.now()).date())
    log_in(page, "coordination")
    open_from_menu(page, LIVE)
    expect(page.get_by_role("heading", level=1)).to_contain_text(en("Today's visits"))
    late = page.locator(f'[data-visit="{visit_id}"]')
    expect(late).to_have_attribute("data-state", "late")
    check_page(page)

    # Polling: a poll while the tab is hidden does not leave; showing it refreshes at once.
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
        " htmx.trigger(document.querySelector('[data-hc-live]'), 'hc-live-refresh'); }"
    )
    page.wait_for_timeout(500)
    assert polls == []
    with page.expect_request(lambda request: LIVE in request.url):
        page.evaluate(
            "() => { Object.defineProperty(document, 'hidden',"
            " {configurable: true, get: () => false});"
            " document.dispatchEvent(new Event('visibilitychange')); }"
        )
    expect(page.locator(f'[data-visit="{visit_id}"]')).to_have_attribute("data-state", "late")
    assert len(polls) == 1

    # No mobile or no consent for SMS in the demo: the page says to call, nothing is sent.
    page.locator(f'[data-visit="{visit_id}"]').get_by_role(
        "button", name=en("Tell the household (SMS)")
    ).click()
    expect(page.locator("main p.error").first).to_contain_text("Call it instead.")
    check_page(page)
