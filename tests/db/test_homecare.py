"""Home care: the week of visits generated from care plans (clock changes, holidays,
suspensions, nights, idempotence, edits), bad input, access, and plan_week."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import accounts, clock, organisations
from core.accounts import Team
from core.errors import Invalid
from core.roles import Role
from homecare import access, generation, planning, services
from homecare.models import CarePlan, Visit
from homecare.services import AideFields, BeneficiaryFields, PlanFields
from tests.support import staff_member
from web.validation import message

ANY = "This value is not valid."


@pytest.fixture()
def team(db: Session) -> Team:
    team = Team(
        code="hc-test",
        name="SAF test",
        kind="home_care",
        city="Bruxelles",
        cpas_id=organisations.get_cpas(db, "bruxelles").id,
    )
    db.add(team)
    db.flush()
    return team


@pytest.fixture()
def coord(db: Session, team: Team) -> accounts.User:
    return staff_member(db, "hc-coord", Role.COORDINATOR, team.code)


def _household(db: Session, coord: accounts.User, team: Team, n: int = 0):
    return services.create_beneficiary(
        db,
        coord,
        team.id,
        BeneficiaryFields(
            name=f"Madame Test {n}",
            address=f"Rue Gallait {10 + n}",
            postcode="1030",
            city="Schaerbeek",
            latitude=50.868 + n * 0.001,
            longitude=4.376,
        ),
    )


def _plan(db, coord, beneficiary, **changes) -> CarePlan:
    fields = {
        "service": "family_aide",
        "weekdays": [1, 4],
        "window_start": time(9),
        "window_end": time(11),
        "tolerance_minutes": 30,
        "duration_minutes": 120,
        "starts_on": date(2026, 1, 1),
        "skills": ["personal_care"],
    }
    fields.update(changes)
    return services.create_care_plan(db, coord, beneficiary.id, PlanFields(**fields))


def _visits(db: Session, plan: CarePlan) -> dict[date, Visit]:
    rows = db.scalars(select(Visit).where(Visit.plan_id == plan.id))
    return {visit.scheduled_on: visit for visit in rows}


def _utc(moment: datetime) -> datetime:
    return clock.as_utc(moment)


# --- Generation --------------------------------------------------------------------------


def test_a_night_window_crosses_midnight_and_follows_the_spring_clock_change(db, team, coord):
    household = _household(db, coord, team)
    plan = _plan(
        db,
        coord,
        household,
        service="night_care",
        weekdays=[4, 5, 6],
        window_start=time(21),
        window_end=time(7),
        tolerance_minutes=0,
        duration_minutes=600,
        skills=["night_watch"],
    )
    # 2027-03-28 is the last Sunday of March: clocks go from 02:00 to 03:00.
    generation.generate_week(db, team.id, date(2027, 3, 22))
    visits = _visits(db, plan)
    friday, saturday = visits[date(2027, 3, 26)], visits[date(2027, 3, 27)]
    assert _utc(friday.earliest_start) == datetime(2027, 3, 26, 20, 0, tzinfo=UTC)  # 21:00 CET
    assert friday.duration_minutes == 600
    assert _utc(saturday.earliest_start) == datetime(2027, 3, 27, 20, 0, tzinfo=UTC)
    assert saturday.duration_minutes == 540  # 21:00 CET to 07:00 CEST
    sunday = visits[date(2027, 3, 28)]
    assert _utc(sunday.earliest_start) == datetime(2027, 3, 28, 19, 0, tzinfo=UTC)  # 21:00 CEST
    assert sunday.duration_minutes == 600


def test_the_autumn_clock_change_lengthens_the_night_and_moves_day_visits(db, team, coord):
    household = _household(db, coord, team)
    night = _plan(
        db,
        coord,
        household,
        service="night_care",
        weekdays=[5],
        window_start=time(21),
        window_end=time(7),
        tolerance_minutes=0,
        duration_minutes=600,
        skills=["night_watch"],
    )
    day = _plan(db, coord, household, weekdays=[5, 6])
    # 2027-10-31 is the last Sunday of October: clocks go from 03:00 back to 02:00.
    generation.generate_week(db, team.id, date(2027, 10, 25))
    assert _visits(db, night)[date(2027, 10, 30)].duration_minutes == 660
    saturday, sunday = _visits(db, day)[date(2027, 10, 30)], _visits(db, day)[date(2027, 10, 31)]
    # 9:00 ± 30 min wall-clock on both days: one hour later in UTC after the change.
    assert _utc(saturday.earliest_start) == datetime(2027, 10, 30, 6, 30, tzinfo=UTC)
    assert _utc(saturday.latest_start) == datetime(2027, 10, 30, 7, 30, tzinfo=UTC)
    assert _utc(sunday.earliest_start) == datetime(2027, 10, 31, 7, 30, tzinfo=UTC)
    assert sunday.duration_minutes == 120


def test_public_holidays_follow_the_region_and_the_plans_rule(db, team, coord):
    household = _household(db, coord, team)
    skip = _plan(db, coord, household, holiday_rule="skip")
    keep = _plan(db, coord, _household(db, coord, team, 1), holiday_rule="keep")
    move = _plan(db, coord, _household(db, coord, team, 2), holiday_rule="move")
    # Friday 8 May 2026: Iris Day, a public holiday in Brussels only.
    week = date(2026, 5, 4)
    generation.generate_week(db, team.id, week)
    friday = date(2026, 5, 8)
    assert (_visits(db, skip)[friday].status, _visits(db, skip)[friday].cancel_reason) == (
        "cancelled",
        "holiday",
    )
    assert _visits(db, keep)[friday].status == "planned"
    moved = _visits(db, move)[friday]
    assert moved.status == "planned"
    assert moved.day == date(2026, 5, 11)  # the next weekday: Monday
    assert clock.to_local(moved.earliest_start).time() == time(8, 30)
    # In Wallonia 8 May is a working day: the skipped visit comes back (the team moves
    # to a Walloon CPAS: home care takes region and funder from it).
    team.cpas_id = organisations.get_cpas(db, "charleroi").id
    db.flush()
    assert services.settings_of(db, team.id).funder == "aviq"
    result = generation.generate_week(db, team.id, week)
    assert result.updated == 2
    assert _visits(db, skip)[friday].status == "planned"
    assert _visits(db, move)[friday].day == friday


def test_generating_twice_changes_nothing(db, team, coord):
    plan = _plan(db, coord, _household(db, coord, team))
    first = generation.generate_week(db, team.id, date(2026, 11, 30))
    assert first.created == 2
    versions = {day: (v.version, v.updated_at) for day, v in _visits(db, plan).items()}
    second = generation.generate_week(db, team.id, date(2026, 11, 30))
    assert (second.created, second.updated, second.cancelled, second.unchanged) == (0, 0, 0, 2)
    assert {day: (v.version, v.updated_at) for day, v in _visits(db, plan).items()} == versions
    count = db.scalar(select(func.count()).select_from(Visit).where(Visit.plan_id == plan.id))
    assert count == 2


def test_an_edited_plan_updates_the_visits_not_yet_done(db, team, coord):
    plan = _plan(db, coord, _household(db, coord, team))
    week = date(2026, 11, 30)
    with clock.frozen(datetime(2026, 11, 30, 7, tzinfo=UTC)):
        generation.generate_week(db, team.id, week)
        tuesday, friday = date(2026, 12, 1), date(2026, 12, 4)
        _visits(db, plan)[tuesday].status = "done"
        db.flush()
        services.update_care_plan(
            db,
            coord,
            plan.id,
            PlanFields(
                service="family_aide",
                weekdays=[1, 3],
                window_start=time(14),
                window_end=time(16),
                tolerance_minutes=0,
                duration_minutes=90,
                starts_on=date(2026, 1, 1),
            ),
        )
        # The week already generated follows the edit at once.
        visits = _visits(db, plan)
        assert visits[tuesday].status == "done"
        assert clock.to_local(visits[tuesday].earliest_start).time() == time(8, 30)  # untouched
        assert (visits[friday].status, visits[friday].cancel_reason) == ("cancelled", "plan")
        thursday = visits[date(2026, 12, 3)]
        assert clock.to_local(thursday.earliest_start).time() == time(14)
        assert clock.to_local(thursday.latest_start).time() == time(14, 30)
        again = generation.generate_week(db, team.id, week)
        assert (again.created, again.updated, again.cancelled) == (0, 0, 0)


def test_a_suspension_cancels_its_days_at_once_but_never_a_past_week(db, team, coord):
    plan = _plan(db, coord, _household(db, coord, team))
    week = date(2026, 11, 30)
    with clock.frozen(datetime(2026, 11, 30, 7, tzinfo=UTC)):
        generation.generate_week(db, team.id, week)
        services.suspend_plan(
            db,
            coord,
            plan.id,
            starts_on=date(2026, 12, 3),
            ends_on=date(2026, 12, 20),
            reason="hospital",
        )
        visits = _visits(db, plan)
        assert visits[date(2026, 12, 1)].status == "planned"
        assert (visits[date(2026, 12, 4)].status, visits[date(2026, 12, 4)].cancel_reason) == (
            "cancelled",
            "suspended",
        )
    # A past week is history: editing the plan later leaves it as it was.
    with clock.frozen(datetime(2027, 1, 11, 7, tzinfo=UTC)):
        services.update_care_plan(
            db,
            coord,
            plan.id,
            PlanFields(
                service="family_aide",
                weekdays=[0],
                window_start=time(9),
                window_end=time(11),
                duration_minutes=120,
                starts_on=date(2026, 1, 1),
            ),
        )
        assert _visits(db, plan)[date(2026, 12, 1)].status == "planned"


# --- Bad input ---------------------------------------------------------------------------


BAD_PLANS = [
    ({"ends_on": date(2025, 12, 1)}, "ends_on", "ends_before_start"),
    ({"skills": ["juggling"]}, "skills", "unknown_skill"),
    ({"duration_minutes": 5}, "duration_minutes", "duration_out_of_range"),
    ({"duration_minutes": 24 * 60}, "duration_minutes", "duration_out_of_range"),
    ({"duration_minutes": 180}, "duration_minutes", "longer_than_window"),
    (
        {"service": "night_care", "window_start": time(21), "window_end": time(23, 30)},
        "window_end",
        "night_must_cross_midnight",
    ),
    (
        {"window_start": time(22), "window_end": time(6)},
        "window_end",
        "only_night_crosses_midnight",
    ),
    ({"window_start": time(9), "window_end": time(9)}, "window_end", "ends_before_start"),
    ({"weekdays": [7]}, "weekdays", "unknown_choice"),
    ({"refused_aide_ids": [999_999]}, "refused_aide_ids", "unknown_user"),
    ({"tolerance_minutes": 600}, "tolerance_minutes", "out_of_range"),
]


@pytest.mark.parametrize(("changes", "field", "code"), BAD_PLANS)
def test_bad_care_plans_are_refused_with_a_sentence_and_nothing_saved(
    db, team, coord, app: Flask, changes, field, code
):
    household = _household(db, coord, team)
    before = db.scalar(select(func.count()).select_from(CarePlan))
    with pytest.raises(Invalid) as raised:
        _plan(db, coord, household, **changes)
    assert raised.value.errors[field].code == code
    assert db.scalar(select(func.count()).select_from(CarePlan)) == before
    for language in ("fr", "nl", "en"):
        with app.test_request_context(headers={"Accept-Language": language}):
            assert message(raised.value.errors[field]) != ANY


def test_two_plans_for_one_slot_are_refused(db, team, coord, app: Flask):
    household = _household(db, coord, team)
    _plan(db, coord, household)
    with pytest.raises(Invalid) as raised:
        _plan(db, coord, household, weekdays=[4], window_start=time(10), window_end=time(12))
    error = raised.value.errors["window_start"]
    assert error.code == "care_plan_overlap"
    with app.test_request_context():
        assert "09:00" in message(error)
    # Another day, or the same window another service, is fine.
    _plan(db, coord, household, weekdays=[2])
    _plan(db, coord, household, service="home_help", skills=["household"])


def test_a_bad_household_is_refused_whole_and_nothing_saved(db, team, coord):
    before = db.scalar(select(func.count()).select_from(services.Beneficiary))
    fields = BeneficiaryFields(
        name="X", address="Rue Verte 3", postcode="12", city="", phones=["0470 12 34 56", "12"]
    )
    with pytest.raises(Invalid) as raised:
        services.create_beneficiary(db, coord, team.id, fields)
    assert set(raised.value.errors) == {"postcode", "city", "phone_1"}
    db.flush()
    assert db.scalar(select(func.count()).select_from(services.Beneficiary)) == before


def test_a_household_s_phones_become_a_contact_with_its_consents(db, team, coord):
    from notifications.models import Consent as ConsentState
    from notifications.models import Contact

    fields = BeneficiaryFields(
        name="Madame Peeters",
        address="Rue Verte 3",
        postcode="1210",
        city="Saint-Josse-ten-Noode",
        phones=["0470 12 34 56"],
        consents=["reminder"],
        language="nl",
    )
    household = services.create_beneficiary(db, coord, team.id, fields)
    contact = db.get(Contact, household.contact_id)
    assert contact.reference == f"homecare.beneficiary:{household.id}"
    assert contact.language == "nl"
    granted = db.scalars(
        select(ConsentState.category).where(
            ConsentState.contact_id == contact.id, ConsentState.granted
        )
    )
    assert list(granted) == ["reminder"]
    moved = services.set_location_from_fix(db, coord, household.id, 50.8587, 4.3641)
    assert (moved.latitude, moved.location_source) == (50.8587, "gps")


# --- Access ------------------------------------------------------------------------------


def test_access_coordinator_of_another_team_and_aide_not_planned_get_nothing(db, team, coord):
    household = _household(db, coord, team)
    plan = _plan(db, coord, household)
    other = staff_member(db, "hc-other-coord", Role.COORDINATOR, "bxl-saf")
    aide = staff_member(db, "hc-aide-a", Role.AIDE, team.code)
    stranger = uuid.uuid4()
    with clock.frozen(datetime(2026, 12, 1, 8, tzinfo=UTC)):
        assert access.read_beneficiary(db, coord, household.id) is household
        assert access.read_beneficiary(db, other, household.id) is None
        assert access.read_beneficiary(db, other, stranger) is None
        assert access.read_beneficiary(db, aide, household.id) is None
        for target in (household.id, stranger):
            with pytest.raises(Invalid) as raised:
                access.beneficiary_to_change(db, other, target)
            assert raised.value.errors == {"beneficiary_id": raised.value.errors["beneficiary_id"]}
            assert raised.value.errors["beneficiary_id"].code == "unknown_beneficiary"
        with pytest.raises(Invalid):
            _plan(db, other, household, weekdays=[0])
        generation.generate_week(db, team.id, date(2026, 11, 30))
        _visits(db, plan)[date(2026, 12, 4)].aide_id = aide.id
        db.flush()
        assert access.read_beneficiary(db, aide, household.id) is household
        assert access.read_plans(db, aide, household.id) == [plan]


def test_a_coordinator_of_a_street_or_antenne_team_plans_no_home_help(db):
    street = db.scalar(select(Team).where(Team.kind == "street"))
    coordinator = staff_member(db, "hc-street-coord", Role.COORDINATOR, street.code)
    assert not access.coordinates(coordinator, street.id)
    with pytest.raises(Invalid):
        services.create_beneficiary(
            db,
            coordinator,
            street.id,
            BeneficiaryFields(
                name="Test", address="Rue Haute 1", postcode="1000", city="Bruxelles"
            ),
        )


# --- Aides and planning ------------------------------------------------------------------


def _aide(db, coord, team, name, skills, *, lat=50.868, hours=("08:00", "17:00"), days=range(5)):
    user = staff_member(db, name, Role.AIDE, team.code)
    services.set_aide_profile(
        db,
        coord,
        user.id,
        AideFields(
            contract_minutes=38 * 60,
            working_hours=[(day, *hours) for day in days],
            home_latitude=lat,
            home_longitude=4.37,
            transport_mode="bike",
        ),
    )
    for skill, expires in skills.items():
        services.set_qualification(db, coord, user.id, skill, expires)
    return user


def test_expired_qualifications_do_not_count_and_warn_a_month_ahead(db, team, coord):
    aide = _aide(
        db,
        coord,
        team,
        "hc-aide-q",
        {"personal_care": date(2026, 12, 20), "dementia": date(2026, 11, 1), "household": None},
    )
    assert services.valid_skills(db, aide.id, date(2026, 12, 1)) == {"personal_care", "household"}
    assert services.valid_skills(db, aide.id, date(2026, 12, 21)) == {"household"}
    warnings = services.expiring_qualifications(db, team.id, date(2026, 12, 1))
    assert [(w.user_id, w.skill) for w in warnings] == [(aide.id, "personal_care")]
    with pytest.raises(Invalid) as raised:
        services.set_qualification(db, coord, aide.id, "juggling", None)
    assert raised.value.errors["skill"].code == "unknown_skill"


def test_plan_week_assigns_visits_and_lists_the_rest_with_reasons(db, team, coord):
    care = _aide(db, coord, team, "hc-aide-1", {"personal_care": None})
    refused = _aide(db, coord, team, "hc-aide-2", {"personal_care": None, "household": None})
    away = _aide(db, coord, team, "hc-aide-3", {"dementia": None})
    week = date(2026, 11, 30)
    services.record_absence(
        db,
        coord,
        away.id,
        starts_at=datetime(2026, 11, 29, tzinfo=UTC),
        ends_at=datetime(2026, 12, 7, tzinfo=UTC),
        reason="illness",
    )
    first = _plan(db, coord, _household(db, coord, team, 0), refused_aide_ids=[refused.id])
    help_plan = _plan(
        db, coord, _household(db, coord, team, 1), service="home_help", skills=["household"],
        weekdays=[2], window_start=time(13), window_end=time(16), duration_minutes=90,
    )  # fmt: skip
    dementia = _plan(db, coord, _household(db, coord, team, 2), skills=["dementia"], weekdays=[0])
    generation.generate_week(db, team.id, week)
    result = planning.plan_week(db, team.id, week, seconds=1)
    for visit in _visits(db, first).values():
        assert visit.aide_id == care.id  # the other qualified aide was refused
        start = clock.as_utc(visit.planned_start)
        assert clock.as_utc(visit.earliest_start) <= start <= clock.as_utc(visit.latest_start)
    (help_visit,) = _visits(db, help_plan).values()
    assert help_visit.aide_id == refused.id
    assert clock.to_local(help_visit.planned_start).date() == date(2026, 12, 2)
    (dementia_visit,) = _visits(db, dementia).values()
    assert dementia_visit.aide_id is None
    assert dementia_visit.unassigned_reason == "no_worker_with_skills"  # its aide is ill
    assert result.planned == 3
    assert result.unassigned == [(dementia_visit.id, "no_worker_with_skills")]
    assert result.violations == ()
    # Planning again with the same seed stores the same plan.
    again = planning.plan_week(db, team.id, week, seconds=1)
    assert again.planned == 3


def test_plan_week_keeps_wall_clock_windows_over_the_autumn_clock_change(db, team, coord):
    aide = _aide(db, coord, team, "hc-aide-w", {"personal_care": None}, days=[5, 6])
    plan = _plan(db, coord, _household(db, coord, team), weekdays=[5, 6])
    week = date(2027, 10, 25)
    generation.generate_week(db, team.id, week)
    result = planning.plan_week(db, team.id, week, seconds=1)
    assert (result.planned, result.unassigned, result.violations) == (2, [], ())
    for day, visit in _visits(db, plan).items():
        assert visit.aide_id == aide.id
        local = clock.to_local(visit.planned_start)
        assert local.date() == day
        # 9:00 ± 30 min in Brussels, on both sides of the change (no hour lost or gained).
        assert time(8, 30) <= local.time() <= time(9, 30)


def test_a_night_aide_is_planned_for_a_night_watch(db, team, coord):
    night = _aide(
        db, coord, team, "hc-aide-n", {"night_watch": None}, hours=("20:30", "07:30"), days=[0]
    )
    _aide(db, coord, team, "hc-aide-d", {"night_watch": None}, days=[0])  # days only
    plan = _plan(
        db,
        coord,
        _household(db, coord, team),
        service="night_care",
        weekdays=[0],
        window_start=time(21),
        window_end=time(7),
        tolerance_minutes=0,
        duration_minutes=600,
        skills=["night_watch"],
    )
    week = date(2026, 11, 30)
    generation.generate_week(db, team.id, week)
    result = planning.plan_week(db, team.id, week, seconds=1)
    assert (result.planned, result.violations) == (1, ())
    (visit,) = _visits(db, plan).values()
    assert visit.aide_id == night.id
    assert clock.to_local(visit.planned_start) == datetime(2026, 11, 30, 21, tzinfo=clock.BRUSSELS)


def test_bad_aide_profiles_are_refused(db, team, coord):
    aide = staff_member(db, "hc-aide-bad", Role.AIDE, team.code)
    fields = AideFields(
        contract_minutes=-60,
        working_hours=[(0, "25:00", "12:00")],
        home_latitude=50.86,
        transport_mode="plane",
    )
    with pytest.raises(Invalid) as raised:
        services.set_aide_profile(db, coord, aide.id, fields)
    codes = {name: error.code for name, error in raised.value.errors.items()}
    assert codes == {
        "contract_minutes": "out_of_range",
        "working_hours": "invalid_hours",
        "latitude": "both_coordinates",
        "transport_mode": "unknown_choice",
    }
    assert db.get(services.AideProfile, aide.id) is None


def test_administrators_and_other_roles_read_no_household(db, team, coord):
    household = _household(db, coord, team)
    admin = accounts.find_user(db, "admin")
    social_worker = accounts.find_user(db, "as1")
    for user in (admin, social_worker):
        assert access.read_beneficiary(db, user, household.id) is None
