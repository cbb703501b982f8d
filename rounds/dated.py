"""Round templates and dated rounds: the weekly rounds of each vehicle, the dated rounds
generated from them for the coming weeks, their stops, and the exceptions (a cancelled
round, a skipped or moved stop) with a reason.

- A template is a vehicle's round on a weekday, between two dates. A minibus template's
  stops are its permanences (rounds.models.Permanence); a meal or ride template takes the
  day's planned orders or rides of its vehicle.
- Generation (`generate_rounds`) makes one dated round per template and day; it is
  idempotent (the unique (template, day) key; the team's row lock serialises two runs). A
  day the CPAS is closed (core.organisations, its holiday calendar) gets its round
  cancelled with the holiday's name as the reason, so the public page can say why.
- One vehicle's rounds never overlap: checked under the vehicle's row lock
  (`SELECT … FOR UPDATE`) before a round is made or its hours change.
- Every change stamps the record for the team's sync feed and writes the audit log (field
  names only); a change people are told about raises the round's `revision`.

rounds.services re-exports what other domains and the pages use.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from core import audit, clock, organisations, sync
from core import fields as parse
from core.accounts import Team, User
from core.errors import Conflict, FieldError, Invalid
from rounds import access, places
from rounds.models import (
    EXPLANATION_MAX,
    NAME_MAX,
    ROUND_KINDS,
    MealOrder,
    Permanence,
    Ride,
    Round,
    RoundStop,
    RoundTemplate,
    Stop,
    Vehicle,
)

MAX_WEEKS = 12  # generation looks at most this far ahead
HOLIDAY = "holiday"
DECISION = "decision"
STOP_OF_KIND = {"meals": ("household",), "rides": ("pickup", "dropoff")}


def _saved(session: Session, actor: User | None, record: Any, *, entity_type: str, fields) -> None:
    sync.stamp(session, record, sync.team_scope(record.team_id), actor, None)
    names = sorted(name for name in fields if name != "csrf_token")
    audit.record_change(session, actor, entity_type, record.id, names)
    session.flush()


def _made(session: Session, record: Any, actor: User | None) -> None:
    """A record made by generation or from the plan (no one's edit when `actor` is None):
    its first version, numbered for the team's feed at commit."""
    record.version = 1
    record.changed_at = clock.now()
    record.changed_by_id = actor.id if actor is not None else None
    sync.touch(session, record, sync.team_scope(record.team_id))


def _touch(session: Session, record: Any) -> None:
    sync.touch(session, record, sync.team_scope(record.team_id))


def _clock(moment: time) -> str:
    return moment.strftime("%H:%M")


def lock_vehicle(session: Session, vehicle_id: uuid.UUID) -> None:
    """Hold the vehicle's row until commit: one change of its rounds' hours at a time, so
    two requests cannot both find the slot free and both take it."""
    session.execute(select(Vehicle.id).where(Vehicle.id == vehicle_id).with_for_update())


def lock_team(session: Session, team_id: int) -> None:
    """Hold the team's row until commit: one generation of the team's rounds at a time."""
    session.execute(select(Team.id).where(Team.id == team_id).with_for_update())


def _vehicle(
    session: Session, team_id: int, vehicle_id: uuid.UUID | None, errors: dict[str, FieldError]
) -> Vehicle | None:
    if vehicle_id is None or "vehicle_id" in errors:
        return None
    vehicle = session.get(Vehicle, vehicle_id)
    if vehicle is None or vehicle.team_id != team_id:
        errors["vehicle_id"] = FieldError("unknown_vehicle")
        return None
    return vehicle


def _fits(vehicle: Vehicle, kind: str | None, errors: dict[str, FieldError]) -> None:
    """A meal round needs a vehicle that carries meals; a ride round one with seats."""
    if kind == "meals" and vehicle.meal_capacity <= 0:
        errors.setdefault("kind", FieldError("vehicle_carries_no_meals"))
    if kind == "rides" and vehicle.seats <= 0:
        errors.setdefault("kind", FieldError("vehicle_has_no_seats"))


# --- Templates ----------------------------------------------------------------------------


def _template_clash(
    session: Session,
    vehicle_id: uuid.UUID,
    weekday: int,
    starts: time,
    ends: time,
    active_from: date,
    active_until: date | None,
    exclude: uuid.UUID | None,
) -> RoundTemplate | None:
    """Another template of the vehicle on that weekday whose hours and dates overlap."""
    query = select(RoundTemplate).where(
        RoundTemplate.vehicle_id == vehicle_id,
        RoundTemplate.weekday == weekday,
        RoundTemplate.starts < ends,
        RoundTemplate.ends > starts,
        or_(RoundTemplate.active_until.is_(None), RoundTemplate.active_until >= active_from),
    )
    if active_until is not None:
        query = query.where(RoundTemplate.active_from <= active_until)
    if exclude is not None:
        query = query.where(RoundTemplate.id != exclude)
    return session.scalars(query.limit(1)).first()


def _template_fields(
    session: Session, team_id: int, data: Mapping[str, Any], errors: dict[str, FieldError]
) -> dict[str, Any]:
    vehicle_id = parse.uuid(data, "vehicle_id", errors, required=True)
    values: dict[str, Any] = {
        "name": parse.text(data, "name", errors, limit=NAME_MAX, required=True),
        "kind": parse.choice(data, "kind", errors, choices=ROUND_KINDS),
        "weekday": parse.integer(data, "weekday", errors, within=(0, 6), required=True),
        "starts": parse.time(data, "starts", errors, required=True),
        "ends": parse.time(data, "ends", errors, required=True),
        "active_from": parse.date(data, "active_from", errors, required=True),
        "active_until": parse.date(data, "active_until", errors),
    }
    if values["starts"] and values["ends"] and values["ends"] <= values["starts"]:
        errors.setdefault("ends", FieldError("ends_before_start"))
    first, last = values["active_from"], values["active_until"]
    if first and last and last < first:
        errors.setdefault("active_until", FieldError("ends_before_start"))
    vehicle = _vehicle(session, team_id, vehicle_id, errors)
    if vehicle is not None:
        _fits(vehicle, values["kind"], errors)
    values["vehicle_id"] = vehicle_id
    return values


def _check_template_clash(
    session: Session, values: dict[str, Any], errors: dict[str, FieldError], exclude=None
) -> None:
    if errors:
        return
    lock_vehicle(session, values["vehicle_id"])
    clash = _template_clash(
        session,
        values["vehicle_id"],
        values["weekday"],
        values["starts"],
        values["ends"],
        values["active_from"],
        values["active_until"],
        exclude,
    )
    if clash is not None:
        errors["starts"] = FieldError(
            "vehicle_busy", {"starts": _clock(clash.starts), "ends": _clock(clash.ends)}
        )


def create_template(
    session: Session, actor: User, team_id: int, data: Mapping[str, Any]
) -> RoundTemplate:
    """A weekly round of one of the team's vehicles; refused when the vehicle already has
    a round at those hours on that weekday in an overlapping period."""
    access.team_to_manage(actor, team_id)
    errors: dict[str, FieldError] = {}
    values = _template_fields(session, team_id, data, errors)
    _check_template_clash(session, values, errors)
    if errors:
        raise Invalid(errors)
    template = RoundTemplate(id=uuid.uuid4(), team_id=team_id, **values)
    session.add(template)
    _saved(session, actor, template, entity_type="rounds_template", fields=data.keys())
    return template


def template_of(session: Session, actor: User, template_id: uuid.UUID | None) -> RoundTemplate:
    """A template of the coordinator's team; Invalid alike when unknown or another's."""
    team_id = access.own_team(actor)
    return access.record_of_team(
        session,
        RoundTemplate,
        template_id,
        team_id,
        field="template_id",
        code="unknown_template",
    )


def update_template(
    session: Session, actor: User, template_id: uuid.UUID | None, data: Mapping[str, Any]
) -> RoundTemplate:
    """Change a template; its permanences must stay within its hours, and they follow a
    change of weekday. Its dated rounds follow through `services.change_template`
    (rounds.follow.template_changed)."""
    template = template_of(session, actor, template_id)
    errors: dict[str, FieldError] = {}
    values = _template_fields(session, template.team_id, data, errors)
    held = permanences_of(session, template.id)
    if not errors and held and values["kind"] != "minibus":
        errors["kind"] = FieldError("template_has_stops")
    if not errors and values["vehicle_id"] != template.vehicle_id and held:
        errors["vehicle_id"] = FieldError("template_has_stops")
    if not errors and any(p.starts < values["starts"] or p.ends > values["ends"] for p in held):
        errors["starts"] = FieldError("stops_outside_hours")
    _check_template_clash(session, values, errors, exclude=template.id)
    if errors:
        raise Invalid(errors)
    changed = [name for name, value in values.items() if getattr(template, name) != value]
    for name, value in values.items():
        setattr(template, name, value)
    for permanence in held:
        if permanence.weekday != template.weekday:
            permanence.weekday = template.weekday
            _touch(session, permanence)
    _saved(session, actor, template, entity_type="rounds_template", fields=changed)
    return template


def templates(session: Session, team_id: int) -> list[RoundTemplate]:
    return list(
        session.scalars(
            select(RoundTemplate)
            .where(RoundTemplate.team_id == team_id)
            .order_by(RoundTemplate.weekday, RoundTemplate.starts, RoundTemplate.name)
        )
    )


def permanences_of(session: Session, template_id: uuid.UUID) -> list[Permanence]:
    """A minibus template's stops, in time order."""
    return list(
        session.scalars(
            select(Permanence)
            .where(Permanence.template_id == template_id)
            .order_by(Permanence.starts, Permanence.id)
        )
    )


# --- Dated rounds -------------------------------------------------------------------------


def round_clash(
    session: Session,
    vehicle_id: uuid.UUID,
    day: date,
    starts: time,
    ends: time,
    exclude: uuid.UUID | None = None,
) -> Round | None:
    """A round of the vehicle that day, not cancelled, whose hours overlap."""
    query = select(Round).where(
        Round.vehicle_id == vehicle_id,
        Round.day == day,
        Round.status != "cancelled",
        Round.starts < ends,
        Round.ends > starts,
    )
    if exclude is not None:
        query = query.where(Round.id != exclude)
    return session.scalars(query.limit(1)).first()


def create_round(
    session: Session,
    actor: User,
    team_id: int,
    data: Mapping[str, Any],
    *,
    earliest: date | None = None,
) -> Round:
    """A dated round made by hand (no template): a vehicle, a day, hours, a kind; not
    before `earliest` when given (`day_past`: the page's one-off round)."""
    access.team_to_manage(actor, team_id)
    errors: dict[str, FieldError] = {}
    vehicle_id = parse.uuid(data, "vehicle_id", errors, required=True)
    name = parse.text(data, "name", errors, limit=NAME_MAX, required=True)
    kind = parse.choice(data, "kind", errors, choices=ROUND_KINDS)
    day = parse.date(data, "day", errors, required=True)
    starts = parse.time(data, "starts", errors, required=True)
    ends = parse.time(data, "ends", errors, required=True)
    if starts and ends and ends <= starts:
        errors.setdefault("ends", FieldError("ends_before_start"))
    if day is not None and earliest is not None and day < earliest:
        errors["day"] = FieldError("day_past")
    vehicle = _vehicle(session, team_id, vehicle_id, errors)
    if vehicle is not None:
        _fits(vehicle, kind, errors)
    if not errors:
        lock_vehicle(session, vehicle_id)
        clash = round_clash(session, vehicle_id, day, starts, ends)
        if clash is not None:
            errors["starts"] = FieldError(
                "vehicle_busy", {"starts": _clock(clash.starts), "ends": _clock(clash.ends)}
            )
    if errors:
        raise Invalid(errors)
    dated = Round(
        id=uuid.uuid4(),
        team_id=team_id,
        vehicle_id=vehicle_id,
        template_id=None,
        day=day,
        kind=kind,
        name=name,
        starts=starts,
        ends=ends,
        status="planned",
        cancel_kind="",
        cancel_reason="",
        revision=1,
    )
    session.add(dated)
    _saved(session, actor, dated, entity_type="rounds_round", fields=data.keys())
    fill_from_plan(session, dated)
    return dated


@dataclass(frozen=True)
class Generated:
    """What a generation did: rounds made, of which cancelled for a holiday; rounds
    already there; days left out because the vehicle had another round then."""

    created: int = 0
    holidays: int = 0
    existing: int = 0
    clashes: int = 0


def closed_days(session: Session, team_id: int, first: date, last: date) -> dict[date, Any]:
    """The days from `first` to `last` the team's CPAS is closed, with their holiday
    (every kind: the mobile team is CPAS staff, off when the offices close)."""
    cpas_id = organisations.cpas_id_of_team(session, team_id)
    found: dict[date, Any] = {}
    for year in range(first.year, last.year + 1):
        if cpas_id is None:
            days = [
                organisations.HolidayDay(day, "federal", "", "")
                for day in organisations.federal_days(year)
            ]
        else:
            days = organisations.holidays_of(session, cpas_id, year)
        for holiday in days:
            if holiday.closed and first <= holiday.day <= last:
                found[holiday.day] = holiday
    return found


def generate_rounds(
    session: Session,
    team_id: int,
    first: date,
    weeks: int,
    *,
    actor: User | None = None,
    only: uuid.UUID | None = None,
) -> Generated:
    """Dated rounds of the team's templates (`only`: that one) from `first` for `weeks`
    weeks. Idempotent: a template's day that has its round is left alone (even
    cancelled). A CPAS holiday makes the round cancelled with the holiday's name; a day
    the vehicle is already taken then (a round made by hand) is left out and counted."""
    if actor is not None:
        access.team_to_manage(actor, team_id)
    weeks = max(1, min(weeks, MAX_WEEKS))
    last = first + timedelta(days=7 * weeks - 1)
    lock_team(session, team_id)
    closed = closed_days(session, team_id, first, last)
    created = holidays = existing = clashes = 0
    for template in templates(session, team_id):
        if only is not None and template.id != only:
            continue
        have = set(
            session.scalars(
                select(Round.day).where(
                    Round.template_id == template.id, Round.day >= first, Round.day <= last
                )
            )
        )
        offset = (template.weekday - first.weekday()) % 7
        day = first + timedelta(days=offset)
        while day <= last:
            if day < template.active_from or (
                template.active_until is not None and day > template.active_until
            ):
                day += timedelta(days=7)
                continue
            if day in have:
                existing += 1
                day += timedelta(days=7)
                continue
            lock_vehicle(session, template.vehicle_id)
            holiday = closed.get(day)
            if holiday is None and round_clash(
                session, template.vehicle_id, day, template.starts, template.ends
            ):
                clashes += 1
                day += timedelta(days=7)
                continue
            dated = Round(
                id=uuid.uuid4(),
                team_id=team_id,
                vehicle_id=template.vehicle_id,
                template_id=template.id,
                day=day,
                kind=template.kind,
                name=template.name,
                starts=template.starts,
                ends=template.ends,
                status="cancelled" if holiday else "planned",
                cancel_kind=HOLIDAY if holiday else "",
                cancel_reason=(holiday.name_fr or HOLIDAY)[:EXPLANATION_MAX] if holiday else "",
                revision=1,
            )
            session.add(dated)
            _made(session, dated, actor)
            session.flush()
            _stops_from_template(session, dated, template)
            created += 1
            holidays += 1 if holiday else 0
            day += timedelta(days=7)
    audit.record(
        session,
        actor=actor,
        action="generate",
        entity_type="rounds_round",
        entity_id=f"{team_id}:{first.isoformat()}:{weeks}" + (f":{only}" if only else ""),
        details={"created": created, "holidays": holidays, "clashes": clashes},
    )
    session.flush()
    return Generated(created, holidays, existing, clashes)


def _stops_from_template(session: Session, dated: Round, template: RoundTemplate) -> None:
    if dated.kind == "minibus":
        for position, permanence in enumerate(permanences_of(session, template.id), start=1):
            stop = RoundStop(
                id=uuid.uuid4(),
                team_id=dated.team_id,
                round_id=dated.id,
                position=position,
                kind="public_stop",
                stop_id=permanence.stop_id,
                permanence_id=permanence.id,
                topic=permanence.topic,
                planned_arrival=permanence.starts,
                planned_departure=permanence.ends,
                status="planned",
                outcome="",
                reason="",
            )
            session.add(stop)
            _made(session, stop, None)
        session.flush()
    else:
        fill_from_plan(session, dated)


def round_stops(session: Session, round_id: uuid.UUID) -> list[RoundStop]:
    return list(
        session.scalars(
            select(RoundStop)
            .where(RoundStop.round_id == round_id)
            .order_by(RoundStop.position, RoundStop.id)
        )
    )


def fill_from_plan(session: Session, dated: Round) -> bool:
    """A meal or ride round's stops from the day's stored plan (rounds.services.plan_day):
    the orders or rides placed on its vehicle, in the plan's order. Only while the round is
    planned; a stop skipped or moved keeps its exception. True when the order changed."""
    if dated.kind not in STOP_OF_KIND or dated.status != "planned":
        return False
    wanted: list[tuple[int, str, uuid.UUID, time | None]] = []
    if dated.kind == "meals":
        for order in session.scalars(
            select(MealOrder).where(
                MealOrder.team_id == dated.team_id,
                MealOrder.day == dated.day,
                MealOrder.vehicle_id == dated.vehicle_id,
                MealOrder.position.is_not(None),
                MealOrder.cancelled.is_(False),
            )
        ):
            wanted.append((order.position or 0, "household", order.id, order.planned_at))
    else:
        for ride in session.scalars(
            select(Ride).where(
                Ride.team_id == dated.team_id,
                Ride.day == dated.day,
                Ride.vehicle_id == dated.vehicle_id,
                Ride.pickup_position.is_not(None),
                Ride.cancelled.is_(False),
            )
        ):
            wanted.append((ride.pickup_position or 0, "pickup", ride.id, ride.pickup_at))
            if ride.dropoff_position is not None:
                wanted.append((ride.dropoff_position, "dropoff", ride.id, ride.dropoff_at))
    wanted.sort(key=lambda item: item[0])
    existing = {(s.kind, s.meal_order_id or s.ride_id): s for s in round_stops(session, dated.id)}
    before = [key for key, _ in sorted(existing.items(), key=lambda kv: kv[1].position)]
    after = []
    for position, (_, kind, target, at) in enumerate(wanted, start=1):
        key = (kind, target)
        after.append(key)
        stop = existing.pop(key, None)
        if stop is None:
            stop = RoundStop(
                id=uuid.uuid4(),
                team_id=dated.team_id,
                round_id=dated.id,
                position=position,
                kind=kind,
                meal_order_id=target if kind == "household" else None,
                ride_id=None if kind == "household" else target,
                topic="",
                planned_arrival=at,
                planned_departure=at,
                status="planned",
                outcome="",
                reason="",
            )
            session.add(stop)
            _made(session, stop, None)
        elif stop.position != position or stop.planned_arrival != at:
            stop.position, stop.planned_arrival, stop.planned_departure = position, at, at
            _touch(session, stop)
    if existing:
        session.execute(
            delete(RoundStop).where(RoundStop.id.in_([s.id for s in existing.values()]))
        )
    changed = before != after
    if changed and before:
        dated.revision += 1
    if changed:
        _touch(session, dated)
    session.flush()
    return changed


def refresh_day(session: Session, team_id: int, day: date) -> int:
    """After the day's plan changed: every planned meal or ride round of that day takes
    its stops again; returns the rounds whose order changed."""
    changed = 0
    for dated in session.scalars(
        select(Round).where(
            Round.team_id == team_id,
            Round.day == day,
            Round.status == "planned",
            Round.kind.in_(tuple(STOP_OF_KIND)),
        )
    ):
        changed += fill_from_plan(session, dated)
    return changed


# --- Reading -------------------------------------------------------------------------------


def rounds_between(session: Session, team_id: int, first: date, last: date) -> list[Round]:
    return list(
        session.scalars(
            select(Round)
            .where(Round.team_id == team_id, Round.day >= first, Round.day <= last)
            .order_by(Round.day, Round.starts, Round.name, Round.id)
        )
    )


def round_to_follow(session: Session, actor: User, round_id: uuid.UUID | None) -> Round:
    """A dated round of the coordinator's or crew member's own team; Invalid alike when
    unknown or another team's."""
    team_id = access.followed_team(actor)
    if team_id is None:
        raise Invalid({"round_id": FieldError("unknown_round")})
    return access.record_of_team(
        session, Round, round_id, team_id, field="round_id", code="unknown_round"
    )


@dataclass(frozen=True)
class StopLine:
    """A dated round's stop with what it points to, for the pages."""

    stop: RoundStop
    name: str
    address: str
    detail: str


def round_lines(session: Session, dated: Round) -> list[StopLine]:
    lines = []
    for stop in round_stops(session, dated.id):
        if stop.kind == "public_stop":
            place = session.get(Stop, stop.stop_id)
            name = place.name if place else ""
            address = f"{place.address}, {place.postcode} {place.city}" if place else ""
            detail = stop.topic
        elif stop.kind == "household":
            order = session.get(MealOrder, stop.meal_order_id)
            name = order.household if order else ""
            address = order.address if order else ""
            detail = f"{order.meals} × {order.diet}" if order else ""
        else:
            ride = session.get(Ride, stop.ride_id)
            name = ride.person if ride else ""
            if ride is None:
                address = ""
            else:
                address = ride.pickup_address if stop.kind == "pickup" else ride.dropoff_address
            detail = str(ride.seats) if ride else ""
        lines.append(StopLine(stop, name, address, detail))
    return lines


# --- Exceptions -----------------------------------------------------------------------------


def _reason(data: Mapping[str, Any], errors: dict[str, FieldError]) -> str:
    return parse.text(data, "reason", errors, limit=EXPLANATION_MAX, required=True)


def cancel_round(
    session: Session, actor: User, round_id: uuid.UUID | None, data: Mapping[str, Any]
) -> Round:
    """Cancel a dated round that has not started, with a reason (audited); a form from
    another version of the round (`version` given) is a Conflict."""
    dated = round_to_follow(session, actor, round_id)
    access.team_to_manage(actor, dated.team_id)
    _same_version(data, dated)
    errors: dict[str, FieldError] = {}
    reason = _reason(data, errors)
    if dated.status != "planned":
        errors["reason"] = FieldError("round_not_planned")
    if errors:
        raise Invalid(errors)
    cancel_planned(session, actor, dated, reason)
    return dated


def cancel_planned(session: Session, actor: User, dated: Round, reason: str) -> list[Any]:
    """The one cancellation of a planned dated round by a decision (a coordinator's, or
    her template's change): status, reason, revision (the announce job tells the stops'
    subscribers and appointment holders), audited; its stops' appointments places close
    that day (appointments' closure path). The booked appointments this strands."""
    dated.status, dated.cancel_kind, dated.cancel_reason = "cancelled", DECISION, reason
    dated.revision += 1
    _saved(session, actor, dated, entity_type="rounds_round", fields=["status", "cancel_reason"])
    return places.close_for_round(session, actor, dated, reason)


def _stop_of(session: Session, actor: User, stop_id: uuid.UUID | None) -> tuple[RoundStop, Round]:
    team_id = access.own_team(actor)
    stop = access.record_of_team(
        session, RoundStop, stop_id, team_id, field="stop_id", code="unknown_stop"
    )
    dated = session.get(Round, stop.round_id)
    assert dated is not None
    return stop, dated


def _changeable(dated: Round, stop: RoundStop, errors: dict[str, FieldError]) -> None:
    if dated.status not in ("planned", "started"):
        errors.setdefault("reason", FieldError("round_not_planned"))
    elif stop.status not in ("planned", "moved"):
        errors.setdefault("reason", FieldError("stop_already_done"))


def skip_stop(
    session: Session, actor: User, stop_id: uuid.UUID | None, data: Mapping[str, Any]
) -> RoundStop:
    """Skip one stop of a dated round, with a reason (audited); a stale form (`version`
    given) is a Conflict."""
    stop, dated = _stop_of(session, actor, stop_id)
    _same_version(data, stop)
    errors: dict[str, FieldError] = {}
    reason = _reason(data, errors)
    _changeable(dated, stop, errors)
    if errors:
        raise Invalid(errors)
    stop.status, stop.reason, stop.moved_to = "skipped", reason, None
    dated.revision += 1
    _touch(session, dated)
    _saved(session, actor, stop, entity_type="rounds_round_stop", fields=["status", "reason"])
    if stop.kind == "public_stop":
        places.close_for_round(session, actor, dated, reason, round_stop_id=stop.id)
    return stop


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def move_stop(
    session: Session, actor: User, stop_id: uuid.UUID | None, data: Mapping[str, Any]
) -> RoundStop:
    """Move one stop of a dated round to another time of its day, with a reason: within
    the round's hours and, for a minibus stop, not over another of its stops."""
    stop, dated = _stop_of(session, actor, stop_id)
    _same_version(data, stop)
    errors: dict[str, FieldError] = {}
    moved_to = parse.time(data, "moved_to", errors, required=True)
    reason = _reason(data, errors)
    _changeable(dated, stop, errors)
    if moved_to is not None and "moved_to" not in errors:
        length = 0
        if stop.planned_arrival and stop.planned_departure:
            length = _minutes(stop.planned_departure) - _minutes(stop.planned_arrival)
        start, end = _minutes(moved_to), _minutes(moved_to) + length
        if start < _minutes(dated.starts) or end > _minutes(dated.ends):
            errors["moved_to"] = FieldError(
                "outside_round_hours",
                {"starts": _clock(dated.starts), "ends": _clock(dated.ends)},
            )
        elif stop.kind == "public_stop":
            for other in round_stops(session, dated.id):
                if other.id == stop.id or other.kind != "public_stop" or other.status == "skipped":
                    continue
                arrival = other.moved_to or other.planned_arrival
                if arrival is None or other.planned_departure is None:
                    continue
                other_end = _minutes(arrival) + (
                    _minutes(other.planned_departure) - _minutes(other.planned_arrival or arrival)
                )
                if _minutes(arrival) < end and other_end > start:
                    errors["moved_to"] = FieldError(
                        "vehicle_busy",
                        {
                            "starts": _clock(arrival),
                            "ends": f"{other_end // 60:02d}:{other_end % 60:02d}",
                        },
                    )
                    break
    if errors:
        raise Invalid(errors)
    stop.status, stop.moved_to, stop.reason = "moved", moved_to, reason
    dated.revision += 1
    _touch(session, dated)
    _saved(
        session,
        actor,
        stop,
        entity_type="rounds_round_stop",
        fields=["status", "moved_to", "reason"],
    )
    return stop


def _same_version(data: Mapping[str, Any], record: Any) -> None:
    """The pages send the version they showed; other callers (and older pages) may not."""
    if "version" in data:
        check_version(data, record)


def check_version(data: Mapping[str, Any], record: Any) -> None:
    """A form that started from another version of `record` (someone changed it since):
    Conflict, the page answers 409 and shows the record as it is now."""
    raw = str(data.get("version") or "").strip()
    if not raw.isdigit() or int(raw) != record.version:
        raise Conflict({"id": str(record.id), "version": record.version})


def restore_stop(
    session: Session, actor: User, stop_id: uuid.UUID | None, data: Mapping[str, Any]
) -> RoundStop:
    """Put a skipped stop of a planned or started round back at its planned time (the
    form's `version` must be the stop's: a stale form is a Conflict). Audited; the round's
    revision grows, so a cancellation notice still queued is no longer current; a public
    stop's appointments place opens again that day (the skip's closure is lifted)."""
    stop, dated = _stop_of(session, actor, stop_id)
    access.team_to_manage(actor, dated.team_id)
    locked = session.scalars(
        select(RoundStop).where(RoundStop.id == stop.id).with_for_update()
    ).one()
    check_version(data, locked)
    errors: dict[str, FieldError] = {}
    if dated.status not in ("planned", "started"):
        errors["reason"] = FieldError("round_not_planned")
    elif locked.status != "skipped":
        errors["reason"] = FieldError("stop_not_skipped")
    if errors:
        raise Invalid(errors)
    locked.status, locked.reason, locked.moved_to = "planned", "", None
    dated.revision += 1
    _touch(session, dated)
    _saved(session, actor, locked, entity_type="rounds_round_stop", fields=["status", "reason"])
    if locked.kind == "public_stop":
        places.reopen_for_stop(session, actor, locked)
    return locked
