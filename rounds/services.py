"""Rounds as services: vehicles, the minibus's stops and weekly permanences, meal orders,
rides, and the planning of a day with the shared optimiser (core/routing.py).

Each change checks its input (Invalid with field codes, nothing saved), stamps the record
for the team's sync feed and writes the audit log. The only module other domains import.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, routing, sync
from core import fields as parse
from core.accounts import User
from core.db import committed
from core.errors import FieldError, Invalid
from rounds import access, dated
from rounds.dated import (
    Generated,
    StopLine,
    cancel_round,
    create_round,
    create_template,
    fill_from_plan,
    generate_rounds,
    move_stop,
    permanences_of,
    refresh_day,
    round_clash,
    round_lines,
    round_stops,
    round_to_follow,
    rounds_between,
    skip_stop,
    template_of,
    templates,
    update_template,
)
from rounds.indicators import RoundIndicators, month_indicators
from rounds.meals import (
    HouseholdMeals,
    Kitchen,
    Made,
    Rule,
    cancel_order,
    create_weekly,
    cutoff_of,
    eaten_days,
    kitchen_list,
    make_orders,
    meals_delivered,
    rule_for,
    rules,
    set_rule,
    weekly_orders,
)
from rounds.models import (
    ADDRESS_MAX,
    DIETS,
    NAME_MAX,
    TEXT_MAX,
    TOPICS,
    VEHICLE_KINDS,
    MealOrder,
    Permanence,
    Ride,
    Round,
    RoundStop,
    RoundTemplate,
    Stop,
    StopSubscription,
    Vehicle,
)

__all__ = [
    "Generated",
    "HouseholdMeals",
    "Kitchen",
    "Made",
    "MealOrder",
    "Permanence",
    "Ride",
    "Round",
    "RoundIndicators",
    "RoundStop",
    "RoundTemplate",
    "Rule",
    "Stop",
    "StopLine",
    "StopSubscription",
    "Vehicle",
    "cancel_order",
    "cancel_round",
    "create_round",
    "create_template",
    "create_weekly",
    "cutoff_of",
    "eaten_days",
    "fill_from_plan",
    "generate_rounds",
    "kitchen_list",
    "make_orders",
    "meals_delivered",
    "month_indicators",
    "move_stop",
    "permanences_of",
    "refresh_day",
    "round_clash",
    "round_lines",
    "round_stops",
    "round_to_follow",
    "rounds_between",
    "rule_for",
    "rules",
    "set_rule",
    "skip_stop",
    "template_of",
    "templates",
    "update_template",
    "weekly_orders",
]

MAX_SEATS = 60
MAX_MEALS = 500
MAX_MEALS_PER_ORDER = 20
DELIVERY_MINUTES = 3  # handing meals over at the door
RIDE_MINUTES = 3  # helping someone in or out
RIDE_LEG = 90  # minutes a passenger may stay on board after the pickup window
DEFAULT_SECONDS = 2.0


def _saved(session: Session, actor: User, record: Any, *, entity_type: str, fields: Any) -> None:
    """A record made or changed: stamped for the team's feed, audited, flushed."""
    sync.stamp(session, record, sync.team_scope(record.team_id), actor, None)
    names = sorted(name for name in fields if name != "csrf_token")
    audit.record_change(session, actor, entity_type, record.id, names)
    session.flush()


def _place(
    data: Mapping[str, Any], errors: dict[str, FieldError], prefix: str = ""
) -> tuple[float | None, float | None]:
    """Required coordinates `<prefix>latitude`, `<prefix>longitude`."""
    latitude = parse.number(
        data, f"{prefix}latitude", errors, within=(-90, 90), digits=6, required=True
    )
    longitude = parse.number(
        data, f"{prefix}longitude", errors, within=(-180, 180), digits=6, required=True
    )
    return latitude, longitude


def _span(
    data: Mapping[str, Any], start: str, end: str, errors: dict[str, FieldError]
) -> tuple[time | None, time | None]:
    """Two times of one day, the first before the second."""
    first = parse.time(data, start, errors, required=True)
    second = parse.time(data, end, errors, required=True)
    if first and second and second <= first:
        errors.setdefault(end, FieldError("ends_before_start"))
    return first, second


# --- Vehicles, stops, permanences --------------------------------------------------------


def create_vehicle(session: Session, actor: User, team_id: int, data: Mapping[str, Any]) -> Vehicle:
    """A vehicle of the mobile team, with its depot and its driver's day."""
    access.team_to_manage(actor, team_id)
    errors: dict[str, FieldError] = {}
    name = parse.text(data, "name", errors, limit=NAME_MAX, required=True)
    kind = parse.choice(data, "kind", errors, choices=VEHICLE_KINDS)
    plate = parse.text(data, "plate", errors, limit=20)
    driver = parse.text(data, "driver_name", errors, limit=NAME_MAX)
    seats = parse.integer(data, "seats", errors, within=(0, MAX_SEATS), required=True)
    meals = parse.integer(data, "meal_capacity", errors, within=(0, MAX_MEALS), required=True)
    depot = parse.text(data, "depot_address", errors, limit=ADDRESS_MAX, required=True)
    latitude, longitude = _place(data, errors)
    starts, ends = _span(data, "day_start", "day_end", errors)
    if errors:
        raise Invalid(errors)
    vehicle = Vehicle(
        id=uuid.uuid4(),
        team_id=team_id,
        name=name,
        kind=kind,
        plate=plate,
        driver_name=driver,
        seats=seats,
        meal_capacity=meals,
        depot_address=depot,
        depot_latitude=latitude,
        depot_longitude=longitude,
        day_start=starts,
        day_end=ends,
        active=True,
    )
    session.add(vehicle)
    _saved(session, actor, vehicle, entity_type="rounds_vehicle", fields=data.keys())
    return vehicle


def create_stop(session: Session, actor: User, team_id: int, data: Mapping[str, Any]) -> Stop:
    """A public stop of one of the team's vehicles."""
    access.team_to_manage(actor, team_id)
    errors: dict[str, FieldError] = {}
    vehicle_id = parse.uuid(data, "vehicle_id", errors, required=True)
    name = parse.text(data, "name", errors, limit=NAME_MAX, required=True)
    address = parse.text(data, "address", errors, limit=ADDRESS_MAX, required=True)
    postcode = parse.postcode(data, "postcode", errors)
    city = parse.text(data, "city", errors, limit=80, required=True)
    latitude, longitude = _place(data, errors)
    if vehicle_id is not None and "vehicle_id" not in errors:
        vehicle = session.get(Vehicle, vehicle_id)
        if vehicle is None or vehicle.team_id != team_id:
            errors["vehicle_id"] = FieldError("unknown_vehicle")
    if errors:
        raise Invalid(errors)
    stop = Stop(
        id=uuid.uuid4(),
        team_id=team_id,
        vehicle_id=vehicle_id,
        name=name,
        address=address,
        postcode=postcode,
        city=city,
        latitude=latitude,
        longitude=longitude,
        active=True,
    )
    session.add(stop)
    _saved(session, actor, stop, entity_type="rounds_stop", fields=data.keys())
    return stop


def add_permanence(
    session: Session, actor: User, team_id: int, data: Mapping[str, Any]
) -> Permanence:
    """A stop of a minibus round template (`template_id`): at one of its vehicle's stops,
    arriving at `starts`, leaving at `ends`, within the template's hours; the vehicle
    cannot be at two stops at once."""
    access.team_to_manage(actor, team_id)
    errors: dict[str, FieldError] = {}
    template_id = parse.uuid(data, "template_id", errors, required=True)
    stop_id = parse.uuid(data, "stop_id", errors, required=True)
    starts, ends = _span(data, "starts", "ends", errors)
    topic = parse.choice(data, "topic", errors, choices=TOPICS, default="social")
    template = session.get(RoundTemplate, template_id) if template_id else None
    if template_id is not None and (template is None or template.team_id != team_id):
        errors["template_id"] = FieldError("unknown_template")
        template = None
    elif template is not None and template.kind != "minibus":
        errors["template_id"] = FieldError("not_a_minibus_round")
    stop = session.get(Stop, stop_id) if stop_id else None
    if stop_id is not None and (stop is None or stop.team_id != team_id):
        errors["stop_id"] = FieldError("unknown_stop")
    elif stop is not None and template is not None and stop.vehicle_id != template.vehicle_id:
        errors["stop_id"] = FieldError("stop_of_another_vehicle")
    if not errors and template is not None and (starts < template.starts or ends > template.ends):
        errors["starts"] = FieldError(
            "outside_round_hours",
            {"starts": template.starts.strftime("%H:%M"), "ends": template.ends.strftime("%H:%M")},
        )
    if not errors and template is not None:
        dated.lock_vehicle(session, template.vehicle_id)
        clash = session.scalar(
            select(Permanence)
            .join(RoundTemplate, RoundTemplate.id == Permanence.template_id)
            .where(
                RoundTemplate.vehicle_id == template.vehicle_id,
                Permanence.weekday == template.weekday,
                Permanence.starts < ends,
                Permanence.ends > starts,
            )
            .limit(1)
        )
        if clash is not None:
            errors["starts"] = FieldError(
                "vehicle_busy",
                {"starts": clash.starts.strftime("%H:%M"), "ends": clash.ends.strftime("%H:%M")},
            )
    if errors:
        raise Invalid(errors)
    assert template is not None
    permanence = Permanence(
        id=uuid.uuid4(),
        team_id=team_id,
        template_id=template.id,
        stop_id=stop_id,
        weekday=template.weekday,
        starts=starts,
        ends=ends,
        topic=topic,
    )
    session.add(permanence)
    _saved(session, actor, permanence, entity_type="rounds_permanence", fields=data.keys())
    return permanence


def vehicles(session: Session, team_id: int) -> list[Vehicle]:
    return list(
        session.scalars(
            select(Vehicle)
            .where(Vehicle.team_id == team_id, Vehicle.active)
            .order_by(Vehicle.name, Vehicle.id)
        )
    )


def stops(session: Session, team_id: int) -> list[Stop]:
    return list(
        session.scalars(
            select(Stop).where(Stop.team_id == team_id, Stop.active).order_by(Stop.name, Stop.id)
        )
    )


@dataclass(frozen=True)
class Held:
    """One permanence on one date of a week."""

    day: date
    starts: time
    ends: time
    topic: str
    stop: Stop
    vehicle: Vehicle


def week_permanences(session: Session, team_id: int, monday: date) -> list[Held]:
    """The permanences of the week starting on `monday`, in time order."""
    rows = session.execute(
        select(Permanence, RoundTemplate, Stop, Vehicle)
        .join(RoundTemplate, RoundTemplate.id == Permanence.template_id)
        .join(Stop, Stop.id == Permanence.stop_id)
        .join(Vehicle, Vehicle.id == Stop.vehicle_id)
        .where(Permanence.team_id == team_id, Stop.active, Vehicle.active)
    ).all()
    held = [
        Held(monday + timedelta(days=p.weekday), p.starts, p.ends, p.topic, stop, vehicle)
        for p, template, stop, vehicle in rows
        if template.active_from <= monday + timedelta(days=p.weekday)
        and (
            template.active_until is None
            or monday + timedelta(days=p.weekday) <= template.active_until
        )
    ]
    return sorted(held, key=lambda h: (h.day, h.starts, h.stop.name))


# --- Meal orders and rides ----------------------------------------------------------------


def create_meal_order(
    session: Session, actor: User, team_id: int, data: Mapping[str, Any]
) -> MealOrder:
    """Meals for a household on a day, to be delivered within its window."""
    access.team_to_manage(actor, team_id)
    errors: dict[str, FieldError] = {}
    day = parse.date(data, "day", errors, required=True)
    household = parse.text(data, "household", errors, limit=NAME_MAX, required=True)
    address = parse.text(data, "address", errors, limit=ADDRESS_MAX, required=True)
    postcode = parse.postcode(data, "postcode", errors)
    city = parse.text(data, "city", errors, limit=80, required=True)
    latitude, longitude = _place(data, errors)
    meals = parse.integer(data, "meals", errors, within=(1, MAX_MEALS_PER_ORDER), required=True)
    diet = parse.choice(data, "diet", errors, choices=DIETS, default="normal")
    instructions = parse.text(data, "instructions", errors, limit=TEXT_MAX, multiline=True)
    starts, ends = _span(data, "window_start", "window_end", errors)
    if errors:
        raise Invalid(errors)
    order = MealOrder(
        id=uuid.uuid4(),
        team_id=team_id,
        day=day,
        household=household,
        address=address,
        postcode=postcode,
        city=city,
        latitude=latitude,
        longitude=longitude,
        meals=meals,
        diet=diet,
        instructions=instructions,
        window_start=starts,
        window_end=ends,
        cancelled=False,
        unplaced="",
    )
    session.add(order)
    _saved(session, actor, order, entity_type="rounds_meal_order", fields=data.keys())
    return order


def create_ride(session: Session, actor: User, team_id: int, data: Mapping[str, Any]) -> Ride:
    """A ride for a person; more seats than any of the team's vehicles has is refused."""
    access.team_to_manage(actor, team_id)
    errors: dict[str, FieldError] = {}
    day = parse.date(data, "day", errors, required=True)
    person = parse.text(data, "person", errors, limit=NAME_MAX, required=True)
    phone = parse.text(data, "phone", errors, limit=20)
    pickup = parse.text(data, "pickup_address", errors, limit=ADDRESS_MAX, required=True)
    pickup_lat, pickup_lon = _place(data, errors, "pickup_")
    dropoff = parse.text(data, "dropoff_address", errors, limit=ADDRESS_MAX, required=True)
    dropoff_lat, dropoff_lon = _place(data, errors, "dropoff_")
    starts, ends = _span(data, "pickup_from", "pickup_until", errors)
    seats = parse.integer(data, "seats", errors, within=(1, MAX_SEATS), required=True)
    wheelchair = parse.flag(data, "wheelchair", errors)
    notes = parse.text(data, "notes", errors, limit=TEXT_MAX, multiline=True)
    if seats is not None and "seats" not in errors:
        most = max((v.seats for v in vehicles(session, team_id)), default=0)
        if seats > most:
            errors["seats"] = FieldError("over_vehicle_seats", {"seats": most})
    if errors:
        raise Invalid(errors)
    ride = Ride(
        id=uuid.uuid4(),
        team_id=team_id,
        day=day,
        person=person,
        phone=phone,
        pickup_address=pickup,
        pickup_latitude=pickup_lat,
        pickup_longitude=pickup_lon,
        dropoff_address=dropoff,
        dropoff_latitude=dropoff_lat,
        dropoff_longitude=dropoff_lon,
        pickup_from=starts,
        pickup_until=ends,
        seats=seats,
        wheelchair=wheelchair,
        notes=notes,
        cancelled=False,
        unplaced="",
    )
    session.add(ride)
    _saved(session, actor, ride, entity_type="rounds_ride", fields=data.keys())
    return ride


def meal_orders(session: Session, team_id: int, day: date) -> list[MealOrder]:
    return list(
        session.scalars(
            select(MealOrder)
            .where(MealOrder.team_id == team_id, MealOrder.day == day)
            .order_by(MealOrder.household, MealOrder.id)
        )
    )


def rides(session: Session, team_id: int, day: date) -> list[Ride]:
    return list(
        session.scalars(
            select(Ride)
            .where(Ride.team_id == team_id, Ride.day == day)
            .order_by(Ride.pickup_from, Ride.person, Ride.id)
        )
    )


# --- Planning a day -----------------------------------------------------------------------


def _minute(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _clock(minutes: float) -> time:
    whole = max(0, min(round(minutes), 24 * 60 - 1))
    return time(whole // 60, whole % 60)


def day_problem(session: Session, team_id: int, day: date) -> routing.Problem:
    """The day's meal orders (jobs, demand = meals) and rides (pickup-and-delivery, seats)
    for the team's vehicles (capacity = meals, seats = passengers, shift = the driver's
    day); times in minutes from the day's midnight."""
    workers = [
        routing.Worker(
            id=str(v.id),
            start=routing.Point(v.depot_latitude, v.depot_longitude),
            shifts=(routing.Shift(_minute(v.day_start), _minute(v.day_end)),),
            capacity=v.meal_capacity,
            seats=v.seats,
        )
        for v in vehicles(session, team_id)
    ]
    jobs = [
        routing.Job(
            id=str(order.id),
            place=routing.Point(order.latitude, order.longitude),
            duration=DELIVERY_MINUTES,
            windows=(routing.Window(_minute(order.window_start), _minute(order.window_end)),),
            optional=True,
            priority=5,
            demand=order.meals,
        )
        for order in meal_orders(session, team_id, day)
        if not order.cancelled
    ]
    rides_ = [
        routing.Ride(
            id=str(ride.id),
            pickup=routing.Point(ride.pickup_latitude, ride.pickup_longitude),
            delivery=routing.Point(ride.dropoff_latitude, ride.dropoff_longitude),
            pickup_window=routing.Window(_minute(ride.pickup_from), _minute(ride.pickup_until)),
            delivery_window=routing.Window(
                _minute(ride.pickup_from), _minute(ride.pickup_until) + RIDE_LEG
            ),
            pickup_duration=RIDE_MINUTES,
            delivery_duration=RIDE_MINUTES,
            seats=ride.seats,
            optional=True,
            priority=5,
        )
        for ride in rides(session, team_id, day)
        if not ride.cancelled
    ]
    return routing.Problem(
        workers=workers,
        jobs=jobs,
        rides=rides_,
        origin=datetime.combine(day, time(0)),
        balance_hours=False,
    )


@dataclass
class DayPlan:
    """What planning a day did: the solver's answer and its check (empty: every rule holds)."""

    problem: routing.Problem
    solution: routing.Solution
    problems: list[str] = field(default_factory=list)
    placed: int = 0
    unplaced: int = 0


NO_VEHICLE = "no_vehicle"


def plan_day(
    session: Session,
    team_id: int,
    day: date,
    *,
    seconds: float = DEFAULT_SECONDS,
    actor: User | None = None,
    seed: int = 0,
) -> DayPlan:
    """Plan the day's meal deliveries and rides on the team's vehicles and store the plan
    on each order and ride: its vehicle, order and time, or why it stayed unplaced."""
    if actor is not None:
        access.team_to_manage(actor, team_id)
    problem = day_problem(session, team_id, day)
    if problem.workers and (problem.jobs or problem.rides):
        solution = routing.solve(problem, seconds=seconds, seed=seed)
    else:
        solution = routing.Solution(routes=(), unassigned=(), origin=problem.origin)
    problems = routing.check(problem, solution) if problem.workers else []
    orders = {str(o.id): o for o in meal_orders(session, team_id, day)}
    day_rides = {str(r.id): r for r in rides(session, team_id, day)}
    for order in orders.values():
        order.vehicle_id, order.position, order.planned_at = None, None, None
        order.unplaced = "" if order.cancelled else NO_VEHICLE
    for ride in day_rides.values():
        ride.vehicle_id, ride.pickup_position, ride.pickup_at = None, None, None
        ride.dropoff_position, ride.dropoff_at = None, None
        ride.unplaced = "" if ride.cancelled else NO_VEHICLE
    plan = DayPlan(problem=problem, solution=solution, problems=problems)
    for route in solution.routes:
        vehicle_id = uuid.UUID(route.worker)
        for position, stop in enumerate(route.stops, start=1):
            if stop.kind == "job" and stop.id in orders:
                order = orders[stop.id]
                order.vehicle_id, order.position = vehicle_id, position
                order.planned_at, order.unplaced = _clock(stop.start), ""
            elif stop.kind == "pickup" and stop.id in day_rides:
                ride = day_rides[stop.id]
                ride.vehicle_id, ride.pickup_position = vehicle_id, position
                ride.pickup_at, ride.unplaced = _clock(stop.start), ""
            elif stop.kind == "delivery" and stop.id in day_rides:
                ride = day_rides[stop.id]
                ride.dropoff_position, ride.dropoff_at = position, _clock(stop.start)
    for missing in solution.unassigned:
        record = orders.get(missing.id) or day_rides.get(missing.id)
        if record is not None:
            record.unplaced = str(missing.reason)
    for record in [*orders.values(), *day_rides.values()]:
        if record.cancelled:
            continue
        if record.unplaced:
            plan.unplaced += 1
        else:
            plan.placed += 1
        sync.touch(session, record, sync.team_scope(team_id))
    dated.refresh_day(session, team_id, day)
    audit.record(
        session,
        actor=actor,
        action="plan",
        entity_type="rounds_day",
        entity_id=f"{team_id}:{day.isoformat()}",
        details={"placed": plan.placed, "unplaced": plan.unplaced},
    )
    session.flush()
    return plan


@dataclass(frozen=True)
class PlannedStop:
    """One stop of a vehicle's day: a delivery, a pickup or a drop-off."""

    position: int
    at: time | None
    kind: str  # meal | pickup | dropoff
    name: str
    address: str
    detail: str  # "2 × diabetic", "2 seats"


@dataclass(frozen=True)
class VehicleDay:
    vehicle: Vehicle
    stops: list[PlannedStop]
    meals: int
    passengers: int


@dataclass(frozen=True)
class DayView:
    day: date
    vehicles: list[VehicleDay]
    unplaced_orders: list[MealOrder]
    unplaced_rides: list[Ride]


def day_view(session: Session, team_id: int, day: date) -> DayView:
    """The stored plan of a day: each vehicle's ordered stops with times, and what is left."""
    orders = [o for o in meal_orders(session, team_id, day) if not o.cancelled]
    day_rides = [r for r in rides(session, team_id, day) if not r.cancelled]
    out = []
    for vehicle in vehicles(session, team_id):
        found: list[PlannedStop] = []
        meals = passengers = 0
        for o in orders:
            if o.vehicle_id == vehicle.id and o.position is not None:
                found.append(
                    PlannedStop(
                        o.position, o.planned_at, "meal", o.household, o.address, f"{o.meals}"
                    )
                )
                meals += o.meals
        for r in day_rides:
            if r.vehicle_id == vehicle.id and r.pickup_position is not None:
                passengers += r.seats
                found.append(
                    PlannedStop(
                        r.pickup_position,
                        r.pickup_at,
                        "pickup",
                        r.person,
                        r.pickup_address,
                        str(r.seats),
                    )
                )
                if r.dropoff_position is not None:
                    found.append(
                        PlannedStop(
                            r.dropoff_position,
                            r.dropoff_at,
                            "dropoff",
                            r.person,
                            r.dropoff_address,
                            str(r.seats),
                        )
                    )
        out.append(VehicleDay(vehicle, sorted(found, key=lambda s: s.position), meals, passengers))
    return DayView(
        day=day,
        vehicles=out,
        unplaced_orders=[o for o in orders if o.unplaced],
        unplaced_rides=[r for r in day_rides if r.unplaced],
    )


# --- The pages' use cases: each ends its transaction (docs/architecture.md) -----------------


def save_meal_order(
    session: Session, actor: User, team_id: int, data: Mapping[str, Any]
) -> MealOrder:
    """A meal order from the page's form, committed; refused: nothing saved."""
    return committed(session, lambda: create_meal_order(session, actor, team_id, data))


def save_ride(session: Session, actor: User, team_id: int, data: Mapping[str, Any]) -> Ride:
    """A ride from the page's form, committed; refused: nothing saved."""
    return committed(session, lambda: create_ride(session, actor, team_id, data))


def plan_and_store(
    session: Session, team_id: int, day: date, *, seconds: float, actor: User
) -> DayPlan:
    """plan_day() for the page's button, committed."""
    return committed(session, lambda: plan_day(session, team_id, day, seconds=seconds, actor=actor))


def save_template(
    session: Session, actor: User, template_id: uuid.UUID | None, data: Mapping[str, Any]
) -> RoundTemplate:
    """A new template (`template_id` None) or a change of one, committed."""
    if template_id is None:
        team_id = access.own_team(actor)
        return committed(session, lambda: create_template(session, actor, team_id, data))
    return committed(session, lambda: update_template(session, actor, template_id, data))


def save_permanence(
    session: Session, actor: User, team_id: int, data: Mapping[str, Any]
) -> Permanence:
    return committed(session, lambda: add_permanence(session, actor, team_id, data))


def generate_and_store(
    session: Session, actor: User, team_id: int, first: date, weeks: int
) -> Generated:
    """generate_rounds() for the page's button, committed."""
    return committed(session, lambda: generate_rounds(session, team_id, first, weeks, actor=actor))


def cancel_and_store(
    session: Session, actor: User, round_id: uuid.UUID | None, data: Mapping[str, Any]
) -> Round:
    return committed(session, lambda: cancel_round(session, actor, round_id, data))


def skip_and_store(
    session: Session, actor: User, stop_id: uuid.UUID | None, data: Mapping[str, Any]
) -> RoundStop:
    return committed(session, lambda: skip_stop(session, actor, stop_id, data))


def move_and_store(
    session: Session, actor: User, stop_id: uuid.UUID | None, data: Mapping[str, Any]
) -> RoundStop:
    return committed(session, lambda: move_stop(session, actor, stop_id, data))


# --- Meals: the pages' use cases ------------------------------------------------------------


def save_meal_rule(session: Session, actor: User, team_id: int, data: Mapping[str, Any]):
    """The cut-off rule from the page's form, committed; refused: nothing saved."""
    return committed(session, lambda: set_rule(session, actor, team_id, data))


def save_weekly(session: Session, actor: User, team_id: int, data: Mapping[str, Any]):
    """A weekly order from the page's form, committed; refused: nothing saved."""
    return committed(session, lambda: create_weekly(session, actor, team_id, data))


def make_and_store_orders(
    session: Session, actor: User, team_id: int, first: date, days: int
) -> Made:
    """make_orders() for the page's button, committed."""
    return committed(session, lambda: make_orders(session, team_id, first, days, actor=actor))


def cancel_and_store_order(session: Session, actor: User, order_id: uuid.UUID | None) -> MealOrder:
    """A cancellation before the cut-off, committed; after it: Invalid, nothing changed."""
    return committed(session, lambda: cancel_order(session, actor, order_id))


def delivery_sheet(session: Session, actor: User, round_id: uuid.UUID | None):
    """A meal round and its stops for the printed delivery sheet (the coordinator's own
    team's, of kind meals; anything else is unknown)."""
    dated = session.get(Round, round_id) if round_id else None
    if dated is None or dated.kind != "meals" or not access.coordinates(actor, dated.team_id):
        raise Invalid({"round": FieldError("unknown_round")})
    return dated, round_lines(session, dated)


def meal_rounds(session: Session, team_id: int, day: date) -> list[Round]:
    return [r for r in rounds_between(session, team_id, day, day) if r.kind == "meals"]


def export_meals_delivered(
    session: Session, actor: User, team_id: int, month: date, extension: str
) -> list[HouseholdMeals]:
    """meals_delivered() for a billing file: it names households, so the file leaving the
    application is audited (committed)."""
    access.team_to_manage(actor, team_id)
    lines = meals_delivered(session, team_id, month)
    audit.record(
        session,
        actor=actor,
        action="read",
        entity_type="rounds_meals_export",
        entity_id=f"{team_id}:{month:%Y-%m}",
        details={"format": extension},
    )
    session.commit()
    return lines
