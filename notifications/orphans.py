"""What belongs to no CPAS once there are several: contacts of no team and SMS received
that no CPAS owns (docs/cpas.md, "Contacts and SMS of no CPAS").

No CPAS's staff sees them (notifications.scope fails closed). The platform administrator
(an administrator of no team) sees only that they exist, never a name, a number in
clear or a text: a contact by its id and date, an SMS by its time, masked number and
length. They give a contact to a CPAS's team, or an SMS to a CPAS, which then reads it;
each change is audited. Anyone else is answered as for an unknown record (None) and the
attempt is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from core import audit, organisations
from core.accounts import Team, User
from core.errors import FieldError, Invalid
from notifications.gateways import mask_number
from notifications.models import Contact, ContactTeam, InboundSms

LISTED = 200  # the page lists the newest this many of each, and says how many in all
Given = Literal["given", "already"]


def may_route(session: Session, actor: User | None) -> bool:
    """The platform administrator of several CPAS (with one, nothing is of no CPAS: its
    staff see a contact of no team as before)."""
    return (
        actor is not None
        and actor.role in organisations.PLATFORM_ROLES
        and organisations.scope_of(session, actor).platform
    )


def _orphan() -> object:
    """A WHERE clause on `Contact`: of no team and no member of staff's own."""
    return ~exists().where(ContactTeam.contact_id == Contact.id) & Contact.user_id.is_(None)


def _stray() -> object:
    """A WHERE clause on `InboundSms`: of no contact and no CPAS."""
    return InboundSms.contact_id.is_(None) & InboundSms.cpas_id.is_(None)


@dataclass(frozen=True)
class OrphanContact:
    id: int
    created_at: datetime


@dataclass(frozen=True)
class StraySms:
    id: int
    received_at: datetime
    number: str  # masked: country code and last two digits
    length: int  # characters
    handled: bool


@dataclass(frozen=True)
class CpasTeams:
    cpas: organisations.Cpas
    teams: list[Team]


@dataclass(frozen=True)
class OrphansPage:
    contacts: list[OrphanContact]
    contacts_total: int
    sms: list[StraySms]
    sms_total: int
    cpas: list[CpasTeams]  # every CPAS and its teams: where to give them


def _refuse(session: Session, actor: User | None, entity_type: str, entity_id: object) -> None:
    organisations.refuse(session, actor, entity_type, entity_id)
    session.commit()  # the refusal stays audited although the answer is a 404


def orphans_page(session: Session, actor: User | None) -> OrphansPage | None:
    """The contacts and SMS of no CPAS, newest first; None for anyone but the platform
    administrator (audited)."""
    if not may_route(session, actor):
        _refuse(session, actor, "sms_contact", "no_cpas")
        return None
    contacts = session.execute(
        select(Contact.id, Contact.created_at)
        .where(_orphan())
        .order_by(Contact.created_at.desc(), Contact.id.desc())
        .limit(LISTED)
    ).all()
    sms = session.execute(
        select(
            InboundSms.id,
            InboundSms.received_at,
            InboundSms.from_e164,
            func.length(InboundSms.body),
            InboundSms.handled_at,
        )
        .where(_stray())
        .order_by(InboundSms.received_at.desc(), InboundSms.id.desc())
        .limit(LISTED)
    ).all()
    teams = list(session.scalars(select(Team).order_by(Team.name)))
    return OrphansPage(
        contacts=[OrphanContact(row.id, row.created_at) for row in contacts],
        contacts_total=session.scalar(select(func.count()).select_from(Contact).where(_orphan()))
        or 0,
        sms=[
            StraySms(row[0], row[1], mask_number(row[2]), row[3] or 0, row[4] is not None)
            for row in sms
        ],
        sms_total=session.scalar(select(func.count()).select_from(InboundSms).where(_stray())) or 0,
        cpas=[
            CpasTeams(cpas, [team for team in teams if team.cpas_id == cpas.id])
            for cpas in organisations.list_cpas(session)
        ],
    )


def give_contact(
    session: Session, contact_id: int, team_code: str, *, actor: User | None
) -> Given | None:
    """The contact of no team joins the team `team_code` (so its CPAS), audited and
    committed. None: no such contact, or an actor who may not (audited); "already": it
    has a team now. Invalid: no such team, nothing changed."""
    if not may_route(session, actor):
        _refuse(session, actor, "sms_contact", contact_id)
        return None
    contact = session.get(Contact, contact_id)
    if contact is None:
        return None
    if contact.teams or contact.user_id is not None:
        return "already"
    team = session.scalar(select(Team).where(Team.code == (team_code or "").strip()[:40]))
    if team is None:
        raise Invalid({"team": FieldError("unknown_choice")})
    contact.teams.append(ContactTeam(team_id=team.id))
    cpas = organisations.cpas_of_team(session, team.id)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="sms_contact",
        entity_id=contact.id,
        details={"fields": ["teams"], "team": team.code, "cpas": cpas.code if cpas else None},
    )
    session.commit()
    return "given"


def route_sms(
    session: Session, inbound_id: int, cpas_code: str, *, actor: User | None
) -> Given | None:
    """The SMS of no CPAS becomes `cpas_code`'s (its staff read it from then on),
    audited and committed. None: no such SMS, or an actor who may not (audited);
    "already": it has a CPAS or a contact now. Invalid: no such CPAS."""
    if not may_route(session, actor):
        _refuse(session, actor, "sms_inbound", inbound_id)
        return None
    inbound = session.get(InboundSms, inbound_id)
    if inbound is None:
        return None
    if inbound.cpas_id is not None or inbound.contact_id is not None:
        return "already"
    cpas = organisations.get_cpas(session, (cpas_code or "").strip().lower()[:40])
    if cpas is None:
        raise Invalid({"cpas": FieldError("unknown_choice")})
    inbound.cpas_id = cpas.id
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="sms_inbound",
        entity_id=inbound.id,
        details={"fields": ["cpas_id"], "cpas": cpas.code, "routed": True},
    )
    session.commit()
    return "given"
