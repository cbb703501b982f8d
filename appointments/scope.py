"""Appointments within the viewer's CPAS (`core.organisations.scope_of`): a place, an
appointment of another CPAS answers as an unknown one, and the attempt is audited.

A place belongs to its team's CPAS; an appointment to its place's. A role that works
locally (reception, social worker) sees only its antennes' places: its own team's and
those an administrator granted (`Scope.local`). Every place has a team
(0052_cpas_place_team). The desk, agendas, appointment pages and actions, the staff
booking API, indicators and exports ask here.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, String, bindparam, literal, select
from sqlalchemy.orm import Session

from appointments.booking import get_appointment
from appointments.models import Appointment, Location, Service
from core import organisations
from core.accounts import Team, User, list_teams


def locations_filter(session: Session, viewer: User | None) -> ColumnElement[bool]:
    """A WHERE clause keeping the places of the viewer's CPAS (a local role: of its
    antennes, its own team and those granted)."""
    scope = organisations.scope_of(session, viewer).local()
    return scope.teams_filter(Location.team_id)


def visible_locations(session: Session, viewer: User | None) -> list[Location]:
    """The places the viewer may see, by name."""
    return list(
        session.scalars(
            select(Location)
            .where(locations_filter(session, viewer))
            .order_by(Location.name, Location.code)
        )
    )


def _refused(session: Session, viewer: User | None, entity_type: str, entity_id: object) -> None:
    organisations.refuse(session, viewer, entity_type, entity_id)
    session.commit()  # the refusal stays audited although the answer is a 404


def sees_location(session: Session, viewer: User | None, location: Location) -> bool:
    scope = organisations.scope_of(session, viewer).local()
    return scope.sees_team(location.team_id)


def scoped_location(session: Session, viewer: User | None, code: str | None) -> Location | None:
    """The place with this code if the viewer may see it; another CPAS's: None, audited."""
    code = (code or "").strip()
    if not code:
        return None
    return _seen(session, viewer, session.scalar(select(Location).where(Location.code == code)))


def _seen(session: Session, viewer: User | None, location: Location | None) -> Location | None:
    """`location` if the viewer may see it; another CPAS's: None, the attempt audited."""
    if location is None or sees_location(session, viewer, location):
        return location
    _refused(session, viewer, "appointment_location", location.id)
    return None


# Built once: a staff booking's first read. Both outer joins hang on a one-row select, so
# an unknown code leaves its side empty and the other is still read.
_SERVICE_AND_PLACE = (
    select(Service, Location)
    .select_from(select(literal(1).label("one")).subquery())
    .outerjoin(Service, Service.code == bindparam("service_code", type_=String()))
    .outerjoin(Location, Location.code == bindparam("location_code", type_=String()))
)


def scoped_service_and_location(
    session: Session, viewer: User | None, service_code: str | None, location_code: str | None
) -> tuple[Service | None, Location | None]:
    """The service with this code (active or not: the booking checks) and the place as
    `scoped_location` says, in one statement: a staff booking reads both."""
    codes = {
        "service_code": (service_code or "").strip() or None,  # NULL matches no code
        "location_code": (location_code or "").strip() or None,
    }
    service, location = session.execute(_SERVICE_AND_PLACE, codes).one()
    return service, _seen(session, viewer, location)


def scoped_appointment(
    session: Session, viewer: User | None, appointment_id: int
) -> Appointment | None:
    """The appointment if it is at a place of the viewer's CPAS; another CPAS's: None
    (as an unknown one), the attempt audited."""
    appointment = get_appointment(session, appointment_id)
    if appointment is None:
        return None
    if not sees_location(session, viewer, appointment.location):
        _refused(session, viewer, "appointment", appointment.id)
        return None
    return appointment


def teams_offered(session: Session, viewer: User | None) -> list[Team]:
    """The teams a place may be given: those of the viewer's CPAS."""
    within = organisations.scope_of(session, viewer)
    return [team for team in list_teams(session) if within.sees_team(team.id)]


def scoped_location_by_id(
    session: Session, viewer: User | None, location_id: int
) -> Location | None:
    """The place with this id if the viewer may see it; another CPAS's: None, audited."""
    location = session.get(Location, location_id)
    if location is None:
        return None
    return scoped_location(session, viewer, location.code)
