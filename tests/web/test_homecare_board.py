"""The planning board's pages: the week renders, generate and optimise (the run job in
the test), a change by form with warnings and confirmation, a stale form answers 409,
an absence and its proposal, and who may see it (404 for another team, 403 by role)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import accounts, clock
from core.accounts import Team
from core.roles import Role
from homecare import generation, runs
from homecare.models import PlanningRun, Visit
from tests.support import planning_week, staff_member

# The optimiser stops after a few iterations (tests/conftest.py, capped_search).
pytestmark = pytest.mark.usefixtures("capped_search")

# The Thursday after the suite's clock and the Monday after it: the demo's home care is
# seeded at that clock (tests/support.py, --clock), its plans from 60 days before.
NOW, WEEK = planning_week(clock.now())
BOARD = f"/aide-a-domicile/planning?week={WEEK.isoformat()}"


@pytest.fixture()
def frozen():
    with clock.frozen(NOW) as traveller:
        yield traveller


@pytest.fixture()
def coord(db, frozen, login):
    return login("coordination")


def _visits(db, team_id: int) -> list[Visit]:
    return sorted(
        db.scalars(
            select(Visit).where(
                Visit.team_id == team_id,
                Visit.day >= WEEK,
                Visit.day < WEEK + timedelta(days=7),
                Visit.status == "planned",
            )
        ),
        key=lambda v: (v.earliest_start, str(v.id)),
    )


def _team(db) -> int:
    return accounts.find_user(db, "coordination").team_id


def _planned_week(db, coord, sessions) -> None:
    response = coord.post("/aide-a-domicile/planning/generate", {"week": WEEK.isoformat()})
    assert response.status_code == 302
    response = coord.post("/aide-a-domicile/planning/optimise", {"week": WEEK.isoformat()})
    assert response.status_code == 302
    run = db.scalar(select(PlanningRun).where(PlanningRun.week == WEEK))
    run.seconds = 1
    db.commit()
    assert runs.run_pending(sessions)["done"] == 1
    db.expire_all()


def test_the_board_renders_generates_and_optimises_with_progress(db, coord, sessions):
    page = coord.get(BOARD).get_data(as_text=True)
    assert "Home care planning" in page and "Generate the week" in page
    assert "Fatima El Amrani" not in page or "No visits for this week yet" in page
    coord.post("/aide-a-domicile/planning/generate", {"week": WEEK.isoformat()})
    page = coord.get(BOARD).get_data(as_text=True)
    assert "Fatima El Amrani" in page and "Optimise the week" in page
    coord.post("/aide-a-domicile/planning/optimise", {"week": WEEK.isoformat()})
    run = db.scalar(select(PlanningRun).where(PlanningRun.week == WEEK))
    page = coord.get(BOARD).get_data(as_text=True)
    assert "waiting for the planner" in page and 'hx-trigger="every 1s"' in page
    poll = f"/aide-a-domicile/planning/runs/{run.id}?poll=1"
    response = coord.get(poll, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "HX-Refresh" not in response.headers
    run.seconds = 1
    db.commit()
    runs.run_pending(sessions)
    response = coord.get(poll, headers={"HX-Request": "true"})
    assert response.headers.get("HX-Refresh") == "true"
    page = coord.get(BOARD).get_data(as_text=True)
    assert "Planned:" in page and 'hx-trigger="every 1s"' not in page
    assert 'draggable="true"' in page and "data-drop-aide" in page
    # Unassigned visits are listed with their reason in words.
    visits = _visits(db, _team(db))
    if any(v.aide_id is None for v in visits):
        assert "Unassigned visits" in page and "hc-visit-open" in page


def test_a_change_with_warnings_needs_confirmation(db, coord, sessions):
    _planned_week(db, coord, sessions)
    visit = next(v for v in _visits(db, _team(db)) if v.aide_id is not None)
    aide3 = accounts.find_user(db, "aide3")
    far = clock.to_local(visit.latest_start) + timedelta(hours=3)
    url = f"/aide-a-domicile/planning/visits/{visit.id}"
    # What a drop on aide3's day opens: the warnings at once.
    page = coord.get(
        f"{url}?aide={aide3.id}&day={far.date().isoformat()}&time={far:%H:%M}"
    ).get_data(as_text=True)
    assert "Check before saving" in page and "Outside the visit" in page
    form = {
        "aide_id": str(aide3.id),
        "day": far.date().isoformat(),
        "time": f"{far:%H:%M}",
        "version": str(visit.version),
    }
    page = coord.post(url, form).get_data(as_text=True)
    assert "Save anyway" in page
    db.expire_all()
    assert db.get(Visit, visit.id).aide_id != aide3.id
    response = coord.post(url, {**form, "confirmed": "1"})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Visit, visit.id).aide_id == aide3.id
    # The warnings fragment the form refreshes on change.
    fragment = coord.get(
        f"{url}/warnings?aide_id={aide3.id}&day={far.date().isoformat()}&time={far:%H:%M}",
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert 'id="hc-warnings"' in fragment


def test_a_stale_form_is_a_conflict_and_changes_nothing(db, coord, sessions):
    _planned_week(db, coord, sessions)
    visit = next(v for v in _visits(db, _team(db)) if v.aide_id is not None)
    start = clock.to_local(visit.planned_start)
    url = f"/aide-a-domicile/planning/visits/{visit.id}"
    form = {
        "aide_id": str(visit.aide_id),
        "day": start.date().isoformat(),
        "time": f"{start:%H:%M}",
        "version": str(visit.version),
        "confirmed": "1",
    }
    assert coord.post(url, form).status_code == 302
    db.expire_all()
    version = db.get(Visit, visit.id).version
    other = accounts.find_user(db, "aide2").id
    response = coord.post(url, {**form, "aide_id": str(other)})  # the old version
    assert response.status_code == 409
    assert "Somebody else changed this visit meanwhile" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Visit, visit.id).version == version
    assert db.get(Visit, visit.id).aide_id == visit.aide_id


def test_bad_input_is_refused_with_a_sentence(db, coord, sessions):
    generation.generate_week(db, _team(db), WEEK)
    db.commit()
    visit = _visits(db, _team(db))[0]
    url = f"/aide-a-domicile/planning/visits/{visit.id}"
    response = coord.post(
        url, {"aide_id": "abc", "day": "2026-13-45", "time": "99:99", "version": "x"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose people of your team from the list." in page
    response = coord.post("/aide-a-domicile/planning/absence", {"aide_id": "", "days": "40"})
    assert response.status_code == 422
    assert "Must be between 1 and 14." in response.get_data(as_text=True)
    stranger = accounts.find_user(db, "rue1").id  # not an aide of the team
    response = coord.post(
        "/aide-a-domicile/planning/absence",
        {"aide_id": str(stranger), "first_day": WEEK.isoformat(), "days": "3"},
    )
    assert response.status_code == 422
    assert "Choose people of your team from the list." in response.get_data(as_text=True)
    assert db.scalar(select(PlanningRun).where(PlanningRun.kind == "replan")) is None


def test_an_aide_falls_ill_the_proposal_is_accepted(db, coord, sessions):
    _planned_week(db, coord, sessions)
    visits = _visits(db, _team(db))
    ill = next(v.aide_id for v in visits if v.aide_id is not None)
    day = next(v.day for v in visits if v.aide_id == ill)
    response = coord.post(
        "/aide-a-domicile/planning/absence",
        {"aide_id": str(ill), "first_day": day.isoformat(), "days": "3"},
    )
    assert response.status_code == 302
    run = db.scalar(
        select(PlanningRun).where(PlanningRun.week == WEEK, PlanningRun.kind == "replan")
    )
    run.seconds = 2
    db.commit()
    assert runs.run_pending(sessions)["done"] == 1
    page = coord.get(BOARD).get_data(as_text=True)
    assert "Review the proposal" in page
    page = coord.get(f"/aide-a-domicile/planning/runs/{run.id}/proposal").get_data(as_text=True)
    assert "Accept the proposal" in page and "data-proposal" in page
    response = coord.post(f"/aide-a-domicile/planning/runs/{run.id}/accept")
    assert response.status_code == 302
    db.expire_all()
    assert db.get(PlanningRun, run.id).accepted_at is not None
    assert all(v.aide_id != ill for v in _visits(db, _team(db)) if v.day in (day,))


def test_other_teams_and_other_roles_see_nothing(db, frozen, login, app):
    generation.generate_week(db, _team(db), WEEK)
    run = runs.request_plan(db, accounts.find_user(db, "coordination"), WEEK)
    db.commit()
    visit = _visits(db, _team(db))[0]
    street = db.scalar(select(Team).where(Team.kind == "street"))
    staff_member(db, "hc-street-coord", Role.COORDINATOR, street.code, "Street coordinator")
    pages = [
        BOARD,
        f"/aide-a-domicile/planning/visits/{visit.id}",
        f"/aide-a-domicile/planning/runs/{run.id}",
        f"/aide-a-domicile/planning/runs/{run.id}/proposal",
        "/aide-a-domicile/planning/absence",
    ]
    other = login("hc-street-coord")
    for page in pages:
        assert other.get(page).status_code == 404, page
    response = other.post(
        f"/aide-a-domicile/planning/visits/{visit.id}",
        {"aide_id": "1", "day": WEEK.isoformat(), "time": "09:00", "version": "0"},
    )
    assert response.status_code == 404
    assert other.post(f"/aide-a-domicile/planning/runs/{run.id}/accept").status_code == 404
    coordinator = login("coordination")
    unknown = f"/aide-a-domicile/planning/visits/{uuid.uuid4()}"
    assert coordinator.get(unknown).status_code == 404
    assert coordinator.get("/aide-a-domicile/planning/runs/999999").status_code == 404
    # Other roles do not hold the permission at all (the matrix answers 403).
    for username in ("aide1", "as1", "admin", "accueil", "rue1"):
        browser = login(username)
        for page in pages:
            assert browser.get(page).status_code == 403, (username, page)


def test_a_past_visit_on_the_board_links_to_mark_done(db, coord):
    team_id = _team(db)
    monday = WEEK - timedelta(days=7)  # NOW's week: Monday and Tuesday are over
    generation.generate_week(db, team_id, monday)
    visits = sorted(
        db.scalars(
            select(Visit).where(
                Visit.team_id == team_id, Visit.day >= monday, Visit.status == "planned"
            )
        ),
        key=lambda v: v.earliest_start,
    )
    past, coming = visits[0], visits[-1]
    aide = accounts.find_user(db, "aide2")
    for visit in (past, coming):
        visit.aide_id, visit.planned_start = aide.id, visit.earliest_start
    db.commit()
    page = coord.get(f"/aide-a-domicile/planning?week={monday.isoformat()}").get_data(as_text=True)
    assert f"/aide-a-domicile/heures/visites/{past.id}" in page and "Mark done" in page
    assert f"/aide-a-domicile/heures/visites/{coming.id}" not in page
    assert coord.get(f"/aide-a-domicile/heures/visites/{past.id}").status_code == 200
