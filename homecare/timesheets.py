"""The aide's timesheet (issue 18): her visits done in a week or a month with their
times, hours per day and kilometres, shown on her phone and signed there with a tap
and her password.

A signature is an immutable record (`Timesheet`): the period, the totals, the lines as
they were shown and the SHA-256 of those lines. A later correction of a visit of the
period (times, km, a visit undone or added) changes the lines, so their hash no longer
matches: the sheet shows "changed after signing" and asks for a new signature (a new
row; the old one stays). Payroll reads the month's state per aide (`month_states`).

The password is checked as a re-authentication, throttled per account with the login's
growing delays (`core.throttle`), under its own key: only the aide herself, logged in,
can try, and a wrong password only delays her next signing, never her login.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import accounts, audit, clock, throttle
from core.accounts import User
from core.errors import FieldError, Invalid
from core.roles import Role
from homecare import access, hours
from homecare.calendar import monday_of
from homecare.models import TIMESHEET_PERIODS, Beneficiary, Timesheet

SIGN_POLICY = throttle.Policy(
    free_failures=5, first_delay_seconds=2, max_delay_seconds=300, forget_after_seconds=3600
)
STATES = ("unsigned", "signed", "changed")


@dataclass(frozen=True)
class Line:
    visit_id: str
    day: date
    household: str
    start: str  # HH:MM, Brussels
    end: str
    minutes: int
    km: float

    def as_json(self) -> dict[str, Any]:
        return {
            "visit_id": self.visit_id,
            "day": self.day.isoformat(),
            "household": self.household,
            "start": self.start,
            "end": self.end,
            "minutes": self.minutes,
            "km": self.km,
        }


@dataclass(frozen=True)
class Day:
    day: date
    lines: list[Line]

    @property
    def minutes(self) -> int:
        return sum(line.minutes for line in self.lines)

    @property
    def km(self) -> float:
        return round(sum(line.km for line in self.lines), 1)


@dataclass(frozen=True)
class Sheet:
    aide_id: int
    period: str
    first_day: date
    last_day: date
    days: list[Day]
    lines_hash: str
    signature: Timesheet | None  # the latest signature of this period
    state: str  # unsigned, signed, changed (after signing)

    @property
    def minutes(self) -> int:
        return sum(day.minutes for day in self.days)

    @property
    def km(self) -> float:
        return round(sum(day.km for day in self.days), 1)

    @property
    def visits(self) -> int:
        return sum(len(day.lines) for day in self.days)


def bounds(period: str, day: date) -> tuple[date, date]:
    """The first and last day of the week (Monday-Sunday) or month holding `day`."""
    if period == "week":
        first = monday_of(day)
        return first, first + timedelta(days=6)
    first = day.replace(day=1)
    return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _lines(session: Session, team_id: int, aide_id: int, first: date, last: date) -> list[Line]:
    """Her visits done in the period (either aide of a transfer), counted as payroll
    counts them (`hours`: the visit's day, its real times; the km are the first aide's)."""
    visits = [
        visit
        for visit in hours.done_visits(session, team_id, first, last + timedelta(days=1))
        if aide_id in (visit.aide_id, visit.second_aide_id)
        and visit.actual_start is not None
        and visit.actual_end is not None
    ]
    names = {
        b.id: b.name
        for b in session.scalars(
            select(Beneficiary).where(Beneficiary.id.in_({v.beneficiary_id for v in visits}))
        )
    }
    found = []
    for visit in visits:
        start, end = clock.to_local(visit.actual_start), clock.to_local(visit.actual_end)  # type: ignore[arg-type]
        found.append(
            Line(
                visit_id=str(visit.id),
                day=visit.day,
                household=names.get(visit.beneficiary_id, ""),
                start=start.strftime("%H:%M"),
                end=end.strftime("%H:%M"),
                minutes=round(hours.real_minutes(visit)),
                km=round(visit.km or 0.0, 1) if visit.aide_id == aide_id else 0.0,
            )
        )
    found.sort(key=lambda line: (line.day, line.start, line.visit_id))
    return found


def lines_hash(lines: list[Line]) -> str:
    """SHA-256 of the lines in a canonical JSON form (the signed content)."""
    text = json.dumps([line.as_json() for line in lines], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _latest(session: Session, aide_id: int, period: str, first: date) -> Timesheet | None:
    return session.scalar(
        select(Timesheet)
        .where(
            Timesheet.aide_id == aide_id, Timesheet.period == period, Timesheet.first_day == first
        )
        .order_by(Timesheet.signed_at.desc(), Timesheet.id)
        .limit(1)
    )


def build(session: Session, team_id: int, aide_id: int, period: str, day: date) -> Sheet:
    first, last = bounds(period, day)
    lines = _lines(session, team_id, aide_id, first, last)
    digest = lines_hash(lines)
    signature = _latest(session, aide_id, period, first)
    state = "unsigned" if signature is None else "signed"
    if signature is not None and signature.lines_hash != digest:
        state = "changed"
    days: dict[date, list[Line]] = {}
    for line in lines:
        days.setdefault(line.day, []).append(line)
    return Sheet(
        aide_id=aide_id,
        period=period,
        first_day=first,
        last_day=last,
        days=[Day(d, items) for d, items in sorted(days.items())],
        lines_hash=digest,
        signature=signature,
        state=state,
    )


def _period(period: str | None) -> str:
    if period not in TIMESHEET_PERIODS:
        raise Invalid({"period": FieldError("unknown_choice")})
    return period


def _aide(user: User) -> int:
    if user.role != Role.AIDE or user.team_id is None:
        raise Invalid({"period": FieldError("not_an_aide")})
    return user.team_id


def own_sheet(session: Session, user: User, period: str | None, day: date | None) -> Sheet:
    """The aide's own sheet of the week or month holding `day` (today when None)."""
    team_id = _aide(user)
    return build(
        session, team_id, user.id, _period(period), day or clock.to_local(clock.now()).date()
    )


class WrongPassword(Invalid):
    """Invalid, whose throttle count must still be committed (see `sign_sheet`)."""


def sign(
    session: Session,
    user: User,
    period: str | None,
    day: date | None,
    *,
    lines_hash: str,
    password: str,
    secret: str,
) -> Timesheet:
    """Sign the sheet as shown (`lines_hash`: what the page showed; another hash means
    it changed meanwhile: refused, shown again). The same lines signed again are the
    same signature."""
    team_id = _aide(user)
    period = _period(period)
    today = clock.to_local(clock.now()).date()
    first, _ = bounds(period, day or today)
    if first > today:
        raise Invalid({"period": FieldError("period_not_started")})
    key = throttle.hashed_key("timesheet_sign", str(user.id), secret)
    wait = throttle.retry_after(session, key)
    if wait:
        raise Invalid({"password": FieldError("try_again_later", {"seconds": wait})})
    if not accounts.verify_password(user, password):
        throttle.record_failure(session, key, SIGN_POLICY)
        raise WrongPassword({"password": FieldError("wrong_password")})
    throttle.reset(session, key)
    sheet = build(session, team_id, user.id, period, day or today)
    if sheet.visits == 0:
        raise Invalid({"period": FieldError("nothing_to_sign")})
    if sheet.lines_hash != lines_hash:
        raise Invalid({"period": FieldError("sheet_changed_meanwhile")})
    if sheet.signature is not None and sheet.signature.lines_hash == sheet.lines_hash:
        return sheet.signature
    record = Timesheet(
        id=uuid.uuid4(),
        team_id=team_id,
        aide_id=user.id,
        period=period,
        first_day=sheet.first_day,
        last_day=sheet.last_day,
        minutes=sheet.minutes,
        km=sheet.km,
        visits=sheet.visits,
        lines=[line.as_json() for day in sheet.days for line in day.lines],
        lines_hash=sheet.lines_hash,
        signed_at=clock.now(),
        method="password",
    )
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        # The same sheet signed at the same moment (a double tap): one signature.
        existing = _latest(session, user.id, period, sheet.first_day)
        assert existing is not None
        return existing
    audit.record(
        session,
        actor=user,
        action="create",
        entity_type="homecare_timesheet",
        entity_id=record.id,
        details={
            "period": period,
            "first_day": sheet.first_day.isoformat(),
            "visits": sheet.visits,
            "resigned": sheet.signature is not None,
        },
    )
    session.flush()
    return record


def month_states(
    session: Session, team_id: int, month: date, aide_ids: list[int]
) -> dict[int, str]:
    """Each aide's monthly sheet: unsigned, signed, or changed after signing."""
    return {aide_id: build(session, team_id, aide_id, "month", month).state for aide_id in aide_ids}


@dataclass(frozen=True)
class SignatureLine:
    aide_id: int
    name: str
    state: str
    signed_at: datetime | None
    visits: int
    minutes: int


def signatures(session: Session, user: User, month: date) -> list[SignatureLine]:
    """The coordinator's view: each aide of her team and her month's sheet."""
    team_id = access.team_to_manage(user, user.team_id)
    aides = session.scalars(
        select(User)
        .where(User.team_id == team_id, User.role == Role.AIDE)
        .order_by(User.display_name, User.id)
    )
    found = []
    for aide in aides:
        sheet = build(session, team_id, aide.id, "month", month)
        found.append(
            SignatureLine(
                aide.id,
                aide.display_name,
                sheet.state,
                sheet.signature.signed_at if sheet.signature else None,
                sheet.visits,
                sheet.minutes,
            )
        )
    return found


# --- The pages' use cases: each ends the transaction ------------------------------------------


def open_sheet(session: Session, user: User, period: str | None, day: date | None) -> Sheet:
    """The aide's sheet (`own_sheet`), the transaction ended (she reads her own work)."""
    try:
        sheet = own_sheet(session, user, period, day)
    except BaseException:
        session.rollback()
        raise
    session.commit()
    return sheet


def sign_sheet(
    session: Session,
    user: User,
    period: str | None,
    day: date | None,
    *,
    lines_hash: str,
    password: str,
    secret: str,
) -> Timesheet:
    """`sign`, committed; Invalid rolled back and raised, except that a wrong password's
    count is committed (else the throttle would count nothing)."""
    try:
        record = sign(
            session, user, period, day, lines_hash=lines_hash, password=password, secret=secret
        )
    except WrongPassword:
        session.commit()
        raise
    except BaseException:
        session.rollback()
        raise
    session.commit()
    return record


def team_signatures(session: Session, user: User, month: date) -> list[SignatureLine]:
    """`signatures`, the transaction ended."""
    try:
        return signatures(session, user, month)
    finally:
        session.rollback()


def payroll(
    session: Session, user: User, month: date, extension: str
) -> tuple[hours.MonthHours, dict[int, str]]:
    """The payroll file's hours (`hours.export`, audited, committed) and each aide's
    monthly sheet state."""
    month_hours = hours.export(session, user, "payroll", month, extension)
    team_id = access.team_to_manage(user, user.team_id)
    states = month_states(session, team_id, month, [aide.aide_id for aide in month_hours.aides])
    session.rollback()
    return month_hours, states
