"""Notifications within the viewer's CPAS (`core.organisations.scope_of`).

A contact belongs to the CPAS of its teams (a member of staff's own contact: of their
team); a message, an SMS received from it, to the contact's; a broadcast to its
author's CPAS, and it reaches only that CPAS's contacts. Once there are several CPAS,
a contact of no team (made before CPAS existed, by a script, or by an SMS code) and an
SMS received that no CPAS owns are no CPAS's: no staff sees them, the platform
administrator sees only that they exist and gives each its CPAS
(notifications.orphans). A role that works locally (reception, social worker) sees its antennes'
contacts only (`Scope.local`). Another CPAS's record answers as an unknown one; the
attempt is audited.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from core import organisations
from core.accounts import User
from notifications.models import Broadcast, Contact, ContactTeam, InboundSms, Message


def contacts_filter(session: Session, viewer: User | None) -> ColumnElement[bool]:
    """A WHERE clause on `Contact` keeping the viewer's CPAS's contacts; a local role:
    its antennes' contacts. A contact of no team: with one CPAS, that CPAS's (every
    local role's too, as before); with several, nobody's (fail closed)."""
    whole = organisations.scope_of(session, viewer)
    scope = whole.local()
    if scope.everything:
        return true()
    teams = sorted(scope.teams or ())
    # Its teams, or (a member of staff's own contact) the team its user works in.
    ours = (
        or_(
            exists().where(ContactTeam.contact_id == Contact.id, ContactTeam.team_id.in_(teams)),
            Contact.user_id.in_(select(User.id).where(User.team_id.in_(teams))),
        )
        if teams
        else false()
    )
    if whole.everything:  # one CPAS: a local role's antennes, or a contact of no team
        return or_(
            ours,
            and_(~exists().where(ContactTeam.contact_id == Contact.id), Contact.user_id.is_(None)),
        )
    return ours


def visible_contact_ids(session: Session, viewer: User | None) -> Select:
    return select(Contact.id).where(contacts_filter(session, viewer))


def visible_contacts(session: Session, viewer: User | None) -> Select | None:
    """The ids of the contacts whose messages the viewer sees; None: every contact."""
    if organisations.scope_of(session, viewer).local().everything:
        return None
    return visible_contact_ids(session, viewer)


def messages_filter(session: Session, viewer: User | None) -> ColumnElement[bool]:
    """A WHERE clause on `Message`: messages to the viewer's CPAS's contacts."""
    if organisations.scope_of(session, viewer).local().everything:
        return true()
    return Message.contact_id.in_(visible_contact_ids(session, viewer))


def inbound_filter(session: Session, viewer: User | None) -> ColumnElement[bool]:
    """A WHERE clause on `InboundSms`: from the CPAS's contacts, or of no contact but
    given to the CPAS (`InboundSms.cpas_id`: sent to its own number, to the shared
    number it alone uses, or routed to it by the platform administrator). An SMS with a
    CPAS is that CPAS's only, whoever sent it; one of no contact and no CPAS is nobody's
    text (notifications.orphans)."""
    whole = organisations.scope_of(session, viewer)
    scope = whole.local()
    if scope.everything:
        return true()
    ours = InboundSms.cpas_id == scope.cpas_id if scope.cpas_id is not None else false()
    if whole.everything:  # one CPAS: an SMS of no contact is its, whatever its number
        ours = or_(ours, InboundSms.cpas_id.is_(None))
    of_contacts = and_(
        InboundSms.contact_id.in_(visible_contact_ids(session, viewer)),
        or_(InboundSms.cpas_id.is_(None), ours),
    )
    return or_(of_contacts, and_(InboundSms.contact_id.is_(None), ours))


def broadcasts_filter(session: Session, viewer: User | None) -> ColumnElement[bool]:
    """A WHERE clause on `Broadcast`: those written by staff of the viewer's CPAS."""
    scope = organisations.scope_of(session, viewer)
    if scope.everything:
        return true()
    if not scope.teams:
        return false()
    authors = select(User.id).where(User.team_id.in_(sorted(scope.teams)))
    return Broadcast.created_by_id.in_(authors)


def audience_of_author(session: Session, author: User | None, ids: Select) -> Select:
    """An audience's contact ids kept to the author's CPAS: a broadcast never crosses a
    CPAS ("everyone" is everyone of the author's CPAS)."""
    if author is None or organisations.scope_of(session, author).everything:
        return ids  # no author (a check made by the system): the audience as it is
    return select(Contact.id).where(and_(Contact.id.in_(ids), contacts_filter(session, author)))


def _refused(session: Session, viewer: User | None, entity_type: str, entity_id: object) -> None:
    organisations.refuse(session, viewer, entity_type, entity_id)
    session.commit()  # the refusal stays audited although the answer is a 404


def sees(session: Session, viewer: User | None, model, clause, record_id: int, entity: str) -> bool:
    """Whether the record `record_id` of `model` exists within the viewer's scope; a
    record that exists outside it is refused (audited). Unknown: True (the caller then
    finds nothing and answers 404 as usual)."""
    if organisations.scope_of(session, viewer).local().everything:
        return True
    found = session.scalar(select(model.id).where(model.id == record_id))
    if found is None:
        return True
    if session.scalar(select(model.id).where(model.id == record_id, clause)) is not None:
        return True
    _refused(session, viewer, entity, record_id)
    return False


def sees_contact(session: Session, viewer: User | None, contact_id: int) -> bool:
    return sees(
        session, viewer, Contact, contacts_filter(session, viewer), contact_id, "sms_contact"
    )


def sees_message(session: Session, viewer: User | None, message_id: int) -> bool:
    return sees(
        session, viewer, Message, messages_filter(session, viewer), message_id, "sms_message"
    )


def sees_inbound(session: Session, viewer: User | None, inbound_id: int) -> bool:
    return sees(
        session, viewer, InboundSms, inbound_filter(session, viewer), inbound_id, "sms_inbound"
    )


def sees_broadcast(session: Session, viewer: User | None, broadcast_id: int) -> bool:
    return sees(
        session,
        viewer,
        Broadcast,
        broadcasts_filter(session, viewer),
        broadcast_id,
        "sms_broadcast",
    )
