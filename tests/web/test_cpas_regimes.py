"""The CPAS's language regime through the pages: a French-only CPAS (Charleroi) names a
service and sends a broadcast in French only; a bilingual one (Brussels) cannot."""

from __future__ import annotations

from sqlalchemy import func, select

from appointments.models import Service
from core import accounts
from core.roles import Role
from notifications import contacts
from notifications.models import Broadcast
from tests.support import staff_member, text_of
from tests.web.appointment_settings import BASE, service_form
from tests.web.broadcast_form import form


def _audience(db, team_code: str) -> int:
    team = accounts.get_team(db, team_code)
    for n, language in enumerate(("fr", None)):
        contact = contacts.create_contact(
            db,
            actor=None,
            display_name=f"Regime {n}",
            language=language,
            phones=(f"0470 97 66 0{n}",),
            team_ids=[team.id],
        )
        contacts.set_consent(
            db, contact, category="service_change", granted=True, method="form", actor=None
        )
    db.flush()
    return team.id


def test_a_walloon_cpas_names_a_service_in_french_only(login, db):
    staff_member(db, "coord-clr", Role.COORDINATOR, "clr-mobile")
    browser = login("coord-clr")
    page = browser.get(f"{BASE}/services/nouveau").get_data(as_text=True)
    assert 'name="name_fr" type="text" value="" required' in page
    assert 'name="name_nl" type="text" value="" required' not in page
    response = browser.post(f"{BASE}/services/nouveau", service_form(code="clr-fr", name_nl=""))
    assert response.status_code == 302
    service = db.scalar(select(Service).where(Service.code == "clr-fr"))
    assert service.name_nl == service.name_fr


def test_a_brussels_cpas_cannot_name_a_service_without_dutch(login, db):
    browser = login("coordination")
    response = browser.post(f"{BASE}/services/nouveau", service_form(code="bxl-fr", name_nl=""))
    assert response.status_code == 422
    assert 'id="name_nl-error"' in text_of(response)
    assert db.scalar(select(Service.id).where(Service.code == "bxl-fr")) is None


def test_a_walloon_cpas_sends_a_broadcast_in_french_only(login, db):
    team_id = _audience(db, "clr-dampremy")
    staff_member(db, "coord-clr2", Role.COORDINATOR, "clr-mobile")
    browser = login("coord-clr2")
    before = db.scalar(select(func.count()).select_from(Broadcast))
    sent = browser.post("/sms/broadcasts/new", form(team_id, body_nl="", action="send"))
    assert sent.status_code == 302, text_of(sent)
    assert db.scalar(select(func.count()).select_from(Broadcast)) == before + 1


def test_a_brussels_cpas_cannot_send_a_broadcast_without_dutch(login, db):
    team_id = _audience(db, "bxl-marolles")
    browser = login("coordination")
    before = db.scalar(select(func.count()).select_from(Broadcast))
    refused = browser.post("/sms/broadcasts/new", form(team_id, body_nl="", action="send"))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="body_nl-error"' in page and "This is needed." in page
    assert db.scalar(select(func.count()).select_from(Broadcast)) == before
