"""The aide's phone (issue 18): her feed holds only her own visits of today and the next
2 days with their households, and a visit taken from her is deleted from it."""

from __future__ import annotations

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


def _user(db: Session, name: str, role: Role, team: Team) -> accounts.User:
    return accounts.create_user(
        db,
        username=name,
        display_name=name,
        password="demo-password-1234",
        role=role,
        team=team,
        check_password=False,
    )


@pytest.fixture()
def people(db: Session, team: Team) -> dict[str, accounts.User]:
    return {
        "coord": _user(db, "phone-coord", Role.COORDINATOR, team),
        "a": _user(db, "phone-aide-a", Role.AIDE, team),
        "b": _user(db, "phone-aide-b", Role.AIDE, team),
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


def test_an_aide_gets_only_her_own_visits_in_her_window(db, people, visits):
    coord, a, b = people["coord"], people["a"], people["b"]
    with clock.frozen(NOW):
        _assign(db, visits["one-2026-11-30"], a, coord)  # today
        _assign(db, visits["one-2026-12-02"], a, coord)  # in 2 days
        _assign(db, visits["one-2026-12-03"], a, coord)  # in 3 days: outside
        _assign(db, visits["two-2026-11-30"], b, coord)
        page = sync.read_changes(db, a, None)
    assert page.reset
    mine = {(change.type, change.id) for change in page.changes}
    assert mine == {
        ("homecare.visit", str(visits["one-2026-11-30"].id)),
        ("homecare.visit", str(visits["one-2026-12-02"].id)),
        ("homecare.household", str(visits["one-2026-11-30"].beneficiary_id)),
    }
    household = next(c.record for c in page.changes if c.type == "homecare.household")
    assert household and household["name"] == "Madame Une"
    visit = next(c.record for c in page.changes if c.type == "homecare.visit")
    assert visit and visit["tasks"] == ["Toilette"]
    # Nobody else of the team downloads visits: not the coordinator, not an unplanned aide.
    seen = sync.read_changes(db, coord, None).changes
    assert [c for c in seen if c.type.startswith("homecare")] == []


def test_a_night_visit_stays_until_it_ends(db, people, visits):
    coord, a = people["coord"], people["a"]
    visit = visits["one-2026-11-30"]  # placed at 23:00 the day before today's window
    with clock.frozen(NOW):
        visit.aide_id = a.id
        visit.planned_start = local_moment(date(2026, 11, 29), time(23))
        visit.duration_minutes = 600  # 23:00-09:00: ends this morning
        sync.stamp(db, visit, sync.team_scope(visit.team_id), coord, None)
        db.commit()
        ids = {c.id for c in sync.read_changes(db, a, None).changes}
    assert str(visit.id) in ids


def test_a_reassigned_or_cancelled_visit_is_deleted_from_her_feed(db, people, visits):
    coord, a, b = people["coord"], people["a"], people["b"]
    moved, cancelled = visits["one-2026-11-30"], visits["two-2026-12-01"]
    with clock.frozen(NOW):
        _assign(db, moved, a, coord)
        _assign(db, cancelled, a, coord)
        first = sync.read_changes(db, a, None)
        assert {c.id for c in first.changes} >= {str(moved.id), str(cancelled.id)}
        _assign(db, moved, b, coord)
        cancelled.status = "cancelled"
        sync.stamp(db, cancelled, sync.team_scope(cancelled.team_id), coord, None)
        db.commit()
        later = sync.read_changes(db, a, first.token)
        theirs = sync.read_changes(db, b, None)
    assert not later.reset
    gone = {c.id: c.record for c in later.changes if c.type == "homecare.visit"}
    assert gone == {str(moved.id): None, str(cancelled.id): None}
    assert str(moved.id) in {c.id for c in theirs.changes if c.record is not None}
    # The next day the phone starts afresh: nothing of yesterday's deletions.
    with clock.frozen(datetime(2026, 12, 1, 7, tzinfo=UTC)):
        fresh = sync.read_changes(db, a, later.token)
    assert fresh.reset
    assert all(c.record is not None for c in fresh.changes)
