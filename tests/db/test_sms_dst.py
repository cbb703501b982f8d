"""Reminders around the changes of time in Brussels go out at the right local time.

Sunday 28 March 2027: 02:00 CET becomes 03:00 CEST (02:30 does not exist; zoneinfo
reads a wall-clock time in the gap with the offset before it: 02:30+01:00, which is
03:30 CEST). Sunday 25 October 2026: 03:00 CEST becomes 02:00 CET (02:30 happens twice:
fold=0 is the first, in CEST). J-1 is a wall-clock time (17:00 the day before), H-2 is
a duration (two real hours before the start), and quiet hours (21:00-08:00) are
wall-clock times that may push a reminder later, never past the appointment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import accounts, clock
from notifications import contacts, dispatch, outbox
from notifications.gateways import MemoryGateway
from notifications.models import Contact, Message

pytestmark = pytest.mark.usefixtures("empty_outbox")

BRUSSELS = clock.BRUSSELS
SPRING = datetime(2027, 3, 20, 10, 0, tzinfo=UTC)  # when the reminders are scheduled
AUTUMN = datetime(2026, 10, 17, 10, 0, tzinfo=UTC)
VALUES = {"service": "Accueil", "place": "rue Haute 298A"}
HOUR = timedelta(hours=1)

outbox.register_subject_kind(outbox.SubjectKind("test-dst", is_current=lambda _s, _id: True))


@pytest.fixture()
def contact(db: Session) -> Contact:
    person = contacts.create_contact(
        db, actor=None, display_name="Personne DST", language="fr", phones=["+32470555001"]
    )
    contacts.set_consent(db, person, category="reminder", granted=True, method="form", actor=None)
    db.commit()
    return person


_counter = iter(range(1, 1_000_000))


def schedule(db: Session, contact: Contact, start: datetime, *, at: datetime) -> dict[str, Message]:
    """The reminders of an appointment starting at `start` (aware), scheduled at `at`."""
    with clock.frozen(at):
        made = outbox.schedule_reminders(
            db,
            subject=f"test-dst:{next(_counter)}",
            contact=contact,
            start_at=clock.as_utc(start),
            values=VALUES,
        )
        db.commit()
    return {message.key.rsplit(":", 1)[1]: message for message in made}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# (local start, its UTC instant, J-1 in UTC, the local offset on the Saturday)
CASES = [
    pytest.param(
        datetime(2027, 3, 28, 2, 30, tzinfo=BRUSSELS),
        utc(2027, 3, 28, 1, 30),
        utc(2027, 3, 27, 16, 0),
        HOUR,
        SPRING,
        id="2027-03-28 02:30 (in the gap)",
    ),
    pytest.param(
        datetime(2027, 3, 28, 3, 0, tzinfo=BRUSSELS),
        utc(2027, 3, 28, 1, 0),
        utc(2027, 3, 27, 16, 0),
        HOUR,
        SPRING,
        id="2027-03-28 03:00 CEST",
    ),
    pytest.param(
        datetime(2026, 10, 25, 2, 30, tzinfo=BRUSSELS),
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 24, 15, 0),
        2 * HOUR,
        AUTUMN,
        id="2026-10-25 02:30 CEST (first)",
    ),
    pytest.param(
        datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BRUSSELS),
        utc(2026, 10, 25, 1, 30),
        utc(2026, 10, 24, 15, 0),
        2 * HOUR,
        AUTUMN,
        id="2026-10-25 02:30 CET (second)",
    ),
    pytest.param(
        datetime(2026, 10, 25, 3, 0, tzinfo=BRUSSELS),
        utc(2026, 10, 25, 2, 0),
        utc(2026, 10, 24, 15, 0),
        2 * HOUR,
        AUTUMN,
        id="2026-10-25 03:00 CET",
    ),
]


@pytest.mark.parametrize(("start", "start_utc", "j1_utc", "saturday_offset", "at"), CASES)
def test_night_appointments_get_j1_at_17_and_no_h2(
    db, contact, start, start_utc, j1_utc, saturday_offset, at
):
    assert clock.as_utc(start) == start_utc
    reminders = schedule(db, contact, start, at=at)
    # H-2 would fall in the night (quiet hours): moved to 08:00, after the appointment,
    # so it is not made at all.
    assert set(reminders) == {"J-1"}
    j1 = reminders["J-1"]
    assert j1.not_before == j1_utc
    local = clock.to_local(j1.not_before)
    assert (local.weekday(), local.hour, local.minute) == (5, 17, 0)  # Saturday 17:00
    assert local.utcoffset() == saturday_offset
    assert j1.valid_until == start_utc and j1.status == "pending"
    assert j1.category == "reminder" and "rappel" in j1.body


@pytest.mark.parametrize(
    ("start", "h2_utc", "wall_clock_gap"),
    [
        # 03:00 CEST minus two real hours is 00:00 CET: three hours on the wall clock.
        (datetime(2027, 3, 28, 3, 0, tzinfo=BRUSSELS), utc(2027, 3, 27, 23, 0), 3 * HOUR),
        (datetime(2027, 3, 28, 2, 30, tzinfo=BRUSSELS), utc(2027, 3, 27, 23, 30), 3 * HOUR),
        # 03:00 CET minus two real hours is 02:00 CEST (the first one): one hour.
        (datetime(2026, 10, 25, 3, 0, tzinfo=BRUSSELS), utc(2026, 10, 25, 0, 0), HOUR),
        (datetime(2026, 10, 25, 2, 30, tzinfo=BRUSSELS), utc(2026, 10, 24, 22, 30), 2 * HOUR),
    ],
)
def test_h2_is_two_real_hours_before_without_quiet_hours(
    db, contact, start, h2_utc, wall_clock_gap
):
    admin = accounts.find_user(db, "admin")
    assert admin is not None
    outbox.save_category_rules(
        db, outbox.CategoryRules("reminder", 0, 0, False, 24), actor=admin
    )  # from == until: no quiet hours
    at = SPRING if start.year == 2027 else AUTUMN
    reminders = schedule(db, contact, start, at=at)
    h2 = reminders["H-2"]
    assert h2.not_before == h2_utc == clock.as_utc(start) - 2 * HOUR
    wall_start = clock.to_local(clock.as_utc(start)).replace(tzinfo=None)
    wall_h2 = clock.to_local(h2.not_before).replace(tzinfo=None)
    assert wall_start - wall_h2 == wall_clock_gap


@pytest.mark.parametrize(
    ("start", "h2_utc", "offset"),
    [
        # 09:30 CEST: H-2 at 07:30 is in quiet hours, so 08:00 CEST (06:00 UTC).
        (datetime(2027, 3, 28, 9, 30, tzinfo=BRUSSELS), utc(2027, 3, 28, 6, 0), 2 * HOUR),
        # 09:30 CET: 08:00 CET (07:00 UTC).
        (datetime(2026, 10, 25, 9, 30, tzinfo=BRUSSELS), utc(2026, 10, 25, 7, 0), HOUR),
    ],
)
def test_quiet_hours_move_a_morning_h2_to_eight_local(db, contact, start, h2_utc, offset):
    at = SPRING if start.year == 2027 else AUTUMN
    reminders = schedule(db, contact, start, at=at)
    assert set(reminders) == {"J-1", "H-2"}
    h2 = reminders["H-2"]
    assert h2.not_before == h2_utc
    local = clock.to_local(h2.not_before)
    assert (local.hour, local.minute, local.utcoffset()) == (8, 0, offset)
    assert h2.not_before < clock.as_utc(start)


def test_a_reminder_already_made_is_not_made_twice(db, contact):
    start = datetime(2027, 3, 28, 9, 30, tzinfo=BRUSSELS)
    with clock.frozen(SPRING):
        for _ in range(2):
            outbox.schedule_reminders(
                db, subject="test-dst:twice", contact=contact, start_at=start, values=VALUES
            )
        db.commit()
    keys = db.scalars(select(Message.key).where(Message.subject == "test-dst:twice")).all()
    assert sorted(keys) == ["reminder:test-dst:twice:H-2", "reminder:test-dst:twice:J-1"]


@pytest.mark.parametrize(
    ("start", "at", "saturday_17"),
    [
        (datetime(2027, 3, 28, 3, 0, tzinfo=BRUSSELS), SPRING, utc(2027, 3, 27, 16, 0)),
        (datetime(2026, 10, 25, 2, 30, tzinfo=BRUSSELS), AUTUMN, utc(2026, 10, 24, 15, 0)),
    ],
)
def test_the_dispatcher_sends_j1_at_17_local_not_a_minute_before(
    db, sessions, contact, start, at, saturday_17
):
    j1 = schedule(db, contact, start, at=at)["J-1"]
    gateway = MemoryGateway()
    with clock.frozen(saturday_17 - timedelta(minutes=1)) as traveller:
        assert clock.to_local(clock.now()).strftime("%H:%M") == "16:59"
        assert dispatch.dispatch_due(sessions, gateway).claimed == 0
        traveller.advance(seconds=59)
        assert dispatch.dispatch_due(sessions, gateway).claimed == 0
        traveller.advance(seconds=1)
        assert clock.to_local(clock.now()).strftime("%H:%M") == "17:00"
        assert dispatch.dispatch_due(sessions, gateway).sent == 1
    assert [sms.message_id for sms in gateway.sent] == [j1.id]
    # Valid until the appointment: ~9-10 hours, within Twilio's 36000 s maximum.
    [sms] = gateway.sent
    assert sms.validity_seconds == int((clock.as_utc(start) - saturday_17).total_seconds())
    assert sms.validity_seconds <= dispatch.MAX_VALIDITY_SECONDS
