"""What appointments register with notifications, at import time.

- The SMS subject kind "appointment" (`appointment:<id>`): a message about an
  appointment is still worth sending while it is booked or checked in and has not
  started; OUI confirms it (`confirmed_at`), NON cancels it (`cancelled_by = "sms"`,
  which offers the freed start to the waiting list); staff read a message's subject
  as the appointment's start (`start_of`).
- The attendance source of the monthly SMS report: every appointment held in the
  month (cancelled ones were not held), attended when checked in or done, not
  attended when marked no-show, unknown otherwise.
- The broadcast audience "appointments_on_day": the people with an active
  appointment on a date (Brussels), optionally at one location.

Imported by the domain's installation (appointments/domain.py `hooks`): in the web app,
the scheduler (whose dispatcher asks `is_current` before sending) and the tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, String, cast, literal, select
from sqlalchemy.orm import Session

from appointments import booking, scope
from appointments.models import Appointment, BookingPerson, Location
from core import clock, organisations
from core.accounts import User
from core.errors import FieldError, Invalid
from core.ids import parse_id
from notifications import services as notify

CURRENT_STATES = ("booked", "checked_in")
PERSON_REFERENCE_PREFIX = "appointments.person:"


def _appointment(session: Session, record_id: str) -> Appointment | None:
    try:
        return session.get(Appointment, int(record_id))
    except (TypeError, ValueError):
        return None


def is_current(session: Session, record_id: str) -> bool:
    appointment = _appointment(session, record_id)
    return (
        appointment is not None
        and appointment.status in CURRENT_STATES
        and appointment.start_at > clock.now()
    )


def on_reply(session: Session, record_id: str, answer: str) -> notify.ReplyOutcome:
    """OUI: confirmed (once); NON: cancelled by SMS. The answer names the date and time."""
    appointment = _appointment(session, record_id)
    if appointment is None:
        return notify.ReplyOutcome(False, "reply_received", {})
    person = session.get(BookingPerson, appointment.person_id)
    language = person.language if person is not None else None
    location = session.get(Location, appointment.location_id)
    cpas = organisations.cpas_of_team(session, location.team_id) if location else None
    values = {
        **notify.moment_values(appointment.start_at, language),
        **notify.cpas_values(booking.cpas_names(cpas), language),
    }
    if answer == "confirm":
        if appointment.confirmed_at is None:
            appointment.confirmed_at = clock.now()
        return notify.ReplyOutcome(True, "reply_confirmed", values)
    booking.cancel(session, appointment, by="sms")
    return notify.ReplyOutcome(True, "reply_cancelled", values)


def start_of(session: Session, record_id: str) -> datetime | None:
    """When the appointment starts (what staff read an SMS is about); None when gone."""
    appointment_id = parse_id(record_id)
    appointment = session.get(Appointment, appointment_id) if appointment_id else None
    return appointment.start_at if appointment is not None else None


notify.register_subject_kind(notify.SubjectKind("appointment", is_current, on_reply, start_of))


def attendance(
    session: Session, start: datetime, end: datetime, viewer: User | None = None
) -> Iterator[tuple[str, bool | None]]:
    """(subject, attended) of the appointments held in [start, end); `viewer`: at the
    places within their scope only (their CPAS's; a local role's antennes')."""
    query = select(Appointment.id, Appointment.status).where(
        Appointment.start_at >= start,
        Appointment.start_at < end,
        Appointment.status != "cancelled",
    )
    if viewer is not None:
        query = query.where(
            Appointment.location_id.in_(
                select(Location.id).where(scope.locations_filter(session, viewer))
            )
        )
    rows = session.execute(query)
    for appointment_id, status in rows:
        if status in ("checked_in", "done"):
            attended: bool | None = True
        elif status == "no_show":
            attended = False
        else:
            attended = None
        yield f"appointment:{appointment_id}", attended


notify.register_attendance_source(attendance)


def _location_choices(session: Session) -> list[tuple[str, str]]:
    return [
        (code, name)
        for code, name in session.execute(
            select(Location.code, Location.name).order_by(Location.name, Location.code)
        )
    ]


def _team_of_location(session: Session, code: str) -> int | None:
    """A place's team (its CPAS decides who may choose it: docs/cpas.md)."""
    return session.scalar(select(Location.team_id).where(Location.code == code))


def _day(params: Mapping[str, str]) -> date:
    try:
        return date.fromisoformat(str(params.get("date") or ""))
    except ValueError:
        raise Invalid({"date": FieldError("invalid_date")}) from None


def _location(session: Session, params: Mapping[str, str]) -> Location | None:
    code = str(params.get("location") or "").strip()
    if not code:
        return None
    location = session.scalar(select(Location).where(Location.code == code))
    if location is None:
        raise Invalid({"location": FieldError("unknown_choice")})
    return location


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC moments of a Brussels day (23 or 25 hours on the days the time changes)."""
    first = clock.as_utc(datetime.combine(day, time(), tzinfo=clock.BRUSSELS))
    after = clock.as_utc(datetime.combine(day + timedelta(days=1), time(), tzinfo=clock.BRUSSELS))
    return first, after


def appointments_on_day(session: Session, params: Mapping[str, str]) -> Select:
    first, after = day_bounds(_day(params))
    location = _location(session, params)
    references = select(
        literal(PERSON_REFERENCE_PREFIX) + cast(Appointment.person_id, String)
    ).where(
        Appointment.status.in_(CURRENT_STATES),
        Appointment.start_at >= first,
        Appointment.start_at < after,
    )
    if location is not None:
        references = references.where(Appointment.location_id == location.id)
    return notify.contact_ids_for_references(references)


def _describe(session: Session, params: Mapping[str, str]) -> str:
    day = _day(params)
    location = _location(session, params)
    where = f" at {location.name}" if location is not None else ""
    return f"appointments on {day.isoformat()}{where}"


notify.register_audience(
    notify.Audience(
        code="appointments_on_day",
        label="People with an appointment on a day",
        params=(
            notify.AudienceParam("date", "Date", kind="date"),
            notify.AudienceParam(
                "location",
                "Location",
                kind="choice",
                required=False,
                choices=_location_choices,
                team_of=_team_of_location,
            ),
        ),
        contact_ids=appointments_on_day,
        describe=_describe,
    )
)
