"""Retention: anonymous records without contact for N months are deleted, named ones
after the CPAS's longer period; each run stores a report of counts only.

Defaults: 24 months for anonymous people (issue 8; a team may set its own), 60 months
after the last contact for named people (administrator setting, the CPAS rule). A
person's last contact is `last_seen_at` (their latest encounter). A person goes with
everything that is theirs: encounters, referrals, consents, identity, minors' alerts,
merge records and the records merged into them. Places are not personal and stay.

Phones drop deleted records at their next full download (the feed token changes every
day, docs/sync.md), so nothing is sent for a deletion. The report and its audit entry
hold counts and cut-off dates, never ids or names.

Nothing here commits: the page's use case does (outreach/settings.py; the purge job
commits its run).
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import audit, clock, organisations
from core.accounts import User
from core.errors import FieldError, Invalid
from core.roles import Role
from outreach import access, minors
from outreach.models import (
    Encounter,
    MinorAlert,
    OutreachPurgeReport,
    OutreachRetentionSettings,
    OutreachTeamSettings,
    Person,
    PersonConsent,
    PersonIdentity,
    PersonMerge,
    Referral,
)

DEFAULT_ANONYMOUS_MONTHS = 24
DEFAULT_NAMED_MONTHS = 60
MONTHS_RANGE = (1, 240)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day when
    that day does not exist)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def rules(session: Session) -> OutreachRetentionSettings:
    """The administrator's rules (the defaults when never set)."""
    return session.get(OutreachRetentionSettings, 1) or OutreachRetentionSettings(
        id=1, anonymous_months=DEFAULT_ANONYMOUS_MONTHS, named_months=DEFAULT_NAMED_MONTHS
    )


def _months(data: Mapping[str, Any], name: str, errors: dict[str, FieldError]) -> int | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        number = int(str(value)) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None:
        errors[name] = FieldError("not_a_number")
    elif not MONTHS_RANGE[0] <= number <= MONTHS_RANGE[1]:
        errors[name] = FieldError("out_of_range", {"min": MONTHS_RANGE[0], "max": MONTHS_RANGE[1]})
        return None
    return number


def may_set_rules(session: Session, actor: User) -> bool:
    """The rules hold for the whole installation: an administrator who manages every CPAS
    sets them (with one CPAS, its administrators; with several, the platform's), not
    one CPAS's administrator for the others."""
    return (
        actor.role == Role.ADMIN
        and actor.active
        and organisations.manages_every_cpas(session, actor)
    )


def set_rules(session: Session, actor: User, data: Mapping[str, Any]) -> OutreachRetentionSettings:
    """Administrators who manage every CPAS set `anonymous_months` and `named_months`."""
    if not may_set_rules(session, actor):
        raise Invalid({"retention": FieldError("not_allowed")})
    errors: dict[str, FieldError] = {}
    anonymous = _months(data, "anonymous_months", errors)
    named = _months(data, "named_months", errors)
    if errors:
        raise Invalid(errors)
    settings = rules(session)
    settings.anonymous_months = anonymous or settings.anonymous_months
    settings.named_months = named or settings.named_months
    session.add(settings)
    audit.record_change(
        session, actor, "outreach_settings", "retention", ["anonymous_months", "named_months"]
    )
    session.flush()
    return settings


def set_team_months(
    session: Session, actor: User, team_id: int, data: Mapping[str, Any]
) -> OutreachTeamSettings:
    """A team's own period for anonymous people (`anonymous_months`, empty: the global one)."""
    if not access.manages(session, actor, team_id):
        raise Invalid({"team": FieldError("not_allowed")})
    errors: dict[str, FieldError] = {}
    months = _months(data, "anonymous_months", errors)
    if errors:
        raise Invalid(errors)
    settings = minors.team_settings(session, team_id)
    settings.anonymous_retention_months = months
    session.add(settings)
    audit.record_change(
        session, actor, "outreach_settings", team_id, ["anonymous_retention_months"]
    )
    session.flush()
    return settings


def _expired(
    session: Session,
    now: datetime,
    anonymous_months: int,
    named_months: int,
    among: set[uuid.UUID] | None = None,
) -> dict:
    """Ids of the people to delete, per kind, and the team of each (only `among`)."""
    named_ids = set(session.scalars(select(PersonIdentity.person_id)))
    team_months = {
        row.team_id: row.anonymous_retention_months
        for row in session.scalars(select(OutreachTeamSettings))
        if row.anonymous_retention_months
    }
    named_cutoff = months_before(now, named_months)
    found: dict[str, list[tuple[uuid.UUID, int]]] = {"anonymous": [], "named": []}
    query = select(Person.id, Person.team_id, Person.last_seen_at).where(
        Person.merged_into_id.is_(None), Person.last_seen_at < now
    )
    if among is not None:
        query = query.where(Person.id.in_(among))
    rows = session.execute(query)
    for person_id, team_id, last_seen in rows:
        if person_id in named_ids:
            if last_seen < named_cutoff:
                found["named"].append((person_id, team_id))
        elif last_seen < months_before(now, team_months.get(team_id, anonymous_months)):
            found["anonymous"].append((person_id, team_id))
    return found


def _with_merged(session: Session, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """`ids` and every record merged into them (and into those)."""
    everything, frontier = set(ids), set(ids)
    while frontier:
        frontier = (
            set(session.scalars(select(Person.id).where(Person.merged_into_id.in_(frontier))))
            - everything
        )
        everything |= frontier
    return everything


def _delete(session: Session, model: Any, condition: Any) -> int:
    result = session.execute(
        delete(model).where(condition).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def purge_expired(
    session: Session,
    now: datetime | None = None,
    months: int | None = None,
    actor: User | None = None,
) -> OutreachPurgeReport:
    """Delete the expired people with all that is theirs; store and return the report.
    `months` overrides the global period for anonymous people (teams' own still apply)."""
    now = now or clock.now()
    settings = rules(session)
    anonymous_months = months or settings.anonymous_months
    found = _expired(session, now, anonymous_months, settings.named_months)
    people = {person_id for pairs in found.values() for person_id, _team in pairs}
    if people:
        # Lock them, then look again: an encounter synced meanwhile (it locks its person
        # too) has moved "last seen" and keeps its person.
        session.execute(
            select(Person.id).where(Person.id.in_(people)).order_by(Person.id).with_for_update()
        )
        found = _expired(session, now, anonymous_months, settings.named_months, among=people)
        people = {person_id for pairs in found.values() for person_id, _team in pairs}
    every = _with_merged(session, people)
    counts: dict[str, Any] = {
        "people_anonymous": len(found["anonymous"]),
        "people_named": len(found["named"]),
        "merged_records": len(every - people),
    }
    if every:
        # An alert goes with its person and with its encounter (an encounter corrected to
        # another person after its alert was acknowledged).
        doomed = select(Encounter.id).where(Encounter.person_id.in_(every))
        counts["alerts"] = _delete(
            session,
            MinorAlert,
            MinorAlert.person_id.in_(every) | MinorAlert.encounter_id.in_(doomed),
        )
        counts["referrals"] = _delete(session, Referral, Referral.person_id.in_(every))
        counts["encounters"] = _delete(session, Encounter, Encounter.person_id.in_(every))
        _delete(session, PersonIdentity, PersonIdentity.person_id.in_(every))
        counts["consents"] = _delete(session, PersonConsent, PersonConsent.person_id.in_(every))
        counts["merges"] = _delete(
            session,
            PersonMerge,
            PersonMerge.survivor_id.in_(every) | PersonMerge.merged_id.in_(every),
        )
        # Merged records point at their survivor: unlink before deleting.
        session.execute(
            Person.__table__.update().where(Person.id.in_(every)).values(merged_into_id=None)
        )
        _delete(session, Person, Person.id.in_(every))
        session.expire_all()
    teams: dict[str, int] = {}
    for pairs in found.values():
        for _person, team_id in pairs:
            teams[str(team_id)] = teams.get(str(team_id), 0) + 1
    counts["people_by_team"] = teams
    report = OutreachPurgeReport(
        ran_at=clock.now(),
        ran_by_id=actor.id if actor else None,
        anonymous_cutoff=months_before(now, anonymous_months),
        named_cutoff=months_before(now, settings.named_months),
        counts=counts,
    )
    session.add(report)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity_type="outreach_purge",
        entity_id=report.id,
        details={k: v for k, v in counts.items() if k != "people_by_team"},
    )
    return report


def reports(session: Session, limit: int = 50) -> list[OutreachPurgeReport]:
    return list(
        session.scalars(
            select(OutreachPurgeReport).order_by(OutreachPurgeReport.ran_at.desc()).limit(limit)
        )
    )
