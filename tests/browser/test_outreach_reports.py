"""Street indicators in a real browser: a street educator on a 360 px phone opens them from
the Street page; an admin on a desktop from the outreach section's tabs, picks a month
and downloads the XLSX. Charts are drawn (inline SVG, role="img") each with its table;
axe-core on each page, nothing wider than the window, no CSP violation in the console.

A live site of this module's own (`live_site("reports")`). Users switch to English first.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import openpyxl
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core import clock
from outreach.models import Encounter
from tests.browser.helpers import (
    VIEWPORT,
    LiveServer,
    check_page,
    en,
    live_server_fixture,
    live_sessions_fixture,
    log_in,
    new_page,
    open_from_menu,
)

pytestmark = pytest.mark.browser

URL = "/outreach/indicateurs"
DESKTOP = {"width": 1280, "height": 900}
CHARTS = ("contacts", "needs", "ethos", "ages", "referrals")

reports_server = live_server_fixture("reports")
sessions = live_sessions_fixture("reports_server")


@pytest.fixture()
def phone_page(chromium: Browser, reports_server: LiveServer) -> Iterator[Page]:
    yield from new_page(chromium, reports_server, VIEWPORT, watch_csp=True)


@pytest.fixture()
def desktop_page(chromium: Browser, reports_server: LiveServer) -> Iterator[Page]:
    yield from new_page(chromium, reports_server, DESKTOP, watch_csp=True)


def check_charts(page: Page) -> None:
    """Five charts, each with an accessible name and its table; charts fit the column."""
    charts = page.locator("svg.chart[role=img]")
    expect(charts).to_have_count(len(CHARTS))
    for key in CHARTS:
        chart = page.locator(f"#chart-{key}")
        expect(chart).to_be_visible()
        title = chart.locator("title").text_content()
        assert title, key
        box = chart.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 40, (key, box)
        assert box["x"] + box["width"] <= (page.viewport_size or VIEWPORT)["width"]
        table = page.locator(f"#{key}-figures table")
        expect(table).to_have_count(1)
        expect(table.locator("caption")).to_have_text(title)


def _newest_encounter_month(sessions: sessionmaker[Session]) -> str:
    """The Brussels month ("2026-11") of the site's newest encounter (the demo's)."""
    with sessions() as session:
        newest = session.scalar(select(func.max(Encounter.occurred_at)))
    assert newest is not None, "the demo has encounters"
    return f"{clock.to_local(newest):%Y-%m}"


def test_a_street_educator_on_a_phone(phone_page: Page, sessions: sessionmaker[Session]):
    page = phone_page
    log_in(page, "rue1")
    page.goto("/outreach/")
    page.get_by_role("link", name=en("Street indicators")).click()
    expect(page).to_have_url(re.compile(re.escape(URL) + "$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Équipe de rue Bruxelles-Nord")
    # The month of the demo's newest encounter, picked as a user would: the demo's are of
    # the days before its seeding, so on the first of a month this month has none yet.
    month = _newest_encounter_month(sessions)
    page.get_by_label(en("Month"), exact=True).select_option(value=month)
    page.get_by_role("button", name=en("Show")).click()
    expect(page).to_have_url(re.compile(rf"month={month}"))
    check_charts(page)
    # The demo's encounters of that month: contacts counted on the page.
    assert int(page.locator("[data-figure=contacts]").text_content()) >= 1
    check_page(page)
    # A table opens under its chart, and stays within the phone (it scrolls inside).
    page.locator("#needs-figures summary").click()
    table = page.locator("#needs-figures table")
    expect(table).to_be_visible()
    expect(table.get_by_role("rowheader", name=en("Shelter for the night"))).to_be_visible()
    check_page(page)
    # Text in the charts is readable on the phone: at least 11 px once scaled.
    size = page.evaluate(
        """() => {
            const svg = document.querySelector('#chart-needs');
            const text = svg.querySelector('text');
            const ratio = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            return parseFloat(text.getAttribute('font-size') || svg.getAttribute('font-size'))
                * ratio;
        }"""
    )
    assert size >= 11, size


def test_an_admin_on_a_desktop_picks_a_month_and_downloads(desktop_page: Page):
    page = desktop_page
    log_in(page, "admin")
    open_from_menu(page, "/outreach/partenaires")
    page.locator(f"nav.sms-tabs a[href='{URL}']").click()
    expect(page).to_have_url(re.compile(re.escape(URL) + "$"))
    check_charts(page)
    check_page(page)
    month_select = page.get_by_label(en("Month"), exact=True)
    previous = month_select.locator("option").nth(1).get_attribute("value")
    month_select.select_option(value=previous)
    page.get_by_role("button", name=en("Show")).click()
    expect(page).to_have_url(re.compile(rf"month={previous}"))
    check_charts(page)
    check_page(page)
    with page.expect_download() as download:
        page.get_by_role("link", name=en("Download for Excel (XLSX)")).click()
    assert download.value.suggested_filename.endswith(f"-{previous}.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 13 and rows[-1][0] == previous
