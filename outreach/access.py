"""Who may see and change a street person's file: the one place that decides.

- Street educators and the coordinator of the person's team: read and change. The team
  built the contact, anonymously, over many encounters; youths avoid services "par
  crainte d'être jugés" (001_21a2639a7274e3d4.txt:300), so the file
  stays with the team by default.
- Anybody else working with files (a social worker, a coordinator of another team):
  read only, and only when a referral to their own team (service) exists AND the person
  consented to sharing with the services referred to (an active consent with the scope
  `referral_sharing`) — "qu'avec l'accord" of the person
  (000_c978cae824ba8598.txt:865-867). They may move a referral to
  their service forward (accept it, close it); nothing else.
- Administrators: no access to files. They manage accounts, the partner directory, the
  retention rules and see indicators and purge reports, none of which holds personal
  data; reading a file is not needed for that (least privilege).
- Home aides and reception: no access.

Every read of a file goes through `read_person` and is written to the audit log.
"""

from __future__ import annotations

import uuid

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core import audit, organisations
from core.accounts import User
from core.errors import FieldError, Invalid
from core.roles import Role
from outreach.models import Person, PersonConsent, Referral

TEAM_ROLES = (Role.STREET_EDUCATOR, Role.COORDINATOR)
SHARING_ROLES = (Role.SOCIAL_WORKER, Role.COORDINATOR)
SHARING_SCOPE = "referral_sharing"


def works_with(user: User, team_id: int) -> bool:
    """A street educator or the coordinator of the team."""
    return user.active and user.team_id == team_id and user.role in TEAM_ROLES


def manages(session: Session, user: User, team_id: int) -> bool:
    """May change the team's settings (protective path, retention): its coordinator, an
    administrator of its CPAS (`organisations.scope_of`; with one CPAS, every admin).
    The platform administrator of several CPAS manages no team's settings."""
    if not user.active:
        return False
    if user.role == Role.COORDINATOR:
        return user.team_id == team_id
    if user.role != Role.ADMIN:
        return False
    scope = organisations.scope_of(session, user)
    return not scope.platform and scope.sees_team(team_id)


def sharing_allowed(session: Session, person_id: uuid.UUID) -> bool:
    """An active consent of the person covers sharing with the services referred to."""
    consents = session.scalars(
        select(PersonConsent).where(
            PersonConsent.person_id == person_id, PersonConsent.withdrawn_at.is_(None)
        )
    )
    return any(SHARING_SCOPE in consent.scopes for consent in consents)


def receives_referral(session: Session, user: User, person_id: uuid.UUID) -> bool:
    """The user's team is the destination of a referral of the person."""
    if user.team_id is None or user.role not in SHARING_ROLES:
        return False
    return bool(
        session.scalar(
            select(
                exists().where(Referral.person_id == person_id, Referral.to_team_id == user.team_id)
            )
        )
    )


def can_read_person(session: Session, user: User, person: Person) -> bool:
    """The rule of this module's docstring (no audit: `read_person` writes it)."""
    if not user.active:
        return False
    if works_with(user, person.team_id):
        return True
    return receives_referral(session, user, person.id) and sharing_allowed(session, person.id)


def can_change_person(user: User, person: Person) -> bool:
    return works_with(user, person.team_id)


def read_person(session: Session, user: User, person_id: uuid.UUID) -> Person | None:
    """The person when `user` may read their file (the read is audited), else None."""
    person = session.get(Person, person_id)
    if person is None or not can_read_person(session, user, person):
        return None
    audit.record_read(session, user, "outreach_person", person.id)
    return person


def person_to_change(session: Session, user: User, person_id: uuid.UUID | None) -> Person:
    """The person `user` is about to change; Invalid when unknown or not theirs."""
    person = session.get(Person, person_id) if person_id else None
    if person is None or not can_change_person(user, person):
        # The same answer for "does not exist" and "not yours": nothing is revealed.
        raise Invalid({"person_id": FieldError("unknown_person")})
    return person
