"""The appointment settings pages (/parametres/rendez-vous) and the indicators' downloads.

Users are switched to English so the assertions read the msgids. Every form: a good
post saves and redirects; a bad one answers 422 with the sentence next to the field and
leaves the database as it was.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from appointments import setup
from appointments.models import (
    AgentAbsence,
    Appointment,
    BookingPerson,
    Closure,
    Location,
    Service,
    ServiceLocation,
    WorkingPlan,
)
from core import accounts, clock
from core.audit import AuditEntry
from tests.support import text_of
from tests.web.appointment_settings import BASE, _counter, book_at_marolles, service_form

PAGES = [
    f"{BASE}/services",
    f"{BASE}/services/nouveau",
    f"{BASE}/lieux",
    f"{BASE}/lieux/nouveau",
    f"{BASE}/plannings",
    f"{BASE}/fermetures",
    f"{BASE}/absences",
    f"{BASE}/indicateurs",
]


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


_MAROLLES: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _marolles(db) -> None:
    """A place's team is required: the forms below give Antenne Marolles'."""
    _MAROLLES["id"] = str(accounts.get_team(db, "bxl-marolles").id)


def location_form(**overrides) -> dict:
    return {
        "code": f"tw-loc-{next(_counter)}",
        "name": "Antenne Web",
        "kind": "antenne",
        "team_id": _MAROLLES.get("id", ""),
        "address": "Rue Haute 1",
        "postcode": "1000",
        "city": "Bruxelles",
        "latitude": "",
        "longitude": "",
        **{f"hours_{day}": "09:00-12:00" for day in range(5)},
        "hours_5": "",
        "hours_6": "",
        **overrides,
    }


def test_coordinators_and_admins_see_every_page_others_do_not(login):
    for username in ("coordination", "admin"):
        browser = login(username)
        for path in PAGES:
            response = browser.get(path)
            assert response.status_code == 200, (username, path)
        assert "Appointment settings" in text_of(browser.get(f"{BASE}/services"))
    for username in ("accueil", "as1", "aide1", "rue1"):
        browser = login(username)
        for path in (*PAGES, f"{BASE}/indicateurs.csv", f"{BASE}/indicateurs.xlsx"):
            assert browser.get(path).status_code == 403, (username, path)
        assert browser.post(f"{BASE}/services/nouveau", service_form()).status_code == 403


def test_create_a_service_then_offer_it(login, db):
    browser = login("coordination")
    form = service_form()
    response = browser.post(f"{BASE}/services/nouveau", form)
    assert response.status_code == 302
    service = db.scalar(select(Service).where(Service.code == form["code"]))
    assert service is not None and service.languages == ["fr", "nl"]
    assert response.headers["Location"].endswith(f"/services/{service.id}#offer")
    page = text_of(browser.get(f"{BASE}/services/{service.id}"))
    assert "Where and by whom" in page

    marolles = db.scalar(select(Location).where(Location.code == "bxl-marolles"))
    agent = accounts.find_user(db, "as1")
    response = browser.post(
        f"{BASE}/services/{service.id}/offre",
        {"locations": [str(marolles.id)], "agents": [str(agent.id)]},
    )
    assert response.status_code == 302
    assert db.get(ServiceLocation, (service.id, marolles.id)) is not None
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.entity_type == "appointment_service",
                AuditEntry.entity_id == str(service.id),
            )
        )
        == 2
    )


@pytest.mark.parametrize(
    ("overrides", "field", "sentence"),
    [
        ({"code": "Bad code"}, "code", "Use lower-case letters, digits and dashes only"),
        ({"name_nl": ""}, "name_nl", "This is needed."),
        ({"duration_minutes": "500"}, "duration_minutes", "Must be between 5 and 240."),
        ({"duration_minutes": "abc"}, "duration_minutes", "Give a whole number"),
        ({"languages": []}, "languages", "This is needed."),
        ({"booking_mode": "fax"}, "booking_mode", "Choose from the list."),
        (
            {"min_notice_hours": "100", "max_horizon_days": "3"},
            "min_notice_hours",
            "The notice is longer than the booking window of 3 days",
        ),
    ],
)
def test_a_bad_service_form_is_answered_422_and_saves_nothing(
    login, db, overrides, field, sentence
):
    browser = login("coordination")
    before = count(db, Service)
    response = browser.post(f"{BASE}/services/nouveau", service_form(**overrides))
    assert response.status_code == 422
    page = text_of(response)
    assert "Nothing was saved." in page
    assert f'id="{field}-error"' in page
    assert sentence in page
    assert count(db, Service) == before


def test_editing_a_service_keeps_its_code_and_bad_input_changes_nothing(login, db):
    browser = login("coordination")
    service = db.scalar(select(Service).where(Service.code == "energie"))
    values = service_form(code="hacked", name_fr="Énergie", duration_minutes="45")
    assert browser.post(f"{BASE}/services/{service.id}", values).status_code == 302
    db.refresh(service)
    assert (service.code, service.duration_minutes) == ("energie", 45)
    response = browser.post(f"{BASE}/services/{service.id}", {**values, "buffer_minutes": "-1"})
    assert response.status_code == 422
    db.refresh(service)
    assert service.buffer_minutes == 0
    assert browser.post(f"{BASE}/services/999999", values).status_code == 404


def test_unknown_places_or_agents_in_the_offer_are_refused(login, db):
    browser = login("coordination")
    service = db.scalar(select(Service).where(Service.code == "energie"))
    before = setup.service_location_ids(db, service)
    response = browser.post(f"{BASE}/services/{service.id}/offre", {"locations": ["999999"]})
    assert response.status_code == 422
    assert "Choose from the list." in text_of(response)
    assert setup.service_location_ids(db, service) == before


def test_removing_a_service_never_used_deletes_it(login, db):
    browser = login("coordination")
    browser.post(f"{BASE}/services/nouveau", form := service_form())
    service = db.scalar(select(Service).where(Service.code == form["code"]))
    response = browser.post(f"{BASE}/services/{service.id}/supprimer")
    assert response.status_code == 302
    assert db.scalar(select(Service).where(Service.code == form["code"])) is None


def test_what_to_bring_and_the_places_phone_number(login, db):
    browser = login("coordination")
    form = service_form(
        bring_fr="Carte d'identité\nExtraits de compte", bring_nl="Identiteitskaart"
    )
    assert browser.post(f"{BASE}/services/nouveau", form).status_code == 302
    service = db.scalar(select(Service).where(Service.code == form["code"]))
    assert service.what_to_bring("nl") == "Identiteitskaart"
    assert service.what_to_bring("en") == "Carte d'identité\nExtraits de compte"  # French
    too_long = service_form(bring_fr="x" * 501)
    response = browser.post(f"{BASE}/services/nouveau", too_long)
    assert response.status_code == 422 and "at most 500 characters" in text_of(response)
    place = location_form(phone="02 543 61 11")
    assert browser.post(f"{BASE}/lieux/nouveau", place).status_code == 302
    location = db.scalar(select(Location).where(Location.code == place["code"]))
    assert location.phone == "+3225436111"
    assert 'value="02 543 61 11"' in text_of(browser.get(f"{BASE}/lieux/{location.id}"))


def test_create_and_change_a_place(login, db):
    browser = login("coordination")
    form = location_form(hours_0="08:30-12:00, 13:00-16:00")
    assert browser.post(f"{BASE}/lieux/nouveau", form).status_code == 302
    location = db.scalar(select(Location).where(Location.code == form["code"]))
    assert len(location.opening_hours) == 6
    page = text_of(browser.get(f"{BASE}/lieux/{location.id}"))
    assert 'value="08:30-12:00, 13:00-16:00"' in page
    response = browser.post(f"{BASE}/lieux/{location.id}", {**form, "hours_1": "14:00-13:00"})
    assert response.status_code == 422
    assert "Each stretch must close after it opens" in text_of(response)
    assert 'aria-describedby="hours-hint hours_1-error"' in text_of(response)
    db.refresh(location)
    assert len(location.opening_hours) == 6


def test_a_place_has_an_optional_dutch_name_street_and_town(login, db):
    browser = login("coordination")
    form = location_form(
        name="Antenne Marolles",
        name_nl="Antenne Marollen",
        address="Rue Haute 298",
        address_nl="Hoogstraat 298",
        city_nl="Brussel",
    )
    assert browser.post(f"{BASE}/lieux/nouveau", form).status_code == 302
    location = db.scalar(select(Location).where(Location.code == form["code"]))
    assert (location.name_nl, location.address_nl, location.city_nl) == (
        "Antenne Marollen",
        "Hoogstraat 298",
        "Brussel",
    )
    assert location.display_name("nl") == "Antenne Marollen"
    assert location.street("fr") == "Rue Haute 298" and location.town("nl") == "1000 Brussel"
    page = text_of(browser.get(f"{BASE}/lieux/{location.id}"))
    assert 'value="Hoogstraat 298"' in page and 'lang="nl"' in page
    # Emptied: the French ones are used everywhere again.
    changed = {**form, "name_nl": "", "address_nl": "", "city_nl": ""}
    assert browser.post(f"{BASE}/lieux/{location.id}", changed).status_code == 302
    db.refresh(location)
    assert location.street("nl") == "Rue Haute 298" and location.town("nl") == "1000 Bruxelles"
    too_long = {**form, "address_nl": "x" * 201}
    response = browser.post(f"{BASE}/lieux/{location.id}", too_long)
    assert response.status_code == 422
    db.refresh(location)
    assert location.address_nl == ""


@pytest.mark.parametrize(
    ("overrides", "sentence"),
    [
        ({"postcode": "12"}, "Give a Belgian postcode"),
        ({"hours_2": "09:00-12:00, 11:00-13:00"}, "Two stretches of this day overlap."),
        ({"latitude": "50.8"}, "Give both latitude and longitude, or neither."),
        ({"latitude": "95", "longitude": "4"}, "Must be between -90 and 90."),
        ({"phone": "12"}, "This is not a phone number we can reach."),
        ({"team_id": ""}, "This is needed."),  # every place is a team's
    ],
)
def test_a_bad_place_form_is_answered_422(login, db, overrides, sentence):
    browser = login("coordination")
    before = count(db, Location)
    response = browser.post(f"{BASE}/lieux/nouveau", location_form(**overrides))
    assert response.status_code == 422
    assert sentence in text_of(response)
    assert count(db, Location) == before


def test_plans_grid_add_and_end(login, db):
    browser = login("coordination")
    page = text_of(browser.get(f"{BASE}/plannings"))
    assert "Week of" in page and "Monday" in page
    agent = accounts.find_user(db, "as2")
    location = db.scalar(select(Location).where(Location.code == "bxl-nord-est"))
    form = {
        "user_id": str(agent.id),
        "location_id": str(location.id),
        "weekdays": ["2", "4"],
        "starts": "13:00",
        "ends": "15:00",
        "valid_from": "2030-01-01",
        "valid_until": "",
    }
    before = count(db, WorkingPlan)
    assert browser.post(f"{BASE}/plannings", form).status_code == 302
    assert count(db, WorkingPlan) == before + 2
    response = browser.post(f"{BASE}/plannings", form)  # the same again: overlaps
    assert response.status_code == 422
    assert "This agent already has a plan from 13:00 to 15:00 on that day." in text_of(response)
    assert count(db, WorkingPlan) == before + 2
    response = browser.post(f"{BASE}/plannings", {**form, "starts": "16:00"})
    assert response.status_code == 422
    assert "The end must come after the start." in text_of(response)

    plan = db.scalar(
        select(WorkingPlan).where(
            WorkingPlan.user_id == agent.id, WorkingPlan.valid_from == datetime(2030, 1, 1).date()
        )
    )
    assert browser.get(f"{BASE}/plannings/{plan.id}/fin").status_code == 200
    response = browser.post(f"{BASE}/plannings/{plan.id}/fin", {"last_day": "someday"})
    assert response.status_code == 422
    assert "Give a date like 2026-11-23." in text_of(response)
    response = browser.post(f"{BASE}/plannings/{plan.id}/fin", {"last_day": "2030-06-30"})
    assert response.status_code == 302
    db.refresh(plan)
    assert plan.valid_until == datetime(2030, 6, 30).date()


def test_a_closure_over_booked_appointments_lists_them_with_a_link_to_the_desk(login, db):
    appointment = book_at_marolles(db)
    db.commit()
    day = clock.to_local(appointment.start_at).date()
    browser = login("coordination")
    response = browser.post(
        f"{BASE}/fermetures",
        {
            "location_id": str(appointment.location_id),
            "first_day": day.isoformat(),
            "last_day": "",
            "reason": "Travaux",
        },
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "1 booked appointment is now outside the agent" in page
    assert "They are not cancelled." in page
    assert f"location=bxl-marolles&amp;day={day.isoformat()}" in page
    assert "Web Setup Person" not in page  # no names on this page
    db.refresh(appointment)
    assert appointment.status == "booked"
    closure = db.scalar(select(Closure).where(Closure.reason == "Travaux"))
    assert closure is not None
    assert browser.post(f"{BASE}/fermetures/{closure.id}/supprimer").status_code == 302
    assert db.scalar(select(Closure.id).where(Closure.id == closure.id)) is None


def test_bad_closures_and_absences_are_answered_422(login, db):
    browser = login("coordination")
    closures, absences = count(db, Closure), count(db, AgentAbsence)
    response = browser.post(
        f"{BASE}/fermetures", {"first_day": "2030-05-02", "last_day": "2030-05-01", "reason": "x"}
    )
    assert response.status_code == 422
    assert "The end must come after the start." in text_of(response)
    agent = accounts.find_user(db, "as1")
    response = browser.post(
        f"{BASE}/absences",
        {"user_id": str(agent.id), "starts": "2030-05-02T12:00", "ends": "2030-05-02T09:00"},
    )
    assert response.status_code == 422
    assert "The end must come after the start." in text_of(response)
    response = browser.post(f"{BASE}/absences", {"user_id": "", "starts": "", "ends": ""})
    assert response.status_code == 422
    assert (count(db, Closure), count(db, AgentAbsence)) == (closures, absences)


def test_add_and_remove_an_absence(login, db):
    browser = login("coordination")
    agent = accounts.find_user(db, "as2")
    response = browser.post(
        f"{BASE}/absences",
        {
            "user_id": str(agent.id),
            "starts": "2030-05-02T08:00",
            "ends": "2030-05-03T18:00",
            "reason": "training",
        },
    )
    assert response.status_code == 302
    absence = db.scalar(select(AgentAbsence).where(AgentAbsence.reason == "training"))
    assert absence.starts_at == datetime(2030, 5, 2, 6, 0, tzinfo=UTC)  # summer time
    assert "Training" in text_of(browser.get(f"{BASE}/absences"))
    assert browser.post(f"{BASE}/absences/{absence.id}/supprimer").status_code == 302
    assert db.scalar(select(AgentAbsence.id).where(AgentAbsence.id == absence.id)) is None


# --- Indicators ------------------------------------------------------------------------------


def indicator_rows(db) -> tuple[Service, Location]:
    """In March 2031: 2 booked online (one done, one no-show), one walk-in with a wait."""
    service = db.scalar(select(Service).where(Service.code == "mediation-dettes"))
    location = db.scalar(select(Location).where(Location.code == "bxl-nord-est"))
    person = BookingPerson(name="Indicator Web", phone="+32471000001")
    db.add(person)
    db.flush()
    for day, status, source, wait in (
        (4, "done", "online", None),
        (5, "no_show", "online", None),
        (6, "done", "walk_in", 12),
    ):
        start = datetime(2031, 3, day, 9, tzinfo=UTC)
        db.add(
            Appointment(
                service_id=service.id,
                location_id=location.id,
                person_id=person.id,
                start_at=start,
                end_at=start + timedelta(minutes=60),
                busy_until=start + timedelta(minutes=75),
                status=status,
                source=source,
                checked_in_at=start if wait else None,
                called_at=start + timedelta(minutes=wait) if wait else None,
            )
        )
    db.commit()
    return service, location


def test_indicators_page_and_downloads(login, db):
    _service, location = indicator_rows(db)
    browser = login("coordination")
    query = "?month=2031-03&location=bxl-nord-est"
    page = text_of(browser.get(f"{BASE}/indicateurs{query}"))
    assert "Debt mediation" in page  # the service's English name
    assert "March 2031" in page
    assert "Indicator Web" not in page

    response = browser.get(f"{BASE}/indicateurs.csv{query}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "terrain-rendez-vous-2031-03-bxl-nord-est.csv" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    header = rows[0]
    line = dict(zip(header, rows[1], strict=True))
    assert (line["Service"], line["Place"]) == ("Debt mediation", location.name)
    assert (line["Booked online"], line["Booked"], line["Walk-ins"]) == ("2", "2", "1")
    assert (line["Attended"], line["No-shows"], line["Average wait (minutes)"]) == (
        "2",
        "1",
        "12.0",
    )
    assert rows[-1][1] == "Total"
    assert "Indicator Web" not in body and "+32471000001" not in body

    response = browser.get(f"{BASE}/indicateurs.xlsx{query}")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == header
    line = dict(zip(header, values[1], strict=True))
    assert (line["Booked"], line["Walk-ins"], line["No-shows"]) == (2, 1, 1)
    assert line["Average wait (minutes)"] == 12.0
    assert line["Without a reminder: no-show rate"] == 0.5


def test_bad_indicator_filters_are_answered_422(login):
    browser = login("coordination")
    response = browser.get(f"{BASE}/indicateurs?month=2031-13&service=nope")
    assert response.status_code == 422
    page = text_of(response)
    assert "Choose a month like 2026-11." in page
    assert "Choose from the list." in page


def test_exports_neutralise_formulas(app):
    from web.exports import csv_response

    with app.test_request_context():
        response = csv_response("x.csv", ["Name"], [["=HYPERLINK(1)"], ["-3"], [4]])
    lines = response.get_data(as_text=True).splitlines()
    assert lines[1:] == ["'=HYPERLINK(1)", "'-3", "4"]
