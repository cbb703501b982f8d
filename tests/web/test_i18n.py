"""Languages: profile, else the switcher's cookie, else Accept-Language; French by default."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from core import accounts, clock

LOGIN_TITLE = {"fr": "Se connecter", "nl": "Aanmelden", "en": "Log in"}


def _lang(response) -> str:
    return re.search(r'<html lang="([a-z]+)"', response.get_data(as_text=True)).group(1)


def test_french_by_default(client):
    response = client.get("/login")
    assert _lang(response) == "fr"
    assert LOGIN_TITLE["fr"] in response.get_data(as_text=True)


def test_accept_language_is_followed(client):
    response = client.get("/login", headers={"Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5"})
    assert _lang(response) == "nl"
    assert LOGIN_TITLE["nl"] in response.get_data(as_text=True)
    response = client.get("/login", headers={"Accept-Language": "de-DE,en;q=0.5"})
    assert _lang(response) == "en"


def test_switcher_cookie_beats_accept_language(browser):
    browser.get("/login")
    response = browser.post("/language", {"language": "en", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = browser.client.get("/login", headers={"Accept-Language": "nl"})
    assert _lang(page) == "en" and LOGIN_TITLE["en"] in page.get_data(as_text=True)


def test_switcher_ignores_unknown_languages_and_foreign_redirects(browser):
    browser.get("/login")
    response = browser.post("/language", {"language": "xx", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"
    assert browser.client.get_cookie("terrain_lang") is None


def test_profile_language_wins_and_the_switcher_saves_it(browser, db):
    browser.login("aide2")  # her profile says Dutch
    assert _lang(browser.get("/")) == "nl"
    browser.post("/language", {"language": "fr", "next": "/"})
    db.expire_all()
    assert accounts.find_user(db, "aide2").language == "fr"
    page = browser.client.get("/", headers={"Accept-Language": "nl"})
    assert _lang(page) == "fr"


def test_profile_language_can_be_left_to_the_device(browser, db):
    browser.login("aide6")
    response = browser.post("/profile", {"lang-language": ""})
    assert response.status_code == 302
    db.expire_all()
    assert accounts.find_user(db, "aide6").language is None
    browser.client.set_cookie("terrain_lang", "en")
    assert _lang(browser.client.get("/")) == "en"


def test_bad_language_in_profile_changes_nothing(browser, db):
    browser.login("aide6")
    response = browser.post("/profile", {"lang-language": "klingon"})
    assert response.status_code == 422
    db.expire_all()
    assert accounts.find_user(db, "aide6").language == "nl"


def test_dates_are_shown_in_brussels_time_in_the_locale_format(browser):
    browser.login("coordination")  # French profile
    with clock.frozen(datetime(2026, 7, 14, 22, 30, tzinfo=UTC)):
        page = browser.get("/").get_data(as_text=True)
    # 22:30 UTC is already Wednesday 15 July in Brussels (UTC+2 in summer).
    assert "mercredi 15 juillet 2026" in page
    browser.post("/language", {"language": "nl", "next": "/"})
    with clock.frozen(datetime(2026, 7, 14, 22, 30, tzinfo=UTC)):
        page = browser.get("/").get_data(as_text=True)
    assert "woensdag 15 juli 2026" in page


def test_error_pages_speak_the_users_language(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "nl"})
    assert response.status_code == 404
    assert _lang(response) == "nl"
    assert "Pagina niet gevonden" in response.get_data(as_text=True)
