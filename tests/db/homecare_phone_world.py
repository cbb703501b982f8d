"""A home-care team, its aides, their visits, the phone's ops: test_homecare_phone and _proof."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import accounts, clock, organisations, sync
from core.accounts import Team
from core.roles import Role
from homecare import generation, services
from homecare.calendar import local_moment
from homecare.models import Visit
from homecare.services import BeneficiaryFields, PlanFields
from tests.support import staff_member

NOW = datetime(2026, 11, 30, 7, tzinfo=UTC)  # a Monday morning
MONDAY = date(2026, 11, 30)


@pytest.fixture()
def team(db: Session) -> Team:
    team = Team(
        code="hc-phone",
        name="SAF téléphone",
        kind="home_care",
        city="Bruxelles",
        cpas_id=organisations.get_cpas(db, "bruxelles").id,
    )
    db.add(team)
    db.flush()
    return team


@pytest.fixture()
def people(db: Session, team: Team) -> dict[str, accounts.User]:
    return {
        "coord": staff_member(db, "phone-coord", Role.COORDINATOR, team.code),
        "a": staff_member(db, "phone-aide-a", Role.AIDE, team.code),
        "b": staff_member(db, "phone-aide-b", Role.AIDE, team.code),
    }


def _household(db: Session, coord: accounts.User, team: Team, name: str):
    return services.create_beneficiary(
        db,
        coord,
        team.id,
        BeneficiaryFields(
            name=name,
            address="Rue Gallait 10",
            postcode="1030",
            city="Schaerbeek",
            latitude=50.868,
            longitude=4.376,
            contribution_category="b",
        ),
    )


@pytest.fixture()
def visits(db: Session, team: Team, people) -> dict[str, Visit]:
    """Two households visited every day 9:00-11:00; this week's visits generated."""
    coord = people["coord"]
    made = {}
    for key, name in (("one", "Madame Une"), ("two", "Monsieur Deux")):
        household = _household(db, coord, team, name)
        plan = services.create_care_plan(
            db,
            coord,
            household.id,
            PlanFields(
                service="family_aide",
                weekdays=[0, 1, 2, 3, 4],
                window_start=time(9),
                window_end=time(11),
                tolerance_minutes=30,
                duration_minutes=120,
                starts_on=date(2026, 1, 1),
                tasks=["Toilette"],
            ),
        )
        with clock.frozen(NOW):
            generation.generate_week(db, team.id, MONDAY)
        for visit in db.scalars(select(Visit).where(Visit.plan_id == plan.id)):
            made[f"{key}-{visit.day.isoformat()}"] = visit
    db.commit()
    return made


def _assign(db: Session, visit: Visit, aide: accounts.User | None, by: accounts.User) -> None:
    visit.aide_id = aide.id if aide else None
    visit.planned_start = local_moment(visit.day, time(9)) if aide else None
    sync.stamp(db, visit, sync.team_scope(visit.team_id), by, None)
    db.commit()


VISIT_OPS_NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)  # Monday noon: the morning visit is past


def _op(step: str, data: dict) -> dict:
    return {"id": str(uuid.uuid4()), "type": f"homecare.visit.{step}", "data": data}


def _at(hour: int, minute: int = 0) -> str:
    return local_moment(MONDAY, time(hour, minute)).isoformat()


@pytest.fixture()
def mine(db: Session, people, visits) -> Visit:
    visit = visits["one-2026-11-30"]
    with clock.frozen(NOW):
        _assign(db, visit, people["a"], people["coord"])
    return visit


def _full_report(visit: Visit, report_id: str, outcome: str = "normal", **extra) -> dict:
    return {
        "id": report_id,
        "visit_id": str(visit.id),
        "arrived_at": _at(9, 5),
        "left_at": _at(11, 10),
        "tasks_done": ["Toilette"],
        "note": "RAS",
        "outcome": outcome,
        **extra,
    }
