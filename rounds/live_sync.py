"""Rounds in the sync engine: what a crew member's phone downloads (her team's dated
rounds of today and tomorrow, each with its stops and what the crew needs there) and the
ops it sends during a round (rounds/live.py applies them).

Only the crew of the round's own mobile team: another team's or CPAS's rounds are never
in the feed and their ids are refused like unknown ones. The feed token holds the day:
each new day the phone starts afresh (reset) and yesterday's rounds are gone; within a
day, a round of the team that was cancelled is sent as a deletion.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock, sync
from core.accounts import User
from core.roles import Permission, Role
from rounds import access, live
from rounds.dated import round_stops
from rounds.live_models import INCIDENT_MAX, STOP_OUTCOMES, RoundReport
from rounds.models import MealOrder, Ride, Round, RoundStop, RoundStopRemoval, Stop

DAYS_AHEAD = 1  # today and tomorrow
ROUND_TYPE = "rounds.round"
STOP_TYPE = "rounds.stop"  # only deletions: a stop taken out of a round (rounds.follow)


def _team_rounds(session: Session, user: User, day: date) -> list[Round]:
    if user.role != Role.CREW or not access.crews(user, user.team_id):
        return []
    return list(
        session.scalars(
            select(Round)
            .where(
                Round.team_id == user.team_id,
                Round.day >= day,
                Round.day <= day + timedelta(days=DAYS_AHEAD),
            )
            .order_by(Round.day, Round.starts, Round.id)
        )
    )


def _hhmm(value: Any) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def _at(value: Any) -> str | None:
    return clock.as_utc(value).isoformat() if value is not None else None


def serialize_stop(session: Session, stop: RoundStop) -> tuple[dict[str, Any], int]:
    """A stop with what the crew needs there, and the latest change number it shows."""
    seq = stop.change_seq
    record: dict[str, Any] = {
        "id": str(stop.id),
        "position": stop.position,
        "kind": stop.kind,
        "planned_arrival": _hhmm(stop.moved_to or stop.planned_arrival),
        "planned_departure": _hhmm(stop.planned_departure),
        "status": stop.status,
        "reason": stop.reason,
        "arrived_at": _at(stop.arrived_at),
        "left_at": _at(stop.left_at),
        "outcome": stop.outcome,
        "people_seen": stop.people_seen,
        "report_id": str(live.report_id_for("stop", stop.id)),
    }
    if stop.kind == "public_stop":
        place = session.get(Stop, stop.stop_id)
        if place is not None:
            seq = max(seq, place.change_seq)
            record |= {
                "name": place.name,
                "address": f"{place.address}, {place.postcode} {place.city}",
                "latitude": place.latitude,
                "longitude": place.longitude,
                "topic": stop.topic,
            }
    elif stop.kind == "household":
        order = session.get(MealOrder, stop.meal_order_id)
        if order is not None:
            seq = max(seq, order.change_seq)
            record |= {
                "name": order.household,
                "address": f"{order.address}, {order.postcode} {order.city}",
                "latitude": order.latitude,
                "longitude": order.longitude,
                "meals": order.meals,
                "diet": order.diet,
                "instructions": order.instructions,
                "window": [_hhmm(order.window_start), _hhmm(order.window_end)],
            }
    else:
        ride = session.get(Ride, stop.ride_id)
        if ride is not None:
            seq = max(seq, ride.change_seq)
            pickup = stop.kind == "pickup"
            record |= {
                "name": ride.person,
                "phone": ride.phone,
                "address": ride.pickup_address if pickup else ride.dropoff_address,
                "latitude": ride.pickup_latitude if pickup else ride.dropoff_latitude,
                "longitude": ride.pickup_longitude if pickup else ride.dropoff_longitude,
                "seats": ride.seats,
                "wheelchair": ride.wheelchair,
                "notes": ride.notes,
            }
    return record, seq


def serialize_round(session: Session, dated: Round) -> tuple[dict[str, Any], int]:
    """The round with its stops in order, and the latest change number it shows."""
    seq = dated.change_seq
    stops = []
    for stop in round_stops(session, dated.id):
        record, stop_seq = serialize_stop(session, stop)
        stops.append(record)
        seq = max(seq, stop_seq)
    report = session.scalar(select(RoundReport).where(RoundReport.round_id == dated.id))
    if report is not None:
        seq = max(seq, report.change_seq)
    return {
        "id": str(dated.id),
        "version": dated.version,
        "day": dated.day.isoformat(),
        "kind": dated.kind,
        "name": dated.name,
        "starts": _hhmm(dated.starts),
        "ends": _hhmm(dated.ends),
        "status": dated.status,
        "started_at": _at(dated.started_at),
        "finished_at": _at(dated.finished_at),
        "km_start": dated.km_start,
        "km_end": dated.km_end,
        "report_id": str(live.report_id_for("round", dated.id)),
        "stops": stops,
    }, seq


def round_changes(session: Session, user: User, since: int, limit: int) -> list[sync.Change]:
    """The team's rounds of today and tomorrow changed since `since` (a round, one of its
    stops or what a stop points to); a deletion for a round cancelled since."""
    found: list[sync.Change] = []
    for dated in _team_rounds(session, user, live.today()):
        if dated.status == "cancelled":
            if since > 0 and dated.change_seq > since:
                found.append(sync.Change(dated.change_seq, ROUND_TYPE, str(dated.id), None))
            continue
        record, seq = serialize_round(session, dated)
        if seq > since:
            found.append(sync.Change(seq, ROUND_TYPE, str(dated.id), record))
    found.sort(key=lambda change: (change.seq, change.id))
    # Filtered in Python, then cut: the engine reads "more" from the count it gets.
    return found[:limit]


def stop_removals(session: Session, user: User, since: int, limit: int) -> list[sync.Change]:
    """Stops taken out of the team's rounds of today and tomorrow since `since` (their
    template's stop removed), each as a deletion (`record: null`); the round itself comes
    again without it. A stop lives inside its round's record, so this type carries only
    deletions; the server does not know which phone held it (the id only)."""
    if since <= 0:
        return []
    rounds = [dated.id for dated in _team_rounds(session, user, live.today())]
    if not rounds:
        return []
    found = [
        sync.Change(removal.change_seq, STOP_TYPE, str(removal.id), None)
        for removal in session.scalars(
            select(RoundStopRemoval)
            .where(
                RoundStopRemoval.team_id == user.team_id,
                RoundStopRemoval.round_id.in_(rounds),
                RoundStopRemoval.change_seq > since,
            )
            .order_by(RoundStopRemoval.change_seq, RoundStopRemoval.id)
            .limit(limit)
        )
    ]
    return found


sync.register_feed(
    sync.FeedSource(
        entity_type=ROUND_TYPE, permission=Permission.ROUNDS_CREW, changes=round_changes
    )
)
sync.register_feed(
    sync.FeedSource(entity_type=STOP_TYPE, permission=Permission.ROUNDS_CREW, changes=stop_removals)
)


def crew_page(
    session: Session, user: User, now: datetime
) -> list[tuple[dict[str, Any], dict[str, live.StopLive]]]:
    """The crew's rounds of today and tomorrow (not cancelled) as the phone holds them,
    each with its stops' ETA at `now` (by stop id)."""
    return [
        (
            serialize_round(session, dated)[0],
            {str(line.round_stop_id): line for line in lines},
        )
        for dated, lines in live.crew_day(session, user, now)
    ]


# --- What the crew sends ---------------------------------------------------------------------

UUID = {"type": "string", "format": "uuid"}
PHONE_TIME = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601 with its offset, by the phone's clock. Not in the future.",
}
KM = {"type": ["integer", "null"], "minimum": 0, "maximum": live.KM_MAX}


def _schema(description: str, target: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": ["id", target, "at"],
        "properties": {"id": UUID, target: UUID, "at": PHONE_TIME, **extra},
    }


ROUND_NOTE = (
    "`id` is the round report's id, made on the phone (start, incident and finish of one "
    "round share it; a second phone's id is taken as the first's). `round_id` names a "
    "round of the crew's own team (another's is refused as unknown)."
)
STOP_NOTE = (
    "`id` is the stop report's id, made on the phone (arrival and departure share it). "
    "`round_stop_id` names a stop of a round of the crew's own team."
)
START_SCHEMA = _schema(
    "The round starts. " + ROUND_NOTE, "round_id", km_start=KM | {"description": "Odometer."}
)
INCIDENT_SCHEMA = _schema(
    "An incident on the round: the coordinator gets an urgent SMS, once per round. " + ROUND_NOTE,
    "round_id",
    note={"type": "string", "maxLength": INCIDENT_MAX},
)
FINISH_SCHEMA = _schema(
    "The round is over, with the odometer (not below the start's). " + ROUND_NOTE,
    "round_id",
    km_end=KM,
)
ARRIVE_SCHEMA = _schema("The crew arrives at a stop (one tap). " + STOP_NOTE, "round_stop_id")
LEAVE_SCHEMA = _schema(
    "The crew leaves a stop, with how it went: meals `delivered`, `nobody_home`, "
    "`refused`; at a public stop `seen` with `people_seen`; a ride `ride_done` or "
    "`no_show`. " + STOP_NOTE,
    "round_stop_id",
    outcome={"enum": ["", *STOP_OUTCOMES]},
    people_seen={"type": ["integer", "null"], "minimum": 0, "maximum": live.PEOPLE_MAX},
)

# The examples name the demo's "example round" (rounds/live_demo.py): the minibus's, the
# day before seeding, 17:00-18:00, one public stop; mobile1's team.
EXAMPLE_ROUND_ID = str(live.EXAMPLE_ROUND_ID)
EXAMPLE_STOP_ID = str(live.EXAMPLE_STOP_ID)
EXAMPLE_ROUND_REPORT = str(live.report_id_for("round", live.EXAMPLE_ROUND_ID))
EXAMPLE_STOP_REPORT = str(live.report_id_for("stop", live.EXAMPLE_STOP_ID))
EXAMPLES: dict[str, dict[str, Any]] = {
    "start": {
        "id": EXAMPLE_ROUND_REPORT,
        "round_id": EXAMPLE_ROUND_ID,
        "at": sync.ExampleTime(days_ago=1, hour=17),
        "km_start": 120450,
    },
    "incident": {
        "id": EXAMPLE_ROUND_REPORT,
        "round_id": EXAMPLE_ROUND_ID,
        "at": sync.ExampleTime(days_ago=1, hour=17),
        "note": "Pneu crevé, on attend le dépanneur.",
    },
    "finish": {
        "id": EXAMPLE_ROUND_REPORT,
        "round_id": EXAMPLE_ROUND_ID,
        "at": sync.ExampleTime(days_ago=1, hour=18),
        "km_end": 120482,
    },
    "arrive": {
        "id": EXAMPLE_STOP_REPORT,
        "round_stop_id": EXAMPLE_STOP_ID,
        "at": sync.ExampleTime(days_ago=1, hour=17),
    },
    "leave": {
        "id": EXAMPLE_STOP_REPORT,
        "round_stop_id": EXAMPLE_STOP_ID,
        "at": sync.ExampleTime(days_ago=1, hour=18),
        "outcome": "seen",
        "people_seen": 4,
    },
}


def _apply_round(step: str) -> Any:
    def apply(context: sync.OpContext, data: dict[str, Any]) -> sync.Applied:
        entry = live.read_entry(step, data)
        report = live.record_round(context.session, context.actor, entry, context.client_at)
        return sync.Applied(record_id=str(report.id), record=live.serialize_round_report(report))

    return apply


def _apply_stop(step: str) -> Any:
    def apply(context: sync.OpContext, data: dict[str, Any]) -> sync.Applied:
        entry = live.read_entry(step, data)
        report = live.record_stop(context.session, context.actor, entry, context.client_at)
        return sync.Applied(record_id=str(report.id), record=live.serialize_stop_report(report))

    return apply


for _name, _step, _summary, _schema_of in (
    ("rounds.round.start", "start", "The crew starts a round (one tap).", START_SCHEMA),
    ("rounds.stop.arrive", "arrive", "The crew arrives at a stop (one tap).", ARRIVE_SCHEMA),
    ("rounds.stop.leave", "leave", "The crew leaves a stop, with its outcome.", LEAVE_SCHEMA),
    ("rounds.round.incident", "incident", "The crew reports an incident.", INCIDENT_SCHEMA),
    ("rounds.round.finish", "finish", "The crew ends a round with the km.", FINISH_SCHEMA),
):
    sync.register(
        sync.OpType(
            name=_name,
            permission=Permission.ROUNDS_CREW,
            summary=_summary,
            data_schema=_schema_of,
            apply=_apply_round(_step) if _step in live.ROUND_STEPS else _apply_stop(_step),
            example=EXAMPLES[_step],
        )
    )
