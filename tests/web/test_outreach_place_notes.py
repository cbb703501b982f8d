"""A place's notes on the phone pages without JavaScript (issue 8): the place page's form
goes through the sync engine like the maraude's, bad input answers 422 with the typed
values kept, and the op sent twice through /api/sync is applied once.

Users are switched to English so the assertions read the msgids.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from core import sync
from outreach.demo import demo_id
from outreach.models import Place
from tests.conftest import Browser
from tests.db.outreach_world import other_team_educator
from tests.support import text_of
from tests.web.sync_client import post_ops

LIEDTS = demo_id("liedts")
PAGE = f"/outreach/places/{LIEDTS}"


@pytest.fixture()
def rue1(login) -> Browser:
    return login("rue1")


def place_form(place: Place, **overrides) -> dict:
    return {
        "op_id": str(uuid.uuid4()),
        "id": str(place.id),
        "base_version": str(place.version),
        "name": place.name,
        "notes": place.notes,
        "latitude": str(place.latitude),
        "longitude": str(place.longitude),
        **overrides,
    }


def snapshot(db, place_id: uuid.UUID) -> tuple:
    db.expire_all()
    place = db.get(Place, place_id)
    return (place.name, place.notes, place.latitude, place.longitude, place.version)


def test_the_page_shows_the_notes_and_the_form_saves_them(rue1, db):
    html = text_of(rue1.get(f"/outreach/places/{demo_id('gare-nord')}"))
    assert "Le gardien de nuit" in html  # the demo's notes
    assert 'data-offline-op="outreach.place.update"' in html and "data-offline-leave" in html
    assert "Change the name or notes" in html

    place = db.get(Place, LIEDTS)
    version = place.version
    form = place_form(place, notes="Abribus côté église.\nBancs enlevés en mars.")
    response = rue1.post(PAGE, form)
    assert response.status_code == 302 and response.headers["Location"].endswith(PAGE)
    page = text_of(rue1.get(PAGE))
    assert "Place saved." in page
    assert "Abribus côté église.\nBancs enlevés en mars." in page
    assert snapshot(db, LIEDTS)[1:] == (
        "Abribus côté église.\nBancs enlevés en mars.",
        50.8666,
        4.3717,
        version + 1,
    )
    # The list shows the first line of the notes.
    places = text_of(rue1.get("/outreach/places/"))
    assert "Abribus côté église." in places and "Bancs enlevés" not in places

    # The same form posted again (a double tap, a reload): applied once.
    again = rue1.post(PAGE, form)
    assert again.status_code == 302
    assert snapshot(db, LIEDTS)[-1] == version + 1


@pytest.mark.parametrize(
    ("overrides", "field", "sentence"),
    [
        ({"name": "  "}, "name", "This is needed."),
        ({"notes": "Trop long " + "x" * 1000}, "notes", "at most 1000"),
        ({"latitude": "50.86", "longitude": ""}, "longitude", "Give both latitude and longitude"),
        ({"latitude": "123", "longitude": "4.3"}, "latitude", "between"),
    ],
)
def test_bad_input_gives_422_with_the_message_and_the_typed_values(
    rue1, db, overrides, field, sentence
):
    before = snapshot(db, LIEDTS)
    form = place_form(db.get(Place, LIEDTS), **{"notes": "Texte tapé"} | overrides)
    response = rue1.post(PAGE, form)
    assert response.status_code == 422
    html = text_of(response)
    assert f'id="{field}-error"' in html and sentence in html
    assert f'aria-describedby="{field}-error"' in html or "notes-hint notes-error" in html
    assert (overrides.get("notes") or "Texte tapé") in html
    if overrides.get("latitude"):
        assert f'value="{overrides["latitude"]}"' in html
    assert snapshot(db, LIEDTS) == before


def test_a_change_by_somebody_else_meanwhile_is_shown_not_overwritten(rue1, login, db):
    place = db.get(Place, LIEDTS)
    stale = place_form(place, notes="Ma version")
    rue2 = login("rue2")
    assert rue2.post(PAGE, place_form(place, notes="Sa version")).status_code == 302
    response = rue1.post(PAGE, stale)
    assert response.status_code == 409
    html = text_of(response)
    assert "Somebody else changed this place meanwhile." in html
    assert "Ma version" in html and "Sa version" in html
    assert snapshot(db, LIEDTS)[1] == "Sa version"


def test_another_team_gets_404_and_changes_nothing(login, db):
    other_team_educator(db)
    db.flush()
    before = snapshot(db, LIEDTS)
    other = login("rue-charleroi")
    assert other.get(PAGE).status_code == 404
    assert other.post(PAGE, place_form(db.get(Place, LIEDTS), notes="x")).status_code == 404
    result = post_ops(
        other,
        [
            {
                "id": str(uuid.uuid4()),
                "type": "outreach.place.update",
                "data": {"id": str(LIEDTS), "name": "Chez nous", "notes": "x"},
            }
        ],
    ).get_json()["results"][0]
    assert result["status"] == "rejected" and set(result["errors"]) == {"id"}
    assert snapshot(db, LIEDTS) == before


def test_the_form_for_another_place_id_is_refused(rue1, db):
    before = snapshot(db, demo_id("gare-nord"))
    form = place_form(db.get(Place, demo_id("gare-nord")), notes="Ailleurs")
    assert rue1.post(PAGE, form).status_code == 404
    assert snapshot(db, demo_id("gare-nord")) == before


def test_the_op_sent_twice_through_the_api_is_applied_once(rue1, db):
    place = db.get(Place, LIEDTS)
    version = place.version
    op = {
        "id": str(uuid.uuid4()),
        "type": "outreach.place.update",
        "base_version": version,
        "data": {"id": str(LIEDTS), "name": place.name, "notes": "Par l'API"},
    }
    first = post_ops(rue1, [op]).get_json()["results"][0]
    second = post_ops(rue1, [op]).get_json()["results"][0]
    assert first["status"] == "applied" and first["record"]["notes"] == "Par l'API"
    assert second["status"] == "duplicate" and second["original_status"] == "applied"
    assert snapshot(db, LIEDTS)[1:] == ("Par l'API", 50.8666, 4.3717, version + 1)
    assert (
        db.scalar(
            select(func.count())
            .select_from(sync.SyncOperation)
            .where(sync.SyncOperation.id == uuid.UUID(op["id"]))
        )
        == 1
    )
    # The op type is in the API's description, with a working example.
    spec = rue1.client.get("/api/openapi.json").get_json()
    assert "Op_outreach_place_update" in spec["components"]["schemas"]
