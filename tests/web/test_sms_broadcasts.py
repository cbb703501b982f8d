"""Broadcast pages and the SMS report through HTTP: compose, preview, send, follow."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from notifications import broadcasts
from notifications.models import Broadcast, Message
from tests.db.broadcasts_world import mixed_audience
from tests.web.broadcast_form import form


def count(db: Session, model) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_a_coordinator_previews_sends_and_follows_a_broadcast(browser, db, sessions):
    team, _people = mixed_audience(db)
    db.commit()
    browser.login("coordination")
    assert browser.get("/sms/broadcasts").status_code == 200
    page = browser.get("/sms/broadcasts/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="team_id"' in html and f'value="{team.id}"' in html
    assert 'hx-post="/sms/broadcasts/count"' in html

    preview = browser.post("/sms/broadcasts/new", form(team.id))
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert 'id="preview"' in html
    assert re.search(r'value="send">[^<]*\b4\b', html), "the send button names 4 people"
    assert "<li>2 · " in html  # two without consent
    assert html.count("<li>1 · ") == 4  # withdrawn, landline, opted out, invalid number
    assert count(db, Broadcast) == 0

    sent = browser.post("/sms/broadcasts/new", form(team.id, action="send"))
    assert sent.status_code == 302
    created = db.scalars(select(Broadcast)).one()
    assert sent.headers["Location"] == f"/sms/broadcasts/{created.id}"
    assert (
        db.scalar(
            select(func.count()).select_from(Message).where(Message.broadcast_id == created.id)
        )
        == 0
    )

    page = browser.get(f"/sms/broadcasts/{created.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<progress" in html and 'hx-trigger="every 2s"' in html

    broadcasts.expand_pending(sessions)
    fragment = browser.get(f"/sms/broadcasts/{created.id}/progress", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and 'hx-trigger="every 2s"' in text
    assert 'value="0"' in text  # nothing sent yet

    # Everything delivered: the fragment stops polling.
    db.execute(
        Message.__table__.update()
        .where(Message.broadcast_id == created.id, Message.status == "pending")
        .values(status="delivered", provider_id=None)
    )
    db.commit()
    text = browser.get(
        f"/sms/broadcasts/{created.id}/progress", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "hx-trigger" not in text and 'value="100"' in text

    result = browser.get(f"/sms/broadcasts/{created.id}?status=not_sent")
    html = result.get_data(as_text=True)
    assert "Gilles" in html and "Alice" not in html
    assert "Alice" in browser.get(f"/sms/broadcasts/{created.id}?status=delivered").get_data(
        as_text=True
    )
    assert browser.get("/sms/broadcasts").status_code == 200


def test_too_long_text_is_refused_with_the_error_next_to_it(browser, db):
    team, _people = mixed_audience(db)
    db.commit()
    browser.login("coordination")
    for action in ("preview", "send"):
        response = browser.post(
            "/sms/broadcasts/new", form(team.id, body_nl="Lange tekst. " * 40, action=action)
        )
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert 'id="body_nl-error"' in html and 'aria-invalid="true"' in html
        assert 'value="send"' not in html
    placeholder = browser.post("/sms/broadcasts/new", form(team.id, body_fr="Bonjour {name}"))
    assert 'id="body_fr-error"' in placeholder.get_data(as_text=True)
    assert count(db, Broadcast) == 0


def test_urgent_is_only_for_service_changes(browser, db):
    team, _people = mixed_audience(db)
    db.commit()
    browser.login("coordination")
    response = browser.post(
        "/sms/broadcasts/new", form(team.id, category="information", urgent="1", action="send")
    )
    assert response.status_code == 422
    assert 'id="urgent-error"' in response.get_data(as_text=True)
    assert count(db, Broadcast) == 0


def test_the_audience_select_swaps_its_filters(browser, db):
    browser.login("coordination")
    html = browser.get(
        "/sms/broadcasts/new?audience=team_staff", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'id="audience-params"' in html and 'value="all"' in html
    everyone = browser.get("/sms/broadcasts/new?audience=all_contacts").get_data(as_text=True)
    assert 'name="team_id"' not in everyone


def test_the_live_counter_counts_the_text_it_is_under(browser):
    browser.login("coordination")
    response = browser.post(
        "/sms/broadcasts/count", {"lang": "nl", "body_nl": "ê" * 80, "body_fr": "court"}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-segments="2"' in html and 'data-encoding="UCS-2"' in html


@pytest.mark.parametrize("username", ["accueil", "aide1", "as1"])
def test_other_roles_may_not_broadcast(browser, db, username):
    team, _people = mixed_audience(db)
    db.commit()
    browser.login(username)
    assert browser.get("/sms/broadcasts").status_code == 403
    assert browser.get("/sms/broadcasts/new").status_code == 403
    assert browser.post("/sms/broadcasts/new", form(team.id, action="send")).status_code == 403
    assert browser.get("/sms/report").status_code == 403
    assert count(db, Broadcast) == 0


def test_cancel_from_the_page(browser, db):
    team, _people = mixed_audience(db)
    db.commit()
    browser.login("coordination")
    browser.post("/sms/broadcasts/new", form(team.id, action="send"))
    created = db.scalars(select(Broadcast)).one()
    response = browser.post(f"/sms/broadcasts/{created.id}/cancel")
    assert response.status_code == 302
    db.refresh(created)
    assert created.status == "cancelled"
    again = browser.post(f"/sms/broadcasts/{created.id}/cancel", follow_redirects=True)
    assert again.status_code == 200
    assert browser.get("/sms/broadcasts/999999").status_code == 404


def test_the_report_page_and_its_csv(browser, db, monkeypatch):
    from notifications import reports

    monkeypatch.setattr(reports, "_ATTENDANCE_SOURCES", [])  # the "no data yet" shape
    browser.login("coordination")
    page = browser.get("/sms/report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<table" in html and 'id="attendance-title"' in html
    assert browser.get("/sms/report?month=2025-03").status_code == 200
    assert browser.get("/sms/report?month=march").status_code == 422
    response = browser.get("/sms/report.csv?month=2025-03")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows[0]) == 12
    assert len(rows) == 1 + 4 + 1 + 1 + 1  # header, 4 kinds, total, blank, attendance
    assert rows[5][1:8] == ["0"] * 7


def test_the_report_shows_attendance_once_appointments_report_it(browser):
    from notifications import reports

    def source(session, start, end, viewer):
        return [("test-appointment:1", True), ("test-appointment:2", False)]

    reports.register_attendance_source(source)
    try:
        browser.login("coordination")
        html = browser.get("/sms/report").get_data(as_text=True)
        csv_text = browser.get("/sms/report.csv").get_data(as_text=True)
    finally:
        reports.unregister_attendance_source(source)
    assert 'id="attendance-caption"' in html
    assert "50" in html.split('id="attendance-caption"')[1]  # 1 of 2 attended, no reminder
    assert csv_text.rstrip().splitlines()[-1].endswith(",2,2,1,0.500")


# --- Issue 16: preview in place, quiet hours in words, "Use this text", names -------------


def test_the_preview_comes_in_place_with_the_focus_and_the_names_left_out(browser, db):
    team, _people = mixed_audience(db)
    db.commit()
    browser.login("coordination")
    html = browser.get("/sms/broadcasts/new").get_data(as_text=True)
    # The preview button answers in place (htmx), not with a page loaded at the top.
    assert 'hx-target="#broadcast-form"' in html and 'hx-select="#broadcast-form"' in html
    response = browser.post("/sms/broadcasts/new", form(team.id), headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'<section class="card" id="preview"[^>]*tabindex="-1" autofocus', html)
    names = html.split('class="sms-excluded-list"')[1].split("</ul>")[0]
    for name in ("Eli", "Gilles", "Ilse", "Jules"):
        assert name in names
    # Alice gets it; Fatou withdrew her consent and Hanne sent STOP: counted, never
    # listed with a number to phone.
    for name in ("Alice", "Fatou", "Hanne"):
        assert name not in names
    shown = db.scalars(
        select(AuditEntry.details).where(
            AuditEntry.entity_type == "sms_broadcast", AuditEntry.entity_id == "preview"
        )
    ).all()
    assert len(shown[-1]["contact_ids"]) == 4
    assert 'href="tel:+3225123456"' in names  # the landline, to phone instead


def test_use_this_text_on_the_broadcast_form_keeps_the_spelling(browser, db):
    team, _people = mixed_audience(db)
    db.commit()
    browser.login("coordination")
    body = "Votre rendez-vous au CPAS est fixé au vendredi 14 mars à 9h30. Merci d’être à l’heure."
    counter = browser.post("/sms/broadcasts/count", {"lang": "fr", "body_fr": body})
    html = counter.get_data(as_text=True)
    assert "9h30. Merci de venir à l&#39;heure." in html and 'name="use_suggestion"' in html
    response = browser.post(
        "/sms/broadcasts/new", form(team.id, body_fr=body, action="", use_suggestion="fr")
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and count(db, Broadcast) == 0
    assert re.search(
        r'name="body_fr"[^>]*autofocus[^>]*>Votre[^<]*Merci de venir à l&#39;heure\.<', html
    )
    # A word with no rewording known: no misspelt text, the word to reword instead.
    html = browser.post("/sms/broadcasts/count", {"lang": "fr", "body_fr": body + " Votre reçu"})
    html = html.get_data(as_text=True)
    assert "reçu" in html and "recu" not in html and 'name="use_suggestion"' not in html
    assert "être" not in html.split("reçu")[1]  # "d'être" has its rewording; "reçu" none


def test_a_broadcast_sent_in_quiet_hours_says_when_it_leaves(browser, db):
    from datetime import datetime

    from core import clock

    team, _people = mixed_audience(db)
    db.commit()
    browser.login("coordination")
    with clock.frozen(datetime(2026, 12, 1, 21, 30, tzinfo=clock.BRUSSELS)):
        sent = browser.post("/sms/broadcasts/new", form(team.id, action="send"))
        page = browser.get(sent.headers["Location"]).get_data(as_text=True)
    progress = page.split('id="broadcast-progress"')[1].split("</section>")[0]
    waiting = re.search(r'<p class="status" data-kind="warn">([^<]*)</p>', progress)
    assert waiting and "08:00" in waiting.group(1)
    assert "08:00" in page.split("flash-success")[1].split("</")[0]  # the flash says it too
    with clock.frozen(datetime(2026, 12, 2, 9, 0, tzinfo=clock.BRUSSELS)):
        page = browser.get(sent.headers["Location"]).get_data(as_text=True)
    progress = page.split('id="broadcast-progress"')[1].split("</section>")[0]
    assert 'data-kind="warn"' not in progress


def test_a_dutch_coordinator_chooses_teams_by_their_dutch_names(browser, db):
    from core import accounts

    user = accounts.find_user(db, "coordination")
    user.language = "nl"
    db.commit()
    browser.login("coordination")
    html = browser.get("/sms/broadcasts/new?audience=team_contacts").get_data(as_text=True)
    assert "Antenne Marollen" in html and "Dienst voor gezinshulp" in html
