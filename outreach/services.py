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

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from core import clock, sync, text
from core.accounts import User
from core.ids import parse_uuid
from core.sync import FieldError, Invalid
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
from outreach.records import audit_change, resolve_merged

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


def _text(
    data: Mapping[str, Any],
    name: str,
    limit: int,
    errors: dict[str, FieldError],
    *,
    multiline: bool = False,
) -> str:
    """Text without control characters; only a multi-line note keeps its line breaks."""
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = FieldError("not_text")
        return ""
    if text.has_lone_surrogate(value):  # the database could not store it
        errors[name] = FieldError("invalid_text")
        return ""
    value = (text.strip_controls(value) if multiline else text.single_line(value)).strip()
    if len(value) > limit:
        errors[name] = FieldError("too_long", {"max": limit})
    return value


def _choice(
    data: Mapping[str, Any],
    name: str,
    choices: tuple[str, ...],
    errors: dict[str, FieldError],
    default: str | None = "unknown",
) -> str:
    value = data.get(name)
    if value in (None, ""):
        if default is None:
            errors[name] = FieldError("required")
            return ""
        return default
    if value not in choices:
        errors[name] = FieldError("unknown_choice")
        return ""
    return str(value)


def _choices(
    data: Mapping[str, Any], name: str, choices: tuple[str, ...], errors: dict[str, FieldError]
) -> tuple[str, ...]:
    value = data.get(name)
    if value in (None, ""):
        return ()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(item, str) for item in values):
        errors[name] = FieldError("unknown_choice")
        return ()
    unknown = [item for item in values if item not in choices]
    if unknown:
        errors[name] = FieldError("unknown_choice")
        return ()
    return tuple(code for code in choices if code in values)  # the list's order, once each


def _uuid(
    data: Mapping[str, Any], name: str, errors: dict[str, FieldError], required: bool = True
) -> uuid.UUID | None:
    value = data.get(name)
    if value in (None, ""):
        if required:
            errors[name] = FieldError("required")
        return None
    parsed = parse_uuid(value) if isinstance(value, str) else None
    if parsed is None:
        errors[name] = FieldError("invalid_uuid")
    return parsed


def _flag(data: Mapping[str, Any], name: str, errors: dict[str, FieldError]) -> bool:
    """A checkbox or a JSON boolean."""
    value = data.get(name)
    if value in (None, "", False, "false", "0", "off"):
        return False
    if value in (True, "true", "1", "on", "yes"):
        return True
    errors[name] = FieldError("not_boolean")
    return False


def _coordinate(
    data: Mapping[str, Any], name: str, bound: float, errors: dict[str, FieldError]
) -> float | None:
    return _number(data, name, -bound, bound, errors, digits=6)


def _number(
    data: Mapping[str, Any],
    name: str,
    low: float,
    high: float,
    errors: dict[str, FieldError],
    digits: int,
) -> float | None:
    """A decimal number (a comma is accepted) between `low` and `high`, or None if empty."""
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        number = float(str(value).replace(",", ".")) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not math.isfinite(number):
        errors[name] = FieldError("not_a_number")
        return None
    if not low <= number <= high:
        errors[name] = FieldError("out_of_range", {"min": low, "max": high})
        return None
    return round(number, digits)


def _moment(data: Mapping[str, Any], name: str, errors: dict[str, FieldError]) -> datetime:
    """An ISO 8601 time; without an offset it is Brussels time (a datetime-local field)."""
    value = data.get(name)
    now = clock.now()
    if value in (None, ""):
        errors[name] = FieldError("required")
        return now
    parsed = None
    if isinstance(value, str) and len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
    if parsed is None:
        errors[name] = FieldError("invalid_datetime")
        return now
    try:
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=clock.BRUSSELS)
        parsed = clock.as_utc(parsed)
    except (OverflowError, ValueError):  # year 1 or 9999 shifted out of range
        errors[name] = FieldError("invalid_datetime")
        return now
    if parsed > now + FUTURE_TOLERANCE:
        errors[name] = FieldError("in_future")
    elif parsed < now - OLDEST_ENCOUNTER:
        errors[name] = FieldError("too_old")
    return parsed


def read_encounter(data: Mapping[str, Any]) -> EncounterInput:
    """Check an encounter's data (an op's `data` or a form); raise Invalid with every
    field that is wrong."""
    errors: dict[str, FieldError] = {}
    encounter_id = _uuid(data, "id", errors)
    person_id = _uuid(data, "person_id", errors)
    new_person = NewPerson(
        nickname=_text(data, "nickname", NICKNAME_MAX, errors),
        age_band=_choice(data, "age_band", AGE_BANDS, errors),
        gender=_choice(data, "gender", GENDERS, errors),
        language=_choice(data, "language", LANGUAGES, errors),
        description=_text(data, "description", DESCRIPTION_MAX, errors),
        minor=_flag(data, "minor", errors),
    )
    place_id = _uuid(data, "place_id", errors, required=False)
    place_name = _text(data, "place_name", PLACE_NAME_MAX, errors)
    latitude, longitude = _coordinates(data, errors)
    occurred_at = _moment(data, "occurred_at", errors)
    contact_type = _choice(data, "contact_type", CONTACT_TYPES, errors, default=None)
    needs = _choices(data, "needs", NEEDS, errors)
    given = _choices(data, "given", GIVEN, errors)
    note = _text(data, "note", NOTE_MAX, errors, multiline=True)
    ethos_code = _choice(data, "ethos", ethos.CODES, errors)
    maraude_id = _uuid(data, "maraude_id", errors, required=False)
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
    audit_change(session, actor, "create", entity_type, record.id, fields, client_at)


def _person_for(
    session: Session, actor: User, team_id: int, entry: EncounterInput, client_at: datetime | None
) -> Person:
    # Locked: a merge or the purge of this person waits for this encounter, or it for them
    # (then the merge is seen below, and a purged person is no longer there).
    person = session.get(Person, entry.person_id, with_for_update=True, populate_existing=True)
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
    encounter = session.get(Encounter, entry.id, with_for_update=True)
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
        changed = [name for name, value in values.items() if getattr(encounter, name) != value]
        for name, value in values.items():
            setattr(encounter, name, value)
        action = "update"
    encounter.person, encounter.place = person, place
    sync.stamp(session, encounter, scope, actor, client_at)
    _seen(session, scope, person, place, entry.occurred_at)
    audit_change(session, actor, action, "outreach_encounter", encounter.id, changed, client_at)
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


def _coordinates(
    data: Mapping[str, Any], errors: dict[str, FieldError]
) -> tuple[float | None, float | None]:
    """Latitude and longitude, both or neither."""
    latitude = _coordinate(data, "latitude", 90, errors)
    longitude = _coordinate(data, "longitude", 180, errors)
    if (latitude is None) != (longitude is None) and not {"latitude", "longitude"} & set(errors):
        errors["latitude" if latitude is None else "longitude"] = FieldError("both_coordinates")
    return latitude, longitude


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
    place_id = _uuid(data, "id", errors)
    name = _text(data, "name", PLACE_NAME_MAX, errors)
    if not name and "name" not in errors:
        errors["name"] = FieldError("required")
    notes = _text(data, "notes", PLACE_NOTES_MAX, errors, multiline=True)
    latitude, longitude = _coordinates(data, errors)
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
    changed = [name for name, value in values.items() if getattr(place, name) != value]
    for name, value in values.items():
        setattr(place, name, value)
    sync.stamp(session, place, sync.team_scope(team_id), actor, client_at)
    audit_change(session, actor, "update", "outreach_place", place.id, changed, client_at)
    session.flush()
    return place, False
