"""The services directory (partners) and referrals: contacts → requests → referrals →
completed, the chain the CPAS documents count.

A referral goes to an external partner or to a CPAS team (an antenne), optionally naming
an appointments service by its code: one that a place of that team really offers
(asked through `appointments.services`, the only way outreach reaches appointments). A
service staff can book gives the file a "book an appointment" link that carries the
service, the place and the referral; a walk-in-only one shows the place's hours.
Its status moves proposed → accepted → done / not_done, or proposed → not_done (the
person never went, the service refused); each step keeps its date and who made it. The
person's date of first engagement is their first accepted referral.

Nothing here commits: the page's use case does (outreach/files.py and settings.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appointments import services as appointments
from core import audit, clock
from core import fields as parse
from core.accounts import Team, User
from core.errors import FieldError, Invalid
from core.ids import parse_id, uuid7
from core.roles import Role
from outreach import access, identity, services
from outreach.models import (
    LANGUAGES,
    NEEDS,
    NOTE_MAX,
    PARTNER_KINDS,
    Person,
    Referral,
    ServicePartner,
)

NAME_MAX = 120
ADDRESS_MAX = 200
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ./()-]{5,28}$")
SERVICE_CODE_MAX = 40
# What may follow each status.
TRANSITIONS = {
    "proposed": ("accepted", "not_done"),
    "accepted": ("done", "not_done"),
    "done": (),
    "not_done": (),
}


# --- The directory ------------------------------------------------------------------------


def _may_edit_directory(actor: User) -> bool:
    return actor.active and actor.role in (Role.ADMIN, Role.COORDINATOR)


def save_partner(
    session: Session, actor: User, data: Mapping[str, Any], partner_id: int | None = None
) -> ServicePartner:
    """Create or change a partner of the directory (administrators and coordinators)."""
    if not _may_edit_directory(actor):
        raise Invalid({"partner": FieldError("not_allowed")})
    errors: dict[str, FieldError] = {}
    name = parse.text(data, "name", errors, limit=NAME_MAX, required=True)
    kind = parse.choice(data, "kind", errors, choices=PARTNER_KINDS)
    address = parse.text(data, "address", errors, limit=ADDRESS_MAX)
    phone = parse.text(data, "phone", errors, limit=30)
    if phone and "phone" not in errors and not PHONE_PATTERN.match(phone):
        errors["phone"] = FieldError("invalid_phone")
    languages = parse.choices(data, "languages", errors, choices=LANGUAGES)
    notes = parse.text(data, "notes", errors, limit=NOTE_MAX, multiline=True)
    partner = session.get(ServicePartner, partner_id) if partner_id is not None else None
    if partner_id is not None and partner is None:
        errors["partner"] = FieldError("unknown_partner")
    if errors:
        raise Invalid(errors)
    values = {
        "name": name,
        "kind": kind,
        "address": address,
        "phone": phone,
        "languages": list(languages),
        "notes": notes,
    }
    if partner is None:
        partner = ServicePartner(active=True, **values)
        session.add(partner)
        action, changed = "create", [key for key, value in values.items() if value]
    else:
        changed = audit.assign(partner, values)
        action = "update"
    session.flush()
    audit.record_change(session, actor, "outreach_partner", partner.id, changed, action=action)
    return partner


def partners(session: Session, kind: str | None = None) -> list[ServicePartner]:
    query = select(ServicePartner).where(ServicePartner.active.is_(True))
    if kind:
        query = query.where(ServicePartner.kind == kind)
    return list(session.scalars(query.order_by(ServicePartner.name)))


# --- Referrals -------------------------------------------------------------------------


def _moment_or_now(data: Mapping[str, Any], name: str, errors: dict[str, FieldError]) -> datetime:
    return services._moment(data, name, errors) if data.get(name) else clock.now()


def propose(session: Session, actor: User, person_id: Any, data: Mapping[str, Any]) -> Referral:
    """Refer the person for one need to a partner (`partner_id`) or a CPAS team
    (`to_team_id`, optional `service_code`)."""
    person = access.person_to_change(session, actor, person_id)
    errors: dict[str, FieldError] = {}
    need = parse.choice(data, "need", errors, choices=NEEDS)
    note = parse.text(data, "note", errors, limit=NOTE_MAX, multiline=True)
    service_code = parse.text(data, "service_code", errors, limit=SERVICE_CODE_MAX)
    proposed_at = _moment_or_now(data, "proposed_at", errors)
    if proposed_at < person.first_seen_at and "proposed_at" not in errors:
        errors["proposed_at"] = FieldError("before_first_contact")
    partner = team = None
    partner_id, team_id = data.get("partner_id"), data.get("to_team_id")
    if (partner_id in (None, "")) == (team_id in (None, "")):
        errors["destination"] = FieldError("one_destination")
    elif partner_id not in (None, ""):
        partner = session.get(ServicePartner, _int(partner_id))
        if partner is None or not partner.active:
            errors["partner_id"] = FieldError("unknown_partner")
    else:
        team = session.get(Team, _int(team_id))
        street = session.get(Team, person.team_id)
        if (
            team is None
            or team.kind == "street"
            or (street is not None and team.cpas_id != street.cpas_id)
        ):
            # A referral goes to a CPAS service; another street team is not one (and would
            # open the file to its coordinator), nor is another CPAS's team (another data
            # controller: it is referred to as a partner of the directory, which opens no
            # file; docs/outreach.md).
            team = None
            errors["to_team_id"] = FieldError("unknown_team")
    if service_code and team is None and "destination" not in errors:
        errors["service_code"] = FieldError("internal_only")
    elif service_code and team is not None:
        offered = {
            offer.service.code
            for offer in appointments.team_offers(session, [team.id]).get(team.id, [])
        }
        if service_code not in offered:
            # Only what the destination's places offer: a code from elsewhere (or a
            # made-up one) would give the file a booking link that cannot work.
            errors["service_code"] = FieldError("not_offered_by_team")
    if errors:
        raise Invalid(errors)
    referral = Referral(
        id=uuid7(),
        team_id=person.team_id,
        person_id=person.id,
        partner_id=partner.id if partner else None,
        to_team_id=team.id if team else None,
        service_code=service_code,
        need=need,
        status="proposed",
        note=note,
        proposed_at=proposed_at,
        proposed_by_id=actor.id,
    )
    session.add(referral)
    _audit(session, actor, "create", referral, ["need", "destination", *(["note"] * bool(note))])
    session.flush()
    return referral


def _int(value: Any) -> int:
    """A posted id; -1 (found nowhere) when it is not one an int column holds."""
    return parse_id(value) or -1


def _audit(session: Session, actor: User, action: str, referral: Referral, fields: list) -> None:
    audit.record_change(session, actor, "outreach_referral", referral.id, fields, action=action)


def can_move(session: Session, actor: User, referral: Referral) -> bool:
    """The street team, or the receiving team's staff when they may see the person."""
    if access.works_with(actor, referral.team_id):
        return True
    return (
        referral.to_team_id is not None
        and actor.team_id == referral.to_team_id
        and actor.role in access.SHARING_ROLES
        and access.sharing_allowed(session, referral.person_id)
    )


def move(
    session: Session,
    actor: User,
    referral_id: Any,
    status: str,
    data: Mapping[str, Any] | None = None,
) -> Referral:
    """Move a referral to `status` (see TRANSITIONS), at `at` (default now)."""
    referral = session.get(Referral, referral_id) if isinstance(referral_id, uuid.UUID) else None
    if referral is None or not can_move(session, actor, referral):
        raise Invalid({"referral": FieldError("unknown_referral")})
    if status not in TRANSITIONS[referral.status]:
        raise Invalid({"status": FieldError("referral_transition")})
    errors: dict[str, FieldError] = {}
    at = _moment_or_now(data or {}, "at", errors)
    previous = referral.accepted_at or referral.proposed_at
    if "at" not in errors and at < previous:
        errors["at"] = FieldError("before_previous_step")
    if errors:
        raise Invalid(errors)
    if status == "accepted":
        referral.accepted_at, referral.accepted_by_id = at, actor.id
    else:
        referral.closed_at, referral.closed_by_id = at, actor.id
    referral.status = status
    _audit(session, actor, "update", referral, ["status"])
    session.flush()
    return referral


def person_referrals(session: Session, person_id: uuid.UUID) -> list[Referral]:
    return list(
        session.scalars(
            select(Referral).where(Referral.person_id == person_id).order_by(Referral.proposed_at)
        )
    )


def first_engagement_at(session: Session, person_id: uuid.UUID) -> datetime | None:
    """The date of the person's first accepted referral (None: not engaged yet)."""
    return session.scalar(
        select(func.min(Referral.accepted_at)).where(Referral.person_id == person_id)
    )


def people_referred_to(session: Session, user: User) -> list[Person]:
    """People referred to the user's team whose file the user may read (sharing consented),
    last seen first."""
    if user.team_id is None or user.role not in access.SHARING_ROLES:
        return []
    people = session.scalars(
        select(Person)
        .where(Person.id.in_(select(Referral.person_id).where(Referral.to_team_id == user.team_id)))
        .order_by(Person.last_seen_at.desc())
    )
    return [person for person in people if access.can_read_person(session, user, person)]


# --- Booking an appointment for a referral --------------------------------------------


BOOKING_LANGUAGES = ("fr", "nl", "en")


@dataclass(frozen=True)
class BookingReferral:
    """An open referral to a CPAS service, and what pre-fills its booking."""

    referral: Referral
    person: Person
    name: str  # the identity's name when given, else the nickname (staff may change it)
    language: str | None  # fr, nl or en when the person's language is one of them


def for_booking(session: Session, actor: User, referral_id: Any) -> BookingReferral | None:
    """The referral when `actor` may read its person's file and it is still open
    (proposed or accepted) to a CPAS service; None otherwise, whatever the reason (the
    same answer for one that does not exist). The read of the file is audited."""
    referral = session.get(Referral, referral_id) if isinstance(referral_id, uuid.UUID) else None
    if (
        referral is None
        or referral.to_team_id is None
        or referral.status not in ("proposed", "accepted")
    ):
        return None
    person = session.get(Person, referral.person_id)
    if person is None or not access.can_read_person(session, actor, person):
        return None
    audit.record_read(session, actor, "outreach_person", person.id)
    named = identity.identity_of(session, person.id)
    name = f"{named.first_name} {named.last_name}".strip() if named else ""
    language = person.language if person.language in BOOKING_LANGUAGES else None
    return BookingReferral(referral, person, name or person.nickname, language)
