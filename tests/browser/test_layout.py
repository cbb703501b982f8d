"""The phone layout: login, bottom navigation, touch targets, no sideways scrolling, axe."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.helpers import VIEWPORT, assert_accessible, login, translated

MIN_TARGET = 44  # CSS px: WCAG 2.2 target size (enhanced), Terrain's own rule


def assert_no_sideways_scrolling(page: Page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= VIEWPORT["width"], f"{page.url} scrolls sideways: {width} px wide"


def test_login_on_a_phone_lands_on_home_with_a_fixed_bottom_nav(page: Page, live_server: str):
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert_no_sideways_scrolling(page)
    assert_accessible(page)

    login(page, "coordination")
    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        translated("fr", "Hello %(name)s") % {"name": "Nadia Benali"}
    )

    nav = page.locator("nav.appnav")
    expect(nav).to_be_visible()
    assert nav.evaluate("element => getComputedStyle(element).position") == "fixed"
    box = nav.bounding_box()
    assert box is not None
    assert abs(box["y"] + box["height"] - VIEWPORT["height"]) <= 1, box
    assert box["x"] == 0 and abs(box["width"] - VIEWPORT["width"]) <= 1, box
    # Still at the bottom once the page is scrolled to its end.
    page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
    box = nav.bounding_box()
    assert box is not None and abs(box["y"] + box["height"] - VIEWPORT["height"]) <= 1, box

    # A coordinator has more entries than a phone's bar holds: four, then "More".
    bar = page.locator("nav.appnav a:visible")
    expect(bar).to_have_count(5)
    expect(bar.last).to_have_attribute("href", "/menu")
    targets = page.locator(
        "header.topbar a:visible, header.topbar button:visible, nav.appnav a:visible"
    )
    assert targets.count() >= 5  # brand, FR/NL/EN, at least two menu entries
    too_small = []
    for index in range(targets.count()):
        target = targets.nth(index)
        box = target.bounding_box()
        assert box is not None, f"{target.evaluate('e => e.outerHTML')} is not rendered"
        if box["width"] < MIN_TARGET or box["height"] < MIN_TARGET:
            too_small.append((target.evaluate("e => e.outerHTML.slice(0, 120)"), box))
    assert not too_small, f"touch targets under {MIN_TARGET}x{MIN_TARGET} px: {too_small}"

    assert_no_sideways_scrolling(page)
    assert_accessible(page)

    # "More" lists everything, Profile included, and is marked current there.
    bar.last.click()
    expect(page).to_have_url(f"{live_server}/menu")
    expect(bar.last).to_have_attribute("aria-current", "page")
    expect(page.locator("main a[href='/profile']")).to_be_visible()
    assert_no_sideways_scrolling(page)
    assert_accessible(page)

    page.goto("/profile")
    expect(page.get_by_role("heading", level=1)).to_have_text(translated("fr", "Profile"))
    expect(bar.last).to_have_attribute("aria-current", "page")  # Profile is under "More"
    assert_no_sideways_scrolling(page)
    assert_accessible(page)

    # A wide screen's side bar has room for every entry: no "More".
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.locator("nav.appnav a[href='/menu']")).to_be_hidden()
    expect(page.locator("nav.appnav a[href='/profile']")).to_be_visible()


def test_admin_pages_are_accessible(page: Page, live_server: str):
    # Five wrong passwords on an account no other browser test uses: the accounts page
    # then lists it as under attack, and that table is checked too.
    for _ in range(5):
        login(page, "aide6", "wrong-password")
    login(page, "admin")
    page.goto("/admin/users")
    attacked = page.locator("section[aria-labelledby=attacked-title]")
    expect(attacked.get_by_role("heading", level=2)).to_have_text(
        translated("fr", "Accounts with many failed logins")
    )
    expect(attacked.locator("tbody td").first).to_have_text("aide6")
    for path, title in (
        ("/admin/users", "Accounts"),
        ("/admin/audit", "Audit log"),
        ("/admin/cpas", "CPAS of this installation"),
    ):
        page.goto(path)
        expect(page).to_have_url(re.compile(re.escape(f"{live_server}{path}") + r"$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(translated("fr", title))
        assert_no_sideways_scrolling(page)
        assert_accessible(page)
