"""Moving around: boosted navigation (htmx), logging out, a wrong password."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_accessible, login, translated


def test_bottom_nav_navigates_without_a_full_page_load(page: Page, live_server: str):
    login(page, "aide1")
    expect(page).to_have_url(f"{live_server}/")
    # A full page load would wipe this; htmx's boosted navigation swaps the body only.
    page.evaluate("window.terrainTestMarker = 'same document'")

    page.locator("nav.appnav a[href='/profile']").click()

    expect(page).to_have_url(f"{live_server}/profile")
    expect(page.get_by_role("heading", level=1)).to_have_text(translated("fr", "Profile"))
    expect(page.locator("nav.appnav a[href='/profile']")).to_have_attribute("aria-current", "page")
    expect(page.locator("nav.appnav a[href='/']")).not_to_have_attribute("aria-current", "page")
    assert page.evaluate("window.terrainTestMarker") == "same document"
    # app.js moves the focus to the new content, for screen readers.
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'main'")
    expect(page).to_have_title(re.compile(re.escape(translated("fr", "Profile"))))

    # Back to the home page, still in the same document.
    page.locator("nav.appnav a[href='/']").click()
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        translated("fr", "Hello %(name)s") % {"name": "Fatima El Amrani"}
    )
    assert page.evaluate("window.terrainTestMarker") == "same document"


def test_logout_returns_to_login_and_closes_the_session(page: Page, live_server: str):
    login(page, "as1")
    page.goto("/profile")
    with page.expect_navigation():
        page.locator("form[action='/logout'] button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.locator(".flashes")).to_contain_text(translated("fr", "You are logged out."))
    expect(page.locator("nav.appnav")).to_have_count(0)

    page.goto("/")
    expect(page).to_have_url(re.compile(re.escape(f"{live_server}/login") + r"(\?.*)?$"))
    expect(page.locator("form[action^='/login'] [name=password]")).to_be_visible()


def test_wrong_password_shows_the_error_next_to_the_field(page: Page, live_server: str):
    login(page, "accueil", password="not-the-password")

    expect(page).to_have_url(f"{live_server}/login")
    password = page.locator("form[action^='/login'] [name=password]")
    error = page.locator("#password-error")
    expect(error).to_be_visible()
    expect(error).to_have_text(re.compile(r"\S"))
    expect(error).to_contain_text(translated("fr", "Wrong username or password."))
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_attribute("aria-describedby", re.compile(r"\bpassword-error\b"))
    # The message sits right next to its field: inside the same .field block.
    assert error.evaluate(
        "(element) => element.closest('.field') === "
        "document.querySelector('#password').closest('.field')"
    )
    assert_accessible(page)
