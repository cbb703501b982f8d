"""Rounds services: vehicles, stops, permanences, meal orders and rides (validation with
field codes, nothing saved on refusal, team scope), and planning a day with core.routing
(every order and ride placed or listed with a reason; meals, seats and windows kept)."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import accounts, routing
from core.audit import AuditEntry
from core.errors import Invalid
from rounds import services
from rounds.models import MealOrder, Permanence, Ride, Vehicle
from tests.db.rounds_world import DAY, order_data, ride_data, vehicle_data


@pytest.fixture()
def coord(db: Session) -> accounts.User:
    found = accounts.find_user(db, "mobile-coord")
    assert found is not None
    return found


@pytest.fixture()
def team_id(coord) -> int:
    assert coord.team_id is not None
    return coord.team_id


def template_data(vehicle, **changes) -> dict:
    return {
        "vehicle_id": str(vehicle.id),
        "name": "Test round",
        "kind": "minibus",
        "weekday": "1",
        "starts": "08:30",
        "ends": "15:00",
        "active_from": "2031-01-06",
    } | changes


def _only_test_vehicle(db: Session, team_id: int) -> None:
    """The demo's vehicles off the road, so each test plans on vehicles it made."""
    for vehicle in db.scalars(select(Vehicle).where(Vehicle.team_id == team_id)):
        vehicle.active = False
    db.flush()


def test_bad_input_is_refused_with_field_codes_and_nothing_saved(db, coord, team_id):
    before = db.scalar(select(func.count()).select_from(MealOrder))
    with pytest.raises(Invalid) as refused:
        services.create_meal_order(
            db,
            coord,
            team_id,
            order_data(postcode="60", meals="0", window_end="09:00", diet="spicy", latitude=""),
        )
    codes = {name: error.code for name, error in refused.value.errors.items()}
    assert codes == {
        "postcode": "invalid_postcode",
        "meals": "out_of_range",
        "window_end": "ends_before_start",
        "diet": "unknown_choice",
        "latitude": "required",
    }
    assert db.scalar(select(func.count()).select_from(MealOrder)) == before


def test_a_ride_over_every_vehicle_s_seats_is_refused(db, coord, team_id):
    most = max(v.seats for v in services.vehicles(db, team_id))
    with pytest.raises(Invalid) as refused:
        services.create_ride(db, coord, team_id, ride_data(seats=str(most + 1)))
    assert refused.value.errors["seats"].code == "over_vehicle_seats"
    assert refused.value.errors["seats"].params == {"seats": most}


def test_permanences_in_order_and_the_vehicle_never_at_two_stops(db, coord, team_id):
    vehicle = services.create_vehicle(db, coord, team_id, vehicle_data(kind="minibus"))
    stop = services.create_stop(
        db,
        coord,
        team_id,
        {
            "vehicle_id": str(vehicle.id),
            "name": "Monceau, église",
            "address": "Place de Monceau",
            "postcode": "6031",
            "city": "Monceau-sur-Sambre",
            "latitude": 50.4152,
            "longitude": 4.3940,
        },
    )
    other = services.create_stop(
        db,
        coord,
        team_id,
        {
            "vehicle_id": str(vehicle.id),
            "name": "Marchienne, place",
            "address": "Place Albert Ier",
            "postcode": "6030",
            "city": "Marchienne-au-Pont",
            "latitude": 50.4067,
            "longitude": 4.3960,
        },
    )
    template = services.create_template(db, coord, team_id, template_data(vehicle))
    services.add_permanence(
        db, coord, team_id, {"template_id": str(template.id), "stop_id": str(stop.id),
                             "starts": "9:00", "ends": "10:30"}
    )  # fmt: skip
    with pytest.raises(Invalid) as refused:
        services.add_permanence(
            db, coord, team_id, {"template_id": str(template.id), "stop_id": str(other.id),
                                 "starts": "10:00", "ends": "11:00"}
        )  # fmt: skip
    assert refused.value.errors["starts"].code == "vehicle_busy"
    with pytest.raises(Invalid) as refused:
        services.add_permanence(
            db, coord, team_id, {"template_id": str(template.id), "stop_id": str(other.id),
                                 "starts": "12:00", "ends": "11:00"}
        )  # fmt: skip
    assert refused.value.errors["ends"].code == "ends_before_start"
    with pytest.raises(Invalid) as refused:
        services.add_permanence(
            db, coord, team_id, {"template_id": str(template.id), "stop_id": str(other.id),
                                 "starts": "16:00", "ends": "17:00"}
        )  # fmt: skip
    assert refused.value.errors["starts"].code == "outside_round_hours"
    held = services.week_permanences(db, team_id, date(2031, 3, 3))
    assert any(h.stop.id == stop.id and h.day == DAY for h in held)
    assert db.scalar(select(func.count()).where(Permanence.stop_id == other.id)) == 0


def test_another_team_s_coordinator_is_refused_alike(db, team_id):
    other = accounts.find_user(db, "coordination")  # home care's coordinator
    with pytest.raises(Invalid) as refused:
        services.create_meal_order(db, other, team_id, order_data())
    assert refused.value.errors == {"team_id": refused.value.errors["team_id"]}
    assert refused.value.errors["team_id"].code == "unknown_team"


def test_changes_are_stamped_and_audited(db, coord, team_id):
    order = services.create_meal_order(db, coord, team_id, order_data())
    assert order.version == 1 and order.changed_by_id == coord.id
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "rounds_meal_order", AuditEntry.entity_id == str(order.id)
        )
    )
    assert entry is not None


def test_planning_a_day_places_or_explains_every_order_and_ride(db, coord, team_id):
    _only_test_vehicle(db, team_id)
    services.create_vehicle(db, coord, team_id, vehicle_data(name="Meals", meal_capacity="8"))
    services.create_vehicle(
        db, coord, team_id, vehicle_data(name="Car", seats="2", meal_capacity="0")
    )
    for i in range(12):  # 13 meals for 8 places: some stay out, over capacity
        services.create_meal_order(db, coord, team_id, order_data(i, meals="2" if i == 0 else "1"))
    for i in range(3):
        services.create_ride(db, coord, team_id, ride_data(i, seats="2" if i == 0 else "1"))
    far = services.create_meal_order(
        db,
        coord,
        team_id,
        order_data(99, latitude=51.3, longitude=3.1),  # the coast
    )
    plan = services.plan_day(db, team_id, DAY, seconds=0.5, actor=coord)
    assert plan.problems == []  # capacity, seats, windows and shifts: core.routing.check
    assert routing.check(plan.problem, plan.solution) == []
    orders = services.meal_orders(db, team_id, DAY)
    day_rides = services.rides(db, team_id, DAY)
    for order in orders:
        assert (order.vehicle_id is not None) != bool(order.unplaced), order.household
        if order.vehicle_id:
            assert time(10, 0) <= order.planned_at <= time(12, 0)
    for ride in day_rides:
        assert (ride.vehicle_id is not None) != bool(ride.unplaced), ride.person
        if ride.vehicle_id:
            assert time(9, 30) <= ride.pickup_at <= time(10, 30)
            assert ride.pickup_position < ride.dropoff_position
    assert far.unplaced
    placed_meals = {}
    for order in orders:
        if order.vehicle_id:
            placed_meals[order.vehicle_id] = placed_meals.get(order.vehicle_id, 0) + order.meals
    for vehicle_id, meals in placed_meals.items():
        assert meals <= db.get(Vehicle, vehicle_id).meal_capacity
    assert plan.placed + plan.unplaced == len(orders) + len(day_rides)
    view = services.day_view(db, team_id, DAY)
    assert sum(len(v.stops) for v in view.vehicles) == sum(
        1 for o in orders if o.vehicle_id
    ) + 2 * sum(1 for r in day_rides if r.vehicle_id)
    assert len(view.unplaced_orders) + len(view.unplaced_rides) == plan.unplaced


def test_a_day_without_vehicle_lists_everything_with_its_reason(db, coord, team_id):
    services.create_meal_order(db, coord, team_id, order_data())
    services.create_ride(db, coord, team_id, ride_data())
    _only_test_vehicle(db, team_id)
    plan = services.plan_day(db, team_id, DAY, seconds=0.1)
    assert plan.placed == 0 and plan.unplaced == 2
    assert {o.unplaced for o in services.meal_orders(db, team_id, DAY)} == {"no_vehicle"}
    assert {r.unplaced for r in db.scalars(select(Ride).where(Ride.day == DAY))} == {"no_vehicle"}


def test_the_demo_has_the_charleroi_minibus_and_a_planned_day(db, team_id):
    vehicles = services.vehicles(db, team_id)
    assert any(v.kind == "minibus" for v in vehicles)
    stops = services.stops(db, team_id)
    assert {s.postcode for s in stops} >= {"6000", "6040", "6041"}
    days = db.scalars(select(MealOrder.day).where(MealOrder.team_id == team_id)).all()
    assert len(days) >= 20
    planned = db.scalars(
        select(MealOrder).where(MealOrder.team_id == team_id, MealOrder.weekly_id.is_(None))
    ).all()
    assert all(o.vehicle_id is not None or o.unplaced for o in planned)
    # Standing orders too, their orders made from the day after the demo's (not planned yet).
    assert len(services.weekly_orders(db, team_id)) == 5
    assert db.scalar(
        select(func.count()).where(MealOrder.team_id == team_id, MealOrder.weekly_id.is_not(None))
    )
