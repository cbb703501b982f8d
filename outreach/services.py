"""Street outreach services: the one code path for the web forms and the offline ops.

Nothing here commits: the sync engine (core/sync.apply_op) applies these inside its own
transaction, and a page's use case (outreach/files.py, settings.py, street.py) commits
its own.

Encounter data is the full state of the encounter (the phone holds the whole record),
so ops for the same encounter converge whatever order they arrive in: a change made
later on the phone wins over one made earlier by the same user, and a change by
somebody else since the phone's version is a conflict.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from core import audit, clock, sync
from core import fields as parse
from core.accounts import User
from core.errors import FieldError, Invalid
from outreach import ethos, minors
from outreach.models import (
    AGE_BANDS,
    CONTACT_TYPES,
    DESCRIPTION_MAX,
    GENDERS,
    GIVEN,
    LANGUAGES,
    NEEDS,
    NICKNAME_MAX,
    NOTE_MAX,
    PLACE_NAME_MAX,
    PLACE_NOTES_MAX,
    Encounter,
    Maraude,
    MinorAlert,
    Person,
    Place,
)
from outreach.records import resolve_merged

FUTURE_TOLERANCE = timedelta(minutes=10)
OLDEST_ENCOUNTER = timedelta(days=366)
# What a street educator's phone keeps for offline use.
RECENT_ENCOUNTERS = timedelta(days=30)


@dataclass(frozen=True)
class NewPerson:
    nickname: str
    age_band: str
    gender: str
    language: str
    description: str
    minor: bool = False  # flagged a minor whatever the age band


@dataclass(frozen=True)
class NewPlace:
    name: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class EncounterInput:
    id: uuid.UUID
    person_id: uuid.UUID
    new_person: NewPerson
    place_id: uuid.UUID | None
    new_place: NewPlace | None
    occurred_at: datetime
    contact_type: str
    needs: tuple[str, ...]
    given: tuple[str, ...]
    note: str
    ethos: str = ethos.UNKNOWN
    maraude_id: uuid.UUID | None = None


# --- Reading input ----------------------------------------------------------------


def _moment(
    data: Mapping[str, Any],
    name: str,
    errors: dict[str, FieldError],
    written_at: datetime | None = None,
) -> datetime:
    """When something happened in the street: not in the future (the phone's clock may be
    a little ahead), not more than a year ago; now when it is missing or wrong.
    `written_at`: when it was written down (`sync.OpContext.written_at`; default now), which
    tells the two 02:xx of the autumn change's night apart (`core.fields.moment`)."""
    now = clock.now()
    parsed = parse.moment(data, name, errors, required=True, written_at=written_at or now)
    if parsed is None:
        return now
    if parsed > now + FUTURE_TOLERANCE:
        parse.fail(errors, name, "in_future")
    elif parsed < now - OLDEST_ENCOUNTER:
        parse.fail(errors, name, "too_old")
    return parsed


def read_encounter(data: Mapping[str, Any], written_at: datetime | None = None) -> EncounterInput:
    """Check an encounter's data (an op's `data` or a form; `written_at` as `_moment`);
    raise Invalid with every field that is wrong."""
    errors: dict[str, FieldError] = {}
    encounter_id = parse.uuid(data, "id", errors, required=True)
    person_id = parse.uuid(data, "person_id", errors, required=True)
    new_person = NewPerson(
        nickname=parse.text(data, "nickname", errors, limit=NICKNAME_MAX),
        age_band=parse.choice(data, "age_band", errors, choices=AGE_BANDS, default="unknown"),
        gender=parse.choice(data, "gender", errors, choices=GENDERS, default="unknown"),
        language=parse.choice(data, "language", errors, choices=LANGUAGES, default="unknown"),
        description=parse.text(data, "description", errors, limit=DESCRIPTION_MAX),
        minor=parse.flag(data, "minor", errors),
    )
    place_id = parse.uuid(data, "place_id", errors)
    place_name = parse.text(data, "place_name", errors, limit=PLACE_NAME_MAX)
    latitude, longitude = parse.coordinates(data, errors, digits=6)
    occurred_at = _moment(data, "occurred_at", errors, written_at)
    contact_type = parse.choice(data, "contact_type", errors, choices=CONTACT_TYPES)
    needs = parse.choices(data, "needs", errors, choices=NEEDS)
    given = parse.choices(data, "given", errors, choices=GIVEN)
    note = parse.text(data, "note", errors, limit=NOTE_MAX, multiline=True)
    ethos_code = parse.choice(data, "ethos", errors, choices=ethos.CODES, default="unknown")
    maraude_id = parse.uuid(data, "maraude_id", errors)
    if errors:
        raise Invalid(errors)
    assert encounter_id is not None and person_id is not None
    return EncounterInput(
        id=encounter_id,
        person_id=person_id,
        new_person=new_person,
        place_id=place_id,
        new_place=NewPlace(place_name, latitude, longitude) if place_id else None,
        occurred_at=occurred_at,
        contact_type=contact_type,
        needs=needs,
        given=given,
        note=note,
        ethos=ethos_code,
        maraude_id=maraude_id,
    )


# --- Changing records -----------------------------------------------------------------


def _team_of(actor: User) -> int:
    if actor.team_id is None:
        raise Invalid({"team": FieldError("no_team")})
    return actor.team_id


def _add_new(
    session: Session,
    actor: User,
    record: Person | Place,
    entity_type: str,
    fields: list[str],
    client_at: datetime | None,
) -> None:
    """Store a person or place made on the phone, stamped and audited (field names only)."""
    session.add(record)
    sync.stamp(session, record, sync.team_scope(record.team_id), actor, client_at)
    audit.record_change(
        session, actor, entity_type, record.id, fields, action="create", client_at=client_at
    )


def _person_for(
    session: Session, actor: User, team_id: int, entry: EncounterInput, client_at: datetime | None
) -> Person:
    # Locked: a merge or the purge of this person waits for this encounter, or it for them
    # (then the merge is seen below, and a purged person is no longer there).
    person = sync.locked_get(session, Person, entry.person_id, populate_existing=True)
    if person is not None:
        if person.team_id != team_id:
            raise Invalid({"person_id": FieldError("unknown_person")})
        # A phone that has not heard of a merge still names the merged record: the
        # encounter goes to the person it is now part of.
        return resolve_merged(session, person)
    new = entry.new_person
    new = entry.new_person
    if not new.nickname and not new.description:
        raise Invalid({"nickname": FieldError("nickname_or_description")})
    person = Person(
        id=entry.person_id,
        team_id=team_id,
        nickname=new.nickname,
        age_band=new.age_band,
        gender=new.gender,
        language=new.language,
        description=new.description,
        minor=new.minor,
        first_seen_at=entry.occurred_at,
        last_seen_at=entry.occurred_at,
        created_by_id=actor.id,
    )
    fields = [name for name, value in vars(new).items() if value]
    _add_new(session, actor, person, "outreach_person", fields, client_at)
    return person


def _place_for(
    session: Session, actor: User, team_id: int, entry: EncounterInput, client_at: datetime | None
) -> Place | None:
    if entry.place_id is None:
        return None
    place = session.get(Place, entry.place_id)
    if place is not None:
        if place.team_id != team_id:
            raise Invalid({"place_id": FieldError("unknown_place")})
        return place
    new = entry.new_place
    if new is None or not new.name:
        raise Invalid({"place_name": FieldError("required")})
    place = Place(
        id=entry.place_id,
        team_id=team_id,
        name=new.name,
        latitude=new.latitude,
        longitude=new.longitude,
        created_by_id=actor.id,
    )
    fields = ["name", *(["coordinates"] if new.latitude is not None else [])]
    _add_new(session, actor, place, "outreach_place", fields, client_at)
    return place


ENCOUNTER_FIELDS = (
    "person_id",
    "place_id",
    "occurred_at",
    "contact_type",
    "needs",
    "given",
    "note",
    "ethos",
    "maraude_id",
)


@dataclass(frozen=True)
class Saved:
    encounter: Encounter
    superseded: bool = False
    alert: MinorAlert | None = None  # the encounter was with a minor: who is alerted


def _maraude_for(session: Session, team_id: int, maraude_id: uuid.UUID | None) -> Maraude | None:
    if maraude_id is None:
        return None
    maraude = session.get(Maraude, maraude_id)
    if maraude is None or maraude.team_id != team_id:
        raise Invalid({"maraude_id": FieldError("unknown_maraude")})
    return maraude


def save_encounter(
    session: Session,
    actor: User,
    entry: EncounterInput,
    *,
    base_version: int | None = None,
    client_at: datetime | None = None,
    must_be_new: bool = False,
) -> Saved:
    """Create the encounter, or bring it to `entry` (full state); new people and places
    it names are created with it."""
    team_id = _team_of(actor)
    scope = sync.team_scope(team_id)
    encounter = sync.locked_get(session, Encounter, entry.id)
    # A change with a base_version is of a record the phone downloaded: it must be one of
    # the team's. Another team's id is answered exactly as an unknown one, so the answer
    # never tells that it exists. (Without a base_version, an update may arrive before
    # its create and makes the record: docs/sync.md.)
    if (
        base_version is not None
        and not must_be_new
        and (encounter is None or encounter.team_id != team_id)
    ):
        raise Invalid({"id": FieldError("unknown_encounter")})
    if encounter is not None:
        if encounter.team_id != team_id or (must_be_new and encounter.recorded_by_id != actor.id):
            raise Invalid({"id": FieldError("id_already_used")})
        sync.check_base_version(
            encounter, actor, base_version, lambda: serialize_encounter(encounter)
        )
        if sync.is_stale(encounter, actor, client_at):
            return Saved(encounter, superseded=True)
    maraude = _maraude_for(session, team_id, entry.maraude_id)  # checked before creating
    person = _person_for(session, actor, team_id, entry, client_at)
    place = _place_for(session, actor, team_id, entry, client_at)
    values = {
        "person_id": person.id,
        "place_id": place.id if place else None,
        "occurred_at": entry.occurred_at,
        "contact_type": entry.contact_type,
        "needs": list(entry.needs),
        "given": list(entry.given),
        "note": entry.note,
        "ethos": entry.ethos,
        "maraude_id": maraude.id if maraude else None,
    }
    created = encounter is None
    if encounter is None:
        encounter = Encounter(id=entry.id, team_id=team_id, recorded_by_id=actor.id, **values)
        session.add(encounter)
        action, changed = "create", [name for name, value in values.items() if value]
    else:
        changed = audit.assign(encounter, values)
        action = "update"
    encounter.person, encounter.place = person, place
    sync.stamp(session, encounter, scope, actor, client_at)
    _seen(session, scope, person, place, entry.occurred_at)
    audit.record_change(
        session,
        actor,
        "outreach_encounter",
        encounter.id,
        changed,
        action=action,
        client_at=client_at,
    )
    if created and not person.is_minor:
        # Nothing reads the new rows back before the commit: left pending, a request's
        # people and encounters go in with one multi-row INSERT per table at its end.
        return Saved(encounter)
    session.flush()
    alert = None
    if created:
        alert = minors.alert_for(session, actor, person, encounter)
    elif "person_id" in changed:
        # The encounter was with somebody else: its alert follows it to that person, or
        # is made now when that person is a minor (never left on the wrong person).
        minors.forget_open_alerts(session, encounter.id)
        session.execute(
            update(MinorAlert)
            .where(MinorAlert.encounter_id == encounter.id)
            .values(person_id=person.id)
        )
        if (
            session.scalar(select(MinorAlert.id).where(MinorAlert.encounter_id == encounter.id))
            is None
        ):
            alert = minors.alert_for(session, actor, person, encounter)
    return Saved(encounter, alert=alert)


def _seen(session: Session, scope: str, person: Person, place: Place | None, at: datetime) -> None:
    if at > person.last_seen_at or at < person.first_seen_at:
        person.last_seen_at = max(person.last_seen_at, at)
        person.first_seen_at = min(person.first_seen_at, at)
        sync.touch(session, person, scope)
    if place is not None and (place.last_visit_at is None or at > place.last_visit_at):
        place.last_visit_at = at
        sync.touch(session, place, scope)


# --- Reading records ------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return clock.to_local(moment).isoformat() if moment else None


def serialize_encounter(encounter: Encounter) -> dict[str, Any]:
    return {
        "id": str(encounter.id),
        "version": encounter.version,
        "person_id": str(encounter.person_id),
        "place_id": str(encounter.place_id) if encounter.place_id else None,
        "occurred_at": _iso(encounter.occurred_at),
        "contact_type": encounter.contact_type,
        "needs": list(encounter.needs),
        "given": list(encounter.given),
        "note": encounter.note,
        "ethos": encounter.ethos,
        "maraude_id": str(encounter.maraude_id) if encounter.maraude_id else None,
        "changed_at": _iso(encounter.changed_at),
    }


def serialize_person(person: Person) -> dict[str, Any]:
    return {
        "id": str(person.id),
        "version": person.version,
        "nickname": person.nickname,
        "age_band": person.age_band,
        "gender": person.gender,
        "language": person.language,
        "description": person.description,
        "minor": person.is_minor,
        "merged_into": str(person.merged_into_id) if person.merged_into_id else None,
        "first_seen_at": _iso(person.first_seen_at),
        "last_seen_at": _iso(person.last_seen_at),
    }


def serialize_place(place: Place) -> dict[str, Any]:
    return {
        "id": str(place.id),
        "version": place.version,
        "name": place.name,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "notes": place.notes,
        "last_visit_at": _iso(place.last_visit_at),
    }


def recent_encounters(session: Session, team_id: int, limit: int = 50) -> list[Encounter]:
    return list(
        session.scalars(
            select(Encounter)
            .options(joinedload(Encounter.person), joinedload(Encounter.place))
            .where(Encounter.team_id == team_id)
            .order_by(Encounter.occurred_at.desc())
            .limit(limit)
        )
    )


def get_encounter(session: Session, team_id: int, encounter_id: uuid.UUID) -> Encounter | None:
    encounter = session.get(Encounter, encounter_id)
    return encounter if encounter is not None and encounter.team_id == team_id else None


def team_people(session: Session, team_id: int) -> list[Person]:
    return list(
        session.scalars(
            select(Person)
            .where(Person.team_id == team_id, Person.merged_into_id.is_(None))
            .order_by(Person.last_seen_at.desc())
        )
    )


def team_places(session: Session, team_id: int) -> list[Place]:
    return list(
        session.scalars(
            select(Place).where(Place.team_id == team_id).order_by(Place.last_visit_at.desc())
        )
    )


# --- For the phone's pages (issue 8, helper F) ------------------------------------------


def get_place(session: Session, team_id: int, place_id: uuid.UUID) -> Place | None:
    place = session.get(Place, place_id)
    return place if place is not None and place.team_id == team_id else None


def place_visits(
    session: Session, team_id: int, place_id: uuid.UUID, limit: int = 100
) -> list[Encounter]:
    """The encounters at a place, newest first (with their person, for the nickname)."""
    return list(
        session.scalars(
            select(Encounter)
            .options(joinedload(Encounter.person))
            .where(Encounter.team_id == team_id, Encounter.place_id == place_id)
            .order_by(Encounter.occurred_at.desc())
            .limit(limit)
        )
    )


# --- For the follow-up pages (issue 8, helper G) ----------------------------------------


def search_team_people(
    session: Session, team_id: int, text: str = "", limit: int = 200
) -> list[Person]:
    """The team's people (merged records left out) whose nickname or description holds
    `text`, last seen first."""
    query = select(Person).where(Person.team_id == team_id, Person.merged_into_id.is_(None))
    words = text.strip()[:NICKNAME_MAX]
    if words:
        pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            Person.nickname.ilike(pattern, escape="\\")
            | Person.description.ilike(pattern, escape="\\")
        )
    return list(session.scalars(query.order_by(Person.last_seen_at.desc()).limit(limit)))


def needs_over_time(encounters: list[Encounter]) -> list[tuple[str, int, datetime, datetime]]:
    """Each need raised in `encounters`: (code, times raised, first, last), most raised first."""
    seen: dict[str, tuple[int, datetime, datetime]] = {}
    for encounter in encounters:
        for need in encounter.needs:
            count, first, last = seen.get(need, (0, encounter.occurred_at, encounter.occurred_at))
            seen[need] = (
                count + 1,
                min(first, encounter.occurred_at),
                max(last, encounter.occurred_at),
            )
    rows = [(need, count, first, last) for need, (count, first, last) in seen.items()]
    return sorted(rows, key=lambda row: (-row[1], NEEDS.index(row[0]) if row[0] in NEEDS else 99))


def person_encounters(session: Session, person_id: uuid.UUID) -> list[Encounter]:
    """The person's encounters, newest first, with their places."""
    return list(
        session.scalars(
            select(Encounter)
            .options(joinedload(Encounter.place))
            .where(Encounter.person_id == person_id)
            .order_by(Encounter.occurred_at.desc())
        )
    )


# --- A place's name, notes and position (issue 8) -----------------------------------------


@dataclass(frozen=True)
class PlaceChange:
    id: uuid.UUID
    name: str
    notes: str
    latitude: float | None
    longitude: float | None
    keep_coordinates: bool  # the op says nothing of the position: it stays as it is


def read_place(data: Mapping[str, Any]) -> PlaceChange:
    """Check a place's new state (an op's `data` or the place page's form)."""
    errors: dict[str, FieldError] = {}
    place_id = parse.uuid(data, "id", errors, required=True)
    name = parse.text(data, "name", errors, limit=PLACE_NAME_MAX, required=True)
    notes = parse.text(data, "notes", errors, limit=PLACE_NOTES_MAX, multiline=True)
    latitude, longitude = parse.coordinates(data, errors, digits=6)
    if errors:
        raise Invalid(errors)
    assert place_id is not None
    keep = "latitude" not in data and "longitude" not in data
    return PlaceChange(place_id, name, notes, latitude, longitude, keep)


def update_place(
    session: Session,
    actor: User,
    change: PlaceChange,
    *,
    base_version: int | None = None,
    client_at: datetime | None = None,
) -> tuple[Place, bool]:
    """Bring a place of the actor's team to `change`; returns it and whether the change
    was superseded by a later one of the same user (then nothing changed)."""
    team_id = _team_of(actor)
    place = session.get(Place, change.id, with_for_update=True)
    if place is None or place.team_id != team_id:
        raise Invalid({"id": FieldError("unknown_place")})
    sync.check_base_version(place, actor, base_version, lambda: serialize_place(place))
    if sync.is_stale(place, actor, client_at):
        return place, True
    values: dict[str, Any] = {"name": change.name, "notes": change.notes}
    if not change.keep_coordinates:
        values.update(latitude=change.latitude, longitude=change.longitude)
    changed = audit.assign(place, values)
    sync.stamp(session, place, sync.team_scope(team_id), actor, client_at)
    audit.record_change(session, actor, "outreach_place", place.id, changed, client_at=client_at)
    session.flush()
    return place, False
