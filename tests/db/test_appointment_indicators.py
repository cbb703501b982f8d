"""Monthly indicators of appointments (appointments/indicators.py), hand-counted.

The month is March 2031, in which Brussels moves to summer time (Sunday 30 March):
the month starts at 2031-02-28 23:00 UTC and ends at 2031-03-31 22:00 UTC. Rows are
written directly (the statuses, sources and times the booking and desk code would
leave), so each expected figure can be counted by hand; nobody else books in 2031.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from appointments import indicators
from appointments import notifications as _attendance_source  # noqa: F401 (registers it)
from appointments.models import Appointment, BookingPerson, Location, Service
from core import clock
from notifications import reports
from notifications.models import Contact, Message
from tests.support import place_team

MARCH = date(2031, 3, 1)
_counter = itertools.count(1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


class Month:
    def __init__(self, db):
        self.db = db
        n = next(_counter)
        self.service = self.new_service(f"ti-svc-{n}", "Énergie")
        self.other_service = self.new_service(f"ti-svc-{n}-b", "Logement")
        team_id = place_team(db)
        self.location = Location(code=f"ti-loc-{n}", name="Antenne A", team_id=team_id)
        self.other_location = Location(code=f"ti-loc-{n}-b", name="Antenne B", team_id=team_id)
        db.add_all([self.location, self.other_location])
        self.person = BookingPerson(name="Indicator Person", phone="+32471000000")
        db.add(self.person)
        db.flush()
        self.contact_id = db.scalar(select(Contact.id).limit(1))

    def new_service(self, code: str, name: str) -> Service:
        service = Service(code=code, name_fr=name, name_nl=name, name_en=name, duration_minutes=30)
        self.db.add(service)
        return service

    def add(
        self,
        start: datetime,
        *,
        status: str = "booked",
        source: str = "online",
        cancelled_by: str | None = None,
        checked_in_at: datetime | None = None,
        called_at: datetime | None = None,
        reminder: str | None = None,
        service: Service | None = None,
        location: Location | None = None,
    ) -> Appointment:
        appointment = Appointment(
            service_id=(service or self.service).id,
            location_id=(location or self.location).id,
            person_id=self.person.id,
            start_at=start,
            end_at=start + timedelta(minutes=30),
            busy_until=start + timedelta(minutes=30),
            status=status,
            source=source,
            cancelled_by=cancelled_by,
            checked_in_at=checked_in_at,
            called_at=called_at,
        )
        self.db.add(appointment)
        self.db.flush()
        if reminder is not None:
            self.reminder(appointment, reminder)
        return appointment

    def reminder(self, appointment: Appointment, status: str, provider: bool = True) -> None:
        n = next(_counter)
        self.db.add(
            Message(
                key=f"ti-reminder-{n}",
                contact_id=self.contact_id,
                language="fr",
                category="reminder",
                body="Rappel",
                subject=f"appointment:{appointment.id}",
                status=status,
                not_before=appointment.start_at - timedelta(hours=2),
                provider_id=f"ti-provider-{n}" if provider else None,
            )
        )
        self.db.flush()


@pytest.fixture()
def month(db) -> Month:
    return Month(db)


def test_month_bounds_follow_brussels_time():
    start, end = clock.month_bounds(2031, 3)
    assert start == utc(2031, 2, 28, 23)  # winter time: UTC+1
    assert end == utc(2031, 3, 31, 22)  # summer time: UTC+2
    assert clock.month_bounds(2031, 10) == (utc(2031, 9, 30, 22), utc(2031, 10, 31, 23))
    assert clock.month_bounds(2031, 12)[1] == utc(2031, 12, 31, 23)


def test_figures_per_service_and_location_counted_by_hand(db, month):
    add = month.add
    # Just inside the month on both sides of the change of time, and just outside.
    add(utc(2031, 2, 28, 23, 0), status="done", reminder="delivered")  # 1 March 00:00
    add(utc(2031, 3, 31, 21, 59), status="no_show", reminder="delivered")  # 23:59 CEST
    add(utc(2031, 2, 28, 22, 59), status="done")  # 28 February 23:59: not March
    add(utc(2031, 3, 31, 22, 0), status="done")  # 1 April 00:00 CEST: not March
    # Booked ahead, by every channel.
    add(utc(2031, 3, 4, 9), status="checked_in", source="phone", reminder="delivered")
    add(utc(2031, 3, 5, 9), status="no_show", source="desk")  # no reminder
    add(utc(2031, 3, 6, 9), status="no_show", reminder="failed")  # failed = none
    add(utc(2031, 3, 7, 9), status="done", reminder="sent")  # left, unconfirmed: neither
    add(utc(2031, 3, 10, 9), status="booked")  # attendance not recorded
    add(utc(2031, 3, 11, 9), status="cancelled", cancelled_by="person")
    add(utc(2031, 3, 12, 9), status="cancelled", cancelled_by="staff", source="phone")
    add(utc(2031, 3, 13, 9), status="cancelled", cancelled_by="sms", reminder="delivered")
    # Waits: arrived 10 min late, called 6 min later; arrived early, called 14 min after
    # the start; a walk-in who waited 25 min; called before the start: no wait.
    add(
        utc(2031, 3, 17, 9),
        status="done",
        checked_in_at=utc(2031, 3, 17, 9, 10),
        called_at=utc(2031, 3, 17, 9, 16),
    )
    add(
        utc(2031, 3, 18, 9),
        status="done",
        checked_in_at=utc(2031, 3, 18, 8, 50),
        called_at=utc(2031, 3, 18, 9, 14),
    )
    add(
        utc(2031, 3, 19, 9, 25),  # desk.call moves a walk-in's start to the call
        status="done",
        source="walk_in",
        checked_in_at=utc(2031, 3, 19, 9),
        called_at=utc(2031, 3, 19, 9, 25),
    )
    add(utc(2031, 3, 20, 9), status="done", called_at=utc(2031, 3, 20, 8, 55))
    # Elsewhere: another location, another service.
    add(utc(2031, 3, 21, 9), status="done", source="walk_in", location=month.other_location)
    add(utc(2031, 3, 21, 10), status="no_show", service=month.other_service)

    result = indicators.monthly_indicators(db, MARCH, service=month.service)
    assert (result.start, result.end) == (utc(2031, 2, 28, 23), utc(2031, 3, 31, 22))
    assert [(row.service.code, row.location.code) for row in result.rows] == [
        (month.service.code, month.location.code),
        (month.service.code, month.other_location.code),
    ]
    main, other = (row.figures for row in result.rows)
    assert (main.booked_online, main.booked_phone, main.booked_desk) == (10, 2, 1)
    assert main.booked == 13
    assert main.walk_ins == 1
    assert main.attended == 7  # done or checked in, walk-in included
    assert main.no_shows == 3
    assert (main.cancelled_person, main.cancelled_staff, main.cancelled_sms) == (1, 1, 1)
    assert main.cancelled == 3
    assert main.waits == 4
    assert main.average_wait == pytest.approx((6 + 14 + 25 + 0) / 4)
    # Delivered reminder: 1 March (done), 31 March (no-show), 4 March (checked in).
    assert (main.reminded_recorded, main.reminded_no_shows) == (3, 1)
    assert main.no_show_rate_reminded == pytest.approx(1 / 3)
    # No reminder, booked ahead, recorded: 5 March (no-show), 6 March (failed: no-show),
    # 17, 18 and 20 March (done). The walk-in is left out, the unconfirmed one too.
    assert (main.unreminded_recorded, main.unreminded_no_shows) == (5, 2)
    assert main.no_show_rate_unreminded == pytest.approx(2 / 5)
    assert (other.walk_ins, other.attended, other.booked) == (1, 1, 0)
    assert other.average_wait is None
    assert other.no_show_rate_reminded is None

    total = result.total
    assert (total.booked, total.walk_ins, total.attended, total.no_shows) == (13, 2, 8, 3)
    assert total.average_wait == main.average_wait


def test_filters_by_location_and_service(db, month):
    month.add(utc(2031, 3, 4, 9), status="done")
    month.add(utc(2031, 3, 4, 10), status="done", location=month.other_location)
    month.add(utc(2031, 3, 4, 11), status="done", service=month.other_service)
    by_location = indicators.monthly_indicators(db, MARCH, location=month.other_location)
    assert [row.location.code for row in by_location.rows] == [month.other_location.code]
    both = indicators.monthly_indicators(
        db, MARCH, location=month.location, service=month.other_service
    )
    assert [(row.service.code, row.figures.attended) for row in both.rows] == [
        (month.other_service.code, 1)
    ]
    assert indicators.monthly_indicators(db, date(2031, 4, 1), service=month.service).rows == []


def test_the_reminder_split_is_the_sms_reports_split(db, month):
    """Same rule as the monthly SMS report's attendance (booked appointments only)."""
    statuses = ["done", "no_show", "checked_in", "booked", "no_show", "done"]
    reminders = ["delivered", "delivered", None, "failed", "sent", "queued"]
    for day, (status, reminder) in enumerate(zip(statuses, reminders, strict=True), start=3):
        month.add(utc(2031, 3, day, 9), status=status, reminder=reminder)
    start, end = clock.month_bounds(2031, 3)
    figures = indicators.monthly_indicators(db, MARCH)
    assert (start, end) == (figures.start, figures.end)
    expected = reports.attendance(db, start, end)
    total = figures.total
    assert total.reminded_recorded == expected.with_reminder.recorded
    assert total.reminded_recorded - total.reminded_no_shows == expected.with_reminder.attended
    assert total.unreminded_recorded == expected.without_reminder.recorded
    assert (
        total.unreminded_recorded - total.unreminded_no_shows == expected.without_reminder.attended
    )


def test_months_available_reach_next_month(db):
    with clock.frozen(datetime(2031, 12, 15, 12, tzinfo=UTC)):
        months = indicators.months_available(db)
    assert months[0] == date(2032, 1, 1)
    assert months[1] == date(2031, 12, 1)
