"""The follow-up pages' use cases: the people of a team, a person's file, choosing the
record to merge with, minors' alerts, and what their forms change. Each is the one
function its view calls and ends the transaction: it commits what it read (the audit of
the reads) or changed, or rolls back and raises. The record services it calls
(referrals, identity, minors, merging) never commit: the sync engine applies outreach's
ops inside its own transaction.

Who may read a file is decided by outreach.access alone: somebody who may not read a
person gets None, the same answer as for a person that does not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments import services as appointments
from core import audit
from core.accounts import Team, User, teams_by_id, users_by_id
from core.db import committed
from core.ids import parse_uuid
from core.roles import Permission, can
from outreach import access, identity, merging, minors, referrals, services
from outreach.models import (
    Encounter,
    MinorAlert,
    Person,
    PersonConsent,
    PersonIdentity,
    PersonMerge,
    Referral,
    ServicePartner,
)

# --- The people of the team, and those referred to my service ---------------------------


@dataclass
class PeopleList:
    """The people page: the team's people (None: the user works with no street team), the
    people referred to the user's service, who has an identity, the open minors' alerts."""

    team_people: list[Person] | None
    referred: list[Person]
    named: set[Any]
    query: str
    alerts: list[MinorAlert]


def people_list(session: Session, user: User, query: str) -> PeopleList:
    """The people `user` may see, matching `query` (the reads are audited)."""
    team_people: list[Person] | None = None
    if user.team_id is not None and user.role in access.TEAM_ROLES:
        team_people = services.search_team_people(session, user.team_id, query)
        audit.record_read(session, user, "outreach_team", user.team_id)
    referred = referrals.people_referred_to(session, user)
    for person in referred:
        audit.record_read(session, user, "outreach_person", person.id)
    listed = (team_people or []) + referred
    found = PeopleList(
        team_people=team_people,
        referred=referred,
        named=identity.named_ids(session, [person.id for person in listed]),
        query=query,
        alerts=minors.open_alerts(session, user),
    )
    session.commit()  # the audited reads
    return found


# --- A person's file ---------------------------------------------------------------------


def readable_person(session: Session, user: User, person_id: Any) -> Person | None:
    """The person when `user` may read the file (no audit: for the forms' checks)."""
    parsed = person_id if isinstance(person_id, uuid.UUID) else parse_uuid(str(person_id))
    person = session.get(Person, parsed) if parsed else None
    if person is None or not access.can_read_person(session, user, person):
        return None
    return person


def cpas_teams(session: Session, street_team_id: int | None = None) -> list[Team]:
    """The CPAS services a person may be referred to: every team but the street teams, of
    the CPAS of the person's street team (`street_team_id`; docs/outreach.md: another
    CPAS is reached as a partner of the directory, never as a team)."""
    query = select(Team).where(Team.kind != "street")
    if street_team_id is not None:
        cpas_id = select(Team.cpas_id).where(Team.id == street_team_id).scalar_subquery()
        query = query.where(Team.cpas_id == cpas_id)
    return list(session.scalars(query.order_by(Team.name)))


def offer_of(
    offers: dict[int, list[appointments.TeamOffer]], referral: Referral
) -> appointments.TeamOffer | None:
    """The place of the destination team that offers the referral's service (the first
    one by name), or None (a partner, no service, or no longer offered)."""
    if referral.to_team_id is None or not referral.service_code:
        return None
    return next(
        (o for o in offers.get(referral.to_team_id, []) if o.service.code == referral.service_code),
        None,
    )


@dataclass
class PersonFile:
    """Everything templates/outreach/files/person.html shows of a person's file."""

    person: Person
    survivor: Person | None  # the record this one was merged into
    identity: PersonIdentity | None
    encounters: list[Encounter]
    needs: list[tuple[str, int, datetime, datetime]]
    referrals: list[Referral]
    movable: dict[uuid.UUID, bool]
    transitions: Any
    first_engagement: datetime | None
    consents: list[PersonConsent]
    identity_consent: bool
    merges: list[PersonMerge]
    others: dict[uuid.UUID, Person]  # the other side of each merge
    may_change: bool
    users: dict[int, User]
    teams: dict[int, Team]
    partners: list[ServicePartner]
    cpas_teams: list[Team]
    service_names: dict[str, str]
    offers: dict[int, list[appointments.TeamOffer]]
    # A referral to a CPAS service with an appointments service: book it from the file
    # (staff who may book), or how to get one (street educators: see docs/outreach.md).
    referral_offer: dict[uuid.UUID, appointments.TeamOffer | None]
    booked: Any
    can_book: bool


def person_file(session: Session, user: User, person_id: Any, *, locale: str) -> PersonFile | None:
    """The file of a person `user` may read, the read audited and committed; None when
    they may not (or nobody has that id). `locale` names the appointments services."""
    person = readable_person(session, user, person_id)
    if person is None:
        return None
    audit.record_read(session, user, "outreach_person", person.id)
    encounters = services.person_encounters(session, person.id)
    person_referrals = referrals.person_referrals(session, person.id)
    consents = identity.consent_history(session, person.id)
    may_change = access.can_change_person(user, person)
    named = identity.identity_of(session, person.id)
    merges = merging.merges_of(session, person.id) if may_change else []
    others = {
        other.id: other
        for merge in merges
        for other_id in (merge.survivor_id, merge.merged_id)
        if (other := session.get(Person, other_id)) is not None
    }
    users = users_by_id(
        session,
        [encounter.recorded_by_id for encounter in encounters]
        + [r.proposed_by_id for r in person_referrals]
        + [r.accepted_by_id for r in person_referrals]
        + [r.closed_by_id for r in person_referrals]
        + [c.recorded_by_id for c in consents]
        + [c.withdrawn_by_id for c in consents]
        + [merge.merged_by_id for merge in merges]
        + [merge.undone_by_id for merge in merges],
    )
    teams = teams_by_id(session)
    survivor = session.get(Person, person.merged_into_id) if person.merged_into_id else None
    service_names = {
        offered.service.code: offered.service.name(locale)
        for offered in appointments.list_services(session, bookable_only=False)
    }
    offers = appointments.team_offers(session)
    found = PersonFile(
        person=person,
        survivor=survivor,
        identity=named,
        encounters=encounters,
        needs=services.needs_over_time(encounters),
        referrals=person_referrals,
        movable={r.id: referrals.can_move(session, user, r) for r in person_referrals},
        transitions=referrals.TRANSITIONS,
        first_engagement=referrals.first_engagement_at(session, person.id),
        consents=consents,
        identity_consent=any("identity" in c.scopes for c in consents if c.withdrawn_at is None),
        merges=merges,
        others=others,
        may_change=may_change,
        users=users,
        teams=teams,
        partners=referrals.partners(session),
        cpas_teams=cpas_teams(session, person.team_id),
        service_names=service_names,
        offers=offers,
        referral_offer={r.id: offer_of(offers, r) for r in person_referrals},
        booked=appointments.referral_appointments(session, [r.id for r in person_referrals]),
        can_book=can(user.role, Permission.APPOINTMENTS_BOOK),
    )
    session.commit()  # the audited read
    return found


def referral_to_move(
    session: Session, user: User, referral_id: Any
) -> tuple[Referral, Person] | None:
    """The referral and its person when `user` may read the file (no audit), else None."""
    parsed = parse_uuid(str(referral_id))
    referral = session.get(Referral, parsed) if parsed else None
    person = readable_person(session, user, referral.person_id) if referral is not None else None
    if referral is None or person is None:
        return None
    return referral, person


def consent_of(
    session: Session, user: User, consent_id: int
) -> tuple[PersonConsent, Person] | None:
    """The consent and its person when `user` may read the file (no audit), else None."""
    consent = session.get(PersonConsent, consent_id)
    person = readable_person(session, user, consent.person_id) if consent is not None else None
    if consent is None or person is None:
        return None
    return consent, person


def withdraw_consent(session: Session, user: User, consent: PersonConsent) -> bool:
    """Withdraw the consent (identity.withdraw_consent), committed; True when that erased
    the person's identity (no other consent covers it). Invalid: rolled back, raised."""

    def run() -> bool:
        had_identity = identity.is_named(session, consent.person_id)
        identity.withdraw_consent(session, user, consent.id)
        return had_identity and not identity.is_named(session, consent.person_id)

    return committed(session, run)


# --- The file's forms: each one record service, committed (Invalid: rolled back, raised) --


def propose_referral(
    session: Session, user: User, person_id: Any, data: dict[str, Any]
) -> Referral:
    """A referral proposed from the file (referrals.propose), committed."""
    return committed(session, lambda: referrals.propose(session, user, person_id, data))


def move_referral(
    session: Session, user: User, referral_id: Any, status: str, data: dict[str, Any]
) -> Referral:
    """A referral moved to `status` (referrals.move), committed."""
    return committed(session, lambda: referrals.move(session, user, referral_id, status, data))


def record_consent(
    session: Session, user: User, person_id: Any, data: dict[str, Any]
) -> PersonConsent:
    """A consent recorded (identity.record_consent), committed."""
    return committed(session, lambda: identity.record_consent(session, user, person_id, data))


def attach_identity(
    session: Session, user: User, person_id: Any, data: dict[str, Any]
) -> PersonIdentity:
    """An identity attached or changed (identity.attach_identity), committed."""
    return committed(session, lambda: identity.attach_identity(session, user, person_id, data))


def set_minor(session: Session, user: User, person_id: Any, minor: bool) -> Person:
    """The minor flag set or removed (minors.set_minor), committed."""
    return committed(session, lambda: minors.set_minor(session, user, person_id, minor))


def booking_referral(
    session: Session, user: User, referral_id: Any
) -> referrals.BookingReferral | None:
    """The open referral an appointment is booked for (referrals.for_booking), the read
    of the person's file audited and committed: it stays whatever the booking does."""
    linked = referrals.for_booking(session, user, referral_id)
    if linked is not None:
        session.commit()  # the audited read
    return linked


# --- Merging two anonymous records ---------------------------------------------------


def merge_candidate(session: Session, person: Person, raw: str) -> Person | None:
    """The record of the same team `raw` names (None: none, or another team's person,
    whose existence is not told)."""
    other_id = parse_uuid(raw)
    other = session.get(Person, other_id) if other_id else None
    if other is not None and other.team_id != person.team_id:
        return None
    return other


@dataclass
class MergeChoice:
    """The merge page: the team's records to choose from and, once one is chosen, both
    files side by side."""

    person: Person
    other: Person | None
    sides: list[dict[str, Any]]
    candidates: list[Person]
    named: set[Any]
    query: str


def merge_choice(
    session: Session, user: User, person: Person, other: Person | None, query: str
) -> MergeChoice:
    """The records `person` may be merged with, and the two files when `other` is chosen
    (both reads audited and committed)."""
    candidates = [
        candidate
        for candidate in services.search_team_people(session, person.team_id, query)
        if candidate.id != person.id
    ]
    named = identity.named_ids(session, [person.id] + [c.id for c in candidates])
    audit.record_read(session, user, "outreach_person", person.id)
    sides = []
    if other is not None:
        audit.record_read(session, user, "outreach_person", other.id)
        for side in (person, other):
            encounters = services.person_encounters(session, side.id)
            sides.append(
                {
                    "person": side,
                    "encounters": encounters,
                    "needs": services.needs_over_time(encounters),
                    "referrals": referrals.person_referrals(session, side.id),
                    "consents": identity.consent_history(session, side.id),
                }
            )
    choice = MergeChoice(
        person=person,
        other=other,
        sides=sides,
        candidates=candidates,
        named=named | identity.named_ids(session, [other.id] if other else []),
        query=query,
    )
    session.commit()  # the audited reads
    return choice


def merge(session: Session, user: User, survivor_id: Any, merged_id: Any) -> PersonMerge:
    """Two records made one (merging.merge), committed."""
    return committed(session, lambda: merging.merge(session, user, survivor_id, merged_id))


def undo_merge(session: Session, user: User, merge_id: int) -> PersonMerge:
    """A merge undone (merging.undo), committed."""
    return committed(session, lambda: merging.undo(session, user, merge_id))


def merge_to_undo(session: Session, user: User, merge_id: int) -> tuple[PersonMerge, Person] | None:
    """The merge and its survivor when `user` works with the merge's team, else None."""
    record = session.get(PersonMerge, merge_id)
    survivor = session.get(Person, record.survivor_id) if record is not None else None
    if record is None or survivor is None or not access.works_with(user, record.team_id):
        return None
    return record, survivor


# --- Minors: the open alerts ----------------------------------------------------------


@dataclass
class MinorAlerts:
    """The alerts page: the open alerts, their people (those `user` may read), their
    encounters, the colleagues told."""

    alerts: list[MinorAlert]
    people: dict[uuid.UUID, Person]
    encounters: dict[uuid.UUID, Encounter]
    users: dict[int, User]
    can_set_path: bool


def minor_alerts(session: Session, user: User) -> MinorAlerts:
    """The minors' alerts waiting for `user`."""
    alerts = minors.open_alerts(session, user)
    people = {
        alert.person_id: person
        for alert in alerts
        if (person := session.get(Person, alert.person_id)) is not None
        and access.can_read_person(session, user, person)
    }
    encounters = {
        alert.encounter_id: encounter
        for alert in alerts
        if (encounter := session.get(Encounter, alert.encounter_id)) is not None
    }
    return MinorAlerts(
        alerts=alerts,
        people=people,
        encounters=encounters,
        users=users_by_id(session, [uid for alert in alerts for uid in alert.alert_user_ids]),
        can_set_path=can(user.role, Permission.OUTREACH_SETTINGS),
    )


def acknowledge_alert(session: Session, user: User, alert_id: int) -> MinorAlert:
    """An alert marked as dealt with (minors.acknowledge), committed."""
    return committed(session, lambda: minors.acknowledge(session, user, alert_id))
