"""The monthly SMS report: what was sent, what arrived, what it cost, who opted out, and
whether reminders raise attendance (the reason the CPAS sends them).

Months are calendar months in Europe/Brussels. A message counts in the month it was
created. Figures, per category and in total:

- created: rows made in the outbox (including those never sent);
- sent: handed to the operator (it has a provider id): queued, sent, delivered,
  undelivered or failed after leaving;
- delivered; failed: failed + undelivered (including refusals before leaving);
- blocked: never sent because the person could not get it, by reason;
- dropped: cancelled or too late (the appointment was cancelled, past, or staff
  cancelled it);
- segments: of the messages sent;
- cost: the operator's price where it told us, else segments × the price per segment
  given by the caller (`cost_estimated` says how much of it is an estimate);
- opt-outs: consents withdrawn that month, by SMS reply (STOP) or recorded by staff.

Attendance: domains with appointments register a source, `register_attendance_source(fn)`
where `fn(session, start, end)` yields `(subject, attended)` for the appointments held
in [start, end): `subject` as on the reminders ("appointment:1234"), `attended` True,
False (no-show) or None (not recorded). Appointments whose reminder was delivered are
compared with those that got no reminder at all (never sent, failed or not allowed).
Those whose reminder left but was never confirmed delivered are set apart. Without a
source, `attendance` is None: "no appointment data yet", not zeros.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Select,
    String,
    Subquery,
    and_,
    any_,
    case,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.orm import Session

from core import clock
from core.accounts import User
from notifications.models import CATEGORIES, ConsentEvent, Contact, Message, MonthFigures

LEFT_STATES = ("queued", "sent", "delivered", "undelivered", "failed")
DROPPED_STATES = ("cancelled", "expired")

# (session, start, end, viewer) -> (subject, attended): the appointments the viewer's
# scope holds (their CPAS's places; a local role's antennes'); viewer None: every one.
AttendanceSource = Callable[
    [Session, datetime, datetime, User | None], Iterable[tuple[str, bool | None]]
]
_ATTENDANCE_SOURCES: list[AttendanceSource] = []


def register_attendance_source(source: AttendanceSource) -> AttendanceSource:
    if source not in _ATTENDANCE_SOURCES:
        _ATTENDANCE_SOURCES.append(source)
    return source


def unregister_attendance_source(source: AttendanceSource) -> None:
    if source in _ATTENDANCE_SOURCES:
        _ATTENDANCE_SOURCES.remove(source)


@dataclass
class Figures:
    created: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    blocked: int = 0
    dropped: int = 0
    blocked_reasons: Counter[str] = field(default_factory=Counter)
    segments: int = 0
    cost_known: Decimal = Decimal(0)  # what the operator billed
    cost_estimated: Decimal = Decimal(0)  # segments × price where it did not say
    opt_outs: Counter[str] = field(default_factory=Counter)  # "sms_reply" | "staff"

    @property
    def cost(self) -> Decimal:
        return self.cost_known + self.cost_estimated

    @property
    def is_estimate(self) -> bool:
        return self.cost_estimated > 0

    @property
    def opt_outs_total(self) -> int:
        return sum(self.opt_outs.values())

    def add(self, other: Figures) -> None:
        for name in ("created", "sent", "delivered", "failed", "blocked", "dropped", "segments"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.cost_known += other.cost_known
        self.cost_estimated += other.cost_estimated
        self.blocked_reasons.update(other.blocked_reasons)
        self.opt_outs.update(other.opt_outs)


@dataclass(frozen=True)
class AttendanceGroup:
    appointments: int  # in the group
    recorded: int  # attendance known
    attended: int

    @property
    def rate(self) -> float | None:
        return None if not self.recorded else self.attended / self.recorded


@dataclass(frozen=True)
class Attendance:
    with_reminder: AttendanceGroup  # a reminder was delivered
    without_reminder: AttendanceGroup  # no reminder left for the operator
    unconfirmed: int  # a reminder left, delivery never confirmed: in neither group


@dataclass
class MonthReport:
    year: int
    month: int
    start: datetime  # UTC
    end: datetime  # UTC, excluded
    segment_price: Decimal
    categories: dict[str, Figures]
    total: Figures
    attendance: Attendance | None  # None: no appointment data (no source registered)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)


def monthly(
    session: Session,
    year: int,
    month: int,
    *,
    segment_price: Decimal | str = Decimal("0.08"),
    contacts: Select | None = None,
    contacts_within: ColumnElement[bool] | None = None,
    viewer: User | None = None,
) -> MonthReport:
    """The month's figures; `contacts` (the ids of the contacts whose messages count) and
    `contacts_within` (on contacts): the viewer's CPAS (notifications.scope), None:
    every one; `viewer`: whose appointments the attendance counts (none: every one)."""
    start, end = clock.month_bounds(year, month)
    price = Decimal(segment_price)
    categories = {category: Figures() for category in CATEGORIES}
    for (category, status, error_code, left), sums in month_sums(
        session, year, month, contacts
    ).items():
        count, segments, known, unpriced = sums
        figures = categories.setdefault(category, Figures())
        figures.created += count
        if status == "blocked":
            figures.blocked += count
            figures.blocked_reasons[error_code or "blocked"] += count
        elif status in DROPPED_STATES:
            figures.dropped += count
        if status == "delivered":
            figures.delivered += count
        elif status in ("failed", "undelivered"):
            figures.failed += count
        if left and status in LEFT_STATES:
            figures.sent += count
            figures.segments += segments
            figures.cost_known += known
            figures.cost_estimated += unpriced * price
    opt_outs = session.execute(
        select(ConsentEvent.category, ConsentEvent.method, func.count())
        .where(
            ConsentEvent.granted.is_(False),
            ConsentEvent.at >= start,
            ConsentEvent.at < end,
            ConsentEvent.contact_id.in_(select(Contact.id).where(contacts_within))
            if contacts_within is not None
            else true(),
        )
        .group_by(ConsentEvent.category, ConsentEvent.method)
    )
    for category, method, count in opt_outs:
        figures = categories.setdefault(category, Figures())
        figures.opt_outs["sms_reply" if method == "sms_reply" else "staff"] += count
    total = Figures()
    for figures in categories.values():
        total.add(figures)
    return MonthReport(
        year=year,
        month=month,
        start=start,
        end=end,
        segment_price=price,
        categories=categories,
        total=total,
        attendance=attendance(session, start, end, viewer),
    )


# (category, status, error code or None, handed to the operator) -> [messages, segments,
# price the operator gave, segments without a price]
Sums = dict[tuple[str, str, str | None, bool], list]


def month_sums(session: Session, year: int, month: int, contacts: Select | None = None) -> Sums:
    """The Brussels month's messages (by creation), summed per category, state, error
    code and whether they left: the UTC month's stored figures (`sms_month_figures`,
    kept by triggers), plus the messages of the hour or two where the Brussels month
    starts before the UTC one, minus those where it ends before it (read from the outbox
    by its creation index). `contacts`: only these contacts' messages."""
    start, end = clock.month_bounds(year, month)
    utc_first = datetime(year, month, 1, tzinfo=UTC)
    utc_next = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    sums: Sums = {}
    _add(sums, _stored_sums(session, utc_first.date(), contacts), 1)
    for moment, utc_moment in ((start, utc_first), (end, utc_next)):
        # The Brussels bound's side of the UTC one: added at the start, taken away at
        # the end (and the other way round were Brussels ever behind UTC).
        sign = 1 if moment is start else -1
        if moment < utc_moment:
            _add(sums, _counted_sums(session, moment, utc_moment, contacts), sign)
        elif moment > utc_moment:
            _add(sums, _counted_sums(session, utc_moment, moment, contacts), -sign)
    return {key: value for key, value in sums.items() if any(value)}


def counted_month_sums(
    session: Session, year: int, month: int, contacts: Select | None = None
) -> Sums:
    """`month_sums` counted from the outbox itself (what the stored figures must equal)."""
    start, end = clock.month_bounds(year, month)
    sums: Sums = {}
    _add(sums, _counted_sums(session, start, end, contacts), 1)
    return {key: value for key, value in sums.items() if any(value)}


def _add(sums: Sums, rows: Iterable, sign: int) -> None:
    for category, status, error_code, left, count, segments, known, unpriced in rows:
        key = (category, status, error_code or None, bool(left))
        value = sums.setdefault(key, [0, 0, Decimal(0), 0])
        value[0] += sign * int(count)
        value[1] += sign * int(segments or 0)
        value[2] += sign * Decimal(known or 0)
        value[3] += sign * int(unpriced or 0)


def _counted_sums(
    session: Session, start: datetime, end: datetime, contacts: Select | None
) -> Iterable:
    query = select(
        Message.category,
        Message.status,
        Message.error_code,
        Message.provider_id.is_not(None),
        func.count(),
        func.coalesce(func.sum(Message.segments), 0),
        func.sum(Message.price),
        func.coalesce(func.sum(case((Message.price.is_(None), Message.segments), else_=0)), 0),
    ).where(Message.created_at >= start, Message.created_at < end)
    if contacts is not None:
        query = query.where(Message.contact_id.in_(contacts))
    return session.execute(
        query.group_by(
            Message.category,
            Message.status,
            Message.error_code,
            Message.provider_id.is_not(None),
        )
    )


def _stored_sums(session: Session, month: date, contacts: Select | None) -> Iterable:
    query = select(
        MonthFigures.category,
        MonthFigures.status,
        MonthFigures.error_code,
        MonthFigures.handed_over,
        func.sum(MonthFigures.messages),
        func.sum(MonthFigures.segments),
        func.sum(MonthFigures.price),
        func.sum(MonthFigures.unpriced_segments),
    ).where(MonthFigures.month == month)
    if contacts is not None:
        query = query.where(MonthFigures.contact_id.in_(contacts))
    return session.execute(
        query.group_by(
            MonthFigures.category,
            MonthFigures.status,
            MonthFigures.error_code,
            MonthFigures.handed_over,
        )
    )


def attendance(
    session: Session, start: datetime, end: datetime, viewer: User | None = None
) -> Attendance | None:
    """Attendance with vs without a delivered reminder; None without any source.
    `viewer`: only the appointments within their scope (each source applies it)."""
    if not _ATTENDANCE_SOURCES:
        return None
    outcomes: dict[str, bool | None] = {}
    for source in _ATTENDANCE_SOURCES:
        for subject, attended in source(session, start, end, viewer):
            outcomes[subject] = attended
    reminded: dict[str, str] = {}  # subject -> "delivered" | "left"
    subjects = list(outcomes)
    postgresql = session.get_bind().dialect.name == "postgresql"
    for offset in range(0, len(subjects), SUBJECTS_PER_QUERY):
        chunk = subjects[offset : offset + SUBJECTS_PER_QUERY]
        # PostgreSQL: the chunk as one array parameter (2,000 parameters of an IN list
        # cost more to send than the index look-up they ask for).
        wanted = (
            Message.subject == any_(literal(chunk, ARRAY(String)))
            if postgresql
            else Message.subject.in_(chunk)
        )
        for subject, status, left in session.execute(
            select(Message.subject, Message.status, Message.provider_id.is_not(None)).where(
                Message.category == "reminder", wanted
            )
        ):
            if status == "delivered":
                reminded[subject] = "delivered"
            elif left and status in ("queued", "sent"):
                reminded.setdefault(subject, "left")
    groups: dict[str, Counter[str]] = {"with": Counter(), "without": Counter()}
    unconfirmed = 0
    for subject, attended in outcomes.items():
        state = reminded.get(subject)
        if state == "left":
            unconfirmed += 1
            continue
        group = groups["with" if state == "delivered" else "without"]
        group["appointments"] += 1
        if attended is not None:
            group["recorded"] += 1
            group["attended"] += int(attended)
    return Attendance(
        with_reminder=AttendanceGroup(**{k: groups["with"][k] for k in _GROUP_FIELDS}),
        without_reminder=AttendanceGroup(**{k: groups["without"][k] for k in _GROUP_FIELDS}),
        unconfirmed=unconfirmed,
    )


_GROUP_FIELDS = ("appointments", "recorded", "attended")
# The month's appointments' subjects looked up this many at a time (a month of 3,300
# appointments: 2 round trips, not 7; SQLite takes 32,766 parameters a statement).
SUBJECTS_PER_QUERY = 2_000

# A subject's best reminder state, as `reminder_states` gives it.
REMINDER_DELIVERED, REMINDER_LEFT, REMINDER_NONE = 2, 1, 0


def reminder_states(subjects: Select) -> Subquery:
    """(subject, state) of each of `subjects` (a SELECT of subject strings, such as
    "appointment:12" for a month's appointments) that has a reminder:
    REMINDER_DELIVERED, REMINDER_LEFT (left, delivery never confirmed) or REMINDER_NONE;
    the same split as `attendance`, for a domain to join in its own query (outer join on
    the subject; no row: no reminder). The subjects are looked up one by one in the
    subject index (a prefix `LIKE` would read every reminder of the outbox)."""
    return (
        select(
            Message.subject.label("subject"),
            func.max(
                case(
                    (Message.status == "delivered", REMINDER_DELIVERED),
                    (
                        and_(
                            Message.provider_id.is_not(None),
                            Message.status.in_(("queued", "sent")),
                        ),
                        REMINDER_LEFT,
                    ),
                    else_=REMINDER_NONE,
                )
            ).label("state"),
        )
        .where(Message.category == "reminder", Message.subject.in_(subjects.correlate(None)))
        .group_by(Message.subject)
        .subquery()
    )


def months_available(session: Session) -> list[tuple[int, int]]:
    """(year, month) from the first message or consent withdrawal to now, newest first."""
    firsts = [
        session.scalar(select(func.min(Message.created_at))),
        session.scalar(select(func.min(ConsentEvent.at))),
    ]
    now = clock.to_local(clock.now())
    known = [clock.to_local(moment) for moment in firsts if moment is not None]
    first = min(known) if known else now
    year, month = first.year, first.month
    months = []
    while (year, month) <= (now.year, now.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return list(reversed(months))
