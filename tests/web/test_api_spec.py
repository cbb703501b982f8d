"""Every response of every /api endpoint matches /api/openapi.json: its status is one the
spec lists for that operation, and its JSON body validates against that status's schema
(OpenAPI 3.1 schemas are JSON Schema 2020-12; `$ref`s resolved in the spec itself)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jsonschema import Draft202012Validator

from core import accounts, clock, sync
from outreach.demo import demo_id
from tests.db.appointments_world import NOW, Agenda, at
from tests.db.encounter_ops import CREATE, encounter_data, op
from tests.web.booking_steps import book_json
from tests.web.openapi_spec import Spec


@pytest.fixture(autouse=True)
def frozen() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


@pytest.fixture()
def spec(client) -> Spec:
    response = client.get("/api/openapi.json")
    found = Spec(response.get_json())
    found.check(response, "/api/openapi.json", "get")
    return found


@pytest.fixture()
def agenda(db) -> Agenda:
    made = Agenda(db)
    # A place of the CPAS de Bruxelles (Marolles): the public API is per CPAS.
    made.location.team_id = accounts.get_team(db, "bxl-marolles").id
    db.commit()
    return made


def test_every_api_route_and_method_is_in_the_spec(app, spec):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in spec.document["paths"].get(rule.rule, {}), (rule, method)


def test_the_spec_validates_as_json_schema(spec):
    for name, schema in spec.document["components"]["schemas"].items():
        Draft202012Validator.check_schema({"$comment": name, **schema})


def test_me(client, login, spec):
    spec.check(client.get("/api/me"), "/api/me", "get")
    for username in ("admin", "coordination", "as1", "accueil", "aide1", "rue1"):
        spec.check(login(username).client.get("/api/me"), "/api/me", "get")
    assert spec.statuses("/api/me", "get") == {"200", "401"}


def test_sync_pull_and_push(client, login, spec, monkeypatch):
    import web.sync

    path = "/api/sync"
    spec.check(client.get(path), path, "get")
    spec.check(client.post(path, json={"ops": []}), path, "post")
    for username in ("admin", "as1", "aide1", "rue1"):
        browser = login(username)
        pulled = browser.client.get(path)
        spec.check(pulled, path, "get")
        again = browser.client.get(path, query_string={"since": pulled.get_json()["token"]})
        spec.check(again, path, "get")

        def push(body, token=None, browser=browser, **kwargs):
            headers = {"X-CSRFToken": browser.token if token is None else token}
            return browser.client.post(path, json=body, headers=headers, **kwargs)

        new = op(CREATE, encounter_data())
        conflicting = op(
            "outreach.place.update",
            {"id": str(demo_id("liedts")), "name": "Place Liedts"},
            base_version=0,
        )
        batch = [
            new,
            new,  # duplicate
            op(CREATE, encounter_data(note="x" * 3000)),  # rejected with field errors
            conflicting,
            {"id": "nope", "type": "nope", "data": []},  # a broken envelope
            "not an op",
        ]
        spec.check(push({"ops": batch}), path, "post")
        spec.check(push({"ops": []}, token="stale"), path, "post")  # 400 csrf
        spec.check(push({"ops": "nope"}), path, "post")  # 422 invalid_body
        spec.check(push({"ops": [new] * (sync.MAX_OPS_PER_BATCH + 1)}), path, "post")  # 422
        huge = {"ops": [], "padding": "y" * (sync.MAX_BATCH_BYTES + 1)}
        spec.check(push(huge), path, "post")  # 413
        deep = browser.client.post(
            path,
            data=b"[" * 100_000,
            content_type="application/json",
            headers={"X-CSRFToken": browser.token},
        )
        assert deep.get_json()["error"] == "too_deep"
        spec.check(deep, path, "post")  # 400 too_deep
    monkeypatch.setattr(web.sync, "REQUESTS_PER_MINUTE", 1)
    limited = login("rue2")
    limited.client.get(path)
    spec.check(limited.client.get(path), path, "get")  # 429
    posted = limited.client.post(path, json={"ops": []}, headers={"X-CSRFToken": limited.token})
    spec.check(posted, path, "post")  # 429
    assert spec.statuses(path, "get") == {"200", "401", "429"}
    assert spec.statuses(path, "post") == {"200", "400", "401", "413", "422", "429"}


def test_public_appointment_services_and_slots(client, agenda, login, spec, monkeypatch):
    from appointments import online

    services, slots = "/api/appointments/services", "/api/appointments/slots"
    for language in ("fr", "nl", "en"):
        for query in ({"cpas": "bruxelles"}, {"postcode": "6000"}, {}, {"cpas": "x"}):
            answer = client.get(services, query_string=query, headers={"Accept-Language": language})
            spec.check(answer, services, "get")
    spec.check(login("accueil").client.get(services + "?cpas=bruxelles"), services, "get")
    assert spec.statuses(services, "get") == {"200", "422"}
    good = {
        "cpas": "bruxelles",
        "service": agenda.service.code,
        "location": agenda.location.code,
        "days": 7,
    }
    spec.check(client.get(slots, query_string=good), slots, "get")
    for bad in ({}, {"days": "0"}, {"days": "x"}, {"from": "31/12"}, {"service": "nope"}):
        spec.check(client.get(slots, query_string={**good, **bad}), slots, "get")
    spec.check(client.get(slots), slots, "get")
    monkeypatch.setattr(online, "SEARCHES_PER_MINUTE", 1)
    client.get(slots, query_string=good)
    spec.check(client.get(slots, query_string=good), slots, "get")  # 429
    assert spec.statuses(slots, "get") == {"200", "422", "429"}


def test_staff_booking(client, agenda, login, spec):
    path = "/api/appointments"
    spec.check(client.post(path, json=book_json(agenda)), path, "post")  # 401
    for username in ("aide1", "rue1"):
        refused = login(username)
        answer = refused.client.post(
            path, json=book_json(agenda), headers={"X-CSRFToken": refused.token}
        )
        spec.check(answer, path, "post")  # 403
    for username, hour in (("admin", 9), ("accueil", 10), ("as1", 11), ("coordination", 12)):
        browser = login(username)

        def book(body=None, token=None, browser=browser, **kwargs):
            headers = {"X-CSRFToken": browser.token if token is None else token}
            if body is not None:
                kwargs["json"] = body
            return browser.client.post(path, headers=headers, **kwargs)

        wanted = book_json(agenda, at(hour), language="nl")
        spec.check(book(wanted), path, "post")  # 201, or 422 when the role's rules refuse
        spec.check(book(wanted), path, "post")  # 409 (or 422)
        spec.check(book(wanted, token="stale"), path, "post")  # 400
        for bad in (
            {"start": "tomorrow"},
            {"service": "nope", "sms_consent": "yes"},
            {"person": {"name": 5, "phone": []}, "agent_id": "x", "source": "fax"},
        ):
            spec.check(book({**wanted, **bad}), path, "post")  # 422 field errors
        for raw in (b"not json", b"[]", b"{"):
            answer = book(data=raw, content_type="application/json")
            spec.check(answer, path, "post")  # 422 invalid_body
        surrogate = b'{"service": "x", "person": {"name": "\\ud800", "phone": "1"}}'
        spec.check(book(data=surrogate, content_type="application/json"), path, "post")  # 422
        deep = b"[" * 100_000
        answer = book(data=deep, content_type="application/json")
        assert answer.get_json()["error"] == "too_deep"
        spec.check(answer, path, "post")  # 400 too_deep
        answer = book(data=b"x" * (3 * 1024 * 1024), content_type="application/json")
        spec.check(answer, path, "post")  # 413
    assert spec.statuses(path, "post") == {"201", "409", "422", "400", "401", "403", "413"}


def test_a_batch_carries_the_phones_clock_and_a_report_far_off_is_flagged(login, spec):
    """`client_time` (docs/sync.md): the server measures the phone's offset; the demo's
    example report, sent by a phone 2 hours ahead, is applied and flagged."""
    from datetime import timedelta

    from homecare import sync as homecare_sync

    path = "/api/sync"
    browser = login("aide1")
    today = clock.to_local(clock.now()).date()
    data = sync.render_example(homecare_sync.EXAMPLE_REPORT, today)
    ahead = (clock.now() + timedelta(hours=2)).isoformat()
    answer = browser.client.post(
        path,
        json={"client_time": ahead, "ops": [op("homecare.visit.report", data)]},
        headers={"X-CSRFToken": browser.token},
    )
    spec.check(answer, path, "post")
    (result,) = answer.get_json()["results"]
    assert result["status"] == "applied", result
    assert result["record"]["clock_offset_s"] == 7200
    assert result["record"]["time_flag"] == "clock_offset"
    assert result["record"]["verified"] is False
