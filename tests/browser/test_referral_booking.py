"""A social worker books, on a 360 px phone, the appointment of a street outreach
referral for a person without a phone, and the slip prints on one A4 page; the
reception desk does the same without a referral, the slip in Dutch. No SMS is queued.

Real Chromium against the live site shared with the other appointment and desk modules
(conftest.appointments_server). The server runs on the real clock, so the test adds,
straight into the live site's database, a place of the Antenne Marolles team open all
day every day with an agent working all day, a service offered there, and a referral of
the demo's Piet (who agreed to share his file with the service he is referred to) to
that service: all the module's own.
"""

from __future__ import annotations

import re
import secrets
from datetime import time

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appointments.models import (
    Appointment,
)
from core import accounts
from core.accounts import Team
from core.db import make_engine
from notifications.models import Message
from outreach import referrals
from outreach.demo import demo_id
from tests.browser.helpers import (
    VIEWPORT,
    LiveServer,
    assert_accessible,
    en,
    log_in,
    new_phone_context,
)
from tests.live.support import one_agent_service

pytestmark = pytest.mark.browser

TAG = secrets.token_hex(3)
PIET = demo_id("piet")


@pytest.fixture(scope="module")
def referral_server(appointments_server: LiveServer) -> LiveServer:
    """The live site this module shares with the other appointment and desk modules
    (conftest.appointments_server): what it adds is its own."""
    return appointments_server


@pytest.fixture(scope="module")
def referred(referral_server: LiveServer) -> dict[str, str]:
    """A Marolles place offering a service all day, one agent, Piet referred to it."""
    engine = make_engine(referral_server.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            marolles = session.scalar(select(Team).where(Team.code == "bxl-marolles"))
            service, location, _agent = one_agent_service(
                session,
                location={
                    "code": f"ref-{TAG}",
                    "name": "Antenne Test Rue Haute",
                    "team_id": marolles.id,
                    "address": "Rue Haute 298",
                    "postcode": "1000",
                    "city": "Bruxelles",
                    "phone": "+3225431111",
                },
                service={
                    "code": f"ref-svc-{TAG}",
                    "name_fr": "Revenu d'intégration",
                    "name_nl": "Leefloon",
                    "name_en": "Integration income",
                    "duration_minutes": 30,
                    "buffer_minutes": 0,
                    "languages": ["fr", "nl"],
                    "min_notice_hours": 0,
                    "max_horizon_days": 30,
                    "bring_fr": "Votre carte d'identité\nVos extraits de compte",
                    "bring_nl": "Uw identiteitskaart\nUw rekeninguittreksels",
                    "bring_en": "Your identity card\nYour bank statements",
                },
                agent={
                    "username": f"ref{TAG}",
                    "display_name": "Rita Referral",
                    "language": "en",
                },
                hours=(time(0, 0), time(23, 59)),
            )
            educator = accounts.find_user(session, "rue1")
            referral = referrals.propose(
                session,
                educator,
                PIET,
                {"need": "income", "to_team_id": marolles.id, "service_code": service.code},
            )
            session.commit()
            return {"referral": str(referral.id), "location": location.code}
    finally:
        engine.dispose()


def pdf_pages(pdf: bytes) -> int:
    """The number of pages of a PDF: its page objects (`/Type /Page`, not `/Pages`)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_referral_to_booking_without_a_phone_and_its_slip_on_one_page(
    chromium: Browser, referral_server: LiveServer, referred
):
    context = new_phone_context(chromium, referral_server.url)
    page = context.new_page()
    try:
        log_in(page, "as1")
        page.goto(f"/outreach/personnes/{PIET}")
        referral = page.locator(f"#referral-{referred['referral']}")
        expect(referral).to_contain_text("Antenne Marolles · Integration income")
        assert_accessible(page)
        referral.get_by_role(
            "link", name=re.compile(en("Book an appointment for this referral"))
        ).click()

        # The booking page: place, service and person already filled in, times by day.
        expect(page.get_by_role("heading", level=1)).to_have_text(en("Book an appointment"))
        expect(page.locator("#book-location")).to_have_value(referred["location"])
        expect(page.locator("#book-service")).to_have_value(f"ref-svc-{TAG}")
        expect(page.locator("#book-name")).to_have_value("Piet")
        expect(page.locator("#book-referral")).to_contain_text(
            en(
                "For a street outreach referral: %(need)s, %(name)s.",
                need="Income, RIS",
                name="Piet",
            )
        )
        expect(page.locator("h3.desk-slot-day").first).to_be_visible()
        assert_accessible(page)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= VIEWPORT["width"], f"the booking page scrolls sideways: {width} px"
        page.locator("input[name=start]").first.check()
        expect(page.locator("#book-phone")).to_have_value("")
        page.locator("#book-language").select_option("fr")
        page.get_by_label(en("At the desk")).check()
        page.get_by_role("button", name=en("Book"), exact=True).click()

        # No number: straight to the slip, in the person's language (French).
        expect(page).to_have_url(re.compile(r"/accueil/appointments/\d+/slip$"))
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        slip = page.locator("article.slip")
        expect(slip).to_contain_text("Piet")
        expect(slip).to_contain_text("Revenu d'intégration")
        expect(slip).to_contain_text("Vos extraits de compte")
        expect(slip).to_contain_text("Rue Haute 298")
        expect(slip).to_contain_text("02 543 11 11")
        assert_accessible(page)
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf_pages(pdf) == 1
        appointment_id = int(re.search(r"/appointments/(\d+)/slip", page.url).group(1))

        # The file shows the appointment linked to the referral.
        page.goto(f"/outreach/personnes/{PIET}")
        expect(page.locator(f"#referral-{referred['referral']}-appointment")).to_be_visible()
    finally:
        context.close()

    engine = make_engine(referral_server.database_url)
    try:
        with Session(engine) as session:
            made = session.get(Appointment, appointment_id)
            assert str(made.referral_id) == referred["referral"]
            assert made.person.phone is None and made.source == "desk"
            queued = session.scalar(
                select(func.count(Message.id)).where(
                    Message.subject == f"appointment:{appointment_id}"
                )
            )
            assert queued == 0
    finally:
        engine.dispose()


def test_desk_booking_without_a_phone_prints_a_dutch_slip_on_one_page(
    chromium: Browser, referral_server: LiveServer, referred
):
    context = new_phone_context(chromium, referral_server.url)
    page = context.new_page()
    try:
        log_in(page, "accueil")
        page.goto(f"/accueil/book?location={referred['location']}&service=ref-svc-{TAG}")
        expect(page.locator("h3.desk-slot-day").first).to_be_visible()
        page.locator("input[name=start]").nth(1).check()
        page.locator("#book-name").fill("Jan Zondergsm")
        page.locator("#book-language").select_option("nl")
        page.get_by_label(en("At the desk")).check()
        page.get_by_role("button", name=en("Book"), exact=True).click()
        expect(page).to_have_url(re.compile(r"/accueil/appointments/\d+/slip$"))
        expect(page.locator("html")).to_have_attribute("lang", "nl")
        slip = page.locator("article.slip")
        expect(slip).to_contain_text("Jan Zondergsm")
        expect(slip).to_contain_text("Uw rekeninguittreksels")
        expect(slip).to_contain_text("Leefloon")
        assert_accessible(page)
        assert pdf_pages(page.pdf(format="A4")) == 1
        appointment_id = int(re.search(r"/appointments/(\d+)/slip", page.url).group(1))
    finally:
        context.close()
    engine = make_engine(referral_server.database_url)
    try:
        with Session(engine) as session:
            made = session.get(Appointment, appointment_id)
            assert made.person.phone is None and made.referral_id is None
            subject = f"appointment:{appointment_id}"
            assert (
                session.scalar(select(func.count(Message.id)).where(Message.subject == subject))
                == 0
            )
    finally:
        engine.dispose()
