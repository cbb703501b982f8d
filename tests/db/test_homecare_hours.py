"""Home care's hours: pay bands across the clock changes and a holiday, a visit marked
done (versions, bad input, undo, audit), the month's hours, the quota's projection and
alert, and the monthly indicators."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import accounts, clock, organisations
from core.accounts import Team
from core.audit import AuditEntry
from core.errors import Conflict, Invalid
from core.roles import Role
from homecare import generation, hours, indicators, services
from homecare.calendar import local_moment
from homecare.hours import Bands, QuotaLine, bands, project
from homecare.models import Visit
from homecare.services import BeneficiaryFields, PlanFields
from tests.support import staff_member

NOW = datetime(2026, 11, 30, 7, tzinfo=UTC)  # a Monday morning


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return local_moment(day, time(hour, minute))


def _holidays(region: str, regime: str, year: int) -> set[date]:
    """The public holidays a CPAS of that region and regime keeps closed, as shipped."""
    return {
        holiday.day
        for holiday in organisations.default_holidays(region, regime, year)
        if holiday.closed and holiday.kind in organisations.PUBLIC_HOLIDAY_KINDS
    }


BRUSSELS_2027 = _holidays("brussels", "bilingual", 2027)


# --- Bands -------------------------------------------------------------------------------


def test_a_night_over_the_spring_change_on_easter_counts_its_real_minutes():
    # 2027-03-28: last Sunday of March (02:00 -> 03:00) and Easter Sunday, a holiday.
    found = bands(_at(date(2027, 3, 27), 21), _at(date(2027, 3, 28), 7), BRUSSELS_2027)
    assert found == Bands(
        total=540,  # 21:00 CET to 07:00 CEST: 9 real hours
        early=60,  # 06:00-07:00
        late=60,  # 21:00-22:00
        night=120 + 300,  # 22:00-24:00, then 00:00-06:00 with one hour missing
        weekend=180,  # the Saturday part
        holiday=360,  # the Sunday part: a holiday on a Sunday counts as holiday only
    )


def test_a_night_over_the_autumn_change_counts_eleven_hours():
    # 2027-10-31: last Sunday of October (03:00 -> 02:00), not a holiday.
    found = bands(_at(date(2027, 10, 30), 21), _at(date(2027, 10, 31), 7), BRUSSELS_2027)
    assert found.total == 660
    assert found.night == 120 + 420
    assert (found.early, found.late, found.weekend, found.holiday) == (60, 60, 660, 0)


def test_weekday_bands_and_the_regions_holiday():
    # Friday 8 May 2026: Iris Day, a holiday in Brussels only.
    start, end = _at(date(2026, 5, 8), 7), _at(date(2026, 5, 8), 19)
    brussels = bands(start, end, _holidays("brussels", "bilingual", 2026))
    wallonia = bands(start, end, _holidays("wallonia", "fr", 2026))
    assert (brussels.total, brussels.early, brussels.late, brussels.holiday) == (720, 60, 60, 720)
    assert (wallonia.holiday, wallonia.weekend, wallonia.night) == (0, 0, 0)


# --- Projection --------------------------------------------------------------------------


def test_the_projection_follows_the_last_three_complete_months():
    delivered = [100.0] * 7 + [40.0, 100.0, 100.0, 30.0, 0.0]
    projected = project(delivered, 2026, date(2026, 11, 15))
    assert projected[:10] == [0.0] * 10
    assert projected[10:] == [50.0, 80.0]  # November up to the pace of 80, December at 80
    line = QuotaLine("family_aide", "iriscare", 2026, 1000.0, delivered, projected)
    assert line.projection == 1100
    assert line.over and line.over_by == 100 and not line.exceeded
    assert not QuotaLine("family_aide", "iriscare", 2026, 1200.0, delivered, projected).over
    assert not QuotaLine("family_aide", "iriscare", 2026, None, delivered, projected).over


def test_in_january_the_pace_is_the_current_months():
    delivered = [10.0] + [0.0] * 11
    projected = project(delivered, 2027, date(2027, 1, 10))
    assert projected[0] == pytest.approx(21.0)  # 10 h in 10 days: 31 h in January
    assert projected[1:] == [pytest.approx(31.0)] * 11


def test_months_before_the_first_hours_do_not_drag_the_pace_and_other_years_are_final():
    delivered = [0.0] * 8 + [90.0, 110.0, 20.0, 0.0]  # recording started in September
    assert project(delivered, 2026, date(2026, 11, 10))[10:] == [80.0, 100.0]
    assert project(delivered, 2025, date(2026, 11, 10)) == [0.0] * 12


# --- Marking visits done -----------------------------------------------------------------


@pytest.fixture()
def team(db: Session) -> Team:
    team = Team(
        code="hc-hours",
        name="SAF heures",
        kind="home_care",
        city="Bruxelles",
        cpas_id=organisations.get_cpas(db, "bruxelles").id,
    )
    db.add(team)
    db.flush()
    return team


@pytest.fixture()
def coord(db: Session, team: Team) -> accounts.User:
    return staff_member(db, "hours-coord", Role.COORDINATOR, team.code)


def _planned_visit(
    db: Session,
    coord: accounts.User,
    team: Team,
    aide_id: int,
    day: date,
    *,
    weekdays: list[int],
    address: str = "Rue Gallait 10",
    category: str = "b",
) -> Visit:
    """A household named "Madame Heures" at `address` with a family-aide plan on
    `weekdays`, 9:00-11:00; its visit of `day`, generated, given to the aide at 9:00."""
    household = services.create_beneficiary(
        db,
        coord,
        team.id,
        BeneficiaryFields(
            name="Madame Heures",
            address=address,
            postcode="1030",
            city="Schaerbeek",
            latitude=50.868,
            longitude=4.376,
            contribution_category=category,
        ),
    )
    plan = services.create_care_plan(
        db,
        coord,
        household.id,
        PlanFields(
            service="family_aide",
            weekdays=weekdays,
            window_start=time(9),
            window_end=time(11),
            tolerance_minutes=30,
            duration_minutes=120,
            starts_on=date(2026, 1, 1),
        ),
    )
    with clock.frozen(NOW):
        generation.generate_week(db, team.id, date(2026, 11, 23))
    found = db.scalar(select(Visit).where(Visit.plan_id == plan.id, Visit.day == day))
    assert found is not None
    found.aide_id = aide_id
    found.planned_start = _at(day, 9)
    db.flush()
    return found


@pytest.fixture()
def visit(db: Session, team: Team, coord: accounts.User) -> Visit:
    """Tuesday 24 November 2026, 9:00-11:00, assigned to an aide."""
    aide = staff_member(db, "hours-aide", Role.AIDE, team.code)
    return _planned_visit(db, coord, team, aide.id, date(2026, 11, 24), weekdays=[1, 4])


def _mark(db, user, visit, version=None, start=(9, 5), end=(11, 20), km=3.5):
    day = date(2026, 11, 24)
    return hours.mark_done(
        db,
        user,
        visit.id,
        visit.version if version is None else version,
        started_at=_at(day, *start),
        ended_at=_at(day, *end),
        km=km,
    )


def test_marking_a_visit_done_counts_its_real_hours(db, team, coord, visit):
    with clock.frozen(NOW):
        before = visit.version
        _mark(db, coord, visit)
        assert visit.status == "done" and visit.version == before + 1
        assert visit.km == 3.5
        month = hours.month_hours(db, coord, date(2026, 11, 1))
    assert month.by_service["family_aide"] == 135
    [household] = month.households
    assert (household.name, household.contribution_category, household.total) == (
        "Madame Heures",
        "b",
        135,
    )
    [aide] = month.aides
    assert (aide.bands.total, aide.km, aide.visits) == (135, 3.5, 1)
    entry = db.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == "homecare_visit", AuditEntry.entity_id == str(visit.id)
        )
    ).one()
    assert entry.details["done"] is True


def test_two_households_of_one_name_keep_one_order_in_the_month(db, team, coord, visit):
    """Billing files list households by name: two of one name come by their id, not by
    whichever had the month's first visit, so one export reads like the next."""
    monday = _planned_visit(
        db,
        coord,
        team,
        visit.aide_id,
        date(2026, 11, 23),
        weekdays=[0, 2],
        address="Rue Josaphat 20",
        category="a",
    )
    wednesday = db.scalar(
        select(Visit).where(Visit.plan_id == monday.plan_id, Visit.day == date(2026, 11, 25))
    )
    wednesday.aide_id, wednesday.planned_start = visit.aide_id, _at(wednesday.day, 9)
    db.flush()

    def done(planned: Visit) -> None:
        hours.mark_done(
            db,
            coord,
            planned.id,
            planned.version,
            started_at=_at(planned.day, 9),
            ended_at=_at(planned.day, 11),
            km=None,
        )

    def order() -> list:
        month = hours.month_hours(db, coord, date(2026, 11, 1))
        return [household.beneficiary_id for household in month.households]

    with clock.frozen(NOW):
        done(visit)  # Tuesday: the month's first visit is this household's
        done(wednesday)
        before = order()
        done(monday)  # Monday: now the namesake's is the month's first visit
        after = order()
    both = sorted([visit.beneficiary_id, monday.beneficiary_id], key=str)
    assert before == after == both


def test_a_stale_version_is_a_conflict_and_changes_nothing(db, coord, visit):
    with clock.frozen(NOW):
        old = visit.version
        _mark(db, coord, visit)
        with pytest.raises(Conflict):
            _mark(db, coord, visit, version=old, end=(12, 0))
        with pytest.raises(Conflict):
            hours.undo_done(db, coord, visit.id, old)
    assert clock.to_local(visit.actual_end).time() == time(11, 20)
    assert visit.status == "done"


def test_undo_puts_the_visit_back_to_planned(db, coord, visit):
    with clock.frozen(NOW):
        _mark(db, coord, visit)
        hours.undo_done(db, coord, visit.id, visit.version)
        assert (visit.status, visit.actual_start, visit.km) == ("planned", None, None)
        assert hours.month_hours(db, coord, date(2026, 11, 1)).total == 0
        with pytest.raises(Invalid) as caught:
            hours.undo_done(db, coord, visit.id, visit.version)
    assert caught.value.errors["visit_id"].code == "visit_not_done"


@pytest.mark.parametrize(
    ("start", "end", "km", "field", "code"),
    [
        ((11, 0), (9, 0), 1, "ended_at", "ends_before_start"),
        ((9, 0), (9, 0), 1, "ended_at", "ends_before_start"),
        ((9, 0), (11, 0), 900, "km", "km_out_of_range"),
        ((9, 0), (11, 0), -1, "km", "km_out_of_range"),
    ],
)
def test_bad_input_saves_nothing(db, coord, visit, start, end, km, field, code):
    version = visit.version
    with clock.frozen(NOW), pytest.raises(Invalid) as caught:
        _mark(db, coord, visit, start=start, end=end, km=km)
    assert caught.value.errors[field].code == code
    assert (visit.status, visit.version) == ("planned", version)


def test_an_end_still_to_come_a_visit_too_long_or_on_another_day_are_refused(db, coord, visit):
    with clock.frozen(datetime(2026, 11, 24, 9, tzinfo=UTC)), pytest.raises(Invalid) as caught:
        _mark(db, coord, visit)
    assert caught.value.errors["ended_at"].code == "ends_in_future"
    with clock.frozen(NOW), pytest.raises(Invalid) as caught:
        hours.mark_done(
            db,
            coord,
            visit.id,
            visit.version,
            started_at=_at(date(2026, 11, 20), 9),
            ended_at=_at(date(2026, 11, 20), 10),
            km=None,
        )
    assert caught.value.errors["started_at"].code == "not_on_visit_day"
    with clock.frozen(NOW), pytest.raises(Invalid) as caught:
        hours.mark_done(
            db,
            coord,
            visit.id,
            visit.version,
            started_at=_at(date(2026, 11, 23), 9),
            ended_at=_at(date(2026, 11, 24), 9),
            km=None,
        )
    assert caught.value.errors["ended_at"].code == "visit_too_long"


def test_a_visit_without_aide_or_of_another_team_cannot_be_marked(db, team, coord, visit):
    visit.aide_id = None
    db.flush()
    with clock.frozen(NOW), pytest.raises(Invalid) as caught:
        _mark(db, coord, visit)
    assert caught.value.errors["visit_id"].code == "visit_without_aide"
    other_team = Team(
        code="hc-other",
        name="Autre SAF",
        kind="home_care",
        city="X",
        cpas_id=organisations.get_cpas(db, "bruxelles").id,
    )
    db.add(other_team)
    db.flush()
    other = staff_member(db, "hours-other", Role.COORDINATOR, other_team.code)
    aide = accounts.find_user(db, "hours-aide")
    for user in (other, aide):
        with clock.frozen(NOW), pytest.raises(Invalid) as caught:
            _mark(db, user, visit)
        assert caught.value.errors["visit_id"].code == "unknown_visit"
        assert hours.visit_card(db, user, visit.id) is None


def test_quota_projection_alert_and_indicators(db, coord, visit):
    with clock.frozen(NOW):
        _mark(db, coord, visit)
        hours.set_quota(db, coord, 2026, "family_aide", 1)
        hours.set_quota(db, coord, 2026, "family_aide", 2)  # changed, not a second row
        [line] = hours.quota_lines(db, coord, 2026)
        assert (line.quota, line.delivered[10], line.funder) == (2.0, 2.25, "iriscare")
        assert line.over and line.exceeded
        with pytest.raises(Invalid) as caught:
            hours.set_quota(db, coord, 1999, "cooking", -5)
        assert set(caught.value.errors) == {"year", "service", "hours"}
        [month] = indicators.last_months(db, coord, date(2026, 11, 1), date(2026, 11, 1))
    assert month.delivered_hours == 2.2  # 2 h 15, one decimal
    assert month.planned_hours == 4.0  # Tuesday and Friday, 2 h each
    assert (month.visits, month.unassigned, month.households, month.mean_aides) == (2, 1, 1, 1)
    assert month.travel_share == 0  # one visit a day: no travel between households
