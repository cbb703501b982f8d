"""Shared services (of no CPAS: set up before several CPAS and offered by places of
several, left so by 0051_cpas_setup) given their CPAS, or split into one copy per CPAS
(docs/cpas.md, "Shared services").

Only the platform administrator (an administrator of no team) or the command line
(`terrain services …`, no actor) may: a shared service is every CPAS's, so no CPAS's
staff decides for the others. Anyone else is answered as for an unknown service (None)
and the attempt is audited.

A split copies the service (its settings, names, reminders) once for each CPAS other
than the one that keeps the row (the first by code), with the code `<code>-<cpas code>`;
each copy gets its CPAS's offers (places), agents, appointments and waiting list. A
waiting entry "anywhere" follows the CPAS of its person's contact when its teams are of
one CPAS, else stays with the row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from appointments.booking import contact_reference
from appointments.models import (
    AgentService,
    Appointment,
    BookingPerson,
    Location,
    Service,
    ServiceLocation,
    WaitingEntry,
)
from core import audit, organisations
from core.accounts import Team, User
from core.errors import FieldError, Invalid
from notifications import services as notify

# The columns a copy takes from the service it is split from (all but its identity).
_COPIED = (
    "name_fr",
    "name_nl",
    "name_en",
    "duration_minutes",
    "buffer_minutes",
    "booking_mode",
    "languages",
    "min_notice_hours",
    "max_horizon_days",
    "reminder_day_before_at",
    "reminder_hours_before",
    "active",
    "bring_fr",
    "bring_nl",
    "bring_en",
)


def _copied(value: object) -> object:
    return list(value) if isinstance(value, list) else value  # a JSON list of its own


def may_share(actor: User | None) -> bool:
    """The platform administrator (an administrator of no team) or a script."""
    return actor is None or (actor.role in organisations.PLATFORM_ROLES and actor.team_id is None)


@dataclass(frozen=True)
class SharedService:
    service: Service
    cpas: list[organisations.Cpas]  # whose places offer it or hold its bookings, by code


def _place_cpas(session: Session, service_id: int) -> dict[int, int]:
    """Place id → CPAS id of every place offering the service or holding its
    appointments or waiting entries."""
    used = (
        select(ServiceLocation.location_id)
        .where(ServiceLocation.service_id == service_id)
        .union(
            select(Appointment.location_id).where(Appointment.service_id == service_id),
            select(WaitingEntry.location_id).where(
                WaitingEntry.service_id == service_id, WaitingEntry.location_id.is_not(None)
            ),
        )
        .subquery()
    )
    rows = session.execute(
        select(Location.id, Team.cpas_id)
        .join(Team, Team.id == Location.team_id)
        .where(Location.id.in_(select(used.c[0])))
    )
    return {location_id: cpas_id for location_id, cpas_id in rows}


def _cpas_of(session: Session, service_id: int) -> list[organisations.Cpas]:
    ids = set(_place_cpas(session, service_id).values())
    return [cpas for cpas in organisations.list_cpas(session) if cpas.id in ids]


@dataclass(frozen=True)
class SharedPage:
    services: list[SharedService]
    cpas: list[organisations.Cpas]  # every CPAS: a service may be given to any


def shared_services(session: Session, actor: User | None) -> SharedPage | None:
    """The services of no CPAS with the CPAS that use them, and every CPAS; None for
    anyone but the platform administrator (audited)."""
    if not may_share(actor):
        organisations.refuse(session, actor, "appointment_service", "shared")
        session.commit()  # the refusal stays audited although the answer is a 404
        return None
    services = session.scalars(
        select(Service).where(Service.cpas_id.is_(None)).order_by(Service.name_fr, Service.code)
    )
    return SharedPage(
        services=[SharedService(service, _cpas_of(session, service.id)) for service in services],
        cpas=organisations.list_cpas(session),
    )


def shared_service(session: Session, service_id: int, actor: User | None) -> Service | None:
    """The shared service with this id; another (of a CPAS) or an actor who may not:
    None, the attempt audited."""
    service = session.get(Service, service_id)
    if service is None:
        return None
    if not may_share(actor) or service.cpas_id is not None:
        organisations.refuse(session, actor, "appointment_service", service_id)
        session.commit()
        return None
    return service


def _target(session: Session, code: str) -> organisations.Cpas:
    cpas = organisations.get_cpas(session, (code or "").strip().lower())
    if cpas is None:
        raise Invalid({"cpas": FieldError("unknown_choice")})
    return cpas


def give_cpas(session: Session, service: Service, cpas_code: str, *, actor: User | None) -> None:
    """The shared service becomes `cpas_code`'s. Refused when places of another CPAS
    offer it or hold its bookings (then split it)."""
    if service.cpas_id is not None:
        raise Invalid({"service": FieldError("unknown_choice")})
    cpas = _target(session, cpas_code)
    if set(_place_cpas(session, service.id).values()) - {cpas.id}:
        raise Invalid({"cpas": FieldError("used_by_other_cpas")})
    service.cpas_id = cpas.id
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="appointment_service",
        entity_id=service.id,
        details={"fields": ["cpas_id"], "cpas": cpas.code},
    )
    session.flush()


def _free_code(session: Session, base: str, suffix: str) -> str:
    """`<base>-<suffix>` within 40 characters, numbered when taken."""
    for n in range(1, 1000):
        tail = f"-{suffix}" if n == 1 else f"-{suffix}{n}"
        code = f"{base[: 40 - len(tail)].rstrip('-')}{tail}"
        if session.scalar(select(Service.id).where(Service.code == code)) is None:
            return code
    raise Invalid({"code": FieldError("code_taken")})


def _anywhere_cpas(session: Session, person_id: int) -> int | None:
    """The CPAS of the person's contact when all its teams are of one CPAS."""
    person = session.get(BookingPerson, person_id)
    contact = notify.contact_by_reference(session, contact_reference(person)) if person else None
    if contact is None:
        return None
    found = {organisations.cpas_id_of_team(session, link.team_id) for link in contact.teams}
    return found.pop() if len(found) == 1 else None


def split_service(session: Session, service: Service, *, actor: User | None) -> list[Service]:
    """One service per CPAS using the shared one: the row stays the first CPAS's (by
    code), a copy for each other CPAS with its offers, agents, appointments and waiting
    entries. Returns the services, the row first. Refused when no CPAS's place uses it
    (then give it a CPAS)."""
    if service.cpas_id is not None:
        raise Invalid({"service": FieldError("unknown_choice")})
    place_cpas = _place_cpas(session, service.id)
    every = _cpas_of(session, service.id)
    if not every:
        raise Invalid({"cpas": FieldError("no_cpas_uses_it")})
    first, *others = every
    service.cpas_id = first.id
    made = {first.id: service}
    for cpas in others:
        copy = Service(
            code=_free_code(session, service.code, cpas.code),
            cpas_id=cpas.id,
            **{name: _copied(getattr(service, name)) for name in _COPIED},
        )
        session.add(copy)
        made[cpas.id] = copy
    session.flush()
    for cpas in others:
        copy = made[cpas.id]
        places = [place for place, owner in place_cpas.items() if owner == cpas.id]
        agents = select(User.id).join(Team, Team.id == User.team_id).where(Team.cpas_id == cpas.id)
        moves = (
            update(ServiceLocation)
            .where(
                ServiceLocation.service_id == service.id, ServiceLocation.location_id.in_(places)
            )
            .values(service_id=copy.id),
            update(AgentService)
            .where(AgentService.service_id == service.id, AgentService.user_id.in_(agents))
            .values(service_id=copy.id),
            update(Appointment)
            .where(Appointment.service_id == service.id, Appointment.location_id.in_(places))
            .values(service_id=copy.id),
            update(WaitingEntry)
            .where(WaitingEntry.service_id == service.id, WaitingEntry.location_id.in_(places))
            .values(service_id=copy.id),
        )
        for move in moves:
            session.execute(move, execution_options={"synchronize_session": False})
    anywhere = session.execute(
        select(WaitingEntry.id, WaitingEntry.person_id).where(
            WaitingEntry.service_id == service.id, WaitingEntry.location_id.is_(None)
        )
    ).all()
    for entry_id, person_id in anywhere:
        owner = _anywhere_cpas(session, person_id)
        if owner in made and made[owner] is not service:
            session.execute(
                update(WaitingEntry)
                .where(WaitingEntry.id == entry_id)
                .values(service_id=made[owner].id),
                execution_options={"synchronize_session": False},
            )
    session.expire_all()
    copies = [made[cpas.id] for cpas in others]
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="appointment_service",
        entity_id=service.id,
        details={
            "fields": ["cpas_id"],
            "cpas": first.code,
            "split_into": [copy.id for copy in copies],
        },
    )
    for cpas, copy in zip(others, copies, strict=True):
        audit.record(
            session,
            actor=actor,
            action="create",
            entity_type="appointment_service",
            entity_id=copy.id,
            details={"split_from": service.id, "cpas": cpas.code, "code": copy.code},
        )
    session.flush()
    return [service, *copies]
