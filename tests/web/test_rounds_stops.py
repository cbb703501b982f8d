"""A minibus stop on the staff's side (issue 19): the page that links a stop to its
appointments place (the mobile team's coordinator or her CPAS's administrator; anybody
else hears 404, or 403 without the permission), the stop's subscriber count (never the
numbers), the confirmation SMS after subscribing, the ETA on a dated round's page and
the live page's own polling fragment.

"Now" is Thursday 8 May 2031, 08:00 in Brussels (tests/web/rounds_public_world.py)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from appointments.models import Location
from core import audit
from core.roles import Role
from notifications.models import Message
from tests.support import cpas_admin, staff_member, text_of
from tests.web.rounds_public_world import (
    NUMBER,
    coord,
    en,
    frozen,
    local,
    running,
    stop,
    subscribe,
    today_round,
)

__all__ = ["coord", "en", "frozen", "stop"]  # the fixtures, from rounds_public_world


def _place(db, team_id: int, code: str = "test-minibus-monceau") -> Location:
    location = Location(
        code=code,
        name="Minibus : arrêt Monceau",
        kind="mobile_stop",
        team_id=team_id,
        postcode="6031",
        city="Monceau-sur-Sambre",
    )
    db.add(location)
    db.commit()
    return location


def browser_of(login):
    """A client of the same application that nobody logged in to."""
    signed_in = login("mobile-coord")
    return signed_in.client.application.test_client()


def test_the_coordinator_links_and_unlinks_a_stop(login, db, stop, coord):
    location = _place(db, coord.team_id)
    browser = login("mobile-coord")
    page = text_of(browser.get("/tournees/lieux"))
    assert "Monceau, église" in page and "Minibus : arrêt Monceau" in page
    # Another team's place is never offered, nor an antenne.
    antenne = db.scalar(select(Location).where(Location.kind == "antenne"))
    assert antenne.name not in page
    refused = browser.post(
        "/tournees/lieux/lier", {"stop_id": str(stop.id), "location": antenne.code}
    )
    assert refused.status_code == 422 and "Choose from the list." in text_of(refused)
    empty = browser.post("/tournees/lieux/lier", {"stop_id": str(stop.id), "location": ""})
    assert empty.status_code == 422
    db.refresh(stop)
    assert stop.location_id is None
    done = browser.post(
        "/tournees/lieux/lier", {"stop_id": str(stop.id), "location": location.code}
    )
    assert done.status_code == 302
    db.refresh(stop)
    assert stop.location_id == location.id
    db.refresh(location)
    assert location.opening_hours  # its hours are the stop's permanences now
    page = text_of(browser.get("/tournees/lieux"))
    assert "Appointments place: Minibus : arrêt Monceau" in page
    assert "This stop is an appointments place." in text_of(
        browser.get(f"/tournees/arrets/{stop.id}")
    )
    assert browser.post("/tournees/lieux/delier", {"stop_id": str(stop.id)}).status_code == 302
    db.refresh(stop)
    assert stop.location_id is None
    changes = db.scalars(
        select(audit.AuditEntry).where(
            audit.AuditEntry.entity_type == "rounds_stop",
            audit.AuditEntry.entity_id == str(stop.id),
        )
    ).all()
    assert sum("location_id" in str(entry.details) for entry in changes) >= 2


def test_the_cpas_admin_links_and_outsiders_hear_404(login, db, stop, coord):
    location = _place(db, coord.team_id)
    cpas_admin(db, "clr-dampremy", "admin-clr")
    admin = login("admin-clr")
    assert "Monceau, église" in text_of(admin.get("/tournees/lieux"))
    form = {"stop_id": str(stop.id), "location": location.code}
    assert admin.post("/tournees/lieux/lier", form).status_code == 302
    db.refresh(stop)
    assert stop.location_id == location.id
    cpas_admin(db)  # Brussels
    staff_member(db, "coord-dampremy", Role.COORDINATOR, "clr-dampremy", "Coordination Dampremy")
    for username in ("admin-bxl", "coordination", "coord-dampremy", "admin"):
        outsider = login(username)
        page = outsider.get("/tournees/lieux")
        assert page.status_code == 404, username
        assert "Monceau" not in text_of(page)
        for path in ("/tournees/lieux/delier", "/tournees/lieux/lier"):
            assert outsider.post(path, form).status_code == 404, (username, path)
        unknown = outsider.post("/tournees/lieux/delier", {"stop_id": str(uuid.uuid4())})
        assert unknown.status_code == 404
    anonymous = browser_of(login)
    assert anonymous.get("/tournees/lieux").status_code == 302  # to the login page
    assert "Monceau" not in text_of(anonymous.get("/tournees/lieux", follow_redirects=True))
    for username in ("mobile1", "as3", "accueil"):  # without the permission
        assert login(username).get("/tournees/lieux").status_code == 403, username
        assert login(username).post("/tournees/lieux/delier", form).status_code == 403
    db.refresh(stop)
    assert stop.location_id == location.id


def test_the_stop_page_counts_its_subscribers_and_the_sms_confirms(login, en, db, stop, frozen):
    done = subscribe(en, db, stop.public_slug)
    assert done.status_code == 302
    (subscription,) = running(db, stop)
    (message,) = db.scalars(select(Message).where(Message.key.like("rounds:subscribed:%")))
    assert message.key == f"rounds:subscribed:{subscription.id}"
    assert message.to == NUMBER and message.language == "fr"
    assert message.body == (
        "CPAS: vous recevrez un SMS si le minibus est en retard ou ne passe pas à "
        "Monceau, église. Répondez STOP pour arrêter."
    )
    # Again (another day): the same subscription, no second confirmation.
    frozen.advance(days=1)
    subscribe(en, db, stop.public_slug)
    assert (
        len(db.scalars(select(Message).where(Message.key.like("rounds:subscribed:%"))).all()) == 1
    )
    # In Dutch for a Dutch subscriber.
    path = f"/arret/{stop.public_slug}/sms"
    en.get(path)
    assert en.post(path, {"phone": "+32470445566", "sms_language": "nl"}).status_code == 302
    from tests.web.rounds_public_world import last_code

    assert en.post(f"/arret/{stop.public_slug}/code", {"code": last_code(db)}).status_code == 302
    dutch = db.scalar(
        select(Message).where(Message.key.like("rounds:subscribed:%"), Message.to == "+32470445566")
    )
    assert dutch.body.startswith("OCMW: u krijgt een sms") and "STOP" in dutch.body
    page = text_of(login("mobile-coord").get(f"/tournees/arrets/{stop.id}"))
    assert "2 people follow this stop by SMS." in page
    assert "0470" not in page and "470445566" not in page and "112233" not in page
    # Public pages say nothing of it.
    public = text_of(en.get(f"/arret/{stop.public_slug}"))
    assert "follow this stop" not in public and "112233" not in public
    openapi = text_of(en.get("/api/openapi.json"))
    assert "rounds_stop_subscribed" not in openapi and "112233" not in openapi


def test_the_round_page_shows_each_stop_s_eta(login, db, stop, frozen):
    rnd, stops = today_round(db, stop)
    rnd.status, rnd.started_at = "started", local(8, 55)
    first, _second = stops
    first.status, first.arrived_at, first.left_at = "left", local(9, 5), local(10, 45)
    db.commit()
    frozen.advance(hours=2, minutes=50)  # 10:50
    browser = login("mobile-coord")
    page = text_of(browser.get(f"/tournees/dates/{rnd.id}"))
    assert "expected at 11:15" in page and "(15 min late)" in page
    # The live page's polling gets its fragment only.
    full = text_of(browser.get("/tournees/suivi"))
    assert "data-rounds-live" in full and "<html" in full
    fragment = browser.client.get("/tournees/suivi", headers={"HX-Request": "true"})
    body = text_of(fragment)
    assert fragment.status_code == 200 and "<html" not in body
    assert 'id="rounds-live"' in body
    assert "11:15" in body and "+15 min" in body
    # Another team's coordinator hears 404.
    assert login("coordination").get(f"/tournees/dates/{rnd.id}").status_code == 404
