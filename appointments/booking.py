"""Booking, moving and cancelling appointments: never two for one agent at one time.

`book()` is the one path for every booking (the public pages, the staff API, the
reception view). It checks the request (service, location, start, name, number), asks
`slots.agents_at_start` which agents can take that start, then tries them in ascending id
order, each in a savepoint:

1. locks the agent's row in `appointment_agent_locks` and counts the booking there
   (PostgreSQL: the first of the agents whose row no other transaction holds, `FOR
   UPDATE SKIP LOCKED`, else it waits for the first one's; a row never made is made by
   `INSERT … ON CONFLICT (user_id) DO UPDATE SET bookings = bookings + 1`, whose update
   takes the row lock as `SELECT … FOR UPDATE` would); on SQLite the transaction is
   already `BEGIN IMMEDIATE`: one writer at a time;
2. inside the lock, looks again for an active appointment of that agent overlapping
   start … end + buffer (what a booking committed meanwhile would show);
3. free: inserts the appointment (`busy_until` = end + buffer). Taken: rolls the
   savepoint back, which releases that agent's lock at once (and gives the count back),
   and tries the next agent.

So a booking holds one agent's lock at a time (no two bookings wait on each other in a
cycle, and none waits for an agent it was refused), two bookings of one start go to two
free agents at once instead of queueing behind the first one's commit, and a refused
booking reads the next free starts holding no lock. What does not decide the booking is
read before the first lock (the person, their contact, numbers and consents, the message
texts and quiet hours; a new person is inserted then too), and what follows the insert
is written in few statements (on PostgreSQL the three messages, their events and the
booking's audit entries in one). A new person's online booking is 15 statements on
PostgreSQL, 10 of them under the lock (counted in tests/db/test_booking_queries.py).

When no agent is left, `SlotTaken` carries the next free starts. The lock is held until
the caller commits, so the check and the insert of two bookings for one agent never
interleave: a constraint-like guarantee on SQLite and PostgreSQL alike.

Who booked, and their consent. A `BookingPerson` (name, number, language) is made or
reused (same number and name), with a notifications contact referenced
`appointments.person:<id>`. Booking states consent to SMS about the appointment (the
booking form and the staff script say so: "you will receive a confirmation and
reminders by SMS"), so the consents `reminder` (confirmation, reminders) and
`service_change` (the appointment moved) are recorded when the contact has none yet:
method `online` when the person booked online themselves, `phone_call` when staff
booked during a call, `oral` at the desk. A consent withdrawn before (STOP) is kept
withdrawn. `sms_consent=False` records nothing (the messages are then `blocked`,
visible on the SMS pages).

Without a phone. Staff (`source` "phone" or "desk") may book for somebody who has no
mobile phone (a homeless person often has none): the number is then left empty, the
`BookingPerson` has `phone` None, no contact is made, and no consent, confirmation or
reminder is queued; the person gets the printable slip instead (the desk's "slip" page).
Online, the number stays required (the code and the confirmation come by SMS).

An appointment booked for a street outreach referral keeps its id (`referral_id`):
the web layer checks that the user may read that referral before it passes it.

Messages: the confirmation (`appointment_confirmation`, key
`confirmation:appointment:<id>`, with the link `<public url>/r/<token>` to cancel or
move), the reminders of the service's rules (`reminder:appointment:<id>:J-1`, `…:H-2`),
a moved appointment's `appointment_changed`, and the offer of a freed slot to the first
person waiting for that service (`waiting-offer:<entry>:<appointment>`).

The manage token (22 URL-safe characters, derived from a random seed with the
application's key: `notifications.masking`) is given once, on the returned appointment
(`issued_token(appointment)`); only its SHA-256 is stored. The outbox keeps the link
masked (`…/r/…`) and the dispatcher derives the token again when it sends. It opens
the appointment until the appointment's end.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

import phonenumbers
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    bindparam,
    exists,
    func,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from appointments import slots
from appointments.models import (
    ACTIVE_STATES,
    AgentLock,
    Appointment,
    BookingPerson,
    Location,
    Service,
    ServiceLocation,
    WaitingEntry,
)
from core import audit, clock, organisations, phone
from core import fields as parse
from core.accounts import Team, User
from core.config import Settings
from core.db import UTCDateTime
from core.errors import FieldError, Invalid
from core.text import single_line
from notifications import services as notify

NAME_MAX = 120
LANGUAGES = ("fr", "nl", "en")
BOOKING_SOURCES = ("online", "phone", "desk")  # walk-ins join the queue elsewhere
STAFF_SOURCES = ("phone", "desk")  # staff book: the number may be left empty
# An online booker may hold this many upcoming appointments per number.
MAX_UPCOMING_PER_PHONE = 3
NEXT_SLOTS = 3
CONSENT_METHOD = {"online": "online", "phone": "phone_call", "desk": "oral"}
CONSENT_CATEGORIES = ("reminder", "service_change")
# The public pages: an appointment's own page, and where to book (waiting-list offers).
MANAGE_PATH = "/r/"
PUBLIC_BOOKING_PATH = "/rendez-vous"
_TOKEN_ATTRIBUTE = "_issued_manage_token"  # noqa: S105 - an attribute name

# The waiting list's offer (declared in appointments/domain.py).
SLOT_OFFERED_KIND = notify.TemplateKind(
    code="appointment_slot_offered",
    category="service_change",
    placeholders=("cpas", "service", "date", "time", "place", "link"),
    defaults={
        "fr": "{cpas}: une place s'est libérée pour {service} le {date} à {time}, {place}. "
        "Pour la prendre: {link} ou appelez votre antenne.",
        "nl": "{cpas}: er is een plaats vrij voor {service} op {date} om {time}, {place}. "
        "Reserveren: {link} of bel uw antenne.",
        "en": "{cpas}: a slot is free for {service} on {date} at {time}, {place}. "
        "To book: {link} or call your office.",
    },
    example={
        "cpas": "CPAS de Bruxelles",
        "service": "Permanence sociale",
        "date": "lundi 24/11",
        "time": "14h30",
        "place": "Antenne Marolles, Rue Haute 298",
        "link": "https://terrain.example/rendez-vous",
    },
)


class SlotTaken(Exception):
    """The start was just taken (or is no longer free): `next_slots` are the next ones."""

    def __init__(self, next_slots: Sequence[slots.Slot]):
        super().__init__("slot_taken")
        self.next_slots = list(next_slots)


# --- Lookups --------------------------------------------------------------------------


def subject_of(appointment: Appointment) -> str:
    return f"appointment:{appointment.id}"


def issued_token(appointment: Appointment) -> str | None:
    """The plain manage token, on the object `book()` or `reschedule()` just returned."""
    return getattr(appointment, _TOKEN_ATTRIBUTE, None)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_by_token(session: Session, token: str) -> Appointment | None:
    """The appointment of a manage link; None when unknown or after its end."""
    token = (token or "").strip()
    if not token or len(token) > 64:
        return None
    appointment = session.scalar(
        select(Appointment).where(Appointment.manage_token_hash == hash_token(token))
    )
    if appointment is None or clock.now() >= latest(session, appointment).end_at:
        return None
    return appointment


def token_place(session: Session, token: str) -> Location | None:
    """The place of a known link whatever its age (the "link no longer works" page gives
    its phone number and hours; a place is public)."""
    token = (token or "").strip()
    if not token or len(token) > 64:
        return None
    appointment = session.scalar(
        select(Appointment).where(Appointment.manage_token_hash == hash_token(token))
    )
    return None if appointment is None else latest(session, appointment).location


# A chain of moves is short (a person moves an appointment once or twice); the bound
# only guards against a loop written by hand in the database.
_MAX_MOVES = 50


def latest(session: Session, appointment: Appointment) -> Appointment:
    """The appointment this one was moved to, then moved to, …: the one that holds now."""
    current = appointment
    for _ in range(_MAX_MOVES):
        if current.moved_to_id is None:
            break
        following = session.get(Appointment, current.moved_to_id)
        if following is None:
            break
        current = following
    return current


def previous_of(session: Session, appointment: Appointment) -> Appointment | None:
    """The appointment this one replaced (moved), if any."""
    return session.scalar(
        select(Appointment).where(Appointment.moved_to_id == appointment.id).limit(1)
    )


def history_of(session: Session, appointment: Appointment) -> list[Appointment]:
    """The appointments this one replaced, the first booked first."""
    chain: list[Appointment] = []
    current = appointment
    for _ in range(_MAX_MOVES):
        previous = previous_of(session, current)
        if previous is None:
            break
        chain.insert(0, previous)
        current = previous
    return chain


def first_of(session: Session, appointment: Appointment) -> Appointment:
    """The appointment first booked, before every move (its id names the calendar entry,
    so a calendar moves it instead of adding a second one)."""
    return (history_of(session, appointment) or [appointment])[0]


def get_appointment(session: Session, appointment_id: int) -> Appointment | None:
    return session.get(Appointment, appointment_id)


def offers(
    session: Session,
    service: Service,
    location: Location,
    *,
    cpas_id: int | Literal["unread"] | None = "unread",
) -> bool:
    """Does this location offer this service? Never a service of another CPAS than the
    place's (docs/cpas.md: the setup refuses such an offer; one made before is ignored).
    `cpas_id`: the place's CPAS, when the caller read it (a booking)."""
    if cpas_id == "unread" and service.cpas_id is not None:
        cpas_id = organisations.cpas_id_of_team(session, location.team_id)
    if service.cpas_id is not None and service.cpas_id != cpas_id:
        return False
    return (
        session.scalar(
            select(ServiceLocation.service_id).where(
                ServiceLocation.service_id == service.id,
                ServiceLocation.location_id == location.id,
            )
        )
        is not None
    )


def _public_url(link_base: str | None) -> str:
    base = link_base if link_base is not None else (Settings.from_env().public_url or "")
    return base.rstrip("/")


# --- Checks ---------------------------------------------------------------------------


def check_person(
    name: str, raw_phone: str, language: str | None, *, source: str
) -> tuple[dict[str, FieldError], phone.PhoneNumber | None]:
    """The name, the number (optional when staff book: `source` phone or desk), the
    language; the errors and the normalised number (None: none given)."""
    errors: dict[str, FieldError] = {}
    data = {"name": name, "language": language}
    parse.text(data, "name", errors, limit=NAME_MAX, required=True)
    number = None
    if not (raw_phone or "").strip():
        if source not in STAFF_SOURCES:
            errors["phone"] = FieldError("required")
    else:
        try:
            number = phone.normalize(raw_phone)
        except phone.InvalidPhoneNumber:
            errors["phone"] = FieldError("invalid_phone")
        else:
            if source == "online" and not number.is_mobile:
                # The confirmation and the code come by SMS: a landline cannot get them.
                errors["phone"] = FieldError("not_mobile")
    parse.choice(data, "language", errors, choices=LANGUAGES, default="")
    return errors, number


def _check_service(
    session: Session,
    service: Service | None,
    location: Location | None,
    *,
    source: str,
    cpas_id: int | Literal["unread"] | None = "unread",
    offered: bool | None = None,
) -> dict[str, FieldError]:
    """`offered`: whether the place offers the service (any CPAS), when the caller read
    it (a booking's `_context`)."""
    errors: dict[str, FieldError] = {}
    if service is None or not service.active:
        errors["service"] = FieldError("unknown_choice")
    elif service.booking_mode == "walk_in":
        errors["service"] = FieldError("walk_in_only")
    elif service.booking_mode == "phone" and source == "online":
        errors["service"] = FieldError("not_online")
    if location is None:
        errors["location"] = FieldError("unknown_choice")
    elif (
        "service" not in errors
        and service is not None
        and not (
            offers(session, service, location, cpas_id=cpas_id)
            if offered is None
            else offered and (service.cpas_id is None or service.cpas_id == cpas_id)
        )
    ):
        errors["location"] = FieldError("not_offered")
    return errors


def _check_start(
    service: Service, start: datetime, now: datetime, *, notice: bool
) -> dict[str, FieldError]:
    """`notice`: the service's minimum notice applies (online; staff book from now on)."""
    if start <= now:
        return {"start": FieldError("in_past")}
    if notice and start < now + timedelta(hours=service.min_notice_hours):
        return {"start": FieldError("too_soon", {"hours": service.min_notice_hours})}
    last_day = clock.to_local(now).date() + timedelta(days=service.max_horizon_days)
    if clock.to_local(start).date() > last_day:
        return {"start": FieldError("too_far", {"days": service.max_horizon_days})}
    return {}


def _aware(start: datetime) -> datetime:
    """A start given without offset is a Brussels wall-clock time."""
    if start.tzinfo is None:
        return clock.as_utc(start.replace(tzinfo=clock.BRUSSELS))
    return clock.as_utc(start)


# --- Locking ----------------------------------------------------------------------------


def lock_agent(session: Session, agent_id: int, *, booking: bool = False) -> None:
    """Hold the agent's lock row until the transaction ends (made on first use).

    One statement: an upsert whose update, like `SELECT … FOR UPDATE`, takes the row's
    lock (PostgreSQL waits there behind a booking of the same agent until it commits; on
    SQLite the transaction is already `BEGIN IMMEDIATE`). `booking`: the update also
    counts the booking about to be made; otherwise it changes nothing."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    counted = AgentLock.bookings + 1 if booking else AgentLock.bookings
    session.execute(
        insert(AgentLock)
        .values(user_id=agent_id, bookings=1 if booking else 0)
        .on_conflict_do_update(index_elements=["user_id"], set_={"bookings": counted})
    )


def lock_free_agent(session: Session, agents: Sequence[int]) -> int:
    """Lock (and count a booking for) the first of `agents`, in ascending id order, whose
    lock no other transaction holds; when every one is held (or was never made), wait for
    the first one's, as `lock_agent` does. The agent locked.

    PostgreSQL: one statement, `UPDATE … WHERE user_id = (SELECT … FOR UPDATE SKIP LOCKED
    LIMIT 1)`, else the upsert of `lock_agent` for the first agent, in data-modifying CTEs:
    two bookings of one start that several agents could take go to two agents at once
    instead of queueing behind the first agent's commit. The lock is the same row lock
    every booking and walk-in of the agent takes, so the check that follows still sees
    whatever the agent's previous holder committed."""
    agents = sorted(agents)
    if session.get_bind().dialect.name == "postgresql":
        held = session.scalar(_lock_free_agent_statement(), {"agents": agents, "first": agents[0]})
        assert held is not None
        return held
    lock_agent(session, agents[0], booking=True)
    return agents[0]


@lru_cache(maxsize=1)
def _lock_free_agent_statement() -> CompoundSelect:
    """`lock_free_agent`'s PostgreSQL statement (parameters `agents`, `first`): the first
    unheld row counted (`counted`); none (every row held, or never made): the first
    agent's row made or counted by the upsert, which waits for its holder as
    `lock_agent` does (`made`)."""
    table = AgentLock.__table__
    unheld = (
        select(table.c.user_id)
        .where(table.c.user_id.in_(bindparam("agents", expanding=True)))
        .order_by(table.c.user_id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .cte("unheld")
    )
    counted = (
        update(table)
        .where(table.c.user_id == unheld.c.user_id)
        .values(bookings=table.c.bookings + 1)
        .returning(table.c.user_id)
        .cte("counted")
    )
    made = (
        pg_insert(table)
        .from_select(
            ["user_id", "bookings"],
            select(bindparam("first", type_=Integer()), literal(1)).where(
                ~exists(select(counted.c.user_id))
            ),
        )
        .on_conflict_do_update(index_elements=["user_id"], set_={"bookings": table.c.bookings + 1})
        .returning(table.c.user_id)
        .cte("made")
    )
    return union_all(select(counted.c.user_id), select(made.c.user_id))


def agent_busy(
    session: Session,
    agent_id: int,
    start: datetime,
    busy_until: datetime,
    ignore_appointment_id: int | None,
) -> bool:
    query = select(Appointment.id).where(
        Appointment.agent_id == agent_id,
        Appointment.status.in_(ACTIVE_STATES),
        Appointment.start_at < busy_until,
        Appointment.busy_until > start,
    )
    if ignore_appointment_id is not None:
        query = query.where(Appointment.id != ignore_appointment_id)
    return session.scalar(query.limit(1)) is not None


def _new_appointment(
    *,
    service: Service,
    location: Location,
    start: datetime,
    source: str,
    person: BookingPerson,
    actor: User | None,
) -> Appointment:
    """The appointment to place, its agent not chosen yet (not in the session)."""
    end = start + timedelta(minutes=service.duration_minutes)
    return Appointment(
        service_id=service.id,
        location_id=location.id,
        person=person,
        start_at=start,
        end_at=end,
        busy_until=end + timedelta(minutes=service.buffer_minutes),
        status="booked",
        source=source,
        created_at=clock.now(),
        created_by_id=actor.id if actor is not None else None,
    )


def _free_agents(
    session: Session,
    *,
    service: Service,
    location: Location,
    start: datetime,
    agent_id: int | None,
    notice: bool,
    ignore_appointment_id: int | None = None,
    cpas_id: int | Literal["unread"] | None = "unread",
    offered: bool = False,
) -> list[int]:
    """The agents the slot rule finds free at `start` (read before any lock), in ascending
    id order; none: Invalid when `start` is no slot, SlotTaken when it was taken.
    `cpas_id`, `offered`: what the caller read already (`slots._Search.load`)."""
    # The free and the planned agents from one load of the slot rule's rows, and the
    # day's later starts from the same load: a refused start answers with them.
    later: list[slots.Slot] = []
    free, planned = slots.agents_at_start(
        session,
        service=service,
        location=location,
        start=start,
        ignore_appointment_id=ignore_appointment_id,
        notice=notice,
        later=later,
        cpas_id=cpas_id,
        offered=offered,
    )
    candidates = free if agent_id is None else [agent for agent in free if agent == agent_id]
    if not candidates:
        # Taken: an agent whose plan has the start (and no absence then) is not free at
        # it, which only an appointment of theirs overlapping it does; none: the start
        # was never a slot (closed, off the grid, nobody working). The same load's
        # answer, where a query of its own would read a later moment than the load did.
        if not set(planned) - set(free):
            raise Invalid({"start": FieldError("not_a_slot")})
        raise _slot_taken(
            session,
            service,
            location,
            start,
            notice=notice,
            cpas_id=cpas_id,
            offered=offered,
            later=later if ignore_appointment_id is None else None,
        )
    return sorted(candidates)


def _slot_taken(
    session: Session,
    service: Service,
    location: Location,
    start: datetime,
    *,
    notice: bool,
    cpas_id: int | Literal["unread"] | None = "unread",
    offered: bool = False,
    later: Sequence[slots.Slot] | None = None,
) -> SlotTaken:
    """SlotTaken with the next free starts after `start`: `later` (the day's later free
    starts, from a load of the slot rule the caller made) when there are enough of them,
    which is what `next_free_slots` finds first (same rule, same day, same clock) without
    loading its 14 days; else `next_free_slots`. A move passes no `later`: its own
    appointment counts there."""
    if later is not None and len(later) >= NEXT_SLOTS:
        return SlotTaken(list(later[:NEXT_SLOTS]))
    return SlotTaken(
        slots.next_free_slots(
            session,
            service=service,
            location=location,
            after=start,
            limit=NEXT_SLOTS,
            notice=notice,
            cpas_id=cpas_id,
            offered=offered,
        )
    )


def _place(
    session: Session,
    appointment: Appointment,
    candidates: Sequence[int],
    *,
    service: Service,
    location: Location,
    notice: bool,
    ignore_appointment_id: int | None = None,
    cpas_id: int | Literal["unread"] | None = "unread",
    offered: bool = False,
) -> Appointment:
    """Give `appointment` (from `_new_appointment`) the first of `candidates` still free
    and insert it, under that agent's lock; none left: SlotTaken (`cpas_id`, `offered`:
    for its next free starts, as `_free_agents`).

    Each agent is tried in a savepoint: found taken, the savepoint is rolled back, which
    releases its lock (and the count) at once, so a refused booking keeps no lock while
    it looks for the next free starts, and a booking never holds two agents' locks.
    What stays locked until the commit is the agent booked."""
    start, busy_until = appointment.start_at, appointment.busy_until
    remaining = list(candidates)
    while remaining:
        attempt = session.begin_nested()
        candidate = lock_free_agent(session, remaining)
        if agent_busy(session, candidate, start, busy_until, ignore_appointment_id):
            # Booked meanwhile by someone who held the lock before us.
            attempt.rollback()
            remaining.remove(candidate)
            continue
        appointment.agent_id = candidate
        session.add(appointment)
        attempt.commit()  # flushes the INSERT; the lock is held until the transaction ends
        return appointment
    later: list[slots.Slot] | None = None
    if ignore_appointment_id is None:
        # Taken under the lock (the race's losers): the start's day read again, as it is
        # now, answers with its later starts when it has enough (see `_slot_taken`).
        later = []
        slots.agents_at_start(
            session,
            service=service,
            location=location,
            start=start,
            notice=notice,
            later=later,
            cpas_id=cpas_id,
            offered=offered,
        )
    raise _slot_taken(
        session,
        service,
        location,
        start,
        notice=notice,
        cpas_id=cpas_id,
        offered=offered,
        later=later,
    )


# --- People and their contact -------------------------------------------------------------


def person_for(
    session: Session, name: str, e164: str | None, language: str | None, *, reuse: bool = True
) -> BookingPerson:
    """The same number and name make the same person; a new language is remembered.
    Without a number (`e164` None) the person is always a new one: a name alone is not
    enough to say two bookings are the same person's."""
    name = single_line(name).strip()
    person = find_person(session, name, e164) if reuse and e164 else None
    if person is None:
        person = BookingPerson(name=name, phone=e164, language=language, created_at=clock.now())
        session.add(person)
        session.flush()
    elif language is not None and person.language != language:
        person.language = language
    return person


def find_person(session: Session, name: str, e164: str) -> BookingPerson | None:
    """The person booked before with this number and name (`name` already one line)."""
    return session.scalar(
        select(BookingPerson)
        .where(BookingPerson.phone == e164, func.lower(BookingPerson.name) == name.lower())
        .order_by(BookingPerson.id)
        .limit(1)
    )


def contact_reference(person: BookingPerson) -> str:
    return f"appointments.person:{person.id}"


def contact_for(
    session: Session,
    person: BookingPerson,
    *,
    actor: User | None = None,
    new: bool = False,
    location: Location | None = None,
):
    """The person's notifications contact, made on first use (`new`: the person was
    made just now, so no contact can exist yet); booked at `location`, it belongs to the
    place's team (so to its CPAS: docs/cpas.md, "Scoping")."""
    contact = None if new else notify.contact_by_reference(session, contact_reference(person))
    if contact is None:
        contact = notify.create_contact(
            session,
            actor=actor,
            display_name=person.name,
            language=person.language,
            phones=[person.phone],
            reference=contact_reference(person),
            team_ids=[location.team_id] if location is not None and location.team_id else (),
        )
        # Just made: no consent yet (reachability and set_consent then read none).
        set_committed_value(contact, "consents", [])
    elif location is not None:
        notify.join_team(session, contact, location.team_id)
    return contact


def record_consent(session: Session, contact, *, source: str, actor: User | None) -> None:
    """Consent to the appointment's messages, unless the contact answered before (a
    consent withdrawn by STOP stays withdrawn)."""
    for category in CONSENT_CATEGORIES:
        if notify.reachability(session, contact, category).reason == "no_consent":
            notify.set_consent(
                session,
                contact,
                category=category,
                granted=True,
                method=CONSENT_METHOD[source],
                actor=actor,
                note="appointment booking",
            )


PHONE_LABEL = {"fr": "tél.", "nl": "tel.", "en": "phone"}


def national_number(e164: str) -> str:
    """+3225432100 -> 02 543 21 00 (Belgian numbers), international form otherwise."""
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(parsed) == "BE"
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, style)


def cpas_names(cpas: organisations.Cpas | None) -> dict[str, str]:
    """The CPAS's name by language, for the {cpas} of its texts (none: no CPAS known)."""
    if cpas is None:
        return {}
    return {language: cpas.label(language) for language in ("fr", "nl", "en")}


def _cpas_id(session: Session, appointment: Appointment) -> int | None:
    """The CPAS an appointment's SMS speak for (their sender): its place's."""
    location = session.get(Location, appointment.location_id)
    return organisations.cpas_id_of_team(session, location.team_id if location else None)


def _values(
    session: Session,
    appointment: Appointment,
    language: str | None,
    cpas: organisations.Cpas | Literal["unread"] | None = "unread",
) -> dict[str, str]:
    """The values of an appointment's texts; `cpas`: the place's, when the caller read it."""
    service = session.get(Service, appointment.service_id)
    location = session.get(Location, appointment.location_id)
    assert service is not None and location is not None
    if cpas == "unread":
        cpas = organisations.cpas_of_team(session, location.team_id)
    assert not isinstance(cpas, str)
    if service.booking_mode == "phone" and location.phone:
        # Held on the phone: the number matters, the street does not.
        label = PHONE_LABEL.get(language or "fr", PHONE_LABEL["fr"])
        place = f"{location.display_name(language)}, {label} {national_number(location.phone)}"
    else:
        place = ", ".join(
            part for part in (location.display_name(language), location.street(language)) if part
        )
    return {
        **notify.moment_values(appointment.start_at, language),
        **notify.cpas_values(cpas_names(cpas), language),
        "service": service.name(language),
        "place": place,
    }


def reminder_rules(service: Service) -> list[notify.ReminderRule]:
    rules = []
    if service.reminder_day_before_at is not None:
        rules.append(notify.ReminderRule("J-1", days_before=1, at=service.reminder_day_before_at))
    if service.reminder_hours_before:
        hours = service.reminder_hours_before
        rules.append(notify.ReminderRule(f"H-{hours}", hours_before=hours))
    return rules


def _issue_token(
    session: Session, appointment: Appointment, link_base: str | None, secret_key: str | None
) -> notify.Secret:
    """A new manage link: its token derived from a random seed and the application's
    key (so the dispatcher can rebuild it, and the outbox keeps it masked); only its
    SHA-256 is stored on the appointment."""
    key = secret_key if secret_key is not None else Settings.from_env().secret_key
    secret = notify.new_secret(key, "token", prefix=f"{_public_url(link_base)}{MANAGE_PATH}")
    appointment.manage_token_hash = hash_token(secret.value)
    setattr(appointment, _TOKEN_ATTRIBUTE, secret.value)
    return secret


def _announce(
    session: Session,
    appointment: Appointment,
    contact,
    *,
    template: str,
    key: str,
    link: notify.Secret,
    actor: User | None,
    requested: bool,
    reminder: tuple[str, dict[str, str]] | None = None,
    cpas: organisations.Cpas | Literal["unread"] | None = "unread",
    audit_rows: Sequence[dict] = (),
) -> None:
    service = session.get(Service, appointment.service_id)
    assert service is not None
    subject = subject_of(appointment)
    values = _values(session, appointment, contact.language, cpas)
    # The place's CPAS when the caller read it before the agent's lock (no query here).
    cpas_id = _cpas_id(session, appointment) if cpas == "unread" else (cpas.id if cpas else None)
    announcement = notify.Outgoing(
        key=key,
        contact=contact,
        category="reminder" if template == "appointment_confirmation" else "service_change",
        template=template,
        values=values,
        secrets={"link": link},
        subject=subject,
        valid_until=appointment.start_at,
        actor=actor,
        requested=requested,
        cpas_id=cpas_id,
        cpas_decided=True,
    )
    reminder, extra = reminder if reminder is not None else reminder_template(session, appointment)
    reminders = notify.reminders(
        session,
        subject=subject,
        contact=contact,
        start_at=appointment.start_at,
        values={
            **{name: value for name, value in values.items() if name.startswith("cpas")},
            "service": values["service"],
            "place": values["place"],
            **extra,
        },
        rules=reminder_rules(service),
        template=reminder,
        cpas_id=cpas_id,
        cpas_decided=True,
    )
    # One INSERT for the three rows (and one for their events), as Core statements: the
    # booking needs no Message object back.
    notify.enqueue_ids(session, [announcement, *reminders], audit_rows=audit_rows)


def reminder_template(session: Session, appointment: Appointment) -> tuple[str, dict[str, str]]:
    """The reminder's kind and extra values: OUI / NON only when the sender of the
    place's CPAS can receive replies; else the place's (or the CPAS's) phone to call."""
    location = session.get(Location, appointment.location_id)
    assert location is not None
    return _reminder_kind(location, organisations.cpas_of_team(session, location.team_id))


def _reminder_kind(
    location: Location, cpas: organisations.Cpas | None
) -> tuple[str, dict[str, str]]:
    """reminder_template() once the place's CPAS is known."""
    if organisations.takes_replies(cpas):
        return "appointment_reminder", {}
    number = location.phone or (cpas.phone if cpas is not None else "")
    if number:
        return "appointment_reminder_call", {"phone": national_number(number)}
    return "appointment_reminder_plain", {}


# --- Booking -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    cpas: organisations.Cpas | None
    offered: bool | None  # None: not read (no service or no place)
    upcoming: int
    person: BookingPerson | None


def _context(
    session: Session,
    service: Service | None,
    location: Location | None,
    *,
    now: datetime,
    upcoming_of: str | None,
    person: tuple[str, str] | None,
) -> _Context:
    """One statement for what a booking reads before the slot rule: the place's CPAS
    (its regime, texts, sender, holidays), whether the place offers the service, the
    upcoming bookings of the number `upcoming_of` (online), and the person booked before
    with this (name, number). A place without a team (before 0052_cpas_place_team) reads
    them one by one."""
    if location is None or location.team_id is None:
        cpas = organisations.cpas_of_team(session, None) if location is not None else None
        return _Context(
            cpas=cpas,
            offered=None,
            upcoming=_upcoming(session, upcoming_of, now) if upcoming_of else 0,
            person=find_person(session, *person) if person is not None else None,
        )
    query = _context_query(
        offered=service is not None, upcoming=upcoming_of is not None, person=person is not None
    )
    parameters = {
        "team_id": location.team_id,
        "location_id": location.id,
        "service_id": service.id if service is not None else None,
        "e164": upcoming_of,
        "now": now,
        "person_phone": person[1] if person is not None else None,
        "person_name": person[0].lower() if person is not None else None,
    }
    row = session.execute(query, parameters).one_or_none()
    if row is None:  # the place's team is gone: as cpas_of_team would say
        return _Context(cpas=None, offered=None, upcoming=0, person=None)
    return _Context(
        cpas=row[0],
        offered=bool(row.offered) if service is not None else None,
        upcoming=(row.upcoming or 0) if upcoming_of is not None else 0,
        person=row.BookingPerson if person is not None else None,
    )


@lru_cache(maxsize=8)
def _context_query(*, offered: bool, upcoming: bool, person: bool) -> Select:
    """`_context`'s statement for each shape, built once (its values are parameters)."""
    columns: list = [organisations.Cpas]
    if offered:
        columns.append(
            select(ServiceLocation.service_id)
            .where(
                ServiceLocation.service_id == bindparam("service_id", type_=Integer()),
                ServiceLocation.location_id == bindparam("location_id", type_=Integer()),
            )
            .exists()
            .label("offered")
        )
    if upcoming:
        columns.append(
            _upcoming_query(
                bindparam("e164", type_=String()), bindparam("now", type_=UTCDateTime())
            )
            .scalar_subquery()
            .label("upcoming")
        )
    query = (
        select(*columns)
        .select_from(Team)
        .outerjoin(organisations.Cpas, organisations.Cpas.id == Team.cpas_id)
        .where(Team.id == bindparam("team_id", type_=Integer()))
    )
    if person:
        first = (
            select(BookingPerson.id)
            .where(
                BookingPerson.phone == bindparam("person_phone", type_=String()),
                func.lower(BookingPerson.name) == bindparam("person_name", type_=String()),
            )
            .order_by(BookingPerson.id)
            .limit(1)
            .scalar_subquery()
        )
        query = query.add_columns(BookingPerson).outerjoin(BookingPerson, BookingPerson.id == first)
    return query


def _upcoming_query(e164: str | ColumnElement[str], now: datetime | ColumnElement) -> Select:
    """The upcoming booked appointments of a number."""
    return (
        select(func.count(Appointment.id))
        .join(BookingPerson, BookingPerson.id == Appointment.person_id)
        .where(
            BookingPerson.phone == e164,
            Appointment.status == "booked",
            Appointment.start_at > now,
        )
    )


def _upcoming(session: Session, e164: str, now: datetime) -> int:
    return session.scalar(_upcoming_query(e164, now)) or 0


def book(
    session: Session,
    *,
    service: Service | None,
    location: Location | None,
    start: datetime,
    person_name: str,
    phone: str,
    language: str | None = None,
    source: str,
    actor: User | None = None,
    agent_id: int | None = None,
    sms_consent: bool = True,
    link_base: str | None = None,
    secret_key: str | None = None,
    referral_id: uuid.UUID | None = None,
) -> Appointment:
    """Book `start` for a person; Invalid (nothing changed) or SlotTaken when taken.

    `source`: "online" (the person, on the public pages), "phone" or "desk" (staff,
    `actor`; `phone` may then be empty: no SMS at all). `referral_id`: the outreach
    referral the appointment serves (the caller checked the user may see it).
    `link_base`: the public URL for the manage link (default TERRAIN_PUBLIC_URL);
    `secret_key`: the application's key its token is derived with (default
    TERRAIN_SECRET_KEY). The caller commits; after SlotTaken or Invalid, it rolls back.
    """
    errors: dict[str, FieldError] = {}
    if source not in BOOKING_SOURCES:
        errors["source"] = FieldError("unknown_choice")
    person_errors, number = check_person(person_name, phone, language, source=source)
    now = clock.now()
    name = single_line(person_name).strip()
    # What the checks need and the person, in one statement (see `_context`).
    context = _context(
        session,
        service,
        location,
        now=now,
        upcoming_of=(
            number.e164
            if number is not None and source == "online" and "phone" not in person_errors
            else None
        ),
        person=(name, number.e164) if number is not None and "phone" not in person_errors else None,
    )
    cpas = context.cpas
    cpas_id = cpas.id if cpas is not None else None
    errors.update(
        _check_service(
            session, service, location, source=source, cpas_id=cpas_id, offered=context.offered
        )
    )
    errors.update(person_errors)
    start = _aware(start)
    notice = source == "online"  # staff book for someone from now on
    if service is not None and "service" not in errors:
        errors.update(_check_start(service, start, now, notice=notice))
    if context.upcoming >= MAX_UPCOMING_PER_PHONE and "phone" not in errors:
        errors["phone"] = FieldError("too_many_bookings", {"max": MAX_UPCOMING_PER_PHONE})
    if errors:
        raise Invalid(errors)
    assert service is not None and location is not None
    e164 = number.e164 if number is not None else None
    if language is None:
        # Nobody said the person's language: the regime's of the place's CPAS (none, so
        # French then Dutch, for a bilingual one).
        language = organisations.default_language(cpas)

    # The slot rule first: a refused start (the common answer under contention) reads
    # nothing else. Then, before the agent's lock, what the lock does not decide (the
    # person, their contact with its numbers and consents, the texts and quiet hours of
    # the messages): the lock is then held for the re-check and the inserts only.
    candidates = _free_agents(
        session,
        service=service,
        location=location,
        start=start,
        agent_id=agent_id,
        notice=notice,
        cpas_id=cpas_id,
        offered=True,  # _check_service's `offers`, just now
    )
    known = context.person
    contact = None
    if known is not None:
        contact = notify.contact_by_reference(session, contact_reference(known), with_consents=True)
        if contact is not None:
            notify.join_team(session, contact, location.team_id)  # docs/cpas.md, "Scoping"
    reminder = _reminder_kind(location, cpas)
    if e164 is not None:
        notify.read_texts_and_rules(session, ("appointment_confirmation", reminder[0]))

    if known is None:
        # Without a number, always a new person (a name alone is not enough). Inserted
        # before the agent's lock (a refused booking is rolled back by the caller).
        person_booked = BookingPerson(
            name=name, phone=e164, language=language, created_at=clock.now()
        )
        session.add(person_booked)
    else:
        person_booked = known
        if language is not None and known.language != language:
            known.language = language  # a new language is remembered
    appointment = _new_appointment(
        service=service,
        location=location,
        start=start,
        source=source,
        person=person_booked,
        actor=actor,
    )
    appointment.referral_id = referral_id
    link = _issue_token(session, appointment, link_base, secret_key)
    _place(
        session,
        appointment,
        candidates,
        service=service,
        location=location,
        notice=notice,
        cpas_id=cpas_id,
        offered=True,
    )
    # The audit entries of the booking (the contact's, its consents', the appointment's)
    # wait to go in the messages' statement (one round trip on PostgreSQL).
    holding = audit.hold_here(session)
    details = {
        "service": service.code,
        "location": location.code,
        "agent_id": appointment.agent_id,
        "source": source,
        "sms_consent": sms_consent,
        "phone_given": e164 is not None,
        **({"referral": str(referral_id)} if referral_id is not None else {}),
    }
    if person_booked.phone:
        if contact is None:
            contact = contact_for(
                session, person_booked, actor=actor, new=known is None, location=location
            )
        if sms_consent:
            record_consent(session, contact, source=source, actor=actor)
    # After the contact's and consents' entries, before the messages: the audit rows
    # of the booking go in one INSERT.
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="appointment",
        entity_id=appointment.id,
        details=details,
    )
    if contact is not None:
        _announce(
            session,
            appointment,
            contact,
            template="appointment_confirmation",
            key=f"confirmation:{subject_of(appointment)}",
            link=link,
            actor=actor,
            # The person booked it just now (online, or with staff on the phone or at the
            # desk): the confirmation answers them and leaves at once, even at night.
            requested=True,
            reminder=reminder,
            cpas=cpas,
            audit_rows=audit.take(session) if holding else (),
        )
    elif holding:
        audit.release(session)
    return appointment


# --- Cancelling, moving --------------------------------------------------------------------


def _lock_appointment(session: Session, appointment: Appointment) -> None:
    """Hold the appointment's row and read it again: two cancels or two moves of one
    appointment (two tabs, the person and the desk) run one after the other, and the
    second sees what the first did."""
    session.execute(
        select(Appointment.id).where(Appointment.id == appointment.id).with_for_update()
    )
    session.refresh(appointment)


def _set_cancelled(session: Session, appointment: Appointment, *, by: str) -> None:
    appointment.status = "cancelled"
    appointment.cancelled_at = clock.now()
    appointment.cancelled_by = by
    session.flush()
    notify.cancel_for_subject(session, subject_of(appointment), reason="appointment_cancelled")


def cancel(
    session: Session,
    appointment: Appointment,
    *,
    by: str,
    actor: User | None = None,
    link_base: str | None = None,
) -> Appointment:
    """Cancel (`by`: person, staff, sms); idempotent. The waiting messages are dropped
    and the freed start is offered to the first person waiting for the service."""
    if by not in ("person", "staff", "sms"):
        raise Invalid({"by": FieldError("unknown_choice")})
    _lock_appointment(session, appointment)
    if appointment.status == "cancelled":
        return appointment
    if appointment.status not in ("booked", "checked_in"):
        raise Invalid({"status": FieldError("wrong_status")})
    _set_cancelled(session, appointment, by=by)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="appointment",
        entity_id=appointment.id,
        details={"status": "cancelled", "by": by},
    )
    offer_freed_slot(session, appointment, link_base=link_base)
    return appointment


def offer_freed_slot(
    session: Session, appointment: Appointment, *, link_base: str | None = None
) -> WaitingEntry | None:
    """The first person waiting for this service (at this location or anywhere) hears of
    the freed start by SMS; their entry becomes `offered`. Nothing for a past start."""
    now = clock.now()
    service = session.get(Service, appointment.service_id)
    assert service is not None
    if appointment.start_at < now + timedelta(hours=service.min_notice_hours):
        return None  # nobody could book it online any more: offer nothing
    entry = session.scalar(
        select(WaitingEntry)
        .where(
            WaitingEntry.service_id == appointment.service_id,
            WaitingEntry.status == "waiting",
            (WaitingEntry.location_id.is_(None))
            | (WaitingEntry.location_id == appointment.location_id),
        )
        .order_by(WaitingEntry.created_at, WaitingEntry.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if entry is None:
        return None
    entry.status = "offered"
    entry.offered_at = now
    person = session.get(BookingPerson, entry.person_id)
    assert person is not None
    # Offered a slot at a place: the contact joins its team (so its CPAS).
    contact = contact_for(session, person, location=appointment.location)
    link = f"{_public_url(link_base)}{PUBLIC_BOOKING_PATH}"
    notify.enqueue(
        session,
        key=f"waiting-offer:{entry.id}:{appointment.id}",
        contact=contact,
        category="service_change",
        template="appointment_slot_offered",
        values={**_values(session, appointment, contact.language), "link": link},
        valid_until=appointment.start_at,
        cpas_id=_cpas_id(session, appointment),
    )
    audit.record(
        session,
        actor=None,
        action="update",
        entity_type="appointment",
        entity_id=appointment.id,
        details={"offered_to_waiting_entry": entry.id},
    )
    return entry


def reschedule(
    session: Session,
    appointment: Appointment,
    new_start: datetime,
    *,
    by: str,
    actor: User | None = None,
    location: Location | None = None,
    agent_id: int | None = None,
    link_base: str | None = None,
    secret_key: str | None = None,
) -> Appointment:
    """Move an appointment: the new one is booked under its agent's lock and the old one
    cancelled, in the caller's transaction (all or nothing). The new one gets a new
    manage link, sent in an `appointment_changed` SMS, and its own reminders."""
    if by not in ("person", "staff", "sms"):
        raise Invalid({"by": FieldError("unknown_choice")})
    _lock_appointment(session, appointment)
    if appointment.status != "booked":
        raise Invalid({"status": FieldError("wrong_status")})
    service = session.get(Service, appointment.service_id)
    assert service is not None
    location = location or session.get(Location, appointment.location_id)
    assert location is not None
    errors = _check_service(session, service, location, source="desk")
    now = clock.now()
    new_start = _aware(new_start)
    notice = by != "staff"  # the person moving it online keeps the service's notice
    if not errors:
        errors.update(_check_start(service, new_start, now, notice=notice))
    if errors:
        raise Invalid(errors)
    person = session.get(BookingPerson, appointment.person_id)
    assert person is not None
    candidates = _free_agents(
        session,
        service=service,
        location=location,
        start=new_start,
        agent_id=agent_id,
        notice=notice,
        ignore_appointment_id=appointment.id,
    )
    moved = _new_appointment(
        service=service,
        location=location,
        start=new_start,
        source=appointment.source,
        person=person,
        actor=actor,
    )
    moved.confirmed_at = None
    link = _issue_token(session, moved, link_base, secret_key)
    _place(
        session,
        moved,
        candidates,
        service=service,
        location=location,
        notice=notice,
        ignore_appointment_id=appointment.id,
    )
    appointment.moved_to_id = moved.id
    moved.referral_id = appointment.referral_id
    _set_cancelled(session, appointment, by=by)
    session.flush()
    if person.phone:  # without a number the person gets a new slip, no SMS
        contact = contact_for(session, person, actor=actor, location=location)
        _announce(
            session,
            moved,
            contact,
            template="appointment_changed",
            key=f"changed:{subject_of(moved)}",
            link=link,
            actor=actor,
            # The person moved it themselves: at once. Staff moving it: a change the
            # person did not ask for just now, so the quiet hours apply.
            requested=by == "person",
        )
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="appointment",
        entity_id=appointment.id,
        details={"status": "cancelled", "by": by, "moved_to": moved.id},
    )
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="appointment",
        entity_id=moved.id,
        details={
            "service": service.code,
            "location": location.code,
            "agent_id": moved.agent_id,
            "source": moved.source,
            "moved_from": appointment.id,
        },
    )
    offer_freed_slot(session, appointment, link_base=link_base)
    return moved


# --- Reception: arrival, no-show, done ------------------------------------------------------


def _transition(
    session: Session,
    appointment: Appointment,
    *,
    to: str,
    allowed_from: tuple[str, ...],
    actor: User | None,
) -> Appointment:
    if appointment.status == to:
        return appointment  # idempotent: a second tap changes nothing
    if appointment.status not in allowed_from:
        raise Invalid({"status": FieldError("wrong_status")})
    previous = appointment.status
    appointment.status = to
    if to == "checked_in":
        appointment.checked_in_at = clock.now()
    session.flush()
    if to in ("no_show", "done"):
        notify.cancel_for_subject(session, subject_of(appointment), reason="appointment_" + to)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="appointment",
        entity_id=appointment.id,
        details={"status": to, "from": previous},
    )
    return appointment


def check_in(session: Session, appointment: Appointment, *, actor: User | None) -> Appointment:
    """The person arrived."""
    return _transition(session, appointment, to="checked_in", allowed_from=("booked",), actor=actor)


def mark_no_show(session: Session, appointment: Appointment, *, actor: User | None) -> Appointment:
    """The person did not come (possible once the appointment has started)."""
    if appointment.status == "booked" and clock.now() < appointment.start_at:
        raise Invalid({"status": FieldError("not_started")})
    return _transition(session, appointment, to="no_show", allowed_from=("booked",), actor=actor)


def mark_done(session: Session, appointment: Appointment, *, actor: User | None) -> Appointment:
    """The appointment took place."""
    return _transition(
        session, appointment, to="done", allowed_from=("booked", "checked_in"), actor=actor
    )
