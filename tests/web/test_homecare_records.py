"""Home-care record pages (issue 17): households (list, file, forms, carnet de vie, GPS
fix), care plans and suspensions, aides (terms, qualifications, absences); who sees what.

Users are switched to English so the assertions read the msgids.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from appointments import services as appointments
from core import accounts, clock, organisations
from core.accounts import Team
from core.audit import AuditEntry
from core.roles import Role
from homecare.demo import demo_id
from homecare.models import (
    AideProfile,
    AideQualification,
    Beneficiary,
    CarePlan,
    CarePlanSuspension,
)
from tests.support import staff_member, text_of

HOUSEHOLD = demo_id("household-0")  # Jeanne Peeters, Rue Royale Sainte-Marie
PLAN = demo_id("plan-0")  # family aide, Tue and Fri 9:00-11:00 ±30


def user(db, username: str) -> accounts.User:
    found = accounts.find_user(db, username)
    assert found is not None
    return found


def count(db, model: Any, *where: Any) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def today() -> date:
    return clock.to_local(clock.now()).date()


def household_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Germaine Vandenbroeck",
        "address": "Rue Gallait 80",
        "postcode": "1030",
        "city": "Schaerbeek",
        "latitude": "50,8683",
        "longitude": "4.3762",
        "phone_1": "0470 12 34 56",
        "consents": ["reminder", "service_change"],
        "language": "nl",
        "entry_instructions": "Boîte à clés, code 1234. Chat.",
        "emergency_name": "Fils",
        "emergency_phone": "0475 11 22 33",
        "social_worker_id": "",
        "antenne_id": "",
        "contribution_category": "b",
    }
    data.update(overrides)
    return data


def plan_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "service": "home_help",
        "weekdays": ["0", "3"],
        "window_start": "13:00",
        "window_end": "16:00",
        "tolerance_minutes": "30",
        "duration_minutes": "120",
        "tasks": "Entretien\nCourses",
        "skills": ["household"],
        "starts_on": today().isoformat(),
        "ends_on": "",
        "holiday_rule": "skip",
        "meal_order_ref": "",
    }
    data.update(overrides)
    return data


def other_coordinator(db) -> accounts.User:
    """The coordinator of another home-care service."""
    team = Team(
        code="clr-saf",
        name="SAF Charleroi",
        kind="home_care",
        city="Charleroi",
        cpas_id=organisations.get_cpas(db, "charleroi").id,
    )
    db.add(team)
    db.flush()
    return staff_member(db, "coord-clr", Role.COORDINATOR, team.code, "Coord Charleroi")


# --- Households -------------------------------------------------------------------------


def test_the_list_searches_by_name_and_filters_by_antenne(login, db):
    antenne = db.scalar(select(Team).where(Team.kind == "antenne"))
    db.get(Beneficiary, HOUSEHOLD).antenne_id = antenne.id
    db.flush()
    browser = login("coordination")
    page = text_of(browser.get("/aide-a-domicile/beneficiaires"))
    assert "40 households" in page and "Jeanne Peeters" in page
    page = text_of(browser.get("/aide-a-domicile/beneficiaires?q=peeters%20JEANNE"))
    assert "Jeanne Peeters" in page and "Mohamed" not in page
    page = text_of(browser.get(f"/aide-a-domicile/beneficiaires?antenne={antenne.id}"))
    assert "1 household" in page and "Jeanne Peeters" in page
    page = text_of(browser.get("/aide-a-domicile/beneficiaires?q=nobody-like-that"))
    assert "No household matches this search." in page
    assert browser.get("/aide-a-domicile/beneficiaires?antenne=abc%25").status_code == 200


def test_the_file_shows_everything_and_its_read_is_audited(login, db):
    reads = count(db, AuditEntry, AuditEntry.entity_type == "homecare_beneficiary")
    response = login("coordination").get(f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}")
    assert response.status_code == 200
    page = text_of(response)
    for expected in (
        "Jeanne Peeters",
        "Rue Royale Sainte-Marie",
        "(typed)",
        "Boîte à clés",
        "Emergency contact",
        "Thomas Janssens",  # the social worker in charge (as1)
        "Iriscare",
        "Café noir",  # the carnet de vie
        "No agreement to share it",
        "Family aide",
        "Tuesday",
        "Coming visits",
        "Use my position",
    ):
        assert expected in page, expected
    assert count(db, AuditEntry, AuditEntry.entity_type == "homecare_beneficiary") == reads + 1


def test_create_then_edit_a_household_with_phones_and_consents(login, db):
    browser = login("coordination")
    response = browser.post("/aide-a-domicile/beneficiaires/nouveau", data=household_form())
    assert response.status_code == 302, text_of(response)[:800]
    created = db.scalar(select(Beneficiary).where(Beneficiary.name == "Germaine Vandenbroeck"))
    assert created.latitude == pytest.approx(50.8683) and created.location_source == "typed"
    assert response.headers["Location"].endswith(f"/aide-a-domicile/beneficiaires/{created.id}")
    page = text_of(browser.get(response.headers["Location"]))
    assert "0470 12 34 56" in page and "Reminders of visits" in page
    assert "Information from the service" not in page

    edit = f"/aide-a-domicile/beneficiaires/{created.id}/modifier"
    form = text_of(browser.get(edit))
    assert "Germaine Vandenbroeck" in form
    response = browser.post(
        edit,
        data=household_form(
            name="Germaine Vandenbroeck-Maes",
            phone_1="0470 12 34 56",
            phone_2="02 511 00 00",
            consents=["information"],
        ),
    )
    assert response.status_code == 302
    db.refresh(created)
    assert created.name == "Germaine Vandenbroeck-Maes"
    page = text_of(browser.get(f"/aide-a-domicile/beneficiaires/{created.id}"))
    assert "Information from the service" in page and "Reminders of visits" not in page
    assert "02 511 00 00" in page


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({"name": ""}, "This is needed."),
        ({"postcode": "10300"}, "postcode"),
        ({"latitude": "north"}, "Give a number"),
        ({"latitude": "50.1", "longitude": ""}, "Give both latitude and longitude"),
        ({"latitude": "95", "longitude": "4"}, "Must be between -90 and 90."),
        ({"phone_1": "12"}, "This is not a phone number"),
        ({"language": "klingon"}, "Choose from the list."),
        ({"social_worker_id": "999999"}, None),
        ({"antenne_id": "2147483647"}, None),
        ({"social_worker_id": "99999999999999999999"}, None),
    ],
)
def test_bad_household_input_saves_nothing(login, db, overrides, field_message):
    before = count(db, Beneficiary)
    response = login("coordination").post(
        "/aide-a-domicile/beneficiaires/nouveau", data=household_form(**overrides)
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "Some fields need a correction. Nothing was saved." in page
    if field_message and field_message != "postcode":
        assert field_message in page
    assert count(db, Beneficiary) == before


def test_the_gps_fix_replaces_the_coordinates(login, db):
    browser = login("coordination")
    url = f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}/position"
    response = browser.post(url, data={"latitude": "50.86512", "longitude": "4.37201"})
    assert response.status_code == 302
    household = db.get(Beneficiary, HOUSEHOLD)
    db.refresh(household)
    assert (household.latitude, household.longitude) == (50.86512, 4.37201)
    assert household.location_source == "gps"
    page = text_of(browser.get(f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}"))
    assert "GPS fix at the door" in page
    # No fix taken, or a fix out of range: nothing changes, a sentence says why.
    browser.post(url, data={"latitude": "", "longitude": ""})
    page = text_of(browser.get(f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}"))
    assert "No position yet: press" in page
    browser.post(url, data={"latitude": "500", "longitude": "4"})
    db.refresh(household)
    assert household.latitude == 50.86512


def test_the_carnet_de_vie_and_its_sharing_agreement(login, db):
    browser = login("coordination")
    url = f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}/carnet-de-vie"
    assert "What calms" in text_of(browser.get(url))
    response = browser.post(
        url, data={"habits": "Thé vert", "likes": "Brel", "calms": "", "avoid": "Radio"}
    )
    assert response.status_code == 302
    household = db.get(Beneficiary, HOUSEHOLD)
    db.refresh(household)
    assert household.life_book == {"habits": "Thé vert", "likes": "Brel", "avoid": "Radio"}
    response = browser.post(url, data={"habits": "x" * 2001})
    assert response.status_code == 422 and "at most 2000 characters" in text_of(response)

    browser.post(url + "/accord", data={"agreed": "yes"})
    db.refresh(household)
    assert household.life_book_sharing_agreed_by_id == user(db, "coordination").id
    page = text_of(browser.get(f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}"))
    assert "recorded by Nadia Benali" in page
    browser.post(url + "/accord", data={"agreed": "no"})
    db.refresh(household)
    assert household.life_book_sharing_agreed_at is None


# --- Care plans -------------------------------------------------------------------------


def test_create_and_edit_a_care_plan(login, db):
    browser = login("coordination")
    url = f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}/plans/nouveau"
    assert "Visit length (minutes)" in text_of(browser.get(url))
    aide = user(db, "aide3")
    response = browser.post(url, data=plan_form(preferred_aide_ids=[str(aide.id)]))
    assert response.status_code == 302, text_of(response)[:1000]
    plan = db.scalar(
        select(CarePlan).where(
            CarePlan.beneficiary_id == HOUSEHOLD, CarePlan.service == "home_help"
        )
    )
    assert plan.weekdays == [0, 3] and plan.tasks == ["Entretien", "Courses"]
    assert plan.preferred_aide_ids == [aide.id]
    page = text_of(browser.get(f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}"))
    assert "Home help" in page and "Marie Dubois" in page

    edit = f"/aide-a-domicile/plans/{plan.id}/modifier"
    assert "13:00" in browser.get(edit).get_data(as_text=True)
    response = browser.post(edit, data=plan_form(duration_minutes="90", weekdays=["3"]))
    assert response.status_code == 302
    db.refresh(plan)
    assert plan.duration_minutes == 90 and plan.weekdays == [3]
    assert plan.aides == 1
    # A transfer: two aides at once, shown on the file.
    response = browser.post(edit, data=plan_form(duration_minutes="90", weekdays=["3"], aides="2"))
    assert response.status_code == 302
    db.refresh(plan)
    assert plan.aides == 2
    assert "Two aides at once (transfer)" in text_of(
        browser.get(f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}")
    )


def test_a_night_plan_crossing_midnight_is_accepted(login, db):
    browser = login("coordination")
    url = f"/aide-a-domicile/beneficiaires/{demo_id('household-1')}/plans/nouveau"
    data = plan_form(
        service="night_care",
        weekdays=["4"],
        window_start="21:00",
        window_end="07:00",
        duration_minutes="600",
        tolerance_minutes="0",
        skills=["night_watch"],
    )
    assert browser.post(url, data=data).status_code == 302


@pytest.mark.parametrize(
    ("overrides", "sentence"),
    [
        ({"ends_on": "2020-01-01"}, "The end must come after the start."),
        ({"skills": ["juggling"]}, "Unknown skill. Choose from the list."),
        ({"duration_minutes": "5000"}, "A visit lasts between 15 and 720 minutes."),
        ({"duration_minutes": "abc"}, "Give a whole number"),
        ({"duration_minutes": "200"}, "The visit is longer than its time window."),
        ({"service": "night_care", "window_start": "07:00", "window_end": "21:00"}, "21:00-07:00"),
        ({"window_start": "21:00", "window_end": "07:00"}, None),
        ({"window_start": "25:99"}, "Give a time like 21:00."),
        ({"window_start": ""}, "This is needed."),
        ({"weekdays": []}, "This is needed."),
        ({"weekdays": ["9"]}, "Choose from the list."),
        ({"tolerance_minutes": "500"}, "Must be between 0 and 120."),
        ({"starts_on": "31/12/2026"}, "Give a date like 2026-11-23."),
        ({"ends_on": "9999-12-31"}, "Give a date like 2026-11-23."),
        ({"duration_minutes": "99999999999999"}, "This number is too large."),
        ({"service": "family_aide", "window_start": "09:30", "window_end": "10:30"}, None),
        ({"aides": "3"}, "A visit needs one aide, or two for a transfer."),
        ({"aides": "two"}, "Give a whole number"),
    ],
)
def test_bad_care_plan_input_says_why_and_saves_nothing(login, db, overrides, sentence):
    before = count(db, CarePlan)
    data = plan_form(**overrides)
    if overrides.get("service") == "family_aide":  # overlaps plan-0 (Tue and Fri 9-11)
        data["weekdays"] = ["1"]
        data["duration_minutes"] = "60"
    response = login("coordination").post(
        f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}/plans/nouveau", data=data
    )
    assert response.status_code == 422, text_of(response)[:500]
    page = text_of(response)
    assert "Nothing was saved." in page
    if sentence:
        assert sentence in page
    assert count(db, CarePlan) == before


def test_the_overlap_and_unknown_skill_sentences(login, db):
    browser = login("coordination")
    url = f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}/plans/nouveau"
    data = plan_form(service="family_aide", weekdays=["1"], window_start="09:30")
    data.update(window_end="10:30", duration_minutes="60")
    page = text_of(browser.post(url, data=data))
    assert "This household already has a plan for this service from 09:00 to 11:00" in page
    page = text_of(browser.post(url, data=plan_form(skills=["juggling"])))
    assert "Unknown skill. Choose from the list." in page


def test_suspend_a_plan(login, db):
    browser = login("coordination")
    url = f"/aide-a-domicile/plans/{PLAN}/suspensions"
    start = today() + timedelta(days=2)
    response = browser.post(
        url,
        data={
            "starts_on": start.isoformat(),
            "ends_on": (start + timedelta(days=10)).isoformat(),
            "reason": "hospital",
            "note": "Saint-Pierre",
        },
    )
    assert response.status_code == 302
    assert count(db, CarePlanSuspension, CarePlanSuspension.plan_id == PLAN) == 1
    page = text_of(browser.get(f"/aide-a-domicile/plans/{PLAN}/modifier"))
    assert "Hospital" in page and "Saint-Pierre" in page
    response = browser.post(
        url,
        data={
            "starts_on": start.isoformat(),
            "ends_on": (start - timedelta(days=1)).isoformat(),
            "reason": "hospital",
        },
    )
    assert response.status_code == 422
    assert count(db, CarePlanSuspension, CarePlanSuspension.plan_id == PLAN) == 1
    response = browser.post(url, data={"starts_on": "x", "ends_on": "", "reason": "moon"})
    assert response.status_code == 422


# --- Aides ------------------------------------------------------------------------------


def test_the_aides_list_marks_expired_and_warns_a_month_before(login, db):
    page = text_of(login("coordination").get("/aide-a-domicile/aides"))
    assert "Qualifications to renew" in page
    # aide1's transfer qualification ends within 20 days; aide4's first aid expired.
    assert "Fatima El Amrani: Transfers (hoist) ends on" in page
    assert "Aylin Yildiz: First aid expired on" in page
    assert "Contract: 38 h a week" in page


def test_the_aide_profile_form(login, db):
    aide = user(db, "aide3")
    browser = login("coordination")
    url = f"/aide-a-domicile/aides/{aide.id}"
    assert "Working hours" in text_of(browser.get(url))
    data = {
        "contract_hours": "19,5",
        "day_0": "0",
        "start_0": "08:30",
        "end_0": "15:30",
        "day_1": "5",
        "start_1": "21:00",
        "end_1": "07:00",
        "home_latitude": "50.85",
        "home_longitude": "4.36",
        "transport_mode": "bike",
        "speed_kmh": "14",
    }
    assert browser.post(url, data=data).status_code == 302
    profile = db.get(AideProfile, aide.id)
    db.refresh(profile)
    assert profile.contract_minutes == 1170
    assert profile.working_hours == [[0, "08:30", "15:30"], [5, "21:00", "07:00"]]
    assert profile.transport_mode == "bike" and profile.speed_kmh == 14

    for bad, sentence in (
        ({"contract_hours": "90"}, "Must be between 0 and 50."),
        ({"contract_hours": ""}, "This is needed."),
        ({"contract_hours": "inf"}, "Give a number"),
        ({"start_0": "08:30", "end_0": "08:30"}, None),
        ({"start_0": "8h", "end_0": "12:00"}, None),
        ({"home_latitude": "50.8", "home_longitude": ""}, "Give both latitude"),
        ({"speed_kmh": "500"}, "Must be between 2 and 80."),
        ({"transport_mode": "rocket"}, "Choose from the list."),
    ):
        response = browser.post(url, data={**data, **bad})
        assert response.status_code == 422, bad
        if sentence:
            assert sentence in text_of(response), bad
        db.refresh(profile)
        assert profile.contract_minutes == 1170


def test_qualifications_and_absences(login, db):
    aide = user(db, "aide2")
    browser = login("coordination")
    base = f"/aide-a-domicile/aides/{aide.id}"
    expiry = today() + timedelta(days=200)
    response = browser.post(
        base + "/qualifications", data={"skill": "dementia", "expires_on": expiry.isoformat()}
    )
    assert response.status_code == 302
    found = db.scalar(
        select(AideQualification).where(
            AideQualification.user_id == aide.id, AideQualification.skill == "dementia"
        )
    )
    assert found.expires_on == expiry
    response = browser.post(base + "/qualifications", data={"skill": "juggling"})
    assert response.status_code == 422

    first = today() + timedelta(days=3)
    response = browser.post(
        base + "/absences",
        data={
            "starts_on": first.isoformat(),
            "ends_on": (first + timedelta(days=2)).isoformat(),
            "reason": "illness",
        },
    )
    assert response.status_code == 302
    found = appointments.absences_between(
        db, [aide.id], clock.now(), clock.now() + timedelta(days=30)
    )
    assert [a.reason for a in found] == ["illness"]
    page = text_of(browser.get(base))
    assert "Illness" in page
    response = browser.post(
        base + "/absences",
        data={
            "starts_on": first.isoformat(),
            "ends_on": (first - timedelta(days=2)).isoformat(),
            "reason": "leave",
        },
    )
    assert response.status_code == 422
    assert "Nothing was saved." in text_of(response)
    for far in ("0001-01-01", "9999-12-31"):
        response = browser.post(
            base + "/absences", data={"starts_on": far, "ends_on": far, "reason": "leave"}
        )
        assert response.status_code == 422
        assert "Give a date like 2026-11-23." in text_of(response)


# --- Who sees what ----------------------------------------------------------------------


def test_an_aide_reads_only_the_households_she_is_planned_for(login, db):
    from homecare.models import Visit

    aide = user(db, "aide1")
    now = clock.now()
    db.add(
        Visit(
            id=uuid.uuid4(),
            team_id=aide.team_id,
            plan_id=PLAN,
            beneficiary_id=HOUSEHOLD,
            scheduled_on=date(2000, 1, 4),  # no generated visit has this day
            day=today(),
            earliest_start=now,
            latest_start=now,
            duration_minutes=60,
            aide_id=aide.id,
            changed_at=now,
            updated_at=now,
        )
    )
    db.flush()
    browser = login("aide1")
    response = browser.get(f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}")
    assert response.status_code == 200
    page = text_of(response)
    assert "Café noir" in page  # the carnet de vie, for the aides of the household
    assert "Change the file" not in page and "Use my position" not in page
    # Another household, an unknown one: the same 404.
    assert (
        browser.get(f"/aide-a-domicile/beneficiaires/{demo_id('household-5')}").status_code == 404
    )
    assert browser.get(f"/aide-a-domicile/beneficiaires/{uuid.uuid4()}").status_code == 404
    # The coordinator's pages are not hers.
    assert browser.get("/aide-a-domicile/beneficiaires").status_code == 403


def test_another_services_coordinator_gets_404_everywhere(app, db):
    from tests.conftest import Browser, log_in_directly

    stranger = other_coordinator(db)
    browser = Browser(app.test_client())
    log_in_directly(browser.client, db, stranger.username)
    aide = user(db, "aide1")
    # Her own service's pages open, without the other service's households or aides.
    for url in (
        "/aide-a-domicile/beneficiaires",
        "/aide-a-domicile/beneficiaires?q=Jeanne",
        "/aide-a-domicile/aides",
    ):
        response = browser.get(url)
        assert response.status_code == 200, url
        assert "Jeanne Peeters" not in text_of(response)
        assert "Fatima El Amrani" not in text_of(response)
    for url in (
        f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}",
        f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}/modifier",
        f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}/carnet-de-vie",
        f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}/plans/nouveau",
        f"/aide-a-domicile/plans/{PLAN}/modifier",
        f"/aide-a-domicile/aides/{aide.id}",
    ):
        assert browser.get(url).status_code == 404, url
    before = db.get(Beneficiary, HOUSEHOLD).version
    for url, data in (
        (
            f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}/position",
            {"latitude": "1", "longitude": "1"},
        ),
        (f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}/carnet-de-vie/accord", {"agreed": "yes"}),
        (f"/aide-a-domicile/beneficiaires/{HOUSEHOLD}/modifier", household_form()),
        (f"/aide-a-domicile/plans/{PLAN}/suspensions", {"starts_on": "2026-01-01"}),
        (f"/aide-a-domicile/aides/{aide.id}/absences", {"starts_on": "2026-01-01"}),
        (f"/aide-a-domicile/aides/{aide.id}/qualifications", {"skill": "meals"}),
    ):
        assert browser.post(url, data=data).status_code == 404, url
    assert db.get(Beneficiary, HOUSEHOLD).version == before


def test_the_menu_shows_households_to_the_coordinator_only(login, db):
    assert "/aide-a-domicile/beneficiaires" in login("coordination").get("/").get_data(as_text=True)
    assert "/aide-a-domicile/beneficiaires" not in login("aide1").get("/").get_data(as_text=True)
