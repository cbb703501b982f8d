"""The street educator's pages' reads: the team's recent encounters, an encounter to
change, the team's places, a place, a maraude's summary. Each is the one function its
page calls: its read is audited and committed here. (The ops these pages send go through
the sync engine, core/sync.apply_op, which commits them.)"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core import audit
from core.accounts import User, users_by_id
from outreach import maraudes, minors, services
from outreach.models import Encounter, Maraude, Place


def recent_encounters(session: Session, user: User, team_id: int) -> list[Encounter]:
    """The team's latest encounters (the read of the team's records audited)."""
    encounters = services.recent_encounters(session, team_id)
    audit.record_read(session, user, "outreach_team", team_id)
    session.commit()  # the audited read
    return encounters


def encounter_to_change(
    session: Session, user: User, team_id: int, encounter_id: uuid.UUID | None
) -> Encounter | None:
    """An encounter of the team, its read audited (None: unknown or another team's)."""
    encounter = services.get_encounter(session, team_id, encounter_id) if encounter_id else None
    if encounter is not None:
        audit.record_read(session, user, "outreach_encounter", encounter.id)
        session.commit()  # the audited read
    return encounter


def places(session: Session, user: User, team_id: int) -> list[Place]:
    """The team's places (the read of the team's records audited)."""
    found = services.team_places(session, team_id)
    audit.record_read(session, user, "outreach_team", team_id)
    session.commit()  # the audited read
    return found


def place(session: Session, user: User, team_id: int, place_id: uuid.UUID | None) -> Place | None:
    """A place of the team, its read audited (None: unknown or another team's)."""
    found = services.get_place(session, team_id, place_id) if place_id else None
    if found is not None:
        audit.record_read(session, user, "outreach_place", found.id)
        session.commit()  # the audited read
    return found


@dataclass
class MaraudeSummary:
    """A maraude, its figures and its members (None for an account that is gone)."""

    maraude: Maraude
    summary: maraudes.Summary
    members: list[User | None]


def maraude_summary(
    session: Session, user: User, team_id: Callable[[], int], maraude_id: uuid.UUID
) -> MaraudeSummary | None:
    """A maraude of the team, its read audited (None: unknown or another team's).
    `team_id` is asked only once the maraude is found (the page refuses a user without a
    team only then)."""
    found = session.get(Maraude, maraude_id)
    if found is None or found.team_id != team_id():
        return None
    audit.record_read(session, user, "outreach_maraude", found.id)
    users = users_by_id(session, list(found.member_ids))
    shown = MaraudeSummary(
        maraude=found,
        summary=maraudes.summary(session, found),
        members=[users.get(member) for member in found.member_ids],
    )
    session.commit()  # the audited read
    return shown


@dataclass
class PhoneState:
    """What every street page shows besides its own content: the user's maraude under way
    (and its contacts so far), and the team's protective path for minors."""

    running: Maraude | None
    contacts: int
    has_path: bool
    told: list[tuple[User, bool]]  # the colleagues the path names; True: by SMS too
    protective_contact: str  # the service the alert asks the team to contact


def phone_state(session: Session, user: User, team_id: int) -> PhoneState:
    running = maraudes.current(session, user)
    contacts = maraudes.summary(session, running).contacts if running is not None else 0
    settings = minors.team_settings(session, team_id)
    has_path = minors.has_path(session, settings)
    told = (
        [
            (person, minors.wants_sms(session, person.id))
            for person in minors.protective_people(session, team_id)
        ]
        if has_path
        else []
    )
    return PhoneState(running, contacts, has_path, told, settings.protective_contact)
