"""Maraudes (street rounds): started and ended on the phone, offline like encounters.

Nothing here commits: the sync engine (core/sync.apply_op) applies the start and the end
inside its own transaction.

A maraude's ops carry its whole state for their part (the start: area, who is out, the
start time; the end: end time, km, incidents), so a start sent twice, or corrected,
converges as encounters do (docs/sync.md). The summary is computed from the encounters
that name the maraude, never stored: a late encounter synced after the end still counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import Session

from core import audit, sync
from core import fields as parse
from core.accounts import User
from core.errors import FieldError, Invalid
from core.ids import parse_id
from outreach import services
from outreach.models import AREA_MAX, INCIDENTS_MAX, KM_MAX, Encounter, Maraude, Person

MAX_MEMBERS = 12


@dataclass(frozen=True)
class MaraudeStart:
    id: uuid.UUID
    area: str
    member_ids: tuple[int, ...]
    started_at: datetime


@dataclass(frozen=True)
class MaraudeEnd:
    id: uuid.UUID
    ended_at: datetime
    km: float | None
    incidents: str


@dataclass(frozen=True)
class Summary:
    contacts: int
    people: int
    new_people: int
    hours: float | None  # None while the maraude is under way


def _members(data: Mapping[str, Any], errors: dict[str, FieldError]) -> tuple[int, ...]:
    value = data.get("member_ids")
    if value in (None, ""):
        return ()
    values = value if isinstance(value, list) else [value]
    # Ids as an int column holds them: a 20-digit number is nobody, not an overflow.
    ids = [
        found
        for item in values
        if isinstance(item, (int, str)) and not isinstance(item, bool)
        if (found := parse_id(item)) is not None
    ]
    if len(ids) != len(values):
        errors["member_ids"] = FieldError("unknown_user")
        return ()
    if len(set(ids)) > MAX_MEMBERS:
        errors["member_ids"] = FieldError("too_many", {"max": MAX_MEMBERS})
        return ()
    return tuple(sorted(set(ids)))


def read_start(data: Mapping[str, Any], written_at: datetime | None = None) -> MaraudeStart:
    errors: dict[str, FieldError] = {}
    maraude_id = parse.uuid(data, "id", errors, required=True)
    area = parse.text(data, "area", errors, limit=AREA_MAX)
    members = _members(data, errors)
    started_at = services._moment(data, "started_at", errors, written_at)
    if errors:
        raise Invalid(errors)
    assert maraude_id is not None
    return MaraudeStart(maraude_id, area, members, started_at)


def read_end(data: Mapping[str, Any], written_at: datetime | None = None) -> MaraudeEnd:
    errors: dict[str, FieldError] = {}
    maraude_id = parse.uuid(data, "id", errors, required=True)
    ended_at = services._moment(data, "ended_at", errors, written_at)
    km = _km(data, errors)
    incidents = parse.text(data, "incidents", errors, limit=INCIDENTS_MAX, multiline=True)
    if errors:
        raise Invalid(errors)
    assert maraude_id is not None
    return MaraudeEnd(maraude_id, ended_at, km, incidents)


def _km(data: Mapping[str, Any], errors: dict[str, FieldError]) -> float | None:
    return parse.number(data, "km", errors, within=(0, int(KM_MAX)), digits=1)


def _check_members(session: Session, team_id: int, member_ids: tuple[int, ...]) -> None:
    if not member_ids:
        return
    found = set(
        session.scalars(
            select(User.id).where(
                User.id.in_(member_ids), User.team_id == team_id, User.active.is_(True)
            )
        )
    )
    if found != set(member_ids):
        raise Invalid({"member_ids": FieldError("unknown_user")})


def _audit(
    session: Session, actor: User, action: str, maraude: Maraude, fields: list[str], at: Any
) -> None:
    audit.record_change(
        session, actor, "outreach_maraude", maraude.id, fields, action=action, client_at=at
    )


def start(
    session: Session,
    actor: User,
    entry: MaraudeStart,
    *,
    base_version: int | None = None,
    client_at: datetime | None = None,
) -> tuple[Maraude, bool]:
    """Start the maraude (or bring its start to `entry`); returns it and whether the op
    was superseded by a later change of the same user."""
    team_id = services._team_of(actor)
    members = tuple(sorted({*entry.member_ids, actor.id}))  # who starts it is out
    _check_members(session, team_id, members)
    maraude = session.get(Maraude, entry.id, with_for_update=True)
    if base_version is not None and (maraude is None or maraude.team_id != team_id):
        # A correction of a maraude the phone downloaded: another team's id is answered
        # exactly as an unknown one.
        raise Invalid({"id": FieldError("unknown_maraude")})
    if maraude is not None:
        if maraude.team_id != team_id:
            raise Invalid({"id": FieldError("id_already_used")})
        sync.check_base_version(maraude, actor, base_version, lambda: serialize(maraude))
        if sync.is_stale(maraude, actor, client_at):
            return maraude, True
        if maraude.ended_at is not None and entry.started_at > maraude.ended_at:
            raise Invalid({"started_at": FieldError("after_end")})
        maraude.area, maraude.member_ids = entry.area, list(members)
        maraude.started_at = entry.started_at
        action = "update"
    else:
        maraude = Maraude(
            id=entry.id,
            team_id=team_id,
            area=entry.area,
            member_ids=list(members),
            started_at=entry.started_at,
            incidents="",
            started_by_id=actor.id,
        )
        session.add(maraude)
        action = "create"
    sync.stamp(session, maraude, sync.team_scope(team_id), actor, client_at)
    _audit(session, actor, action, maraude, ["area", "member_ids", "started_at"], client_at)
    session.flush()
    return maraude, False


def end(
    session: Session,
    actor: User,
    entry: MaraudeEnd,
    *,
    base_version: int | None = None,
    client_at: datetime | None = None,
) -> tuple[Maraude, bool]:
    """End the maraude (again: the latest end wins, as for any full-state change)."""
    team_id = services._team_of(actor)
    maraude = session.get(Maraude, entry.id, with_for_update=True)
    if maraude is None or maraude.team_id != team_id:
        raise Invalid({"id": FieldError("unknown_maraude")})
    sync.check_base_version(maraude, actor, base_version, lambda: serialize(maraude))
    if sync.is_stale(maraude, actor, client_at):
        return maraude, True
    if entry.ended_at < maraude.started_at:
        raise Invalid({"ended_at": FieldError("before_start")})
    maraude.ended_at, maraude.km, maraude.incidents = entry.ended_at, entry.km, entry.incidents
    sync.stamp(session, maraude, sync.team_scope(team_id), actor, client_at)
    fields = ["ended_at", *(["km"] if entry.km is not None else [])]
    _audit(
        session,
        actor,
        "update",
        maraude,
        fields + (["incidents"] * bool(entry.incidents)),
        client_at,
    )
    session.flush()
    return maraude, False


def summary(session: Session, maraude: Maraude) -> Summary:
    """Contacts, distinct people, people met for the first time, hours out."""
    contacts, people = session.execute(
        select(func.count(Encounter.id), func.count(distinct(Encounter.person_id))).where(
            Encounter.maraude_id == maraude.id
        )
    ).one()
    first_seen_in = Person.first_seen_at >= maraude.started_at
    if maraude.ended_at is not None:
        first_seen_in = and_(first_seen_in, Person.first_seen_at <= maraude.ended_at)
    new_people = session.scalar(
        select(func.count(distinct(Person.id)))
        .join(Encounter, Encounter.person_id == Person.id)
        .where(Encounter.maraude_id == maraude.id, first_seen_in)
    )
    hours = None
    if maraude.ended_at is not None:
        hours = round((maraude.ended_at - maraude.started_at).total_seconds() / 3600, 2)
    return Summary(int(contacts), int(people), int(new_people or 0), hours)


def serialize(maraude: Maraude, with_summary: Summary | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": str(maraude.id),
        "version": maraude.version,
        "area": maraude.area,
        "member_ids": list(maraude.member_ids),
        "started_at": services._iso(maraude.started_at),
        "ended_at": services._iso(maraude.ended_at),
        "km": maraude.km,
        "incidents": maraude.incidents,
        "changed_at": services._iso(maraude.changed_at),
    }
    if with_summary is not None:
        record["summary"] = vars(with_summary).copy()
    return record


def team_maraudes(session: Session, team_id: int, limit: int = 50) -> list[Maraude]:
    return list(
        session.scalars(
            select(Maraude)
            .where(Maraude.team_id == team_id)
            .order_by(Maraude.started_at.desc())
            .limit(limit)
        )
    )


def current(session: Session, actor: User) -> Maraude | None:
    """The actor's maraude under way, if any (the phone offers to end it)."""
    rows = session.scalars(
        select(Maraude)
        .where(Maraude.team_id == actor.team_id, Maraude.ended_at.is_(None))
        .order_by(Maraude.started_at.desc())
    )
    return next((row for row in rows if actor.id in row.member_ids), None)


# --- For the phone's pages (issue 8, helper F) ------------------------------------------


def team_members(session: Session, team_id: int) -> list[User]:
    """Active users of the team who go out on maraudes (street educators)."""
    from core.roles import Role  # local: the maraude rules above need no roles

    return list(
        session.scalars(
            select(User)
            .where(
                User.team_id == team_id,
                User.active.is_(True),
                User.role == Role.STREET_EDUCATOR,
            )
            .order_by(User.display_name)
        )
    )


def usual_members(session: Session, actor: User, last: int = 10) -> list[int]:
    """The colleagues who went out with `actor` in at least half of their last maraudes
    (the start form ticks them), plus the actor."""
    if actor.team_id is None:
        return [actor.id]
    rows = [
        row
        for row in team_maraudes(session, actor.team_id, limit=100)
        if actor.id in row.member_ids
    ]
    rows = rows[:last]
    counts: dict[int, int] = {}
    for row in rows:
        for member in row.member_ids:
            if member != actor.id:
                counts[member] = counts.get(member, 0) + 1
    usual = [member for member, count in counts.items() if count * 2 >= len(rows)]
    return [actor.id, *sorted(usual)]
