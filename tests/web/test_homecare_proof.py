"""The proof of visits in the pages (issue 18): the household's printable card (QR
drawn on the server, a new card replacing the old), the per-service proof form, and
the camera allowed on "Ma journée" only."""

from __future__ import annotations

from sqlalchemy import select

from core import accounts
from homecare.models import Beneficiary, ProofCard, ProofRule

DAY = "/aide-a-domicile/ma-journee"


def _household(db) -> Beneficiary:
    coordinator = accounts.find_user(db, "coordination")
    household = db.scalars(
        select(Beneficiary)
        .where(Beneficiary.team_id == coordinator.team_id)
        .order_by(Beneficiary.id)
    ).first()
    assert household is not None
    return household


def test_the_camera_is_allowed_on_my_day_only(login):
    aide = login("aide1")
    day = aide.get(DAY)
    assert day.status_code == 200
    assert day.headers["Permissions-Policy"] == "camera=(self), microphone=(), geolocation=(self)"
    assert day.headers["X-Terrain-Offline"] == "page"  # kept by the service worker
    home = aide.get("/")
    assert home.headers["Permissions-Policy"] == "camera=(), microphone=(), geolocation=(self)"
    coordinator = login("coordination")
    assert "camera=()" in coordinator.get("/aide-a-domicile/preuves").headers["Permissions-Policy"]


def test_the_coordinator_prints_a_card_and_a_new_one_replaces_it(login, db):
    household = _household(db)
    url = f"/aide-a-domicile/beneficiaires/{household.id}/carte"
    browser = login("coordination")
    empty = browser.get(url)
    assert empty.status_code == 200 and "data-proof-qr" not in empty.get_data(as_text=True)
    assert browser.post(url).status_code == 302
    first = db.scalar(select(ProofCard).where(ProofCard.beneficiary_id == household.id))
    assert first is not None
    page = browser.get(url).get_data(as_text=True)
    assert "<svg" in page and first.code in page and "data-print" in page
    browser.post(url)
    db.expire_all()
    cards = list(db.scalars(select(ProofCard).where(ProofCard.beneficiary_id == household.id)))
    assert len(cards) == 2
    current = [card for card in cards if card.replaced_at is None]
    assert len(current) == 1 and current[0].code != first.code
    assert first.code not in browser.get(url).get_data(as_text=True)


def test_nobody_else_sees_or_makes_a_households_card(login, db):
    household = _household(db)
    url = f"/aide-a-domicile/beneficiaires/{household.id}/carte"
    for username in ("aide1", "rue1", "as4", "mobile-coord", "admin"):
        browser = login(username)
        assert browser.get(url).status_code in (403, 404), username
        assert browser.post(url).status_code in (403, 404), username
    assert db.scalar(select(ProofCard).where(ProofCard.beneficiary_id == household.id)) is None


def test_the_proof_form_saves_a_rule_and_explains_a_bad_one(login, db):
    browser = login("coordination")
    page = browser.get("/aide-a-domicile/preuves")
    assert page.status_code == 200
    bad = browser.post(
        "/aide-a-domicile/preuves", {"service": "family_aide", "mode": "gps", "radius_m": "5"}
    )
    assert bad.status_code == 422
    assert "Must be between 20 and 2000." in bad.get_data(as_text=True)
    words = browser.post(
        "/aide-a-domicile/preuves", {"service": "family_aide", "mode": "gps", "radius_m": "abc"}
    )
    assert words.status_code == 422
    good = browser.post(
        "/aide-a-domicile/preuves", {"service": "family_aide", "mode": "gps", "radius_m": "200"}
    )
    assert good.status_code == 302
    team = accounts.find_user(db, "coordination").team_id
    rule = db.get(ProofRule, (team, "family_aide"))
    assert rule is not None and (rule.mode, rule.radius_m) == ("gps", 200)
    for username in ("aide1", "mobile-coord", "admin"):
        assert login(username).get("/aide-a-domicile/preuves").status_code in (403, 404)
