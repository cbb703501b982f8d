"""The reception desk on a tablet (1024×768) and the agent's list on a 360 px phone.

Real Chromium against a live server of this module's own (`live_site("apptd")`). The
server's clock (and the browser's) starts at 10:07 of the suite's day (or of the next
day that is no public holiday), whatever the time of the run or --clock: the desk shows
one day, and the move by 40 minutes stays within it. The site is a copy of the run's demo
(seeded on the suite's clock), served on that clock. The test adds, straight into the
live site's database, a place open all day every day with two agents working all day,
and appointments around that time: one started ten minutes ago (to be marked "did not
come"), one in half an hour (the person arrives early and is called in), one later
(moved by the form). Users switch to English first: the msgids do not change, the
translations may.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, time, timedelta

import pytest
from babel.dates import format_time
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from appointments.models import (
    AgentService,
    Appointment,
    BookingPerson,
    Location,
    OpeningHours,
    Service,
    ServiceLocation,
    WorkingPlan,
)
from core import accounts, clock
from core.db import make_engine
from tests.browser.helpers import (
    VIEWPORT,
    LiveServer,
    assert_accessible,
    en,
    install_clock,
    live_server_fixture,
    log_in,
    new_phone_context,
    open_from_menu,
)
from tests.support import place_team

pytestmark = pytest.mark.browser

TABLET = {"width": 1024, "height": 768}
TAG = secrets.token_hex(3)

# The demo's accounts, teams and places are all the test needs of it (its place, agents
# and bookings are its own, dated on the site's clock): a copy of the run's demo
# template served on the module's clock, not a demo seeded again on it.
desk_server = live_server_fixture(
    "apptd", clock_at=time(10, 7), working_day=True, seed_on_clock=False
)


@pytest.fixture(scope="module")
def place(desk_server: LiveServer) -> dict[str, object]:
    """A place open all day, two agents working all day, three bookings around now."""
    engine = make_engine(desk_server.database_url)
    now = desk_server.now().replace(second=0, microsecond=0)
    try:
        with Session(engine, expire_on_commit=False) as session:
            location = Location(
                code=f"desk-{TAG}",
                name="Antenne Desk Test",
                address="Rue 1",
                team_id=place_team(session),
            )
            location.opening_hours = [
                OpeningHours(weekday=weekday, opens=time(0, 0), closes=time(23, 59))
                for weekday in range(7)
            ]
            service = Service(
                code=f"desk-svc-{TAG}",
                name_fr="Permanence test",
                name_nl="Permanentie test",
                name_en="Test desk service",
                duration_minutes=20,
                buffer_minutes=0,
                languages=["fr"],
                min_notice_hours=0,
                max_horizon_days=30,
            )
            session.add_all([location, service])
            session.flush()
            session.add(ServiceLocation(service_id=service.id, location_id=location.id))
            agents = []
            for n, name in enumerate(("Alex Agent", "Bea Agent"), start=1):
                agent = accounts.create_user(
                    session,
                    username=f"desk{n}{TAG}",
                    display_name=name,
                    password="demo",
                    role="social_worker",
                    language="en",
                    # The place's team: a social worker sees its own antenne's desk.
                    team=session.get(accounts.Team, location.team_id),
                    check_password=False,
                )
                agents.append(agent)
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
            session.flush()

            def appointment(name: str, agent, start: datetime) -> Appointment:
                person = BookingPerson(name=name, phone="+32471000111", language="fr")
                session.add(person)
                session.flush()
                made = Appointment(
                    service_id=service.id,
                    location_id=location.id,
                    agent_id=agent.id,
                    person_id=person.id,
                    start_at=start,
                    end_at=start + timedelta(minutes=20),
                    busy_until=start + timedelta(minutes=20),
                    status="booked",
                    source="phone",
                )
                session.add(made)
                return made

            appointment("Amina Late", agents[0], now - timedelta(minutes=10))
            appointment("Bram Early", agents[1], now + timedelta(minutes=30))
            local = clock.to_local(now)
            on_grid = local.replace(minute=local.minute - local.minute % 20)  # 20-min slots
            appointment("Carla Moved", agents[1], clock.as_utc(on_grid) + timedelta(hours=2))
            session.commit()
            return {"location": location.code, "agent": agents[0].username}
    finally:
        engine.dispose()


def block(page: Page, name: str):
    return page.locator("li.desk-block", has_text=name)


def test_reception_flow_on_a_tablet(chromium: Browser, desk_server: LiveServer, place):
    context = chromium.new_context(base_url=desk_server.url, viewport=TABLET, locale="fr-BE")
    context.set_default_timeout(10_000)
    install_clock(context, desk_server.url)
    page = context.new_page()
    try:
        log_in(page, "accueil")
        open_from_menu(page, "/accueil/")
        expect(page.get_by_role("heading", level=1)).to_contain_text(en("Reception desk"))
        page.goto(f"/accueil/?location={place['location']}")
        expect(block(page, "Amina Late")).to_be_visible()
        assert_accessible(page)
        # Side by side: the two agents' names on one line.
        names = page.locator("h3.desk-agent")
        first, second = names.nth(0).bounding_box(), names.nth(1).bounding_box()
        assert first and second and abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"]

        # Arrival (htmx: the board is updated in place).
        block(page, "Bram Early").get_by_role("button", name=re.compile(en("Arrived"))).click()
        expect(page.locator("#desk-board .flash-success")).to_contain_text("Bram Early")
        expect(block(page, "Bram Early")).to_contain_text(en("Arrived, waiting"))
        expect(page.locator("#desk-queue")).to_contain_text("Bram Early")

        # No-show of the one who started ten minutes ago.
        block(page, "Amina Late").get_by_role("button", name=re.compile(en("Did not come"))).click()
        expect(block(page, "Amina Late").locator(".badge")).to_have_text(en("Did not come"))

        # A walk-in in one tap, then called in by the proposed agent.
        page.get_by_role("button", name=re.compile(en("Walk-in"))).first.click()
        queue = page.locator("#desk-queue")
        walk_in = queue.locator("li", has_text=en("Walk-in no. %(number)d", number=1))
        expect(walk_in).to_be_visible()
        expect(walk_in).to_contain_text(en("Waiting for %(minutes)d min", minutes=0))
        assert_accessible(page)
        walk_in.get_by_role("button", name=re.compile(en("Call in"))).click()
        expect(page.locator("#desk-board .flash-success")).to_contain_text(
            en("Walk-in no. %(number)d", number=1)
        )
        expect(queue.locator("li", has_text="no. 1")).to_have_count(0)

        # Move by the form: 40 minutes later than its time, on the 20-minute grid.
        carla = block(page, "Carla Moved")
        carla.get_by_role("link", name=re.compile(en("Move"))).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(en("Move an appointment"))
        assert_accessible(page)
        current = page.locator("#move-time").input_value()
        hours, minutes = (int(part) for part in current.split(":"))
        later = (datetime(2000, 1, 1, hours, minutes) + timedelta(minutes=40)).time()
        assert later > time(hours, minutes), "the module's clock must leave room in the day"
        page.locator("#move-time").fill(later.strftime("%H:%M"))
        page.get_by_role("button", name=en("Move"), exact=True).click()
        # No name in a flash: it travels in the session cookie.
        expect(page.locator(".flash-success")).to_contain_text("Appointment moved to")
        shown = " ".join(block(page, "Carla Moved").inner_text().split())
        assert " ".join(format_time(later, "short", locale="en").split()) in shown
        assert_accessible(page)
    finally:
        context.close()


def test_the_agents_list_on_a_phone(chromium: Browser, desk_server: LiveServer, place):
    context = new_phone_context(chromium, desk_server.url)
    page = context.new_page()
    try:
        log_in(page, str(place["agent"]))
        open_from_menu(page, "/mes-rendez-vous")
        expect(page.get_by_role("heading", level=1)).to_have_text(en("My appointments"))
        expect(page.locator("main")).to_contain_text("Amina Late")
        expect(
            page.get_by_role("heading", name=en("My beneficiaries' appointments"))
        ).to_be_visible()
        assert_accessible(page)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= VIEWPORT["width"], f"the page scrolls sideways: {width} px"
        # The desk on a phone: the agendas stack, nothing wider than the screen.
        page.goto(f"/accueil/?location={place['location']}")
        expect(page.locator("h3.desk-agent").first).to_be_visible()
        assert_accessible(page)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= VIEWPORT["width"], f"the desk scrolls sideways: {width} px"
    finally:
        context.close()
