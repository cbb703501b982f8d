"""The back office of appointments (appointments/setup.py) on the database.

"Now" is Tuesday 1 December 2026, 09:00 in Brussels. Each test builds its own service,
location and agent through the setup functions themselves, so the demo data does not
matter; bookings go through appointments.booking.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from unittest import mock

import pytest
from sqlalchemy import func, select

from appointments import booking, setup, slots
from appointments.models import (
    AgentAbsence,
    AgentService,
    Closure,
    Location,
    OpeningHours,
    Service,
    ServiceLocation,
    WorkingPlan,
)
from core import accounts, clock
from core.audit import AuditEntry
from core.errors import Invalid

BRUSSELS = clock.BRUSSELS
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=BRUSSELS)
THURSDAY = date(2026, 12, 3)
_HASH = accounts.hash_password("setup-test-password")
_counter = itertools.count(1)
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def now() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


def at(hour: int, minute: int = 0, day: date = THURSDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), BRUSSELS).astimezone(UTC)


def service_fields(**overrides) -> dict:
    n = next(_counter)
    return {
        "code": f"ts-svc-{n}",
        "name_fr": "Aide énergie",
        "name_nl": "Energiehulp",
        "name_en": "",
        "duration_minutes": "30",
        "buffer_minutes": "0",
        "booking_mode": "online",
        "languages": ["fr", "nl"],
        "min_notice_hours": "2",
        "max_horizon_days": "56",
        "reminder_day_before_at": "17:00",
        "reminder_hours_before": "2",
        "active": "1",
        **overrides,
    }


def location_fields(db, **overrides) -> dict:
    """A place's form; a place names its team (the CPAS de Bruxelles' Marolles here)."""
    n = next(_counter)
    weekdays = {f"hours_{day}": "09:00-12:00" for day in range(7)}
    return {
        "code": f"ts-loc-{n}",
        "name": f"Antenne Setup {n}",
        "kind": "antenne",
        "address": "Rue Haute 298",
        "postcode": "1000",
        "city": "Bruxelles",
        "latitude": "50.8364",
        "longitude": "4.3478",
        "team_id": str(accounts.get_team(db, "bxl-marolles").id),
        **weekdays,
        **overrides,
    }


def new_agent(db) -> accounts.User:
    n = next(_counter)
    with mock.patch.object(accounts, "hash_password", lambda _password: _HASH):
        return accounts.create_user(
            db,
            username=f"ts-agent-{n}",
            display_name=f"Agent Setup {n}",
            password="unused-password",
            role="social_worker",
            check_password=False,
        )


class Desk:
    """A service offered at a location by one agent working every day 09:00–12:00."""

    def __init__(self, db, **service):
        self.db = db
        self.service = setup.create_service(db, service_fields(**service), actor=None)
        self.location = setup.create_location(db, location_fields(db), actor=None)
        self.agent = new_agent(db)
        setup.set_service_offer(
            db,
            self.service,
            location_ids=[str(self.location.id)],
            agent_ids=[str(self.agent.id)],
            actor=None,
        )
        self.plans = setup.add_plan(
            db,
            {
                "user_id": str(self.agent.id),
                "location_id": str(self.location.id),
                "weekdays": [str(day) for day in range(7)],
                "starts": "09:00",
                "ends": "12:00",
                "valid_from": "2026-01-01",
                "valid_until": "",
            },
            actor=None,
        )

    def book(self, start: datetime):
        return booking.book(
            self.db,
            service=self.service,
            location=self.location,
            start=start,
            person_name="Setup Person",
            phone=f"+3247166{next(_numbers):04d}",
            language="fr",
            source="online",
            link_base="https://terrain.example",
        )


def codes(invalid: pytest.ExceptionInfo[Invalid]) -> dict[str, str]:
    return {name: error.code for name, error in invalid.value.errors.items()}


def audit_count(db, entity_type: str) -> int:
    return db.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_type == entity_type)
    )


# --- Services ------------------------------------------------------------------------------


def test_a_new_service_is_saved_audited_and_gets_slots_once_offered(db):
    before = audit_count(db, "appointment_service")
    desk = Desk(db)
    service = desk.service
    assert (service.duration_minutes, service.buffer_minutes) == (30, 0)
    assert service.languages == ["fr", "nl"]
    assert service.name_en == "Aide énergie"  # no English name: the French one
    assert service.reminder_day_before_at == time(17, 0)
    assert audit_count(db, "appointment_service") == before + 2  # created, then offered
    found = slots.free_slots(
        db, service=service, location=desk.location, first_day=THURSDAY, days=1
    )
    assert [slot.start for slot in found][:2] == [at(9), at(9, 30)]
    assert found[0].agent_ids == (desk.agent.id,)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"code": "Bad Code!"}, {"code": "invalid_code"}),
        ({"code": ""}, {"code": "required"}),
        ({"name_fr": " ", "name_nl": ""}, {"name_fr": "required", "name_nl": "required"}),
        ({"name_fr": "x" * 121}, {"name_fr": "too_long"}),
        ({"duration_minutes": "4"}, {"duration_minutes": "out_of_range"}),
        ({"duration_minutes": "241"}, {"duration_minutes": "out_of_range"}),
        ({"duration_minutes": "half"}, {"duration_minutes": "not_a_whole_number"}),
        ({"buffer_minutes": "121"}, {"buffer_minutes": "out_of_range"}),
        ({"booking_mode": "fax"}, {"booking_mode": "unknown_choice"}),
        ({"languages": []}, {"languages": "required"}),
        ({"languages": ["fr", "xx"]}, {"languages": "unknown_choice"}),
        ({"min_notice_hours": "721"}, {"min_notice_hours": "out_of_range"}),
        ({"max_horizon_days": "0"}, {"max_horizon_days": "out_of_range"}),
        (
            {"min_notice_hours": "48", "max_horizon_days": "2"},
            {"min_notice_hours": "notice_beyond_horizon"},
        ),
        ({"reminder_day_before_at": "25:00"}, {"reminder_day_before_at": "invalid_time"}),
        ({"reminder_hours_before": "0"}, {"reminder_hours_before": "out_of_range"}),
    ],
)
def test_bad_service_fields_are_refused_and_nothing_is_saved(db, overrides, expected):
    before = db.scalar(select(func.count()).select_from(Service))
    with pytest.raises(Invalid) as invalid:
        setup.create_service(db, service_fields(**overrides), actor=None)
    assert codes(invalid) == expected
    assert db.scalar(select(func.count()).select_from(Service)) == before


def test_a_code_is_unique_and_kept_when_the_service_changes(db):
    fields = service_fields()
    service = setup.create_service(db, fields, actor=None)
    with pytest.raises(Invalid) as invalid:
        setup.create_service(db, {**fields, "code": fields["code"].upper()}, actor=None)
    assert codes(invalid) == {"code": "code_taken"}
    setup.update_service(
        db, service, {**fields, "code": "other", "duration_minutes": "45"}, actor=None
    )
    assert (service.code, service.duration_minutes) == (fields["code"], 45)


def test_a_service_with_appointments_is_deactivated_not_deleted(db):
    desk = Desk(db)
    unused = setup.create_service(db, service_fields(), actor=None)
    unused_id = unused.id
    assert setup.remove_service(db, unused, actor=None) == "deleted"
    assert db.get(Service, unused_id) is None

    desk.book(at(10))
    assert setup.remove_service(db, desk.service, actor=None) == "deactivated"
    assert db.get(Service, desk.service.id).active is False
    assert db.get(ServiceLocation, (desk.service.id, desk.location.id)) is not None


def test_deactivating_a_service_lists_its_booked_appointments(db):
    desk = Desk(db)
    appointment = desk.book(at(10))
    stranded = setup.update_service(
        db, desk.service, service_fields(code="ignored", active=""), actor=None
    )
    assert [item.appointment_id for item in stranded] == [appointment.id]
    assert appointment.status == "booked"  # never cancelled silently


def test_offer_lists_must_name_known_locations_and_agents(db):
    desk = Desk(db)
    for locations, agents, field in (
        (["999999"], [], "locations"),
        (["x"], [], "locations"),
        ([], ["999999"], "agents"),
    ):
        with pytest.raises(Invalid) as invalid:
            setup.set_service_offer(
                db, desk.service, location_ids=locations, agent_ids=agents, actor=None
            )
        assert codes(invalid) == {field: "unknown_choice"}
    aide = accounts.find_user(db, "aide1")  # no agenda of their own: cannot deliver
    with pytest.raises(Invalid):
        setup.set_service_offer(db, desk.service, location_ids=[], agent_ids=[aide.id], actor=None)
    assert db.get(AgentService, (desk.agent.id, desk.service.id)) is not None


def test_taking_an_agent_off_a_service_lists_their_appointments(db):
    desk = Desk(db)
    appointment = desk.book(at(10))
    stranded = setup.set_service_offer(
        db, desk.service, location_ids=[desk.location.id], agent_ids=[], actor=None
    )
    assert [item.appointment_id for item in stranded] == [appointment.id]
    assert stranded[0].day == THURSDAY
    assert stranded[0].location_code == desk.location.code


# --- Locations -----------------------------------------------------------------------------


def test_a_location_with_several_stretches_a_day(db):
    location = setup.create_location(
        db,
        location_fields(db, hours_0="08:30-12:00, 13:00 - 16:00", hours_6=""),
        actor=None,
    )
    hours = setup.opening_hours(location)
    assert hours[0] == [(time(8, 30), time(12, 0)), (time(13, 0), time(16, 0))]
    assert hours[6] == []
    assert setup.format_stretches(hours[0]) == "08:30-12:00, 13:00-16:00"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"hours_1": "12:00-09:00"}, {"hours_1": "hours_order"}),
        ({"hours_2": "09:00-12:00, 11:00-14:00"}, {"hours_2": "hours_overlap"}),
        ({"hours_3": "morning"}, {"hours_3": "invalid_hours"}),
        ({f"hours_{day}": "" for day in range(7)}, {"hours_0": "no_hours"}),
        ({"latitude": "91"}, {"latitude": "out_of_range"}),
        ({"longitude": "abc"}, {"longitude": "not_a_number"}),
        ({"longitude": ""}, {"longitude": "both_coordinates"}),
        ({"postcode": "100"}, {"postcode": "invalid_postcode"}),
        ({"kind": "castle"}, {"kind": "unknown_choice"}),
        ({"name": "", "address": ""}, {"name": "required", "address": "required"}),
        ({"team_id": "999999"}, {"team_id": "unknown_choice"}),
    ],
)
def test_bad_location_fields_are_refused(db, overrides, expected):
    before = db.scalar(select(func.count()).select_from(Location))
    with pytest.raises(Invalid) as invalid:
        setup.create_location(db, location_fields(db, **overrides), actor=None)
    assert codes(invalid) == expected
    assert db.scalar(select(func.count()).select_from(Location)) == before


def test_shorter_opening_hours_list_the_appointments_they_strand(db):
    desk = Desk(db)
    early, late = desk.book(at(9)), desk.book(at(11))
    fields = location_fields(db, code="ignored", name=desk.location.name)
    fields["hours_3"] = "09:00-10:30"  # Thursday
    stranded = setup.update_location(db, desk.location, fields, actor=None)
    assert [item.appointment_id for item in stranded] == [late.id]
    assert early.status == late.status == "booked"
    assert (
        db.scalar(
            select(func.count())
            .select_from(OpeningHours)
            .where(OpeningHours.location_id == desk.location.id, OpeningHours.weekday == 3)
        )
        == 1
    )


# --- Plans ---------------------------------------------------------------------------------


def test_a_plan_overlapping_another_of_the_same_agent_is_refused(db):
    desk = Desk(db)
    other = setup.create_location(db, location_fields(db), actor=None)
    fields = {
        "user_id": desk.agent.id,
        "location_id": other.id,
        "weekdays": ["3"],
        "starts": "11:00",
        "ends": "13:00",
        "valid_from": "2026-12-01",
    }
    with pytest.raises(Invalid) as invalid:
        setup.add_plan(db, fields, actor=None)
    assert codes(invalid) == {"starts": "plan_overlap"}
    # Afternoons, or after the first plan ends, are fine.
    assert setup.add_plan(db, {**fields, "starts": "12:00", "ends": "16:00"}, actor=None)
    thursday_plan = next(plan for plan in desk.plans if plan.weekday == 3)
    setup.end_plan(db, thursday_plan, "2026-12-31", actor=None)
    fields["ends"] = "12:00"
    assert setup.add_plan(db, {**fields, "valid_from": "2027-01-01"}, actor=None)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"starts": "12:00", "ends": "09:00"}, {"ends": "ends_before_start"}),
        ({"valid_until": "2025-01-01"}, {"valid_until": "ends_before_start"}),
        ({"weekdays": ["7"]}, {"weekdays": "unknown_choice"}),
        ({"weekdays": []}, {"weekdays": "required"}),
        ({"starts": "9h61"}, {"starts": "invalid_time"}),
        ({"valid_from": "soon"}, {"valid_from": "invalid_date"}),
        ({"user_id": "999999"}, {"user_id": "unknown_choice"}),
        ({"location_id": ""}, {"location_id": "required"}),
    ],
)
def test_bad_plan_fields_are_refused(db, overrides, expected):
    agent = new_agent(db)
    location = setup.create_location(db, location_fields(db), actor=None)
    fields = {
        "user_id": str(agent.id),
        "location_id": str(location.id),
        "weekdays": ["0"],
        "starts": "09:00",
        "ends": "12:00",
        "valid_from": "2026-01-01",
        **overrides,
    }
    with pytest.raises(Invalid) as invalid:
        setup.add_plan(db, fields, actor=None)
    assert codes(invalid) == expected
    assert not db.scalars(select(WorkingPlan).where(WorkingPlan.user_id == agent.id)).all()


def test_ending_a_plan_lists_the_appointments_after_its_last_day(db):
    desk = Desk(db)
    appointment = desk.book(at(10))
    thursday_plan = next(plan for plan in desk.plans if plan.weekday == 3)
    assert setup.end_plan(db, thursday_plan, THURSDAY, actor=None) == []
    stranded = setup.end_plan(db, thursday_plan, "2026-12-02", actor=None)
    assert [item.appointment_id for item in stranded] == [appointment.id]
    assert thursday_plan.valid_until == date(2026, 12, 2)
    assert appointment.status == "booked"
    with pytest.raises(Invalid) as invalid:
        setup.end_plan(db, thursday_plan, "2027-01-01", actor=None)
    assert codes(invalid) == {"last_day": "after_plan_end"}


def test_ending_a_plan_before_it_starts_removes_it(db):
    agent = new_agent(db)
    location = setup.create_location(db, location_fields(db), actor=None)
    [plan] = setup.add_plan(
        db,
        {
            "user_id": agent.id,
            "location_id": location.id,
            "weekdays": [1],
            "starts": "09:00",
            "ends": "10:00",
            "valid_from": "2027-02-01",
        },
        actor=None,
    )
    plan_id = plan.id
    setup.end_plan(db, plan, "2027-01-31", actor=None)
    assert db.get(WorkingPlan, plan_id) is None


# --- Closures and absences -----------------------------------------------------------------


def test_a_closure_lists_the_appointments_on_its_days(db):
    desk = Desk(db)
    appointment = desk.book(at(10))
    desk.book(at(10, day=date(2026, 12, 4)))
    closure, stranded = setup.add_closure(
        db,
        {"location_id": desk.location.id, "first_day": "2026-12-03", "reason": "Travaux"},
        actor=None,
    )
    assert closure.last_day == THURSDAY  # one day when no last day is given
    assert [item.appointment_id for item in stranded] == [appointment.id]
    assert not slots.free_slots(
        db, service=desk.service, location=desk.location, first_day=THURSDAY, days=1
    )
    closure_id = closure.id
    setup.remove_closure(db, closure, actor=None)
    assert db.get(Closure, closure_id) is None
    assert audit_count(db, "appointment_closure") >= 2


def test_bad_closures_are_refused(db):
    place = str(Desk(db).location.id)
    for fields, expected in (
        (
            {
                "location_id": place,
                "first_day": "2026-12-05",
                "last_day": "2026-12-04",
                "reason": "x",
            },
            "last_day",
        ),
        ({"location_id": place, "first_day": "", "reason": "x"}, "first_day"),
        ({"location_id": place, "first_day": "2026-12-05", "reason": ""}, "reason"),
        ({"location_id": "999999", "first_day": "2026-12-05", "reason": "x"}, "location_id"),
        # A script, several CPAS: "every place" would be nobody's; a place is required.
        ({"first_day": "2026-12-05", "reason": "x"}, "location_id"),
    ):
        with pytest.raises(Invalid) as invalid:
            setup.add_closure(db, fields, actor=None)
        assert list(codes(invalid)) == [expected]


def test_an_absence_lists_the_appointments_it_overlaps(db):
    desk = Desk(db)
    inside, outside = desk.book(at(10)), desk.book(at(11, 30))
    absence, stranded = setup.add_absence(
        db,
        {
            "user_id": desk.agent.id,
            "starts": "2026-12-03T09:45",
            "ends": "2026-12-03 11:00",
            "reason": "training",
        },
        actor=None,
    )
    assert absence.starts_at == at(9, 45)
    assert [item.appointment_id for item in stranded] == [inside.id]
    assert outside.status == "booked"
    with pytest.raises(Invalid) as invalid:
        setup.add_absence(
            db,
            {"user_id": desk.agent.id, "starts": "2026-12-03T11:00", "ends": "2026-12-03T11:00"},
            actor=None,
        )
    assert codes(invalid) == {"ends": "ends_before_start"}
    with pytest.raises(Invalid) as invalid:
        setup.add_absence(
            db,
            {"user_id": desk.agent.id, "starts": "x", "ends": "", "reason": "holiday"},
            actor=None,
        )
    assert codes(invalid) == {
        "starts": "invalid_datetime",
        "ends": "required",
        "reason": "unknown_choice",
    }
    absence_id = absence.id
    setup.remove_absence(db, absence, actor=None)
    assert db.get(AgentAbsence, absence_id) is None


def test_an_absence_across_the_change_of_time_is_read_in_brussels(db):
    agent = new_agent(db)
    absence, _ = setup.add_absence(
        db,
        {"user_id": agent.id, "starts": "2027-03-28T01:00", "ends": "2027-03-28T04:00"},
        actor=None,
    )
    # 01:00 is still winter time (UTC+1), 04:00 already summer time (UTC+2): 2 real hours.
    assert absence.starts_at == datetime(2027, 3, 28, 0, 0, tzinfo=UTC)
    assert absence.ends_at == datetime(2027, 3, 28, 2, 0, tzinfo=UTC)


def test_plans_by_agent_groups_current_plans(db):
    desk = Desk(db)
    grouped = dict(setup.plans_by_agent(db))
    assert len(grouped[desk.agent]) == 7
