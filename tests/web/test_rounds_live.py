"""The crew's round page (/tournees/ma-tournee) and the coordinator's live page
(/tournees/suivi), issue 19: the crew sees its team's round of today with each stop,
taps without JavaScript apply once, nobody else opens the page or sees the round."""

from __future__ import annotations

import uuid
from datetime import time, timedelta

from sqlalchemy import func, select

from core import accounts, clock
from rounds import live, services
from rounds.live_models import StopReport
from rounds.models import Round, RoundStop, Stop
from tests.db.rounds_world import vehicle_data

PAGE = "/tournees/ma-tournee"


def _round_today(db) -> tuple[Round, RoundStop]:
    coord = accounts.find_user(db, "mobile-coord")
    today = live.today()
    vehicle = services.create_vehicle(db, coord, coord.team_id, vehicle_data(kind="minibus"))
    place = db.scalar(select(Stop).where(Stop.team_id == coord.team_id).limit(1))
    dated = services.create_round(
        db,
        coord,
        coord.team_id,
        {
            "vehicle_id": str(vehicle.id),
            "day": today.isoformat(),
            "kind": "minibus",
            "name": "Minibus du soir",
            "starts": "20:00",
            "ends": "21:30",
        },
    )
    stop = RoundStop(
        id=uuid.uuid4(),
        team_id=coord.team_id,
        round_id=dated.id,
        position=1,
        kind="public_stop",
        stop_id=place.id,
        topic="social",
        planned_arrival=time(20),
        planned_departure=time(21),
        status="planned",
        outcome="",
        reason="",
        version=1,
        changed_at=clock.now(),
        updated_at=clock.now(),
    )
    db.add(stop)
    db.commit()
    return dated, stop


def test_the_crew_sees_its_round_and_a_tap_applies_once(browser, db):
    dated, stop = _round_today(db)
    browser.login("mobile1")
    page = browser.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-round="{dated.id}"' in html and f'data-stop="{stop.id}"' in html
    assert 'data-offline-op="rounds.stop.arrive"' in html
    changes = browser.client.get("/api/sync").get_json()["changes"]
    assert [c["id"] for c in changes if c["type"] == "rounds.round"].count(str(dated.id)) == 1
    form = {
        "op_id": str(uuid.uuid4()),
        "id": str(live.report_id_for("stop", stop.id)),
        "round_stop_id": str(stop.id),
        "at": "",
    }
    first = browser.post(f"{PAGE}/arrive", form)
    second = browser.post(f"{PAGE}/arrive", form)  # a double tap
    assert first.status_code == second.status_code == 302
    assert "refused" not in first.headers["Location"]
    count = select(func.count()).select_from(StopReport).where(StopReport.round_stop_id == stop.id)
    assert db.scalar(count) == 1
    assert "data-arrived" in browser.get(PAGE).get_data(as_text=True)
    assert browser.post(f"{PAGE}/nonsense", form).status_code == 404
    bad = browser.post(f"{PAGE}/leave", {**form, "op_id": str(uuid.uuid4()), "outcome": "x"})
    assert "refused" in bad.headers["Location"]


def test_the_coordinator_follows_the_round_live(browser, db):
    dated, stop = _round_today(db)
    browser.login("mobile-coord")
    page = browser.get("/tournees/suivi")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-round="{dated.id}"' in html and f'data-stop="{stop.id}"' in html
    assert browser.get(PAGE).status_code in (403, 404)


def test_nobody_else_opens_the_pages_nor_sees_the_round(browser, db):
    dated, _stop = _round_today(db)
    for username in ("coordination", "aide1", "rue1", "admin"):
        browser.login(username)
        assert browser.get(PAGE).status_code in (403, 404)
        assert browser.get("/tournees/suivi").status_code in (403, 404)
        changes = browser.client.get("/api/sync").get_json().get("changes", [])
        assert str(dated.id) not in {c["id"] for c in changes}
        browser.post("/logout")
    assert dated.day - live.today() == timedelta(0)


def test_the_coordinator_sets_the_lateness_minutes(browser, db):
    browser.login("mobile-coord")
    page = browser.get("/tournees/suivi")
    assert 'name="late_minutes"' in page.get_data(as_text=True)
    saved = browser.post("/tournees/suivi", {"late_minutes": "20"})
    assert saved.status_code == 302
    coord = accounts.find_user(db, "mobile-coord")
    assert live.late_minutes(db, coord.team_id) == 20
    refused = browser.post("/tournees/suivi", {"late_minutes": "500"})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.get_data(as_text=True)
    assert live.late_minutes(db, coord.team_id) == 20
