"""The aide's day page (/aide-a-domicile/ma-journee, issue 18): an aide sees her own
visits of today and the next 2 days with address link, entry and tasks; nobody else
opens it; another aide's visit is not on it."""

from __future__ import annotations

import uuid
from datetime import time, timedelta

from sqlalchemy import func, select

from core import accounts, clock, sync
from homecare.calendar import local_moment
from homecare.models import Beneficiary, Visit, VisitReport

DAY = "/aide-a-domicile/ma-journee"


def _give(db, username: str) -> Visit:
    """A demo visit moved to tomorrow 10:00 and handed to `username`."""
    tomorrow = clock.to_local(clock.now()).date() + timedelta(days=1)
    visit = db.scalars(select(Visit).order_by(Visit.day.desc(), Visit.id)).first()
    assert visit is not None
    aide = accounts.find_user(db, username)
    visit.status, visit.actual_start, visit.actual_end = "planned", None, None
    visit.aide_id, visit.day = aide.id, tomorrow
    visit.earliest_start = visit.latest_start = local_moment(tomorrow, time(10))
    visit.planned_start = visit.earliest_start
    sync.stamp(db, visit, sync.team_scope(visit.team_id), aide, None)
    household = db.get(Beneficiary, visit.beneficiary_id)
    assert household is not None
    household.entry_instructions = "Clé dans la boîte à code 1234"
    db.commit()
    return visit


def test_an_aide_sees_her_visits_with_what_she_needs_at_the_door(browser, db):
    visit = _give(db, "aide1")
    household = db.get(Beneficiary, visit.beneficiary_id)
    browser.login("aide1")
    page = browser.client.get(DAY)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-visit="{visit.id}"' in html
    assert household is not None and household.name in html
    assert "geo:" in html and "Clé dans la boîte à code 1234" in html
    # In her feed too, once.
    changes = browser.client.get("/api/sync").get_json()["changes"]
    assert [c["id"] for c in changes if c["type"] == "homecare.visit"].count(str(visit.id)) == 1


def test_another_aide_does_not_see_it_and_other_roles_cannot_open_the_page(browser, db):
    visit = _give(db, "aide1")
    browser.login("aide2")
    page = browser.client.get(DAY)
    assert page.status_code == 200
    assert str(visit.id) not in page.get_data(as_text=True)
    changes = browser.client.get("/api/sync").get_json()["changes"]
    assert str(visit.id) not in {c["id"] for c in changes}
    for username in ("coordination", "rue1"):
        browser.post("/logout")
        browser.login(username)
        assert browser.client.get(DAY).status_code in (403, 404)


def test_arriving_without_javascript_applies_once_and_an_unknown_visit_is_refused(browser, db):
    visit = _give(db, "aide1")
    report_id = str(uuid.uuid4())
    form = {"op_id": str(uuid.uuid4()), "id": report_id, "visit_id": str(visit.id), "at": ""}
    browser.login("aide2")
    unknown = {"op_id": str(uuid.uuid4()), "id": str(uuid.uuid4()), "visit_id": str(uuid.uuid4())}
    refused = browser.post(f"{DAY}/checkin", {**form, **unknown})
    assert refused.status_code == 302 and "refused" in refused.headers["Location"]
    browser.post("/logout")
    browser.login("aide1")
    page = browser.get(DAY).get_data(as_text=True)
    assert 'data-offline-op="homecare.visit.checkin"' in page
    first = browser.post(f"{DAY}/checkin", form)
    second = browser.post(f"{DAY}/checkin", form)  # a double tap
    assert first.status_code == second.status_code == 302
    assert "refused" not in first.headers["Location"]
    count = select(func.count()).select_from(VisitReport).where(VisitReport.visit_id == visit.id)
    assert db.scalar(count) == 1
    assert "data-arrived" in browser.get(DAY).get_data(as_text=True)
    assert browser.post(f"{DAY}/nonsense", form).status_code == 404
