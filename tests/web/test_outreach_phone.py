"""The street educator's phone pages without JavaScript: the maraude (start, end,
summary), the quick encounter with ETHOS and a maraude, bad input, the places.

Users are switched to English so the assertions read the msgids.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core import accounts, clock
from core.audit import AuditEntry
from outreach import maraudes, minors
from outreach.demo import demo_id
from outreach.models import Encounter, Maraude
from tests.conftest import Browser
from tests.support import cpas_admin, text_of
from tests.web.outreach_forms import encounter_form, now_local, past_hour


@pytest.fixture()
def rue1(login) -> Browser:
    return login("rue1")


def start(browser: Browser, **overrides) -> tuple[str, object]:
    maraude_id = str(uuid.uuid4())
    form = {
        "op_id": str(uuid.uuid4()),
        "id": maraude_id,
        "area": "Gare du Nord",
        "started_at": now_local(-60),
        **overrides,
    }
    return maraude_id, browser.post("/outreach/maraude", form)


def test_the_phone_pages_are_offline_views(rue1):
    for path in ("/outreach/maraude", "/outreach/places/"):
        response = rue1.get(path)
        assert response.status_code == 200, path
        assert response.headers["X-Terrain-Offline"] == "page"
    html = text_of(rue1.get("/outreach/maraude"))
    assert 'data-offline-op="outreach.maraude.start"' in html
    assert 'data-offline-op="outreach.maraude.end"' in html
    pages = text_of(rue1.get("/outreach/"))
    assert "/outreach/maraude" in pages and "/outreach/places/" in pages


def test_start_defaults_to_me_and_the_usual_colleague(rue1, db):
    html = text_of(rue1.get("/outreach/maraude"))
    rue2 = accounts.find_user(db, "rue2")
    # The demo maraudes of rue1 were all with rue2: ticked by default.
    assert f'name="member_ids" value="{rue2.id}" checked' in html
    assert "(you)" in html


def test_a_maraude_started_then_ended_without_javascript(rue1, db):
    rue2 = accounts.find_user(db, "rue2")
    # Start and end written from one reading of the clock, an hour apart: two readings
    # could fall either side of a minute and make it "1 h 01".
    started_at, ended_at = past_hour()
    maraude_id, response = start(rue1, member_ids=[str(rue2.id)], started_at=started_at)
    assert response.status_code == 302 and response.location.endswith("/outreach/encounters/new")
    maraude = db.get(Maraude, uuid.UUID(maraude_id))
    assert maraude is not None and rue2.id in maraude.member_ids

    # The banner, and the encounter form carries the maraude.
    form_html = text_of(rue1.get("/outreach/encounters/new"))
    assert "Maraude in progress since" in form_html
    assert f'name="maraude_id" value="{maraude_id}"' in form_html
    saved = rue1.post("/outreach/encounters/new", encounter_form(maraude_id=maraude_id))
    assert saved.status_code == 302
    encounter = db.scalars(select(Encounter).where(Encounter.maraude_id == maraude.id)).one()
    assert encounter.ethos == "ethos_1"
    assert "Contacts: 1" in text_of(rue1.get("/outreach/"))

    # The maraude page now offers the end.
    page = text_of(rue1.get("/outreach/maraude"))
    assert f'name="id" value="{maraude_id}" data-current-maraude' in page
    end = rue1.post(
        "/outreach/maraude/end",
        {
            "op_id": str(uuid.uuid4()),
            "id": maraude_id,
            "ended_at": ended_at,
            "km": "6,5",
            "incidents": "Rien",
        },
    )
    assert end.status_code == 302 and end.location.endswith(f"/outreach/maraudes/{maraude_id}")
    db.refresh(maraude)
    assert maraude.km == 6.5 and maraude.ended_at is not None
    summary = text_of(rue1.get(end.location))
    assert 'data-summary="contacts">1<' in summary
    assert 'data-summary="people">1<' in summary
    assert 'data-summary="new_people">0<' in summary
    # Hours out in hours and minutes (never "1.0" or "0.05"), kilometres as written.
    assert 'data-summary="hours">1 h 00<' in summary
    assert 'data-summary="km">6.5 km<' in summary
    assert maraudes.current(db, accounts.find_user(db, "rue1")) is None


def test_a_double_tap_on_start_makes_one_maraude(rue1, db):
    form = {"op_id": str(uuid.uuid4()), "id": str(uuid.uuid4()), "started_at": now_local()}
    assert rue1.post("/outreach/maraude", form).status_code == 302
    assert rue1.post("/outreach/maraude", form).status_code == 302
    count = db.scalar(
        select(func.count()).select_from(Maraude).where(Maraude.id == uuid.UUID(form["id"]))
    )
    assert count == 1


def test_bad_maraude_input_says_what_and_keeps_it(rue1, db):
    maraude_id, response = start(rue1, area="Parc Josaphat", started_at=now_local(24 * 60))
    assert response.status_code == 422
    html = text_of(response)
    assert "Parc Josaphat" in html and "in the future" in html
    assert 'aria-invalid="true"' in html
    assert db.get(Maraude, uuid.UUID(maraude_id)) is None

    maraude_id, response = start(rue1)
    assert response.status_code == 302
    end = rue1.post(
        "/outreach/maraude/end",
        {"op_id": str(uuid.uuid4()), "id": maraude_id, "ended_at": now_local(), "km": "900"},
    )
    assert end.status_code == 422
    assert 'value="900"' in text_of(end) and "between" in text_of(end).lower()
    assert db.get(Maraude, uuid.UUID(maraude_id)).ended_at is None


def test_bad_encounter_input_gives_422_with_messages_and_the_typed_values(rue1, db):
    form = encounter_form(
        person_id=str(uuid.uuid4()),
        nickname="Le Rouquin",
        occurred_at=now_local(3 * 24 * 60),
        place_id=str(uuid.uuid4()),
        place_name="Sous le pont",
        latitude="91",
        longitude="500",
        note="x" * 2001,
        needs=["food", "teleportation"],
        ethos="ethos_99",
    )
    response = rue1.post("/outreach/encounters/new", form)
    assert response.status_code == 422
    html = text_of(response)
    for field in ("occurred_at", "latitude", "longitude", "note", "needs", "ethos"):
        assert f'id="{field}-error"' in html, field
    assert "in the future" in html and "at most 2000" in html
    assert "Le Rouquin" in html and "Sous le pont" in html and 'value="91"' in html
    assert (
        db.scalar(
            select(func.count()).select_from(Encounter).where(Encounter.id == uuid.UUID(form["id"]))
        )
        == 0
    )


def test_an_unknown_maraude_is_refused(rue1, db):
    form = encounter_form(maraude_id=str(uuid.uuid4()))
    response = rue1.post("/outreach/encounters/new", form)
    assert response.status_code == 422
    assert "This maraude is not one of your team" in text_of(response)


def test_a_minor_shows_who_the_team_alerts(rue1, db):
    coordinator = accounts.find_user(db, "rue1")
    minors.set_protective_path(
        db, cpas_admin(db), coordinator.team_id, {"contact": "SAJ Bruxelles"}
    )
    db.flush()
    html = text_of(rue1.get("/outreach/encounters/new"))
    assert "A minor. The alert asks the team to contact SAJ Bruxelles." in html
    # Sent back with a minor chosen: the notice shows.
    response = rue1.post(
        "/outreach/encounters/new",
        encounter_form(
            person_id=str(uuid.uuid4()),
            nickname="Petit",
            age_band="under_18",
            occurred_at=now_local(90),
        ),
    )
    assert response.status_code == 422
    notice = text_of(response).split("data-minor-notice")[1].split(">")[0]
    assert "hidden" not in notice


def test_places_list_and_a_place_with_its_visits_newest_first(rue1, db):
    html = text_of(rue1.get("/outreach/places/"))
    assert "Gare du Nord, quai 3" in html and "Last visit" in html
    page = rue1.get(f"/outreach/places/{demo_id('gare-nord')}")
    assert page.status_code == 200 and page.headers["X-Terrain-Offline"] == "page"
    visits = text_of(page).split('id="place-visits"')[1]
    assert visits.index("Piet") < visits.index("Momo")  # 1 day ago, then 6 days ago
    assert "Veste verte" not in visits  # nicknames only
    assert rue1.get(f"/outreach/places/{uuid.uuid4()}").status_code == 404
    assert rue1.get("/outreach/places/not-a-uuid").status_code == 404
    reads = db.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == "outreach_place", AuditEntry.action == "read"
        )
    ).all()
    assert reads


def test_a_maraude_of_another_team_is_not_shown(rue1, db):
    assert rue1.get(f"/outreach/maraudes/{uuid.uuid4()}").status_code == 404
    assert rue1.get(f"/outreach/maraudes/{demo_id('m1')}").status_code == 200


# The autumn change of 2027: at 03:00 CEST (01:00 UTC) Brussels reads 02:00 again, so a
# datetime-local "02:30" names 00:30 UTC (CEST) and 01:30 UTC (CET).
FIRST_0240 = datetime(2027, 10, 31, 0, 40, tzinfo=UTC)
SECOND_0240 = datetime(2027, 10, 31, 1, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "stored"),
    [
        (FIRST_0240, datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
        (SECOND_0240, datetime(2027, 10, 31, 1, 30, tzinfo=UTC)),
    ],
    ids=["first-02h40", "second-02h40"],
)
def test_an_encounter_typed_in_the_repeated_autumn_hour_is_the_02h30_just_lived(
    login, db, now, stored
):
    """Written at 02:40 the second time round, "02:30" is ten minutes ago, not an hour
    and ten: the later 02:30 when it is already past, the first one otherwise."""
    with clock.frozen(now):
        rue1 = login("rue1")
        form = encounter_form(occurred_at="2027-10-31T02:30")
        assert rue1.post("/outreach/encounters/new", form).status_code == 302
    encounter = db.get(Encounter, uuid.UUID(form["id"]))
    assert encounter is not None and clock.as_utc(encounter.occurred_at) == stored
