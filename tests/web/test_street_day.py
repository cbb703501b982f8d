"""Issue 16, street educator: numbers and durations as people write them, the offline
page that leads on, the header's words, distinct icons for People and Profile."""

from __future__ import annotations

from flask_babel import force_locale

from tests.support import text_of
from web.nav import NAV
from web.offline import texts
from web.outreach.encounters import duration_text, km_text


def test_durations_in_hours_and_minutes_and_french_kilometres(app):
    with app.test_request_context(), force_locale("fr"):
        assert duration_text(3) == "3 min"  # was "0.05"
        assert duration_text(65) == "1 h 05"
        assert duration_text(120.4) == "2 h 00"
        assert km_text(1.3) == "1,3 km"
        assert km_text(None) == ""
    with app.test_request_context(), force_locale("nl"):
        assert km_text(7.5) == "7,5 km"
    with app.test_request_context(), force_locale("en"):
        assert km_text(7.5) == "7.5 km"


def test_the_offline_page_names_every_kept_page_and_counts_the_outbox(browser):
    browser.login("rue1")
    page = text_of(browser.get("/offline"))
    assert "data-offline-home" in page and 'id="terrain-offline-page"' in page
    for path in (
        "/outreach/",
        "/outreach/encounters/new",
        "/outreach/maraude",
        "/outreach/places/",
        "/sync",
    ):
        assert f'data-offline-entry="{path}"' in page
    assert "Karim" not in page  # the same page for whoever uses the phone


def test_the_header_words_are_translated(app):
    with app.test_request_context(), force_locale("fr"):
        sentences = texts()
        assert (sentences["state_offline"], sentences["pending_many"]) == (
            "Hors ligne",
            "{n} en attente",
        )
        assert f"{sentences['state_online']} · {sentences['all_sent_short']}" == (
            "En ligne · tout est envoyé"
        )


def test_people_and_profile_have_distinct_icons():
    icons = {str(entry.endpoint): entry.icon for entry in NAV}
    assert icons["outreach_files.people"] != icons["auth.profile"]
