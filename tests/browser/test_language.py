"""The FR | NL | EN switcher: cookie when logged out, profile language when logged in."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.helpers import has_translation, login, translated


def switch_language(page: Page, code: str) -> None:
    with page.expect_navigation():
        page.locator(f"form.lang-switch button[name=language][value={code}]").click()
    expect(page.locator("html")).to_have_attribute("lang", code)
    expect(page.locator(f"form.lang-switch button[value={code}]")).to_have_attribute(
        "aria-current", "true"
    )


def expect_nav_label(page: Page, locale: str, msgid: str, href: str) -> None:
    expect(page.locator(f"nav.appnav a[href='{href}']")).to_have_text(translated(locale, msgid))


def test_language_switch_when_logged_in(page: Page, live_server: str):
    # aide3 (French profile) is used by no other test; the test ends back in French.
    name = "Marie Dubois"
    login(page, "aide3")
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    for code in ("nl", "en", "fr"):
        switch_language(page, code)
        expect(page).to_have_url(f"{live_server}/")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            translated(code, "Hello %(name)s") % {"name": name}
        )
        expect_nav_label(page, code, "Profile", "/profile")
        if code == "nl":
            # Really Dutch, not the English source text: the catalogue translates both.
            for msgid in ("Hello %(name)s", "Profile"):
                assert has_translation("nl", msgid), f"{msgid!r} missing from the nl catalogue"
                assert translated("nl", msgid) != msgid
            # Saved in the profile as well (the language form's select shows it).
            page.goto("/profile")
            expect(page.locator("select[name='lang-language']")).to_have_value("nl")
            expect(page.locator("html")).to_have_attribute("lang", "nl")
            page.goto("/")


def test_language_switch_on_the_login_page(page: Page, context: BrowserContext, live_server: str):
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    switch_language(page, "nl")
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.get_by_role("heading", level=1)).to_have_text(translated("nl", "Log in"))
    assert translated("nl", "Log in") != "Log in", "'Log in' missing from the nl catalogue"
    cookies = {cookie["name"]: cookie["value"] for cookie in context.cookies()}
    assert cookies.get("terrain_lang") == "nl"
    page.reload()  # remembered by the device
    expect(page.locator("html")).to_have_attribute("lang", "nl")

    switch_language(page, "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")

    switch_language(page, "fr")
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.get_by_role("heading", level=1)).to_have_text(translated("fr", "Log in"))


def test_profile_language_wins_over_the_device(page: Page, live_server: str):
    # aide2 has Dutch as profile language; the phone asks for French (fr-BE).
    login(page, "aide2")
    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        translated("nl", "Hello %(name)s") % {"name": "Sofie Claes"}
    )
