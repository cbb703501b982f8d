"""Rounds pages (issue 19, first layer): the minibus's stops and week, meal orders and
rides with their forms, the day's plan; only the mobile team's coordinator sees them.

Users are switched to English so the assertions read the msgids.
"""

from __future__ import annotations

from sqlalchemy import func, select

from core import accounts
from rounds.models import MealOrder, Ride
from tests.support import text_of
from tests.web.rounds_world import DAY, meal_form, ride_form


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_the_stops_and_this_week_s_permanences(login):
    browser = login("mobile-coord")
    page = text_of(browser.get(f"/tournees/?jour={DAY}"))
    assert "Minibus stops and permanences" in page
    assert "Jumet, place du Ballon" in page and "6041 Gosselies" in page
    assert "04/03" in page and "Housing" in page  # Tuesday's permanence at Jumet
    assert browser.get("/tournees/?jour=not-a-day").status_code == 200


def test_a_meal_order_and_a_ride_are_saved_then_planned(login, db):
    browser = login("mobile-coord")
    response = browser.post(f"/tournees/repas?jour={DAY}", data=meal_form())
    assert response.status_code == 302
    response = browser.post(f"/tournees/transports?jour={DAY}", data=ride_form())
    assert response.status_code == 302
    page = text_of(browser.get(f"/tournees/repas?jour={DAY}"))
    assert "Mme Testeur" in page and "Diabetic" in page
    assert "M. Passager" in text_of(browser.get(f"/tournees/transports?jour={DAY}"))
    response = browser.post("/tournees/plan", data={"jour": DAY})
    assert response.status_code == 302
    page = text_of(browser.get(f"/tournees/plan?jour={DAY}"))
    assert "Day planned: 2 placed, 0 left out." in page
    assert "Mme Testeur" in page and "Pick-up" in page and "Drop-off" in page
    order = db.scalar(select(MealOrder).where(MealOrder.household == "Mme Testeur"))
    db.refresh(order)
    assert order.vehicle_id is not None and order.planned_at is not None


def test_bad_input_shows_sentences_and_saves_nothing(login, db):
    browser = login("mobile-coord")
    before = count(db, MealOrder), count(db, Ride)
    response = browser.post(
        f"/tournees/repas?jour={DAY}",
        data=meal_form(postcode="12", window_end="08:00", meals="abc", latitude=""),
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "Give a Belgian postcode: 4 digits, for example 1000." in page
    assert "The end must come after the start." in page
    assert "Nothing was saved." in page
    response = browser.post(f"/tournees/transports?jour={DAY}", data=ride_form(seats="40"))
    assert response.status_code == 422
    assert "No vehicle of the team has that many seats (at most 8)." in text_of(response)
    assert (count(db, MealOrder), count(db, Ride)) == before


def test_other_coordinators_hear_404(login):
    browser = login("coordination")  # home care's coordinator
    for path in ("/tournees/", "/tournees/repas", "/tournees/transports", "/tournees/plan"):
        assert browser.get(path).status_code == 404, path
    assert browser.post("/tournees/plan", data={"jour": DAY}).status_code == 404
    assert browser.post("/tournees/repas", data=meal_form()).status_code == 404


def test_the_demo_coordinator_is_in_the_mobile_team(db):
    user = accounts.find_user(db, "mobile-coord")
    assert user is not None and user.team.code == "clr-mobile"
