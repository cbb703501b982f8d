"""A vehicle's, a meal order's, a ride's data, a minibus round near May Day: the rounds tests."""

from __future__ import annotations

from datetime import date, timedelta

from rounds import services

DAY = date(2031, 3, 4)  # a Tuesday, far from the demo's days
CENTRE = (50.4117, 4.4408)


def vehicle_data(**changes) -> dict:
    return {
        "name": "Test van",
        "kind": "van",
        "seats": "3",
        "meal_capacity": "10",
        "depot_address": "Boulevard Joseph II 13",
        "latitude": CENTRE[0],
        "longitude": CENTRE[1],
        "day_start": "09:00",
        "day_end": "13:00",
    } | changes


def order_data(i: int = 0, **changes) -> dict:
    return {
        "day": DAY.isoformat(),
        "household": f"Household {i}",
        "address": f"Rue de Marchienne {i + 1}",
        "postcode": "6000",
        "city": "Charleroi",
        "latitude": CENTRE[0] + 0.002 * (i % 5),
        "longitude": CENTRE[1] - 0.002 * (i // 5),
        "meals": "1",
        "diet": "normal",
        "window_start": "10:00",
        "window_end": "12:00",
    } | changes


def ride_data(i: int = 0, **changes) -> dict:
    return {
        "day": DAY.isoformat(),
        "person": f"Person {i}",
        "pickup_address": "Rue de Gosselies 21, Jumet",
        "pickup_latitude": 50.4432,
        "pickup_longitude": 4.4297,
        "dropoff_address": "Grand'Rue 3, Charleroi",
        "dropoff_latitude": 50.4119,
        "dropoff_longitude": 4.4454,
        "pickup_from": "09:30",
        "pickup_until": "10:30",
        "seats": "1",
    } | changes


MAY_DAY = date(2031, 5, 1)  # Fête du Travail, a Thursday
FIRST = MAY_DAY - timedelta(days=MAY_DAY.weekday())  # its Monday


def _minibus_round(db, coord, team_id, **changes):
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
    template = services.create_template(
        db,
        coord,
        team_id,
        {
            "vehicle_id": str(vehicle.id),
            "name": "Minibus test",
            "kind": "minibus",
            "weekday": str(MAY_DAY.weekday()),
            "starts": "09:00",
            "ends": "13:00",
            "active_from": "2031-04-01",
        }
        | changes,
    )
    for starts, ends in (("09:00", "10:30"), ("11:00", "12:30")):
        services.add_permanence(
            db,
            coord,
            team_id,
            {
                "template_id": str(template.id),
                "stop_id": str(stop.id),
                "starts": starts,
                "ends": ends,
                "topic": "social",
            },
        )
    return vehicle, template
