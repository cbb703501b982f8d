"""The Sync API and the outreach pages through HTTP, as a phone or a script uses them."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import accounts, audit, clock, sync
from homecare.models import Visit
from outreach.demo import demo_id
from outreach.models import Encounter
from tests.db.encounter_ops import CREATE, UPDATE, encounter_data, op
from tests.support import staff_member
from tests.web.sync_client import post_ops


def encounters_with(db, encounter_id: str) -> int:
    return db.scalar(
        select(func.count()).select_from(Encounter).where(Encounter.id == uuid.UUID(encounter_id))
    )


def test_push_needs_a_session_and_the_csrf_token(client, browser):
    anonymous = client.post("/api/sync", json={"ops": []})
    assert anonymous.status_code == 401
    assert anonymous.get_json()["error"] == "unauthorized"
    browser.login("rue1")
    stale = browser.client.post("/api/sync", json={"ops": []}, headers={"X-CSRFToken": "x"})
    assert stale.status_code == 400
    assert stale.get_json()["error"] == "csrf"
    fresh = browser.client.get("/api/me").get_json()["csrf_token"]
    assert browser.client.post(
        "/api/sync", json={"ops": []}, headers={"X-CSRFToken": fresh}
    ).get_json() == {"results": []}


def test_push_applies_and_answers_in_order_with_messages_in_the_users_language(browser, db):
    browser.login("rue2")  # Dutch
    good = op(CREATE, encounter_data())
    bad = op(CREATE, encounter_data(note="x" * 3000))
    response = post_ops(browser, [good, bad, good])
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [result["status"] for result in results] == ["applied", "rejected", "duplicate"]
    assert [result["id"] for result in results] == [good["id"], bad["id"], good["id"]]
    note_error = results[1]["errors"]["note"]
    assert note_error["code"] == "too_long"
    assert "2000" in note_error["message"]
    assert note_error["message"] != "Too long: at most 2000 characters."  # translated
    assert encounters_with(db, good["data"]["id"]) == 1


def test_limits_answer_clearly_and_change_nothing(browser, db):
    browser.login("rue1")
    too_many = [op(CREATE, encounter_data()) for _ in range(sync.MAX_OPS_PER_BATCH + 1)]
    response = post_ops(browser, too_many)
    assert response.status_code == 422
    assert response.get_json()["error"] == "too_many_ops"
    assert response.get_json()["max_ops"] == sync.MAX_OPS_PER_BATCH
    assert encounters_with(db, too_many[0]["data"]["id"]) == 0

    huge = [op(CREATE, encounter_data(note="x" * 2000)) for _ in range(sync.MAX_OPS_PER_BATCH)]
    huge[0]["data"]["padding"] = "y" * sync.MAX_BATCH_BYTES
    response = post_ops(browser, huge)
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"

    for body in (b"not json", b'{"ops": "nope"}', b"[]"):
        response = browser.client.post(
            "/api/sync",
            data=body,
            content_type="application/json",
            headers={"X-CSRFToken": browser.token},
        )
        assert response.status_code == 422
        assert response.get_json()["error"] == "invalid_body"


def test_a_runaway_phone_is_slowed_down(browser):
    from web.sync import REQUESTS_PER_MINUTE

    browser.login("rue1")
    for _ in range(REQUESTS_PER_MINUTE):
        assert browser.client.get("/api/sync").status_code == 200
    response = browser.client.get("/api/sync")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    with clock.frozen(clock.now() + timedelta(minutes=1, seconds=1)):
        assert browser.client.get("/api/sync").status_code == 200


def test_pull_gives_the_teams_records_then_changes_and_is_audited(browser, db):
    browser.login("rue1")
    first = browser.client.get("/api/sync").get_json()
    assert first["reset"] is True
    ids = {change["id"] for change in first["changes"]}
    assert str(demo_id("e1")) in ids and str(demo_id("momo")) in ids
    later = browser.client.get("/api/sync", query_string={"since": first["token"]}).get_json()
    assert later == {"token": first["token"], "reset": False, "more": False, "changes": []}
    reads = audit.search(db, audit.AuditFilter(entity_type="sync_feed", action="read")).entries
    assert reads and reads[0].details["counts"]["outreach.encounter"] >= 4


def test_an_aide_downloads_no_street_records_only_her_own_visits(browser, db):
    browser.login("aide1")
    changes = browser.client.get("/api/sync").get_json()["changes"]
    assert {change["type"] for change in changes} <= {
        "homecare.visit",
        "homecare.household",
        "homecare.offer",  # the demo's open visit is offered to her
    }
    aide = accounts.find_user(db, "aide1")
    for change in changes:
        if change["type"] == "homecare.visit":
            visit = db.get(Visit, uuid.UUID(change["id"]))
            assert visit is not None and visit.aide_id == aide.id


def test_every_openapi_example_applies_as_it_is_to_the_demo_data(browser, db):
    spec = browser.client.get("/api/openapi.json").get_json()
    post = spec["paths"]["/api/sync"]["post"]
    examples = post["requestBody"]["content"]["application/json"]["examples"]
    assert set(examples) == {op_type.name for op_type in sync.op_types()}
    for name, op_type in ((op_type.name, op_type) for op_type in sync.op_types()):
        schema = spec["components"]["schemas"]["Op_" + name.replace(".", "_")]
        assert schema["properties"]["data"] == op_type.data_schema
    # As rue2 (aide1 for home care, mobile1 for rounds), who changed none of the demo records: a
    # base_version that is not the seeded record's version would be a conflict.
    browser.login("rue2")
    by_aide = [name for name in examples if name.startswith("homecare.")]
    by_crew = [name for name in examples if name.startswith("rounds.")]
    for name, example in [(n, e) for n, e in examples.items() if n not in by_aide + by_crew]:
        ops = example["value"]["ops"]
        ops[0]["id"] = str(uuid.uuid4())  # "<a new UUID>"
        result = post_ops(browser, ops).get_json()["results"][0]
        assert result["status"] == "applied", (name, result)
        assert "superseded" not in result, name
    browser.post("/logout")
    browser.login("aide1")
    for name in by_aide:
        ops = examples[name]["value"]["ops"]
        ops[0]["id"] = str(uuid.uuid4())
        result = post_ops(browser, ops).get_json()["results"][0]
        assert result["status"] == "applied", (name, result)
    browser.post("/logout")
    browser.login("mobile1")  # the mobile team's crew, for the rounds
    for name in by_crew:
        ops = examples[name]["value"]["ops"]
        ops[0]["id"] = str(uuid.uuid4())
        result = post_ops(browser, ops).get_json()["results"][0]
        assert result["status"] == "applied", (name, result)


def test_the_spec_is_a_constant_that_reads_nothing_stored(browser, client):
    """Public: it must not change (nor tell anything) when the teams' records change."""
    with clock.frozen(clock.now()):
        before = client.get("/api/openapi.json").get_data()
        browser.login("rue1")
        secret = "Note secrète SENTINEL-0a1b"
        new = encounter_data(note=secret, place_name="Lieu secret SENTINEL-0a1b")
        new["place_id"] = str(uuid.uuid4())
        changed = {**encounter_data(note=secret), "id": str(demo_id("e4"))}
        changed["person_id"] = str(demo_id("piet"))
        results = post_ops(browser, [op(CREATE, new), op(UPDATE, changed)]).get_json()
        assert [result["status"] for result in results["results"]] == ["applied", "applied"]
        after = client.get("/api/openapi.json").get_data()
    assert after == before
    assert b"SENTINEL" not in after


def test_the_encounter_form_without_javascript_applies_once(browser, db):
    browser.login("rue1")
    page = browser.get("/outreach/encounters/new")
    assert page.status_code == 200
    assert page.headers["X-Terrain-Offline"] == "page"
    html = page.get_data(as_text=True)
    assert 'data-offline-op="outreach.encounter.create"' in html
    data = encounter_data(place_id=str(demo_id("liedts")))
    form = {
        **{key: value for key, value in data.items() if key not in ("needs", "given")},
        "needs": data["needs"],
        "given": data["given"],
        "op_id": str(uuid.uuid4()),
    }
    first = browser.post("/outreach/encounters/new", form)
    second = browser.post("/outreach/encounters/new", form)  # a double tap
    assert first.status_code == second.status_code == 302
    assert encounters_with(db, data["id"]) == 1
    listing = browser.get("/outreach/").get_data(as_text=True)
    assert "Le guitariste" in listing


def test_bad_form_input_keeps_everything_typed_and_says_what_is_wrong(browser, db):
    browser.login("rue1")
    data = encounter_data(
        occurred_at=(clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        place_id=str(uuid.uuid4()),
        place_name="Parvis de Saint-Gilles",
        latitude="95",
        longitude="4.34",
        note="Il cherche un abri pour ce soir",
    )
    response = browser.post("/outreach/encounters/new", {**data, "op_id": str(uuid.uuid4())})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Parvis de Saint-Gilles" in html and "Il cherche un abri pour ce soir" in html
    assert "futur" in html  # "in the future", in French
    assert 'aria-invalid="true"' in html
    assert encounters_with(db, data["id"]) == 0


def test_editing_after_somebody_else_shows_their_version(browser, db, app):
    record_id = str(demo_id("e3"))
    browser.login("rue1")
    html = browser.get(f"/outreach/encounters/{record_id}/edit").get_data(as_text=True)
    assert 'name="base_version" value="1"' in html
    other = app.test_client()
    from tests.conftest import Browser

    lotte = Browser(other)
    lotte.login("rue2")
    lotte.get(f"/outreach/encounters/{record_id}/edit")
    encounter = db.get(Encounter, uuid.UUID(record_id))
    state = {
        "id": record_id,
        "person_id": str(encounter.person_id),
        "place_id": str(encounter.place_id),
        "occurred_at": clock.to_local(encounter.occurred_at).strftime("%Y-%m-%dT%H:%M"),
        "contact_type": encounter.contact_type,
        "needs": list(encounter.needs),
        "base_version": "1",
    }
    mine = browser.post(
        f"/outreach/encounters/{record_id}/edit",
        {**state, "note": "version de Karim", "op_id": str(uuid.uuid4())},
    )
    assert mine.status_code == 302
    theirs = lotte.post(
        f"/outreach/encounters/{record_id}/edit",
        {**state, "note": "versie van Lotte", "op_id": str(uuid.uuid4())},
    )
    assert theirs.status_code == 409
    html = theirs.get_data(as_text=True)
    assert "version de Karim" in html and "versie van Lotte" in html
    assert db.get(Encounter, uuid.UUID(record_id), populate_existing=True).note == (
        "version de Karim"
    )


def test_the_outbox_page_is_kept_for_offline_use(browser):
    browser.login("rue1")
    response = browser.get("/sync")
    assert response.status_code == 200
    assert response.headers["X-Terrain-Offline"] == "page"
    assert "data-sync-now" in response.get_data(as_text=True)


def test_an_op_example_is_plain_data_never_a_function_of_the_database():
    existing = sync.get_op_type(CREATE)
    with pytest.raises(TypeError):
        sync.OpType(**{**existing.__dict__, "example": lambda _session: {}})
    with pytest.raises(TypeError):
        sync.OpType(**{**existing.__dict__, "example_base_version": lambda _session: 1})


def test_another_teams_id_is_answered_exactly_as_an_unknown_one(browser, db):
    """Changing another team's encounter, place or maraude tells nothing of it: the answer
    is the one a random id gets (ids differ only by the op's own id)."""
    from core.roles import Role

    stranger = staff_member(
        db, "rue-charleroi", Role.STREET_EDUCATOR, "clr-mobile", "Rue Charleroi"
    )
    theirs = encounter_data(place_name="Gare de Charleroi-Central", latitude=50.40, longitude=4.43)
    theirs["place_id"] = str(uuid.uuid4())
    maraude = {"id": str(uuid.uuid4()), "started_at": theirs["occurred_at"]}
    made = sync.apply_batch(
        db, stranger, [op(CREATE, theirs), op("outreach.maraude.start", maraude)]
    )
    assert [answer["status"] for answer in made] == ["applied", "applied"]

    def probes(encounter_id, place_id, maraude_id):
        encounter = encounter_data(id=encounter_id, person_id=str(demo_id("momo")))
        ended = clock.to_local(clock.now()).isoformat()
        return [
            op(UPDATE, encounter, base_version=1),
            op(UPDATE, encounter, base_version=7),
            op("outreach.place.update", {"id": place_id, "name": "Quai"}),
            op("outreach.place.update", {"id": place_id, "name": "Quai"}, base_version=1),
            op("outreach.maraude.end", {"id": maraude_id, "ended_at": ended}),
            op("outreach.maraude.end", {"id": maraude_id, "ended_at": ended}, base_version=1),
            op("outreach.maraude.start", {"id": maraude_id, "started_at": ended}, 1),
        ]

    browser.login("rue1")
    their_ids = (theirs["id"], theirs["place_id"], maraude["id"])
    unknown_ids = (str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()))
    answers = {}
    for ids in (their_ids, unknown_ids):
        results = post_ops(browser, probes(*ids)).get_json()["results"]
        answers[ids] = [(result["status"], result.get("errors")) for result in results]
    assert answers[their_ids] == answers[unknown_ids]
    assert {status for status, _errors in answers[their_ids]} == {"rejected"}
    assert "id_already_used" not in str(answers[their_ids])
    assert encounters_with(db, unknown_ids[0]) == 0
