"""The availability engine: which starts of a service can still be booked, with whom.

One place for the rule; the public pages, the API, the reception view and the booking
(under its agent lock) all ask here.

A start is offered for an agent when, on that day (a date in Europe/Brussels):

- the service is active and not walk-in only, the location offers it
  (`ServiceLocation`), the agent can deliver it (`AgentService`) and is active;
- the day is not a holiday the location's CPAS closes on (`core.organisations`: its
  calendar, defaults per region and regime, editable; every place has a team, so a
  CPAS) nor a `Closure` of the location (or of every place of its CPAS:
  `closures_of(location)`);
- the whole appointment, start to end, lies in time when the agent's working plan at
  this location (weekday, `valid_from`…`valid_until`) and the location's opening hours
  both hold; the buffer after it may run past them (it is the agent's time to finish);
- start … end + buffer overlaps none of the agent's absences and none of the agent's
  active appointments (`ACTIVE_STATES`) at any location, each holding
  `start_at` … `busy_until`;
- the start is at least `min_notice_hours` after now, and its date at most
  `max_horizon_days` after today (dates in Brussels).

The grid. The agent's bookable time of a day is the intersection of their working plan
at the location (the union of its stretches) with the opening hours (their union); each
maximal stretch of it offers starts every `duration + buffer` minutes from the stretch's
own start, in wall-clock time: 08:30, 09:15, 10:00 … for 45 minutes, 13:00, 13:45 … after
lunch. Appointments and absences do not move the grid: they remove the starts they
overlap. So a day packs back to back from each opening, the same whether or not earlier
starts were taken, and two agents with the same plan offer the same starts (one slot,
free = 2). Starts are wall-clock times converted with zoneinfo on their own day, so
09:00 is 08:00 UTC on Saturday 28 March 2026 and 07:00 UTC on Sunday 29 March; a start
in the spring gap does not exist and is skipped, one in the autumn fold is the first
(fold=0, summer time); appointment lengths are real minutes.

Everything the search needs for a window is read in one statement (`_rows`: opening
hours, plans with their agents, closures, the CPAS's holidays, absences, appointments,
as one UNION ALL); the rest is arithmetic on epoch seconds.
"""

from __future__ import annotations

import bisect
import operator
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal

from sqlalchemy import (
    Boolean,
    ColumnElement,
    CompoundSelect,
    Date,
    Integer,
    Select,
    String,
    Time,
    and_,
    bindparam,
    cast,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from appointments.models import (
    ACTIVE_STATES,
    AgentAbsence,
    AgentService,
    Appointment,
    Closure,
    Location,
    OpeningHours,
    Service,
    ServiceLocation,
    WorkingPlan,
)
from core import clock, organisations
from core.accounts import Team, User
from core.clock import BRUSSELS
from core.db import UTCDateTime
from core.organisations import CpasHoliday

DAY = 86_400
_EPOCH = date(1970, 1, 1)
SEARCH_CHUNK_DAYS = 14  # next_free_slots looks this many days ahead at a time


def closures_of(location: Location) -> ColumnElement[bool]:
    """The closures of this place: its own, and those of every place of its CPAS (one
    query: the place's CPAS read in it)."""
    cpas_of_place = select(Team.cpas_id).where(Team.id == location.team_id).scalar_subquery()
    return or_(Closure.location_id == location.id, Closure.cpas_id == cpas_of_place)


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC, aware
    end: datetime  # start + the service's duration
    agent_ids: tuple[int, ...]  # agents free for start … end + buffer, ascending

    @property
    def free(self) -> int:
        """How many more bookings this start can take."""
        return len(self.agent_ids)


def free_slots(
    session: Session,
    *,
    service: Service,
    location: Location,
    first_day: date,
    days: int,
    now: datetime | None = None,
    notice: bool = True,
    cpas_id: int | Literal["unread"] | None = "unread",
    offered: bool = False,
) -> list[Slot]:
    """Every bookable start of `service` at `location` on the `days` days (Brussels
    dates) from `first_day`, in time order, each with the agents free for it.
    `notice=False`: staff booking for someone in front of them, from now on (the
    service's minimum notice is for online bookings). `cpas_id`, `offered`: what the
    caller read already (`_Search.load`)."""
    if days <= 0:
        return []
    search = _Search.load(
        session,
        service=service,
        location=location,
        first_day=first_day,
        last_day=first_day + timedelta(days=days - 1),
        now=now,
        notice=notice,
        cpas_id=cpas_id,
        offered=offered,
    )
    return search.slots() if search else []


def agents_free_at(
    session: Session,
    *,
    service: Service,
    location: Location,
    start: datetime,
    ignore_appointment_id: int | None = None,
    now: datetime | None = None,
    anywhere: bool = False,
    notice: bool = True,
) -> list[int]:
    """The agents (ascending ids) who can take `service` at `location` at exactly
    `start`: the check a booking makes once it holds its agents' locks.

    Same rules as `free_slots` (for every start it returns, this returns its
    `agent_ids`). `ignore_appointment_id`: an appointment being moved does not block
    its own new time. `anywhere=True` drops the grid (staff placing an appointment at
    any time the plan and the opening hours allow); every other rule still holds.
    """
    start = clock.as_utc(start)
    day = clock.to_local(start).date()
    search = _Search.load(
        session,
        service=service,
        location=location,
        first_day=day,
        last_day=day,
        now=now,
        ignore_appointment_id=ignore_appointment_id,
        notice=notice,
    )
    if search is None:
        return []
    moment = start.timestamp()
    if anywhere:
        return search.agents_at(day, moment)
    if moment != int(moment):
        return []
    return list(search.starts_of_day(day).get(int(moment), ()))


def agents_at_start(
    session: Session,
    *,
    service: Service,
    location: Location,
    start: datetime,
    ignore_appointment_id: int | None = None,
    notice: bool = True,
    later: list[Slot] | None = None,
    cpas_id: int | Literal["unread"] | None = "unread",
    offered: bool = False,
) -> tuple[list[int], list[int]]:
    """(`agents_free_at`, `planned_agents_at`) of one start from one load of the rule's
    rows: a booking refused because its start was taken needs both (issue 20: the
    refused request read them twice). `later`, when given, receives the free starts of
    the same day after `start`, in time order (what `next_free_slots` finds first).
    `cpas_id`, `offered`: what the caller read already (`_Search.load`)."""
    start = clock.as_utc(start)
    day = clock.to_local(start).date()
    search = _Search.load(
        session,
        service=service,
        location=location,
        first_day=day,
        last_day=day,
        now=None,
        ignore_appointment_id=ignore_appointment_id,
        notice=notice,
        cpas_id=cpas_id,
        offered=offered,
    )
    moment = start.timestamp()
    if search is None or moment != int(moment):
        return [], []
    if later is not None:
        later.extend(slot for slot in search.slots() if slot.start > start)
    return (
        list(search.starts_of_day(day).get(int(moment), ())),
        list(search.unbooked().starts_of_day(day).get(int(moment), ())),
    )


def planned_agents_at(
    session: Session,
    *,
    service: Service,
    location: Location,
    start: datetime,
    notice: bool = True,
) -> list[int]:
    """The agents whose plan has `start` on its grid, whatever is booked: tells a start
    that was taken from one that never was a slot (closed, off the grid, nobody working)."""
    start = clock.as_utc(start)
    day = clock.to_local(start).date()
    search = _Search.load(
        session,
        service=service,
        location=location,
        first_day=day,
        last_day=day,
        now=None,
        notice=notice,
        bookings=False,
    )
    moment = start.timestamp()
    if search is None or moment != int(moment):
        return []
    return list(search.starts_of_day(day).get(int(moment), ()))


def next_free_slots(
    session: Session,
    *,
    service: Service,
    location: Location,
    after: datetime,
    limit: int = 3,
    now: datetime | None = None,
    notice: bool = True,
    cpas_id: int | Literal["unread"] | None = "unread",
    offered: bool = False,
) -> list[Slot]:
    """The first `limit` bookable starts strictly after `after` (for "this slot was
    just taken, here are the next ones"), looking up to the service's horizon.
    `cpas_id`, `offered`: what the caller read already (`_Search.load`)."""
    now = clock.as_utc(now or clock.now())
    after = clock.as_utc(after)
    day = clock.to_local(max(after, now)).date()
    last = clock.to_local(now).date() + timedelta(days=service.max_horizon_days)
    found: list[Slot] = []
    while day <= last and len(found) < limit:
        days = min(SEARCH_CHUNK_DAYS, (last - day).days + 1)
        chunk = free_slots(
            session,
            service=service,
            location=location,
            first_day=day,
            days=days,
            now=now,
            notice=notice,
            cpas_id=cpas_id,
            offered=offered,
        )
        found.extend(slot for slot in chunk if slot.start > after)
        day += timedelta(days=days)
    return found[:limit]


# --- The search -------------------------------------------------------------------------


def is_public_holiday(day: date) -> bool:
    """A federal public holiday (the calendar where no CPAS is known)."""
    return day in organisations.federal_days(day.year)


def location_holidays(
    session: Session,
    location: Location,
    first_day: date,
    last_day: date,
    *,
    cpas_id: int | Literal["unread"] | None = "unread",
) -> frozenset[date]:
    """The holidays the location's CPAS closes on from `first_day` to `last_day`;
    `cpas_id`: the place's CPAS (`organisations.cpas_id_of_team` of its team), when the
    caller read it already (a booking: no second query)."""
    if cpas_id == "unread":
        cpas_id = organisations.cpas_id_of_team(session, location.team_id)
    return organisations.closed_days(session, cpas_id, first_day, last_day)


def is_location_holiday(session: Session, location: Location, day: date) -> bool:
    return day in location_holidays(session, location, day, day)


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _union(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint, non-touching intervals covering the same time."""
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(intervals):
        if merged and begin <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((begin, end))
    return merged


def _intersection(
    first: list[tuple[int, int]], second: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Of two `_union` results: the maximal stretches in both."""
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(first) and j < len(second):
        begin = max(first[i][0], second[j][0])
        end = min(first[i][1], second[j][1])
        if begin < end:
            out.append((begin, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return _union(out)


def _offset(moment: float) -> int:
    """Brussels' UTC offset, in seconds, at an epoch moment."""
    offset = datetime.fromtimestamp(moment, BRUSSELS).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


def _day_start(day: date) -> int:
    """Epoch seconds of `day` 00:00 read as UTC: wall seconds are counted from here."""
    return (day - _EPOCH).days * DAY


def _wall_to_utc(day: date, seconds: int) -> int | None:
    """Epoch seconds of a Brussels wall-clock time of `day`; None in the spring gap;
    the first of the two in the autumn fold (fold=0)."""
    naive = datetime.combine(day, time()) + timedelta(seconds=seconds)
    moment = naive.replace(tzinfo=BRUSSELS).astimezone(UTC)
    if moment.astimezone(BRUSSELS).replace(tzinfo=None) != naive:
        return None
    return int(moment.timestamp())


def _constant_offset(day: date) -> int | None:
    """The day's UTC offset when it does not change during the day, else None."""
    begin = _wall_to_utc(day, 0)
    end = _wall_to_utc(day + timedelta(days=1), 0)
    if begin is None or end is None:
        return None
    before, after = _offset(begin), _offset(end - 1)
    return before if before == after else None


def _within(runs: list[tuple[int, int]], begin: float, end: float) -> bool:
    """Is the wall-clock interval [begin, end) (seconds of the day) inside one run?"""
    index = bisect.bisect_right(runs, (begin, float("inf"))) - 1
    return index >= 0 and runs[index][0] <= begin and end <= runs[index][1]


def _fits(runs: list[tuple[int, int]], day: date, start: float, length: int) -> bool:
    """Does every moment of [start, start + length) read, on the Brussels wall clock,
    as a time of `day` inside `runs`? Exact across a change of time."""
    end = start + length
    pieces: list[tuple[float, float, int]]
    before, after = _offset(start), _offset(end - 1)
    if before == after:
        pieces = [(start, end, before)]
    else:  # one change of time inside: find it to the second
        low, high = int(start), int(end - 1)
        while high - low > 1:
            middle = (low + high) // 2
            if _offset(middle) == before:
                low = middle
            else:
                high = middle
        pieces = [(start, high, before), (high, end, after)]
    base = _day_start(day)
    for begin, finish, offset in pieces:
        wall_begin, wall_end = begin + offset - base, finish + offset - base
        if wall_begin < 0 or not _within(runs, wall_begin, wall_end):
            return False
    return True


# The kinds of row `_rows` reads in one statement.
_OPENING, _PLANS, _CLOSURES, _HOLIDAYS, _ABSENCES, _BOOKED = range(6)
_ROW_TYPES = {
    "a": Integer(),
    "b": Integer(),
    "t1": Time(),
    "t2": Time(),
    "d1": Date(),
    "d2": Date(),
    "ts1": UTCDateTime(),
    "ts2": UTCDateTime(),
    "flag": Boolean(),
    "text": String(),
}
# Which columns each kind fills, in the order `load` unpacks them.
_ROW_SHAPES = {
    _OPENING: ("a", "t1", "t2"),
    _PLANS: ("a", "b", "t1", "t2", "d1", "d2"),
    _CLOSURES: ("d1", "d2"),
    _HOLIDAYS: ("d1", "text", "flag"),
    _ABSENCES: ("a", "ts1", "ts2"),
    _BOOKED: ("a", "ts1", "ts2"),
}


def _shaped(kind: int, *columns: ColumnElement) -> list[ColumnElement]:
    """One branch of `_rows`' UNION: its kind, then every column of the common shape,
    NULL where this kind has nothing. Only the first branch (`_OPENING`) names and types
    them (the UNION takes them from it): the statement stays short enough for psycopg
    to keep its parsed form (4,096 characters)."""
    given = dict(zip(_ROW_SHAPES[kind], columns, strict=True))
    if kind != _OPENING:
        return [
            literal_column(str(kind)),
            *(given.get(name, null()) for name in _ROW_TYPES),
        ]
    return [
        literal_column(str(kind)).label("kind"),
        *(
            (given[name] if name in given else cast(null(), type_)).label(name)
            for name, type_ in _ROW_TYPES.items()
        ),
    ]


def _rows(
    session: Session,
    *,
    service: Service,
    location: Location,
    first_day: date,
    last_day: date,
    window: tuple[datetime, datetime],
    ignore_appointment_id: int | None,
    bookings: bool,
    cpas_id: int | None,
) -> dict[int, list[tuple]]:
    """Everything the slot rule reads, by kind, in one statement (a UNION ALL: one round
    trip instead of six): the place's opening hours, the plans of the agents who deliver
    the service there on an open weekday, the closures, the CPAS's stored holidays, and
    those agents' absences and active appointments in `window`."""
    statement = _rows_statement(
        holidays=cpas_id is not None,
        bookings=bookings,
        ignore=ignore_appointment_id is not None,
    )
    parameters = {
        "location_id": location.id,
        "team_id": location.team_id,
        "service_id": service.id,
        "first_day": first_day,
        "last_day": last_day,
        "window_start": window[0],
        "window_end": window[1],
        "cpas_id": cpas_id,
        "year_first": date(first_day.year, 1, 1),
        "year_last": date(last_day.year, 12, 31),
        "ignore_id": ignore_appointment_id,
    }
    rows: dict[int, list[tuple]] = {kind: [] for kind in _ROW_SHAPES}
    for row in session.execute(statement, parameters):
        kind = row[0]
        rows[kind].append(_ROW_PICK[kind](row))
    return rows


# Each kind's columns by position in a row of `_rows_statement` (the kind first).
_ROW_PICK = {
    kind: operator.itemgetter(*(1 + list(_ROW_TYPES).index(name) for name in names))
    for kind, names in _ROW_SHAPES.items()
}


@lru_cache(maxsize=8)
def _rows_statement(*, holidays: bool, bookings: bool, ignore: bool) -> CompoundSelect:
    """`_rows`' statement, built once for each shape (its values are parameters: only its
    cache key is computed again, not the statement)."""
    location_id = bindparam("location_id", type_=Integer())
    first_day = bindparam("first_day", type_=Date())
    last_day = bindparam("last_day", type_=Date())
    window_start = bindparam("window_start", type_=UTCDateTime())
    window_end = bindparam("window_end", type_=UTCDateTime())
    open_weekdays = select(OpeningHours.weekday).where(OpeningHours.location_id == location_id)
    plan_filter = (
        WorkingPlan.location_id == location_id,
        WorkingPlan.weekday.in_(open_weekdays),
        User.active.is_(True),
        WorkingPlan.valid_from <= last_day,
        or_(WorkingPlan.valid_until.is_(None), WorkingPlan.valid_until >= first_day),
    )

    def planned(query: Select) -> Select:
        return query.join(
            AgentService,
            and_(
                AgentService.user_id == WorkingPlan.user_id,
                AgentService.service_id == bindparam("service_id", type_=Integer()),
            ),
        ).join(User, User.id == WorkingPlan.user_id)

    # The plans once (a CTE): their rows, and the agents whose absences and appointments
    # are read.
    plans = (
        planned(
            select(
                WorkingPlan.user_id,
                WorkingPlan.weekday,
                WorkingPlan.starts,
                WorkingPlan.ends,
                WorkingPlan.valid_from,
                WorkingPlan.valid_until,
            )
        )
        .where(*plan_filter)
        .cte("plans")
    )
    agent_ids = select(plans.c.user_id)
    cpas_of_place = (
        select(Team.cpas_id)
        .where(Team.id == bindparam("team_id", type_=Integer()))
        .scalar_subquery()
    )
    branches = [
        select(
            *_shaped(_OPENING, OpeningHours.weekday, OpeningHours.opens, OpeningHours.closes)
        ).where(OpeningHours.location_id == location_id),
        select(
            *_shaped(
                _PLANS,
                plans.c.user_id,
                plans.c.weekday,
                plans.c.starts,
                plans.c.ends,
                plans.c.valid_from,
                plans.c.valid_until,
            )
        ),
        select(*_shaped(_CLOSURES, Closure.first_day, Closure.last_day)).where(
            or_(Closure.location_id == location_id, Closure.cpas_id == cpas_of_place),
            Closure.first_day <= last_day,
            Closure.last_day >= first_day,
        ),
        select(
            *_shaped(_ABSENCES, AgentAbsence.user_id, AgentAbsence.starts_at, AgentAbsence.ends_at)
        ).where(
            AgentAbsence.user_id.in_(agent_ids),
            AgentAbsence.starts_at < window_end,
            AgentAbsence.ends_at > window_start,
        ),
    ]
    if holidays:
        # organisations.stored_days, its values as parameters.
        branches.append(
            select(
                *_shaped(_HOLIDAYS, CpasHoliday.day, CpasHoliday.kind, CpasHoliday.closed)
            ).where(
                CpasHoliday.cpas_id == bindparam("cpas_id", type_=Integer()),
                CpasHoliday.day >= bindparam("year_first", type_=Date()),
                CpasHoliday.day <= bindparam("year_last", type_=Date()),
            )
        )
    if bookings:
        booked = select(
            *_shaped(_BOOKED, Appointment.agent_id, Appointment.start_at, Appointment.busy_until)
        ).where(
            Appointment.agent_id.in_(agent_ids),
            Appointment.status.in_(ACTIVE_STATES),
            Appointment.start_at < window_end,
            Appointment.busy_until > window_start,
        )
        if ignore:
            booked = booked.where(Appointment.id != bindparam("ignore_id", type_=Integer()))
        branches.append(booked)
    return union_all(*branches)


@dataclass
class _Agent:
    plans: list[tuple[int, int, int, date, date | None]] = field(default_factory=list)
    busy_starts: list[float] = field(default_factory=list)
    busy_ends: list[float] = field(default_factory=list)

    def runs(self, day: date, opening: list[tuple[int, int]]) -> list[tuple[int, int]]:
        weekday = day.weekday()
        stretches = [
            (begin, end)
            for plan_day, begin, end, valid_from, valid_until in self.plans
            if plan_day == weekday
            and valid_from <= day
            and (valid_until is None or day <= valid_until)
        ]
        return _intersection(_union(stretches), opening) if stretches else []

    def free(self, start: float, end: float) -> bool:
        index = bisect.bisect_left(self.busy_starts, end) - 1
        return index < 0 or self.busy_ends[index] <= start


@dataclass
class _Search:
    """What one service at one location needs for a window of days, loaded once."""

    first_day: date
    last_day: date
    earliest: float  # epoch seconds: now + min notice
    duration: int  # seconds
    busy: int  # seconds: duration + buffer
    opening: dict[int, list[tuple[int, int]]]  # weekday → stretches, wall seconds
    closed: set[date]
    agents: dict[int, _Agent]
    # Each agent's absences alone (merged, epoch seconds): the agents as planned,
    # whatever is booked (`unbooked`).
    away: dict[int, list[tuple[float, float]]] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        session: Session,
        *,
        service: Service,
        location: Location,
        first_day: date,
        last_day: date,
        now: datetime | None,
        ignore_appointment_id: int | None = None,
        notice: bool = True,
        bookings: bool = True,
        cpas_id: int | Literal["unread"] | None = "unread",
        offered: bool = False,
    ) -> _Search | None:
        """`cpas_id`: the place's CPAS, when the caller read it (see `location_holidays`);
        `offered`: the caller checked in this transaction that the place offers the
        service (`booking.offers`), so it is not read again."""
        if not service.active or service.booking_mode == "walk_in":
            return None
        now = clock.as_utc(now or clock.now())
        earliest = now + timedelta(hours=service.min_notice_hours if notice else 0)
        first_day = max(first_day, clock.to_local(earliest).date())
        last_day = min(
            last_day, clock.to_local(now).date() + timedelta(days=service.max_horizon_days)
        )
        if first_day > last_day:
            return None
        if not offered and (
            session.scalar(
                select(ServiceLocation.service_id).where(
                    ServiceLocation.service_id == service.id,
                    ServiceLocation.location_id == location.id,
                )
            )
            is None
        ):
            return None

        busy = (service.duration_minutes + service.buffer_minutes) * 60
        window_start = datetime.combine(first_day, time(), BRUSSELS) - timedelta(hours=3)
        window_end = datetime.combine(last_day + timedelta(days=1), time(), BRUSSELS) + timedelta(
            seconds=busy, hours=3
        )
        if cpas_id == "unread":
            cpas_id = organisations.cpas_id_of_team(session, location.team_id)
        rows = _rows(
            session,
            service=service,
            location=location,
            first_day=first_day,
            last_day=last_day,
            window=(window_start, window_end),
            ignore_appointment_id=ignore_appointment_id,
            bookings=bookings,
            cpas_id=cpas_id,
        )

        opening: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for weekday, opens, closes in rows[_OPENING]:
            opening[weekday].append((_seconds(opens), _seconds(closes)))
        opening = {weekday: _union(stretches) for weekday, stretches in opening.items()}
        if not opening:
            return None

        agents: dict[int, _Agent] = defaultdict(_Agent)
        for user_id, weekday, starts, ends, valid_from, valid_until in rows[_PLANS]:
            agents[user_id].plans.append(
                (weekday, _seconds(starts), _seconds(ends), valid_from, valid_until)
            )
        if not agents:
            return None

        closed: set[date] = set()
        for first, last in rows[_CLOSURES]:
            day = max(first, first_day)
            while day <= min(last, last_day):
                closed.add(day)
                day += timedelta(days=1)
        closed.update(
            organisations.closed_days_of(session, cpas_id, rows[_HOLIDAYS], first_day, last_day)
        )

        intervals: dict[int, list[tuple[float, float]]] = defaultdict(list)
        for user_id, begin, end in rows[_ABSENCES]:
            intervals[user_id].append((begin.timestamp(), end.timestamp()))
        away = {user_id: _union(spans) for user_id, spans in intervals.items()}
        for user_id, begin, end in rows[_BOOKED]:
            intervals[user_id].append((begin.timestamp(), end.timestamp()))
        for user_id, spans in intervals.items():
            merged = _union(spans)
            agents[user_id].busy_starts = [begin for begin, _ in merged]
            agents[user_id].busy_ends = [end for _, end in merged]

        return cls(
            first_day=first_day,
            last_day=last_day,
            earliest=earliest.timestamp(),
            duration=service.duration_minutes * 60,
            busy=busy,
            opening=opening,
            closed=closed,
            agents=dict(agents),
            away=away,
        )

    def unbooked(self) -> _Search:
        """The same search with no appointment booked (absences still count)."""
        agents = {
            user_id: _Agent(
                plans=agent.plans,
                busy_starts=[begin for begin, _ in self.away.get(user_id, [])],
                busy_ends=[end for _, end in self.away.get(user_id, [])],
            )
            for user_id, agent in self.agents.items()
        }
        return replace(self, agents=agents)

    def _open(self, day: date) -> list[tuple[int, int]]:
        if not (self.first_day <= day <= self.last_day):
            return []
        if day in self.closed:
            return []
        return self.opening.get(day.weekday(), [])

    def starts_of_day(self, day: date) -> dict[int, list[int]]:
        """Start (epoch seconds) → agents free for it, on one day."""
        starts: dict[int, list[int]] = defaultdict(list)
        opening = self._open(day)
        if not opening:
            return starts
        offset = _constant_offset(day)
        base = _day_start(day)
        step = self.busy
        for user_id, agent in sorted(self.agents.items()):
            runs = agent.runs(day, opening)
            for begin, end in runs:
                wall = begin
                while wall + self.duration <= end or (offset is None and wall < end):
                    if offset is not None:  # the usual day: arithmetic only
                        start = base + wall - offset
                    else:  # a change of time today: zoneinfo, exactly
                        converted = _wall_to_utc(day, wall)
                        if converted is None or not _fits(runs, day, converted, self.duration):
                            wall += step
                            continue
                        start = converted
                    if start >= self.earliest and agent.free(start, start + self.busy):
                        starts[start].append(user_id)
                    wall += step
        return starts

    def agents_at(self, day: date, start: float) -> list[int]:
        """Agents free for a start anywhere in their plan (no grid)."""
        opening = self._open(day)
        if not opening or start < self.earliest:
            return []
        return [
            user_id
            for user_id, agent in sorted(self.agents.items())
            if _fits(agent.runs(day, opening), day, start, self.duration)
            and agent.free(start, start + self.busy)
        ]

    def slots(self) -> list[Slot]:
        length = timedelta(seconds=self.duration)
        found: list[Slot] = []
        day = self.first_day
        while day <= self.last_day:
            for start, agent_ids in sorted(self.starts_of_day(day).items()):
                moment = datetime.fromtimestamp(start, UTC)
                found.append(Slot(start=moment, end=moment + length, agent_ids=tuple(agent_ids)))
            day += timedelta(days=1)
        return found
