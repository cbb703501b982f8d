"""Rounds as services: vehicles, the minibus's stops and weekly permanences, meal orders,
rides, and the planning of a day with the shared optimiser (core/routing.py).

Each change checks its input (Invalid with field codes, nothing saved), stamps the record
for the team's sync feed and writes the audit log. The only module other domains import.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appointments import services as appointments
from core import audit, clock, routing, sync
from core import fields as parse
from core.accounts import User
from core.db import committed
from core.errors import FieldError, Invalid
from rounds import access, dated, follow, live, places, public
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
    restore_stop,
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
from rounds.indicators import RoundIndicators, daily_indicators, month_indicators
from rounds.meals import (
    Followed,
    HouseholdMeals,
    Kitchen,
    Made,
    Rule,
    cancel_order,
    create_weekly,
    cutoff_of,
    eaten_days,
    end_weekly,
    kitchen_list,
    make_orders,
    meals_delivered,
    pauses_of,
    rule_for,
    rules,
    set_rule,
    update_weekly,
    weekly_of,
    weekly_orders,
)
from rounds.models import (
    ADDRESS_MAX,
    DIETS,
    EXPLANATION_MAX,
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

link_place = places.link_place
sync_place_hours = places.sync_place_hours
stranded_on = places.stranded_on
stop_places = places.stop_places

__all__ = [
    "Followed",
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
    "TemplateFollowed",
    "Vehicle",
    "cancel_order",
    "cancel_round",
    "create_round",
    "create_template",
    "create_weekly",
    "cutoff_of",
    "daily_indicators",
    "eaten_days",
    "end_weekly",
    "fill_from_plan",
    "generate_rounds",
    "kitchen_list",
    "link_place",
    "make_orders",
    "meals_delivered",
    "month_indicators",
    "move_stop",
    "pauses_of",
    "permanences_of",
    "refresh_day",
    "restore_stop",
    "round_clash",
    "round_lines",
    "round_stops",
    "round_to_follow",
    "rounds_between",
    "rule_for",
    "rules",
    "set_rule",
    "skip_stop",
    "stop_places",
    "stranded_on",
    "sync_place_hours",
    "template_of",
    "templates",
    "update_template",
    "update_weekly",
    "weekly_of",
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


def _own(session: Session, actor: User, model: type, record_id: uuid.UUID | None, code: str):
    team_id = access.own_team(actor)
    return access.record_of_team(session, model, record_id, team_id, field="id", code=code)


# --- Vehicles, stops, permanences --------------------------------------------------------


def _vehicle_fields(data: Mapping[str, Any], errors: dict[str, FieldError]) -> dict[str, Any]:
    values = {
        "name": parse.text(data, "name", errors, limit=NAME_MAX, required=True),
        "kind": parse.choice(data, "kind", errors, choices=VEHICLE_KINDS),
        "plate": parse.text(data, "plate", errors, limit=20),
        "driver_name": parse.text(data, "driver_name", errors, limit=NAME_MAX),
        "seats": parse.integer(data, "seats", errors, within=(0, MAX_SEATS), required=True),
        "meal_capacity": parse.integer(
            data, "meal_capacity", errors, within=(0, MAX_MEALS), required=True
        ),
        "depot_address": parse.text(
            data, "depot_address", errors, limit=ADDRESS_MAX, required=True
        ),
    }
    values["depot_latitude"], values["depot_longitude"] = _place(data, errors)
    values["day_start"], values["day_end"] = _span(data, "day_start", "day_end", errors)
    return values


def create_vehicle(session: Session, actor: User, team_id: int, data: Mapping[str, Any]) -> Vehicle:
    """A vehicle of the mobile team, with its depot and its driver's day."""
    access.team_to_manage(actor, team_id)
    errors: dict[str, FieldError] = {}
    values = _vehicle_fields(data, errors)
    if errors:
        raise Invalid(errors)
    vehicle = Vehicle(id=uuid.uuid4(), team_id=team_id, active=True, **values)
    session.add(vehicle)
    _saved(session, actor, vehicle, entity_type="rounds_vehicle", fields=data.keys())
    return vehicle


def update_vehicle(
    session: Session, actor: User, vehicle_id: uuid.UUID | None, data: Mapping[str, Any]
) -> Vehicle:
    """Change a vehicle; `active` off takes it off the road (no new plan uses it)."""
    vehicle = _own(session, actor, Vehicle, vehicle_id, "unknown_vehicle")
    errors: dict[str, FieldError] = {}
    values = _vehicle_fields(data, errors)
    values["active"] = parse.flag(data, "active", errors)
    if errors:
        raise Invalid(errors)
    changed = [name for name, value in values.items() if getattr(vehicle, name) != value]
    for name, value in values.items():
        setattr(vehicle, name, value)
    _saved(session, actor, vehicle, entity_type="rounds_vehicle", fields=changed)
    return vehicle


def _stop_fields(
    session: Session, team_id: int, data: Mapping[str, Any], errors: dict[str, FieldError]
) -> dict[str, Any]:
    values = {
        "vehicle_id": parse.uuid(data, "vehicle_id", errors, required=True),
        "name": parse.text(data, "name", errors, limit=NAME_MAX, required=True),
        "address": parse.text(data, "address", errors, limit=ADDRESS_MAX, required=True),
        "postcode": parse.postcode(data, "postcode", errors),
        "city": parse.text(data, "city", errors, limit=80, required=True),
    }
    values["latitude"], values["longitude"] = _place(data, errors)
    if values["vehicle_id"] is not None and "vehicle_id" not in errors:
        vehicle = session.get(Vehicle, values["vehicle_id"])
        if vehicle is None or vehicle.team_id != team_id:
            errors["vehicle_id"] = FieldError("unknown_vehicle")
    return values


def create_stop(session: Session, actor: User, team_id: int, data: Mapping[str, Any]) -> Stop:
    """A public stop of one of the team's vehicles."""
    access.team_to_manage(actor, team_id)
    errors: dict[str, FieldError] = {}
    values = _stop_fields(session, team_id, data, errors)
    if errors:
        raise Invalid(errors)
    stop = Stop(
        id=uuid.uuid4(),
        team_id=team_id,
        active=True,
        public_slug=public.unique_slug(session, values["name"]),
        **values,
    )
    session.add(stop)
    _saved(session, actor, stop, entity_type="rounds_stop", fields=data.keys())
    return stop


def update_stop(
    session: Session, actor: User, stop_id: uuid.UUID | None, data: Mapping[str, Any]
) -> Stop:
    """Change a stop; `active` off withdraws it (its permanences leave the week's list).
    Its vehicle stays while templates hold it (`template_has_stops`)."""
    stop = _own(session, actor, Stop, stop_id, "unknown_stop")
    errors: dict[str, FieldError] = {}
    values = _stop_fields(session, stop.team_id, data, errors)
    values["active"] = parse.flag(data, "active", errors)
    if not errors and values["vehicle_id"] != stop.vehicle_id:
        held = session.scalar(select(Permanence.id).where(Permanence.stop_id == stop.id).limit(1))
        if held is not None:
            errors["vehicle_id"] = FieldError("template_has_stops")
    if errors:
        raise Invalid(errors)
    changed = [name for name, value in values.items() if getattr(stop, name) != value]
    for name, value in values.items():
        setattr(stop, name, value)
    _saved(session, actor, stop, entity_type="rounds_stop", fields=changed)
    return stop


def _permanence_fields(
    session: Session,
    team_id: int,
    template: RoundTemplate | None,
    data: Mapping[str, Any],
    errors: dict[str, FieldError],
    *,
    exclude: uuid.UUID | None = None,
) -> dict[str, Any]:
    """A permanence's stop, hours and topic, checked against its template: one of the
    vehicle's stops, within the template's hours, never over another of the vehicle's
    stops that weekday (`exclude`: the permanence being changed)."""
    stop_id = parse.uuid(data, "stop_id", errors, required=True)
    starts, ends = _span(data, "starts", "ends", errors)
    topic = parse.choice(data, "topic", errors, choices=TOPICS, default="social")
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
        query = (
            select(Permanence)
            .join(RoundTemplate, RoundTemplate.id == Permanence.template_id)
            .where(
                RoundTemplate.vehicle_id == template.vehicle_id,
                Permanence.weekday == template.weekday,
                Permanence.starts < ends,
                Permanence.ends > starts,
            )
        )
        if exclude is not None:
            query = query.where(Permanence.id != exclude)
        clash = session.scalar(query.limit(1))
        if clash is not None:
            errors["starts"] = FieldError(
                "vehicle_busy",
                {"starts": clash.starts.strftime("%H:%M"), "ends": clash.ends.strftime("%H:%M")},
            )
    return {"stop_id": stop_id, "starts": starts, "ends": ends, "topic": topic, "stop": stop}


def _template_for_permanence(
    session: Session, team_id: int, template_id: uuid.UUID | None, errors: dict[str, FieldError]
) -> RoundTemplate | None:
    template = session.get(RoundTemplate, template_id) if template_id else None
    if template_id is not None and (template is None or template.team_id != team_id):
        errors["template_id"] = FieldError("unknown_template")
        return None
    if template is not None and template.kind != "minibus":
        errors["template_id"] = FieldError("not_a_minibus_round")
    return template


@dataclass(frozen=True)
class StopsFollowed:
    """What a change of a template's stop did beyond it: the dated rounds not started
    that followed (rounds.follow), and the booked appointments at the linked places that
    the new hours leave out (appointments' "stranded": for the coordinator to move)."""

    rounds: int = 0
    stranded: tuple[appointments.Stranded, ...] = ()


def _places_follow(session: Session, actor: User, *stops: Stop | None) -> list[Any]:
    stranded: list[Any] = []
    for place in dict.fromkeys(stop for stop in stops if stop is not None):
        if place.location_id is not None:  # the places' hours follow
            stranded.extend(places.sync_place_hours(session, place, actor=actor))
    return stranded


def _add_permanence(
    session: Session, actor: User, team_id: int, data: Mapping[str, Any]
) -> tuple[Permanence, StopsFollowed]:
    access.team_to_manage(actor, team_id)
    errors: dict[str, FieldError] = {}
    template_id = parse.uuid(data, "template_id", errors, required=True)
    template = _template_for_permanence(session, team_id, template_id, errors)
    values = _permanence_fields(session, team_id, template, data, errors)
    if errors:
        raise Invalid(errors)
    assert template is not None
    stop = values.pop("stop")
    permanence = Permanence(
        id=uuid.uuid4(), team_id=team_id, template_id=template.id, weekday=template.weekday,
        **values,
    )  # fmt: skip
    session.add(permanence)
    _saved(session, actor, permanence, entity_type="rounds_permanence", fields=data.keys())
    rounds = follow.added(session, permanence)
    stranded = _places_follow(session, actor, stop)
    return permanence, StopsFollowed(rounds, tuple(stranded))


def add_permanence(
    session: Session, actor: User, team_id: int, data: Mapping[str, Any]
) -> Permanence:
    """A stop of a minibus round template (`template_id`): at one of its vehicle's stops,
    arriving at `starts`, leaving at `ends`, within the template's hours; the vehicle
    cannot be at two stops at once. Its dated rounds not started take it."""
    return _add_permanence(session, actor, team_id, data)[0]


def _update_permanence(
    session: Session, actor: User, permanence_id: uuid.UUID | None, data: Mapping[str, Any]
) -> tuple[Permanence, StopsFollowed]:
    permanence = _own(session, actor, Permanence, permanence_id, "unknown_permanence")
    locked = session.scalars(
        select(Permanence).where(Permanence.id == permanence.id).with_for_update()
    ).one()
    dated.check_version(data, locked)
    errors: dict[str, FieldError] = {}
    template = session.get(RoundTemplate, locked.template_id)
    values = _permanence_fields(session, locked.team_id, template, data, errors, exclude=locked.id)
    if errors:
        raise Invalid(errors)
    stop = values.pop("stop")
    before = session.get(Stop, locked.stop_id)
    changed = [name for name, value in values.items() if getattr(locked, name) != value]
    for name, value in values.items():
        setattr(locked, name, value)
    _saved(session, actor, locked, entity_type="rounds_permanence", fields=changed)
    rounds = follow.changed(session, actor, locked) if changed else 0
    stranded = _places_follow(session, actor, before, stop)
    return locked, StopsFollowed(rounds, tuple(stranded))


def update_permanence(
    session: Session, actor: User, permanence_id: uuid.UUID | None, data: Mapping[str, Any]
) -> Permanence:
    """Change a template's stop in place (its stop, arrival, departure, topic) with the
    same checks as adding one; a form started from another version is a Conflict. Its
    dated rounds not started follow, keeping a skip or a move (rounds.follow)."""
    return _update_permanence(session, actor, permanence_id, data)[0]


def remove_permanence(
    session: Session, actor: User, permanence_id: uuid.UUID | None
) -> StopsFollowed:
    """Take a stop out of its minibus template, and out of its dated rounds not started
    (the crew's phones hear of it as a deletion); rounds started or gone by keep it."""
    permanence = _own(session, actor, Permanence, permanence_id, "unknown_permanence")
    session.scalars(
        select(Permanence).where(Permanence.id == permanence.id).with_for_update()
    ).one()
    stop = session.get(Stop, permanence.stop_id)
    rounds = follow.removed(session, actor, permanence)
    audit.record_change(session, actor, "rounds_permanence", permanence.id, ["removed"])
    session.delete(permanence)
    session.flush()
    stranded = _places_follow(session, actor, stop)
    return StopsFollowed(rounds, tuple(stranded))


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


def _meal_fields(data: Mapping[str, Any], errors: dict[str, FieldError]) -> dict[str, Any]:
    values = {
        "day": parse.date(data, "day", errors, required=True),
        "household": parse.text(data, "household", errors, limit=NAME_MAX, required=True),
        "address": parse.text(data, "address", errors, limit=ADDRESS_MAX, required=True),
        "postcode": parse.postcode(data, "postcode", errors),
        "city": parse.text(data, "city", errors, limit=80, required=True),
    }
    values["latitude"], values["longitude"] = _place(data, errors)
    values["meals"] = parse.integer(
        data, "meals", errors, within=(1, MAX_MEALS_PER_ORDER), required=True
    )
    values["diet"] = parse.choice(data, "diet", errors, choices=DIETS, default="normal")
    values["instructions"] = parse.text(
        data, "instructions", errors, limit=TEXT_MAX, multiline=True
    )
    values["window_start"], values["window_end"] = _span(data, "window_start", "window_end", errors)
    return values


def indicators_view(
    session: Session, team_id: int, month: date, day: date | None
) -> tuple[list[RoundIndicators], list[RoundIndicators]]:
    """The indicators page: the month's (or the drill-down day's) lines per round, and
    the month's lines per day (none for a day)."""
    lines = month_indicators(session, team_id, month, day=day)
    return lines, ([] if day else daily_indicators(session, team_id, month))


def links_from_menu(session: Session, user: User) -> bool:
    """Whether the menu shows `user` the page linking stops to appointments places."""
    return access.links_from_menu(session, user)


def _check_day(
    session: Session,
    team_id: int,
    day: date | None,
    errors: dict[str, FieldError],
    *,
    changing: bool,
) -> None:
    """A new order or ride for a day gone by, or a change after the day's cut-off under
    the team's rule (rounds/meals.py: one rule for the day's meal orders and rides, since
    `plan_day` plans both at once): refused."""
    if day is None or "day" in errors:
        return
    now = clock.now()
    if day < clock.to_local(now).date():
        errors["day"] = FieldError("day_past")
    elif changing and now >= (closes := cutoff_of(session, team_id, day)):
        errors["day"] = FieldError(
            "past_cutoff", {"cutoff": clock.to_local(closes).strftime("%d/%m/%Y %H:%M")}
        )


def create_meal_order(
    session: Session, actor: User, team_id: int, data: Mapping[str, Any]
) -> MealOrder:
    """Meals for a household on a day, to be delivered within its window."""
    access.team_to_manage(actor, team_id)
    errors: dict[str, FieldError] = {}
    values = _meal_fields(data, errors)
    _check_day(session, team_id, values["day"], errors, changing=False)
    if errors:
        raise Invalid(errors)
    order = MealOrder(id=uuid.uuid4(), team_id=team_id, cancelled=False, unplaced="", **values)
    session.add(order)
    _saved(session, actor, order, entity_type="rounds_meal_order", fields=data.keys())
    return order


def _unplan(record: MealOrder | Ride) -> None:
    record.vehicle_id, record.unplaced = None, ""
    if isinstance(record, MealOrder):
        record.position, record.planned_at = None, None
    else:
        record.pickup_position, record.pickup_at = None, None
        record.dropoff_position, record.dropoff_at = None, None


def update_meal_order(
    session: Session, actor: User, order_id: uuid.UUID | None, data: Mapping[str, Any]
) -> MealOrder:
    """Change an order before its day's cut-off under the team's rule (rounds/meals.py,
    the cancellation's too); it leaves the day's plan (plan again)."""
    order = _own(session, actor, MealOrder, order_id, "unknown_order")
    errors: dict[str, FieldError] = {}
    values = _meal_fields(data, errors)
    return _change_booked(session, actor, order, values, errors, "rounds_meal_order")


Booked = TypeVar("Booked", MealOrder, Ride)


def _change_booked(
    session: Session,
    actor: User,
    record: Booked,
    values: dict[str, Any],
    errors: dict[str, FieldError],
    entity_type: str,
) -> Booked:
    """An order's or ride's new values, before the cut-off of its day and of the new one
    under the team's rule; it leaves both days' plans (plan again)."""
    record = _locked(session, record)
    _check_day(session, record.team_id, record.day, errors, changing=True)
    if not errors:
        _check_day(session, record.team_id, values["day"], errors, changing=True)
    if record.cancelled:
        errors.setdefault("day", FieldError("already_cancelled"))
    if errors:
        raise Invalid(errors)
    days = {record.day, values["day"]}
    changed = [name for name, value in values.items() if getattr(record, name) != value]
    for name, value in values.items():
        setattr(record, name, value)
    _unplan(record)
    _saved(session, actor, record, entity_type=entity_type, fields=changed)
    for day in days:
        dated.refresh_day(session, record.team_id, day)
    return record


def _locked(session: Session, record: Booked) -> Booked:
    """The record under its row lock: a change and a cancellation never cross."""
    return session.scalars(
        select(type(record)).where(type(record).id == record.id).with_for_update()
    ).one()


def _cancel_booked(session: Session, actor: User, record: Booked, entity_type: str) -> Booked:
    """A ride cancelled before its day's cut-off under the team's rule (the meal orders'
    one); its round's stops go. (A meal order is cancelled by meals.cancel_order, which
    also keeps when, for the kitchen's list.)"""
    record = _locked(session, record)
    errors: dict[str, FieldError] = {}
    _check_day(session, record.team_id, record.day, errors, changing=True)
    if record.cancelled:
        errors.setdefault("day", FieldError("already_cancelled"))
    if errors:
        raise Invalid(errors)
    record.cancelled = True
    _unplan(record)
    _saved(session, actor, record, entity_type=entity_type, fields=["cancelled"])
    dated.refresh_day(session, record.team_id, record.day)
    return record


def _ride_fields(
    session: Session, team_id: int, data: Mapping[str, Any], errors: dict[str, FieldError]
) -> dict[str, Any]:
    values = {
        "day": parse.date(data, "day", errors, required=True),
        "person": parse.text(data, "person", errors, limit=NAME_MAX, required=True),
        "phone": parse.text(data, "phone", errors, limit=20),
        "pickup_address": parse.text(
            data, "pickup_address", errors, limit=ADDRESS_MAX, required=True
        ),
    }
    values["pickup_latitude"], values["pickup_longitude"] = _place(data, errors, "pickup_")
    values["dropoff_address"] = parse.text(
        data, "dropoff_address", errors, limit=ADDRESS_MAX, required=True
    )
    values["dropoff_latitude"], values["dropoff_longitude"] = _place(data, errors, "dropoff_")
    values["pickup_from"], values["pickup_until"] = _span(
        data, "pickup_from", "pickup_until", errors
    )
    seats = parse.integer(data, "seats", errors, within=(1, MAX_SEATS), required=True)
    values["seats"] = seats
    values["wheelchair"] = parse.flag(data, "wheelchair", errors)
    values["notes"] = parse.text(data, "notes", errors, limit=TEXT_MAX, multiline=True)
    if seats is not None and "seats" not in errors:
        most = max((v.seats for v in vehicles(session, team_id)), default=0)
        if seats > most:
            errors["seats"] = FieldError("over_vehicle_seats", {"seats": most})
    return values


def create_ride(session: Session, actor: User, team_id: int, data: Mapping[str, Any]) -> Ride:
    """A ride for a person; more seats than any of the team's vehicles has is refused."""
    access.team_to_manage(actor, team_id)
    errors: dict[str, FieldError] = {}
    values = _ride_fields(session, team_id, data, errors)
    _check_day(session, team_id, values["day"], errors, changing=False)
    if errors:
        raise Invalid(errors)
    ride = Ride(id=uuid.uuid4(), team_id=team_id, cancelled=False, unplaced="", **values)
    session.add(ride)
    _saved(session, actor, ride, entity_type="rounds_ride", fields=data.keys())
    return ride


def update_ride(
    session: Session, actor: User, ride_id: uuid.UUID | None, data: Mapping[str, Any]
) -> Ride:
    """Change a ride before its day's cut-off; it leaves the day's plan (plan again)."""
    ride = _own(session, actor, Ride, ride_id, "unknown_ride")
    errors: dict[str, FieldError] = {}
    values = _ride_fields(session, ride.team_id, data, errors)
    return _change_booked(session, actor, ride, values, errors, "rounds_ride")


def cancel_ride(
    session: Session, actor: User, ride_id: uuid.UUID | None, data: Mapping[str, Any]
) -> Ride:
    """Cancel a ride before its day's cut-off; its round's stops go."""
    ride = _own(session, actor, Ride, ride_id, "unknown_ride")
    return _cancel_booked(session, actor, ride, "rounds_ride")


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
    iterations: int | None = None,
) -> DayPlan:
    """Plan the day's meal deliveries and rides on the team's vehicles and store the plan
    on each order and ride: its vehicle, order and time, or why it stayed unplaced
    (`iterations`: routing.solve()'s cap on the search, besides `seconds`)."""
    if actor is not None:
        access.team_to_manage(actor, team_id)
    problem = day_problem(session, team_id, day)
    if problem.workers and (problem.jobs or problem.rides):
        solution = routing.solve(problem, seconds=seconds, seed=seed, iterations=iterations)
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


TemplateFollowed = follow.TemplateFollowed


def _made_span(session: Session, team_id: int, today: date) -> tuple[date | None, date | None]:
    """The first and last day, today or later, the team's template rounds were made for:
    the weeks in which a template's new days get their rounds."""
    first, last = session.execute(
        select(func.min(Round.day), func.max(Round.day)).where(
            Round.team_id == team_id, Round.template_id.is_not(None), Round.day >= today
        )
    ).one()
    return first, last


def change_template(
    session: Session, actor: User, template_id: uuid.UUID | None, data: Mapping[str, Any]
) -> tuple[RoundTemplate, TemplateFollowed]:
    """Change a template (its weekday, hours, period, vehicle, name) under its row lock
    and `version` (a stale form: Conflict), and its dated rounds from today on follow
    (rounds.follow.template_changed): those not started take its hours and vehicle, those
    no longer on its days are cancelled with `cancel_reason` (the people of their stops
    told, as any cancellation), its new days get their rounds within the days the team's
    rounds were made for, from today on (the generation, idempotent). Audited; refused
    as a whole otherwise."""
    found = template_of(session, actor, template_id)
    locked = session.scalars(
        select(RoundTemplate).where(RoundTemplate.id == found.id).with_for_update()
    ).one()
    dated.check_version(data, locked)
    errors: dict[str, FieldError] = {}
    reason = parse.text(data, "cancel_reason", errors, limit=EXPLANATION_MAX)
    if errors:
        raise Invalid(errors)
    before = (locked.vehicle_id, locked.starts, locked.ends)
    period = (locked.weekday, locked.active_from, locked.active_until, locked.kind)
    fields = {name: value for name, value in data.items() if name != "cancel_reason"}
    template = update_template(session, actor, locked.id, fields)
    done = follow.template_changed(session, actor, template, before, reason or "-")
    first, last = _made_span(session, template.team_id, clock.to_local(clock.now()).date())
    made = None
    if first is not None and last is not None:
        weeks = (last - first).days // 7 + 1
        made = generate_rounds(
            session, template.team_id, first, weeks, actor=actor, only=template.id
        )
    stranded = list(done.stranded)
    if period != (template.weekday, template.active_from, template.active_until, template.kind):
        stops = [session.get(Stop, p.stop_id) for p in permanences_of(session, template.id)]
        stranded.extend(_places_follow(session, actor, *stops))
    done = replace(
        done,
        made=made.created if made else 0,
        clashes=made.clashes if made else 0,
        stranded=tuple(stranded),
    )
    audit.record(
        session,
        actor=actor,
        action="follow",
        entity_type="rounds_template",
        entity_id=template.id,
        details={
            "followed": done.followed,
            "cancelled": done.cancelled,
            "made": done.made,
            "left": len(done.left),
        },
    )
    session.flush()
    return template, done


def save_template_change(
    session: Session, actor: User, template_id: uuid.UUID | None, data: Mapping[str, Any]
) -> TemplateFollowed:
    """A template changed from its page, committed: what its dated rounds did."""
    return committed(session, lambda: change_template(session, actor, template_id, data))[1]


def save_vehicle(
    session: Session, actor: User, vehicle_id: uuid.UUID | None, data: Mapping[str, Any]
) -> Vehicle:
    """A new vehicle (`vehicle_id` None) or a change of one, committed."""
    if vehicle_id is None:
        team_id = access.own_team(actor)
        return committed(session, lambda: create_vehicle(session, actor, team_id, data))
    return committed(session, lambda: update_vehicle(session, actor, vehicle_id, data))


def save_stop(
    session: Session, actor: User, stop_id: uuid.UUID | None, data: Mapping[str, Any]
) -> Stop:
    """A new stop (`stop_id` None) or a change of one, committed."""
    if stop_id is None:
        team_id = access.own_team(actor)
        return committed(session, lambda: create_stop(session, actor, team_id, data))
    return committed(session, lambda: update_stop(session, actor, stop_id, data))


def remove_permanence_and_store(
    session: Session, actor: User, permanence_id: uuid.UUID | None
) -> StopsFollowed:
    return committed(session, lambda: remove_permanence(session, actor, permanence_id))


def save_permanence(
    session: Session, actor: User, team_id: int, data: Mapping[str, Any]
) -> StopsFollowed:
    """A template's new stop, committed: the rounds that took it, appointments stranded."""
    return committed(session, lambda: _add_permanence(session, actor, team_id, data))[1]


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


def _restore_and_tell(
    session: Session, actor: User, stop_id: uuid.UUID | None, data: Mapping[str, Any]
) -> RoundStop:
    stop = restore_stop(session, actor, stop_id, data)
    live.tell_restored(session, stop.id, clock.now())  # in the same commit: once
    return stop


def restore_and_store(
    session: Session, actor: User, stop_id: uuid.UUID | None, data: Mapping[str, Any]
) -> RoundStop:
    """A skipped stop restored, its place reopened and the people told, committed."""
    return committed(session, lambda: _restore_and_tell(session, actor, stop_id, data))


def save_permanence_change(
    session: Session, actor: User, permanence_id: uuid.UUID | None, data: Mapping[str, Any]
) -> StopsFollowed:
    """A template's stop changed, committed: the rounds that followed, the stranded."""
    return committed(session, lambda: _update_permanence(session, actor, permanence_id, data))[1]


def make_round(session: Session, actor: User, team_id: int, data: Mapping[str, Any]) -> Round:
    """A one-off dated round from the page's form (today or later: `day_past`), committed."""
    today = clock.to_local(clock.now()).date()
    return committed(session, lambda: create_round(session, actor, team_id, data, earliest=today))


def move_and_store(
    session: Session, actor: User, stop_id: uuid.UUID | None, data: Mapping[str, Any]
) -> RoundStop:
    return committed(session, lambda: move_stop(session, actor, stop_id, data))


# --- Re-optimising a dated round ------------------------------------------------------------


@dataclass(frozen=True)
class Reoptimised:
    """Travel of a dated round's order before and after the optimiser (minutes, km), and
    whether the new order was kept (it is only when it places every stop)."""

    before_minutes: float
    before_km: float
    after_minutes: float
    after_km: float
    applied: bool


def _route_travel(vehicle: Vehicle, points: list[routing.Point]) -> tuple[float, float]:
    """Minutes and km of driving depot → points in order → depot."""
    depot = routing.Point(vehicle.depot_latitude, vehicle.depot_longitude)
    path = [depot, *points, depot]
    matrix = routing.build_matrix(path, ("car",))
    minutes = km = 0.0
    for a, b in itertools.pairwise(path):
        i, j = matrix.index[a], matrix.index[b]
        minutes += float(matrix.minutes["car"][i, j])
        km += float(matrix.km[i, j])
    return minutes, km


def _stop_point(session: Session, stop: RoundStop) -> routing.Point | None:
    if stop.kind == "household":
        order = session.get(MealOrder, stop.meal_order_id)
        return routing.Point(order.latitude, order.longitude) if order else None
    ride = session.get(Ride, stop.ride_id)
    if ride is None:
        return None
    if stop.kind == "pickup":
        return routing.Point(ride.pickup_latitude, ride.pickup_longitude)
    return routing.Point(ride.dropoff_latitude, ride.dropoff_longitude)


def reoptimise_round(
    session: Session,
    actor: User,
    round_id: uuid.UUID | None,
    *,
    seconds: float = DEFAULT_SECONDS,
    seed: int = 0,
) -> Reoptimised:
    """Order a planned meal or ride round's stops again with the shared optimiser (its
    vehicle only, the orders or rides it holds, their windows), and report the travel
    before and after. A minibus round keeps its published order (`published_order`). The
    new order is kept only when it places every stop and drives no longer."""
    round_ = dated.round_to_follow(session, actor, round_id)
    access.team_to_manage(actor, round_.team_id)
    errors: dict[str, FieldError] = {}
    if round_.kind == "minibus":
        errors["round_id"] = FieldError("published_order")
    elif round_.status != "planned":
        errors["round_id"] = FieldError("round_not_planned")
    if errors:
        raise Invalid(errors)
    vehicle = session.get(Vehicle, round_.vehicle_id)
    assert vehicle is not None
    stops = [s for s in dated.round_stops(session, round_.id) if s.status != "skipped"]
    points = [p for p in (_stop_point(session, s) for s in stops) if p is not None]
    before = _route_travel(vehicle, points)
    held = {str(s.meal_order_id or s.ride_id) for s in stops}
    whole = day_problem(session, round_.team_id, round_.day)
    problem = routing.Problem(
        workers=[
            replace(w, shifts=(routing.Shift(_minute(round_.starts), _minute(round_.ends)),))
            for w in whole.workers
            if w.id == str(vehicle.id)
        ]
        or [
            routing.Worker(
                id=str(vehicle.id),
                start=routing.Point(vehicle.depot_latitude, vehicle.depot_longitude),
                shifts=(routing.Shift(_minute(round_.starts), _minute(round_.ends)),),
                capacity=vehicle.meal_capacity,
                seats=vehicle.seats,
            )
        ],
        jobs=[j for j in whole.jobs if j.id in held],
        rides=[r for r in whole.rides if r.id in held],
        origin=whole.origin,
        balance_hours=False,
    )
    if not problem.jobs and not problem.rides:
        return Reoptimised(*before, *before, applied=False)
    solution = routing.solve(problem, seconds=seconds, seed=seed)
    complete = not solution.unassigned and not routing.check(problem, solution)
    after_points = [
        stop.place for route in solution.routes for stop in route.stops if stop.kind != "break"
    ]
    after = _route_travel(vehicle, after_points) if complete else before
    applied = complete and after[0] < before[0] - 1e-6
    if applied:
        orders = {str(o.id): o for o in meal_orders(session, round_.team_id, round_.day)}
        day_rides = {str(r.id): r for r in rides(session, round_.team_id, round_.day)}
        for route in solution.routes:
            for position, stop in enumerate(route.stops, start=1):
                if stop.kind == "job" and stop.id in orders:
                    orders[stop.id].position = position
                    orders[stop.id].planned_at = _clock(stop.start)
                    sync.touch(session, orders[stop.id], sync.team_scope(round_.team_id))
                elif stop.kind == "pickup" and stop.id in day_rides:
                    ride = day_rides[stop.id]
                    ride.pickup_position, ride.pickup_at = position, _clock(stop.start)
                    sync.touch(session, ride, sync.team_scope(round_.team_id))
                elif stop.kind == "delivery" and stop.id in day_rides:
                    ride = day_rides[stop.id]
                    ride.dropoff_position, ride.dropoff_at = position, _clock(stop.start)
        dated.fill_from_plan(session, round_)
    audit.record(
        session,
        actor=actor,
        action="reoptimise",
        entity_type="rounds_round",
        entity_id=str(round_.id),
        details={
            "before_minutes": round(before[0], 1),
            "after_minutes": round(after[0], 1),
            "applied": applied,
        },
    )
    session.flush()
    return Reoptimised(before[0], before[1], after[0], after[1], applied)


def reoptimise_and_store(
    session: Session, actor: User, round_id: uuid.UUID | None, *, seconds: float
) -> Reoptimised:
    return committed(session, lambda: reoptimise_round(session, actor, round_id, seconds=seconds))


def save_order_change(
    session: Session, actor: User, order_id: uuid.UUID | None, data: Mapping[str, Any]
) -> MealOrder:
    return committed(session, lambda: update_meal_order(session, actor, order_id, data))


def save_ride_change(
    session: Session, actor: User, ride_id: uuid.UUID | None, data: Mapping[str, Any]
) -> Ride:
    return committed(session, lambda: update_ride(session, actor, ride_id, data))


def cancel_ride_and_store(
    session: Session, actor: User, ride_id: uuid.UUID | None, data: Mapping[str, Any]
) -> Ride:
    return committed(session, lambda: cancel_ride(session, actor, ride_id, data))


# --- Meals: the pages' use cases ------------------------------------------------------------


def save_meal_rule(session: Session, actor: User, team_id: int, data: Mapping[str, Any]):
    """The cut-off rule from the page's form, committed; refused: nothing saved."""
    return committed(session, lambda: set_rule(session, actor, team_id, data))


def save_weekly(session: Session, actor: User, team_id: int, data: Mapping[str, Any]):
    """A weekly order from the page's form, committed; refused: nothing saved."""
    return committed(session, lambda: create_weekly(session, actor, team_id, data))


def save_weekly_change(
    session: Session, actor: User, weekly_id: uuid.UUID | None, data: Mapping[str, Any]
) -> tuple[Any, Followed]:
    """A weekly order's change from its page, committed; refused: nothing saved."""
    return committed(session, lambda: update_weekly(session, actor, weekly_id, data))


def end_and_store_weekly(
    session: Session, actor: User, weekly_id: uuid.UUID | None, data: Mapping[str, Any]
) -> tuple[Any, Followed]:
    """A weekly order ended from its page, committed; refused: nothing saved."""
    return committed(session, lambda: end_weekly(session, actor, weekly_id, data))


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


# --- A stop and its appointments place (the links page) ------------------------------------


def link_and_store(
    session: Session, actor: User, data: Mapping[str, Any]
) -> list[appointments.Stranded]:
    """The form's stop made its place, committed; refused: nothing saved."""
    return committed(session, lambda: places.link_stop(session, actor, data))


def unlink_and_store(session: Session, actor: User, data: Mapping[str, Any]) -> Stop:
    """The form's stop no longer its place, committed."""
    return committed(session, lambda: places.unlink_stop(session, actor, data))


def stop_subscribers(session: Session, team_id: int, stop_id: Any) -> int:
    """How many people follow a stop of the team by SMS (never who): 0 for another's."""
    stop = session.get(Stop, stop_id)
    if stop is None or stop.team_id != team_id:
        return 0
    return public.subscriber_count(session, stop)


def round_etas(session: Session, found: Round, now: datetime) -> dict[uuid.UUID, live.StopLive]:
    """Each stop of the round with its ETA at `now` (the one ETA: `live.progress`)."""
    return {line.round_stop_id: line for line in live.progress(session, found, now)}
