"""Meals and indicators pages (issue 19): weekly orders and the cut-off rule with their
forms, cancelling an order (refused after the cut-off with a clear sentence), the
kitchen's list and a meal round's delivery sheet, the month's indicators with CSV/XLSX
(formulas neutralised, not audited) and the audited billing file; anybody but the mobile
team's coordinator hears 404. The clock is frozen (users switched to English)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from core import accounts, clock
from core.audit import AuditEntry
from rounds import services
from rounds.models import MealOrder, WeeklyMealOrder
from tests.db.rounds_world import order_data, vehicle_data
from tests.support import text_of

NOW = datetime(2031, 3, 27, 9, 0, tzinfo=UTC)  # Thursday 27 March 2031, 10:00 in Brussels
FRIDAY = date(2031, 3, 28)  # its cut-off: Thursday 10:00 (09:00 UTC)
MONDAY = date(2031, 3, 31)


@pytest.fixture()
def frozen():
    with clock.frozen(NOW) as traveller:
        yield traveller


@pytest.fixture()
def coord(db):
    return accounts.find_user(db, "mobile-coord")


def weekly_form(**changes) -> dict:
    return {
        "form": "weekly",
        "household": "Mme Semaine",
        "address": "Rue du Pont 3",
        "postcode": "6000",
        "city": "Charleroi",
        "latitude": "50.41",
        "longitude": "4.44",
        "weekdays": ["0", "2"],
        "meals": "1",
        "diet": "mixed_texture",
        "window_start": "10:00",
        "window_end": "12:00",
        "starts_on": "2031-03-31",
    } | changes


def test_weekly_orders_and_the_rule_through_their_forms(frozen, login, db):
    browser = login("mobile-coord")
    assert "Weekly meal orders" in text_of(browser.get("/tournees/repas/semaine"))
    assert browser.post("/tournees/repas/semaine", data=weekly_form()).status_code == 302
    weekly = db.scalar(select(WeeklyMealOrder).where(WeeklyMealOrder.household == "Mme Semaine"))
    assert weekly is not None and weekly.weekdays == "0,2"
    response = browser.post("/tournees/repas/commandes", data={"jour": "2031-03-31"})
    assert response.status_code == 302
    page = text_of(browser.get("/tournees/repas/semaine"))
    assert "Orders made:" in page
    made = select(func.count()).select_from(MealOrder).where(MealOrder.weekly_id == weekly.id)
    assert db.scalar(made) == 4  # 2 Mondays, 2 Wednesdays
    assert "Mme Semaine" in page and "Monday, Wednesday" in page
    before = db.scalar(select(func.count()).select_from(WeeklyMealOrder))
    response = browser.post("/tournees/repas/semaine", data=weekly_form(weekdays=[], meals="x"))
    assert response.status_code == 422
    assert "Nothing was saved." in text_of(response)
    assert db.scalar(select(func.count()).select_from(WeeklyMealOrder)) == before
    # A rule whose first cut-off (Thursday 10:00) has just passed: refused, said plainly.
    rule = {"form": "rule", "applies_from": "2031-03-28", "cutoff_days": "1"}
    response = browser.post("/tournees/repas/semaine", data=rule | {"cutoff_time": "10:00"})
    assert response.status_code == 422
    assert "27/03/2031 10:00, which is already past" in text_of(response)
    response = browser.post("/tournees/repas/semaine", data=rule | {"cutoff_time": "14:00"})
    assert response.status_code == 302
    assert services.rules(db, browser_team(db)) != []


def browser_team(db) -> int:
    return accounts.find_user(db, "mobile-coord").team_id


def test_cancelling_before_and_after_the_cutoff(frozen, login, db, coord):
    """One cancellation, the team's rule, from the day's list or the order's page; the
    list's former address goes on to it (308, the same POST)."""
    team_id = coord.team_id
    late = services.create_meal_order(db, coord, team_id, order_data(0, day=FRIDAY.isoformat()))
    early = services.create_meal_order(db, coord, team_id, order_data(1, day=MONDAY.isoformat()))
    other = services.create_meal_order(db, coord, team_id, order_data(2, day=MONDAY.isoformat()))
    browser = login("mobile-coord")
    response = browser.post(f"/tournees/repas/{late.id}/annuler", data={"retour": "jour"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/tournees/repas?jour=2031-03-28")
    page = text_of(browser.get("/tournees/repas?jour=2031-03-28"))
    assert "Too late to cancel: cancellations for this day closed on 27/03/2031 10:00." in page
    db.refresh(late)
    assert not late.cancelled
    response = browser.post(f"/tournees/repas/{late.id}/annuler")  # from the order's page
    assert response.headers["Location"].endswith(f"/tournees/repas/{late.id}")
    assert "Too late to cancel" in text_of(browser.get(f"/tournees/repas/{late.id}"))
    response = browser.post(f"/tournees/repas/{early.id}/annuler")
    assert response.status_code == 302
    assert "Order cancelled" in text_of(browser.get(f"/tournees/repas/{early.id}"))
    db.refresh(early)
    assert early.cancelled and early.cancelled_by_id == coord.id
    assert early.cancelled_at is not None and early.vehicle_id is None
    response = browser.post(f"/tournees/repas/{early.id}/annuler")
    assert "This is already cancelled." in text_of(browser.get(f"/tournees/repas/{early.id}"))
    old = browser.post(f"/tournees/repas/commandes/{other.id}/annuler")
    assert old.status_code == 308
    assert old.headers["Location"].endswith(f"/tournees/repas/{other.id}/annuler?retour=jour")
    response = browser.post(old.headers["Location"])
    assert response.headers["Location"].endswith("/tournees/repas?jour=2031-03-31")
    db.refresh(other)
    assert other.cancelled
    kitchen = text_of(browser.get("/tournees/cuisine?jour=2031-03-28"))
    assert "Cancellations for this day close on 27/03/2031 10:00." in kitchen
    assert "1 order counted" in kitchen
    assert "0 orders counted" in text_of(browser.get("/tournees/cuisine?jour=2031-03-31"))
    assert browser.post("/tournees/repas/commandes/not-an-id/annuler").status_code == 404
    assert browser.post(f"/tournees/repas/{uuid.uuid4()}/annuler").status_code == 404


def test_a_meal_round_s_delivery_sheet(frozen, login, db, coord):
    team_id = coord.team_id
    for vehicle in services.vehicles(db, team_id):
        vehicle.active = False
    van = services.create_vehicle(db, coord, team_id, vehicle_data())
    dated = services.create_round(
        db,
        coord,
        team_id,
        {
            "vehicle_id": str(van.id),
            "name": "Repas Nord",
            "kind": "meals",
            "day": MONDAY.isoformat(),
            "starts": "09:00",
            "ends": "13:00",
        },
    )
    services.create_meal_order(
        db,
        coord,
        team_id,
        order_data(3, day=MONDAY.isoformat(), instructions="Sonner deux fois", diet="no_salt"),
    )
    services.plan_day(db, team_id, MONDAY, seconds=0.5, actor=coord)
    browser = login("mobile-coord")
    assert "Repas Nord" in text_of(browser.get("/tournees/cuisine?jour=2031-03-31"))
    sheet = browser.get(f"/tournees/repas/feuille/{dated.id}")
    assert sheet.status_code == 200
    page = text_of(sheet)
    assert "Household 3" in page and "Sonner deux fois" in page and "No salt" in page
    assert 'class="slip-page' in sheet.get_data(as_text=True)
    for outsider in ("coordination", "mobile1"):
        other = login(outsider)
        assert other.get(f"/tournees/repas/feuille/{dated.id}").status_code in (403, 404)


def test_indicators_and_their_downloads(frozen, login, db, coord):
    team_id = coord.team_id
    minibus = next(v for v in services.vehicles(db, team_id) if v.kind == "minibus")
    services.create_round(
        db,
        coord,
        team_id,
        {
            "vehicle_id": str(minibus.id),
            "name": "=HYPERLINK(1)",
            "kind": "minibus",
            "day": "2031-03-05",
            "starts": "06:00",
            "ends": "07:00",
        },
    )
    browser = login("mobile-coord")
    page = text_of(browser.get("/tournees/indicateurs?mois=2031-03"))
    assert "Rounds indicators, 03/2031" in page and "=HYPERLINK(1)" in page
    assert browser.get("/tournees/indicateurs?mois=zz").status_code == 200
    entries = db.scalar(select(func.count()).select_from(AuditEntry))
    csv = browser.get("/tournees/indicateurs.csv?mois=2031-03")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    body = csv.get_data(as_text=True)
    assert "'=HYPERLINK(1)" in body and "Median lateness (min)" in body
    xlsx = browser.get("/tournees/indicateurs.xlsx?mois=2031-03")
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet["A1"].value == "Round"
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == entries  # no names
    billing = browser.get("/tournees/repas/livres.csv?mois=2031-03")
    assert billing.status_code == 200 and "Meals delivered" in billing.get_data(as_text=True)
    audited = db.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "rounds_meals_export")
    ).all()
    assert [e.entity_id for e in audited] == [f"{team_id}:2031-03"]
    assert browser.get("/tournees/indicateurs.pdf").status_code == 404


def test_anybody_else_hears_404(frozen, login, db, coord):
    order = services.create_meal_order(
        db, coord, coord.team_id, order_data(0, day=MONDAY.isoformat())
    )
    for outsider in ("coordination", "as3", "admin", "mobile1"):
        browser = login(outsider)
        for path in (
            "/tournees/repas/semaine",
            "/tournees/cuisine",
            "/tournees/indicateurs",
            "/tournees/indicateurs.csv",
            "/tournees/repas/livres.xlsx",
        ):
            assert browser.get(path).status_code in (403, 404), (outsider, path)
        response = browser.post(f"/tournees/repas/{order.id}/annuler")
        assert response.status_code in (403, 404), outsider
    db.refresh(order)
    assert not order.cancelled and db.get(MealOrder, order.id) is not None
