"""The availability engine (appointments/slots.py), one rule at a time.

Each test builds its own service, location and agents (`Builder`); dates are Brussels
dates. The usual week: Monday 16 to Friday 20 November 2026, the location open Mon–Fri
08:30–12:00 and 13:00–16:00.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from appointments import slots
from appointments.models import Closure, Location, Service
from core import clock
from tests.db.slots_world import EARLY, MONDAY, Builder, hm, local


def grid(first: str, last: str, step: int) -> list[str]:
    """HH:MM from `first` to `last` included, every `step` minutes."""
    at = datetime.strptime(first, "%H:%M")
    end = datetime.strptime(last, "%H:%M")
    out = []
    while at <= end:
        out.append(at.strftime("%H:%M"))
        at += timedelta(minutes=step)
    return out


# --- Opening hours, plans, the grid ------------------------------------------------------


def test_starts_fill_the_opening_hours_within_the_plan(db):
    world = Builder(db)
    world.plan(world.agents[0], starts=time(8, 0), ends=time(17, 0))
    assert world.starts() == grid("08:30", "11:30", 30) + grid("13:00", "15:30", 30)
    slot = world.slots()[0]
    assert slot.start == local(MONDAY, 8, 30)
    assert slot.end == local(MONDAY, 9, 0)
    assert slot.start.tzinfo is not None and slot.start.utcoffset() == timedelta(0)
    assert slot.agent_ids == (world.agents[0].id,)
    assert slot.free == 1


def test_the_plan_limits_the_starts(db):
    world = Builder(db)
    world.plan(world.agents[0], (0,), time(10, 0), time(11, 0))
    world.plan(world.agents[0], (0,), time(14, 0), time(14, 40))
    assert world.starts() == ["10:00", "10:30", "14:00"]
    assert world.starts(MONDAY + timedelta(days=1)) == []  # no plan on Tuesday


def test_no_opening_hours_that_day_no_slots(db):
    world = Builder(db)
    world.plan(world.agents[0], range(7), time(9, 0), time(12, 0))
    saturday = MONDAY + timedelta(days=5)
    assert world.starts(saturday, days=2) == []


def test_grid_step_is_duration_plus_buffer_from_each_stretch_start(db):
    world = Builder(db, minutes=45, buffer=15)
    world.plan(world.agents[0], (0,))
    # 11:30 would end at 12:15, after closing; the buffer may run past 12:00 and 16:00.
    assert world.starts() == ["08:30", "09:30", "10:30", "13:00", "14:00", "15:00"]
    assert world.slots()[0].end == local(MONDAY, 9, 15)


def test_the_buffer_may_run_past_closing_but_the_appointment_may_not(db):
    world = Builder(db, minutes=60, buffer=15)
    world.plan(world.agents[0], (0,))
    assert world.starts() == ["08:30", "09:45", "11:00", "13:00", "14:15"]


def test_grid_is_aligned_to_the_plan_when_it_starts_after_opening(db):
    world = Builder(db, minutes=45)
    world.plan(world.agents[0], (0,), time(9, 10), time(12, 0))
    assert world.starts() == ["09:10", "09:55", "10:40"]


def test_plans_that_touch_make_one_stretch(db):
    world = Builder(db, minutes=45, opening=[(0, time(8, 0), time(12, 0))])
    world.plan(world.agents[0], (0,), time(8, 0), time(9, 0))
    world.plan(world.agents[0], (0,), time(9, 0), time(10, 30))
    assert world.starts() == ["08:00", "08:45", "09:30"]  # 08:45–09:30 spans both plans


def test_plan_at_another_location_gives_nothing_here(db):
    world = Builder(db)
    elsewhere = world.new_location()
    world.plan(world.agents[0], (0,), location=elsewhere)
    assert world.starts() == []


def test_validity_dates_are_inclusive(db):
    world = Builder(db)
    tuesday = MONDAY + timedelta(days=1)
    world.plan(
        world.agents[0],
        (0, 1),
        time(9, 0),
        time(10, 0),
        valid_from=tuesday,
        valid_until=MONDAY + timedelta(days=7),
    )
    days = {clock.to_local(slot.start).date() for slot in world.slots(MONDAY, days=15)}
    assert days == {tuesday, MONDAY + timedelta(days=7)}


# --- The agent's other commitments -------------------------------------------------------


def test_an_absence_removes_the_starts_it_overlaps(db):
    world = Builder(db)
    world.plan(world.agents[0], (0,), time(9, 0), time(11, 0))
    world.absence(world.agents[0], local(MONDAY, 9, 10), local(MONDAY, 9, 40))
    assert world.starts() == ["10:00", "10:30"]


def test_a_whole_day_absence(db):
    world = Builder(db)
    world.plan(world.agents[0])
    world.absence(world.agents[0], local(MONDAY, 0), local(MONDAY + timedelta(days=1), 0))
    assert world.starts() == []
    assert world.starts(MONDAY + timedelta(days=1))[:1] == ["08:30"]


def test_the_buffer_must_be_free_too(db):
    world = Builder(db, minutes=30, buffer=15)
    world.plan(world.agents[0], (0,), time(8, 30), time(11, 0))
    assert world.starts() == ["08:30", "09:15", "10:00"]
    # An absence from 09:55: the 09:15 appointment would end at 09:45, its buffer at 10:00.
    world.absence(world.agents[0], local(MONDAY, 9, 55), local(MONDAY, 10, 5))
    assert world.starts() == ["08:30"]


def test_touching_an_appointment_is_not_overlapping(db):
    world = Builder(db, minutes=30, buffer=15)
    world.plan(world.agents[0], (0,), time(8, 30), time(11, 0))
    world.appointment(world.agents[0], local(MONDAY, 10, 0), minutes=20)
    assert world.starts() == ["08:30", "09:15"]


def test_an_appointment_elsewhere_blocks_the_agent(db):
    world = Builder(db)
    world.plan(world.agents[0], (0,), time(9, 0), time(11, 0))
    elsewhere = world.new_location()
    world.appointment(world.agents[0], local(MONDAY, 9, 15), minutes=30, location=elsewhere)
    assert world.starts() == ["10:00", "10:30"]


def test_an_appointments_buffer_blocks_the_agent(db):
    world = Builder(db)
    world.plan(world.agents[0], (0,), time(9, 0), time(11, 0))
    world.appointment(world.agents[0], local(MONDAY, 9, 0), minutes=30, buffer=10)
    assert world.starts() == ["10:00", "10:30"]


@pytest.mark.parametrize("status", ["booked", "checked_in", "done"])
def test_active_appointments_block(db, status):
    world = Builder(db)
    world.plan(world.agents[0], (0,), time(9, 0), time(10, 0))
    world.appointment(world.agents[0], local(MONDAY, 9, 0), status=status)
    assert world.starts() == ["09:30"]


@pytest.mark.parametrize("status", ["cancelled", "no_show"])
def test_cancelled_and_missed_appointments_do_not_block(db, status):
    world = Builder(db)
    world.plan(world.agents[0], (0,), time(9, 0), time(10, 0))
    world.appointment(world.agents[0], local(MONDAY, 9, 0), status=status)
    assert world.starts() == ["09:00", "09:30"]


def test_another_agents_appointment_does_not_block(db):
    world = Builder(db, agents=2)
    world.plan(world.agents[0], (0,), time(9, 0), time(10, 0))
    world.appointment(world.agents[1], local(MONDAY, 9, 0))
    assert world.starts() == ["09:00", "09:30"]


# --- Days off ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "holiday",
    [date(2026, 11, 11), date(2026, 12, 25), date(2027, 3, 29), date(2026, 11, 1)],
    ids=["armistice", "christmas", "easter-monday-2027", "all-saints-sunday"],
)
def test_public_holidays_have_no_slots(db, holiday):
    world = Builder(db, opening=[(d, time(9, 0), time(12, 0)) for d in range(7)])
    world.plan(world.agents[0], range(7), time(9, 0), time(12, 0))
    now = local(holiday - timedelta(days=30), 8)
    assert slots.is_public_holiday(holiday)
    assert world.starts(holiday, now=now) == []
    # Two days after: usual (the day after may be a day the place's CPAS de Bruxelles
    # closes as administrations do: 26 December, 2 November).
    assert world.starts(holiday + timedelta(days=2), now=now) != []


def test_a_closure_of_the_location(db):
    world = Builder(db)
    world.plan(world.agents[0])
    world.closure(MONDAY + timedelta(days=1), MONDAY + timedelta(days=2))
    days = {clock.to_local(slot.start).date() for slot in world.slots(MONDAY, days=5)}
    assert days == {MONDAY, MONDAY + timedelta(days=3), MONDAY + timedelta(days=4)}


def test_a_closure_of_every_location(db):
    world = Builder(db)
    world.plan(world.agents[0])
    world.closure(MONDAY, everywhere=True)
    assert world.starts() == []


def test_a_closure_of_another_location_does_not_count(db):
    world = Builder(db)
    world.plan(world.agents[0], (0,), time(9, 0), time(10, 0))
    other = world.new_location()
    db.add(Closure(location_id=other.id, first_day=MONDAY, last_day=MONDAY, reason="x"))
    db.flush()
    assert world.starts() == ["09:00", "09:30"]


# --- Notice and horizon ------------------------------------------------------------------


def test_min_notice(db):
    world = Builder(db, notice=2)
    world.plan(world.agents[0], (0,))
    now = local(MONDAY, 8, 31)  # 2 h later: 10:31
    assert world.starts(now=now) == ["11:00", "11:30", *grid("13:00", "15:30", 30)]
    assert world.starts(now=local(MONDAY, 8, 30))[0] == "10:30"  # exactly 2 h: allowed


def test_no_notice_still_no_past_starts(db):
    world = Builder(db, notice=0)
    world.plan(world.agents[0], (0,))
    assert world.starts(now=local(MONDAY, 15, 10)) == ["15:30"]


def test_notice_reaching_into_the_next_days(db):
    world = Builder(db, notice=48)
    world.plan(world.agents[0])
    first = world.slots(MONDAY, days=5, now=local(MONDAY, 10, 0))[0]
    assert first.start == local(MONDAY + timedelta(days=2), 10, 0)


def test_horizon_compares_brussels_dates(db):
    world = Builder(db, horizon=7)
    world.plan(world.agents[0], range(5), time(8, 30), time(9, 0))
    # Monday 00:30 in Brussels is Sunday 23:30 UTC: the horizon is Monday 16 + 7 days,
    # Monday 23 included, Tuesday 24 out (from the UTC date it would end on Sunday 22).
    now = local(MONDAY, 0, 30)
    assert now.date() == MONDAY - timedelta(days=1)
    found = world.slots(MONDAY, days=14, now=now)
    days = sorted({clock.to_local(slot.start).date() for slot in found})
    assert days == [MONDAY + timedelta(days=n) for n in (0, 1, 2, 3, 4, 7)]


def test_default_now_is_the_clock(db):
    world = Builder(db, notice=0)
    world.plan(world.agents[0], (0,))
    with clock.frozen(local(MONDAY, 15, 10)):
        found = slots.free_slots(
            db, service=world.service, location=world.location, first_day=MONDAY, days=1
        )
    assert [hm(slot.start) for slot in found] == ["15:30"]


# --- Changes of time ---------------------------------------------------------------------

ALL_WEEK = [(d, time(0, 0), time(23, 45)) for d in range(7)]


def test_spring_forward_daytime(db):
    saturday, sunday = date(2026, 3, 28), date(2026, 3, 29)
    world = Builder(db, opening=ALL_WEEK)
    world.plan(world.agents[0], (5, 6), time(9, 0), time(10, 0))
    found = world.slots(saturday, days=2)
    assert [slot.start for slot in found] == [
        datetime(2026, 3, 28, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 28, 8, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 7, 30, tzinfo=UTC),
    ]
    assert [hm(slot.start) for slot in found] == ["09:00", "09:30", "09:00", "09:30"]
    assert local(sunday, 9) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_spring_forward_night_skips_the_missing_hour(db):
    sunday = date(2026, 3, 29)
    world = Builder(db, opening=ALL_WEEK)
    world.plan(world.agents[0], (6,), time(1, 0), time(4, 0))
    # 02:00 and 02:30 do not exist; 01:30 CET + 30 min ends at 03:00 CEST.
    assert [slot.start for slot in world.slots(sunday)] == [
        datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
    ]


def test_spring_forward_an_appointment_across_the_change(db):
    sunday = date(2026, 3, 29)
    world = Builder(db, minutes=45, opening=ALL_WEEK)
    world.plan(world.agents[0], (6,), time(1, 0), time(4, 0))
    # Wall grid 01:00, 01:45, (02:30 missing), 03:15; 01:45 CET lasts until 03:30 CEST.
    found = world.slots(sunday)
    assert [hm(slot.start) for slot in found] == ["01:00", "01:45", "03:15"]
    assert found[1].end - found[1].start == timedelta(minutes=45)
    assert hm(found[1].end) == "03:30"


def test_fall_back_daytime(db):
    saturday = date(2026, 10, 24)
    world = Builder(db, opening=ALL_WEEK)
    world.plan(world.agents[0], (5, 6), time(9, 0), time(9, 30))
    assert [slot.start for slot in world.slots(saturday, days=2)] == [
        datetime(2026, 10, 24, 7, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 8, 0, tzinfo=UTC),
    ]


def test_fall_back_night_uses_the_first_of_the_repeated_hour(db):
    sunday = date(2026, 10, 25)
    world = Builder(db, opening=ALL_WEEK)
    world.plan(world.agents[0], (6,), time(1, 0), time(4, 0))
    found = world.slots(sunday)
    # 01:00 CEST is 23:00 UTC on Saturday but a start of Sunday; 02:00 and 02:30 are the
    # summer-time ones (fold=0); the second 02:00–03:00 offers no start of its own.
    assert [slot.start for slot in found] == [
        datetime(2026, 10, 24, 23, 0, tzinfo=UTC),
        datetime(2026, 10, 24, 23, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 2, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 2, 30, tzinfo=UTC),
    ]
    assert world.slots(date(2026, 10, 24)) == []  # none of them is Saturday's


# --- What can be booked at all -----------------------------------------------------------


def test_walk_in_only_service_has_no_slots(db):
    world = Builder(db, booking_mode="walk_in")
    world.plan(world.agents[0])
    assert world.slots(MONDAY, days=5) == []
    assert world.free_at(local(MONDAY, 9, 0)) == []


def test_phone_only_service_has_slots(db):
    world = Builder(db, booking_mode="phone")
    world.plan(world.agents[0], (0,), time(9, 0), time(10, 0))
    assert world.starts() == ["09:00", "09:30"]


def test_inactive_service_has_no_slots(db):
    world = Builder(db)
    world.plan(world.agents[0])
    world.service.active = False
    assert world.slots(MONDAY, days=5) == []


def test_service_not_offered_at_the_location(db):
    world = Builder(db)
    other = world.new_location()
    world.plan(world.agents[0], location=other)
    assert world.slots(MONDAY, days=5, location=other) == []


def test_agent_who_cannot_deliver_the_service(db):
    world = Builder(db)
    outsider = world.new_agent(delivers=False)
    world.plan(outsider)
    assert world.slots(MONDAY, days=5) == []


def test_deactivated_agent(db):
    world = Builder(db)
    world.plan(world.agents[0])
    world.agents[0].active = False
    db.flush()
    assert world.slots(MONDAY, days=5) == []


# --- Several agents ----------------------------------------------------------------------


def test_two_agents_same_plan_free_two(db):
    world = Builder(db, agents=2)
    first, second = world.agents
    for agent in world.agents:
        world.plan(agent, (0,), time(9, 0), time(10, 0))
    found = world.slots()
    assert [(hm(slot.start), slot.free) for slot in found] == [("09:00", 2), ("09:30", 2)]
    assert found[0].agent_ids == tuple(sorted((first.id, second.id)))
    world.appointment(first, local(MONDAY, 9, 0))
    found = world.slots()
    assert [(hm(slot.start), slot.agent_ids) for slot in found] == [
        ("09:00", (second.id,)),
        ("09:30", tuple(sorted((first.id, second.id)))),
    ]
    world.appointment(second, local(MONDAY, 9, 0))
    assert world.starts() == ["09:30"]


def test_two_agents_with_different_grids(db):
    world = Builder(db, minutes=45, agents=2)
    first, second = world.agents
    world.plan(first, (0,), time(8, 30), time(10, 0))
    world.plan(second, (0,), time(9, 0), time(10, 30))
    assert [(hm(slot.start), slot.agent_ids) for slot in world.slots()] == [
        ("08:30", (first.id,)),
        ("09:00", (second.id,)),
        ("09:15", (first.id,)),
        ("09:45", (second.id,)),
    ]


# --- agents_free_at and next_free_slots --------------------------------------------------


def test_agents_free_at_agrees_with_free_slots(db):
    world = Builder(db, minutes=45, buffer=15, agents=2)
    first, second = world.agents
    world.plan(first, (0,), time(8, 30), time(12, 0))
    world.plan(second, (0,), time(9, 0), time(12, 0))
    world.appointment(second, local(MONDAY, 10, 0))
    for slot in world.slots():
        assert world.free_at(slot.start) == list(slot.agent_ids)
    assert world.free_at(local(MONDAY, 10, 0)) == []  # second is booked
    assert world.free_at(local(MONDAY, 8, 45)) == []  # not on anyone's grid
    assert world.free_at(local(MONDAY, 8, 30, 0) + timedelta(seconds=1)) == []
    assert world.free_at(local(MONDAY, 13, 0)) == []  # no plan in the afternoon


def test_agents_free_at_anywhere_drops_only_the_grid(db):
    world = Builder(db, minutes=45, buffer=15)
    agent = world.agents[0]
    world.plan(agent, (0,), time(8, 30), time(12, 0))
    world.appointment(agent, local(MONDAY, 10, 30))
    assert world.free_at(local(MONDAY, 8, 45)) == []
    assert world.free_at(local(MONDAY, 8, 45), anywhere=True) == [agent.id]
    assert world.free_at(local(MONDAY, 9, 40), anywhere=True) == []  # buffer hits 10:30
    assert world.free_at(local(MONDAY, 11, 20), anywhere=True) == []  # past 12:00
    assert world.free_at(local(MONDAY, 13, 0), anywhere=True) == []  # no plan
    assert world.free_at(local(MONDAY, 8, 45), anywhere=True, now=local(MONDAY, 9)) == []


def test_agents_free_at_ignores_the_appointment_being_moved(db):
    world = Builder(db)
    agent = world.agents[0]
    world.plan(agent, (0,), time(9, 0), time(10, 0))
    moved = world.appointment(agent, local(MONDAY, 9, 15))
    assert world.free_at(local(MONDAY, 9, 30)) == []
    assert world.free_at(local(MONDAY, 9, 30), ignore_appointment_id=moved.id) == [agent.id]


def test_agents_at_start_is_free_and_planned_agents_from_one_load(db):
    """What a refused booking asks (issue 20): the free agents and the agents planned
    whatever is booked, equal to `agents_free_at` and `planned_agents_at` at every
    quarter of the day (on the grid or not, booked, absent, outside the plan)."""
    world = Builder(db, minutes=30, buffer=15, agents=3)
    first, second, third = world.agents
    for agent in world.agents:
        world.plan(agent, (0,), time(8, 30), time(12, 0))
    world.appointment(first, local(MONDAY, 9, 15))
    world.appointment(second, local(MONDAY, 9, 15))
    world.absence(third, local(MONDAY, 9, 0), local(MONDAY, 10, 0))
    arguments = {"service": world.service, "location": world.location}
    seen = set()
    with clock.frozen(EARLY):
        for minutes in range(8 * 60, 13 * 60, 15):
            start = local(MONDAY, minutes // 60, minutes % 60)
            later: list[slots.Slot] = []
            pair = slots.agents_at_start(db, start=start, later=later, **arguments)
            assert pair == (
                slots.agents_free_at(db, start=start, **arguments),
                slots.planned_agents_at(db, start=start, **arguments),
            ), start
            seen.add((bool(pair[0]), bool(pair[1])))
            # The day's later starts: what `next_free_slots` finds first (a refused
            # booking answers with them instead of loading 14 days again).
            nexts = slots.next_free_slots(db, after=start, limit=len(later), **arguments)
            assert later == (nexts if later else []), start
    # Free starts, taken ones (planned, none free), and starts of nobody's grid.
    assert seen == {(True, True), (False, True), (False, False)}


def test_next_free_slots(db):
    world = Builder(db)
    agent = world.agents[0]
    world.plan(agent, (0, 3), time(9, 0), time(10, 0))
    world.appointment(agent, local(MONDAY, 9, 30))
    after = local(MONDAY, 9, 0)
    found = slots.next_free_slots(
        db, service=world.service, location=world.location, after=after, now=EARLY
    )
    assert [slot.start for slot in found] == [
        local(MONDAY + timedelta(days=3), 9, 0),
        local(MONDAY + timedelta(days=3), 9, 30),
        local(MONDAY + timedelta(days=7), 9, 0),
    ]
    one = slots.next_free_slots(
        db, service=world.service, location=world.location, after=after, limit=1, now=EARLY
    )
    assert one == found[:1]


def test_next_free_slots_looks_past_one_chunk_and_stops_at_the_horizon(db):
    world = Builder(db, horizon=60)
    agent = world.agents[0]
    far = MONDAY + timedelta(days=35)
    world.plan(agent, (0,), time(9, 0), time(9, 30), valid_from=far, valid_until=far)
    now = local(MONDAY, 8, 0)
    found = slots.next_free_slots(
        db, service=world.service, location=world.location, after=now, now=now
    )
    assert [slot.start for slot in found] == [local(far, 9, 0)]
    world.service.max_horizon_days = 30
    assert (
        slots.next_free_slots(
            db, service=world.service, location=world.location, after=now, now=now
        )
        == []
    )


# --- Efficiency --------------------------------------------------------------------------


@pytest.fixture()
def statements(db: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = db.get_bind()

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_a_fixed_number_of_queries_whatever_the_window(db, statements):
    world = Builder(db, agents=3)
    for index, agent in enumerate(world.agents):
        world.plan(agent)
        world.absence(agent, local(MONDAY, 9), local(MONDAY, 10))
        world.appointment(agent, local(MONDAY + timedelta(days=index), 13, 0))
    db.flush()
    statements.clear()
    world.slots(MONDAY, days=1)
    # The slot rule's one statement and what it needs first: the offer, the place's
    # CPAS (every place has a team since 0052), its region and regime for the defaults.
    assert len(statements) <= 4
    # The place's CPAS is then known to the transaction (organisations.cpas_id_of_team):
    # both windows count from there.
    statements.clear()
    small = world.slots(MONDAY, days=1)
    one_day = len(statements)
    statements.clear()
    large = world.slots(MONDAY, days=56)
    assert len(statements) == one_day <= 3
    assert len(large) > len(small) > 0


def test_demo_data_offers_slots(db):
    service = db.scalar(select(Service).where(Service.code == "permanence-sociale"))
    location = db.scalar(select(Location).where(Location.code == "bxl-marolles"))
    walk_in = db.scalar(select(Service).where(Service.code == "sch-logement-sans-rdv"))
    assert service is not None and location is not None and walk_in is not None
    today = clock.to_local(clock.now()).date()
    found = slots.free_slots(db, service=service, location=location, first_day=today, days=14)
    assert found and all(slot.free >= 1 for slot in found)
    rogier = db.scalar(select(Location).where(Location.code == "sch-le22rogier"))
    assert slots.free_slots(db, service=walk_in, location=rogier, first_day=today, days=14) == []
