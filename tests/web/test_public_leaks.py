"""Nothing stored reaches a public response unless it is meant for the public.

A sentinel is written into every String/Text column of every table (found from the
models, so a column added later is covered at once), except codes and keys (not text
anybody types) and the fields that are public by design. Then every public page (walked
from `app.url_map`, every view marked `@public`), the public API, /api/openapi.json, the
error pages and the API's answers to anonymous callers are read: none may contain it.
(`/r/<token>` with a person's real token is that person's own page, not a public one;
with any other token it is a 404, read here.)
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import String, Text
from werkzeug.routing import Rule

from appointments import online
from appointments.online import start_value
from core import accounts, clock
from core.db import Base
from tests.db.appointments_world import NOW, Agenda, at, mobile
from tests.web.booking_steps import choose, details, last_code, times_url
from web.domains import install
from web.permissions import PUBLIC, decision

SENTINEL = "SENTINEL-7f3a"

# Public by design: what the booking pages and the public appointments API show to
# anybody, so a person can choose a service and find the place.
PUBLIC_BY_DESIGN = {
    ("appointment_services", "name_fr"),
    ("appointment_services", "name_nl"),
    ("appointment_services", "name_en"),
    ("appointment_services", "bring_fr"),  # what to bring, on the confirmation
    ("appointment_services", "bring_nl"),
    ("appointment_services", "bring_en"),
    ("appointment_locations", "name"),
    ("appointment_locations", "address"),
    ("appointment_locations", "postcode"),
    ("appointment_locations", "city"),
    ("appointment_locations", "phone"),  # "call your antenne"
    ("appointment_locations", "name_nl"),  # the same, on Dutch pages
    ("appointment_locations", "address_nl"),
    ("appointment_locations", "city_nl"),
    # The CPAS's name, SMS sender and public contact details: on its SMS and public pages.
    ("cpas", "name_fr"),
    ("cpas", "name_nl"),
    ("cpas", "sms_sender"),
    ("cpas", "phone"),
    ("cpas", "email"),
    ("cpas", "address"),
    # A minibus stop's public page and poster (rounds/public.py): where it stops.
    ("rounds_stops", "name"),
    ("rounds_stops", "address"),
    ("rounds_stops", "city"),
    # Not public: cpas_holidays.name_fr / name_nl (the staff's calendar) keep the sentinel.
}
# Codes, states, keys and hashes: set by the application from fixed lists or made by it,
# never free text; several are unique or checked, so a sentinel would not even fit.
NOT_TEXT = {
    "homecare_aide_profiles": {"transport_mode"},
    "cpas": {"code", "language_regime", "region", "homecare_funder"},
    "cpas_holidays": {"kind"},
    "cpas_postcodes": {"postcode"},  # four digits, checked (public on the booking's step 0)
    "homecare_beneficiaries": {"postcode", "location_source", "language", "contribution_category"},
    "homecare_qualifications": {"skill"},
    "homecare_care_plans": {"service", "holiday_rule"},
    "homecare_suspensions": {"reason"},
    "homecare_visits": {"status", "cancel_reason", "unassigned_reason", "validation"},
    "homecare_quotas": {"service", "funder"},
    "homecare_planning_runs": {"kind", "status"},
    "homecare_proof_rules": {"service", "mode"},
    "homecare_visit_reports": {
        "outcome",
        "proof",
        "unverified_reason",
        "aide_reason",
        "review",
        "time_flag",
        "variance_reason",
        "proof_code",  # a card's code as typed, kept as letters and digits only
    },
    "homecare_proof_cards": {"code"},  # 6 characters drawn by the application
    "homecare_visit_offers": {"status"},  # open, taken, withdrawn
    "homecare_timesheets": {"period", "lines_hash", "method"},  # week/month, a hex digest
    "appointment_locations": {"code", "kind"},
    "appointment_people": {"language"},
    "appointment_phone_checks": {"phone_hash", "code_hash", "purpose"},
    "appointment_services": {"code", "booking_mode"},
    "appointment_waiting_list": {"status"},
    "appointments": {"status", "source", "manage_token_hash", "cancelled_by"},
    "audit_entries": {"actor_role", "action", "entity_type", "entity_id"},
    "login_sessions": {"token_hash", "end_reason"},
    "notification_consent_events": {"channel", "category", "method"},
    "notification_consents": {"channel", "category", "method"},
    "notification_contacts": {"language", "reference"},
    "notification_phones": {"e164", "state", "state_reason"},
    "outreach_consents": {"method"},
    "outreach_encounters": {"contact_type", "ethos"},
    "outreach_identities": {"niss"},  # 11 digits, checked
    "outreach_partners": {"kind"},
    "outreach_people": {"age_band", "gender", "language"},
    "outreach_referrals": {"service_code", "need", "status"},
    "rounds_meal_orders": {"postcode", "diet", "unplaced"},
    "rounds_permanences": {"topic"},
    "rounds_rides": {"unplaced"},
    # A dated round's name and cancel reason, a stop's reason keep the sentinel (staff
    # text); the kind, states and the stop's topic and outcome are codes.
    "rounds_rounds": {"kind", "status", "cancel_kind"},
    "rounds_round_stops": {"kind", "status", "topic", "outcome"},
    "rounds_stop_subscriptions": {"language"},
    # Codes of the crew's reports and of the notices (an incident's words keep the sentinel)
    "rounds_stop_reports": {"outcome"},
    "rounds_stop_notices": {"kind"},
    "rounds_templates": {"kind"},
    # The slug is made from the name by the application (unique: no sentinel fits).
    "rounds_stops": {"postcode", "public_slug"},
    "rounds_vehicles": {"kind"},
    # A weekly meal order's household, address and instructions keep the sentinel; the
    # postcode, diet and its weekday codes ("0,2,4") are codes.
    "rounds_weekly_meal_orders": {"postcode", "diet", "weekdays"},
    "sms_broadcasts": {"category", "audience", "status"},
    "sms_category_settings": {"category"},
    "sms_inbound": {"provider_id", "from_e164", "outcome"},
    "sms_message_events": {"status", "source", "error_code"},
    "sms_message_counts": {"category", "status"},  # codes, kept by triggers (0046)
    # Codes, kept by triggers (0055): the month, category, state, error code.
    "sms_month_figures": {"category", "status", "error_code"},
    "sms_messages": {
        "key",
        "to",
        "language",
        "category",
        "encoding",
        "subject",
        "status",
        "claimed_by",
        "gateway",
        "provider_id",
        "error_code",
    },
    "sms_templates": {"code", "language"},
    "sync_counters": {"scope"},
    "sync_operations": {"op_type", "record_id", "status"},
    "teams": {"code", "kind", "postcode"},
    "throttle_entries": {"key"},
    "users": {"username", "password_hash", "role", "language"},
}


def free_text_columns() -> dict[str, list[str]]:
    """Table → its String/Text columns that get the sentinel."""
    install()  # every domain's tables, synced or not (home care has no op yet)
    found: dict[str, list[str]] = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, String | Text):
                continue
            if column.name in NOT_TEXT.get(table.name, set()):
                continue
            if (table.name, column.name) in PUBLIC_BY_DESIGN:
                continue
            found.setdefault(table.name, []).append(column.name)
    return found


@pytest.fixture(autouse=True)
def frozen() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


@pytest.fixture()
def agenda(db) -> Agenda:
    made = Agenda(db)
    made.location.postcode, made.location.city = "1000", "Bruxelles"
    # A place of the CPAS de Bruxelles (its team is Marolles): the booking is per CPAS.
    team = accounts.get_team(db, "bxl-marolles")
    assert team is not None
    made.location.team_id = team.id
    db.commit()
    return made


def write_sentinel(db) -> None:
    for table in Base.metadata.sorted_tables:
        columns = free_text_columns().get(table.name)
        if columns:
            for name in columns:
                length = getattr(table.c[name].type, "length", None)
                assert length is None or length >= len(SENTINEL), (
                    f"{table.name}.{name} is too short for free text: list it in NOT_TEXT"
                )
            db.execute(table.update().values(dict.fromkeys(columns, SENTINEL)))
    db.commit()


def test_the_sentinel_reaches_the_records_it_should(db, agenda):
    columns = free_text_columns()
    assert "note" in columns["outreach_encounters"]
    assert {"name", "notes"} <= set(columns["outreach_places"])
    assert "display_name" in columns["users"]
    assert "name" in columns["appointment_people"]
    assert "body" in columns["sms_templates"]
    for table, names in NOT_TEXT.items():  # no stale entry hides a renamed column
        assert set(names) <= set(Base.metadata.tables[table].c.keys()), table
    for table, name in PUBLIC_BY_DESIGN:
        assert name in Base.metadata.tables[table].c, (table, name)


class Reader:
    """Reads public responses; remembers each one to check them all at the end."""

    def __init__(self, client):
        self.client = client
        self.read: list[tuple[str, int, str]] = []

    def _keep(self, what: str, response) -> None:
        assert response.status_code < 500, (what, response.get_data(as_text=True)[:500])
        self.read.append((what, response.status_code, response.get_data(as_text=True)))

    def get(self, path: str, **kwargs):
        response = self.client.get(path, **kwargs)
        self._keep(f"GET {path}", response)
        return response

    def post(self, path: str, **kwargs):
        response = self.client.post(path, **kwargs)
        self._keep(f"POST {path}", response)
        return response

    def token(self) -> str:
        page = self.client.get("/login").get_data(as_text=True)
        return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def leaks(self) -> list[str]:
        return [f"{what} → {status}" for what, status, body in self.read if SENTINEL in body]


def public_rules(app) -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and decision(app, rule.endpoint) == PUBLIC
    ]


def fill(rule: Rule, values: dict[str, str]) -> str:
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", values[name], path)
    return path


def walk_public_routes(app, reader: Reader, values: dict[str, str]) -> set[str]:
    walked = set()
    for rule in public_rules(app):
        path = fill(rule, values)
        walked.add(rule.endpoint)
        if "GET" in rule.methods:
            reader.get(path)
            reader.get(path, follow_redirects=True)
            reader.get(path, headers={"Accept-Language": "nl"})
        if "POST" in rule.methods:
            reader.post(path, data={})  # no CSRF token: 400 (or 403 for webhooks)
            reader.post(path, data={"csrf_token": reader.token()}, follow_redirects=True)
            reader.post(path, json={"ops": []})
    return walked


def test_no_stored_text_reaches_a_public_response(app, db, agenda, monkeypatch):
    # A person books online first (before the sentinel, since the SMS code is read from
    # the outbox): their done page, /r/ link and session are then read with it in place.
    booker = Reader(app.test_client())
    booker.client.set_cookie("terrain_lang", "en")

    class Steps:
        client = booker.client
        token = booker.token()

        def get(self, path, **kwargs):
            return booker.get(path, **kwargs)

        def post(self, path, data=None, **kwargs):
            return booker.post(path, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    steps = Steps()
    assert choose(steps, agenda).status_code == 302
    assert details(steps, mobile(), name="Amina Test").status_code == 302
    assert steps.post("/rendez-vous/code", {"code": last_code(db)}).status_code == 302

    write_sentinel(db)
    booker.read.clear()
    done = booker.get("/rendez-vous/done")
    assert done.status_code == 200 and "Antenne Test" in done.get_data(as_text=True)

    anonymous = Reader(app.test_client())
    values = {
        "service_code": agenda.service.code,
        "location_code": agenda.location.code,
        "token": secrets.token_urlsafe(24),
        "slug": "charleroi-place-de-la-digue",  # a demo minibus stop (rounds/demo.py)
    }
    walked = walk_public_routes(app, anonymous, values)
    assert {"auth.login", "pwa.offline", "appointments_booking.services"} <= walked
    assert {"rounds_public.page", "rounds_public.poster", "rounds_public.subscribe"} <= walked
    # Every service and place offered (the demo's too): their pages and free times.
    offered = [
        service
        for cpas in ("bruxelles", "schaerbeek", "charleroi")
        for service in anonymous.get(f"/api/appointments/services?cpas={cpas}").get_json()[
            "services"
        ]
    ]
    assert len(offered) > 1
    anonymous.get("/api/appointments/services")  # no CPAS named: 422, names nobody
    # The postcode step, each CPAS's entry, then every service from each CPAS.
    for where in ("1030", "6000", "Schaerbeek", "9999", "", "x" * 200):
        anonymous.get("/rendez-vous", query_string={"where": where})
    for cpas in ("bruxelles", "schaerbeek", "charleroi"):
        assert anonymous.get(f"/rendez-vous/{cpas}").status_code == 200
        for service in offered:
            anonymous.get(f"/rendez-vous/{service['code']}")
            for location in service["locations"]:
                anonymous.get(f"/rendez-vous/{service['code']}/{location['code']}")
    for service in offered:
        for location in service["locations"]:
            query = {
                "postcode": "1000",
                "service": service["code"],
                "location": location["code"],
                "days": 14,
            }
            anonymous.get("/api/appointments/slots", query_string=query)
    assert 200 in {status for what, status, _ in anonymous.read if "/slots" in what}

    # The booking steps with a real choice, then wrong answers at each step.
    person = Reader(app.test_client())
    token = person.token()
    for path in (
        "/rendez-vous",
        "/rendez-vous/bruxelles",
        f"/rendez-vous/{agenda.service.code}",
        times_url(agenda),
    ):
        assert person.get(path).status_code == 200
    chosen = {"csrf_token": token, "start": start_value(at(11))}
    person.post(times_url(agenda), data=chosen, follow_redirects=True)
    person.post(f"/rendez-vous/{agenda.service.code}/nearest", data={"csrf_token": token})
    person.post(
        f"/rendez-vous/{agenda.service.code}/nearest",
        data={"csrf_token": token, "postcode": "1000"},
    )
    person.post("/rendez-vous/details", data={"csrf_token": token, "name": ""})
    person.post(
        "/rendez-vous/details",
        data={"csrf_token": token, "name": "Jo", "phone": mobile(), "sms_language": "fr"},
        follow_redirects=True,
    )
    person.post("/rendez-vous/code", data={"csrf_token": token, "code": "000000"})
    person.post("/rendez-vous/code/new", data={"csrf_token": token}, follow_redirects=True)
    person.post(f"{times_url(agenda)}/waiting", data={"csrf_token": token}, follow_redirects=True)
    person.post("/login", data={"csrf_token": token, "username": "rue1", "password": "no"})
    person.post("/login", data={"csrf_token": token, "username": "admin", "password": "x"})

    # Error pages and API errors, anonymous.
    errors = Reader(app.test_client())
    for path in ("/nope", "/api/nope", "/outreach/", "/api/me", "/api/sync", "/r/x"):
        errors.get(path)
    errors.get("/outreach/", follow_redirects=True)
    errors.post("/api/sync", json={"ops": []})
    errors.post("/api/appointments", json={"service": "x"})
    errors._keep("PUT services", errors.client.put("/api/appointments/services"))
    errors._keep("DELETE /login", errors.client.delete("/login"))
    errors.post("/login", data="x" * (3 * 1024 * 1024), content_type="text/plain")
    errors.post("/api/appointments", data=b"x" * (3 * 1024 * 1024))
    errors.get("/api/appointments/slots", query_string={"service": "nope"})
    monkeypatch.setattr(online, "SEARCHES_PER_MINUTE", 1)
    query = {"cpas": "bruxelles", "service": agenda.service.code, "location": agenda.location.code}
    errors.get("/api/appointments/slots", query_string=query)
    limited = errors.get("/api/appointments/slots", query_string=query)
    assert limited.status_code == 429
    statuses = {status for _what, status, _body in errors.read + anonymous.read}
    assert {400, 401, 404, 405, 413, 429} <= statuses

    spec = anonymous.get("/api/openapi.json")
    assert spec.status_code == 200
    leaks = [*booker.leaks(), *anonymous.leaks(), *person.leaks(), *errors.leaks()]
    assert not leaks, leaks
