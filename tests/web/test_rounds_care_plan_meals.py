"""Meals on wheels ordered from a home-care care plan in one step (issue 19): home care's
plan page offers the form when its CPAS has a meal service (registered by rounds/hooks.py;
home care never imports rounds), the weekly order is made at the household's address in
that CPAS's mobile team and its id becomes the plan's meal order reference; bad input →
sentences, nothing saved; nobody else reaches it. The clock is frozen."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core import accounts, clock
from core.audit import AuditEntry
from homecare.demo import demo_id
from homecare.models import Beneficiary, CarePlan
from rounds.models import WeeklyMealOrder
from tests.support import staff_member, text_of

NOW = datetime(2031, 4, 28, 8, 0, tzinfo=UTC)  # Monday 28 April 2031, 10:00 in Brussels
PLAN = demo_id("plan-0")


@pytest.fixture()
def frozen():
    with clock.frozen(NOW) as traveller:
        yield traveller


def _team(db, code: str, kind: str, cpas_code: str, coordinator: str) -> accounts.Team:
    team = accounts.create_team(
        db, code=code, name=f"Équipe {code}", kind=kind, cpas_code=cpas_code, city="Ville"
    )
    staff_member(db, coordinator, "coordinator", code)
    return team


def _form(**changes) -> dict:
    return {
        "weekdays": ["0", "2", "4"],
        "meals": "1",
        "diet": "diabetic",
        "window_start": "10:00",
        "window_end": "12:00",
        "starts_on": "2031-04-30",
        "ends_on": "",
        "instructions": "Sonner deux fois.",
    } | changes


def _weeklies(db) -> int:
    return db.scalar(select(func.count()).select_from(WeeklyMealOrder))


def test_meals_ordered_from_a_care_plan_in_one_step(frozen, login, db):
    home = accounts.find_user(db, "coordination")  # home care, CPAS de Bruxelles
    plan = db.get(CarePlan, PLAN)
    assert plan.team_id == home.team_id and not plan.meal_order_ref
    browser = login("coordination")
    page_url = f"/aide-a-domicile/plans/{PLAN}/modifier"
    url = f"/aide-a-domicile/plans/{PLAN}/repas"
    # Brussels has no mobile team yet: no form, and a post is refused plainly.
    assert "Order the meals" not in text_of(browser.get(page_url))
    refused = browser.post(url, data=_form())
    assert refused.status_code == 422
    assert "The CPAS has no meal service to take this order." in text_of(refused)
    before = _weeklies(db)
    brussels = home.team.cpas.code
    mobile = _team(db, "bxl-repas", "mobile", brussels, "repas-coord")
    page = text_of(browser.get(page_url))
    assert "Meals on wheels" in page and "Order the meals" in page
    bad = browser.post(url, data=_form(meals="x", weekdays=[], window_end="09:00"))
    assert bad.status_code == 422
    text = text_of(bad)
    assert "Nothing was saved." in text and "The end must come after the start." in text
    past = browser.post(url, data=_form(starts_on="2031-04-01"))
    assert past.status_code == 422 and "This day is over" in text_of(past)
    db.refresh(plan)
    assert not plan.meal_order_ref and _weeklies(db) == before
    # Nobody else: a home-care coordinator of another CPAS, an aide, the mobile team's.
    _team(db, "clr-saf-test", "home_care", "charleroi", "saf-clr")
    for outsider in ("saf-clr", "aide1", "mobile-coord", "repas-coord"):
        response = login(outsider).post(url, data=_form())
        assert response.status_code in (403, 404), outsider
    assert _weeklies(db) == before
    response = browser.post(url, data=_form())
    assert response.status_code == 302
    db.refresh(plan)
    weekly = db.get(WeeklyMealOrder, uuid.UUID(plan.meal_order_ref))
    person = db.get(Beneficiary, plan.beneficiary_id)
    assert weekly is not None and weekly.team_id == mobile.id
    assert (weekly.household, weekly.address, weekly.city) == (
        person.name,
        person.address,
        person.city,
    )
    assert (weekly.weekdays, weekly.diet, weekly.meals) == ("0,2,4", "diabetic", 1)
    assert str(weekly.starts_on) == "2031-04-30"
    audited = {
        (entry.entity_type, entry.entity_id)
        for entry in db.scalars(select(AuditEntry).where(AuditEntry.actor_id == home.id))
    }
    assert ("homecare_care_plan", str(PLAN)) in audited
    assert ("rounds_weekly_meal_order", str(weekly.id)) in audited
    # Once: the page says the order's reference, and a second post is refused.
    page = text_of(browser.get(page_url))
    assert "Order the meals" not in page
    again = browser.post(url, data=_form())
    assert again.status_code == 422
    assert "This care plan already has a meal order." in text_of(again)
    assert _weeklies(db) == before + 1
    # The mobile team sees it among its weekly orders.
    assert person.name in text_of(login("repas-coord").get("/tournees/repas/semaine"))


def test_a_household_without_a_map_position_is_told_so(frozen, login, db):
    home = accounts.find_user(db, "coordination")
    _team(db, "bxl-repas", "mobile", home.team.cpas.code, "repas-coord")
    plan = db.get(CarePlan, PLAN)
    person = db.get(Beneficiary, plan.beneficiary_id)
    person.latitude = person.longitude = None
    db.flush()
    response = login("coordination").post(f"/aide-a-domicile/plans/{PLAN}/repas", data=_form())
    assert response.status_code == 422
    assert "has no map position yet" in text_of(response)
    db.refresh(plan)
    assert not plan.meal_order_ref
