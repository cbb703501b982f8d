"""Ma journée works offline after one sync (issue 18): the page kept offline is drawn
again from what the phone holds. At 360 px, offline, the aide arrives at a visit; the
coordinator meanwhile gives her a new visit, reassigns two of hers (the one she is at
among them) and offers anew the visit offered to her; the phone syncs (online briefly):
her arrival reaches the server and is kept for the coordinator's review, not lost; the
open page, then a reload offline, show the new visit and offer (drawn from the page's
templates) and no longer the reassigned ones nor the withdrawn offer. axe clean,
nothing wider than the phone, no CSP complaint.

A live site of this module's own (`live_site("hcredraw")`), its clock at 14:00
(HOMECARE_CLOCK).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, time

import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core import accounts, clock, sync
from homecare import live, offers
from homecare.calendar import local_moment
from homecare.demo import demo_id
from homecare.models import Visit, VisitReport
from tests.browser.helpers import (
    HOMECARE_CLOCK,
    LiveServer,
    check_page,
    live_server_fixture,
    live_sessions_fixture,
    new_phone_context,
)
from tests.browser.homecare_phone import (
    AT_THE_DOOR,
    open_day,
    prepare_visits,
    tap,
    visit_card,
    wait_until_ready,
)
from tests.browser.offline import outbox, wait_for_outbox, wait_for_records

pytestmark = pytest.mark.browser

OFFER = demo_id("example-offer")
OFFER_VISIT = demo_id("example-offer-visit")
AGAIN = uuid.uuid5(uuid.NAMESPACE_URL, "terrain:test:offered-again")
redraw_server = live_server_fixture("hcredraw", **HOMECARE_CLOCK)
sessions = live_sessions_fixture("redraw_server")


@pytest.fixture()
def phone(chromium: Browser, redraw_server: LiveServer) -> Iterator[BrowserContext]:
    context = new_phone_context(
        chromium, redraw_server.url, geolocation=AT_THE_DOOR, permissions=["geolocation"]
    )
    yield context
    context.close()


def _coordinator_changes(sessions: sessionmaker[Session], ids: dict[str, str], today: date) -> str:
    """A new visit for aide1 at 18:00 of the site's day `today` (another household, a
    visit that was neither hers nor offered to her: not on her page yet), "plain" and
    "fifth" given to aide2. Returns the new visit's id."""
    with sessions() as session:
        coordinator = accounts.find_user(session, "coordination")
        aide1, aide2 = accounts.find_user(session, "aide1"), accounts.find_user(session, "aide2")
        assert coordinator is not None and aide1 is not None and aide2 is not None
        taken = {uuid.UUID(ids[key]) for key in ("plain", "code", "gps", "nobody", "fifth")}
        households = {session.get(Visit, visit_id).beneficiary_id for visit_id in taken}  # type: ignore[union-attr]
        new = next(
            visit
            for visit in session.scalars(
                select(Visit).where(Visit.team_id == coordinator.team_id).order_by(Visit.id)
            )
            if visit.beneficiary_id not in households
            and aide1.id not in (visit.aide_id, visit.second_aide_id)
            and visit.id != OFFER_VISIT
        )
        new.day, new.aide_id, new.second_aide_id, new.aides = today, aide1.id, None, 1
        new.status, new.actual_start, new.actual_end = "planned", None, None
        new.earliest_start = new.latest_start = new.planned_start = local_moment(today, time(18))
        new.duration_minutes = 30
        sync.stamp(session, new, sync.team_scope(new.team_id), coordinator, None)
        for key in ("plain", "fifth"):
            visit = session.get(Visit, uuid.UUID(ids[key]))
            assert visit is not None
            visit.aide_id = aide2.id
            sync.stamp(session, visit, sync.team_scope(visit.team_id), coordinator, None)
        offers.withdraw(session, coordinator, OFFER)  # the demo's open visit, offered to aide1
        offers.offer_visit(session, coordinator, OFFER_VISIT, [aide1.id], id=AGAIN)  # anew
        session.commit()
        return str(new.id)


def test_a_later_download_redraws_the_day_offline_and_keeps_her_arrival(
    phone: BrowserContext, redraw_server: LiveServer, sessions: sessionmaker[Session]
):
    today = clock.to_local(redraw_server.now()).date()
    ids = prepare_visits(sessions, today)
    page = open_day(phone)
    wait_for_records(page, "homecare.visit", [ids["plain"], ids["fifth"]])
    wait_until_ready(page)
    offer = page.locator(f'article[data-offer="{OFFER}"]')
    expect(offer).to_have_count(1)
    phone.set_offline(True)
    tap(page, ids["plain"], "checkin")  # she arrives, offline

    new = _coordinator_changes(sessions, ids, today)
    assert page.locator(f'article[data-visit="{new}"]').count() == 0

    # Online briefly: her arrival goes, the changes come.
    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_for_outbox(page, "(o) => o.ops.length === 0")
    wait_for_records(page, "homecare.visit", [new])
    wait_for_records(page, "homecare.visit", [ids["plain"], ids["fifth"]], held=False)
    # The open page, drawn again from the records (no reload).
    drawn = page.locator(f'article[data-visit="{new}"]')
    expect(drawn).to_have_attribute("data-drawn-here", "")
    expect(visit_card(page, ids["plain"])).to_have_count(0)
    expect(visit_card(page, ids["fifth"])).to_have_count(0)
    expect(offer).to_have_count(0)  # withdrawn
    again = page.locator(f'article[data-offer="{AGAIN}"]')
    expect(again).to_have_attribute("data-drawn-here", "")  # offered anew, from the template
    expect(again.locator("input[name=offer_id]")).to_have_value(str(AGAIN))
    phone.set_offline(True)

    # Offline again, the page reloaded from the phone.
    page.reload()
    wait_until_ready(page)
    expect(page.locator(f'article[data-visit="{new}"]')).to_have_count(1)
    expect(visit_card(page, ids["plain"])).to_have_count(0)
    expect(visit_card(page, ids["fifth"])).to_have_count(0)
    expect(visit_card(page, ids["code"])).to_have_count(1)
    expect(offer).to_have_count(0)
    expect(again).to_have_count(1)
    # In order: the 18:00 visit last of today's (later days follow in their sections).
    order = page.locator(f'article[data-visit="{new}"]').evaluate(
        """(card) => Array.from(card.closest("section[data-day]")
            .querySelectorAll("article[data-visit]")).map((c) => c.getAttribute("data-visit"))"""
    )
    assert order[-1] == new and ids["code"] in order
    check_page(page)
    # The new visit's card works offline like the others: she arrives.
    tap(page, new, "checkin")
    ops = outbox(page)["ops"]
    assert [op["data"]["visit_id"] for op in ops] == [new]

    # Her arrival at the reassigned visit: kept, shown to the coordinator for review.
    with sessions() as session:
        report = session.scalars(
            select(VisitReport).where(VisitReport.visit_id == uuid.UUID(ids["plain"]))
        ).one()
        assert report.arrived_at is not None
        assert report.verified is False and report.unverified_reason == "not_hers"
        coordinator = accounts.find_user(session, "coordination")
        assert coordinator is not None
        # The coordinator's live day as the site sees it (its clock, not this process's:
        # on a holiday the site's is the next working day's).
        with clock.frozen(redraw_server.now()):
            day = live.live_day(session, coordinator)
        shown = next(item for item in day.visits if str(item.visit.id) == ids["plain"])
        assert report.id in {r.id for r in shown.reports}
        assert shown.state == "in_progress"
