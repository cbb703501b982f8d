"""The desk's queue on a tablet (1024×768): call in, done and undo without scrolling.

Real Chromium against the live site shared with the other appointment and desk modules
(conftest.appointments_server; the place, services and agents are this module's own). The
server runs on the suite's clock: the place added here is open all day every day (its
CPAS opened for the test when that day is a holiday) and its two agents work all day.
The debt-mediation agent (made first) also gives the ordinary service; the generalist
gives only that one: an ordinary walk-in is proposed to the generalist. Users switch to
English first (the msgids do not change).
"""

from __future__ import annotations

import re
import secrets
from datetime import date, time

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy.orm import Session

from appointments.models import (
    AgentService,
    Location,
    OpeningHours,
    Service,
    ServiceLocation,
    WorkingPlan,
)
from core import accounts
from core.db import make_engine
from tests.browser.helpers import LiveServer, assert_accessible, en, log_in
from tests.support import open_today, place_team

pytestmark = pytest.mark.browser

TABLET = {"width": 1024, "height": 768}
TAG = secrets.token_hex(3)


@pytest.fixture(scope="module")
def queue_server(appointments_server: LiveServer) -> LiveServer:
    """The live site this module shares with the other appointment and desk modules
    (conftest.appointments_server): what it adds is its own."""
    return appointments_server


@pytest.fixture(scope="module")
def place(queue_server: LiveServer) -> dict[str, str]:
    engine = make_engine(queue_server.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            location = Location(
                code=f"deskq-{TAG}",
                name="Antenne File Test",
                address="Rue 2",
                team_id=place_team(session),
            )
            location.opening_hours = [
                OpeningHours(weekday=weekday, opens=time(0, 0), closes=time(23, 59))
                for weekday in range(7)
            ]
            ordinary, debts = (
                Service(
                    code=f"{code}-{TAG}",
                    name_fr=name,
                    name_nl=name,
                    name_en=name,
                    duration_minutes=20,
                    buffer_minutes=0,
                    languages=["fr"],
                    min_notice_hours=0,
                    max_horizon_days=30,
                    booking_mode=mode,
                )
                for code, name, mode in (
                    ("qperm", "Queue permanence", "walk_in"),
                    ("qdebt", "Queue debts", "phone"),
                )
            )
            session.add_all([location, ordinary, debts])
            session.flush()
            for service in (ordinary, debts):
                session.add(ServiceLocation(service_id=service.id, location_id=location.id))
            names = {}
            for n, (name, services) in enumerate(
                (("Mona Mediation", (ordinary, debts)), ("Gael Generalist", (ordinary,))),
                start=1,
            ):
                agent = accounts.create_user(
                    session,
                    username=f"q{n}{TAG}",
                    display_name=name,
                    password="demo",
                    role="social_worker",
                    language="en",
                    check_password=False,
                )
                names[name] = str(agent.id)
                for service in services:
                    session.add(AgentService(user_id=agent.id, service_id=service.id))
                for weekday in range(7):
                    session.add(
                        WorkingPlan(
                            user_id=agent.id,
                            location_id=location.id,
                            weekday=weekday,
                            starts=time(0, 0),
                            ends=time(23, 59),
                            valid_from=date(2020, 1, 1),
                        )
                    )
            session.commit()
            return {"location": location.code, "generalist": names["Gael Generalist"]}
    finally:
        engine.dispose()


def in_first_screen(page: Page, target: Locator) -> None:
    """On the first screen without scrolling, and not under anything (the menu bar)."""
    assert page.evaluate("window.scrollY") == 0, "the page was scrolled"
    box = target.bounding_box()
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= TABLET["height"], box
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    assert target.evaluate(
        "(el, [x, y]) => el.contains(document.elementFromPoint(x, y))", [x, y]
    ), "covered by something"


def test_call_done_and_undo_on_one_tablet_screen(
    chromium: Browser, queue_server: LiveServer, place
):
    engine = make_engine(queue_server.database_url)
    try:
        with open_today(engine):
            _call_done_and_undo(chromium, queue_server, place)
    finally:
        engine.dispose()


def _call_done_and_undo(chromium: Browser, queue_server: LiveServer, place) -> None:
    context = chromium.new_context(base_url=queue_server.url, viewport=TABLET, locale="fr-BE")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        log_in(page, "accueil")
        page.goto(f"/accueil/?location={place['location']}")
        # The phone-only service has no walk-in button; the other one has.
        walk_ins = page.locator(".desk-walk-in-button")
        expect(walk_ins).to_have_count(1)
        expect(walk_ins).to_contain_text("Queue permanence")
        walk_ins.click()
        entry = page.locator("#desk-queue li", has_text=en("Walk-in no. %(number)d", number=1))
        expect(entry).to_be_visible()
        # The idle generalist is proposed, not the only debt-mediation agent.
        expect(entry.locator("select")).to_have_value(place["generalist"])
        call = entry.get_by_role("button", name=re.compile(en("Call in")))
        left = entry.get_by_role("button", name=re.compile(en("Left")))
        call_box, left_box = call.bounding_box(), left.bounding_box()
        assert call_box and left_box and abs(call_box["y"] - left_box["y"]) < 2  # side by side
        page.evaluate("window.scrollTo(0, 0)")
        in_first_screen(page, call)
        assert_accessible(page)

        call.click()
        flash = page.locator("#desk-board .flash-success")
        expect(flash).to_contain_text(
            en(
                "%(person)s is called in by %(agent)s.",
                person="Walk-in no. 1",
                agent="Gael Generalist",
            )
        )
        with_agent = page.locator("#desk-with li", has_text=en("Walk-in no. %(number)d", number=1))
        done = with_agent.get_by_role("button", name=re.compile(en("Done")))
        expect(done).to_be_visible()
        page.evaluate("window.scrollTo(0, 0)")
        in_first_screen(page, done)
        assert_accessible(page)

        done.click()
        expect(flash).to_contain_text(
            en("%(person)s: done. You can undo it for a while.", person="Walk-in no. 1")
        )
        undo = page.locator("#desk-with li", has_text="no. 1").get_by_role(
            "button", name=re.compile(en("Undo"))
        )
        page.evaluate("window.scrollTo(0, 0)")
        in_first_screen(page, undo)
        assert_accessible(page)
        undo.click()
        expect(flash).to_contain_text(
            en("Undone: %(person)s is with the agent again.", person="Walk-in no. 1")
        )
        expect(
            page.locator("#desk-with li", has_text="no. 1").get_by_role(
                "button", name=re.compile(en("Done"))
            )
        ).to_be_visible()
    finally:
        context.close()
