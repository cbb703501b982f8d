"""The platform administrator's page of contacts and SMS of no CPAS in Chromium: reached
from the CPAS list, accessible (axe-core) with items, after giving and on a refusal,
on a phone and on a desktop; no name, number or text on it. On the live site shared with
the appointment and desk modules (conftest.appointments_server): the contact and the SMS
are this module's own, and none of the others makes any of no CPAS."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.helpers import (
    VIEWPORT,
    LiveServer,
    check_page,
    en,
    log_in,
    new_page,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def orphans_server(appointments_server: LiveServer) -> LiveServer:
    """The live site this module shares with the other appointment and desk modules
    (conftest.appointments_server): what it adds is its own."""
    return appointments_server


@pytest.fixture(params=[VIEWPORT, {"width": 1280, "height": 900}], ids=["phone", "desktop"])
def any_page(request, chromium: Browser, orphans_server: LiveServer) -> Iterator[Page]:
    yield from new_page(chromium, orphans_server, request.param)


def _seed(database_url: str) -> tuple[int, int]:
    """A contact of no team and an SMS of no CPAS, straight into the live database."""
    from sqlalchemy.orm import Session

    from core import clock
    from core.db import make_engine
    from notifications.contacts import create_contact
    from notifications.models import InboundSms

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            contact = create_contact(
                session,
                actor=None,
                display_name="Navigateur Sans-Equipe",
                language="fr",
                phones=["0470 97 77 01"],
            )
            inbound = InboundSms(
                provider_id=f"SMbrowser{secrets.token_hex(8)}",
                from_e164="+32470977702",
                body="Texte que personne ne lit",
                received_at=clock.now(),
                outcome="inbox",
            )
            session.add(inbound)
            session.commit()
            return contact.id, inbound.id
    finally:
        engine.dispose()


def test_the_platform_administrator_gives_them_to_a_cpas(any_page: Page, orphans_server):
    contact_id, inbound_id = _seed(orphans_server.database_url)
    page = any_page
    log_in(page, "admin")
    page.goto("/admin/cpas")
    page.get_by_role("link", name=en("Contacts and SMS of no CPAS: give each to its CPAS")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(en("Contacts and SMS of no CPAS"))
    contact = page.locator(f"li[data-contact-id='{contact_id}']")
    sms = page.locator(f"li[data-inbound-id='{inbound_id}']")
    expect(contact).to_contain_text(f"{contact_id}")
    expect(sms).to_contain_text("+32 *** ** ** 02")
    body = page.locator("main").inner_text()
    for secret in ("Navigateur", "0470 97 77 01", "+32470977702", "personne ne lit"):
        assert secret not in body
    check_page(page)

    contact.get_by_label(en("Give it to the team")).select_option(label="Espace citoyen Dampremy")
    button = contact.get_by_role("button")
    # Which contact the button gives, for a screen reader (Chromium puts a space
    # before the visually hidden part).
    expect(button).to_have_accessible_name(
        re.compile(rf"{en('Give')}\s*:\s*{re.escape(en('contact no. %(id)s', id=contact_id))}")
    )
    button.click()
    expect(page.locator(".flashes")).to_contain_text(
        en("Contact no. %(id)s now belongs to the team chosen.", id=contact_id)
    )
    expect(page.locator(f"li[data-contact-id='{contact_id}']")).to_have_count(0)
    check_page(page)

    sms = page.locator(f"li[data-inbound-id='{inbound_id}']")
    sms.get_by_label(en("Give it to")).select_option(label="CPAS de Schaerbeek")
    sms.get_by_role("button").click()
    expect(page.locator(f"li[data-inbound-id='{inbound_id}']")).to_have_count(0)
    check_page(page)
