"""The crew's round on a 360 px phone (issue 19): the page is accessible (axe) and fits
the screen; a stop's arrival tapped with no network waits in the outbox, the kept page
still reads, and the arrival reaches the server once when the network is back.

A live site of this module's own, its clock at noon of a working day: "today's" round
must not turn into yesterday's between its making and the crew's page (the suite's
clock may pass midnight meanwhile: --clock=midnight)."""

from __future__ import annotations

import time as wall
import uuid
from datetime import time

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select

from core import accounts, clock
from rounds import live, services
from rounds.live_models import StopReport
from rounds.models import RoundStop, Stop
from tests.browser.helpers import (
    NOON,
    LiveServer,
    check_page,
    folder_site_fixture,
    live_server_fixture,
    live_sessions_fixture,
)
from tests.browser.offline import wait_for_op
from tests.browser.rounds_crew import PAGE, open_kept_crew_page
from tests.db.rounds_world import vehicle_data

pytestmark = pytest.mark.browser
crew_server = live_server_fixture("rounds-crew", **NOON)
sessions = live_sessions_fixture("crew_server")
live_server = folder_site_fixture("crew_server")  # the folder's `context` and `page` open there


def _round_today(sessions, server: LiveServer) -> uuid.UUID:
    """A round of the site's today with one stop at 20:00, made at the site's clock."""
    with sessions() as session, clock.frozen(server.now()):
        coord = accounts.find_user(session, "mobile-coord")
        vehicle = services.create_vehicle(
            session, coord, coord.team_id, vehicle_data(kind="minibus", name="Minibus test")
        )
        place = session.scalar(select(Stop).where(Stop.team_id == coord.team_id).limit(1))
        dated = services.create_round(
            session,
            coord,
            coord.team_id,
            {
                "vehicle_id": str(vehicle.id),
                "day": live.today().isoformat(),
                "kind": "minibus",
                "name": "Minibus du soir",
                "starts": "20:00",
                "ends": "21:30",
            },
        )
        stop = RoundStop(
            id=uuid.uuid4(),
            team_id=coord.team_id,
            round_id=dated.id,
            position=1,
            kind="public_stop",
            stop_id=place.id,
            topic="social",
            planned_arrival=time(20),
            planned_departure=time(21),
            status="planned",
            outcome="",
            reason="",
            version=1,
            changed_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(stop)
        session.commit()
        return stop.id


def test_the_crew_taps_a_stop_offline_and_it_arrives_once(
    context: BrowserContext, page: Page, sessions, crew_server: LiveServer
):
    stop_id = _round_today(sessions, crew_server)
    open_kept_crew_page(page)
    card = page.locator(f'[data-stop="{stop_id}"]')
    expect(card).to_be_visible()
    check_page(page)

    context.set_offline(True)
    # The saved tap goes on to the kept page by itself: wait for that navigation, or the
    # next goto races it (net::ERR_ABORTED).
    with page.expect_navigation(wait_until="load"):
        card.locator('button[data-step="arrive"]').click()
    wait_for_op(page, "rounds.stop.arrive")  # in the phone's outbox
    page.goto(PAGE)  # the kept page, with no network
    expect(page.locator(f'[data-stop="{stop_id}"]')).to_be_visible()
    check_page(page)
    context.set_offline(False)

    def on_server() -> int:
        with sessions() as session:
            found = select(func.count()).select_from(StopReport)
            return session.scalar(found.where(StopReport.round_stop_id == stop_id)) or 0

    for _ in range(200):
        if on_server():
            break
        wall.sleep(0.1)
    assert on_server() == 1
    page.goto(PAGE)
    expect(page.locator(f'[data-stop="{stop_id}"] [data-arrived]')).to_be_visible()
