"""The back office of appointments: services, locations and their opening hours, who
delivers what where, working plans, closures and absences.

Every function validates everything first and raises `core.errors.Invalid` (field name →
`FieldError` code) before it changes anything; the web layer turns the codes into
sentences (web/validation.py). Every change is written to the audit log in the same
transaction. Values come as the form sends them (strings), or already typed (tests,
scripts): each parser accepts both.

Nothing is ever silently cancelled. A change that takes away time from booked
appointments (a plan ended, hours shortened, a closure, an absence, a service no longer
delivered) is made, and the appointments it strands are returned (`Stranded`) so the
page can list them with a link to the reception desk's day. "Stranded" is judged by the
availability engine itself (`slots.agents_free_at`, the check a booking makes), so the
rule lives in one place.

Services and locations with appointments are deactivated, never deleted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from itertools import pairwise
from typing import Any

from sqlalchemy import delete, false, func, or_, select
from sqlalchemy.orm import Session

from appointments import slots
from appointments.models import (
    BOOKING_MODES,
    LOCATION_KINDS,
    AgentAbsence,
    AgentService,
    Appointment,
    Closure,
    Location,
    OpeningHours,
    Service,
    ServiceLocation,
    WaitingEntry,
    WorkingPlan,
)
from core import audit, clock, organisations, phone
from core import fields as parse
from core.accounts import Team, User
from core.errors import Errors, FieldError, Invalid
from core.roles import Permission, Role, can

CODE_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
NAME_MAX = 120
ADDRESS_MAX = 200
BRING_MAX = 500  # a few lines: which papers, which statements
CITY_MAX = 80
REASON_MAX = 120
# Languages a service may be offered in: the app's three, and those CPAS staff often
# speak at the desk (the person books in fr/nl/en; the others are said on the page).
SERVICE_LANGUAGES = ("fr", "nl", "en", "de", "ar", "tr", "es", "pt", "it", "ro", "pl", "ru", "uk")
DURATION_RANGE = (5, 240)  # the table's check constraint
BUFFER_RANGE = (0, 120)
NOTICE_RANGE = (0, 720)
HORIZON_RANGE = (1, 365)
REMINDER_HOURS_RANGE = (1, 72)
ABSENCE_REASONS = ("leave", "training", "illness", "other")
POSTCODE = re.compile(r"^[1-9][0-9]{3}$")  # Belgian postcodes
UPCOMING_STATES = ("booked", "checked_in")


def _agent_roles() -> list[str]:
    """Roles that can deliver appointments: those that have an agenda of their own."""
    return [role.value for role in Role if can(role.value, Permission.APPOINTMENTS_MINE)]


# --- The actor's CPAS (docs/cpas.md, "Scoping") ------------------------------------------
# A place, plan or closure belongs to its place's team's CPAS; a service to its own CPAS
# (None: the installation's, shared); an absence to its agent's team's CPAS. `actor`
# None: a script or a test of the rules themselves, no limit.


def _scope(session: Session, actor: User | None) -> organisations.Scope | None:
    return None if actor is None else organisations.scope_of(session, actor)


def _sees_place(session: Session, actor: User | None, location: Location | None) -> bool:
    """An existing place the actor may see (no actor: the system sees every place)."""
    if location is None:
        return False
    within = _scope(session, actor)
    return within is None or within.sees_team(location.team_id)


def sees_service(session: Session, actor: User | None, service: Service) -> bool:
    """A service of the actor's CPAS, or a shared one (none's) for a CPAS's staff."""
    within = _scope(session, actor)
    if within is None or within.everything:
        return True
    if service.cpas_id is None:
        return not within.platform and within.cpas_id is not None
    return service.cpas_id == within.cpas_id


def _shared_elsewhere(session: Session, actor: User | None, service: Service) -> bool:
    """A shared service (of no CPAS) seen by the staff of one CPAS among several: its
    offer at their places is theirs to change, its settings are not (they are every
    CPAS's: changing them would change another CPAS's service)."""
    within = _scope(session, actor)
    return service.cpas_id is None and within is not None and not within.everything


def _sees_agent(session: Session, actor: User | None, user: User | None) -> bool:
    within = _scope(session, actor)
    return within is None or (user is not None and within.sees_team(user.team_id))


def _location_cpas(session: Session, location: Location) -> int | None:
    return organisations.cpas_id_of_team(session, location.team_id) if location.team_id else None


def _refused(session: Session, actor: User | None, entity_type: str, entity_id: object) -> None:
    organisations.refuse(session, actor, entity_type, entity_id)
    session.commit()  # the refusal stays audited although the answer is a 404


# --- Parsing (form strings or typed values) ------------------------------------------------


def _code(errors: Errors, fields: Mapping[str, Any]) -> str:
    value = parse.text(fields, "code", errors, limit=40, required=True).lower()
    if value and "code" not in errors and not CODE_PATTERN.match(value):
        errors.add("code", "invalid_code")
    return value


def _local(naive: datetime) -> datetime:
    return clock.as_utc(naive.replace(tzinfo=clock.BRUSSELS))


def parse_stretches(raw: Any) -> list[tuple[time, time]]:
    """'08:30-12:00, 13:00-16:00' (or a list of pairs) → sorted stretches.

    Raises ValueError with a FieldError code: invalid_hours, hours_order, hours_overlap.
    """
    if isinstance(raw, (list, tuple)):
        pairs = [(parse.parse_time(opens), parse.parse_time(closes)) for opens, closes in raw]
    else:
        pairs = []
        for part in re.split(r"[,;\n]+", str(raw or "")):
            if not part.strip():
                continue
            bounds = re.split(r"\s*(?:-|–|à|tot|to)\s*", part.strip())
            if len(bounds) != 2:
                raise ValueError("invalid_hours")
            pairs.append((parse.parse_time(bounds[0]), parse.parse_time(bounds[1])))
    stretches: list[tuple[time, time]] = []
    for opens, closes in pairs:
        if opens is None or closes is None:
            raise ValueError("invalid_hours")
        if not opens < closes:
            raise ValueError("hours_order")
        stretches.append((opens, closes))
    stretches.sort()
    for (_, closes), (opens, _) in pairwise(stretches):
        if opens < closes:
            raise ValueError("hours_overlap")
    return stretches


def format_stretches(stretches: Iterable[tuple[time, time]]) -> str:
    return ", ".join(f"{opens:%H:%M}-{closes:%H:%M}" for opens, closes in stretches)


# --- Stranded appointments -----------------------------------------------------------------


@dataclass(frozen=True)
class Stranded:
    """A booked appointment that a change left outside the agent's time."""

    appointment_id: int
    start_at: datetime
    location_code: str
    agent_id: int | None

    @property
    def day(self) -> date:
        return clock.to_local(self.start_at).date()


def stranded_appointments(
    session: Session,
    *,
    agent_ids: Iterable[int] | None = None,
    location_id: int | None = None,
    cpas_id: int | None = None,
    service_id: int | None = None,
    first_day: date | None = None,
    last_day: date | None = None,
) -> list[Stranded]:
    """Upcoming booked appointments (narrowed by the arguments) that the availability
    engine would no longer place where they are: the caller just changed something."""
    session.flush()
    query = (
        select(Appointment)
        .where(
            Appointment.status.in_(UPCOMING_STATES),
            Appointment.agent_id.is_not(None),
            Appointment.start_at >= clock.now(),
        )
        .order_by(Appointment.start_at, Appointment.id)
    )
    if agent_ids is not None:
        query = query.where(Appointment.agent_id.in_(list(agent_ids)))
    if location_id is not None:
        query = query.where(Appointment.location_id == location_id)
    if cpas_id is not None:
        places = select(Location.id).join(Team, Team.id == Location.team_id)
        query = query.where(Appointment.location_id.in_(places.where(Team.cpas_id == cpas_id)))
    if service_id is not None:
        query = query.where(Appointment.service_id == service_id)
    if first_day is not None:
        query = query.where(Appointment.start_at >= _day_start(first_day))
    if last_day is not None:
        query = query.where(Appointment.start_at < _day_start(last_day + timedelta(days=1)))
    found = []
    for appointment in session.scalars(query):
        service = appointment.service
        # As staff placing it now would: the notice is met by construction, every other
        # rule (plan, hours, holidays, closures, absences, skills, offer) is checked.
        as_of = appointment.start_at - timedelta(hours=service.min_notice_hours)
        free = slots.agents_free_at(
            session,
            service=service,
            location=appointment.location,
            start=appointment.start_at,
            ignore_appointment_id=appointment.id,
            now=as_of,
            anywhere=True,
        )
        if appointment.agent_id not in free:
            found.append(
                Stranded(
                    appointment_id=appointment.id,
                    start_at=appointment.start_at,
                    location_code=appointment.location.code,
                    agent_id=appointment.agent_id,
                )
            )
    return found


def _day_start(day: date) -> datetime:
    return _local(datetime.combine(day, time()))


def _new_record(session: Session, model: Any, fields: Mapping[str, Any], values_of: Any):
    """A new service's or location's code (free) and values: every error at once."""
    errors = Errors()
    code = _code(errors, fields)
    try:
        values = values_of(session, fields)
    except Invalid as invalid:
        errors.update(invalid.errors)
        values = {}
    taken = select(model.id).where(model.code == code)
    if code and "code" not in errors and session.scalar(taken) is not None:
        errors.add("code", "code_taken")
    errors.check()
    return code, values


# --- Services ------------------------------------------------------------------------------


def _service_values(
    session: Session, fields: Mapping[str, Any], *, required: tuple[str, ...] = ("fr", "nl")
) -> dict[str, Any]:
    """`required`: the languages the name must have (the CPAS's regime)."""
    errors = Errors()
    values: dict[str, Any] = {
        "name_fr": parse.text(fields, "name_fr", errors, limit=120, required="fr" in required),
        "name_nl": parse.text(fields, "name_nl", errors, limit=120, required="nl" in required),
        "name_en": parse.text(fields, "name_en", errors, limit=120),
        "duration_minutes": parse.integer(
            fields, "duration_minutes", errors, within=DURATION_RANGE, required=True
        ),
        "buffer_minutes": parse.integer(fields, "buffer_minutes", errors, within=BUFFER_RANGE) or 0,
        "booking_mode": parse.choice(fields, "booking_mode", errors, choices=BOOKING_MODES),
        "min_notice_hours": parse.integer(
            fields, "min_notice_hours", errors, within=NOTICE_RANGE, required=True
        ),
        "max_horizon_days": parse.integer(
            fields, "max_horizon_days", errors, within=HORIZON_RANGE, required=True
        ),
        "reminder_day_before_at": parse.time(fields, "reminder_day_before_at", errors),
        "reminder_hours_before": parse.integer(
            fields, "reminder_hours_before", errors, within=REMINDER_HOURS_RANGE
        ),
        "active": parse.flag(fields, "active", errors, default=True),
        **{
            f"bring_{language}": parse.lines(fields, f"bring_{language}", errors, limit=BRING_MAX)
            for language in ("fr", "nl", "en")
        },
    }
    raw_languages = fields.get("languages") or []
    languages = [raw_languages] if isinstance(raw_languages, str) else list(raw_languages)
    if not languages:
        errors.add("languages", "required")
    elif any(language not in SERVICE_LANGUAGES for language in languages):
        errors.add("languages", "unknown_choice")
    values["languages"] = [code for code in SERVICE_LANGUAGES if code in languages]
    notice, horizon = values["min_notice_hours"], values["max_horizon_days"]
    if notice is not None and horizon is not None and notice > (horizon - 1) * 24:
        # Otherwise no day would ever be both far enough and near enough.
        errors.add("min_notice_hours", "notice_beyond_horizon", days=horizon)
    errors.check()
    # A name not required (one-language CPAS) and not given: the other language's.
    values["name_fr"] = values["name_fr"] or values["name_nl"]
    values["name_nl"] = values["name_nl"] or values["name_fr"]
    values["name_en"] = values["name_en"] or values["name_fr"]
    return values


def name_languages(session: Session, actor: User | None) -> tuple[str, ...]:
    """The languages a service's name needs: the regime of the actor's CPAS."""
    return organisations.required_languages(organisations.cpas_of_user(session, actor))


def create_service(session: Session, fields: Mapping[str, Any], *, actor: User | None) -> Service:
    code, values = _new_record(
        session,
        Service,
        fields,
        partial(_service_values, required=name_languages(session, actor)),
    )
    within = _scope(session, actor)
    if within is not None and not within.everything and within.cpas_id is None:
        # The platform administrator of several CPAS: a service would be nobody's.
        raise Invalid({"code": FieldError("not_allowed")})
    cpas_id = within.cpas_id if within is not None else None
    if cpas_id is None and actor is not None:
        cpas_id = organisations.cpas_id_of_team(session, actor.team_id)
    service = Service(code=code, cpas_id=cpas_id, **values)
    session.add(service)
    session.flush()
    audit.record_change(
        session,
        actor,
        "appointment_service",
        service.id,
        sorted(values),
        action="create",
        code=code,
    )
    return service


def update_service(
    session: Session, service: Service, fields: Mapping[str, Any], *, actor: User | None
) -> list[Stranded]:
    """Change a service (its code stays). Returns the appointments it strands
    (deactivated, walk-in only from now on)."""
    if _shared_elsewhere(session, actor, service):
        raise Invalid({"name_fr": FieldError("shared_service")})
    values = _service_values(session, fields, required=name_languages(session, actor))
    changed = sorted(audit.assign(service, values))
    if not changed:
        return []
    audit.record_change(session, actor, "appointment_service", service.id, changed)
    if {"active", "booking_mode", "duration_minutes", "buffer_minutes"} & set(changed):
        return stranded_appointments(session, service_id=service.id)
    return []


def remove_service(session: Session, service: Service, *, actor: User | None) -> str:
    """Delete a service nobody ever booked; otherwise deactivate it (its history stays).
    Returns "deleted" or "deactivated"."""
    if _shared_elsewhere(session, actor, service):
        raise Invalid({"name_fr": FieldError("shared_service")})
    used = session.scalar(
        select(func.count()).select_from(Appointment).where(Appointment.service_id == service.id)
    ) or session.scalar(
        select(func.count()).select_from(WaitingEntry).where(WaitingEntry.service_id == service.id)
    )
    if used:
        if service.active:
            service.active = False
            audit.record(
                session,
                actor=actor,
                action="deactivate",
                entity_type="appointment_service",
                entity_id=service.id,
            )
        return "deactivated"
    service_id = service.id
    session.execute(delete(ServiceLocation).where(ServiceLocation.service_id == service_id))
    session.execute(delete(AgentService).where(AgentService.service_id == service_id))
    session.delete(service)
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity_type="appointment_service",
        entity_id=service_id,
    )
    session.flush()
    return "deleted"


def service_location_ids(session: Session, service: Service) -> list[int]:
    return list(
        session.scalars(
            select(ServiceLocation.location_id).where(ServiceLocation.service_id == service.id)
        )
    )


def service_agent_ids(session: Session, service: Service) -> list[int]:
    return list(
        session.scalars(select(AgentService.user_id).where(AgentService.service_id == service.id))
    )


def agents(session: Session, actor: User | None = None) -> list[User]:
    """Active accounts that can deliver appointments, by name (those of the actor's
    CPAS)."""
    query = select(User).where(User.active.is_(True), User.role.in_(_agent_roles()))
    within = _scope(session, actor)
    if within is not None:
        query = query.where(within.teams_filter(User.team_id))
    return list(session.scalars(query.order_by(User.display_name, User.id)))


def set_service_offer(
    session: Session,
    service: Service,
    *,
    location_ids: Any,
    agent_ids: Any,
    actor: User | None,
) -> list[Stranded]:
    """Where the service is offered and who delivers it (the whole lists). Returns the
    appointments stranded by a location or an agent taken off."""
    errors = Errors()
    wanted_locations = parse.ids({"locations": location_ids}, "locations", errors)
    wanted_agents = parse.ids({"agents": agent_ids}, "agents", errors)
    # Only the actor's CPAS's places and agents; a service of a CPAS only at its places.
    mine = {location.id: location for location in list_locations(session, actor)}
    if service.cpas_id is not None:
        mine = {
            location_id: location
            for location_id, location in mine.items()
            if _location_cpas(session, location) == service.cpas_id
        }
    my_agents = {user.id for user in agents(session, actor)}
    if set(wanted_locations) - set(mine):
        errors.add("locations", "unknown_choice")
    if set(wanted_agents) - my_agents:
        errors.add("agents", "unknown_choice")
    errors.check()
    old_locations = set(service_location_ids(session, service))
    old_agents = set(service_agent_ids(session, service))
    # Another CPAS's offer of a shared service is kept as it is.
    new_locations = set(wanted_locations) | (old_locations - set(mine))
    new_agents = set(wanted_agents) | (old_agents - my_agents)
    for location_id in new_locations - old_locations:
        session.add(ServiceLocation(service_id=service.id, location_id=location_id))
    for user_id in new_agents - old_agents:
        session.add(AgentService(user_id=user_id, service_id=service.id))
    if old_locations - new_locations:
        session.execute(
            delete(ServiceLocation).where(
                ServiceLocation.service_id == service.id,
                ServiceLocation.location_id.in_(old_locations - new_locations),
            )
        )
    if old_agents - new_agents:
        session.execute(
            delete(AgentService).where(
                AgentService.service_id == service.id,
                AgentService.user_id.in_(old_agents - new_agents),
            )
        )
    if new_locations == old_locations and new_agents == old_agents:
        return []
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="appointment_service",
        entity_id=service.id,
        details={
            "locations_added": sorted(new_locations - old_locations),
            "locations_removed": sorted(old_locations - new_locations),
            "agents_added": sorted(new_agents - old_agents),
            "agents_removed": sorted(old_agents - new_agents),
        },
    )
    if old_locations - new_locations or old_agents - new_agents:
        return stranded_appointments(session, service_id=service.id)
    return []


# --- Locations -----------------------------------------------------------------------------


def _location_values(session: Session, fields: Mapping[str, Any]) -> dict[str, Any]:
    errors = Errors()
    values: dict[str, Any] = {
        "name": parse.text(fields, "name", errors, limit=NAME_MAX, required=True),
        # Optional: the Dutch name and street, shown on Dutch pages and in Dutch SMS.
        "name_nl": parse.text(fields, "name_nl", errors, limit=NAME_MAX),
        "kind": parse.choice(fields, "kind", errors, choices=LOCATION_KINDS),
        "address": parse.text(fields, "address", errors, limit=ADDRESS_MAX, required=True),
        "address_nl": parse.text(fields, "address_nl", errors, limit=ADDRESS_MAX),
        "postcode": parse.text(fields, "postcode", errors, limit=10, required=True),
        "city": parse.text(fields, "city", errors, limit=CITY_MAX, required=True),
        "city_nl": parse.text(fields, "city_nl", errors, limit=CITY_MAX),
        "phone": "",
    }
    values["latitude"], values["longitude"] = parse.coordinates(fields, errors)
    raw_phone = str(fields.get("phone") or "").strip()
    if raw_phone:
        try:
            values["phone"] = phone.normalize(raw_phone).e164
        except phone.InvalidPhoneNumber:
            errors.add("phone", "invalid_phone")
    if values["postcode"] and "postcode" not in errors and not POSTCODE.match(values["postcode"]):
        errors.add("postcode", "invalid_postcode")
    # Every place belongs to a team (so to its CPAS): required (docs/cpas.md).
    raw_team = fields.get("team_id")
    values["team_id"] = None
    if raw_team in (None, ""):
        errors.add("team_id", "required")
    else:
        team_ids = parse.ids(fields, "team_id", errors)
        if team_ids and session.get(Team, team_ids[0]) is None:
            errors.add("team_id", "unknown_choice")
        values["team_id"] = team_ids[0] if team_ids else None
    hours: dict[int, list[tuple[time, time]]] = {}
    for weekday in range(7):
        try:
            hours[weekday] = parse_stretches(fields.get(f"hours_{weekday}"))
        except ValueError as problem:
            errors.add(f"hours_{weekday}", str(problem))
    if not errors and not any(hours.values()):
        errors.add("hours_0", "no_hours")
    errors.check()
    values["hours"] = hours
    return values


def create_location(session: Session, fields: Mapping[str, Any], *, actor: User | None) -> Location:
    code, values = _new_record(session, Location, fields, _location_values)
    hours = values.pop("hours")
    location = Location(code=code, **values)
    location.opening_hours = [
        OpeningHours(weekday=weekday, opens=opens, closes=closes)
        for weekday, stretches in hours.items()
        for opens, closes in stretches
    ]
    session.add(location)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="appointment_location",
        entity_id=location.id,
        details={"code": code},
    )
    return location


def update_location(
    session: Session, location: Location, fields: Mapping[str, Any], *, actor: User | None
) -> list[Stranded]:
    """Change a location and its weekly hours (its code stays). Returns the appointments
    that shorter hours strand."""
    values = _location_values(session, fields)
    hours = values.pop("hours")
    changed = sorted(audit.assign(location, values))
    if hours != opening_hours(location):
        location.opening_hours = [
            OpeningHours(weekday=weekday, opens=opens, closes=closes)
            for weekday, stretches in hours.items()
            for opens, closes in stretches
        ]
        changed.append("opening_hours")
    if not changed:
        return []
    audit.record_change(session, actor, "appointment_location", location.id, changed)
    if "opening_hours" in changed:
        return stranded_appointments(session, location_id=location.id)
    return []


def set_mobile_stop_hours(
    session: Session,
    location: Location,
    hours: Mapping[int, Iterable[tuple[time, time]]],
    *,
    actor: User | None,
) -> list[Stranded]:
    """A mobile stop's week written by the rounds that serve it (their permanences are
    the one source of its hours). Overlapping stretches of a day are merged. Returns the
    appointments the new hours strand (never cancelled)."""
    if location.kind != "mobile_stop":
        raise Invalid({"location": FieldError("unknown_choice")})
    wanted: dict[int, list[tuple[time, time]]] = {weekday: [] for weekday in range(7)}
    for weekday, stretches in hours.items():
        for opens, closes in sorted(stretches):
            day = wanted[weekday]
            if day and opens <= day[-1][1]:
                day[-1] = (day[-1][0], max(day[-1][1], closes))
            else:
                day.append((opens, closes))
    if wanted == opening_hours(location):
        return []
    location.opening_hours = [
        OpeningHours(weekday=weekday, opens=opens, closes=closes)
        for weekday, stretches in wanted.items()
        for opens, closes in stretches
    ]
    audit.record_change(session, actor, "appointment_location", location.id, ["opening_hours"])
    return stranded_appointments(session, location_id=location.id)


def opening_hours(location: Location) -> dict[int, list[tuple[time, time]]]:
    """Weekday → sorted stretches (every weekday present)."""
    hours: dict[int, list[tuple[time, time]]] = {weekday: [] for weekday in range(7)}
    for row in location.opening_hours:
        hours[row.weekday].append((row.opens, row.closes))
    return {weekday: sorted(stretches) for weekday, stretches in hours.items()}


def list_locations(session: Session, actor: User | None = None) -> list[Location]:
    """The places, by name (the actor's CPAS's)."""
    query = select(Location)
    within = _scope(session, actor)
    if within is not None:
        query = query.where(within.teams_filter(Location.team_id))
    return list(session.scalars(query.order_by(Location.name, Location.code)))


def list_all_services(session: Session, actor: User | None = None) -> list[Service]:
    """Every service of the actor's CPAS (and the shared ones), active first, by French
    name."""
    query = select(Service)
    within = _scope(session, actor)
    if within is not None and not within.everything:
        if within.cpas_id is None:
            query = query.where(false())
        else:
            query = query.where(or_(Service.cpas_id == within.cpas_id, Service.cpas_id.is_(None)))
    return list(
        session.scalars(query.order_by(Service.active.desc(), Service.name_fr, Service.code))
    )


# --- Working plans -------------------------------------------------------------------------


def add_plan(
    session: Session, fields: Mapping[str, Any], *, actor: User | None
) -> list[WorkingPlan]:
    """Weekly stretches of an agent's time at a location, one per weekday given.
    Refused when one overlaps another plan of the same agent (at any location: nobody
    is in two places) on the same weekday and dates. Adding time strands nothing."""
    errors = Errors()
    user_ids = parse.ids(fields, "user_id", errors)
    if not user_ids and "user_id" not in errors:
        errors.add("user_id", "required")
    user_id = user_ids[0] if user_ids else None
    if user_id is not None and user_id not in {user.id for user in agents(session, actor)}:
        errors.add("user_id", "unknown_choice")
    location_ids = parse.ids(fields, "location_id", errors)
    if not location_ids and "location_id" not in errors:
        errors.add("location_id", "required")
    location_id = location_ids[0] if location_ids else None
    if location_id is not None and not _sees_place(
        session, actor, session.get(Location, location_id)
    ):
        errors.add("location_id", "unknown_choice")
    days = {"weekdays": fields.get("weekdays", fields.get("weekday"))}
    weekdays = parse.ids(days, "weekdays", errors)
    if not weekdays and "weekdays" not in errors:
        errors.add("weekdays", "required")
    if any(day > 6 for day in weekdays):
        errors.add("weekdays", "unknown_choice")
    starts = parse.time(fields, "starts", errors, required=True)
    ends = parse.time(fields, "ends", errors, required=True)
    if starts is not None and ends is not None and not starts < ends:
        errors.add("ends", "ends_before_start")
    valid_from = parse.date(fields, "valid_from", errors, required=True)
    valid_until = parse.date(fields, "valid_until", errors)
    if valid_from and valid_until and valid_until < valid_from:
        errors.add("valid_until", "ends_before_start")
    errors.check()
    assert user_id is not None and location_id is not None and starts and ends and valid_from
    clashes = session.scalars(
        select(WorkingPlan).where(
            WorkingPlan.user_id == user_id,
            WorkingPlan.weekday.in_(weekdays),
            WorkingPlan.starts < ends,
            WorkingPlan.ends > starts,
            or_(WorkingPlan.valid_until.is_(None), WorkingPlan.valid_until >= valid_from),
            *([WorkingPlan.valid_from <= valid_until] if valid_until else []),
        )
    ).first()
    if clashes is not None:
        raise Invalid(
            {
                "starts": FieldError(
                    "plan_overlap",
                    {
                        "weekday": clashes.weekday,
                        "starts": f"{clashes.starts:%H:%M}",
                        "ends": f"{clashes.ends:%H:%M}",
                    },
                )
            }
        )
    created = []
    for weekday in weekdays:
        plan = WorkingPlan(
            user_id=user_id,
            location_id=location_id,
            weekday=weekday,
            starts=starts,
            ends=ends,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        session.add(plan)
        created.append(plan)
    session.flush()
    for plan in created:
        audit.record(
            session,
            actor=actor,
            action="create",
            entity_type="appointment_plan",
            entity_id=plan.id,
            details={"user_id": user_id, "location_id": location_id, "weekday": plan.weekday},
        )
    return created


def end_plan(
    session: Session, plan: WorkingPlan, last_day: Any, *, actor: User | None
) -> list[Stranded]:
    """The plan's last day (a plan that has not started yet, ended before its first
    day, is removed). Returns the booked appointments after that day it leaves
    without an agent."""
    errors = Errors()
    day = parse.date({"last_day": last_day}, "last_day", errors, required=True)
    errors.check()
    assert day is not None
    if plan.valid_until is not None and day > plan.valid_until:
        raise Invalid({"last_day": FieldError("after_plan_end")})
    user_id, location_id, plan_id = plan.user_id, plan.location_id, plan.id
    if day < plan.valid_from:
        session.delete(plan)
        audit.record(
            session,
            actor=actor,
            action="delete",
            entity_type="appointment_plan",
            entity_id=plan_id,
            details={},
        )
    else:
        plan.valid_until = day
        audit.record_change(session, actor, "appointment_plan", plan_id, ["valid_until"])
    return stranded_appointments(
        session,
        agent_ids=[user_id],
        location_id=location_id,
        first_day=day + timedelta(days=1),
    )


def plans_by_agent(
    session: Session, on: date | None = None, actor: User | None = None
) -> list[tuple[User, list[WorkingPlan]]]:
    """Plans still valid on `on` (default today) or later, per agent, by name (at the
    actor's CPAS's places)."""
    day = on or clock.to_local(clock.now()).date()
    query = select(WorkingPlan).where(
        or_(WorkingPlan.valid_until.is_(None), WorkingPlan.valid_until >= day)
    )
    within = _scope(session, actor)
    if within is not None:
        places = select(Location.id).where(within.teams_filter(Location.team_id))
        query = query.where(WorkingPlan.location_id.in_(places))
    plans = session.scalars(
        query.order_by(WorkingPlan.user_id, WorkingPlan.weekday, WorkingPlan.starts)
    )
    grouped: dict[int, list[WorkingPlan]] = {}
    for plan in plans:
        grouped.setdefault(plan.user_id, []).append(plan)
    users = {user.id: user for user in session.scalars(select(User).where(User.id.in_(grouped)))}
    ordered = sorted(grouped, key=lambda user_id: (users[user_id].display_name, user_id))
    return [(users[user_id], grouped[user_id]) for user_id in ordered]


# --- Closures and absences -----------------------------------------------------------------


def add_closure(
    session: Session, fields: Mapping[str, Any], *, actor: User | None
) -> tuple[Closure, list[Stranded]]:
    """A closure of one location, or of every location of the actor's CPAS when none is
    given (a CPAS closes only its own places: docs/cpas.md)."""
    errors = Errors()
    location_id = None
    cpas_id = None
    within = _scope(session, actor)
    if fields.get("location_id") not in (None, ""):
        ids = parse.ids(fields, "location_id", errors)
        location_id = ids[0] if ids else None
        if location_id is not None and not _sees_place(
            session, actor, session.get(Location, location_id)
        ):
            errors.add("location_id", "unknown_choice")
    else:
        # "Every place" is every place of the actor's CPAS (a script: the only CPAS's);
        # the platform administrator of several CPAS has none: one place is required.
        cpas_id = within.cpas_id if within is not None else None
        if cpas_id is None and (within is None or within.everything):
            cpas_id = organisations.cpas_id_of_team(session, None)
        if cpas_id is None:
            errors.add("location_id", "required")
    first_day = parse.date(fields, "first_day", errors, required=True)
    last_day = parse.date(fields, "last_day", errors) or first_day
    if first_day and last_day and last_day < first_day:
        errors.add("last_day", "ends_before_start")
    if first_day and last_day and (last_day - first_day).days > 366:
        errors.add("last_day", "too_long_period", days=366)
    reason = parse.text(fields, "reason", errors, limit=REASON_MAX, required=True)
    errors.check()
    assert first_day is not None and last_day is not None
    closure = Closure(
        location_id=location_id,
        cpas_id=cpas_id,
        first_day=first_day,
        last_day=last_day,
        reason=reason,
    )
    session.add(closure)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="appointment_closure",
        entity_id=closure.id,
        details={"location_id": location_id, "cpas_id": cpas_id},
    )
    return closure, stranded_appointments(
        session,
        location_id=location_id,
        cpas_id=cpas_id,
        first_day=first_day,
        last_day=last_day,
    )


def _delete(session: Session, record: Any, entity_type: str, actor: User | None) -> None:
    record_id = record.id
    session.delete(record)
    audit.record(
        session, actor=actor, action="delete", entity_type=entity_type, entity_id=record_id
    )
    session.flush()


def remove_closure(session: Session, closure: Closure, *, actor: User | None) -> None:
    _delete(session, closure, "appointment_closure", actor)


def list_closures(
    session: Session, since: date | None = None, actor: User | None = None
) -> list[Closure]:
    """Closures ending on `since` (default today) or later, soonest first (of the
    actor's CPAS's places, and those of every place of its CPAS)."""
    day = since or clock.to_local(clock.now()).date()
    query = select(Closure).where(Closure.last_day >= day)
    within = _scope(session, actor)
    if within is not None and not within.everything:
        places = select(Location.id).where(within.teams_filter(Location.team_id))
        query = query.where(
            or_(Closure.location_id.in_(places), within.cpas_filter(Closure.cpas_id))
        )
    return list(session.scalars(query.order_by(Closure.first_day, Closure.id)))


def store_absence(
    session: Session,
    user_id: int,
    starts: datetime,
    ends: datetime,
    reason: str,
    *,
    actor: User | None,
) -> AgentAbsence:
    """A checked absence stored and audited (the agents' form and home care share it)."""
    absence = AgentAbsence(user_id=user_id, starts_at=starts, ends_at=ends, reason=reason)
    session.add(absence)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="appointment_absence",
        entity_id=absence.id,
        details={"user_id": user_id, "reason": reason},
    )
    return absence


def add_absence(
    session: Session, fields: Mapping[str, Any], *, actor: User | None
) -> tuple[AgentAbsence, list[Stranded]]:
    """An agent away from `starts` to `ends` (Brussels wall-clock times)."""
    errors = Errors()
    user_ids = parse.ids(fields, "user_id", errors)
    if not user_ids and "user_id" not in errors:
        errors.add("user_id", "required")
    user_id = user_ids[0] if user_ids else None
    if user_id is not None and user_id not in {user.id for user in agents(session, actor)}:
        errors.add("user_id", "unknown_choice")
    starts = parse.moment(fields, "starts", errors, required=True)
    ends = parse.moment(fields, "ends", errors, required=True)
    if starts and ends and not starts < ends:
        errors.add("ends", "ends_before_start")
    if starts and ends and (ends - starts).days > 366:
        errors.add("ends", "too_long_period", days=366)
    reason = parse.choice(fields, "reason", errors, choices=ABSENCE_REASONS, default="leave")
    errors.check()
    assert user_id is not None and starts is not None and ends is not None
    absence = store_absence(session, user_id, starts, ends, reason, actor=actor)
    # Appointments that start before the absence but run into it are stranded too.
    return absence, stranded_appointments(
        session,
        agent_ids=[user_id],
        first_day=clock.to_local(starts).date() - timedelta(days=1),
        last_day=clock.to_local(ends).date(),
    )


def remove_absence(session: Session, absence: AgentAbsence, *, actor: User | None) -> None:
    _delete(session, absence, "appointment_absence", actor)


def list_absences(
    session: Session, since: datetime | None = None, actor: User | None = None
) -> list[AgentAbsence]:
    """Absences not over at `since` (default now), soonest first (of the actor's CPAS's
    agents)."""
    moment = since or clock.now()
    query = select(AgentAbsence).where(AgentAbsence.ends_at > moment)
    within = _scope(session, actor)
    if within is not None:
        staff = select(User.id).where(within.teams_filter(User.team_id))
        query = query.where(AgentAbsence.user_id.in_(staff))
    return list(session.scalars(query.order_by(AgentAbsence.starts_at, AgentAbsence.id)))


# --- The settings pages' use cases: lookups by id, and changes committed ------------------


def committed(session: Session, change: Any, *args: Any, **kwargs: Any) -> Any:
    """`change(session, *args, **kwargs)` (one of the changes above), committed; Invalid
    rolled back (nothing saved) and raised."""
    try:
        result = change(session, *args, **kwargs)
    except Invalid:
        session.rollback()
        raise
    session.commit()
    return result


def service_by_id(session: Session, service_id: int, actor: User | None = None) -> Service | None:
    """The service if it is the actor's CPAS's (or shared); another CPAS's: None, as an
    unknown one, the attempt audited."""
    service = session.get(Service, service_id)
    if service is not None and not sees_service(session, actor, service):
        _refused(session, actor, "appointment_service", service_id)
        return None
    return service


def location_by_id(session: Session, location_id: int) -> Location | None:
    return session.get(Location, location_id)


def closure_by_id(session: Session, closure_id: int, actor: User | None = None) -> Closure | None:
    """The closure of a place of the actor's CPAS, or of every place of its CPAS;
    another CPAS's: None, audited."""
    closure = session.get(Closure, closure_id)
    if closure is None:
        return None
    within = _scope(session, actor)
    place = session.get(Location, closure.location_id) if closure.location_id else None
    allowed = within is None or (
        within.everything or within.cpas_id == closure.cpas_id
        if place is None
        else _sees_place(session, actor, place)
    )
    if not allowed:
        _refused(session, actor, "appointment_closure", closure_id)
        return None
    return closure


def absence_by_id(
    session: Session, absence_id: int, actor: User | None = None
) -> AgentAbsence | None:
    """The absence of an agent of the actor's CPAS; another CPAS's: None, audited."""
    absence = session.get(AgentAbsence, absence_id)
    if absence is None:
        return None
    if not _sees_agent(session, actor, session.get(User, absence.user_id)):
        _refused(session, actor, "appointment_absence", absence_id)
        return None
    return absence


@dataclass(frozen=True)
class PlanDetails:
    plan: WorkingPlan
    agent: User | None
    location: Location | None


def plan_details(session: Session, plan_id: int, actor: User | None = None) -> PlanDetails | None:
    """A working plan with its agent and place (the "end this plan" page); a plan at
    another CPAS's place: None, audited."""
    plan = session.get(WorkingPlan, plan_id)
    if plan is None:
        return None
    if not _sees_place(session, actor, session.get(Location, plan.location_id)):
        _refused(session, actor, "appointment_plan", plan_id)
        return None
    return PlanDetails(
        plan=plan,
        agent=session.get(User, plan.user_id),
        location=session.get(Location, plan.location_id),
    )


@dataclass(frozen=True)
class ServiceOverview:
    service: Service
    locations: list[str]  # the names of the places offering it
    agents: list[str]  # the names of the agents delivering it


def services_overview(session: Session, actor: User | None = None) -> list[ServiceOverview]:
    """Every service of the actor's CPAS (and the shared ones) with where it is offered
    and who delivers it there (the services page): the actor's CPAS's places and agents."""
    locations = {location.id: location for location in list_locations(session, actor)}
    people = {user.id: user for user in agents(session, actor)}
    return [
        ServiceOverview(
            service=service,
            locations=[
                locations[i].name for i in service_location_ids(session, service) if i in locations
            ],
            agents=[
                people[i].display_name for i in service_agent_ids(session, service) if i in people
            ],
        )
        for service in list_all_services(session, actor)
    ]


@dataclass(frozen=True)
class SettingsPage:
    """What a settings page lists and offers to choose from."""

    locations: list[Location]
    agents: list[User]
    # the page's own records: a service's offer (location and agent ids), the plans per
    # agent, the closures or the absences
    offer_location_ids: list[int] | None = None
    offer_agent_ids: list[int] | None = None
    plans: list[tuple[User, list[WorkingPlan]]] | None = None
    closures: list[Closure] | None = None
    absences: list[AgentAbsence] | None = None
    name_languages: tuple[str, ...] = ("fr", "nl")  # a service's name: the regime's


def service_form_page(
    session: Session, service: Service | None, *, actor: User | None = None
) -> SettingsPage:
    """A service's form: the places and agents to offer it with, its current offer, and
    the languages its name needs (the regime of the actor's CPAS)."""
    locations = list_locations(session, actor)
    if service is not None and service.cpas_id is not None:
        locations = [
            location
            for location in locations
            if _location_cpas(session, location) == service.cpas_id
        ]
    return SettingsPage(
        locations=locations,
        agents=agents(session, actor),
        offer_location_ids=service_location_ids(session, service) if service else None,
        offer_agent_ids=service_agent_ids(session, service) if service else None,
        name_languages=name_languages(session, actor),
    )


def plans_page(session: Session, on: date, actor: User | None = None) -> SettingsPage:
    """The working plans still valid on `on` or later, and the places and agents (the
    actor's CPAS's)."""
    return SettingsPage(
        locations=list_locations(session, actor),
        agents=agents(session, actor),
        plans=plans_by_agent(session, on, actor),
    )


def closures_page(session: Session, actor: User | None = None) -> SettingsPage:
    return SettingsPage(
        locations=list_locations(session, actor),
        agents=[],
        closures=list_closures(session, actor=actor),
    )


def absences_page(session: Session, actor: User | None = None) -> SettingsPage:
    return SettingsPage(
        locations=[], agents=agents(session, actor), absences=list_absences(session, actor=actor)
    )
