"""Rounds pages in a real browser on a 360 px phone (issue 19): the mobile team's
coordinator opens the round templates from the rounds' tabs, a minibus template with its
stops (a stop out of order refused with a sentence, nothing saved), the week's dated
rounds and one round's page, where cancelling without a reason is refused. axe-core on
every page, nothing wider than the phone, no CSP complaint.

The shared live server (conftest's live_server_process): these pages are only read and
what is refused saves nothing.
"""

from __future__ import annotations

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
    open_from_menu,
)

pytestmark = pytest.mark.browser


@pytest.fixture()
def phone_page(chromium: Browser, live_server_process: LiveServer) -> Iterator[Page]:
    yield from new_page(chromium, live_server_process, VIEWPORT, watch_csp=True)


def test_templates_and_dated_rounds_on_a_phone(phone_page: Page):
    page = phone_page
    log_in(page, "mobile-coord")
    open_from_menu(page, "/tournees/")
    page.get_by_role("link", name=en("Round templates")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(en("Round templates"))
    check_page(page)

    page.get_by_role("link", name="Minibus Nord – lundi").click()
    expect(page.get_by_role("heading", level=2, name=en("Stops of this round"))).to_be_visible()
    check_page(page)
    page.get_by_label(en("Arrives")).fill("12:00")
    page.get_by_label(en("Leaves")).fill("11:00")
    page.get_by_role("button", name=en("Add the stop")).click()
    expect(page.get_by_label(en("Leaves"))).to_have_attribute("aria-invalid", "true")
    check_page(page)

    page.get_by_role("link", name=en("Dated rounds")).click()
    expect(page.locator("#dated-rounds")).to_be_visible()
    check_page(page)
    page.locator("#dated-rounds a").first.click()
    expect(page.locator("#round-status")).to_be_visible()
    check_page(page)
    cancel = page.get_by_role("button", name=en("Cancel the round"))
    if cancel.count():
        cancel.click()
        expect(page.locator("#f-cancel-reason")).to_have_attribute("aria-invalid", "true")
        check_page(page)
