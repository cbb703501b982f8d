"""Dated-round edits and weekly meal orders through the pages (issue 19): a skipped stop
restored, a template's stop changed in place, a one-off round made by hand, a weekly
order changed and ended (the orders already made follow while their cut-off is open),
the nightly job making the coming orders. Stale forms answer 409, bad input a sentence
and nothing saved; another mobile team's coordinator, another CPAS's, the crew and home
aides are refused like an unknown page. The clock is frozen."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import func, select

from core import clock
from core.audit import AuditEntry
from core.scheduler import load_jobs
from rounds import meals, services
from rounds.models import MealOrder, Permanence, Round, WeeklyMealOrder
from tests.db.rounds_world import _minibus_round, order_data
from tests.support import text_of
from tests.web.rounds_world import TUESDAY, _tuesday_round, coord, frozen, outsiders

__all__ = ["coord", "frozen", "outsiders"]  # the fixtures, from tests/web/rounds_world.py


def _audited(db, entity_type: str, entity_id) -> int:
    return db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == str(entity_id))
    )


def test_a_skipped_stop_is_restored_once(frozen, login, db, coord, outsiders):
    dated, stops, _ = _tuesday_round(db, coord)
    browser = login("mobile-coord")
    url = f"/tournees/dates/{dated.id}/arrets/{stops[0].id}"
    assert browser.post(f"{url}/sauter", data={"reason": "Travaux"}).status_code == 302
    db.refresh(stops[0])
    db.refresh(dated)
    revision = dated.revision
    assert "Restore the stop" in text_of(browser.get(f"/tournees/dates/{dated.id}"))
    for outsider in outsiders:
        response = login(outsider).post(f"{url}/retablir", data={"version": stops[0].version})
        assert response.status_code in (403, 404), outsider
    stale = browser.post(f"{url}/retablir", data={"version": stops[0].version - 1})
    assert stale.status_code == 409
    assert "Someone changed this round while you were on the page" in text_of(stale)
    # A page that still showed the stop as planned: skipping or moving it again is 409.
    old = {"version": stops[0].version - 1, "reason": "Marché", "moved_to": "11:00"}
    assert browser.post(f"{url}/sauter", data=old).status_code == 409
    assert browser.post(f"{url}/deplacer", data=old).status_code == 409
    stale_cancel = {"version": dated.version - 1, "reason": "Garage"}
    response = browser.post(f"/tournees/dates/{dated.id}/annuler", data=stale_cancel)
    assert response.status_code == 409
    db.refresh(stops[0])
    assert stops[0].status == "skipped"
    response = browser.post(f"{url}/retablir", data={"version": stops[0].version})
    assert response.status_code == 302
    db.refresh(stops[0])
    db.refresh(dated)
    assert (stops[0].status, stops[0].reason) == ("planned", "")
    assert dated.revision == revision + 1
    assert _audited(db, "rounds_round_stop", stops[0].id) == 2  # skipped, then restored
    again = browser.post(f"{url}/retablir", data={"version": stops[0].version})
    assert again.status_code == 422
    assert "This stop is not skipped: there is nothing to restore." in text_of(again)


def test_a_template_s_stop_is_changed_in_place(frozen, login, db, coord, outsiders):
    _dated, _stops, (first, second) = _tuesday_round(db, coord)
    browser = login("mobile-coord")
    url = f"/tournees/permanences/{first.id}"
    page = text_of(browser.get(url))
    assert "Arrives" in page and "09:00" in page
    form = {"stop_id": str(first.stop_id), "topic": "jobs", "version": str(first.version)}
    refusals = (
        ({"starts": "10:00", "ends": "09:30"}, "The end must come after the start."),
        ({"starts": "10:00", "ends": "11:30"}, "already at another stop from 11:00 to 12:30"),
        ({"starts": "08:00", "ends": "09:30"}, "choose times within those hours"),
        ({"starts": "nine", "ends": "10:30"}, "Nothing was saved."),
    )
    for change, sentence in refusals:
        response = browser.post(url, data=form | change)
        assert response.status_code == 422, change
        assert sentence in text_of(response), change
    db.refresh(first)
    assert (first.starts, first.ends, first.topic) == (time(9), time(10, 30), "social")
    for outsider in outsiders:
        response = login(outsider).post(url, data=form | {"starts": "09:15", "ends": "10:45"})
        assert response.status_code in (403, 404), outsider
        assert login(outsider).get(url).status_code in (403, 404), outsider
    response = browser.post(url, data=form | {"starts": "09:15", "ends": "10:45"})
    assert response.status_code == 302
    db.refresh(first)
    assert (first.starts, first.ends, first.topic) == (time(9, 15), time(10, 45), "jobs")
    assert _audited(db, "rounds_permanence", first.id) == 2  # added, then changed
    stale = browser.post(url, data=form | {"starts": "09:30", "ends": "10:45"})
    assert stale.status_code == 409
    assert "Someone changed this stop while you were editing it" in text_of(stale)
    db.refresh(first)
    assert first.starts == time(9, 15)
    template_page = text_of(browser.get(f"/tournees/modeles/{first.template_id}"))
    assert "Change the stop at 09:15" in template_page
    assert db.get(Permanence, second.id).starts == time(11)


def test_a_one_off_round_made_by_hand(frozen, login, db, coord, outsiders):
    vehicle, _template = _minibus_round(db, coord, coord.team_id, weekday="1")
    services.generate_rounds(db, coord.team_id, date(2031, 5, 5), 1, actor=coord)
    browser = login("mobile-coord")
    assert "New one-off round" in text_of(browser.get("/tournees/dates?jour=2031-05-05"))
    assert "Kind of round" in text_of(browser.get("/tournees/dates/nouveau?jour=2031-05-07"))
    form = {
        "vehicle_id": str(vehicle.id),
        "name": "Minibus – marché de Noël",
        "kind": "minibus",
        "day": "2031-05-07",
        "starts": "09:00",
        "ends": "12:00",
    }
    before = db.scalar(select(func.count()).select_from(Round))
    refusals = (
        ({"day": "2031-04-01"}, "This day is over: choose today or a later day."),
        ({"ends": "08:00"}, "The end must come after the start."),
        ({"day": TUESDAY.isoformat()}, "already at another stop from 09:00 to 13:00"),
        ({"vehicle_id": "not-an-id"}, "Nothing was saved."),
        ({"name": ""}, "This is needed."),
    )
    for change, sentence in refusals:
        response = browser.post("/tournees/dates/nouveau", data=form | change)
        assert response.status_code == 422, change
        assert sentence in text_of(response), change
    assert db.scalar(select(func.count()).select_from(Round)) == before
    for outsider in outsiders:  # another team's coordinator: not her vehicle
        response = login(outsider).post("/tournees/dates/nouveau", data=form)
        assert response.status_code in (403, 404, 422), outsider
        if response.status_code == 422:
            assert "This vehicle is not one of your team&#39;s." in text_of(response)
    for outsider in outsiders[2:]:
        assert login(outsider).get("/tournees/dates/nouveau").status_code in (403, 404)
    assert db.scalar(select(func.count()).select_from(Round)) == before
    response = browser.post("/tournees/dates/nouveau", data=form)
    assert response.status_code == 302
    made = db.scalar(select(Round).where(Round.name == "Minibus – marché de Noël"))
    assert made.template_id is None and made.day == date(2031, 5, 7)
    assert response.headers["Location"].endswith(f"/tournees/dates/{made.id}")
    assert _audited(db, "rounds_round", made.id) == 1


def _weekly(db, coord) -> WeeklyMealOrder:
    return services.create_weekly(
        db,
        coord,
        coord.team_id,
        {
            "household": "Mme Semaine",
            "address": "Rue du Pont 3",
            "postcode": "6000",
            "city": "Charleroi",
            "latitude": "50.41",
            "longitude": "4.44",
            "weekdays": ["0", "2"],
            "meals": "1",
            "diet": "normal",
            "window_start": "10:00",
            "window_end": "12:00",
            "starts_on": "2031-04-28",
        },
    )


def _orders(db, weekly) -> dict[str, tuple[int, bool]]:
    found = db.scalars(select(MealOrder).where(MealOrder.weekly_id == weekly.id))
    return {o.day.isoformat(): (o.meals, o.cancelled) for o in found}


def test_a_weekly_order_changed_then_ended(frozen, login, db, coord, outsiders):
    weekly = _weekly(db, coord)
    services.make_orders(db, coord.team_id, date(2031, 4, 28), 14, actor=coord)
    assert _orders(db, weekly) == {
        "2031-04-28": (1, False),  # its cut-off (Sunday 10:00) is past
        "2031-04-30": (1, False),
        "2031-05-05": (1, False),
        "2031-05-07": (1, False),
    }
    browser = login("mobile-coord")
    url = f"/tournees/repas/semaine/{weekly.id}"
    assert "Mme Semaine" in text_of(browser.get("/tournees/repas/semaine"))
    page = text_of(browser.get(url))
    assert "Change the weekly order" in page and "End the weekly order" in page
    form = {
        "household": "Mme Semaine",
        "address": "Rue du Pont 3",
        "postcode": "6000",
        "city": "Charleroi",
        "latitude": "50.41",
        "longitude": "4.44",
        "weekdays": ["0"],  # Wednesdays no more
        "meals": "2",
        "diet": "no_salt",
        "window_start": "10:00",
        "window_end": "12:00",
        "starts_on": "2031-04-28",
        "version": str(weekly.version),
    }
    for outsider in outsiders:
        assert login(outsider).get(url).status_code in (403, 404), outsider
        assert login(outsider).post(url, data=form).status_code in (403, 404), outsider
        response = login(outsider).post(f"{url}/fin", data={"ends_on": "2031-05-01"})
        assert response.status_code in (403, 404), outsider
    bad = browser.post(url, data=form | {"meals": "x", "weekdays": []})
    assert bad.status_code == 422
    assert "Nothing was saved." in text_of(bad)
    db.refresh(weekly)
    assert (weekly.meals, weekly.weekdays) == (1, "0,2")
    response = browser.post(url, data=form)
    assert response.status_code == 302
    assert "1 changed, 2 cancelled, 1 kept (past their cut-off)" in text_of(browser.get(url))
    assert _orders(db, weekly) == {
        "2031-04-28": (1, False),  # the kitchen counted it: as it was
        "2031-04-30": (1, True),
        "2031-05-05": (2, False),
        "2031-05-07": (1, True),
    }
    stale = browser.post(url, data=form | {"meals": "3"})
    assert stale.status_code == 409
    assert "Someone changed this weekly order" in text_of(stale)
    db.refresh(weekly)
    assert weekly.meals == 2
    past = browser.post(f"{url}/fin", data={"ends_on": "2031-04-01", "version": weekly.version})
    assert past.status_code == 422
    assert "This day is over" in text_of(past)
    response = browser.post(f"{url}/fin", data={"ends_on": "2031-05-01", "version": "0"})
    assert response.status_code == 409
    response = browser.post(f"{url}/fin", data={"ends_on": "2031-05-01", "version": weekly.version})
    assert response.status_code == 302
    db.refresh(weekly)
    assert weekly.ends_on == date(2031, 5, 1)
    assert _orders(db, weekly)["2031-05-05"] == (2, True)
    assert _audited(db, "rounds_weekly_meal_order", weekly.id) == 3  # made, changed, ended
    # Nothing more is made after its end.
    services.make_orders(db, coord.team_id, date(2031, 5, 5), 14)
    assert sorted(_orders(db, weekly)) == ["2031-04-28", "2031-04-30", "2031-05-05", "2031-05-07"]


def test_the_nightly_job_makes_the_coming_orders_once(frozen, db, coord):
    assert "rounds.meal_orders" in {job.name for job in load_jobs(["rounds.jobs"])}
    weekly = _weekly(db, coord)
    made = meals.make_due_orders(db, clock.now())
    assert made >= 4  # this one's four, and the demo's standing orders'
    # From tomorrow (Tuesday 29) for 14 days: Wednesdays 30/4, 7/5 and Mondays 5/5, 12/5.
    assert sorted(_orders(db, weekly)) == ["2031-04-30", "2031-05-05", "2031-05-07", "2031-05-12"]
    assert meals.make_due_orders(db, clock.now()) == 0


def test_a_meal_order_changes_and_cancels_under_the_team_s_rule(frozen, login, db, coord):
    """The team's cut-off (two days before at 10:00) closes both the change and the
    cancellation of Wednesday's order on Monday at 10:00 (the fixed rule said Tuesday)."""
    with clock.frozen(datetime(2031, 4, 1, 8, 0, tzinfo=UTC)):
        rule = {"applies_from": "2031-04-21", "cutoff_days": "2", "cutoff_time": "10:00"}
        services.set_rule(db, coord, coord.team_id, rule)
        order = services.create_meal_order(
            db, coord, coord.team_id, order_data(0, day="2031-04-30")
        )
    browser = login("mobile-coord")
    form = order_data(0, day="2031-04-30", meals="3")
    response = browser.post(f"/tournees/repas/{order.id}", data=form)
    assert response.status_code == 422
    assert "Too late: changes for this day were possible until 28/04/2031 10:00." in text_of(
        response
    )
    browser.post(f"/tournees/repas/{order.id}/annuler")
    page = text_of(browser.get(f"/tournees/repas/{order.id}"))
    assert "cancellations for this day closed on 28/04/2031 10:00" in page
    db.refresh(order)
    assert (order.meals, order.cancelled) == (1, False)
