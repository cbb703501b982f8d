"""Rounds pages of issue 19's second layer: round templates and their stops, dated rounds
and their exceptions, re-optimising a meal round, editing and cancelling records; bad
input → sentences, nothing saved; anybody but the mobile team's coordinator → 404 (or
403 for roles without the permission)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core import clock
from rounds.models import MealOrder, Ride, Round, RoundStop, RoundTemplate, Stop, Vehicle
from tests.support import text_of
from tests.web.rounds_world import meal_form, ride_form

DAY = "2031-03-04"


def _demo_round(db, kind: str) -> Round:
    today = clock.to_local(clock.now()).date()
    found = db.scalars(
        select(Round)
        .where(Round.kind == kind, Round.status == "planned", Round.day >= today)
        .order_by(Round.day)
    ).first()
    assert found is not None
    return found


def test_templates_list_create_and_refuse_an_overlap(login, db):
    browser = login("mobile-coord")
    page = text_of(browser.get("/tournees/modeles"))
    assert "Minibus Nord – lundi" in page and "Repas – vendredi" in page
    van = db.scalar(select(Vehicle).where(Vehicle.name == "Camionnette repas"))
    form = {
        "vehicle_id": str(van.id),
        "name": "Repas du samedi",
        "kind": "meals",
        "weekday": "5",
        "starts": "12:00",
        "ends": "10:00",
        "active_from": "2031-01-06",
    }
    before = db.scalar(select(func.count()).select_from(RoundTemplate))
    response = browser.post("/tournees/modeles/nouveau", data=form)
    assert response.status_code == 422
    assert "The end must come after the start." in text_of(response)
    response = browser.post(
        "/tournees/modeles/nouveau",
        data=form | {"weekday": "0", "starts": "10:00", "ends": "11:00"},
    )
    assert response.status_code == 422
    assert "The vehicle is already at another stop from 09:30 to 12:30" in text_of(response)
    assert db.scalar(select(func.count()).select_from(RoundTemplate)) == before
    response = browser.post("/tournees/modeles/nouveau", data=form | {"starts": "09:30"})
    assert response.status_code == 302
    made = db.scalar(select(RoundTemplate).where(RoundTemplate.name == "Repas du samedi"))
    assert made is not None and made.weekday == 5


def test_a_minibus_template_s_stops_out_of_order_are_refused(login, db):
    browser = login("mobile-coord")
    template = db.scalar(select(RoundTemplate).where(RoundTemplate.name == "Minibus Nord – lundi"))
    stop = db.scalar(select(Stop).where(Stop.name == "Gosselies, place des Martyrs"))
    page = text_of(browser.get(f"/tournees/modeles/{template.id}"))
    assert "Charleroi, place de la Digue" in page
    url = f"/tournees/modeles/{template.id}/arrets"
    response = browser.post(url, data={"stop_id": str(stop.id), "starts": "12:00", "ends": "11:00"})
    assert response.status_code == 422
    assert "The end must come after the start." in text_of(response)
    response = browser.post(url, data={"stop_id": str(stop.id), "starts": "10:00", "ends": "12:00"})
    assert response.status_code == 422
    assert "already at another stop from 09:00 to 11:30" in text_of(response)
    response = browser.post(url, data={"stop_id": str(stop.id), "starts": "12:00", "ends": "13:00"})
    assert response.status_code == 302


def test_dated_rounds_their_page_and_exceptions(login, db):
    browser = login("mobile-coord")
    minibus = _demo_round(db, "minibus")
    page = text_of(browser.get(f"/tournees/dates?jour={minibus.day.isoformat()}"))
    assert minibus.name in page
    page = text_of(browser.get(f"/tournees/dates/{minibus.id}"))
    assert "Public stop" in page and "Cancel the round" in page
    response = browser.post(f"/tournees/dates/{minibus.id}/reoptimiser")
    assert response.status_code == 422
    assert "keeps the order published" in text_of(response)
    first = db.scalar(
        select(RoundStop).where(RoundStop.round_id == minibus.id).order_by(RoundStop.position)
    )
    response = browser.post(
        f"/tournees/dates/{minibus.id}/arrets/{first.id}/deplacer",
        data={"moved_to": "23:00", "reason": "Marché"},
    )
    assert response.status_code == 422
    assert "choose times within those hours" in text_of(response)
    response = browser.post(
        f"/tournees/dates/{minibus.id}/arrets/{first.id}/sauter", data={"reason": "Marché"}
    )
    assert response.status_code == 302
    response = browser.post(f"/tournees/dates/{minibus.id}/annuler", data={"reason": ""})
    assert response.status_code == 422
    db.refresh(minibus)
    assert minibus.status == "planned"
    response = browser.post(
        f"/tournees/dates/{minibus.id}/annuler", data={"reason": "Minibus au garage"}
    )
    assert response.status_code == 302
    db.refresh(minibus)
    assert (minibus.status, minibus.cancel_reason) == ("cancelled", "Minibus au garage")


def test_generating_again_changes_nothing(login, db):
    browser = login("mobile-coord")
    before = db.scalar(select(func.count()).select_from(Round))
    # The weeks the demo generated: from the Monday of the day it was seeded, which is
    # not today's once the suite's clock has crossed a Sunday midnight since then (the
    # next Monday's week would then rightly get its four weeks, one of them new).
    seeded_monday = db.scalar(select(func.min(RoundTemplate.active_from)))
    assert seeded_monday is not None
    assert seeded_monday <= clock.to_local(clock.now()).date()
    response = browser.post("/tournees/dates/generer", data={"jour": seeded_monday.isoformat()})
    assert response.status_code == 302
    assert db.scalar(select(func.count()).select_from(Round)) == before


def test_re_optimising_a_meal_round_shows_travel_before_and_after(login, db):
    from core import accounts
    from rounds import services

    browser = login("mobile-coord")
    coord = accounts.find_user(db, "mobile-coord")
    van = db.scalar(select(Vehicle).where(Vehicle.name == "Camionnette repas"))
    for street, lat, lon in (
        [("A", 50.4089, 4.4367), ("B", 50.4373, 4.4365), ("C", 50.4111, 4.4455),
         ("D", 50.4409, 4.4271), ("E", 50.4085, 4.4469)]
    ):  # fmt: skip
        form = meal_form(household=f"Foyer {street}", latitude=str(lat), longitude=str(lon))
        assert browser.post(f"/tournees/repas?jour={DAY}", data=form).status_code == 302
    assert browser.post("/tournees/plan", data={"jour": DAY}).status_code == 302
    meals = services.create_round(
        db,
        coord,
        coord.team_id,
        {"vehicle_id": str(van.id), "name": "Repas test", "kind": "meals", "day": DAY,
         "starts": "09:30", "ends": "12:30"},
    )  # fmt: skip
    db.flush()
    stops = services.round_stops(db, meals.id)
    assert len(stops) == 5
    response = browser.post(f"/tournees/dates/{meals.id}/reoptimiser")
    assert response.status_code == 200
    page = text_of(response)
    assert "Driving before:" in page and "after:" in page
    assert "The new order is kept." in page or "The order stays as it was" in page


def test_edit_and_cancel_an_order_and_a_ride(login, db):
    browser = login("mobile-coord")
    assert browser.post(f"/tournees/repas?jour={DAY}", data=meal_form()).status_code == 302
    assert browser.post(f"/tournees/transports?jour={DAY}", data=ride_form()).status_code == 302
    order = db.scalar(select(MealOrder).where(MealOrder.household == "Mme Testeur"))
    ride = db.scalar(select(Ride).where(Ride.person == "M. Passager"))
    response = browser.post(f"/tournees/repas/{order.id}", data=meal_form(meals="3"))
    assert response.status_code == 302
    db.refresh(order)
    assert order.meals == 3
    response = browser.post(f"/tournees/transports/{ride.id}", data=ride_form(seats="40"))
    assert response.status_code == 422
    assert "No vehicle of the team has that many seats" in text_of(response)
    db.refresh(ride)
    assert ride.seats == 1
    assert browser.post(f"/tournees/repas/{order.id}/annuler").status_code == 302
    assert browser.post(f"/tournees/transports/{ride.id}/annuler").status_code == 302
    db.refresh(order)
    db.refresh(ride)
    assert order.cancelled and ride.cancelled


def test_an_order_after_its_cut_off_is_refused(login, db):
    browser = login("mobile-coord")
    today = clock.to_local(clock.now()).date()
    order = db.scalar(select(MealOrder).where(MealOrder.day == today).limit(1))
    if order is None:
        return
    response = browser.post(
        f"/tournees/repas/{order.id}",
        data=meal_form(day=today.isoformat(), household=order.household),
    )
    assert response.status_code == 422
    assert "Too late: changes for this day were possible until" in text_of(response)
    past = (today - timedelta(days=1)).isoformat()
    response = browser.post(f"/tournees/repas?jour={past}", data=meal_form(day=past))
    assert response.status_code == 422
    assert "This day is over" in text_of(response)


def test_vehicle_and_stop_forms(login, db):
    browser = login("mobile-coord")
    vehicle = db.scalar(select(Vehicle).where(Vehicle.name == "Voiture transport"))
    page = browser.get(f"/tournees/vehicules/{vehicle.id}").get_data(as_text=True)
    assert 'value="Mehdi Tahiri"' in page
    form = {
        "name": "Voiture transport",
        "kind": "car",
        "driver_name": "Mehdi Tahiri",
        "seats": "4",
        "meal_capacity": "0",
        "depot_address": "Boulevard Joseph II 13",
        "latitude": "50.4117",
        "longitude": "4.4408",
        "day_start": "08:00",
        "day_end": "07:00",
        "active": "1",
    }
    assert browser.post(f"/tournees/vehicules/{vehicle.id}", data=form).status_code == 422
    response = browser.post(f"/tournees/vehicules/{vehicle.id}", data=form | {"day_end": "13:00"})
    assert response.status_code == 302
    db.refresh(vehicle)
    assert vehicle.seats == 4
    stop = db.scalar(select(Stop).where(Stop.name == "Jumet, place du Ballon"))
    assert "Place du Ballon" in text_of(browser.get(f"/tournees/arrets/{stop.id}"))


def test_outsiders_hear_404_and_the_crew_403(login, db):
    minibus = _demo_round(db, "minibus")
    template = db.scalar(select(RoundTemplate).limit(1))
    order = db.scalar(select(MealOrder).limit(1))
    paths = (
        "/tournees/modeles",
        f"/tournees/modeles/{template.id}",
        "/tournees/dates",
        f"/tournees/dates/{minibus.id}",
        f"/tournees/repas/{order.id}",
    )
    for username in ("coordination",):  # another team's coordinator (Brussels home care)
        browser = login(username)
        for path in paths:
            assert browser.get(path).status_code == 404, (username, path)
        response = browser.post(f"/tournees/dates/{minibus.id}/annuler", data={"reason": "x"})
        assert response.status_code == 404
    for username in ("mobile1", "as3", "admin"):  # no rounds.manage
        browser = login(username)
        for path in paths:
            assert browser.get(path).status_code in (403, 404), (username, path)
    db.refresh(minibus)
    assert minibus.status == "planned"
