"""The public face of appointments: what the web layer and other packages call.

Lookups (`list_services`, `get_service`, `get_location`), slot search (`free_slots`,
`next_free_slots`, from `appointments.slots`) and booking (`book`, `cancel`,
`reschedule`, `find_by_token`, `check_in`, `mark_no_show`, `mark_done`, from
`appointments.booking`). Importing it registers the SMS subject kind, the attendance
source and the audience (`appointments.notifications`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments import notifications as _registrations  # noqa: F401
from appointments.booking import (
    SlotTaken,
    book,
    cancel,
    check_in,
    contact_for,
    find_by_token,
    get_appointment,
    issued_token,
    mark_done,
    mark_no_show,
    offer_freed_slot,
    offers,
    reminder_rules,
    reschedule,
)
from appointments.models import AgentAbsence, Location, Service, ServiceLocation
from appointments.setup import ABSENCE_REASONS
from appointments.slots import Slot, agents_free_at, free_slots, next_free_slots
from core import audit
from core.accounts import User
from core.sync import FieldError, Invalid

__all__ = [
    "Absence",
    "OfferedService",
    "Slot",
    "SlotTaken",
    "absences_between",
    "add_user_absence",
    "agents_free_at",
    "book",
    "cancel",
    "check_in",
    "contact_for",
    "find_by_token",
    "free_slots",
    "get_appointment",
    "get_location",
    "get_service",
    "issued_token",
    "list_services",
    "mark_done",
    "mark_no_show",
    "next_free_slots",
    "offer_freed_slot",
    "offers",
    "reminder_rules",
    "reschedule",
]


@dataclass(frozen=True)
class OfferedService:
    service: Service
    locations: list[Location]


def list_services(session: Session, *, bookable_only: bool = True) -> list[OfferedService]:
    """Active services with the locations offering them, by French name. `bookable_only`
    leaves out walk-in-only services (they have no slots)."""
    query = select(Service).where(Service.active.is_(True))
    if bookable_only:
        query = query.where(Service.booking_mode != "walk_in")
    services = list(session.scalars(query.order_by(Service.name_fr, Service.code)))
    by_service: dict[int, list[Location]] = {service.id: [] for service in services}
    if services:
        for service_id, location in session.execute(
            select(ServiceLocation.service_id, Location)
            .join(Location, Location.id == ServiceLocation.location_id)
            .where(ServiceLocation.service_id.in_(list(by_service)))
            .order_by(Location.name, Location.code)
        ):
            by_service[service_id].append(location)
    return [OfferedService(service, by_service[service.id]) for service in services]


def get_service(session: Session, code: str) -> Service | None:
    """The service with this code (active or not: callers check `active`)."""
    code = (code or "").strip()
    if not code:
        return None
    return session.scalar(select(Service).where(Service.code == code))


def get_location(session: Session, code: str) -> Location | None:
    code = (code or "").strip()
    if not code:
        return None
    return session.scalar(select(Location).where(Location.code == code))


# --- Per-user absences, shared with home care ----------------------------------------------


@dataclass(frozen=True)
class Absence:
    user_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str


def absences_between(
    session: Session, user_ids: Iterable[int], starts_at: datetime, ends_at: datetime
) -> list[Absence]:
    """The users' absences that overlap [starts_at, ends_at)."""
    ids = list(user_ids)
    if not ids:
        return []
    rows = session.scalars(
        select(AgentAbsence)
        .where(
            AgentAbsence.user_id.in_(ids),
            AgentAbsence.starts_at < ends_at,
            AgentAbsence.ends_at > starts_at,
        )
        .order_by(AgentAbsence.starts_at, AgentAbsence.id)
    )
    return [Absence(a.user_id, a.starts_at, a.ends_at, a.reason) for a in rows]


def add_user_absence(
    session: Session,
    *,
    user_id: int,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    actor: User | None,
) -> Absence:
    """Any staff member away (the caller decided she may be recorded so); audited."""
    errors: dict[str, FieldError] = {}
    if not starts_at < ends_at:
        errors["ends"] = FieldError("ends_before_start")
    elif (ends_at - starts_at).days > 366:
        errors["ends"] = FieldError("too_long_period", {"days": 366})
    if reason not in ABSENCE_REASONS:
        errors["reason"] = FieldError("unknown_choice")
    if errors:
        raise Invalid(errors)
    absence = AgentAbsence(user_id=user_id, starts_at=starts_at, ends_at=ends_at, reason=reason)
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
    return Absence(user_id, starts_at, ends_at, reason)
