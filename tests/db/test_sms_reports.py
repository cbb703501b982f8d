"""The monthly SMS report: Brussels months, counts, cost, opt-outs, attendance."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from itertools import count

import pytest
from sqlalchemy.orm import Session

from core import clock
from notifications import contacts, reports
from notifications.models import Contact, Message

_keys = count()


@pytest.fixture()
def someone(db: Session) -> Contact:
    return contacts.create_contact(
        db, actor=None, display_name="Rapport", language="fr", phones=["0470 98 00 01"]
    )


def message(
    db: Session,
    contact: Contact,
    at: datetime,
    *,
    status: str = "delivered",
    category: str = "reminder",
    segments: int = 1,
    price: str | None = None,
    left: bool = True,
    error_code: str | None = None,
    subject: str | None = None,
) -> Message:
    number = next(_keys)
    row = Message(
        key=f"report-test:{number}",
        contact_id=contact.id,
        to="+32470980001",
        language="fr",
        category=category,
        body="Rappel",
        segments=segments,
        status=status,
        not_before=at,
        created_at=at,
        status_at=at,
        provider_id=f"SMreport{number}" if left else None,
        price=Decimal(price) if price is not None else None,
        error_code=error_code,
        subject=subject,
    )
    db.add(row)
    db.flush()
    return row


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_months_are_brussels_months(db, someone):
    # 23:30 UTC on 28 February is 00:30 on 1 March in Brussels (winter time, +1).
    message(db, someone, utc(2025, 2, 28, 23, 30))
    # 22:30 UTC on 31 March is 00:30 on 1 April (summer time, +2).
    message(db, someone, utc(2025, 3, 31, 22, 30))
    # 21:59 UTC on 31 March is 23:59 on 31 March.
    message(db, someone, utc(2025, 3, 31, 21, 59))
    assert reports.monthly(db, 2025, 2).total.created == 0
    march = reports.monthly(db, 2025, 3)
    assert march.total.created == 2
    assert march.start == utc(2025, 2, 28, 23, 0)
    assert march.end == utc(2025, 3, 31, 22, 0)
    assert reports.monthly(db, 2025, 4).total.created == 1
    december = clock.month_bounds(2025, 12)
    assert december == (utc(2025, 11, 30, 23, 0), utc(2025, 12, 31, 23, 0))


def test_counts_segments_and_cost_per_category(db, someone):
    day = utc(2025, 5, 10, 9, 0)
    message(db, someone, day, status="delivered", segments=2, price="0.0750")
    message(db, someone, day, status="delivered", segments=3)  # no price from the operator
    message(db, someone, day, status="undelivered", segments=1, error_code="30003")
    message(db, someone, day, status="failed", left=False, error_code="21211")
    message(db, someone, day, status="sent", category="service_change", segments=1)
    message(db, someone, day, status="blocked", left=False, error_code="no_consent")
    message(db, someone, day, status="blocked", left=False, error_code="no_consent")
    message(db, someone, day, status="blocked", left=False, error_code="no_mobile")
    message(db, someone, day, status="cancelled", left=False, error_code="subject_gone")
    message(db, someone, day, status="pending", left=False)
    report = reports.monthly(db, 2025, 5, segment_price="0.08")
    reminder = report.categories["reminder"]
    assert reminder.created == 9
    assert reminder.sent == 3  # delivered, delivered, undelivered (the failed one never left)
    assert reminder.delivered == 2
    assert reminder.failed == 2
    assert reminder.blocked == 3
    assert reminder.blocked_reasons == {"no_consent": 2, "no_mobile": 1}
    assert reminder.dropped == 1
    assert reminder.segments == 6
    assert reminder.cost_known == Decimal("0.0750")
    assert reminder.cost_estimated == Decimal("0.32")  # (3 + 1) segments × 0.08
    assert reminder.cost == Decimal("0.3950") and reminder.is_estimate
    service = report.categories["service_change"]
    assert (service.created, service.sent, service.segments) == (1, 1, 1)
    assert report.categories["information"].created == 0
    assert report.total.created == 10
    assert report.total.sent == 4
    assert report.total.cost == Decimal("0.4750")


def test_opt_outs_are_counted_by_how_they_came(db, someone):
    other = contacts.create_contact(
        db, actor=None, display_name="Autre", language="nl", phones=["0470 98 00 02"]
    )
    june = utc(2025, 6, 15, 12, 0)
    for contact, method in ((someone, "sms_reply"), (other, "form")):
        contacts.set_consent(
            db, contact, category="reminder", granted=True, method="form", actor=None, at=june
        )
        contacts.set_consent(
            db, contact, category="reminder", granted=False, method=method, actor=None, at=june
        )
    contacts.set_consent(
        db,
        other,
        category="information",
        granted=False,
        method="sms_reply",
        actor=None,
        at=utc(2025, 7, 1, 8, 0),
    )
    report = reports.monthly(db, 2025, 6)
    assert report.categories["reminder"].opt_outs == {"sms_reply": 1, "staff": 1}
    assert report.total.opt_outs_total == 2
    assert reports.monthly(db, 2025, 7).categories["information"].opt_outs == {"sms_reply": 1}


def test_without_appointment_data_the_report_says_so(db, monkeypatch):
    monkeypatch.setattr(reports, "_ATTENDANCE_SOURCES", [])  # no package reports any
    assert reports.monthly(db, 2025, 8).attendance is None


@pytest.fixture()
def attendance_source() -> Iterator[dict[str, bool | None]]:
    outcomes: dict[str, bool | None] = {}

    def source(session, start, end, viewer):
        assert start == utc(2025, 8, 31, 22, 0) and end == utc(2025, 9, 30, 22, 0)
        return list(outcomes.items())

    reports.register_attendance_source(source)
    yield outcomes
    reports.unregister_attendance_source(source)


def test_attendance_with_and_without_a_delivered_reminder(db, someone, attendance_source):
    day = utc(2025, 9, 10, 15, 0)
    for number, status in ((1, "delivered"), (2, "delivered"), (7, "delivered")):
        message(db, someone, day, status=status, subject=f"test-appointment:{number}")
    message(
        db, someone, day, status="blocked", left=False, error_code="no_consent",
        subject="test-appointment:5",
    )  # fmt: skip
    message(db, someone, day, status="sent", subject="test-appointment:6")
    # A service change about the same appointment is not a reminder.
    message(db, someone, day, category="service_change", subject="test-appointment:3")
    attendance_source.update(
        {
            "test-appointment:1": True,
            "test-appointment:2": False,
            "test-appointment:7": None,  # not recorded yet
            "test-appointment:3": False,
            "test-appointment:4": True,
            "test-appointment:5": False,
            "test-appointment:6": True,  # reminder left, never confirmed delivered
        }
    )
    attendance = reports.monthly(db, 2025, 9).attendance
    assert attendance is not None
    assert attendance.with_reminder == reports.AttendanceGroup(3, 2, 1)
    assert attendance.with_reminder.rate == 0.5
    assert attendance.without_reminder == reports.AttendanceGroup(3, 3, 1)
    assert attendance.without_reminder.rate == pytest.approx(1 / 3)
    assert attendance.unconfirmed == 1


def test_months_available_go_from_the_first_message_to_now(db, someone):
    message(db, someone, utc(2025, 1, 10, 12, 0))
    months = reports.months_available(db)
    now = clock.to_local(clock.now())
    assert months[0] == (now.year, now.month)
    assert months[-1] == (2025, 1)
    assert len(months) == (now.year - 2025) * 12 + now.month
