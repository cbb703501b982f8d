"""A place's notes changed offline on a 360 px phone (issue 8): saved in the outbox, shown
on the kept place page after a reload without network, sent once back online; a place
never opened shows its notes when drawn by the phone. Axe on the place page, online and
offline.

A live site of this module's own (`live_site("oplace")`). Users switch to English first.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.sync import SyncOperation
from outreach.demo import demo_id
from outreach.models import Place
from tests.browser.helpers import (
    LiveServer,
    assert_accessible,
    live_server_fixture,
    live_sessions_fixture,
    new_phone_context,
)
from tests.browser.offline import outbox, wait_for_outbox
from tests.browser.outreach_phone import english, form, indicator

pytestmark = pytest.mark.browser

LIEDTS = demo_id("liedts")
PAGE = f"/outreach/places/{LIEDTS}"
NOTES = "Abribus déplacé côté église.\nPasser avant 7 h."

place_server = live_server_fixture("oplace")
sessions = live_sessions_fixture("place_server")


@pytest.fixture()
def phone(chromium: Browser, place_server: LiveServer) -> Iterator[BrowserContext]:
    context = new_phone_context(chromium, place_server.url)
    yield context
    context.close()


def test_notes_changed_offline_survive_a_reload_and_are_sent_once(
    phone: BrowserContext, sessions: sessionmaker[Session]
):
    with sessions() as session:
        version = session.get(Place, LIEDTS).version
    page = phone.new_page()
    english(page, "rue1")
    page.goto(PAGE)  # opened once online: kept for offline use
    expect(form(page)).to_have_attribute("data-phone-ready", "")
    expect(page.locator("[data-place-no-notes]")).to_be_visible()
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 360, f"the place page scrolls sideways: {width} px"
    assert_accessible(page)

    phone.set_offline(True)
    form(page).locator("[name=notes]").fill(NOTES)
    # Saved on the phone; the kept page comes back showing what the phone holds.
    with page.expect_navigation(url=re.compile(re.escape(PAGE) + "$")):
        form(page).locator("button[type=submit]").tap()
    expect(form(page)).to_have_attribute("data-phone-ready", "")
    ops = outbox(page)["ops"]
    assert [op["type"] for op in ops] == ["outreach.place.update"], ops
    assert ops[0]["base_version"] == version
    assert ops[0]["data"]["notes"] == NOTES and ops[0]["data"]["id"] == str(LIEDTS)

    page.reload()
    expect(indicator(page)).to_contain_text("1 waiting")
    expect(page.locator("[data-place-notes]")).to_have_text(NOTES)
    expect(page.locator("[data-place-no-notes]")).to_be_hidden()
    expect(page.locator("[data-place-waiting]")).to_be_visible()
    expect(form(page).locator("[name=notes]")).to_have_value(NOTES)
    assert_accessible(page)

    # A place never opened, drawn by the phone from its records: its notes too.
    page.goto("/outreach/places/")
    page.locator("a[data-place-link]", has_text="Parc Maximilien").tap()
    detail = page.locator("[data-place-detail]")
    expect(detail).to_be_visible()
    expect(detail.locator("[data-place-detail-notes]")).to_contain_text("Tentes près de la ferme")

    # Back online: sent once, and the phone holds the server's record.
    phone.set_offline(False)
    wait_for_outbox(page, "(o) => o.ops.length === 0")
    with sessions() as session:
        place = session.get(Place, LIEDTS)
        assert place.notes == NOTES and place.version == version + 1
        assert (
            session.scalar(
                select(func.count())
                .select_from(SyncOperation)
                .where(SyncOperation.id == uuid.UUID(ops[0]["id"]))
            )
            == 1
        )
    page.goto(PAGE)
    expect(page.locator("[data-place-notes]")).to_have_text(NOTES)
    expect(page.locator("[data-place-waiting]")).to_be_hidden()
    expect(indicator(page)).to_have_text("Online · all sent")
