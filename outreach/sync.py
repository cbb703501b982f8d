"""Street outreach in the sync engine: its op types and what a street educator's phone
downloads (the team's places and people, and the team's encounters of the last 30 days)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock, sync
from core.accounts import User
from core.roles import Permission
from outreach import demo, ethos, maraudes, services
from outreach.models import (
    AGE_BANDS,
    AREA_MAX,
    CONTACT_TYPES,
    DESCRIPTION_MAX,
    GENDERS,
    GIVEN,
    INCIDENTS_MAX,
    KM_MAX,
    LANGUAGES,
    NEEDS,
    NICKNAME_MAX,
    NOTE_MAX,
    PLACE_NAME_MAX,
    PLACE_NOTES_MAX,
    Encounter,
    Maraude,
    Person,
    Place,
)

UUID = {"type": "string", "format": "uuid"}
ENCOUNTER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "The whole encounter. `person_id` names a person of the team, or a new one made "
        "on the phone (then `nickname` or `description` is needed; the other person "
        "fields are used only for a new person). `place_id` likewise, with `place_name` "
        "and optional coordinates for a new place."
    ),
    "required": ["id", "person_id", "occurred_at", "contact_type"],
    "properties": {
        "id": UUID,
        "person_id": UUID,
        "nickname": {"type": "string", "maxLength": NICKNAME_MAX},
        "age_band": {"enum": list(AGE_BANDS)},
        "gender": {"enum": list(GENDERS)},
        "language": {"enum": list(LANGUAGES)},
        "description": {"type": "string", "maxLength": DESCRIPTION_MAX},
        "place_id": {"oneOf": [UUID, {"type": "null"}]},
        "place_name": {"type": "string", "maxLength": PLACE_NAME_MAX},
        "latitude": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
        "longitude": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
        "occurred_at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601; without an offset, Brussels time. Not in the future.",
        },
        "contact_type": {"enum": list(CONTACT_TYPES)},
        "needs": {"type": "array", "items": {"enum": list(NEEDS)}, "uniqueItems": True},
        "given": {"type": "array", "items": {"enum": list(GIVEN)}, "uniqueItems": True},
        "note": {"type": "string", "maxLength": NOTE_MAX},
        "minor": {"type": "boolean", "description": "A new person flagged a minor."},
        "ethos": {
            "enum": list(ethos.CODES),
            "description": "ETHOS living situation (operational category 1-13).",
        },
        "maraude_id": {"oneOf": [UUID, {"type": "null"}]},
    },
}
TIME = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601; without an offset, Brussels time. Not in the future.",
}
MARAUDE_START_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Start a maraude: where, who is out (users of the team), when.",
    "required": ["id", "started_at"],
    "properties": {
        "id": UUID,
        "area": {"type": "string", "maxLength": AREA_MAX},
        "member_ids": {"type": "array", "items": {"type": "integer"}, "uniqueItems": True},
        "started_at": TIME,
    },
}
MARAUDE_END_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "End a maraude: when, the kilometres, incidents.",
    "required": ["id", "ended_at"],
    "properties": {
        "id": UUID,
        "ended_at": TIME,
        "km": {"type": ["number", "null"], "minimum": 0, "maximum": KM_MAX},
        "incidents": {"type": "string", "maxLength": INCIDENTS_MAX},
    },
}


def _apply(context: sync.OpContext, data: dict[str, Any], must_be_new: bool) -> sync.Applied:
    entry = services.read_encounter(data, context.written_at)
    saved = services.save_encounter(
        context.session,
        context.actor,
        entry,
        base_version=context.base_version,
        client_at=context.client_at,
        must_be_new=must_be_new,
    )
    return sync.Applied(
        record_id=str(saved.encounter.id),
        record=services.serialize_encounter(saved.encounter),
        superseded=saved.superseded,
    )


def _lock_ahead(session: Session, batch: list[dict[str, Any]]) -> None:
    """The encounters and people a request's encounter ops name, locked in one query each
    (in the order of `save_encounter`: the encounter, then its person)."""
    sync.lock_ahead(session, Encounter, [data.get("id") for data in batch])
    sync.lock_ahead(session, Person, [data.get("person_id") for data in batch])


# The examples of /api/openapi.json: constants naming the demo's fixed ids (outreach/demo.py)
# with the versions those records have after seeding. The spec is public: nothing in it
# is ever read from the database.
EXAMPLE_CREATE: dict[str, Any] = {
    "id": str(demo.demo_id("example-encounter")),
    "person_id": str(demo.demo_id("example-person")),
    "nickname": "Le guitariste",
    "age_band": "26_40",
    "gender": "male",
    "language": "fr",
    "description": "Bonnet rouge, chien noir",
    "place_id": str(demo.demo_id("gare-nord")),
    "occurred_at": sync.ExampleTime(days_ago=1),
    "contact_type": "first_contact",
    "needs": ["shelter", "food"],
    "given": ["food_drink", "information"],
    "note": "Dort sous le pont depuis une semaine.",
}
# The demo's encounter "e4" (Piet at the Gare du Nord, in no maraude), seeded at version 1.
EXAMPLE_UPDATE: dict[str, Any] = {
    "id": str(demo.demo_id("e4")),
    "person_id": str(demo.demo_id("piet")),
    "place_id": str(demo.demo_id("gare-nord")),
    "occurred_at": sync.ExampleTime(days_ago=1),
    "contact_type": "conversation",
    "needs": ["shelter"],
    "given": ["information"],
    "note": "Revu le lendemain.",
    "ethos": "ethos_1",
    "maraude_id": None,
}
EXAMPLE_UPDATE_VERSION = 1
EXAMPLE_START: dict[str, Any] = {
    "id": str(demo.demo_id("example-maraude")),
    "area": "Gare du Nord, Parc Maximilien",
    "member_ids": [],
    "started_at": sync.ExampleTime(days_ago=1, hour=19),
}
# The demo's maraude "m2" (started two days before seeding), seeded and ended: version 2.
EXAMPLE_END: dict[str, Any] = {
    "id": str(demo.demo_id("m2")),
    "ended_at": sync.ExampleTime(days_ago=1, hour=0),
    "km": 6.5,
    "incidents": "",
}
EXAMPLE_END_VERSION = 2
# The demo's place "gare-nord": created, then its notes: version 2.
EXAMPLE_PLACE: dict[str, Any] = {
    "id": str(demo.demo_id("gare-nord")),
    "name": "Gare du Nord, quai 3",
    "notes": demo.PLACE_NOTES["gare-nord"] + "\nLe gardien de nuit ouvre à 6 h.",
    "latitude": 50.8603,
    "longitude": 4.3617,
}
EXAMPLE_PLACE_VERSION = 2


sync.register(
    sync.OpType(
        name="outreach.encounter.create",
        permission=Permission.OUTREACH_RECORD,
        summary="Record an encounter (and the new person or place it names).",
        data_schema=ENCOUNTER_SCHEMA,
        apply=lambda context, data: _apply(context, data, must_be_new=True),
        prefetch=_lock_ahead,
        example=EXAMPLE_CREATE,
    )
)
sync.register(
    sync.OpType(
        name="outreach.encounter.update",
        permission=Permission.OUTREACH_RECORD,
        summary=(
            "Change an encounter: the whole new state, with the version it was changed "
            "from as base_version."
        ),
        data_schema=ENCOUNTER_SCHEMA,
        apply=lambda context, data: _apply(context, data, must_be_new=False),
        prefetch=_lock_ahead,
        example=EXAMPLE_UPDATE,
        example_base_version=EXAMPLE_UPDATE_VERSION,
    )
)


def _apply_maraude(context: sync.OpContext, data: dict[str, Any], ending: bool) -> sync.Applied:
    options = {"base_version": context.base_version, "client_at": context.client_at}
    if ending:
        maraude, superseded = maraudes.end(
            context.session, context.actor, maraudes.read_end(data, context.written_at), **options
        )
        record = maraudes.serialize(maraude, maraudes.summary(context.session, maraude))
    else:
        maraude, superseded = maraudes.start(
            context.session, context.actor, maraudes.read_start(data, context.written_at), **options
        )
        record = maraudes.serialize(maraude)
    return sync.Applied(record_id=str(maraude.id), record=record, superseded=superseded)


sync.register(
    sync.OpType(
        name="outreach.maraude.start",
        permission=Permission.OUTREACH_RECORD,
        summary="Start a maraude (street round); sent again, it corrects the start.",
        data_schema=MARAUDE_START_SCHEMA,
        apply=lambda context, data: _apply_maraude(context, data, ending=False),
        example=EXAMPLE_START,
    )
)
sync.register(
    sync.OpType(
        name="outreach.maraude.end",
        permission=Permission.OUTREACH_RECORD,
        summary="End a maraude; the answer's record carries its summary.",
        data_schema=MARAUDE_END_SCHEMA,
        apply=lambda context, data: _apply_maraude(context, data, ending=True),
        example=EXAMPLE_END,
        example_base_version=EXAMPLE_END_VERSION,
    )
)


def _keys(model: Any, recent: Any) -> Any:
    def keys(session: Session, user: User, since: int, limit: int) -> list[tuple[int, str]]:
        """(change number, id) of the team's rows changed since `since`, from the index."""
        query = select(model.change_seq, model.id).where(
            model.team_id == user.team_id, model.change_seq > since
        )
        if recent is not None:
            # Only the last days' rows: fenced off (a materialised CTE, no LIMIT inside)
            # so PostgreSQL picks its index by how many rows each condition keeps (the
            # (team, time) index for a first download, (team, change number) for the
            # next ones). With the LIMIT in sight it walked the change-number index of
            # the whole team's year and filtered it: 700 ms at 100,000 encounters.
            window = query.where(recent >= clock.now() - services.RECENT_ENCOUNTERS).cte(
                f"{model.__tablename__}_window"
            )
            window = window.prefix_with("MATERIALIZED", dialect="postgresql")
            query = select(window.c.change_seq, window.c.id).order_by(window.c.change_seq)
        else:
            query = query.order_by(model.change_seq)
        return [(seq, str(row_id)) for seq, row_id in session.execute(query.limit(limit))]

    return keys


def _records(model: Any, serialize: Any) -> Any:
    def records(session: Session, user: User, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The page's rows of the team, in one query."""
        rows = session.scalars(
            select(model).where(
                model.team_id == user.team_id, model.id.in_([uuid.UUID(i) for i in ids])
            )
        )
        return {str(row.id): serialize(row) for row in rows}

    return records


for _model, _serialize, _type, _recent in (
    (Person, services.serialize_person, "outreach.person", None),
    (Place, services.serialize_place, "outreach.place", None),
    (Encounter, services.serialize_encounter, "outreach.encounter", Encounter.occurred_at),
    (Maraude, maraudes.serialize, "outreach.maraude", Maraude.started_at),
):
    sync.register_feed(
        sync.FeedSource(
            entity_type=_type,
            permission=Permission.OUTREACH_RECORD,
            keys=_keys(_model, _recent),
            records=_records(_model, _serialize),
        )
    )


# --- A place's name, notes and position (issue 8) -----------------------------------------

PLACE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "The place's new state: its name and notes (absent notes are empty). Latitude and "
        "longitude come both or neither (null: no position); when both are absent the "
        "position stays as it is."
    ),
    "required": ["id", "name"],
    "properties": {
        "id": UUID,
        "name": {"type": "string", "minLength": 1, "maxLength": PLACE_NAME_MAX},
        "notes": {"type": "string", "maxLength": PLACE_NOTES_MAX},
        "latitude": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
        "longitude": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
    },
}


def _apply_place(context: sync.OpContext, data: dict[str, Any]) -> sync.Applied:
    place, superseded = services.update_place(
        context.session,
        context.actor,
        services.read_place(data),
        base_version=context.base_version,
        client_at=context.client_at,
    )
    record = services.serialize_place(place)
    return sync.Applied(record_id=str(place.id), record=record, superseded=superseded)


sync.register(
    sync.OpType(
        name="outreach.place.update",
        permission=Permission.OUTREACH_RECORD,
        summary=(
            "Change a place of the team (name, notes, position): the whole new state, with "
            "the version it was changed from as base_version."
        ),
        data_schema=PLACE_SCHEMA,
        apply=_apply_place,
        example=EXAMPLE_PLACE,
        example_base_version=EXAMPLE_PLACE_VERSION,
    )
)
