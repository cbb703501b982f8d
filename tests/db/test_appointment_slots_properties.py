"""Property: free_slots equals a brute-force reference, and agents_free_at agrees with it.

Random small worlds (1–3 agents, plans and opening hours in 15-minute units, absences,
appointments at this or another location, closures, notice and horizon, a service of
random length and buffer) over four days around the changes of time in Brussels (27–30
March and 23–26 October 2026) or around the 11 November holiday. The reference is
written here, independently of appointments/slots.py: it walks each day minute by
minute in wall-clock time, finds which minutes an agent can be booked (planned here and
open), anchors the grid at the first minute of each run of such minutes, reads a wall
time as the earliest UTC moment that shows it (none: the spring gap), and then checks
every real minute of the appointment and of its buffer against every rule.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import holidays
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from appointments import slots
from appointments.models import ACTIVE_STATES, APPOINTMENT_STATES, Closure
from core import clock, organisations
from tests.db.slots_world import Builder

BRUSSELS = clock.BRUSSELS
DAYS = 4
BASES = [date(2026, 3, 27), date(2026, 10, 23), date(2026, 11, 9)]
MINUTE = timedelta(minutes=1)
QUARTER = timedelta(minutes=15)

# A time of day in quarters of an hour, often in the small hours (the changes of time)
# or office hours.
QUARTERS = st.one_of(st.integers(0, 94), st.integers(4, 12), st.integers(32, 60))


def _intervals(shortest: int, longest: int) -> st.SearchStrategy[tuple[int, int]]:
    return st.tuples(QUARTERS, st.integers(shortest, longest)).map(
        lambda pair: (pair[0], min(pair[0] + pair[1], 95))
    )


# A day of the window (0 to 3); plans and opening hours are on its weekday, every week.
DAY_OF_WINDOW = st.sampled_from([0, 1, 2, 2, 2, 3])  # 2: the Sunday of a change of time
OPEN = st.sampled_from([(0, 95), (0, 95), (34, 60), (2, 20)]) | _intervals(6, 48)
# Each day of the window: one or two stretches of opening hours.
OPENING = st.lists(st.lists(OPEN, min_size=1, max_size=2), min_size=DAYS, max_size=DAYS).map(
    lambda days: tuple((day, *hours) for day, stretches in enumerate(days) for hours in stretches)
)
LIKELY = st.sampled_from([True] * 9 + [False])


@dataclass(frozen=True)
class Plan:
    day: int  # of the window: the plan is on that weekday
    starts: int  # quarters
    ends: int
    valid_from: int  # days from the plan's day in the window
    valid_for: int | None  # days after valid_from, None: open-ended
    here: bool  # at the location searched, or at another one


@dataclass(frozen=True)
class Busy:
    start: int  # quarters from the base date 00:00 UTC minus one day
    length: int  # quarters
    status: str | None  # None: an absence
    buffer: int
    here: bool


@dataclass(frozen=True)
class Agent:
    plans: tuple[Plan, ...]
    busy: tuple[Busy, ...]
    delivers: bool
    active: bool


PLANS = st.builds(
    lambda day, interval, valid_from, valid_for, here: Plan(
        day, interval[0], interval[1], valid_from, valid_for, here
    ),
    DAY_OF_WINDOW,
    st.sampled_from([(32, 64), (4, 16), (36, 50), (6, 14)]) | _intervals(4, 32),
    st.sampled_from([-7, -7, -1, 0, 1]),
    st.one_of(st.none(), st.integers(0, 4)),
    LIKELY,
)
BUSY = st.builds(
    Busy,
    start=st.integers(0, (DAYS + 2) * 96),
    length=st.integers(1, 12),
    status=st.one_of(st.none(), st.sampled_from(APPOINTMENT_STATES)),
    buffer=st.integers(0, 2),
    here=st.booleans(),
)
AGENTS = st.builds(
    Agent,
    plans=st.lists(PLANS, min_size=1, max_size=4).map(tuple),
    busy=st.lists(BUSY, max_size=3).map(tuple),
    delivers=LIKELY,
    active=LIKELY,
)


@dataclass(frozen=True)
class World:
    base: date
    minutes: int
    buffer: int
    walk_in: bool
    notice: int  # hours
    horizon: int  # days
    now: int  # quarters from the base date 00:00 UTC minus one day
    opening: tuple[tuple[int, int, int], ...]  # day of the window, opens, closes (quarters)
    closures: tuple[tuple[int, int, str], ...]  # first day, days, "here" / "all" / "other"
    agents: tuple[Agent, ...]


WORLDS = st.builds(
    World,
    base=st.sampled_from(BASES),
    minutes=st.sampled_from([15, 20, 30, 45]) | st.integers(1, 16).map(lambda n: n * 5),
    buffer=st.sampled_from([0, 0, 5, 10, 15, 20]),
    walk_in=st.sampled_from([False] * 9 + [True]),
    notice=st.sampled_from([0, 0, 0, 1, 2, 24]),
    horizon=st.integers(1, 6),
    now=st.integers(0, 2 * 96),
    opening=OPENING,
    closures=st.lists(
        st.tuples(
            st.integers(0, DAYS - 1), st.integers(1, 2), st.sampled_from(["here", "all", "other"])
        ),
        max_size=1,
    ).map(tuple),
    agents=st.lists(AGENTS, min_size=1, max_size=3).map(tuple),
)


# The nights of the changes of time (Sunday 29 March and 25 October 2026, day 2 of the
# window): open all day, plans in the small hours, appointments and absences around them.
NIGHT_PLANS = st.builds(
    lambda interval, here: Plan(2, *interval, valid_from=-7, valid_for=None, here=here),
    st.tuples(st.integers(0, 16), st.integers(2, 12)).map(lambda p: (p[0], p[0] + p[1])),
    LIKELY,
)
NIGHT_BUSY = st.builds(
    Busy,
    start=st.integers(3 * 96 - 8, 3 * 96 + 24),  # Saturday 22:00 to Sunday 06:00 UTC
    length=st.integers(1, 8),
    status=st.one_of(st.none(), st.sampled_from(APPOINTMENT_STATES)),
    buffer=st.integers(0, 2),
    here=st.booleans(),
)
NIGHTS = st.builds(
    World,
    base=st.sampled_from(BASES[:2]),
    minutes=st.integers(1, 12).map(lambda n: n * 5),
    buffer=st.sampled_from([0, 0, 5, 10, 15]),
    walk_in=st.just(False),
    notice=st.just(0),
    horizon=st.just(6),
    now=st.just(0),
    opening=st.just(tuple((day, 0, 95) for day in range(DAYS))),
    closures=st.just(()),
    agents=st.lists(
        st.builds(
            Agent,
            plans=st.lists(NIGHT_PLANS, min_size=1, max_size=2).map(tuple),
            busy=st.lists(NIGHT_BUSY, max_size=2).map(tuple),
            delivers=st.just(True),
            active=st.just(True),
        ),
        min_size=1,
        max_size=3,
    ).map(tuple),
)


def _clock(quarters: int) -> time:
    return time(quarters // 4, quarters % 4 * 15)


def _weekday(world: World, of_window: int) -> int:
    return (world.base + timedelta(days=of_window)).weekday()


def _origin(world: World) -> datetime:
    return datetime.combine(world.base - timedelta(days=1), time(), UTC)


# --- The reference ------------------------------------------------------------------------


def _moment_showing(wall: datetime) -> datetime | None:
    """The earliest UTC moment whose Brussels wall clock shows `wall` (naive), if any.
    Brussels is UTC+1 or UTC+2, so only two candidates."""
    for hours in (2, 1):
        moment = wall.replace(tzinfo=UTC) - timedelta(hours=hours)
        if moment.astimezone(BRUSSELS).replace(tzinfo=None) == wall:
            return moment
    return None


def _reference(world: World, agent_ids: list[int]) -> dict[datetime, set[int]]:
    found: dict[datetime, set[int]] = defaultdict(set)
    if world.walk_in:
        return found
    origin = _origin(world)
    now = origin + world.now * QUARTER
    earliest = now + timedelta(hours=world.notice)
    last_day = now.astimezone(BRUSSELS).date() + timedelta(days=world.horizon)
    step = world.minutes + world.buffer
    closed = {
        world.base + timedelta(days=first + n)
        for first, days, where in world.closures
        if where != "other"
        for n in range(days)
    }
    belgian = holidays.Belgium(years=range(2025, 2028))
    for offset in range(DAYS):
        day = world.base + timedelta(days=offset)
        if day in belgian or day in closed or day > last_day:
            continue
        open_minutes = [False] * 1440
        for of_window, opens, closes in world.opening:
            if _weekday(world, of_window) == day.weekday():
                for minute in range(opens * 15, closes * 15):
                    open_minutes[minute] = True
        for agent, agent_id in zip(world.agents, agent_ids, strict=True):
            if not (agent.delivers and agent.active):
                continue
            bookable = [False] * 1440
            for plan in agent.plans:
                valid_from = world.base + timedelta(days=plan.day + plan.valid_from)
                if not plan.here or _weekday(world, plan.day) != day.weekday() or day < valid_from:
                    continue
                if plan.valid_for is not None and day > valid_from + timedelta(plan.valid_for):
                    continue
                for minute in range(plan.starts * 15, plan.ends * 15):
                    bookable[minute] = open_minutes[minute]
            taken = [
                (origin + busy.start * QUARTER, origin + (busy.start + busy.length) * QUARTER)
                if busy.status is None
                else (
                    origin + busy.start * QUARTER,
                    origin + (busy.start + busy.length + busy.buffer) * QUARTER,
                )
                for busy in agent.busy
                if busy.status is None or busy.status in ACTIVE_STATES
            ]
            anchor = None
            for minute in range(1440):
                if not bookable[minute]:
                    anchor = None
                    continue
                if anchor is None:
                    anchor = minute
                if (minute - anchor) % step:
                    continue
                start = _moment_showing(datetime.combine(day, time(minute // 60, minute % 60)))
                if start is None or start < earliest:
                    continue
                inside = True
                for k in range(world.minutes):
                    shown = (start + k * MINUTE).astimezone(BRUSSELS)
                    if shown.date() != day or not bookable[shown.hour * 60 + shown.minute]:
                        inside = False
                        break
                if not inside:
                    continue
                if any(
                    begin <= start + k * MINUTE < end for k in range(step) for begin, end in taken
                ):
                    continue
                found[start].add(agent_id)
    return found


# --- The world in the database ------------------------------------------------------------


def _build(db, world: World) -> Builder:
    origin = _origin(world)
    built = Builder(
        db,
        minutes=world.minutes,
        buffer=world.buffer,
        agents=0,
        opening=[(_weekday(world, d), _clock(o), _clock(c)) for d, o, c in world.opening],
        booking_mode="walk_in" if world.walk_in else "online",
        notice=world.notice,
        horizon=world.horizon,
    )
    other = built.new_location()
    for first, days, where in world.closures:
        day = world.base + timedelta(days=first)
        db.add(
            Closure(
                location_id={"here": built.location.id, "all": None, "other": other.id}[where],
                # "all": every place of the CPAS both places belong to.
                cpas_id=(
                    organisations.cpas_id_of_team(db, built.location.team_id)
                    if where == "all"
                    else None
                ),
                first_day=day,
                last_day=day + timedelta(days=days - 1),
                reason="property",
            )
        )
    for agent in world.agents:
        user = built.new_agent(delivers=agent.delivers)
        user.active = agent.active
        built.agents.append(user)
        for plan in agent.plans:
            valid_from = world.base + timedelta(days=plan.day + plan.valid_from)
            built.plan(
                user,
                (_weekday(world, plan.day),),
                _clock(plan.starts),
                _clock(plan.ends),
                valid_from=valid_from,
                valid_until=None
                if plan.valid_for is None
                else valid_from + timedelta(days=plan.valid_for),
                location=built.location if plan.here else other,
            )
        for busy in agent.busy:
            start = origin + busy.start * QUARTER
            if busy.status is None:
                built.absence(user, start, start + busy.length * QUARTER)
            else:
                built.appointment(
                    user,
                    start,
                    minutes=busy.length * 15,
                    buffer=busy.buffer * 15,
                    status=busy.status,
                    location=built.location if busy.here else other,
                )
    db.flush()
    return built


def _check(db, world: World, probes: list[int]) -> None:
    """free_slots against the reference; agents_free_at at every start it returns and
    at the probes (quarters from the origin), where the reference decides."""
    savepoint = db.begin_nested()
    try:
        built = _build(db, world)
        now = _origin(world) + world.now * QUARTER
        expected = _reference(world, [user.id for user in built.agents])
        found = slots.free_slots(
            db,
            service=built.service,
            location=built.location,
            first_day=world.base,
            days=DAYS,
            now=now,
        )
        event("no slot" if not found else "some slots")
        if any(_offset(slot.start) != _offset(slot.end) for slot in found):
            event("a slot across a change of time")
        assert {slot.start: set(slot.agent_ids) for slot in found} == dict(expected)
        assert [slot.start for slot in found] == sorted(expected)
        for slot in found:
            assert slot.end == slot.start + timedelta(minutes=world.minutes)
            assert list(slot.agent_ids) == sorted(slot.agent_ids)
            assert built.free_at(slot.start, now=now) == list(slot.agent_ids)
        for probe in probes:
            start = _origin(world) + probe * QUARTER
            assert set(built.free_at(start, now=now)) == expected.get(start, set())
    finally:
        savepoint.rollback()


def _offset(moment: datetime) -> timedelta | None:
    return moment.astimezone(BRUSSELS).utcoffset()


SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(world=WORLDS, probes=st.lists(st.integers(96, (DAYS + 1) * 96 - 12), max_size=6))
def test_free_slots_equal_the_brute_force_reference(db, world, probes):
    _check(db, world, probes)


@SETTINGS
@given(world=NIGHTS, probes=st.lists(st.integers(3 * 96 - 8, 3 * 96 + 24), max_size=6))
def test_the_nights_of_the_changes_of_time(db, world, probes):
    _check(db, world, probes)
