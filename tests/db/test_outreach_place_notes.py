"""A place's name, notes and position (issue 8): changed by its own team only, with
conflicts judged on the version the phone saw, audited, in the phone's feed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import accounts, clock, sync
from core.audit import AuditEntry
from core.errors import Conflict, Invalid
from outreach import services
from outreach.demo import demo_id
from outreach.models import PLACE_NOTES_MAX, Place
from tests.db.outreach_world import other_team_educator

LIEDTS = demo_id("liedts")


def user(db: Session, username: str) -> accounts.User:
    found = accounts.find_user(db, username)
    assert found is not None
    return found


def change(**values: Any) -> services.PlaceChange:
    data = {"id": str(LIEDTS), "name": "Place Liedts, sous l'abribus", "notes": ""} | values
    return services.read_place(data)


def snapshot(place: Place) -> tuple:
    return (place.name, place.notes, place.latitude, place.longitude, place.version)


def test_the_team_changes_name_notes_and_position_audited_and_in_the_feed(db):
    rue1 = user(db, "rue1")
    token = sync.read_changes(db, rue1, None).token
    place = db.get(Place, LIEDTS)
    assert place.notes == ""
    version = place.version

    updated, superseded = services.update_place(
        db,
        rue1,
        change(
            notes="  Le gardien ouvre à 6 h.\nPas avant.  ", latitude="50,8604", longitude=4.3618
        ),
        base_version=version,
    )
    assert not superseded and updated is place
    assert place.notes == "Le gardien ouvre à 6 h.\nPas avant."
    assert (place.latitude, place.longitude) == (50.8604, 4.3618)
    assert place.version == version + 1 and place.changed_by_id == rue1.id
    entry = db.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == "outreach_place",
            AuditEntry.entity_id == str(LIEDTS),
            AuditEntry.action == "update",
        )
    ).one()
    assert entry.entity_id == str(LIEDTS) and entry.actor_id == rue1.id
    assert entry.details == {"fields": ["notes", "latitude", "longitude"]}  # never the values
    db.commit()

    record = next(
        item.record for item in sync.read_changes(db, rue1, token).changes if item.id == str(LIEDTS)
    )
    assert record["notes"] == "Le gardien ouvre à 6 h.\nPas avant."
    assert record["version"] == version + 1


def test_without_coordinates_the_position_stays_and_empty_ones_clear_it(db):
    rue1 = user(db, "rue1")
    place = db.get(Place, LIEDTS)
    before = (place.latitude, place.longitude)
    services.update_place(db, rue1, services.read_place({"id": str(LIEDTS), "name": "Quai 3"}))
    assert place.name == "Quai 3" and (place.latitude, place.longitude) == before
    services.update_place(db, rue1, change(latitude="", longitude=None))
    assert (place.latitude, place.longitude) == (None, None)


def test_a_stale_base_version_is_a_conflict_when_somebody_else_changed_it(db):
    rue1, rue2 = user(db, "rue1"), user(db, "rue2")
    place = db.get(Place, LIEDTS)
    seen = place.version
    services.update_place(db, rue2, change(notes="Travaux sur le quai."), base_version=seen)
    with pytest.raises(Conflict) as raised:
        services.update_place(db, rue1, change(notes="Mon texte"), base_version=seen)
    assert raised.value.record["notes"] == "Travaux sur le quai."
    assert raised.value.record["version"] == seen + 1
    assert place.notes == "Travaux sur le quai."
    # The same user going on from the version they saw is no conflict.
    services.update_place(db, rue2, change(notes="Travaux finis."), base_version=seen)
    assert place.notes == "Travaux finis."


def test_a_visit_by_somebody_else_is_no_conflict(db):
    rue1, rue2 = user(db, "rue1"), user(db, "rue2")
    place = db.get(Place, LIEDTS)
    seen = place.version
    visit = {
        "id": str(uuid.uuid4()),
        "person_id": str(demo_id("piet")),
        "place_id": str(LIEDTS),
        "occurred_at": clock.now().isoformat(),
        "contact_type": "greeting",
    }
    services.save_encounter(db, rue2, services.read_encounter(visit))
    assert place.version == seen  # "last visit" changed, nobody's edit
    services.update_place(db, rue1, change(notes="Calme ce soir."), base_version=seen)
    assert place.notes == "Calme ce soir."


def test_another_team_may_not_change_the_place(db):
    other = other_team_educator(db)
    place = db.get(Place, LIEDTS)
    before = snapshot(place)
    with pytest.raises(Invalid) as raised:
        services.update_place(db, other, change(notes="Pas à nous"))
    assert set(raised.value.errors) == {"id"}
    assert raised.value.errors["id"].code == "unknown_place"
    with pytest.raises(Invalid):
        services.update_place(db, user(db, "rue1"), change(id=str(uuid.uuid4())))
    assert snapshot(place) == before


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"name": "  "}, {"name": "required"}),
        ({"name": "x" * 121}, {"name": "too_long"}),
        ({"notes": "x" * (PLACE_NOTES_MAX + 1)}, {"notes": "too_long"}),
        ({"notes": 12}, {"notes": "not_text"}),
        ({"latitude": "50.86"}, {"longitude": "both_coordinates"}),
        ({"latitude": "91", "longitude": "4.3"}, {"latitude": "out_of_range"}),
        ({"latitude": "nord", "longitude": "4.3"}, {"latitude": "not_a_number"}),
        ({"id": "not-an-id", "name": ""}, {"id": "invalid_uuid", "name": "required"}),
    ],
)
def test_bad_input_changes_nothing(db, values, errors):
    place = db.get(Place, LIEDTS)
    before = snapshot(place)
    with pytest.raises(Invalid) as raised:
        services.update_place(db, user(db, "rue1"), change(**values))
    assert {name: error.code for name, error in raised.value.errors.items()} == errors
    assert snapshot(place) == before


def test_the_op_is_applied_once_and_a_later_change_of_the_same_user_wins(db):
    rue1 = user(db, "rue1")
    place = db.get(Place, LIEDTS)
    data = {"id": str(LIEDTS), "name": place.name, "notes": "Deuxième version"}
    later = {
        "id": str(uuid.uuid4()),
        "type": "outreach.place.update",
        "base_version": place.version,
        "client_at": clock.now().isoformat(),
        "data": data,
    }
    earlier = later | {
        "id": str(uuid.uuid4()),
        "client_at": (clock.now() - timedelta(minutes=5)).isoformat(),
        "data": data | {"notes": "Première version"},
    }
    results = sync.apply_batch(db, rue1, [later, later, earlier])
    assert [result["status"] for result in results] == ["applied", "duplicate", "applied"]
    assert results[2]["superseded"] is True
    assert place.notes == "Deuxième version"


def test_two_demo_places_have_notes(db):
    assert db.get(Place, demo_id("gare-nord")).notes.startswith("Sous l'auvent")
    assert db.get(Place, demo_id("maximilien")).notes
    assert db.get(Place, LIEDTS).notes == ""
