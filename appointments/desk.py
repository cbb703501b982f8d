"""The reception desk ("Accueil") and the agents' own view: plain services, no Flask.

- `day_agenda`: the agents working at a location on a day, side by side, with their
  appointments (every status, shown distinctly), their absences, and the queue.
- `add_walk_in`: someone without an appointment joins the queue (`source` "walk_in",
  no agent yet, already `checked_in`); a name and a number are optional.
- `queue`: who waits, in the order they will be called, with the expected wait.
- `call` / `call_next`: an agent calls someone in. A walk-in gets the agent and the
  time from now on, under the agent's lock (`booking.lock_agent`, then
  `booking.agent_busy`: the rule every booking follows), so nobody is ever
  double-booked; a busy agent is refused with the appointment that holds them.
- `finish`: "done"; when it ends early, the rest of its time is freed for the next one.
- `my_appointments`: an agent's coming appointments, and those of the people the
  agent has already seen.

Moving and cancelling from the desk are `booking.reschedule(by="staff")` and
`booking.cancel(by="staff")`; arrival and no-show are `booking.check_in` and
`booking.mark_no_show`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from appointments import booking, scope, slots
from appointments.models import (
    ACTIVE_STATES,
    AgentAbsence,
    AgentService,
    Appointment,
    BookingPerson,
    Closure,
    Location,
    Service,
    ServiceLocation,
    WorkingPlan,
)
from appointments.notifications import day_bounds
from core import audit, clock, phone
from core import fields as parse
from core.accounts import Team, User, get_user
from core.db import committed
from core.errors import FieldError, Invalid
from core.ids import parse_id

ROW_MINUTES = 15  # the agenda's time axis
# An agent still with someone after the planned end is taken as free this much later.
OVERRUN_MINUTES = 5
# A day view read again within this time by the same person is not logged again
# (the queue refreshes itself every 30 s).
READ_LOG_MINUTES = 15
MY_DAYS = 14
BOOK_DAYS = 7  # the slot list of the booking form: this many days from the chosen one
WAITING_STATES = ("checked_in",)
# "Done" and "left" (a walk-in cancelled at the desk) can be taken back this long after.
UNDO_MINUTES = 2
UNDOABLE_STATES = ("done", "cancelled")


# --- Small helpers ----------------------------------------------------------------------


def _at(day: date, moment: time) -> datetime:
    return clock.as_utc(datetime.combine(day, moment, tzinfo=clock.BRUSSELS))


def _hhmm(moment: datetime) -> str:
    return clock.to_local(moment).strftime("%H:%M")


def _subtract(
    stretches: list[tuple[datetime, datetime]], holes: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """The parts of `stretches` outside every hole."""
    result = stretches
    for hole_start, hole_end in holes:
        kept: list[tuple[datetime, datetime]] = []
        for start, end in result:
            if hole_end <= start or end <= hole_start:
                kept.append((start, end))
                continue
            if start < hole_start:
                kept.append((start, hole_start))
            if hole_end < end:
                kept.append((hole_end, end))
        result = kept
    return result


def closed_reason(session: Session, location: Location, day: date) -> str | None:
    """ "holiday", "closure" or None: why nobody takes appointments here that day."""
    if slots.is_location_holiday(session, location, day):
        return "holiday"
    closure = session.scalar(
        select(Closure.id)
        .where(
            slots.closures_of(location),
            Closure.first_day <= day,
            Closure.last_day >= day,
        )
        .limit(1)
    )
    return "closure" if closure is not None else None


def offered_services(session: Session, location: Location) -> list[Service]:
    """Active services of a location: the walk-in ones first, then by French name."""
    services = session.scalars(
        select(Service)
        .join(ServiceLocation, ServiceLocation.service_id == Service.id)
        .where(ServiceLocation.location_id == location.id, Service.active.is_(True))
        .order_by(Service.name_fr, Service.code)
    )
    return sorted(services, key=lambda service: service.booking_mode != "walk_in")


def location_for_team(session: Session, team: Team | None) -> Location | None:
    if team is None:
        return None
    return session.scalar(
        select(Location).where(Location.team_id == team.id).order_by(Location.id).limit(1)
    )


def list_locations(session: Session) -> list[Location]:
    return list(session.scalars(select(Location).order_by(Location.name, Location.code)))


# --- Who works where -------------------------------------------------------------------


@dataclass
class Working:
    """An agent's time at a location on a day: the plan, minus absences (UTC)."""

    agent: User
    planned: list[tuple[datetime, datetime]]
    absences: list[AgentAbsence]
    stretches: list[tuple[datetime, datetime]] = field(default_factory=list)
    services: set[int] = field(default_factory=set)


def working_agents(session: Session, location: Location, day: date) -> list[Working]:
    """The agents whose working plan holds at this location on `day` and who are not
    absent the whole of it, by name."""
    plans = session.execute(
        select(WorkingPlan, User)
        .join(User, User.id == WorkingPlan.user_id)
        .where(
            WorkingPlan.location_id == location.id,
            WorkingPlan.weekday == day.weekday(),
            WorkingPlan.valid_from <= day,
            or_(WorkingPlan.valid_until.is_(None), WorkingPlan.valid_until >= day),
            User.active.is_(True),
        )
        .order_by(WorkingPlan.starts)
    ).all()
    by_agent: dict[int, Working] = {}
    for plan, user in plans:
        working = by_agent.setdefault(user.id, Working(agent=user, planned=[], absences=[]))
        working.planned.append((_at(day, plan.starts), _at(day, plan.ends)))
    if not by_agent:
        return []
    first, after = day_bounds(day)
    for absence in session.scalars(
        select(AgentAbsence)
        .where(
            AgentAbsence.user_id.in_(list(by_agent)),
            AgentAbsence.starts_at < after,
            AgentAbsence.ends_at > first,
        )
        .order_by(AgentAbsence.starts_at)
    ):
        by_agent[absence.user_id].absences.append(absence)
    for user_id, service_id in session.execute(
        select(AgentService.user_id, AgentService.service_id).where(
            AgentService.user_id.in_(list(by_agent))
        )
    ):
        by_agent[user_id].services.add(service_id)
    result = []
    for working in by_agent.values():
        working.stretches = _subtract(
            sorted(working.planned),
            [(clock.as_utc(a.starts_at), clock.as_utc(a.ends_at)) for a in working.absences],
        )
        if working.stretches:
            result.append(working)
    return sorted(result, key=lambda w: (w.agent.display_name.lower(), w.agent.id))


# --- The queue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueEntry:
    appointment: Appointment
    position: int
    ticket: int | None  # walk-ins: their number of the day at this location
    since: datetime  # arrival
    expected_at: datetime | None  # None: no agent working now delivers the service
    expected_agent_id: int | None
    now: datetime

    @property
    def waited_minutes(self) -> int:
        return max(0, int((self.now - clock.as_utc(self.since)).total_seconds() // 60))

    @property
    def expected_wait_minutes(self) -> int | None:
        if self.expected_at is None:
            return None
        return max(0, round((self.expected_at - self.now).total_seconds() / 60))

    @property
    def walk_in(self) -> bool:
        return self.appointment.agent_id is None


def _tickets(session: Session, location: Location, day: date) -> dict[int, int]:
    """Walk-in appointment id → its number of the day at this location (1, 2, 3…)."""
    first, after = day_bounds(day)
    ids = session.scalars(
        select(Appointment.id)
        .where(
            Appointment.location_id == location.id,
            Appointment.source == "walk_in",
            Appointment.created_at >= first,
            Appointment.created_at < after,
        )
        .order_by(Appointment.created_at, Appointment.id)
    )
    return {appointment_id: number for number, appointment_id in enumerate(ids, start=1)}


def _busy_intervals(
    session: Session, agent_ids: list[int], now: datetime, until: datetime
) -> dict[int, list[tuple[datetime, datetime, int]]]:
    """Each agent's held time (start, end, appointment id; any location) from now on;
    someone still with the agent after the planned end holds them `OVERRUN_MINUTES` more."""
    busy: dict[int, list[tuple[datetime, datetime, int]]] = {agent_id: [] for agent_id in agent_ids}
    if not agent_ids:
        return busy
    rows = session.execute(
        select(
            Appointment.agent_id,
            Appointment.id,
            Appointment.start_at,
            Appointment.busy_until,
            Appointment.status,
            Appointment.called_at,
        ).where(
            Appointment.agent_id.in_(agent_ids),
            Appointment.status.in_(ACTIVE_STATES),
            Appointment.start_at < until,
            or_(
                Appointment.busy_until > now,
                and_(Appointment.status == "checked_in", Appointment.called_at.is_not(None)),
            ),
        )
    )
    overrun = now + timedelta(minutes=OVERRUN_MINUTES)
    for agent_id, appointment_id, start, end, status, called_at in rows:
        start, end = clock.as_utc(start), clock.as_utc(end)
        if status == "checked_in" and called_at is not None and end <= now:
            end = overrun
        busy[agent_id].append((start, end, appointment_id))
    return busy


def _earliest(
    stretches: list[tuple[datetime, datetime]],
    busy: list[tuple[datetime, datetime, int]],
    now: datetime,
    length: timedelta,
    hold: timedelta,
) -> datetime | None:
    """The first start ≥ now where `length` fits in a stretch and `hold` (length +
    buffer) overlaps nothing busy; the buffer may run past the stretch, as for slots."""
    candidates = sorted({now, *(end for _, end, _ in busy), *(start for start, _ in stretches)})
    for start in candidates:
        if start < now:
            continue
        if not any(begin <= start and start + length <= end for begin, end in stretches):
            continue
        if any(begin < start + hold and start < end for begin, end, _ in busy):
            continue
        return start
    return None


def _skills_needed(
    working: Working, service_id: int, walk_ins: dict[int, int], deliverers: dict[int, int]
) -> tuple[int, float]:
    """How much the queue needs this agent for something else than `service_id`: the
    walk-ins waiting for the agent's other services, then how rare those skills are
    among the agents working here (a skill only they have counts 1)."""
    others = working.services - {service_id}
    waiting = sum(walk_ins.get(other, 0) for other in others)
    rarity = sum(1 / deliverers[other] for other in others if deliverers.get(other))
    return waiting, rarity


def queue(
    session: Session,
    location: Location,
    day: date,
    *,
    now: datetime | None = None,
    working: list[Working] | None = None,
) -> list[QueueEntry]:
    """The people waiting at `location` on `day` (arrived, not yet called), in the order
    they are expected to be called, each with the expected wait.

    How the wait is computed: a booked person keeps their time: expected at their start,
    or now when it has passed, or later while their agent is still with someone. Then
    the walk-ins, in order of arrival, each take the earliest moment when one of the
    agents working here now who delivers their service is free for the service's
    duration (plus its buffer): after the appointments that agent holds, the walk-ins
    placed ahead of them, and within their working time. Among agents free at the same
    moment, the one whose other skills the queue needs least is proposed (the only
    debt-mediation agent is kept for the debt-mediation walk-ins). Nobody to deliver
    the service today: no estimate.

    `working`: what `working_agents` gives for that place and day, when the caller has
    it already (the desk's agenda: not read twice per page).
    """
    now = clock.as_utc(now or clock.now())
    first, after = day_bounds(day)
    waiting = list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.location_id == location.id,
                Appointment.status.in_(WAITING_STATES),
                Appointment.called_at.is_(None),
                Appointment.start_at >= first,
                Appointment.start_at < after,
            )
            .order_by(Appointment.checked_in_at, Appointment.id)
            .options(selectinload(Appointment.person), selectinload(Appointment.service))
        )
    )
    if not waiting:
        return []
    tickets = _tickets(session, location, day)
    if working is None:
        working = working_agents(session, location, day)
    agents = {w.agent.id: w for w in working}
    busy = _busy_intervals(
        session, sorted({*agents, *(a.agent_id for a in waiting if a.agent_id)}), now, after
    )
    # Who else can take each service, and what the walk-ins wait for: an agent whose
    # rarer skills are needed is kept free when another one can take the person.
    deliverers: dict[int, int] = {}
    for working in agents.values():
        for service_id in working.services:
            deliverers[service_id] = deliverers.get(service_id, 0) + 1
    walk_ins: dict[int, int] = {}
    for appointment in waiting:
        if appointment.agent_id is None:
            walk_ins[appointment.service_id] = walk_ins.get(appointment.service_id, 0) + 1
    planned: list[tuple[datetime | None, int | None, Appointment]] = []
    for appointment in waiting:
        if appointment.agent_id is None:
            continue
        expected = max(clock.as_utc(appointment.start_at), now)
        for start, end, other in sorted(busy.get(appointment.agent_id, [])):
            # Still with someone else at that moment: when they are free.
            if other != appointment.id and start <= expected < end:
                expected = end
        planned.append((expected, appointment.agent_id, appointment))
    for appointment in waiting:
        if appointment.agent_id is not None:
            continue
        service = appointment.service
        length = timedelta(minutes=service.duration_minutes)
        hold = length + timedelta(minutes=service.buffer_minutes)
        best: tuple[tuple[datetime, int, float, int], int] | None = None
        for agent_id, working in sorted(agents.items()):
            if service.id not in working.services:
                continue
            start = _earliest(working.stretches, busy[agent_id], now, length, hold)
            if start is None:
                continue
            key = (start, *_skills_needed(working, service.id, walk_ins, deliverers), agent_id)
            if best is None or key < best[0]:
                best = (key, agent_id)
        if best is None:
            planned.append((None, None, appointment))
            continue
        start, agent_id = best[0][0], best[1]
        busy[agent_id].append((start, start + hold, appointment.id))
        planned.append((start, agent_id, appointment))
    far = datetime.max.replace(tzinfo=clock.BRUSSELS)
    planned.sort(
        key=lambda item: (item[0] or far, clock.as_utc(item[2].checked_in_at or now), item[2].id)
    )
    return [
        QueueEntry(
            appointment=appointment,
            position=position,
            ticket=tickets.get(appointment.id),
            since=appointment.checked_in_at or appointment.start_at,
            expected_at=expected,
            expected_agent_id=agent_id,
            now=now,
        )
        for position, (expected, agent_id, appointment) in enumerate(planned, start=1)
    ]


# --- The day's agenda -----------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One appointment or absence in an agent's column."""

    start: datetime  # UTC
    end: datetime
    row: int  # first 15-min row (1 = the agenda's first row)
    span: int
    appointment: Appointment | None = None
    ticket: int | None = None
    absence: AgentAbsence | None = None

    @property
    def state(self) -> str:
        """booked, waiting (arrived), with_agent (called in), done, no_show, cancelled,
        or absent."""
        if self.appointment is None:
            return "absent"
        status = self.appointment.status
        if status == "checked_in":
            return "with_agent" if self.appointment.called_at else "waiting"
        return status


@dataclass
class Column:
    agent: User
    stretches: list[tuple[datetime, datetime]]
    blocks: list[Block]
    services: set[int] = field(default_factory=set)  # the services the agent delivers


@dataclass(frozen=True)
class Closed:
    """A "done" or a "left" of the last `UNDO_MINUTES`, which the desk may take back."""

    appointment: Appointment
    status: str  # done or cancelled
    at: datetime


@dataclass
class DayAgenda:
    location: Location
    day: date
    now: datetime
    first_row_at: datetime  # UTC moment of row 1
    rows: int
    columns: list[Column]
    queue: list[QueueEntry]
    services: list[Service]  # offered here: the walk-in buttons
    closed: str | None
    tickets: dict[int, int]
    with_agent: list[Appointment] = field(default_factory=list)  # called in, not done
    recent: list[Closed] = field(default_factory=list)  # done or left, still undoable

    @property
    def times(self) -> list[tuple[int, datetime]]:
        """(row, moment) of every row, for the time axis."""
        step = timedelta(minutes=ROW_MINUTES)
        return [(row, self.first_row_at + step * (row - 1)) for row in range(1, self.rows + 1)]

    @property
    def now_row(self) -> int | None:
        """The row holding now, when now is on this agenda."""
        offset = self.now - self.first_row_at
        row = int(offset.total_seconds() // (ROW_MINUTES * 60)) + 1
        return row if 1 <= row <= self.rows else None

    @property
    def is_today(self) -> bool:
        return clock.to_local(self.now).date() == self.day

    def agent_name(self, agent_id: int | None) -> str:
        for column in self.columns:
            if column.agent.id == agent_id:
                return column.agent.display_name
        return ""

    def callable_agents(self, appointment: Appointment) -> list[User]:
        """Agents of this day who may take this person: their own agent, or for a
        walk-in every agent working here who delivers the service."""
        if appointment.agent_id is not None:
            return [c.agent for c in self.columns if c.agent.id == appointment.agent_id]
        return [
            column.agent for column in self.columns if appointment.service_id in column.services
        ]


def _floor(moment: datetime) -> datetime:
    local = clock.to_local(moment)
    return clock.as_utc(local.replace(minute=0, second=0, microsecond=0))


def day_agenda(
    session: Session,
    location: Location,
    day: date,
    *,
    reader: User | None = None,
    now: datetime | None = None,
) -> DayAgenda:
    """Every agent working at `location` on `day`, side by side, with their appointments
    there (all statuses) and absences, in Brussels time, and the walk-in queue.

    `reader`: the member of staff who sees the names (the read is audited, once per
    `READ_LOG_MINUTES` per person, location and day)."""
    now = clock.as_utc(now or clock.now())
    first, after = day_bounds(day)
    working = working_agents(session, location, day)
    planned_here = list(working)  # before the columns of agents without a plan
    ids = [w.agent.id for w in working]
    # Each appointment with its agent: someone with an appointment here that day but no
    # plan (any more) still gets a column, read in the same statement (not one each).
    booked = session.execute(
        select(Appointment, User)
        .join(User, User.id == Appointment.agent_id)
        .where(
            Appointment.location_id == location.id,
            Appointment.start_at >= first,
            Appointment.start_at < after,
        )
        .order_by(Appointment.start_at, Appointment.id)
        .options(selectinload(Appointment.person), selectinload(Appointment.service))
    ).all()
    appointments = [appointment for appointment, _agent in booked]
    unplanned = {agent.id: agent for _appointment, agent in booked if agent.id not in ids}
    for _agent_id, agent in sorted(unplanned.items()):
        working.append(Working(agent=agent, planned=[], absences=[]))
    moments = [m for w in working for stretch in w.planned for m in stretch]
    moments += [m for a in appointments for m in (a.start_at, a.end_at)]
    if moments:
        start_at = _floor(min(clock.as_utc(m) for m in moments))
        end_at = max(clock.as_utc(m) for m in moments)
    else:
        start_at, end_at = _at(day, time(8, 0)), _at(day, time(17, 0))
    step = timedelta(minutes=ROW_MINUTES)
    rows = max(1, -(-int((end_at - start_at) / timedelta(seconds=1)) // int(step.total_seconds())))

    def place(start: datetime, end: datetime) -> tuple[int, int]:
        start, end = max(clock.as_utc(start), start_at), clock.as_utc(end)
        row = int((start - start_at) / step) + 1
        last = -(-int((end - start_at).total_seconds()) // int(step.total_seconds()))
        return row, max(1, min(last, rows) - row + 1)

    tickets = _tickets(session, location, day)
    columns = []
    for w in working:
        blocks = []
        for appointment in appointments:
            if appointment.agent_id == w.agent.id:
                row, span = place(appointment.start_at, appointment.end_at)
                blocks.append(
                    Block(
                        start=clock.as_utc(appointment.start_at),
                        end=clock.as_utc(appointment.end_at),
                        row=row,
                        span=span,
                        appointment=appointment,
                        ticket=tickets.get(appointment.id),
                    )
                )
        for absence in w.absences:
            begin = max(clock.as_utc(absence.starts_at), start_at)
            end = min(clock.as_utc(absence.ends_at), start_at + step * rows)
            if begin < end:
                row, span = place(begin, end)
                blocks.append(Block(start=begin, end=end, row=row, span=span, absence=absence))
        blocks.sort(key=lambda block: (block.start, block.row))
        columns.append(
            Column(agent=w.agent, stretches=w.stretches, blocks=blocks, services=w.services)
        )
    if reader is not None:
        _record_day_read(session, reader, location, day, now)
    with_agent = sorted(
        (
            a
            for a in appointments
            if a.status == "checked_in" and a.called_at is not None and a.agent_id in ids
        ),
        key=lambda a: (clock.as_utc(a.called_at or a.start_at), a.id),
    )
    return DayAgenda(
        location=location,
        day=day,
        now=now,
        first_row_at=start_at,
        rows=rows,
        columns=columns,
        queue=queue(session, location, day, now=now, working=planned_here),
        services=offered_services(session, location),
        closed=closed_reason(session, location, day),
        tickets=tickets,
        with_agent=with_agent,
        recent=recently_closed(session, location, day, now=now),
    )


def _record_day_read(
    session: Session, reader: User, location: Location, day: date, now: datetime
) -> None:
    entity_id = f"{location.code}:{day.isoformat()}"
    recent = session.scalar(
        select(audit.AuditEntry.id)
        .where(
            audit.AuditEntry.actor_id == reader.id,
            audit.AuditEntry.at >= now - timedelta(minutes=READ_LOG_MINUTES),
            audit.AuditEntry.action == "read",
            audit.AuditEntry.entity_type == "appointment_agenda",
            audit.AuditEntry.entity_id == entity_id,
        )
        .limit(1)
    )
    if recent is None:
        audit.record_read(session, reader, "appointment_agenda", entity_id)


# --- Walk-ins ----------------------------------------------------------------------------


def add_walk_in(
    session: Session,
    *,
    location: Location | None,
    service: Service | None,
    name: str = "",
    phone_number: str = "",
    actor: User | None,
) -> Appointment:
    """Someone without an appointment joins the queue: arrived now, no agent yet, the
    service's duration from now. Name and number are optional (a ticket number is
    shown instead). Invalid, with nothing made, on a bad choice or number."""
    errors: dict[str, FieldError] = {}
    if location is None:
        errors["location"] = FieldError("unknown_choice")
    if service is None or not service.active:
        errors["service"] = FieldError("unknown_choice")
    elif location is not None and not booking.offers(session, service, location):
        errors["service"] = FieldError("not_offered")
    elif service.booking_mode == "phone":
        errors["service"] = FieldError("phone_only")
    if (
        location is not None
        and closed_reason(session, location, clock.to_local(clock.now()).date()) is not None
    ):
        errors["walk_in"] = FieldError("closed_today")
    name = parse.text({"name": name}, "name", errors, limit=booking.NAME_MAX)
    e164: str | None = None  # no number: nothing is ever sent
    if (phone_number or "").strip():
        try:
            e164 = phone.normalize(phone_number).e164
        except phone.InvalidPhoneNumber:
            errors["phone"] = FieldError("invalid_phone")
    if errors:
        raise Invalid(errors)
    assert location is not None and service is not None
    now = clock.now()
    person = BookingPerson(name=name, phone=e164, language=None, created_at=now)
    session.add(person)
    session.flush()
    end = now + timedelta(minutes=service.duration_minutes)
    appointment = Appointment(
        service_id=service.id,
        location_id=location.id,
        agent_id=None,
        person_id=person.id,
        start_at=now,
        end_at=end,
        busy_until=end,
        status="checked_in",
        source="walk_in",
        created_at=now,
        created_by_id=actor.id if actor is not None else None,
        checked_in_at=now,
    )
    session.add(appointment)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="appointment",
        entity_id=appointment.id,
        details={
            "service": service.code,
            "location": location.code,
            "source": "walk_in",
            "name_given": bool(name),
            "phone_given": bool(e164),
        },
    )
    return appointment


def leave(session: Session, appointment: Appointment, *, actor: User | None) -> Appointment:
    """A walk-in who was waiting left without being seen ("Left"): cancelled by staff,
    which `undo` can take back for a while."""
    if appointment.source != "walk_in" or appointment.status not in ("checked_in", "cancelled"):
        raise Invalid({"status": FieldError("wrong_status")})
    if appointment.status == "checked_in" and appointment.called_at is not None:
        raise Invalid({"status": FieldError("wrong_status")})  # with the agent: "Done"
    return booking.cancel(session, appointment, by="staff", actor=actor)


# --- Calling someone in ---------------------------------------------------------------------


def delivers(session: Session, agent: User, service_id: int) -> bool:
    """Can this agent deliver this service (and is the account active)?"""
    return agent.active and session.get(AgentService, (agent.id, service_id)) is not None


def _conflict(
    session: Session, agent_id: int, start: datetime, busy_until: datetime, ignore: int
) -> Appointment | None:
    return session.scalar(
        select(Appointment)
        .where(
            Appointment.agent_id == agent_id,
            Appointment.status.in_(ACTIVE_STATES),
            Appointment.start_at < busy_until,
            Appointment.busy_until > start,
            Appointment.id != ignore,
        )
        .order_by(Appointment.start_at)
        .limit(1)
    )


def call(
    session: Session, appointment: Appointment, agent: User | None, *, actor: User | None
) -> Appointment:
    """An agent calls the person in. A booked person is called by their own agent; a
    walk-in gets `agent` and the time from now for the service's duration, under the
    agent's lock, or Invalid naming until when the agent is busy. Calling someone
    already called changes nothing (a double tap, or two desks at once)."""
    # The person's row first: two desks calling the same walk-in wait on each other here.
    session.execute(
        select(Appointment.id).where(Appointment.id == appointment.id).with_for_update()
    )
    session.refresh(appointment)
    if appointment.status == "checked_in" and appointment.called_at is not None:
        return appointment
    if appointment.status != "checked_in":
        raise Invalid({"status": FieldError("wrong_status")})
    now = clock.now()
    if appointment.agent_id is not None:
        if agent is not None and agent.id != appointment.agent_id:
            raise Invalid({"agent": FieldError("not_their_agent")})
        appointment.called_at = now
        session.flush()
        _audit_call(session, appointment, actor)
        return appointment
    if agent is None:
        raise Invalid({"agent": FieldError("required")})
    service = appointment.service
    if not delivers(session, agent, service.id):
        raise Invalid({"agent": FieldError("does_not_deliver")})
    end = now + timedelta(minutes=service.duration_minutes)
    busy_until = end + timedelta(minutes=service.buffer_minutes)
    booking.lock_agent(session, agent.id)
    if booking.agent_busy(session, agent.id, now, busy_until, appointment.id):
        held = _conflict(session, agent.id, now, busy_until, appointment.id)
        params = {"agent": agent.display_name}
        if held is not None:
            params.update({"from": _hhmm(held.start_at), "until": _hhmm(held.busy_until)})
        raise Invalid({"agent": FieldError("agent_busy", params)})
    appointment.agent_id = agent.id
    appointment.start_at = now
    appointment.end_at = end
    appointment.busy_until = busy_until
    appointment.called_at = now
    session.flush()
    _audit_call(session, appointment, actor)
    return appointment


def _audit_call(session: Session, appointment: Appointment, actor: User | None) -> None:
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="appointment",
        entity_id=appointment.id,
        details={"called": True, "agent_id": appointment.agent_id},
    )


def call_next(
    session: Session, location: Location, agent: User, *, actor: User | None
) -> Appointment | None:
    """The agent calls the first person of the queue they can take (their own booked
    person, or a walk-in for a service they deliver); None when nobody waits for them."""
    today = clock.to_local(clock.now()).date()
    for entry in queue(session, location, today):
        appointment = entry.appointment
        if appointment.agent_id == agent.id or (
            appointment.agent_id is None and delivers(session, agent, appointment.service_id)
        ):
            return call(session, appointment, agent, actor=actor)
    return None


def finish(session: Session, appointment: Appointment, *, actor: User | None) -> Appointment:
    """ "Done" (`booking.mark_done`); ended before its planned end, the rest of the
    agent's time is freed for the next person."""
    booking.mark_done(session, appointment, actor=actor)
    now = clock.now()
    start, end = clock.as_utc(appointment.start_at), clock.as_utc(appointment.end_at)
    if start < now < end:
        buffer = clock.as_utc(appointment.busy_until) - end
        appointment.end_at = now
        appointment.busy_until = now + buffer
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="update",
            entity_type="appointment",
            entity_id=appointment.id,
            # What "undo" puts back.
            details={
                "ended_early": True,
                "end_at": end.isoformat(),
                "busy_until": (end + buffer).isoformat(),
            },
        )
    return appointment


# --- Taking back a "done" or a "left" -------------------------------------------------------


def _status_changes(
    session: Session, appointment_ids: list[int], since: datetime
) -> dict[int, list[audit.AuditEntry]]:
    """The audited changes of these appointments since `since`, oldest first."""
    changes: dict[int, list[audit.AuditEntry]] = {}
    if not appointment_ids:
        return changes
    for entry in session.scalars(
        select(audit.AuditEntry)
        .where(
            audit.AuditEntry.entity_type == "appointment",
            audit.AuditEntry.entity_id.in_([str(i) for i in appointment_ids]),
            audit.AuditEntry.action == "update",
            audit.AuditEntry.at >= since,
        )
        .order_by(audit.AuditEntry.at, audit.AuditEntry.id)
    ):
        changes.setdefault(int(entry.entity_id), []).append(entry)
    return changes


def _undoable(appointment: Appointment, changes: list[audit.AuditEntry]) -> Closed | None:
    """The closing of this appointment when it can still be taken back: its last status
    change, made within the window, to "done" or "cancelled" from "arrived"."""
    last = next((e for e in reversed(changes) if "status" in (e.details or {})), None)
    if last is None or appointment.status not in UNDOABLE_STATES:
        return None
    details = last.details or {}
    if details["status"] != appointment.status or appointment.checked_in_at is None:
        return None
    if appointment.status == "done" and details.get("from") != "checked_in":
        return None
    # Only a walk-in who left ("Parti·e") comes back: a booked appointment cancelled by
    # staff may already have offered its time to the waiting list.
    if appointment.status == "cancelled" and (
        appointment.cancelled_by != "staff" or appointment.source != "walk_in"
    ):
        return None
    return Closed(appointment=appointment, status=appointment.status, at=clock.as_utc(last.at))


def recently_closed(
    session: Session, location: Location, day: date, *, now: datetime | None = None
) -> list[Closed]:
    """The people of this location and day marked done or left in the last
    `UNDO_MINUTES`, who can still be taken back, the latest first."""
    now = clock.as_utc(now or clock.now())
    since = now - timedelta(minutes=UNDO_MINUTES)
    first, after = day_bounds(day)
    candidates = list(
        session.scalars(
            select(Appointment).where(
                Appointment.location_id == location.id,
                Appointment.start_at >= first,
                Appointment.start_at < after,
                Appointment.status.in_(UNDOABLE_STATES),
                Appointment.checked_in_at.is_not(None),
            )
        )
    )
    changes = _status_changes(session, [a.id for a in candidates], since)
    found = [
        closed
        for appointment in candidates
        if (closed := _undoable(appointment, changes.get(appointment.id, []))) is not None
    ]
    return sorted(found, key=lambda closed: (closed.at, closed.appointment.id), reverse=True)


def undo(session: Session, appointment: Appointment, *, actor: User | None) -> Appointment:
    """Takes back a "done" or a "left" of the last `UNDO_MINUTES`: the person is with
    their agent again, or waiting again at their place in the queue. Too late, or the
    agent has called someone else since: Invalid, nothing changed. Audited."""
    session.execute(
        select(Appointment.id).where(Appointment.id == appointment.id).with_for_update()
    )
    session.refresh(appointment)
    now = clock.now()
    since = clock.as_utc(now) - timedelta(minutes=UNDO_MINUTES)
    changes = _status_changes(session, [appointment.id], since).get(appointment.id, [])
    closed = _undoable(appointment, changes)
    if closed is None:
        raise Invalid({"status": FieldError("undo_too_late")})
    undone = appointment.status
    if undone == "cancelled":
        appointment.cancelled_at = None
        appointment.cancelled_by = None
    else:
        ended_early = next(
            (e for e in reversed(changes) if (e.details or {}).get("ended_early")), None
        )
        end, busy_until = clock.as_utc(appointment.end_at), clock.as_utc(appointment.busy_until)
        if ended_early is not None and clock.as_utc(ended_early.at) >= closed.at:
            end = clock.as_utc(datetime.fromisoformat(ended_early.details["end_at"]))
            busy_until = clock.as_utc(datetime.fromisoformat(ended_early.details["busy_until"]))
        if appointment.agent_id is not None and appointment.called_at is not None:
            # Back with the agent: only if nobody else was called in by them since.
            hold_until = max(busy_until, clock.as_utc(now) + timedelta(minutes=OVERRUN_MINUTES))
            booking.lock_agent(session, appointment.agent_id)
            if booking.agent_busy(session, appointment.agent_id, now, hold_until, appointment.id):
                agent = session.get(User, appointment.agent_id)
                held = _conflict(session, appointment.agent_id, now, hold_until, appointment.id)
                params = {"agent": agent.display_name if agent else ""}
                if held is not None:
                    params.update({"from": _hhmm(held.start_at), "until": _hhmm(held.busy_until)})
                raise Invalid({"agent": FieldError("agent_busy", params)})
        appointment.end_at = end
        appointment.busy_until = busy_until
    appointment.status = "checked_in"
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="appointment",
        entity_id=appointment.id,
        details={"status": "checked_in", "from": undone, "undone": True},
    )
    return appointment


# --- The agent's own view -------------------------------------------------------------------


@dataclass
class MyAppointments:
    mine: list[Appointment]
    beneficiaries: list[Appointment]  # of people the agent has seen, with another agent
    agents: dict[int, User]


def my_appointments(
    session: Session, agent: User, *, days: int = MY_DAYS, now: datetime | None = None
) -> MyAppointments:
    """The agent's appointments from today on for `days` days, at every location; and
    the coming appointments, with any other agent (or waiting as walk-ins), of the
    people this agent has already seen (an earlier appointment with them, done).
    The read is audited."""
    now = clock.as_utc(now or clock.now())
    today = clock.to_local(now).date()
    first, _ = day_bounds(today)
    last, _ = day_bounds(today + timedelta(days=days))
    mine = list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.agent_id == agent.id,
                Appointment.start_at >= first,
                Appointment.start_at < last,
                Appointment.status != "cancelled",
            )
            .order_by(Appointment.start_at, Appointment.id)
            .options(selectinload(Appointment.person), selectinload(Appointment.service))
        )
    )
    seen = (
        select(Appointment.person_id)
        .where(
            Appointment.agent_id == agent.id,
            Appointment.status == "done",
            Appointment.start_at < now,
        )
        .distinct()
    )
    theirs = list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.person_id.in_(seen),
                or_(Appointment.agent_id.is_(None), Appointment.agent_id != agent.id),
                Appointment.status.in_(("booked", "checked_in")),
                Appointment.start_at >= first,
                Appointment.start_at < last,
            )
            .order_by(Appointment.start_at, Appointment.id)
        )
    )
    agent_ids = {a.agent_id for a in theirs if a.agent_id is not None}
    agents = {
        user.id: user
        for user in session.scalars(select(User).where(User.id.in_(agent_ids)))
        if agent_ids
    }
    audit.record_read(session, agent, "appointment_agenda", f"agent:{agent.id}")
    return MyAppointments(mine=mine, beneficiaries=theirs, agents=agents)


def agents_for(session: Session, service: Service, location: Location) -> list[User]:
    """Active agents who deliver `service` and have a working plan at `location`."""
    return list(
        session.scalars(
            select(User)
            .join(AgentService, AgentService.user_id == User.id)
            .where(
                AgentService.service_id == service.id,
                User.active.is_(True),
                User.id.in_(
                    select(WorkingPlan.user_id).where(WorkingPlan.location_id == location.id)
                ),
            )
            .order_by(User.display_name, User.id)
        )
    )


# --- The desk pages' use cases: one call per page, the transaction included ---------------
# Each commits what it did (an audited read, a change) and, refused, rolls back and
# raises: a view calls one of these and renders.

Change = Callable[..., Appointment]


@dataclass(frozen=True)
class Board:
    agenda: DayAgenda
    locations: list[Location]  # the places to switch to


def open_board(session: Session, location: Location, day: date, *, reader: User) -> Board:
    """The desk of a place and a day, and the places to switch to; the read audited."""
    agenda = day_agenda(session, location, day, reader=reader)
    session.commit()  # the audited read
    return Board(agenda=agenda, locations=scope.visible_locations(session, reader))


def open_my_appointments(session: Session, agent: User) -> MyAppointments:
    """The agent's own list (`my_appointments`), the read audited."""
    result = my_appointments(session, agent)
    session.commit()  # the audited read
    return result


def ticket_of(session: Session, appointment: Appointment) -> int | None:
    """The walk-in's number of the day, as the queue shows it (None for a booking)."""
    day = clock.to_local(appointment.start_at).date()
    return _tickets(session, appointment.location, day).get(appointment.id)


def act(
    session: Session, appointment_id: int, change: Change, *, actor: User
) -> tuple[Appointment, str] | None:
    """`change(session, appointment, actor=actor)` on the appointment, committed: the
    appointment and its status before; None when there is no such appointment."""
    appointment = scope.scoped_appointment(session, actor, appointment_id)
    if appointment is None:
        return None
    was = appointment.status
    committed(session, lambda: change(session, appointment, actor=actor))
    return appointment, was


def call_in(
    session: Session, appointment_id: int, raw_agent: str, *, actor: User
) -> tuple[Appointment, User | None] | None:
    """Call the person in, by the agent chosen (`raw_agent`, an id; empty: the actor's
    own choice as `call` makes it), committed: the appointment and who called it in;
    None when there is no such appointment."""
    appointment = scope.scoped_appointment(session, actor, appointment_id)
    if appointment is None:
        return None

    def run() -> Appointment:
        agent_id = parse_id(raw_agent)
        agent = get_user(session, agent_id) if agent_id else None
        if raw_agent and agent is None:
            raise Invalid({"agent": FieldError("unknown_choice")})
        return call(session, appointment, agent, actor=actor)

    committed(session, run)
    called_by = get_user(session, appointment.agent_id) if appointment.agent_id else None
    return appointment, called_by


def walk_in(
    session: Session,
    *,
    location_code: str,
    service_code: str,
    name: str,
    phone_number: str,
    actor: User,
) -> Appointment:
    """`add_walk_in` with the place and service given by their codes, committed."""

    def run() -> Appointment:
        service, location = scope.scoped_service_and_location(
            session, actor, service_code, location_code
        )
        return add_walk_in(
            session,
            location=location,
            service=service,
            name=name,
            phone_number=phone_number,
            actor=actor,
        )

    return committed(session, run)


def move(
    session: Session,
    appointment: Appointment,
    start: datetime,
    *,
    agent_id: int | None,
    actor: User,
    link_base: str,
    secret_key: str,
) -> Appointment:
    """Staff move an appointment (`booking.reschedule`), committed; Invalid or SlotTaken
    (the next free starts) with nothing changed."""
    return committed(
        session,
        lambda: booking.reschedule(
            session,
            appointment,
            start,
            by="staff",
            actor=actor,
            agent_id=agent_id,
            link_base=link_base,
            secret_key=secret_key,
        ),
    )


def book_for(session: Session, **booking_args) -> Appointment:
    """Staff book for a caller or a person at the desk (`booking.book`), committed;
    Invalid or SlotTaken with nothing made."""
    return committed(session, lambda: booking.book(session, **booking_args))


def book_by_codes(
    session: Session, *, service_code: str, location_code: str, actor: User, **booking_args
) -> Appointment:
    """`book_for` with the service and the place given by their codes (the staff API),
    both read in one statement; another CPAS's place is an unknown one."""
    service, location = scope.scoped_service_and_location(
        session, actor, service_code, location_code
    )
    return book_for(session, service=service, location=location, actor=actor, **booking_args)


@dataclass(frozen=True)
class BookingForm:
    services: list[Service]  # those booked ahead at the place (not walk-in only)
    service: Service | None  # the one chosen, None when none or unknown
    unknown_service: bool  # a code was given that names none of them
    free_starts: list[slots.Slot]  # its free starts, BOOK_DAYS days from the day chosen
    locations: list[Location]  # the places to switch to


def booking_form(
    session: Session,
    location: Location,
    service_code: str,
    day: date,
    *,
    viewer: User,
) -> BookingForm:
    """What the desk's booking form offers at a place: services, and the free starts of
    the service chosen (by its code) from `day`."""
    services = [s for s in offered_services(session, location) if s.booking_mode != "walk_in"]
    code = (service_code or "").strip()
    service = next((s for s in services if s.code == code), None) if code else None
    found = []
    if service is not None:
        found = slots.free_slots(
            session, service=service, location=location, first_day=day, days=BOOK_DAYS, notice=False
        )
    return BookingForm(
        services=services,
        service=service,
        unknown_service=bool(code) and service is None,
        free_starts=found,
        locations=scope.visible_locations(session, viewer),
    )
