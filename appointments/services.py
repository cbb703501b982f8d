"""The public face of appointments: what the web layer and other packages call.

Lookups (`list_services`, `get_service`, `get_location`, `team_offers`: what each
CPAS team's places offer, for the outreach referral form; `referral_appointments`: the
appointments booked for outreach referrals; `mobile_stop_places`: a team's places of
kind mobile stop, for rounds' links page; `holders_between`: who holds a booked
appointment at a place in a time span, as notifications contacts, for rounds' minibus
SMS), slot search (`free_slots`,
`next_free_slots`, from `appointments.slots`) and booking (`book`, `cancel`,
`reschedule`, `find_by_token`, `check_in`, `mark_no_show`, `mark_done`, from
`appointments.booking`). What appointments register with notifications (the SMS
subject kind, the attendance source, the audience) is in `appointments.notifications`,
imported by the domain's installation (appointments/domain.py). `CODE_CONTACT_NAME`: the name
of the contact an SMS code goes to (the SMS pages show it translated).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appointments import verification as _verification
from appointments.booking import (
    SlotTaken,
    book,
    cancel,
    check_in,
    contact_for,
    contact_reference,
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
from appointments.models import (
    ACTIVE_STATES,
    AgentAbsence,
    Appointment,
    BookingPerson,
    Location,
    Service,
    ServiceLocation,
)
from appointments.scope import (
    locations_filter,
    scoped_appointment,
    scoped_location,
    sees_location,
    visible_locations,
)
from appointments.setup import (
    ABSENCE_REASONS,
    Stranded,
    add_closure,
    closure_by_id,
    remove_closure,
    set_mobile_stop_hours,
    store_absence,
    stranded_appointments,
)
from appointments.slots import Slot, agents_free_at, free_slots, next_free_slots
from appointments.verification import CONTACT_NAME as CODE_CONTACT_NAME
from appointments.verification import PhoneCheck, RateLimited, phone_hash, read_mobile
from core.accounts import User
from core.errors import FieldError, Invalid
from notifications import services as notify

__all__ = [
    "CODE_CONTACT_NAME",
    "Absence",
    "Attendance",
    "Holder",
    "OfferedService",
    "PhoneCheck",
    "RateLimited",
    "Slot",
    "SlotTaken",
    "Stranded",
    "TeamOffer",
    "absences_between",
    "add_closure",
    "add_user_absence",
    "agents_free_at",
    "attendance_between",
    "book",
    "cancel",
    "check_in",
    "closure_by_id",
    "contact_for",
    "find_by_token",
    "free_slots",
    "get_appointment",
    "get_location",
    "get_phone_check",
    "get_service",
    "holders_between",
    "issued_token",
    "list_services",
    "location_by_id",
    "locations_filter",
    "mark_done",
    "mark_no_show",
    "mobile_stop_places",
    "next_free_slots",
    "offer_freed_slot",
    "offers",
    "phone_code_confirmed",
    "phone_code_used",
    "phone_hash",
    "read_mobile",
    "referral_appointments",
    "reminder_rules",
    "remove_closure",
    "reschedule",
    "scoped_appointment",
    "scoped_location",
    "sees_location",
    "send_phone_code",
    "set_mobile_stop_hours",
    "stranded_appointments",
    "team_offers",
    "verify_phone_code",
    "visible_locations",
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


@dataclass(frozen=True)
class TeamOffer:
    """An active service offered at one place of a team."""

    service: Service
    location: Location

    @property
    def bookable(self) -> bool:
        """Staff can book it (online or by phone); walk-in only: come during the hours."""
        return self.service.booking_mode != "walk_in"


def team_offers(
    session: Session, team_ids: Iterable[int] | None = None
) -> dict[int, list[TeamOffer]]:
    """By team id, the active services its places offer (by French name, then place)."""
    query = (
        select(Location.team_id, Service, Location)
        .join(ServiceLocation, ServiceLocation.location_id == Location.id)
        .join(Service, Service.id == ServiceLocation.service_id)
        .where(Service.active.is_(True), Location.team_id.is_not(None))
        .order_by(Service.name_fr, Service.code, Location.name, Location.code)
    )
    if team_ids is not None:
        query = query.where(Location.team_id.in_(list(team_ids)))
    offers: dict[int, list[TeamOffer]] = {}
    for team_id, service, location in session.execute(query):
        offers.setdefault(team_id, []).append(TeamOffer(service, location))
    return offers


def referral_appointments(
    session: Session, referral_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Appointment]:
    """By referral id, the latest appointment booked for it that still holds (booked,
    arrived or done; a cancelled or missed one leaves the referral to book again)."""
    wanted = list(referral_ids)
    if not wanted:
        return {}
    found: dict[uuid.UUID, Appointment] = {}
    for appointment in session.scalars(
        select(Appointment)
        .where(Appointment.referral_id.in_(wanted), Appointment.status.in_(ACTIVE_STATES))
        .order_by(Appointment.start_at)
    ):
        assert appointment.referral_id is not None
        found[appointment.referral_id] = appointment  # the latest start wins
    return found


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
    store_absence(session, user_id, starts_at, ends_at, reason, actor=actor)
    return Absence(user_id, starts_at, ends_at, reason)


# --- One-time SMS codes for other domains' public pages (rounds: a stop's SMS) ------------
# The same checks, limits and throttles as the public booking (appointments.verification):
# one budget of codes per number, address, network and site, whatever page asks.


def send_phone_code(session: Session, **start_args: object) -> PhoneCheck:
    """`verification.start` (purpose, e.g. "stop_sms"); the caller commits, also after
    RateLimited (the refused attempt counts)."""
    return _verification.start(session, **start_args)  # type: ignore[arg-type]


def verify_phone_code(session: Session, check: PhoneCheck, code: str, *, secret: str) -> str:
    """The proof, or Invalid({"code": …}); the caller commits in every case."""
    return _verification.verify(session, check, code, secret=secret)


def get_phone_check(session: Session, check_id: object) -> PhoneCheck | None:
    return _verification.get_check(session, check_id)


def phone_code_confirmed(
    session: Session, check_id: object, proof: object, e164: str, *, secret: str
) -> PhoneCheck:
    """The verified, fresh check this proof stands for (row held); Invalid otherwise."""
    return _verification.confirmed(session, check_id, proof, e164, secret=secret, lock=True)


def phone_code_used(check: PhoneCheck) -> None:
    _verification.mark_used(check)


def location_by_id(session: Session, location_id: int | None) -> Location | None:
    return session.get(Location, location_id) if location_id is not None else None


def mobile_stop_places(session: Session, team_id: int) -> list[Location]:
    """The team's places of kind mobile stop (what a minibus stop may be linked to)."""
    return list(
        session.scalars(
            select(Location)
            .where(Location.kind == "mobile_stop", Location.team_id == team_id)
            .order_by(Location.name, Location.code)
        )
    )


@dataclass(frozen=True)
class Holder:
    """Who holds a booked appointment at a place: the person's notifications contact and
    language (for a message about the place, e.g. a late minibus); never the name."""

    appointment_id: int
    contact_id: int
    language: str | None


def holders_between(
    session: Session, location_id: int, starts_at: datetime, ends_at: datetime
) -> list[Holder]:
    """The people with a booked appointment at the place starting in [starts_at,
    ends_at) who have a phone and a contact (made at booking), by start."""
    rows = session.execute(
        select(Appointment.id, BookingPerson)
        .join(BookingPerson, BookingPerson.id == Appointment.person_id)
        .where(
            Appointment.location_id == location_id,
            Appointment.status == "booked",
            Appointment.start_at >= starts_at,
            Appointment.start_at < ends_at,
            BookingPerson.phone.is_not(None),
        )
        .order_by(Appointment.start_at, Appointment.id)
    ).all()
    found = []
    for appointment_id, person in rows:
        contact = notify.contact_by_reference(session, contact_reference(person))
        if contact is not None:
            found.append(Holder(appointment_id, contact.id, person.language or contact.language))
    return found


@dataclass
class Attendance:
    """Appointments at a place over a time span, counted (no person): kept (checked in
    or done), no-shows, cancelled (moved ones are counted where they were moved to)."""

    kept: int = 0
    no_show: int = 0
    cancelled: int = 0

    def add(self, other: Attendance) -> None:
        self.kept += other.kept
        self.no_show += other.no_show
        self.cancelled += other.cancelled


def attendance_between(
    session: Session, location_id: int, starts_at: datetime, ends_at: datetime
) -> Attendance:
    """The appointments at the place starting in [starts_at, ends_at), by outcome (for
    another domain's indicators, e.g. the minibus's stops: figures only)."""
    found = Attendance()
    for status, moved_to, count in session.execute(
        select(Appointment.status, Appointment.moved_to_id.is_not(None), func.count())
        .where(
            Appointment.location_id == location_id,
            Appointment.start_at >= starts_at,
            Appointment.start_at < ends_at,
        )
        .group_by(Appointment.status, Appointment.moved_to_id.is_not(None))
    ):
        if status in ("checked_in", "done"):
            found.kept += count
        elif status == "no_show":
            found.no_show += count
        elif status == "cancelled" and not moved_to:
            found.cancelled += count
    return found
