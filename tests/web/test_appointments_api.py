"""The appointments API through HTTP, exactly as shared/ARCHITECTURE.md promises it:
public services and slots, staff booking answering 201, 409 or 422."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import func, select

from appointments import online
from appointments.models import Appointment, Location
from core import accounts, clock
from notifications.models import Message
from tests.db.appointments_world import NOW, THURSDAY, Agenda, at
from tests.web.booking_steps import book_json
from tests.web.test_request_cost import queries


@pytest.fixture(autouse=True)
def frozen() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


@pytest.fixture()
def agenda(db) -> Agenda:
    made = Agenda(db)
    # A place of the CPAS de Bruxelles (Marolles): the public API is per CPAS.
    made.location.team_id = accounts.get_team(db, "bxl-marolles").id
    db.commit()
    return made


def post(browser, body, *, token: str | None = None):
    return browser.client.post(
        "/api/appointments",
        json=body,
        headers={"X-CSRFToken": browser.token if token is None else token},
    )


def active_at(db, agenda: Agenda, start: datetime) -> int:
    return db.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.service_id == agenda.service.id,
            Appointment.start_at == start,
            Appointment.status == "booked",
        )
    )


# --- Public: services and slots -------------------------------------------------------------


def test_services_lists_codes_names_in_the_language_and_locations(client, agenda):
    response = client.get(
        "/api/appointments/services?cpas=bruxelles", headers={"Accept-Language": "nl"}
    )
    assert response.status_code == 200
    services = response.get_json()["services"]
    [mine] = [item for item in services if item["code"] == agenda.service.code]
    assert mine["name"] == "Sociale permanentie"
    assert mine["locations"] == [{"code": agenda.location.code, "name": agenda.location.name}]
    for item in services:
        assert {"code", "name", "locations"} <= set(item)
        assert all(set(location) == {"code", "name"} for location in item["locations"])
    french = client.get(
        "/api/appointments/services?cpas=bruxelles", headers={"Accept-Language": "fr"}
    )
    [mine] = [item for item in french.get_json()["services"] if item["code"] == agenda.service.code]
    assert mine["name"] == "Permanence sociale"


def test_the_public_lists_are_per_cpas_never_mixed(client, agenda, db):
    """With several CPAS, a `cpas` code or a postcode (or commune) is required, and only
    that CPAS's services and places come back (docs/appointments.md)."""
    services = "/api/appointments/services"
    for query, field, code in (
        ({}, "cpas", "required"),
        ({"cpas": "nope"}, "cpas", "unknown_choice"),
        ({"postcode": "9999"}, "postcode", "not_served"),
        ({"postcode": "Nulle-part"}, "postcode", "not_served"),
    ):
        refused = client.get(services, query_string=query, headers={"Accept-Language": "nl"})
        assert refused.status_code == 422, query
        assert refused.get_json()["errors"][field]["code"] == code
        assert refused.get_json()["errors"][field]["message"]

    def places(**query) -> dict[str, set[str]]:
        answer = client.get(services, query_string=query)
        assert answer.status_code == 200, query
        found: dict[str, set[str]] = {}
        for item in answer.get_json()["services"]:
            for location in item["locations"]:
                place = db.scalar(select(Location).where(Location.code == location["code"]))
                cpas = online.cpas_of_location(db, place)
                found.setdefault(cpas.code if cpas else "-", set()).add(location["code"])
        return found

    for query, expected in (
        ({"cpas": "bruxelles"}, "bruxelles"),
        ({"postcode": "1000"}, "bruxelles"),
        ({"postcode": "Brussel"}, "bruxelles"),
        ({"postcode": "1030"}, "schaerbeek"),
        ({"postcode": "Schaarbeek"}, "schaerbeek"),
        ({"cpas": "charleroi"}, "charleroi"),
        ({"postcode": "6000"}, "charleroi"),
        ({"cpas": "charleroi", "postcode": "1000"}, "charleroi"),  # the code wins
    ):
        found = places(**query)
        assert set(found) == {expected}, (query, found)
        assert (agenda.location.code in found[expected]) == (expected == "bruxelles")
    # Slots: another CPAS's place answers as an unknown one.
    slots = "/api/appointments/slots"
    query = {"service": agenda.service.code, "location": agenda.location.code}
    assert client.get(slots, query_string=query).get_json()["errors"]["cpas"]["code"] == (
        "required"
    )
    other = client.get(slots, query_string={**query, "cpas": "charleroi"})
    assert other.status_code == 422
    assert other.get_json()["errors"]["location"]["code"] == "unknown_choice"
    for where in ({"cpas": "bruxelles"}, {"postcode": "1000"}, {"postcode": "Brussel"}):
        assert client.get(slots, query_string={**query, **where}).status_code == 200


def test_slots_are_iso_with_the_brussels_offset_and_say_how_many_bookings_remain(
    client, agenda, db
):
    agenda.agents.append(agenda.new_agent())
    db.commit()
    response = client.get(
        "/api/appointments/slots",
        query_string={
            "cpas": "bruxelles",
            "service": agenda.service.code,
            "location": agenda.location.code,
            "from": THURSDAY.isoformat(),
            "days": 1,
        },
    )
    assert response.status_code == 200
    found = response.get_json()["slots"]
    assert [slot["start"] for slot in found][:3] == [
        "2026-12-03T09:00:00+01:00",
        "2026-12-03T09:30:00+01:00",
        "2026-12-03T10:00:00+01:00",
    ]
    assert found[0] == {
        "start": "2026-12-03T09:00:00+01:00",
        "end": "2026-12-03T09:30:00+01:00",
        "free": 2,
    }
    assert len(found) == 6


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"days": "0"}, "days", "out_of_range"),
        ({"days": "57"}, "days", "out_of_range"),
        ({"days": "many"}, "days", "not_a_number"),
        ({"from": "03/12/2026"}, "from", "invalid_date"),
        ({"service": "nope"}, "service", "unknown_choice"),
        ({"service": ""}, "service", "required"),
        ({"location": "nowhere"}, "location", "unknown_choice"),
    ],
)
def test_slot_search_errors_are_422_with_the_field_and_a_sentence(
    client, agenda, params, field, code
):
    query = {
        "cpas": "bruxelles",
        "service": agenda.service.code,
        "location": agenda.location.code,
        "from": THURSDAY.isoformat(),
        "days": "7",
        **params,
    }
    response = client.get("/api/appointments/slots", query_string=query)
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid"
    assert body["errors"][field]["code"] == code
    assert body["errors"][field]["message"]


def test_slot_search_takes_56_days_at_most(client, agenda):
    query = {
        "cpas": "bruxelles",
        "service": agenda.service.code,
        "location": agenda.location.code,
        "days": 56,
    }
    response = client.get("/api/appointments/slots", query_string=query)
    assert response.status_code == 200
    starts = [slot["start"] for slot in response.get_json()["slots"]]
    assert starts == sorted(starts)
    assert starts[0].startswith("2026-12-01T11:")  # from today, two hours' notice


# --- Staff: booking ----------------------------------------------------------------------------


def test_booking_needs_a_session_then_the_csrf_token_then_the_permission(
    client, browser, agenda, db
):
    anonymous = client.post("/api/appointments", json=book_json(agenda))
    assert anonymous.status_code == 401
    assert anonymous.get_json()["error"] == "unauthorized"

    browser.login("accueil")
    stale = post(browser, book_json(agenda), token="not-a-token")
    assert stale.status_code == 400
    assert stale.get_json()["error"] == "csrf"
    assert active_at(db, agenda, at(10)) == 0

    aide = type(browser)(browser.client.application.test_client())
    aide.login("aide1")
    assert post(aide, book_json(agenda)).status_code == 403
    assert active_at(db, agenda, at(10)) == 0


def test_booking_answers_201_then_409_with_the_next_slots(browser, agenda, db):
    browser.login("accueil")
    response = post(browser, book_json(agenda, at(10), language="nl"))
    assert response.status_code == 201, response.get_json()
    appointment = response.get_json()["appointment"]
    assert appointment["start"] == "2026-12-03T10:00:00+01:00"
    assert appointment["end"] == "2026-12-03T10:30:00+01:00"
    assert appointment["service"] == agenda.service.code
    assert appointment["location"] == agenda.location.code
    assert appointment["agent"] == {
        "id": agenda.agents[0].id,
        "name": agenda.agents[0].display_name,
    }
    assert appointment["status"] == "booked"
    assert appointment["source"] == "desk"
    stored = db.get(Appointment, appointment["id"])
    assert stored is not None and stored.created_by_id is not None

    taken = post(browser, book_json(agenda, at(10)))
    assert taken.status_code == 409
    body = taken.get_json()
    assert body["error"] == "slot_taken"
    assert body["message"]
    assert [slot["start"] for slot in body["next_slots"]] == [
        "2026-12-03T10:30:00+01:00",
        "2026-12-03T11:00:00+01:00",
        "2026-12-03T11:30:00+01:00",
    ]
    assert all(slot["free"] == 1 for slot in body["next_slots"])
    assert active_at(db, agenda, at(10)) == 1


def test_a_refused_booking_costs_five_statements_from_sign_in_to_answer(
    browser, agenda, connection
):
    """The common answer when many ask for one start (issue 20): the user with her login
    session, the service and the place (one statement), her scope, the booking's checks,
    the slot rule's load that also gives the next starts; nothing written."""
    browser.login("accueil")
    assert post(browser, book_json(agenda, at(10))).status_code == 201
    with queries(connection.engine) as statements:
        taken = post(browser, book_json(agenda, at(10)))
    assert taken.status_code == 409
    assert len(statements) == 5, "\n".join(statements)
    assert "FROM users" in statements[0]
    assert "FROM services" not in statements[1]  # both from one row, by outer joins
    assert "services.code" in statements[1] and "locations.code" in statements[1]
    assert "appointment_working_plans" in statements[-1]
    assert not [sql for sql in statements if sql.upper().startswith(("INSERT", "UPDATE"))]


def test_booking_accepts_a_brussels_time_without_offset(browser, agenda, db):
    browser.login("as1")
    body = book_json(agenda)
    body["start"] = "2026-12-03T11:00:00"
    response = post(browser, body)
    assert response.status_code == 201
    assert response.get_json()["appointment"]["start"] == "2026-12-03T11:00:00+01:00"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"start": "2026-12-03T10:10:00+01:00"}, "start", "not_a_slot"),
        ({"start": "2026-11-30T10:00:00+01:00"}, "start", "in_past"),
        ({"start": "tomorrow"}, "start", "invalid_datetime"),
        ({"start": None}, "start", "required"),
        ({"service": "nope"}, "service", "unknown_choice"),
        ({"location": "nowhere"}, "location", "unknown_choice"),
        ({"person": {"name": "A", "phone": "12"}}, "phone", "invalid_phone"),
        ({"person": {"name": "", "phone": "0470 12 34 56"}}, "name", "required"),
        ({"person": {"name": 5, "phone": "0470 12 34 56"}}, "name", "not_text"),
        ({"source": "fax"}, "source", "unknown_choice"),
    ],
)
def test_bad_bookings_are_422_with_field_errors_and_change_nothing(
    browser, agenda, db, change, field, code
):
    browser.login("accueil")
    before = db.scalar(select(func.count()).select_from(Appointment))
    response = post(browser, {**book_json(agenda), **change})
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["error"] == "invalid"
    assert body["errors"][field]["code"] == code
    assert body["errors"][field]["message"]
    assert db.scalar(select(func.count()).select_from(Appointment)) == before


def test_a_body_that_is_not_a_json_object_is_422(browser, agenda):
    browser.login("accueil")
    for data in (b"not json", b"[]"):
        response = browser.client.post(
            "/api/appointments",
            data=data,
            content_type="application/json",
            headers={"X-CSRFToken": browser.token},
        )
        assert response.status_code == 422
        assert response.get_json()["error"] == "invalid_body"


def test_the_openapi_description_has_the_three_endpoints(client):
    spec = client.get("/api/openapi.json").get_json()
    assert "get" in spec["paths"]["/api/appointments/services"]
    assert "get" in spec["paths"]["/api/appointments/slots"]
    booking = spec["paths"]["/api/appointments"]["post"]
    assert {"201", "409", "422"} <= set(booking["responses"])
    schemas = spec["components"]["schemas"]
    assert "next_slots" in schemas["AppointmentSlotTaken"]["properties"]
    assert set(schemas["AppointmentRequest"]["required"]) == {
        "service",
        "location",
        "start",
        "person",
    }


def _consent_recorded(db, appointment_id: int) -> bool:
    from core import audit

    entries = audit.search(db, audit.AuditFilter(entity_type="appointment", action="create"))
    [entry] = [e for e in entries.entries if str(e.entity_id) == str(appointment_id)]
    return entry.details["sms_consent"]


@pytest.mark.parametrize("value", [0, 1, "false", "true", None, [], {}])
def test_sms_consent_is_a_json_boolean_or_nothing_is_booked(browser, agenda, db, value):
    browser.login("accueil")  # French
    before = db.scalar(select(func.count()).select_from(Appointment))
    response = post(browser, {**book_json(agenda), "sms_consent": value})
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["error"] == "invalid"
    assert body["errors"]["sms_consent"]["code"] == "not_true_or_false"
    assert body["errors"]["sms_consent"]["message"] == "Indiquez true ou false."
    assert db.scalar(select(func.count()).select_from(Appointment)) == before


@pytest.mark.parametrize(("sent", "recorded"), [({"sms_consent": True}, True), ({}, False)])
def test_sms_consent_true_is_consent_and_absent_is_none(browser, agenda, db, sent, recorded):
    browser.login("accueil")
    response = post(browser, {**book_json(agenda), **sent})
    assert response.status_code == 201, response.get_json()
    assert _consent_recorded(db, response.get_json()["appointment"]["id"]) is recorded
    answer = post(browser, {**book_json(agenda, at(11)), "sms_consent": False})
    assert answer.status_code == 201
    assert _consent_recorded(db, answer.get_json()["appointment"]["id"]) is False


def test_staff_book_without_a_number_and_nothing_is_queued(browser, agenda, db):
    browser.login("accueil")
    body = book_json(agenda, at(10))
    del body["person"]["phone"]
    response = post(browser, body)
    assert response.status_code == 201, response.get_json()
    made = response.get_json()["appointment"]
    assert made["person"] == {"name": "Amina Test", "phone": None}
    subject = f"appointment:{made['id']}"
    assert db.scalar(select(func.count(Message.id)).where(Message.subject == subject)) == 0
