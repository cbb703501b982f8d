"""A dated round followed live (issue 19): what the crew records from the phone (start,
arrival and departure at each stop with its outcome, an incident, the end with the
kilometres), the ETA of every stop from that progress, and the SMS people subscribed to a
public stop get when the minibus runs late there or the stop is cancelled.

- The crew's taps are sync ops (rounds/live_sync.py) applied here: each writes the crew's
  own record (`RoundReport`, `StopReport`, ids made on the phone) and copies what it says
  onto the round and its stops with `sync.touch` (nobody's edit: a coordinator's change
  of the same round never conflicts with a tap). An op on a round of another team, an
  unknown one, one cancelled or out of the last week is refused alike (`unknown_round`,
  `unknown_stop`).
- `progress(session, dated, now)` and `live_status(session, round_stop_id, now)`: the
  ETA of every stop — the planned time shifted by the current delay (how late the crew
  left the last stop, or how long past its planned arrival it is not yet at the next);
  never earlier than planned at a public stop (the minibus waits for its permanence).
- `announce(session, dated, now)`: when a started minibus round runs later than the
  team's setting (15 minutes unless changed) at a public stop still to come, or a public
  stop is cancelled (the round cancelled by decision, the stop skipped), one SMS per
  running, confirmed subscription of that stop, in its language. Once per change: a
  `StopNotice` unique per round stop, kind and revision, and outbox keys
  `rounds:late:<round>:<round stop>:<revision>:<contact>`. Never sent in quiet hours (the
  outbox holds them) and never when no longer true: the message's subject
  (`rounds_notice:<id>`) is judged again by the dispatcher, and its validity ends at the
  minibus's expected arrival.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appointments import services as appointments
from core import audit, clock, sync
from core.accounts import User
from core.errors import FieldError, Invalid
from core.roles import Role
from notifications import services as notify
from rounds import access
from rounds.dated import round_lines, round_stops, rounds_between
from rounds.live_models import (
    INCIDENT_MAX,
    LATE_DEFAULT,
    LATE_MAX,
    LATE_MIN,
    STOP_OUTCOMES,
    LiveSettings,
    RoundReport,
    StopNotice,
    StopReport,
)
from rounds.models import Round, RoundStop, Stop, StopSubscription

# A phone long offline may send a round's taps days later, not weeks.
LATE_OPS = timedelta(days=7)
KM_MAX = 10_000_000
PEOPLE_MAX = 500
CATEGORY = "service_change"
SUBJECT = "rounds_notice"  # subjects "rounds_notice:<StopNotice id>"
ALERT_TEMPLATE = "rounds_incident_alert"
LATE_TEMPLATE = "rounds_stop_late"
CANCELLED_TEMPLATE = "rounds_stop_cancelled"
# The demo's example round (seed_example), named by the sync ops' examples.
EXAMPLE_ROUND_ID = uuid.uuid5(uuid.NAMESPACE_URL, "terrain:rounds-demo:example-round")
EXAMPLE_STOP_ID = uuid.uuid5(uuid.NAMESPACE_URL, "terrain:rounds-demo:example-round-stop")

# Plain GSM-7; the stop's name is public (it is on the poster), no person's name leaves.
LATE_KIND = notify.TemplateKind(
    code=LATE_TEMPLATE,
    category=CATEGORY,
    placeholders=("minutes", "stop"),
    defaults={
        "fr": "CPAS: le minibus aura {minutes} min de retard à {stop}.",
        "nl": "OCMW: de minibus is {minutes} min later aan {stop}.",
        "en": "CPAS: the minibus will be {minutes} min late at {stop}.",
    },
    example={"minutes": "20", "stop": "Monceau église"},
)
CANCELLED_KIND = notify.TemplateKind(
    code=CANCELLED_TEMPLATE,
    category=CATEGORY,
    placeholders=("stop", "time"),
    defaults={
        "fr": "CPAS: le minibus ne passera pas à {stop} aujourd'hui à {time}.",
        "nl": "OCMW: de minibus komt vandaag om {time} niet naar {stop}.",
        "en": "CPAS: the minibus will not come to {stop} today at {time}.",
    },
    example={"stop": "Monceau église", "time": "11h00"},
)
ALERT_KIND = notify.TemplateKind(
    code=ALERT_TEMPLATE,
    category=CATEGORY,
    placeholders=(),
    defaults={
        "fr": "Terrain tournées: incident signalé par l'équipe mobile. Ouvrez Terrain.",
        "nl": "Terrain rondes: incident gemeld door de mobiele ploeg. Open Terrain.",
        "en": "Terrain rounds: incident reported by the mobile crew. Open Terrain.",
    },
)


# --- Times ----------------------------------------------------------------------------------


def moment(day: date, at: time) -> datetime:
    """A local time of a round's day, as an aware UTC datetime."""
    return clock.as_utc(datetime.combine(day, at, tzinfo=clock.BRUSSELS))


def today() -> date:
    return clock.to_local(clock.now()).date()


@dataclass(frozen=True)
class StopLive:
    """Where one stop of a dated round stands at `now`."""

    round_stop_id: uuid.UUID
    round_id: uuid.UUID
    position: int
    kind: str
    status: str  # planned, moved, arrived, left, skipped; "cancelled" when the round is
    planned: datetime | None  # arrival as planned (after a move)
    eta: datetime | None  # expected arrival; None once there, cancelled, or round over
    delay_minutes: int  # how late the arrival is expected (0 when on time or early)
    arrived_at: datetime | None
    left_at: datetime | None

    @property
    def pending(self) -> bool:
        return self.eta is not None


def progress(session: Session, dated: Round, now: datetime) -> list[StopLive]:
    """Every stop of the round with its ETA at `now`, in order."""
    found: list[StopLive] = []
    delay = timedelta(0)
    first_pending = True
    for stop in round_stops(session, dated.id):
        arrival_time = stop.moved_to or stop.planned_arrival
        planned = moment(dated.day, arrival_time) if arrival_time else None
        dwell = timedelta(0)
        if stop.planned_arrival and stop.planned_departure:
            dwell = moment(dated.day, stop.planned_departure) - moment(
                dated.day, stop.planned_arrival
            )
        arrived = clock.as_utc(stop.arrived_at) if stop.arrived_at else None
        left = clock.as_utc(stop.left_at) if stop.left_at else None

        line = partial(
            StopLive,
            round_stop_id=stop.id,
            round_id=dated.id,
            position=stop.position,
            kind=stop.kind,
            planned=planned,
            arrived_at=arrived,
            left_at=left,
        )

        if dated.status == "cancelled" or (stop.status == "skipped" and arrived is None):
            found.append(
                line(
                    status="cancelled" if dated.status == "cancelled" else "skipped",
                    eta=None,
                    delay_minutes=0,
                )
            )
            continue
        if planned is None:
            found.append(line(status=stop.status, eta=None, delay_minutes=0))
            continue
        if left is not None:
            delay = left - (planned + dwell)
            if stop.kind == "public_stop":
                delay = max(delay, timedelta(0))
            found.append(line(status="left", eta=None, delay_minutes=0))
            first_pending = False
            continue
        if arrived is not None:
            expected_departure = max(now, arrived + dwell)
            delay = expected_departure - (planned + dwell)
            if stop.kind == "public_stop":
                delay = max(delay, timedelta(0))
            found.append(line(status="arrived", eta=None, delay_minutes=0))
            first_pending = False
            continue
        if dated.status == "finished":
            found.append(line(status=stop.status, eta=None, delay_minutes=0))
            continue
        if first_pending and now > planned + delay:
            delay = now - planned  # not there yet: at least this late
        first_pending = False
        eta = planned + delay
        if stop.kind == "public_stop":
            eta = max(eta, planned)
            delay = eta - planned
        late = max(0, math.ceil((eta - planned).total_seconds() / 60 - 1e-9))
        found.append(line(status=stop.status, eta=eta, delay_minutes=late))
    return found


def live_status(session: Session, round_stop_id: uuid.UUID, now: datetime) -> StopLive | None:
    """Where one stop of a dated round stands at `now` (its ETA, how late), for any
    domain's page or message (the public stop page, appointments); None when unknown.
    It reads no person: a public stop's status is public."""
    stop = session.get(RoundStop, round_stop_id)
    if stop is None:
        return None
    dated = session.get(Round, stop.round_id)
    if dated is None:
        return None
    return next(
        (line for line in progress(session, dated, now) if line.round_stop_id == stop.id), None
    )


# --- The team's setting ---------------------------------------------------------------------


def late_minutes(session: Session, team_id: int) -> int:
    row = session.get(LiveSettings, team_id)
    return row.late_minutes if row is not None else LATE_DEFAULT


def set_late_minutes(session: Session, actor: User, data: Mapping[str, Any]) -> LiveSettings:
    """The coordinator's setting: minutes late before subscribers get an SMS."""
    team_id = access.own_team(actor)
    raw = str(data.get("late_minutes", "")).strip()
    try:
        value = int(raw)
    except ValueError:
        raise Invalid({"late_minutes": FieldError("invalid_number")}) from None
    if not LATE_MIN <= value <= LATE_MAX:
        raise Invalid(
            {"late_minutes": FieldError("out_of_range", {"min": LATE_MIN, "max": LATE_MAX})}
        )
    row = session.get(LiveSettings, team_id)
    if row is None:
        row = LiveSettings(team_id=team_id, late_minutes=value, updated_at=clock.now())
        session.add(row)
    row.late_minutes, row.updated_at = value, clock.now()
    audit.record_change(session, actor, "rounds_live_settings", team_id, ["late_minutes"])
    session.flush()
    return row


# --- What the crew sends --------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One op's data, read."""

    step: str  # start, incident, finish, arrive, leave
    report_id: uuid.UUID
    target_id: uuid.UUID  # the round (start, incident, finish) or the round stop
    at: datetime
    km: int | None = None
    note: str = ""
    outcome: str = ""
    people_seen: int | None = None


ROUND_STEPS = ("start", "incident", "finish")
STOP_STEPS = ("arrive", "leave")


def _uuid(data: Mapping[str, Any], name: str, errors: dict[str, FieldError]) -> uuid.UUID:
    try:
        return uuid.UUID(str(data.get(name)))
    except ValueError:
        errors[name] = FieldError("invalid_uuid")
        return uuid.UUID(int=0)


def _count(
    data: Mapping[str, Any], name: str, errors: dict[str, FieldError], limit: int
) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        errors[name] = FieldError("invalid_number")
        return None
    try:
        number = int(value)
    except ValueError:
        errors[name] = FieldError("invalid_number")
        return None
    if not 0 <= number <= limit:
        errors[name] = FieldError("out_of_range", {"min": 0, "max": limit})
        return None
    return number


def read_entry(step: str, data: Mapping[str, Any]) -> Entry:
    """The op's data checked; Invalid with every bad field."""
    errors: dict[str, FieldError] = {}
    report_id = _uuid(data, "id", errors)
    target = _uuid(data, "round_id" if step in ROUND_STEPS else "round_stop_id", errors)
    at = sync.parse_client_time(data.get("at"))
    if data.get("at") in (None, ""):
        errors["at"] = FieldError("required")
    elif at is None:
        errors["at"] = FieldError("invalid_datetime")
    elif at > clock.now() + timedelta(minutes=5):
        errors["at"] = FieldError("in_future")
    km = None
    if step == "start":
        km = _count(data, "km_start", errors, KM_MAX)
    elif step == "finish":
        km = _count(data, "km_end", errors, KM_MAX)
    note = data.get("note", "")
    if not isinstance(note, str) or len(note) > INCIDENT_MAX:
        errors["note"] = FieldError("too_long", {"max": INCIDENT_MAX})
        note = ""
    outcome = data.get("outcome", "") or ""
    if outcome and outcome not in STOP_OUTCOMES:
        errors["outcome"] = FieldError("unknown_choice")
    people = _count(data, "people_seen", errors, PEOPLE_MAX)
    if errors:
        raise Invalid(errors)
    assert at is not None
    return Entry(step, report_id, target, at, km, note.strip(), str(outcome), people)


def _crew_round(session: Session, user: User, round_id: uuid.UUID) -> Round:
    """A round of the crew member's own team, not cancelled, from the last week to
    tomorrow; refused like an unknown one otherwise."""
    dated = session.get(Round, round_id)
    day = today()
    if (
        dated is None
        or user.role != Role.CREW
        or not access.crews(user, dated.team_id)
        or dated.status == "cancelled"
        or not day - LATE_OPS <= dated.day <= day + timedelta(days=1)
    ):
        raise Invalid({"round_id": FieldError("unknown_round")})
    return dated


def _crew_stop(session: Session, user: User, stop_id: uuid.UUID) -> tuple[RoundStop, Round]:
    stop = session.get(RoundStop, stop_id)
    try:
        if stop is None:
            raise Invalid({})
        dated = _crew_round(session, user, stop.round_id)
    except Invalid:
        raise Invalid({"round_stop_id": FieldError("unknown_stop")}) from None
    return stop, dated


def serialize_round_report(report: RoundReport) -> dict[str, Any]:
    def at(value: datetime | None) -> str | None:
        return clock.as_utc(value).isoformat() if value else None

    return {
        "id": str(report.id),
        "version": report.version,
        "round_id": str(report.round_id),
        "started_at": at(report.started_at),
        "km_start": report.km_start,
        "finished_at": at(report.finished_at),
        "km_end": report.km_end,
        "incident_at": at(report.incident_at),
    }


def serialize_stop_report(report: StopReport) -> dict[str, Any]:
    def at(value: datetime | None) -> str | None:
        return clock.as_utc(value).isoformat() if value else None

    return {
        "id": str(report.id),
        "version": report.version,
        "round_id": str(report.round_id),
        "round_stop_id": str(report.round_stop_id),
        "arrived_at": at(report.arrived_at),
        "left_at": at(report.left_at),
        "outcome": report.outcome,
        "people_seen": report.people_seen,
    }


def _scope(team_id: int) -> str:
    return sync.team_scope(team_id)


def record_round(
    session: Session, user: User, entry: Entry, client_at: datetime | None = None
) -> RoundReport:
    """Start, incident or finish of a round: the crew's report (made by the first that
    arrives, whatever id a second phone made) and the round's status and times."""
    dated = _crew_round(session, user, entry.target_id)
    report = session.scalar(select(RoundReport).where(RoundReport.round_id == dated.id))
    if report is None:
        clash = session.get(RoundReport, entry.report_id)
        if clash is not None:  # the id of another round's report
            raise Invalid({"round_id": FieldError("unknown_round")})
        report = RoundReport(
            id=entry.report_id,
            team_id=dated.team_id,
            round_id=dated.id,
            crew_id=user.id,
            incident_note="",
        )
        session.add(report)
    fields: list[str] = []
    if entry.step == "start":
        report.started_at = report.started_at or entry.at
        if entry.km is not None:
            report.km_start = entry.km
        fields = ["started_at", "km_start"]
        if dated.status == "planned":
            dated.status = "started"
        dated.started_at = dated.started_at or entry.at
        dated.km_start = report.km_start
    elif entry.step == "finish":
        if entry.km is not None and report.km_start is not None and entry.km < report.km_start:
            raise Invalid({"km_end": FieldError("km_before_start", {"km": report.km_start})})
        report.finished_at = entry.at
        report.km_end = entry.km if entry.km is not None else report.km_end
        fields = ["finished_at", "km_end"]
        report.started_at = report.started_at or entry.at
        dated.started_at = dated.started_at or report.started_at
        dated.status, dated.finished_at = "finished", entry.at
        dated.km_end = report.km_end
    else:
        report.incident_at = entry.at
        report.incident_note = entry.note
        fields = ["incident_at", "incident_note"]
    sync.stamp(session, report, _scope(dated.team_id), user, client_at)
    sync.touch(session, dated, _scope(dated.team_id))
    if entry.step == "incident":
        _alert(session, user, dated, report)
    audit.record_change(session, user, "rounds_round_report", report.id, fields)
    session.flush()
    if entry.step != "incident":
        announce(session, dated, clock.now())
    return report


def record_stop(
    session: Session, user: User, entry: Entry, client_at: datetime | None = None
) -> StopReport:
    """Arrival or departure at a stop, with its outcome: the crew's report and the stop's
    status and times; the round counts as started."""
    stop, dated = _crew_stop(session, user, entry.target_id)
    report = session.scalar(select(StopReport).where(StopReport.round_stop_id == stop.id))
    if report is None:
        if session.get(StopReport, entry.report_id) is not None:
            raise Invalid({"round_stop_id": FieldError("unknown_stop")})
        report = StopReport(
            id=entry.report_id,
            team_id=dated.team_id,
            round_id=dated.id,
            round_stop_id=stop.id,
            crew_id=user.id,
            outcome="",
        )
        session.add(report)
    if entry.step == "arrive":
        report.arrived_at = entry.at
        fields = ["arrived_at"]
    else:
        report.left_at = entry.at
        report.arrived_at = report.arrived_at or entry.at
        fields = ["left_at"]
        if report.arrived_at and report.left_at < report.arrived_at:
            raise Invalid({"at": FieldError("ends_before_start")})
    if entry.outcome:
        report.outcome = entry.outcome
        fields.append("outcome")
    if entry.people_seen is not None:
        report.people_seen = entry.people_seen
        fields.append("people_seen")
    sync.stamp(session, report, _scope(dated.team_id), user, client_at)
    stop.arrived_at, stop.left_at = report.arrived_at, report.left_at
    stop.status = "left" if report.left_at else "arrived"
    stop.outcome, stop.people_seen = report.outcome, report.people_seen
    sync.touch(session, stop, _scope(dated.team_id))
    if dated.status == "planned":
        dated.status = "started"
        dated.started_at = dated.started_at or report.arrived_at
        sync.touch(session, dated, _scope(dated.team_id))
    audit.record_change(session, user, "rounds_stop_report", report.id, fields)
    session.flush()
    announce(session, dated, clock.now())
    return report


def report_id_for(kind: str, record_id: uuid.UUID) -> uuid.UUID:
    """The report id the page's forms carry: one per round (or stop), the same on both
    crew phones and in a page kept offline."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"terrain:rounds-{kind}-report:{record_id}")


def _coordinators(session: Session, team_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(User.team_id == team_id, User.role == Role.COORDINATOR, User.active.is_(True))
            .order_by(User.id)
        )
    )


def _alert(session: Session, user: User, dated: Round, report: RoundReport) -> None:
    """An urgent SMS to the team's coordinators, once per round (the key)."""
    for coordinator in _coordinators(session, dated.team_id):
        contact = notify.contact_for_user(session, coordinator.id)
        if contact is None:
            continue
        notify.enqueue(
            session,
            key=f"rounds:incident:{dated.id}:{coordinator.id}",
            contact=contact,
            category=CATEGORY,
            template=ALERT_TEMPLATE,
            values={},
            urgent=True,
            actor=user,
        )
        report.alerted_at = report.alerted_at or clock.now()


# --- Telling the stop's subscribers ---------------------------------------------------------


def _subscribers(session: Session, team_id: int, stop_id: uuid.UUID) -> list[StopSubscription]:
    return list(
        session.scalars(
            select(StopSubscription)
            .where(
                StopSubscription.team_id == team_id,
                StopSubscription.stop_id == stop_id,
                StopSubscription.confirmed_at.is_not(None),
                StopSubscription.stopped_at.is_(None),
            )
            .order_by(StopSubscription.id)
        )
    )


def _notice(
    session: Session, dated: Round, stop: RoundStop, kind: str, revision: int, minutes: int
) -> StopNotice | None:
    """The notice of this change, made once (None when another process made it)."""
    notice = StopNotice(
        team_id=dated.team_id,
        round_id=dated.id,
        round_stop_id=stop.id,
        kind=kind,
        revision=revision,
        minutes=minutes,
        created_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(notice)
            session.flush()
    except IntegrityError:
        return None
    return notice


def _holders(session: Session, dated: Round, stop: RoundStop) -> list[tuple[int, str | None]]:
    """(contact id, language) of the people with an appointment at the stop's place
    during this visit (its planned hours), through appointments' public services."""
    place = session.get(Stop, stop.stop_id)
    if place is None or place.location_id is None or not stop.planned_arrival:
        return []
    starts = moment(dated.day, stop.planned_arrival)
    ends = moment(dated.day, stop.planned_departure or stop.planned_arrival)
    if ends <= starts:
        ends = starts + timedelta(minutes=1)
    return [
        (holder.contact_id, holder.language)
        for holder in appointments.holders_between(session, place.location_id, starts, ends)
    ]


def _send(
    session: Session,
    dated: Round,
    stop: RoundStop,
    notice: StopNotice,
    template: str,
    values: dict[str, str],
    valid_until: datetime,
) -> int:
    """One SMS per phone number among the stop's subscribers, then the people holding
    an appointment there (a subscriber who also booked hears it once)."""
    recipients: list[tuple[int, str | None]] = [
        (subscription.contact_id, subscription.language)
        for subscription in _subscribers(session, dated.team_id, stop.stop_id)  # type: ignore[arg-type]
    ]
    recipients += _holders(session, dated, stop)
    numbers: set[str] = set()
    sent = 0
    for contact_id, language in recipients:
        contact = notify.get_contact(session, contact_id)
        if contact is None:
            continue
        reach = notify.reachability(session, contact, CATEGORY)
        if reach.phone is None or reach.phone.e164 in numbers:
            continue  # opted out, withdrawn, no mobile, or told already: nothing written
        numbers.add(reach.phone.e164)
        body, _language = notify.render(session, template, language or contact.language, values)
        notify.enqueue(
            session,
            key=(f"rounds:{notice.kind}:{dated.id}:{stop.id}:{notice.revision}:{contact.id}"),
            contact=contact,
            category=CATEGORY,
            body=body,
            subject=f"{SUBJECT}:{notice.id}",
            valid_until=valid_until,
        )
        sent += 1
    return sent


def _latest(session: Session, stop_id: uuid.UUID, kind: str) -> StopNotice | None:
    return session.scalar(
        select(StopNotice)
        .where(StopNotice.round_stop_id == stop_id, StopNotice.kind == kind)
        .order_by(StopNotice.revision.desc())
        .limit(1)
    )


def announce(session: Session, dated: Round, now: datetime) -> int:
    """Tell the subscribers of the round's public stops what changed: late (a started
    round, more than the team's minutes late at a stop to come, and at least that much
    later than last told) or cancelled (a decision, or a skipped stop still to come).
    Returns how many SMS were queued."""
    day = clock.to_local(now).date()
    if dated.kind != "minibus" or not day <= dated.day <= day + timedelta(days=1):
        return 0
    if dated.status == "cancelled" and dated.cancel_kind != "decision":
        return 0  # a holiday is published with the calendar, weeks ahead
    threshold = late_minutes(session, dated.team_id)
    stops = {stop.id: stop for stop in round_stops(session, dated.id)}
    sent = 0
    for line in progress(session, dated, now):
        stop = stops[line.round_stop_id]
        if stop.kind != "public_stop" or line.planned is None:
            continue
        place = session.get(Stop, stop.stop_id)
        if place is None:
            continue
        if line.status in ("cancelled", "skipped"):
            if line.planned <= now or _latest(session, stop.id, "cancelled") is not None:
                continue
            revision = dated.revision
            notice = _notice(session, dated, stop, "cancelled", revision, 0)
            if notice is not None:
                hour = clock.to_local(line.planned).strftime("%Hh%M")
                sent += _send(
                    session,
                    dated,
                    stop,
                    notice,
                    CANCELLED_TEMPLATE,
                    {"stop": place.name, "time": hour},
                    line.planned,
                )
            continue
        if dated.status != "started" or not line.pending:
            continue
        if line.delay_minutes <= threshold:
            continue
        last = _latest(session, stop.id, "late")
        if last is not None and line.delay_minutes < last.minutes + threshold:
            continue
        notice = _notice(
            session, dated, stop, "late", (last.revision + 1) if last else 1, line.delay_minutes
        )
        if notice is not None:
            assert line.eta is not None
            sent += _send(
                session,
                dated,
                stop,
                notice,
                LATE_TEMPLATE,
                {"minutes": str(line.delay_minutes), "stop": place.name},
                max(line.eta, now + timedelta(minutes=15)),
            )
    return sent


def notice_is_current(session: Session, notice_id: str) -> bool:
    """Still true, so still worth sending: the stop still cancelled, or still late by
    more than the team's minutes, not reached yet, and this the latest notice of it."""
    try:
        notice = session.get(StopNotice, int(notice_id))
    except ValueError:
        return False
    if notice is None:
        return False
    dated = session.get(Round, notice.round_id)
    if dated is None:
        return False
    line = live_status(session, notice.round_stop_id, clock.now())
    if line is None:
        return False
    if notice.kind == "cancelled":
        return line.status in ("cancelled", "skipped")
    latest = _latest(session, notice.round_stop_id, "late")
    return (
        dated.status == "started"
        and line.pending
        and line.delay_minutes > late_minutes(session, dated.team_id)
        and latest is not None
        and latest.id == notice.id
    )


def announce_due(session: Session, now: datetime) -> int:
    """`announce` for every minibus round of today and tomorrow that may have news (the
    scheduler's job): started, cancelled by decision, or with a skipped stop."""
    day = clock.to_local(now).date()
    rounds = list(
        session.scalars(
            select(Round)
            .where(
                Round.kind == "minibus",
                Round.day >= day,
                Round.day <= day + timedelta(days=1),
                Round.status != "finished",
            )
            .order_by(Round.day, Round.starts, Round.id)
        )
    )
    sent = 0
    for dated in rounds:
        if dated.status == "planned" and not any(
            stop.status == "skipped" for stop in round_stops(session, dated.id)
        ):
            continue
        sent += announce(session, dated, now)
    return sent


notify.register_subject_kind(notify.SubjectKind(SUBJECT, notice_is_current))


def seed_example(session: Session, team_id: int, vehicle_id: uuid.UUID, stop_id: uuid.UUID) -> int:
    """The demo's example round (what the sync ops' examples name): the minibus's, the
    day before seeding, 17:00-18:00, one public stop, after its driver's day so it clashes
    with no round. 1 when made, 0 when it is there."""
    if session.get(Round, EXAMPLE_ROUND_ID) is not None:
        return 0
    now = clock.now()
    dated = Round(
        id=EXAMPLE_ROUND_ID,
        team_id=team_id,
        vehicle_id=vehicle_id,
        template_id=None,
        day=today() - timedelta(days=1),
        kind="minibus",
        name="Minibus Nord (exemple)",
        starts=time(17),
        ends=time(18),
        status="planned",
        cancel_kind="",
        cancel_reason="",
        revision=1,
        version=1,
        changed_at=now,
        updated_at=now,
    )
    session.add(dated)
    session.flush()
    stop = RoundStop(
        id=EXAMPLE_STOP_ID,
        team_id=team_id,
        round_id=dated.id,
        position=1,
        kind="public_stop",
        stop_id=stop_id,
        topic="social",
        planned_arrival=time(17),
        planned_departure=time(17, 45),
        status="planned",
        outcome="",
        reason="",
        version=1,
        changed_at=now,
        updated_at=now,
    )
    session.add(stop)
    sync.touch(session, dated, sync.team_scope(team_id))
    sync.touch(session, stop, sync.team_scope(team_id))
    session.flush()
    return 1


@dataclass(frozen=True)
class FollowedStop:
    """A stop on the coordinator's live page: what it is, where it stands."""

    name: str
    address: str
    live: StopLive
    outcome: str
    people_seen: int | None
    reason: str


def followed_day(
    session: Session, actor: User, day: date, now: datetime
) -> list[tuple[Round, list[FollowedStop]]]:
    """The coordinator's (or crew's) team's rounds of `day`, each stop with its ETA."""
    team_id = access.followed_team(actor)
    if team_id is None:
        raise Invalid({"team_id": FieldError("unknown_team")})
    found = []
    for dated in rounds_between(session, team_id, day, day):
        lines = {line.round_stop_id: line for line in progress(session, dated, now)}
        found.append(
            (
                dated,
                [
                    FollowedStop(
                        item.name,
                        item.address,
                        lines[item.stop.id],
                        item.stop.outcome,
                        item.stop.people_seen,
                        item.stop.reason,
                    )
                    for item in round_lines(session, dated)
                ],
            )
        )
    return found


def crew_day(session: Session, user: User, now: datetime) -> list[tuple[Round, list[StopLive]]]:
    """The crew member's team's rounds of today and tomorrow (not cancelled), each
    stop's ETA; empty for anybody else."""
    if user.role != Role.CREW or not access.crews(user, user.team_id):
        return []
    day = clock.to_local(now).date()
    rounds = session.scalars(
        select(Round)
        .where(
            Round.team_id == user.team_id,
            Round.day >= day,
            Round.day <= day + timedelta(days=1),
            Round.status != "cancelled",
        )
        .order_by(Round.day, Round.starts, Round.id)
    )
    return [(dated, progress(session, dated, now)) for dated in rounds]
