"""A minibus stop as an appointments place (kind mobile stop): one source of truth for
its hours. The permanences of the active minibus templates at the stop are the place's
weekly opening (`sync_place_hours`, written through appointments' services whenever the
stop is linked or its permanences change); bookable slots and walk-ins stay with
appointments. A dated round cancelled, or its stop at the place skipped, closes the place
that day through appointments' closure path (`close_for_round`), which lists the booked
appointments stranded by it (never cancelled silently).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from appointments import services as appointments
from core import audit, clock
from core import fields as parse
from core.accounts import User
from core.errors import FieldError, Invalid
from rounds import access
from rounds.models import Permanence, Round, RoundStop, RoundTemplate, Stop

CLOSURE_REASON_MAX = 200


def place_hours(session: Session, stop: Stop, on: date | None = None) -> dict[int, list]:
    """Weekday → (arrival, departure) of the stop's permanences in the minibus templates
    active on `on` (today) or later."""
    day = on or clock.to_local(clock.now()).date()
    hours: dict[int, list[tuple[time, time]]] = defaultdict(list)
    rows = session.execute(
        select(Permanence.weekday, Permanence.starts, Permanence.ends)
        .join(RoundTemplate, RoundTemplate.id == Permanence.template_id)
        .where(
            Permanence.stop_id == stop.id,
            RoundTemplate.kind == "minibus",
            or_(RoundTemplate.active_until.is_(None), RoundTemplate.active_until >= day),
        )
    )
    for weekday, starts, ends in rows:
        hours[weekday].append((starts, ends))
    return dict(hours)


def sync_place_hours(
    session: Session, stop: Stop, *, actor: User | None
) -> list[appointments.Stranded]:
    """Write the linked place's opening from the stop's permanences; the appointments
    the new hours strand (none when the stop has no place)."""
    location = appointments.location_by_id(session, stop.location_id)
    if location is None:
        return []
    return appointments.set_mobile_stop_hours(
        session, location, place_hours(session, stop), actor=actor
    )


def link_place(
    session: Session, actor: User, team_id: int, data: Mapping[str, Any]
) -> list[appointments.Stranded]:
    """Make stop `stop_id` the appointments place `location` (its code): a mobile stop of
    the same team, not already another stop's. Its hours then follow the permanences."""
    access.team_to_link(session, actor, team_id)
    errors: dict[str, FieldError] = {}
    stop_id = parse.uuid(data, "stop_id", errors, required=True)
    code = parse.text(data, "location", errors, limit=40, required=True)
    stop = session.get(Stop, stop_id) if stop_id is not None else None
    if stop_id is not None and (stop is None or stop.team_id != team_id):
        errors["stop_id"] = FieldError("unknown_stop")
    location = appointments.get_location(session, code) if code else None
    if code and (location is None or location.kind != "mobile_stop" or location.team_id != team_id):
        errors["location"] = FieldError("unknown_choice")
    if not errors and location is not None:
        taken = session.scalar(
            select(Stop.id).where(Stop.location_id == location.id, Stop.id != stop_id)
        )
        if taken is not None:
            errors["location"] = FieldError("place_taken")
    if errors:
        raise Invalid(errors)
    assert stop is not None and location is not None
    stop.location_id = location.id
    audit.record_change(session, actor, "rounds_stop", stop.id, ["location_id"])
    session.flush()
    return sync_place_hours(session, stop, actor=actor)


def _stop_to_link(session: Session, actor: User, data: Mapping[str, Any]) -> Stop:
    """The stop named by the form, if `actor` may link its team's stops; Invalid alike
    when unknown or out of reach (404 in the pages)."""
    errors: dict[str, FieldError] = {}
    stop_id = parse.uuid(data, "stop_id", errors, required=True)
    stop = session.get(Stop, stop_id) if stop_id is not None else None
    if stop is None:
        raise Invalid({"stop_id": FieldError("unknown_stop")})
    try:
        access.team_to_link(session, actor, stop.team_id)
    except Invalid:
        raise Invalid({"stop_id": FieldError("unknown_stop")}) from None
    return stop


def link_stop(
    session: Session, actor: User, data: Mapping[str, Any]
) -> list[appointments.Stranded]:
    """`link_place` for the stop the form names, in its own team (the links page: a
    coordinator's team, or any mobile team of an administrator's CPAS)."""
    stop = _stop_to_link(session, actor, data)
    return link_place(session, actor, stop.team_id, data)


def unlink_stop(session: Session, actor: User, data: Mapping[str, Any]) -> Stop:
    """The stop is no longer its place: the place keeps the hours it had (appointments'
    own from now on) and its bookings; audited."""
    stop = _stop_to_link(session, actor, data)
    if stop.location_id is not None:
        stop.location_id = None
        audit.record_change(session, actor, "rounds_stop", stop.id, ["location_id"])
        session.flush()
    return stop


@dataclass(frozen=True)
class StopPlace:
    """A stop on the links page: its team, the place it is (None: not linked) and the
    places it may become (its team's mobile stops that no other stop is)."""

    stop: Stop
    team_name: str
    place: Any
    choices: list[tuple[str, str]]


def stop_places(session: Session, actor: User) -> list[StopPlace]:
    """The active stops of the teams `actor` may link, each with its place and choices."""
    found: list[StopPlace] = []
    for team in access.teams_to_link(session, actor):
        places = appointments.mobile_stop_places(session, team.id)
        stops = list(
            session.scalars(
                select(Stop).where(Stop.team_id == team.id, Stop.active).order_by(Stop.name)
            )
        )
        taken = set(  # inactive stops keep their place too
            session.scalars(
                select(Stop.location_id).where(
                    Stop.team_id == team.id, Stop.location_id.is_not(None)
                )
            )
        )
        by_id = {place.id: place for place in places}
        for stop in stops:
            found.append(
                StopPlace(
                    stop=stop,
                    team_name=team.name,
                    place=by_id.get(stop.location_id) if stop.location_id else None,
                    choices=[
                        (place.code, place.name)
                        for place in places
                        if place.id not in taken or place.id == stop.location_id
                    ],
                )
            )
    return found


def close_for_round(
    session: Session,
    actor: User | None,
    dated: Round,
    reason: str,
    *,
    round_stop_id: uuid.UUID | None = None,
) -> list[appointments.Stranded]:
    """Close, on the round's day, the places of its public stops (only `round_stop_id`'s
    when given: a skipped stop) through appointments' closure path; the booked
    appointments this strands."""
    query = (
        select(Stop)
        .join(RoundStop, RoundStop.stop_id == Stop.id)
        .where(
            RoundStop.round_id == dated.id,
            RoundStop.kind == "public_stop",
            Stop.location_id.is_not(None),
        )
    )
    if round_stop_id is not None:
        query = query.where(RoundStop.id == round_stop_id)
    stranded: list[appointments.Stranded] = []
    for stop in session.scalars(query).unique():
        _closure, found = appointments.add_closure(
            session,
            {
                "location_id": str(stop.location_id),
                "first_day": dated.day.isoformat(),
                "reason": (reason or dated.cancel_reason or "-")[:CLOSURE_REASON_MAX],
            },
            actor=actor,
        )
        stranded.extend(found)
    return stranded


def stranded_on(session: Session, dated: Round) -> list[appointments.Stranded]:
    """The booked appointments at the round's places on its day that can no longer take
    place (a cancelled round, a skipped stop): for the coordinator to move or call."""
    location_ids = session.scalars(
        select(Stop.location_id)
        .join(RoundStop, RoundStop.stop_id == Stop.id)
        .where(RoundStop.round_id == dated.id, Stop.location_id.is_not(None))
    ).unique()
    found: list[appointments.Stranded] = []
    for location_id in location_ids:
        found.extend(
            appointments.stranded_appointments(
                session, location_id=location_id, first_day=dated.day, last_day=dated.day
            )
        )
    return found
