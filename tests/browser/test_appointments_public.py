"""Booking online on a phone (360 px), then moving and cancelling from the link.

Real Chromium against a live server of this module's own (`live_site("apptb")`), so
its bookings stay away from the other browser tests. The SMS code is read from the
live site's outbox table (where it is masked: the test derives it with the site's key,
as the dispatcher does), as the person would read it on their phone. axe-core checks
every page of the path. One path in French (the phone's language), one in Dutch.
Texts are matched through `translated()`: the catalogues may still miss the new msgids.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from notifications.models import Message
from tests.browser.helpers import (
    LiveServer,
    check_page,
    live_server_fixture,
    live_sessions_fixture,
    new_phone_context,
    translated,
)
from tests.support import sms_text

pytestmark = pytest.mark.browser


# A key of our own: the outbox keeps the code masked, the test derives it as the
# dispatcher would (tests.support.sms_text).
SECRET = "apptb-browser-secret"
booking_server = live_server_fixture(
    "apptb", TERRAIN_SMS_GATEWAY="console", TERRAIN_SECRET_KEY=SECRET
)
sessions = live_sessions_fixture("booking_server")


@pytest.fixture()
def french(chromium: Browser, booking_server: LiveServer) -> Iterator[BrowserContext]:
    context = new_phone_context(chromium, booking_server.url)
    yield context
    context.close()


@pytest.fixture()
def dutch(chromium: Browser, booking_server: LiveServer) -> Iterator[BrowserContext]:
    context = new_phone_context(chromium, booking_server.url, locale="nl-BE")
    yield context
    context.close()


# The demo's CPAS de Bruxelles, by page language (the person's postcode is 1000).
BRUSSELS = {"fr": "CPAS de Bruxelles", "nl": "OCMW van Brussel", "en": "CPAS de Bruxelles"}


def a_mobile() -> str:
    return "0471 " + " ".join(f"{secrets.randbelow(100):02d}" for _ in range(3))


def latest_code(sessions: sessionmaker[Session]) -> tuple[str, str]:
    """The last code put in the outbox (as the gateway gets it), and its stored text."""
    with sessions() as session:
        message = session.scalar(
            select(Message).where(Message.key.like("phone-check:%")).order_by(Message.id.desc())
        )
        assert message is not None
        assert "••••••" in message.body  # masked in the outbox
        return re.search(r"\b(\d{6})\b", sms_text(message, SECRET)).group(1), message.body


def click(page: Page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def book(
    page: Page, sessions, *, locale: str, service: str, number: str, place: str = "Antenne Marolles"
) -> None:
    """From where the person lives (1000: the CPAS de Bruxelles) to the confirmation
    page, checking each page."""
    t = lambda msgid: translated(locale, msgid)  # noqa: E731
    check_page(page)
    page.get_by_label(t("Your postcode or your commune")).fill("1000")
    click(page, page.get_by_role("button", name=t("Continue")))
    expect(page.locator(".booking-cpas")).to_have_text(BRUSSELS[locale])
    check_page(page)
    click(page, page.get_by_role("link", name=re.compile(re.escape(service))))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Choose a place"))
    check_page(page)
    page.get_by_label(t("Your postcode")).fill("1000")
    click(page, page.get_by_role("button", name=t("Sort by my postcode")))
    expect(
        page.get_by_text(
            t(
                "Sorted by postcode: first the same postcode, then the nearest postcodes. "
                "It is a guess, not a distance."
            )
        )
    ).to_be_visible()
    click(page, page.get_by_role("link", name=re.compile(place)))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Choose a time"))
    check_page(page)
    click(page, page.locator("button.slot").first)
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Your name and mobile number"))
    check_page(page)
    page.get_by_label(t("Your name")).fill("Test Persoon")
    page.get_by_label(t("Your mobile number")).fill("02 512 34 56")  # a landline first
    click(page, page.get_by_role("button", name=t("Send me a code by SMS")))
    expect(
        page.get_by_text(t("Give a mobile number: the confirmation comes by SMS."))
    ).to_be_visible()
    check_page(page)
    page.get_by_label(t("Your mobile number")).fill(number)
    click(page, page.get_by_role("button", name=t("Send me a code by SMS")))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Type the code"))
    check_page(page)
    assert re.sub(r"\D", "", number)[1:] not in page.url
    code, _body = latest_code(sessions)
    page.get_by_label(t("Code (6 digits)")).fill(code)
    click(page, page.get_by_role("button", name=t("Confirm the appointment")))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Your appointment is booked"))
    check_page(page)


def test_book_move_then_cancel_from_the_old_link_in_french(french: BrowserContext, sessions):
    """The person books (from the login page's link), moves the appointment from the
    SMS link, keeps the first SMS and opens its link again (360 px): it says where the
    appointment went, and works the new one, down to cancelling it."""
    page = french.new_page()
    t = lambda msgid: translated("fr", msgid)  # noqa: E731
    page.goto("/login")
    click(page, page.get_by_role("link", name=t("Book an appointment")))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    book(page, sessions, locale="fr", service="Permanence sociale", number=a_mobile())
    _code, body = latest_code(sessions)
    assert body.startswith("CPAS de Bruxelles: votre code est")
    expect(page.get_by_role("link", name=t("Add to my calendar"))).to_be_visible()
    assert "(.ics)" not in page.content()

    click(page, page.get_by_role("link", name=t("See, move or cancel my appointment")))
    check_page(page)
    old_link = page.url
    first_time = page.locator(".facts dd").nth(2).inner_text()
    click(page, page.get_by_role("link", name=t("Move this appointment")))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Move your appointment"))
    expect(page.get_by_role("link", name=t("Next week"))).to_be_visible()
    check_page(page)
    click(page, page.locator("button.slot").nth(1))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Move your appointment?"))
    # The new time large, the old one small and struck.
    new_size = page.locator(".moment-new strong").evaluate("e => getComputedStyle(e).fontSize")
    old_size = page.locator(".moment-old").evaluate("e => getComputedStyle(e).fontSize")
    assert float(new_size[:-2]) > float(old_size[:-2])
    expect(page.locator(".moment-old s")).to_contain_text(first_time)
    check_page(page)
    click(page, page.get_by_role("button", name=t("Yes, move it")))
    expect(
        page.get_by_text(t("Your appointment is moved. We sent you an SMS with the new link."))
    ).to_be_visible()
    assert page.url != old_link and "moved=1" in page.url
    new_time = page.locator(".facts dd").nth(2).inner_text()
    assert new_time != first_time
    check_page(page)

    # The first SMS's link, opened again.
    page.goto(old_link)
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Your appointment was moved"))
    expect(page.locator(".moment-new")).to_contain_text(t("Moved to:"))
    expect(page.locator(".moment-new strong")).to_contain_text(new_time)
    expect(page.locator(".moment-old s")).to_contain_text(first_time)
    assert t("Cancelled") not in page.locator(".facts").inner_text()
    check_page(page)
    # Every action of the old link works the new appointment.
    with page.expect_download() as download:
        page.get_by_role("link", name=t("Add to my calendar")).click()
    assert download.value.suggested_filename == "rendez-vous.ics"
    click(page, page.get_by_role("link", name=t("Cancel this appointment")))
    check_page(page)
    click(page, page.get_by_role("button", name=t("Yes, cancel it")))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Your appointment is cancelled"))
    check_page(page)
    back = page.get_by_role("link", name=t("Book a new appointment"))
    expect(back).to_be_visible()
    assert back.bounding_box()["height"] >= 44
    click(page, back)
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Choose a place"))
    back_link = page.locator("a.back-link")
    assert back_link.bounding_box()["height"] >= 44


def test_book_in_dutch(dutch: BrowserContext, sessions):
    page = dutch.new_page()
    page.goto("/rendez-vous")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    book(
        page,
        sessions,
        locale="nl",
        service="Gesprek met een maatschappelijk werker",
        number=a_mobile(),
        place="Antenne Marollen",
    )
    _code, body = latest_code(sessions)
    assert body.startswith(f"{BRUSSELS['nl']}: uw code is")
    # A Dutch page gives the Dutch street name.
    expect(page.get_by_text("Hoogstraat 298, 1000 Brussel")).to_be_visible()
