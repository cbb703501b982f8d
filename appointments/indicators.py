"""Monthly indicators of appointments, per service and location (issue 7).

A month is a calendar month in Europe/Brussels; an appointment counts in the month of
its start (so a walk-in counts when it arrived). Per (service, location):

- booked: appointments made ahead, split by how (online, phone, desk); walk-ins apart.
  A move counts as one cancellation (of the old time) and one booking (the new time),
  as `booking.reschedule` records it;
- attended: checked in or done; no-shows; cancelled, by whom (the person on the page,
  staff, or by replying NON to the SMS);
- average wait, in minutes: from arrival (check-in, or the start when the person came
  early) to being called in, over the appointments where an agent recorded the call;
- no-show rate with and without a reminder: among booked appointments (walk-ins are
  never reminded) whose attendance was recorded, no-shows / (attended + no-shows),
  for those whose reminder SMS was delivered and those that got no reminder at all.
  Reminders that left but whose delivery the operator never confirmed are in neither
  group: the same split as the monthly SMS report (`notifications.reports.attendance`).

Everything is counted by the database in one GROUP BY query; no row is read into
Python. No personal data: only counts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlalchemy import Float, String, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from appointments import scope
from appointments.models import Appointment, Location, Service
from appointments.setup import list_all_services
from core import clock
from core.accounts import User
from notifications import services as notify

__all__ = [
    "Figures",
    "IndicatorsPage",
    "MonthIndicators",
    "Row",
    "indicators_page",
    "monthly_indicators",
]

SUBJECT_PREFIX = "appointment:"  # as appointments.booking names the reminders' subject
ATTENDED = ("checked_in", "done")
DELIVERED, NONE = notify.REMINDER_DELIVERED, notify.REMINDER_NONE  # a subject's best reminder


@dataclass
class Figures:
    booked_online: int = 0
    booked_phone: int = 0
    booked_desk: int = 0
    walk_ins: int = 0
    attended: int = 0
    no_shows: int = 0
    cancelled_person: int = 0
    cancelled_staff: int = 0
    cancelled_sms: int = 0
    waits: int = 0  # appointments with a recorded call
    wait_minutes: float = 0.0  # their waits added up
    reminded_recorded: int = 0  # delivered reminder, attendance recorded
    reminded_no_shows: int = 0
    unreminded_recorded: int = 0  # no reminder at all, attendance recorded
    unreminded_no_shows: int = 0

    @property
    def booked(self) -> int:
        return self.booked_online + self.booked_phone + self.booked_desk

    @property
    def cancelled(self) -> int:
        return self.cancelled_person + self.cancelled_staff + self.cancelled_sms

    @property
    def average_wait(self) -> float | None:
        """Minutes, None when no call was recorded."""
        return self.wait_minutes / self.waits if self.waits else None

    @property
    def no_show_rate_reminded(self) -> float | None:
        return _rate(self.reminded_no_shows, self.reminded_recorded)

    @property
    def no_show_rate_unreminded(self) -> float | None:
        return _rate(self.unreminded_no_shows, self.unreminded_recorded)

    def add(self, other: Figures) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Row:
    service: Service
    location: Location
    figures: Figures


@dataclass
class MonthIndicators:
    year: int
    month: int
    start: datetime  # UTC
    end: datetime  # UTC, excluded
    rows: list[Row]  # by service then location name
    total: Figures

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)


def _minutes_between(session: Session, later: ColumnElement, earlier: ColumnElement):
    """later - earlier in minutes, as the database computes it."""
    if session.get_bind().dialect.name == "sqlite":  # naive UTC text: julian days
        return (func.julianday(later) - func.julianday(earlier)) * 1440.0
    return func.extract("epoch", later - earlier) / 60.0


def _count(condition: ColumnElement) -> ColumnElement:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def monthly_indicators(
    session: Session,
    month: date,
    location: Location | None = None,
    service: Service | None = None,
    *,
    viewer: User | None = None,
) -> MonthIndicators:
    """The figures of the Brussels month holding `month`, per service and location that
    had at least one appointment, and their total; optionally for one location and/or
    one service; with a `viewer`, only the places of the viewer's CPAS."""
    start, end = clock.month_bounds(month.year, month.month)
    subject = literal(SUBJECT_PREFIX) + cast(Appointment.id, String)
    wanted = [Appointment.start_at >= start, Appointment.start_at < end]
    if location is not None:
        wanted.append(Appointment.location_id == location.id)
    if viewer is not None:
        wanted.append(
            Appointment.location_id.in_(
                select(Location.id).where(scope.locations_filter(session, viewer))
            )
        )
    if service is not None:
        wanted.append(Appointment.service_id == service.id)
    # "Was a reminder delivered", joined on the subject in the same query: the reminders
    # of these appointments only, found by subject in its index.
    reminders = notify.reminder_states(select(subject).where(*wanted))
    state = func.coalesce(reminders.c.state, NONE)
    status, source = Appointment.status, Appointment.source
    booked_ahead = source != "walk_in"
    recorded = status.in_((*ATTENDED, "no_show"))
    # A walk-in waits from arrival (its start becomes the call when called); a booked
    # person from the later of arrival and the appointment's time.
    arrived = case(
        (
            and_(source == "walk_in", Appointment.checked_in_at.is_not(None)),
            Appointment.checked_in_at,
        ),
        (
            and_(
                Appointment.checked_in_at.is_not(None),
                Appointment.checked_in_at > Appointment.start_at,
            ),
            Appointment.checked_in_at,
        ),
        else_=Appointment.start_at,
    )
    wait = _minutes_between(session, Appointment.called_at, arrived)
    called = Appointment.called_at.is_not(None)
    cancelled = status == "cancelled"
    columns = {
        "booked_online": _count(source == "online"),
        "booked_phone": _count(source == "phone"),
        "booked_desk": _count(source == "desk"),
        "walk_ins": _count(source == "walk_in"),
        "attended": _count(status.in_(ATTENDED)),
        "no_shows": _count(status == "no_show"),
        "cancelled_person": _count(and_(cancelled, Appointment.cancelled_by == "person")),
        "cancelled_staff": _count(and_(cancelled, Appointment.cancelled_by == "staff")),
        "cancelled_sms": _count(and_(cancelled, Appointment.cancelled_by == "sms")),
        "waits": _count(called),
        # Called before arriving (early, or the call was recorded first): no wait.
        "wait_minutes": func.coalesce(
            func.sum(case((and_(called, wait > 0), cast(wait, Float)), else_=0.0)), 0.0
        ),
        "reminded_recorded": _count(and_(booked_ahead, recorded, state == DELIVERED)),
        "reminded_no_shows": _count(and_(booked_ahead, status == "no_show", state == DELIVERED)),
        "unreminded_recorded": _count(and_(booked_ahead, recorded, state == NONE)),
        "unreminded_no_shows": _count(and_(booked_ahead, status == "no_show", state == NONE)),
    }
    query = (
        select(Appointment.service_id, Appointment.location_id, *columns.values())
        .outerjoin(reminders, reminders.c.subject == subject)
        .where(*wanted)
        .group_by(Appointment.service_id, Appointment.location_id)
    )
    found = session.execute(query).all()
    services = _by_id(session, Service, {row[0] for row in found})
    locations = _by_id(session, Location, {row[1] for row in found})
    rows = []
    total = Figures()
    for service_id, location_id, *values in found:
        figures = Figures(
            **{
                name: float(value) if name == "wait_minutes" else int(value)
                for name, value in zip(columns, values, strict=True)
            }
        )
        total.add(figures)
        rows.append(Row(services[service_id], locations[location_id], figures))
    rows.sort(key=lambda row: (row.service.name_fr, row.service.code, row.location.name))
    return MonthIndicators(
        year=month.year, month=month.month, start=start, end=end, rows=rows, total=total
    )


def _by_id(session: Session, model, ids: set[int]) -> dict:
    if not ids:
        return {}
    return {item.id: item for item in session.scalars(select(model).where(model.id.in_(ids)))}


def months_available(session: Session) -> list[date]:
    """First days of the months from the first appointment to next month, newest first
    (next month: appointments are booked ahead)."""
    first = session.scalar(select(func.min(Appointment.start_at)))
    today = clock.to_local(clock.now()).date()
    last = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    day = clock.to_local(first).date().replace(day=1) if first else today.replace(day=1)
    day = min(day, today.replace(day=1))
    months = []
    while day <= last:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return list(reversed(months))


@dataclass(frozen=True)
class IndicatorsPage:
    result: MonthIndicators
    location: Location | None
    service: Service | None
    unknown: frozenset[str]  # the filters ("location", "service") naming nothing
    months: list[date]  # `months_available`
    locations: list[Location]  # every place, by name
    services: list[Service]  # every service


def indicators_page(
    session: Session,
    month: date,
    *,
    viewer: User,
    location_code: str = "",
    service_code: str = "",
) -> IndicatorsPage:
    """The figures of a month, filtered by a place's and a service's codes (an unknown
    code filters nothing and is named in `unknown`), and the choices of the filters: the
    viewer's CPAS only (a place of another is unknown)."""
    unknown: set[str] = set()
    location = service = None
    if location_code:
        location = scope.scoped_location(session, viewer, location_code)
        if location is None:
            unknown.add("location")
    if service_code:
        service = session.scalar(select(Service).where(Service.code == service_code.strip()))
        if service is None:
            unknown.add("service")
    return IndicatorsPage(
        result=monthly_indicators(
            session, month, location=location, service=service, viewer=viewer
        ),
        location=location,
        service=service,
        unknown=frozenset(unknown),
        months=months_available(session),
        locations=scope.visible_locations(session, viewer),
        services=list_all_services(session),
    )
