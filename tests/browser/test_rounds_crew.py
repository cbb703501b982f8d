"""The crew's round on a 360 px phone (issue 19): the page is accessible (axe) and fits
the screen; a stop's arrival tapped with no network waits in the outbox, the kept page
still reads, and the arrival reaches the server once when the network is back."""

from __future__ import annotations

import contextlib
import time as wall
import uuid
from datetime import time

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import func, select

from core import accounts, clock
from rounds import live, services
from rounds.live_models import StopReport
from rounds.models import RoundStop, Stop
from tests.browser.helpers import check_page, live_sessions_fixture, login, service_worker_ready
from tests.db.test_rounds import vehicle_data

pytestmark = pytest.mark.browser
sessions = live_sessions_fixture("live_server_process")
PAGE = "/tournees/ma-tournee"
KEPT = """async (path) => {
    if (!(await caches.has("terrain-pages"))) { return false; }
    const cache = await caches.open("terrain-pages");
    return (await cache.keys()).some((request) => new URL(request.url).pathname === path);
}"""

WAITING = """async (type) => {
    const names = (await indexedDB.databases()).map((db) => db.name);
    if (!names.includes("terrain-offline")) { return false; }
    const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open("terrain-offline");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    const ops = await new Promise((resolve, reject) => {
        const request = db.transaction("ops").objectStore("ops").getAll();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    db.close();
    return ops.some((op) => op.type === type);
}"""


def _round_today(sessions) -> uuid.UUID:
    with sessions() as session:
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


def _eventually(page: Page, script: str, arg: object) -> None:
    for _ in range(100):
        with contextlib.suppress(PlaywrightError):  # the page is navigating: ask again
            if page.evaluate(script, arg):
                return
        wall.sleep(0.1)
    raise AssertionError(script)


def open_kept_crew_page(page: Page) -> None:
    """The crew member logs in, opens « Ma tournée » under the service worker, and the
    page is kept for offline use."""
    login(page, "mobile1")
    service_worker_ready(page)
    page.goto(PAGE)
    if not page.evaluate("navigator.serviceWorker.controller !== null"):
        page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    _eventually(page, KEPT, PAGE)


def test_the_crew_taps_a_stop_offline_and_it_arrives_once(
    context: BrowserContext, page: Page, sessions
):
    stop_id = _round_today(sessions)
    open_kept_crew_page(page)
    card = page.locator(f'[data-stop="{stop_id}"]')
    expect(card).to_be_visible()
    check_page(page)

    context.set_offline(True)
    # The saved tap goes on to the kept page by itself: wait for that navigation, or the
    # next goto races it (net::ERR_ABORTED).
    with page.expect_navigation(wait_until="load"):
        card.locator('button[data-step="arrive"]').click()
    _eventually(page, WAITING, "rounds.stop.arrive")  # in the phone's outbox
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
